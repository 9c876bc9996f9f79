"""Readiness charts: one site's criterion sub-scores and the portfolio ranking by class."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from planner.model.chart_data import RankingData
from planner.model.readiness import READINESS_CLASSES, ReadinessResult, rank_results
from planner.plots.base import Chart, hbars, message_chart, reset_plot, row_labels, text_label
from planner.plots.style import (GATE_COLOUR, NO_DATA_COLOUR, READINESS_COLOURS, READINESS_LABELS, SCORE_COLOUR,
                                 TEXT_COLOUR, mk_brush)


def readiness_bars(plot: pg.PlotItem, result: ReadinessResult | None) -> Chart:
    """Per-criterion sub-scores (0-100) of one site as horizontal bars; no data hatched, gates red."""
    title = "Readiness by criterion"
    if result is None:
        return message_chart(plot, title, "Select a site to see its readiness")
    crit = list(result.criteria)
    n = len(crit)
    total_txt = "n/a" if result.total is None else f"{result.total:.0f}/100"
    reset_plot(plot, f"{result.site_id}: {total_txt} \u00b7 {result.class_label} \u00b7 "
               f"data {result.completeness_pct:.0f} % of weight",
               "Sub-score (0-100 points)", "", legend=True, legend_cols=3)
    ys = np.arange(n, dtype=float)[::-1]  # first criterion at the top
    scores = np.array([np.nan if c.score is None else c.score for c in crit], dtype=float)
    missing = np.array([c.score is None for c in crit])
    gated = np.array([c.gate_failed for c in crit])
    ok = ~missing & ~gated
    if ok.any():
        hbars(plot, ys[ok], 0.0, scores[ok], mk_brush(SCORE_COLOUR, 220), name="sub-score")
    if (gated & ~missing).any():
        sel = gated & ~missing
        hbars(plot, ys[sel], 0.0, np.maximum(scores[sel], 1.5), mk_brush(GATE_COLOUR, 235),
              name="hard gate failed")
    if missing.any():
        hbars(plot, ys[missing], 0.0, np.full(missing.sum(), 100.0),
              mk_brush(NO_DATA_COLOUR, 255, Qt.BrushStyle.BDiagPattern), pen=pg.mkPen(NO_DATA_COLOUR, width=0.8),
              name="no data")
    for c, y, s in zip(crit, ys, scores):
        if c.score is None:
            text_label(plot, "no data", 50.0, y, anchor=(0.5, 0.5), colour="#555555", size=7.5)
        else:
            label = f"{s:.0f}" + ("  gate failed" if c.gate_failed else "")
            text_label(plot, label, s + 1.0, y, anchor=(0, 0.5), size=7.5,
                       colour=GATE_COLOUR if c.gate_failed else TEXT_COLOUR)
    row_labels(plot, ys, [c.label for c in crit])
    plot.getAxis("bottom").setTicks([[(float(v), f"{v:d}") for v in range(0, 101, 20)]])
    plot.setXRange(-1.5, 114, padding=0)
    plot.setYRange(-0.6, n - 0.4, padding=0)
    plot.showGrid(x=True, y=False, alpha=0.2)
    total_w = sum(c.weight for c in crit) or 1.0

    def hover(x: float, y: float) -> str | None:
        i = n - 1 - int(round(y))
        if not 0 <= i < n or x < -5 or x > 115:
            return None
        c = crit[i]
        score = "no data" if c.score is None else f"{c.score:.0f}/100"
        gate = " \u2014 HARD GATE FAILED" if c.gate_failed else ""
        return (f"{c.label}: {score}{gate} \u00b7 weight {c.weight:g} ({100 * c.weight / total_w:.0f} % of total)"
                f"\n{c.reason}")

    return Chart(hover, {"keys": [c.key for c in crit], "scores": scores, "missing": missing, "gated": gated,
                         "weights": np.array([c.weight for c in crit])})


def readiness_ranking(plot: pg.PlotItem, data: RankingData) -> Chart:
    """Portfolio ranking: total readiness per site, best first, coloured by class as on the map."""
    title = "Portfolio ranking (readiness total)"
    ranked = rank_results(data.results.values())
    if not ranked:
        return message_chart(plot, title, "No scored sites in the portfolio")
    n = len(ranked)
    reset_plot(plot, title, "Readiness total (0-100 points)", "", legend=True, legend_cols=2)
    plot.getViewBox().invertY(True)  # best at the top
    ys = np.arange(n, dtype=float)
    totals = np.array([np.nan if r.total is None else r.total for r in ranked])
    klass = [r.klass for r in ranked]
    for key in READINESS_CLASSES:
        sel = np.array([k == key for k in klass]) & ~np.isnan(totals)
        if sel.any():
            hbars(plot, ys[sel], 0.0, totals[sel], mk_brush(READINESS_COLOURS[key], 230), height=0.7,
                  name=READINESS_LABELS.get(key, key))
    none = np.isnan(totals)
    if none.any():
        hbars(plot, ys[none], 0.0, np.full(none.sum(), 100.0),
              mk_brush(NO_DATA_COLOUR, 255, Qt.BrushStyle.BDiagPattern), pen=pg.mkPen(NO_DATA_COLOUR, width=0.6),
              height=0.7, name="no total (no data)")
    if data.selected and data.selected in data.results:
        i = [r.site_id for r in ranked].index(data.selected)
        w = 100.0 if none[i] else totals[i]
        hbars(plot, ys[i:i + 1], 0.0, np.array([w]), None, pen=pg.mkPen("#000000", width=2.2), height=0.86)
    for y, t in zip(ys, totals):
        if not math.isnan(t):
            text_label(plot, f"{t:.0f}", t + 0.8, y, size=7)
    row_labels(plot, ys, [r.site_id for r in ranked])
    plot.setXRange(-1.5, 110, padding=0)
    plot.setYRange(-0.6, n - 0.4, padding=0)
    plot.showGrid(x=True, y=False, alpha=0.2)

    def hover(x: float, y: float) -> str | None:
        i = int(round(y))
        if not 0 <= i < n:
            return None
        r = ranked[i]
        total = "no data" if r.total is None else f"{r.total:.1f}/100"
        gates = f" \u00b7 gate: {r.gates_failed[0]}" if r.gates_failed else ""
        return (f"#{i + 1} {r.site_id}: {total} \u00b7 {r.class_label} \u00b7 data for "
                f"{r.completeness_pct:.0f} % of weight{gates}")

    return Chart(hover, {"site_ids": [r.site_id for r in ranked], "totals": totals, "classes": klass})
