"""Portfolio charts for the reports: MW energized and in the pipeline per group (class, state, country).

Unknown MW is left out of the bars and counted in the axis label, never drawn as 0.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from planner.model.chart_data import MwGroups
from planner.plots.base import Chart, frame_rows, hbars, message_chart, reset_plot, row_at, text_label
from planner.plots.style import ENERGIZED_COLOUR, PIPELINE_COLOUR, TEXT_COLOUR


def mw_groups_chart(plot: pg.PlotItem, data: MwGroups) -> Chart:
    """Stacked horizontal bars of energized + pipeline MW per group, largest first, totals written."""
    n_all = len(data.labels)
    if not n_all:
        return message_chart(plot, data.title, "No sites")
    order = np.argsort(-(np.asarray(data.energized_mw, float) + np.asarray(data.pipeline_mw, float)),
                       kind="stable")[: data.max_groups]
    labels = [data.labels[i] + (f" ({data.unknown_sites[i]} unknown)" if data.unknown_sites[i] else "")
              for i in order]
    en = np.asarray(data.energized_mw, float)[order]
    pi = np.asarray(data.pipeline_mw, float)[order]
    n = len(order)
    title = data.title + (f" (top {n} of {n_all})" if n < n_all else "")
    reset_plot(plot, title, "Power (MW)", "", legend=True, legend_cols=2)
    plot.getViewBox().invertY(True)
    ys = np.arange(n, dtype=float)
    hbars(plot, ys, 0.0, en, pg.mkBrush(ENERGIZED_COLOUR), name="energized", height=0.66)
    hbars(plot, ys, en, pi, pg.mkBrush(PIPELINE_COLOUR), name="pipeline", height=0.66)
    total = en + pi
    top = float(total.max()) if n else 1.0
    for y, t in zip(ys, total):
        text_label(plot, f"{t:,.0f} MW", float(t) + top * 0.01, float(y), colour=TEXT_COLOUR, size=7.5)
    frame_rows(plot, ys, labels, (0, max(top, 1.0) * 1.18), max_chars=36)

    def hover(x: float, y: float) -> str | None:
        i = row_at(y, n)
        if i is None:
            return None
        return f"{labels[i]}: {en[i]:,.0f} MW energized, {pi[i]:,.0f} MW pipeline"

    return Chart(hover, {"labels": labels, "energized_mw": en, "pipeline_mw": pi})
