"""Readiness charts: one site's criterion sub-scores and the portfolio ranking by class."""
from __future__ import annotations


import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from planner.model.chart_data import RankingData
from planner.model.readiness import READINESS_CLASSES, ReadinessResult, rank_results
from planner.plots.base import Chart, band_bars, frame_rows, hbars, message_chart, reset_plot, row_at, text_label
from planner.plots.style import (GATE_COLOUR, NO_DATA_COLOUR, READINESS_COLOURS, READINESS_LABELS, SCORE_COLOUR,
                                 TEXT_COLOUR, mk_brush)


def readiness_bars(plot: pg.PlotItem, result: ReadinessResult | None) -> Chart:
    """Per-criterion sub-scores (0-100) of one site: expected score as a bar, the band of its unknowns as a
    thin hatched bar (worst - best), criteria with no data hatched over their whole band, gates red."""
    title = "Readiness by criterion"
    if result is None:
        return message_chart(plot, title, "Select a site to see its readiness")
    crit = list(result.criteria)
    n = len(crit)
    reset_plot(plot, f"{result.site_id}: {result.band_text}/100 \u00b7 {result.class_label} \u00b7 "
           f"data {result.completeness_pct:.0f} % of weight",
           "Sub-score (points)", "", legend=True, legend_cols=4)
    ys = np.arange(n, dtype=float)[::-1]  # first criterion at the top
    scores = np.array([c.score for c in crit], dtype=float)
    lows = np.array([c.low for c in crit], dtype=float)
    highs = np.array([c.high for c in crit], dtype=float)
    missing = np.array([c.missing for c in crit])
    gated = np.array([c.gate_failed for c in crit])
    ok = ~missing & ~gated
    if ok.any():
        hbars(plot, ys[ok], 0.0, scores[ok], mk_brush(SCORE_COLOUR, 220), name="sub-score")
    if (gated & ~missing).any():
        sel = gated & ~missing
        hbars(plot, ys[sel], 0.0, np.maximum(scores[sel], 1.5), mk_brush(GATE_COLOUR, 235),
               name="hard gate failed")
    if missing.any():
        hbars(plot, ys[missing], lows[missing], highs[missing] - lows[missing],
               mk_brush(NO_DATA_COLOUR, 255, Qt.BrushStyle.BDiagPattern), pen=pg.mkPen(NO_DATA_COLOUR, width=0.8),
               name="no data")
    band_bars(plot, ys[~missing], lows[~missing], highs[~missing], name="band of unknowns")
    for c, y, s in zip(crit, ys, scores):
        if c.missing:
            text_label(plot, "no data", 50.0, y, anchor=(0.5, 0.5), colour="#555555", size=7.5)
        else:
            label = f"{s:.0f}" + ("  gate failed" if c.gate_failed else "")
            text_label(plot, label, max(s, c.high) + 1.0, y, anchor=(0, 0.5), size=7.5,
                  colour=GATE_COLOUR if c.gate_failed else TEXT_COLOUR)
    frame_rows(plot, ys, [c.label for c in crit], (-1.5, 114))
    plot.getAxis("bottom").setTicks([[(float(v), f"{v:d}") for v in range(0, 101, 20)]])
    total_w = sum(c.weight for c in crit) or 1.0

    def hover(x: float, y: float) -> str | None:
        i = n - 1 - int(round(y))
        if not 0 <= i < n or x < -5 or x > 115:
            return None
        c = crit[i]
        score = f"{c.score:.0f}/100" if c.low == c.high else f"{c.score:.0f}/100 (band {c.low:.0f}-{c.high:.0f})"
        if c.missing:
            score = "no data, " + score
        gate = " \u2014 HARD GATE FAILED" if c.gate_failed else ""
        return (f"{c.label}: {score}{gate} \u00b7 weight {c.weight:g} ({100 * c.weight / total_w:.0f} % of total)"
                f"\n{c.reason}")

    return Chart(hover, {"keys": [c.key for c in crit], "scores": scores, "missing": missing, "gated": gated,
                         "weights": np.array([c.weight for c in crit]), "lows": lows, "highs": highs})


def readiness_ranking(plot: pg.PlotItem, data: RankingData) -> Chart:
    """Portfolio ranking: expected readiness total per site, best first, coloured by class as on the map,
    with the band (unknowns at worst - best) as a thin hatched bar."""
    title = "Portfolio ranking (readiness total and band)"
    ranked = rank_results(data.results.values())
    if not ranked:
        return message_chart(plot, title, "No scored sites in the portfolio")
    n = len(ranked)
    reset_plot(plot, title, "Readiness total (0-100 points)", "", legend=True, legend_cols=2)
    plot.getViewBox().invertY(True)  # best at the top
    ys = np.arange(n, dtype=float)
    totals = np.array([r.total for r in ranked], dtype=float)
    lows = np.array([r.total_low for r in ranked], dtype=float)
    highs = np.array([r.total_high for r in ranked], dtype=float)
    klass = [r.klass for r in ranked]
    for key in READINESS_CLASSES:
        sel = np.array([k == key for k in klass])
        if sel.any():
            hbars(plot, ys[sel], 0.0, totals[sel], mk_brush(READINESS_COLOURS[key], 230), height=0.7,
                   name=READINESS_LABELS.get(key, key))
    band_bars(plot, ys, lows, highs, name="band (unknowns at worst - best)", height=0.22)
    if data.selected and data.selected in data.results:
        i = [r.site_id for r in ranked].index(data.selected)
        hbars(plot, ys[i:i + 1], 0.0, np.array([totals[i]]), None, pen=pg.mkPen("#000000", width=2.2), height=0.86)
    for y, t, hi in zip(ys, totals, highs):
        text_label(plot, f"{t:.0f}", max(t, hi) + 0.8, y, size=7)
    frame_rows(plot, ys, [r.site_id for r in ranked], (-1.5, 110))

    def hover(x: float, y: float) -> str | None:
        i = row_at(y, n)
        if i is None:
            return None
        r = ranked[i]
        gates = f" \u00b7 gate: {r.gates_failed[0]}" if r.gates_failed else ""
        return (f"#{i + 1} {r.site_id}: {r.band_text}/100 \u00b7 {r.class_label} \u00b7 data for "
                f"{r.completeness_pct:.0f} % of weight{gates}")

    return Chart(hover, {"site_ids": [r.site_id for r in ranked], "totals": totals, "classes": klass,
                         "lows": lows, "highs": highs})
