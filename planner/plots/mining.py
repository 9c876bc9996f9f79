"""Mining charts: hashprice outlook vs fleet breakevens, revenue per MW-day, a new machine's payback."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from planner.model.chart_data import MiningData, month_name, short_model, year_fraction
from planner.plots.base import Chart, reset_plot, text_label
from planner.plots.style import GATE_COLOUR, LIMIT_COLOUR, PATH_COLOURS, SERIES_COLOURS, mk_pen
from planner.plots.workarounds import curve, inf_line, x_region


def hashprice_chart(plot: pg.PlotItem, data: MiningData) -> Chart:
    """Monthly hashprice outlook and the network's marginal cost against each fleet's breakeven hashprice."""
    reset_plot(plot, f"Hashprice vs fleet breakeven at {data.power_price_usd_per_mwh:,.0f} $/MWh",
               "Year", "Hashprice ($/PH/day)", legend_cols=3)
    curve(plot, data.years, data.hashprice_usd_per_ph_day, pen=mk_pen("#111111", 2.4), name="Hashprice path")
    curve(plot, data.years, data.marginal_cost_usd_per_ph_day, pen=mk_pen("#777777", 1.4, Qt.PenStyle.DashDotLine),
          name="Network marginal cost")
    for i, f in enumerate(data.fleets):
        width = 2.4 if f.model == data.site_model else 1.3
        style = Qt.PenStyle.SolidLine if f.model == data.site_model else Qt.PenStyle.DashLine
        site_fleet = data.installed_source == f"site asic_model {f.model}"
        mark = (" (site fleet)" if site_fleet else " (new machines)") if f.model == data.site_model else ""
        curve(plot, [data.years[0], data.years[-1]], [f.breakeven_hashprice_usd_per_ph_day] * 2,
              pen=mk_pen(SERIES_COLOURS[i % len(SERIES_COLOURS)], width, style),
              name=f"{short_model(f.model)} breakeven{mark}")
    if data.installed_cost_usd_per_ph_day > 0:
        curve(plot, [data.years[0], data.years[-1]], [data.installed_cost_usd_per_ph_day] * 2,
              pen=mk_pen(LIMIT_COLOUR, 2.0, Qt.PenStyle.DotLine),
              name=f"Installed fleet ({data.installed_j_per_th:g} J/TH) power cost here")
    top = float(max(np.max(data.hashprice_usd_per_ph_day), data.installed_cost_usd_per_ph_day,
                    max(f.breakeven_hashprice_usd_per_ph_day for f in data.fleets)))
    x_end = float(data.years[-1])
    for k, hm in enumerate(data.halving_months):
        x = year_fraction(data.start) + hm / 12.0
        inf_line(plot, x, 90, mk_pen("#888888", 1.2, Qt.PenStyle.DotLine))
        near_end = x > x_end - 0.2 * (x_end - float(data.years[0]))
        text_label(plot, f"halving ~{month_name(data.start, hm)}", x, top * (1.1 if k % 2 == 0 else 1.03),
                   anchor=(1.03, 0) if near_end else (-0.03, 0), colour="#555555", size=7.5)
    plot.setYRange(0, top * 1.14, padding=0)
    plot.setXRange(float(data.years[0]), float(data.years[-1]), padding=0.01)

    def hover(x: float, _y: float) -> str | None:
        if x < data.years[0] - 0.1 or x > data.years[-1] + 0.1:
            return None
        i = int(np.clip(round((x - data.years[0]) * 12.0), 0, len(data.years) - 1))
        hp = data.hashprice_usd_per_ph_day[i]
        above = [f.model for f in data.fleets if hp > f.breakeven_hashprice_usd_per_ph_day]
        return (f"{month_name(data.start, data.months[i])}: hashprice ${hp:,.2f}/PH/day (network marginal cost "
                f"${data.marginal_cost_usd_per_ph_day[i]:,.2f}) \u00b7 profitable at "
                f"{data.power_price_usd_per_mwh:,.0f} $/MWh: {', '.join(above) if above else 'no fleet'}")

    return Chart(hover, {"x": data.years, "hashprice": data.hashprice_usd_per_ph_day,
                         "marginal_cost": data.marginal_cost_usd_per_ph_day,
                         "breakeven": np.array([f.breakeven_hashprice_usd_per_ph_day for f in data.fleets])})


def network_chart(plot: pg.PlotItem, data: MiningData) -> Chart:
    """Network difficulty outlook (T; hashrate in the read-out) with the halvings marked."""
    reset_plot(plot, f"Network outlook ({data.outlook_model.replace('_', ' ')})", "Year", "Difficulty (T)",
               legend_cols=2)
    curve(plot, data.years, data.difficulty_t, pen=mk_pen("#1f78b4", 2.2), name="Difficulty (T)")
    top = float(np.max(data.difficulty_t)) if data.difficulty_t.size else 1.0
    for hm in data.halving_months:
        x = year_fraction(data.start) + hm / 12.0
        inf_line(plot, x, 90, mk_pen("#888888", 1.2, Qt.PenStyle.DotLine))
    plot.setYRange(0, top * 1.12, padding=0)
    plot.setXRange(float(data.years[0]), float(data.years[-1]), padding=0.01)

    def hover(x: float, _y: float) -> str | None:
        if not data.difficulty_t.size or x < data.years[0] - 0.1 or x > data.years[-1] + 0.1:
            return None
        i = int(np.clip(round((x - data.years[0]) * 12.0), 0, len(data.years) - 1))
        hp, cost = data.hashprice_usd_per_ph_day[i], data.marginal_cost_usd_per_ph_day[i]
        return (f"{month_name(data.start, data.months[i])}: difficulty {data.difficulty_t[i]:,.0f} T = hashrate "
                f"{data.hashrate_eh_s[i]:,.0f} EH/s \u00b7 hashprice ${hp:,.2f} vs marginal cost ${cost:,.2f}/PH/day "
                f"({'growing' if hp > cost else 'shrinking'})")

    return Chart(hover, {"x": data.years, "difficulty_t": data.difficulty_t, "hashrate_eh_s": data.hashrate_eh_s})


def mining_revenue_chart(plot: pg.PlotItem, data: MiningData) -> Chart:
    """Revenue per MW-day of each fleet (flat) against the power cost per MW-day (rising with $/MWh)."""
    prices, cost = data.power_prices_usd_per_mwh, data.power_cost_usd_per_mw_day
    top_price = float(prices[-1])
    reset_plot(plot, "Revenue per MW-day vs power price", "Power price ($/MWh)", "Revenue or power cost ($/MW-day)",
               legend_cols=3)
    for i, f in enumerate(data.fleets):
        width = 2.4 if f.model == data.site_model else 1.3
        curve(plot, [0.0, top_price], [f.revenue_usd_per_mw_day] * 2,
              pen=mk_pen(SERIES_COLOURS[i % len(SERIES_COLOURS)], width),
              name=f"{short_model(f.model)} (breakeven {f.breakeven_power_usd_per_mwh:,.0f} $/MWh)")
    curve(plot, prices, cost, pen=mk_pen("#111111", 2.2, Qt.PenStyle.DashLine), name="Power cost per MW-day")
    inf_line(plot, data.power_price_usd_per_mwh, 90, mk_pen(LIMIT_COLOUR, 1.4, Qt.PenStyle.DotLine))
    ymax = float(max(cost[-1], max(f.revenue_usd_per_mw_day for f in data.fleets))) * 1.08
    text_label(plot, f"site {data.power_price_usd_per_mwh:,.0f} $/MWh ({data.power_price_basis})",
               data.power_price_usd_per_mwh, ymax * 0.98, anchor=(-0.03, 0), colour=LIMIT_COLOUR, size=7.5)
    plot.setXRange(0, top_price, padding=0.01)
    plot.setYRange(0, ymax, padding=0)
    best = max(data.fleets, key=lambda f: f.revenue_usd_per_mw_day)

    def hover(x: float, _y: float) -> str | None:
        if x < 0 or x > top_price:
            return None
        c = float(np.interp(x, prices, cost))  # the cost line is linear in price: read it off the data
        return (f"At {x:,.0f} $/MWh: power cost ${c:,.0f}/MW-day; best fleet {best.model} earns "
                f"${best.revenue_usd_per_mw_day:,.0f}/MW-day (margin ${best.revenue_usd_per_mw_day - c:,.0f})")

    return Chart(hover, {"prices": prices, "cost": cost,
                         "revenue": np.array([f.revenue_usd_per_mw_day for f in data.fleets])})


def payback_chart(plot: pg.PlotItem, data: MiningData) -> Chart:
    """Cumulative net cash of a new machine per TH/s over months (dynamic payback; may never pay back)."""
    capex = data.capex_usd_per_th
    x = np.arange(0, len(data.cumulative_net_usd_per_th) + 1, dtype=float)
    y = np.concatenate([[-capex], data.cumulative_net_usd_per_th])
    reset_plot(plot, f"Dynamic payback: new {short_model(data.site_model)}", f"Months from {data.start:%b %Y}",
               "Cumulative net cash ($ per TH/s)", legend_cols=3)
    ymin, ymax = float(min(y.min(), 0.0)), float(max(y.max(), 0.0))
    span = (ymax - ymin) or 1.0
    # shade the months the machine is switched off (negative margin)
    off = ~data.payback.running
    edges = np.flatnonzero(np.diff(np.concatenate([[0], off.astype(int), [0]])))
    for k, (a0, a1) in enumerate(zip(edges[::2], edges[1::2])):
        x_region(plot, (float(a0), float(a1)), "#9e9e9e", 55)
        if k == 0:
            text_label(plot, "switched off\n(negative margin)", float(a0) + 1, ymax + 0.02 * span,
                       anchor=(0, 0), colour="#555555", size=7.5)
    curve(plot, x, y, pen=mk_pen(PATH_COLOURS["mining"], 2.4), name="Cumulative net cash after the machine's price")
    curve(plot, [0.0], [-capex], pen=None, symbol="o", symbolSize=7, symbolBrush=PATH_COLOURS["mining"],
          name=f"Price ${capex:,.2f}/TH")
    inf_line(plot, 0.0, 0, mk_pen("#666666", 1.0))
    n = len(data.cumulative_net_usd_per_th)
    if data.payback_months is not None:
        inf_line(plot, data.payback_months, 90, mk_pen("#1a9850", 1.4, Qt.PenStyle.DashLine))
        text_label(plot, f"pays back in {data.payback_months:,.1f} months", data.payback_months, ymin + 0.1 * span,
                   anchor=(-0.03, 0.5), colour="#1a7a40", size=8.5, bold=True)
        verdict = f"pays back in {data.payback_months:.1f} months"
    else:
        text_label(plot, f"never pays back within {n} months", float(n) / 2, ymin + 0.3 * span,
                   anchor=(0.5, 0.5), colour=GATE_COLOUR, size=10, bold=True)
        verdict = "never pays back"
    plot.setXRange(0, n, padding=0.01)
    plot.setYRange(ymin - 0.05 * span, ymax + 0.16 * span, padding=0)

    def hover(xv: float, _y: float) -> str | None:
        i = int(round(xv))
        if not 0 <= i <= n:
            return None
        if i == 0:
            return f"Month 0: machine price ${capex:,.2f}/TH"
        state = "running" if data.payback.running[i - 1] else "switched off (negative margin)"
        return f"Month {i} ({month_name(data.start, i)}): cumulative net ${y[i]:,.2f}/TH, machine {state}"

    return Chart(hover, {"months": x, "cumulative": y, "verdict": verdict})
