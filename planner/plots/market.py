"""Market-context charts (docs/DOMAIN.md sections 1 and 4), every figure with its source."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from planner.model.chart_data import DemandData, LeaseDealsData, RangeData
from planner.plots.base import Chart, frame_rows, hbars, reset_plot, row_at, text_label
from planner.plots.style import LIMIT_COLOUR, PATH_COLOURS, mk_brush, mk_pen
from planner.plots.workarounds import bar_item, curve


_RANGE_COLOURS = {"past": "#7f7f7f", "mining": "#e8871e", "ai": "#2b6cb0", "grid": LIMIT_COLOUR,
                  "converted": "#1a9850", "greenfield": "#7f7f7f"}


def demand_chart(plot: pg.PlotItem, data: DemandData) -> Chart:
    """US data-center power demand by year (GW): sourced points filled, interpolated points hollow."""
    reset_plot(plot, "US data-center power demand", "Year", "Demand (GW)", legend_cols=2)
    years, gw, derived = data.years, data.gw, data.derived
    curve(plot, years, gw, pen=mk_pen(PATH_COLOURS["ai_lease"], 2.2))
    curve(plot, years[~derived], gw[~derived], pen=None, symbol="o", symbolSize=10,
          symbolBrush=PATH_COLOURS["ai_lease"], symbolPen=pg.mkPen("#0d3b66"), name="sourced (DOE, CBRE)")
    curve(plot, years[derived], gw[derived], pen=None, symbol="o", symbolSize=8, symbolBrush="w",
          symbolPen=mk_pen(PATH_COLOURS["ai_lease"], 1.5), name="interpolated / derived")
    for x, y, d in zip(years, gw, derived):
        if not d:
            text_label(plot, f"{y:g} GW", x, y, anchor=(0.5, 1.3), size=8.5, bold=True)
    plot.setXRange(years.min() - 0.5, years.max() + 0.5, padding=0)
    plot.setYRange(0, gw.max() * 1.2, padding=0)
    plot.getAxis("bottom").setTicks([[(float(y), f"{int(y)}") for y in years]])

    def hover(x: float, _y: float) -> str | None:
        i = int(round(x - years[0]))
        if not 0 <= i < len(years):
            return None
        return f"{int(years[i])}: {gw[i]:g} GW \u2014 {data.sources[i]}"

    return Chart(hover, {"years": years, "gw": gw})


def lease_deals_chart(plot: pg.PlotItem, data: LeaseDealsData) -> Chart:
    """Public miner-to-AI lease deals ($M per MW-yr) with the CBRE colocation rate and the model's lease rate."""
    n = len(data.labels)
    reset_plot(plot, "AI/HPC lease deals on mining sites", "Lease ($M per MW IT per year)", "",
               legend_cols=2)
    ys = np.arange(n, dtype=float)
    vals = data.usd_m_per_mw_year
    hbars(plot, ys, 0.0, vals, mk_brush(PATH_COLOURS["ai_lease"], 200), name="public deal")
    for y, v in zip(ys, vals):
        # inside the bar at its start, white on blue: clear of the CBRE and model-rate lines that cross the
        # bar tips (labels after the tips overlapped them and the top one fell off the plot)
        text_label(plot, f"${v:.2f}M", 0.03, y, anchor=(0, 0.5), colour="#ffffff", size=7.5, bold=True)
    cbre = data.cbre_usd_m_per_mw_year
    curve(plot, [cbre, cbre], [-0.6, n - 0.4], pen=mk_pen("#444444", 1.6, Qt.PenStyle.DashLine),
          name=f"CBRE colo asking ${data.cbre_usd_per_kw_month:.0f}/kW-month")
    model_rate = data.model_usd_m_per_mw_year
    if model_rate is not None:
        curve(plot, [model_rate, model_rate], [-0.6, n - 0.4], pen=mk_pen(LIMIT_COLOUR, 2.0),
              name=f"model lease rate ${data.model_usd_per_kw_month:.0f}/kW-month")
    frame_rows(plot, ys, list(data.labels), (0, max(vals.max(), cbre, model_rate or 0) * 1.18), grid=False)

    def hover(_x: float, y: float) -> str | None:
        i = row_at(y, n)
        if i is None:
            return None
        return (f"{data.labels[i]}: ${vals[i]:.2f}M per MW-yr (${data.usd_per_kw_month[i]:.0f}/kW-month); "
                f"source: {data.sources[i]}")

    return Chart(hover, {"deals": [lab.replace(" - ", "-") for lab in data.labels], "usd_m_per_mw_year": vals,
                         "model_rate": model_rate})


def _range_label(lo: float, hi: float, unit: str) -> str:
    return f"{lo:g}-{hi:g} {unit}" if np.isfinite(hi) else f"{lo:g} {unit}"


def rack_density_chart(plot: pg.PlotItem, data: RangeData) -> Chart:
    """Rack density then and now (kW per rack): bars at the value, whiskers to the top of a range."""
    reset_plot(plot, "Rack density", "", "Power per rack (kW/rack)", legend=False)
    xs = np.arange(len(data.labels), dtype=float)
    for x, v, kind in zip(xs, data.low, data.kinds):
        bar_item(plot, x=[x], height=[v], width=0.6, brush=mk_brush(_RANGE_COLOURS[kind], 220),
                 pen=pg.mkPen("#444444", width=0.6))
    for x, lo, hi in zip(xs, data.low, data.high):
        if np.isfinite(hi):
            plot.addItem(pg.ErrorBarItem(x=np.array([x]), y=np.array([lo]), top=np.array([hi - lo]),
                                         bottom=np.array([0.0]), beam=0.2, pen=mk_pen("#111111", 1.4)))
        text_label(plot, _range_label(lo, hi, "kW"), x, hi if np.isfinite(hi) else lo, anchor=(0.5, 1.15), size=8.5,
                   bold=True)
    plot.getAxis("bottom").setTicks([[(float(x), lab) for x, lab in zip(xs, data.labels)]])
    plot.setXRange(-0.6, len(xs) - 0.4, padding=0)
    plot.setYRange(0, float(np.nanmax(np.fmax(data.low, data.high))) * 1.12, padding=0)

    def hover(x: float, _y: float) -> str | None:
        i = int(round(x))
        if not 0 <= i < len(xs):
            return None
        return f"{_range_label(data.low[i], data.high[i], data.unit)} \u2014 {data.sources[i]}"

    return Chart(hover, {"kw_per_rack": data.low})


def _range_bars(plot: pg.PlotItem, title: str, x_label: str, data: RangeData, x_max: float, fmt: str) -> Chart:
    """Horizontal bars from low to high per row, labelled, top row first."""
    n = len(data.labels)
    reset_plot(plot, title, x_label, "", legend=False)
    plot.getViewBox().invertY(True)
    ys = np.arange(n, dtype=float)
    for y, lo, hi, kind in zip(ys, data.low, data.high, data.kinds):
        hbars(plot, np.array([y]), lo, np.array([hi - lo]), mk_brush(_RANGE_COLOURS[kind], 200), height=0.5)
        text_label(plot, fmt.format(lo=lo, hi=hi), hi + x_max * 0.012, y, size=7.5)
    frame_rows(plot, ys, list(data.labels), (0, x_max), max_chars=48, grid=False)

    def hover(_x: float, y: float) -> str | None:
        i = row_at(y, n)
        if i is None:
            return None
        return f"{data.labels[i]}: {fmt.format(lo=data.low[i], hi=data.high[i])} \u2014 {data.sources[i]}"

    return Chart(hover, {"low": data.low, "high": data.high})


def time_to_power_chart(plot: pg.PlotItem, data: RangeData) -> Chart:
    """Months to capacity: new grid interconnection vs AI build on a converted mining site vs greenfield."""
    chart = _range_bars(plot, "Time to power for AI capacity", "Months", data, 80.0, "{lo:.0f}-{hi:.0f} months")
    chart.values.update(low_months=data.low, high_months=data.high)
    return chart


def capex_chart(plot: pg.PlotItem, data: RangeData) -> Chart:
    """Reported capex ranges ($M per MW of critical IT) next to a mining build."""
    return _range_bars(plot, "Capex per MW", "Capex ($M per MW)", data, 18.5, "${lo:g}-{hi:g}M")
