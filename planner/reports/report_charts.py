"""Report-only pyqtgraph charts, in the style of :mod:`planner.reports.charts` (builder(plot, data) -> Chart).

Portfolio aggregates that the live panels do not show: MW energized and in the pipeline,
stacked per group (readiness class or state/country). Unknown MW is left out of the bars and
counted in the axis label, never drawn as 0.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg

from planner.reports.charts import TEXT_COLOUR, Chart, _fit_left_axis, _hbars, _message, _reset, _text

ENERGIZED_COLOUR = "#1f6fb2"
PIPELINE_COLOUR = "#9ecae1"


@dataclass(frozen=True)
class MwGroups:
    """MW per group: labels, energized and pipeline MW (known values), sites with unknown MW."""

    title: str
    labels: Sequence[str]
    energized_mw: Sequence[float]
    pipeline_mw: Sequence[float]
    unknown_sites: Sequence[int]
    max_groups: int = 14


def mw_groups_chart(plot: pg.PlotItem, data: MwGroups) -> Chart:
    """Stacked horizontal bars of energized + pipeline MW per group, largest first, totals written."""
    n_all = len(data.labels)
    if not n_all:
        return _message(plot, data.title, "No sites")
    order = np.argsort(-(np.asarray(data.energized_mw, float) + np.asarray(data.pipeline_mw, float)),
                       kind="stable")[: data.max_groups]
    labels = [data.labels[i] + (f" ({data.unknown_sites[i]} unknown)" if data.unknown_sites[i] else "")
              for i in order]
    en = np.asarray(data.energized_mw, float)[order]
    pi = np.asarray(data.pipeline_mw, float)[order]
    n = len(order)
    title = data.title + (f" (top {n} of {n_all})" if n < n_all else "")
    _reset(plot, title, "Power (MW)", "", legend=True, legend_cols=2)
    plot.getViewBox().invertY(True)
    ys = np.arange(n, dtype=float)
    _hbars(plot, ys, 0.0, en, pg.mkBrush(ENERGIZED_COLOUR), name="energized", height=0.66)
    _hbars(plot, ys, en, pi, pg.mkBrush(PIPELINE_COLOUR), name="pipeline", height=0.66)
    total = en + pi
    top = float(total.max()) if n else 1.0
    for y, t in zip(ys, total):
        _text(plot, f"{t:,.0f} MW", float(t) + top * 0.01, float(y), colour=TEXT_COLOUR, size=7.5)
    ticks = _fit_left_axis(plot, labels, max_chars=36)
    plot.getAxis("left").setTicks([[(float(y), lab) for y, lab in zip(ys, ticks)]])
    plot.setXRange(0, max(top, 1.0) * 1.18, padding=0)
    plot.setYRange(-0.6, n - 0.4, padding=0)
    plot.showGrid(x=True, y=False, alpha=0.2)

    def hover(x: float, y: float) -> str | None:
        i = int(round(y))
        if not 0 <= i < n:
            return None
        return f"{labels[i]}: {en[i]:,.0f} MW energized, {pi[i]:,.0f} MW pipeline"

    return Chart(hover, {"labels": labels, "energized_mw": en, "pipeline_mw": pi})
