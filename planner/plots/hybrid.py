"""Hybrid-site charts: one week of AI + mining load under the interconnection limit, load duration."""
from __future__ import annotations

import datetime as _dt

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from planner.fmt import HOURS_PER_YEAR
from planner.model.chart_data import HybridWeek
from planner.model.hybrid import HybridResult
from planner.plots.base import Chart, reset_plot
from planner.plots.style import LIMIT_COLOUR, PATH_COLOURS, mk_brush, mk_pen
from planner.plots.workarounds import curve, fill_between


def hybrid_week_chart(plot: pg.PlotItem, data: HybridWeek) -> Chart:
    """AI, mining and total load (MW) over one week against the interconnection limit."""
    r, p = data.result, data.result.params
    sl = data.hours
    ai = np.asarray(r.ai_mw[sl])
    mining = np.asarray(r.mining_mw[sl])
    total = ai + mining
    days = np.arange(ai.size, dtype=float) / 24.0
    reset_plot(plot, f"Week {data.week} load (from {data.start_date:%a %d %b}, representative year)",
               "Day of the week", "Load (MW)", legend_cols=3)
    ai_curve = curve(plot, days, ai, pen=mk_pen(PATH_COLOURS["ai_lease"], 1.8), name="AI facility",
                          fillLevel=0.0, fillBrush=mk_brush(PATH_COLOURS["ai_lease"], 60))
    tot_curve = curve(plot, days, total, pen=mk_pen("#111111", 1.6), name="Total site load")
    fill_between(plot, ai_curve, tot_curve, mk_brush(PATH_COLOURS["mining"], 110))
    curve(plot, days, mining, pen=mk_pen(PATH_COLOURS["mining"], 1.4), name="Mining (stacked on AI when shaded)")
    curve(plot, [0, 7], [p.interconnect_mw] * 2, pen=mk_pen(LIMIT_COLOUR, 2.0, Qt.PenStyle.DashLine),
               name=f"Interconnection limit {p.interconnect_mw:,.0f} MW")
    if p.reserve_mw > 0:
        curve(plot, [0, 7], [p.interconnect_mw - p.reserve_mw] * 2, pen=mk_pen(LIMIT_COLOUR, 1.0, Qt.PenStyle.DotLine),
                   name=f"Limit less reserve ({p.reserve_mw:,.0f} MW)")
    plot.setXRange(-0.05, 7.05, padding=0)
    plot.setYRange(0, p.interconnect_mw * 1.1, padding=0)
    start = data.start_date
    # day names at the middle of each day; minor ticks at midnight
    plot.getAxis("bottom").setTicks([[(d + 0.5, (start + _dt.timedelta(days=d)).strftime("%a %d %b"))
                                      for d in range(7)], [(float(d), "") for d in range(8)]])
    price = np.asarray(r.price[sl])

    def hover(x: float, _y: float) -> str | None:
        h = int(x * 24)
        if not 0 <= h < ai.size:
            return None
        return (f"Day {h // 24 + 1} {h % 24:02d}:00: AI {ai[h]:,.1f} MW, mining {mining[h]:,.1f} MW, total "
                f"{total[h]:,.1f} of {p.interconnect_mw:,.0f} MW; price {price[h]:,.1f} $/MWh")

    return Chart(hover, {"days": days, "ai": ai, "mining": mining, "total": total,
                         "limit": float(p.interconnect_mw)})


def load_duration_chart(plot: pg.PlotItem, result: HybridResult) -> Chart:
    """Load-duration curves (hours of the year sorted by load) of total, AI and mining."""
    p = result.params
    reset_plot(plot, "Load-duration curve (one year)", "Hours of the year at or above the load (h)", "Load (MW)",
               legend_cols=4)
    hours = np.arange(1, HOURS_PER_YEAR + 1, dtype=float)
    curves = {k: result.load_duration_curve(k) for k in ("total", "ai", "mining")}
    style = {"total": ("#111111", 2.2, "Total site load"), "ai": (PATH_COLOURS["ai_lease"], 1.8, "AI facility"),
             "mining": (PATH_COLOURS["mining"], 1.8, "Mining")}
    for k, c in curves.items():
        colour, width, label = style[k]
        curve(plot, hours, c, pen=mk_pen(colour, width), name=label)
    curve(plot, [0, HOURS_PER_YEAR], [p.interconnect_mw] * 2, pen=mk_pen(LIMIT_COLOUR, 2.0, Qt.PenStyle.DashLine),
               name=f"Interconnection limit {p.interconnect_mw:,.0f} MW")
    plot.setXRange(0, HOURS_PER_YEAR, padding=0.005)
    plot.setYRange(0, p.interconnect_mw * 1.1, padding=0)

    def hover(x: float, _y: float) -> str | None:
        i = int(round(x)) - 1
        if not 0 <= i < HOURS_PER_YEAR:
            return None
        return (f"{i + 1:,} h/yr at or above: total {curves['total'][i]:,.1f} MW, AI {curves['ai'][i]:,.1f} MW, "
                f"mining {curves['mining'][i]:,.1f} MW")

    return Chart(hover, {"hours": hours, **curves})
