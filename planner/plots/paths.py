"""Path charts: cash flow and NPV of mining / AI lease / hybrid, the tornado and the bridge path."""
from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from planner.fmt import fmt_fraction_pct, fmt_usd_m
from planner.model.chart_data import PATH_SHORT, TornadoData
from planner.model.economics import NEEDS_ENERGIZED, PathComparison
from planner.plots.base import Chart, hbars, message_chart, reset_plot, row_labels, text_label
from planner.plots.style import NO_DATA_COLOUR, PATH_COLOURS, mk_brush, mk_pen
from planner.plots.workarounds import bar_item, curve, inf_line


def paths_cash_chart(plot: pg.PlotItem, comp: PathComparison) -> Chart:
    """Annual operating cash flow ($M/yr) of each available path (initial capex in the legend).

    "Initial capex" is the path's build (:attr:`PathResult.capex_usd`, fleet refreshes excluded; they
    are in the yearly cash flows): the same definition everywhere the planner prints a path's capex.
    """
    title = "Annual cash flow by path"
    if comp.unavailable_reason or not comp.paths:
        return message_chart(plot, title, comp.unavailable_reason or "No path available for this site")
    reset_plot(plot, title, "Year", "Cash flow ($M/yr)", legend_cols=2)
    years = np.arange(1, comp.years + 1, dtype=float)
    values: dict[str, Any] = {"years": years}
    for name, p in comp.paths.items():
        # the terminal value (exit value booked in year H) would flatten every other year: legend only
        cf = np.asarray(p.cash_flows_ex_terminal_usd, dtype=float)[1:] / 1e6
        values[name] = cf
        tv = float(p.terminal_value_usd)
        tv_txt = f"; exit value {fmt_usd_m(tv)} yr {comp.years}" if tv else ""
        pen = mk_pen(PATH_COLOURS[name], 2.2)
        if name == "hybrid":  # dashed: where the hybrid runs as the AI lease (most years), both lines show
            pen.setStyle(Qt.PenStyle.DashLine)
        curve(plot, years, cf, pen=pen, symbol="o", symbolSize=5, symbolBrush=PATH_COLOURS[name], symbolPen=None,
              name=f"{PATH_SHORT[name]} (initial capex {fmt_usd_m(p.capex_usd)}{tv_txt})")
    inf_line(plot, 0.0, 0, mk_pen("#666666", 1.0))
    plot.setXRange(0.5, comp.years + 0.5, padding=0)
    paths = comp.paths

    def hover(x: float, _y: float) -> str | None:
        yr = int(round(x))
        if not 1 <= yr <= comp.years:
            return None
        parts = [f"{PATH_SHORT[k]} {fmt_usd_m(values[k][yr - 1] * 1e6)}" for k in paths]
        return f"Year {yr}: " + " \u00b7 ".join(parts)

    return Chart(hover, values)


def paths_npv_chart(plot: pg.PlotItem, comp: PathComparison) -> Chart:
    """NPV of each path (selling included) as bars with the values written on them (best path outlined);
    a narrow hatched bar inside shows the NPV without the terminal (exit) value."""
    title = "NPV by path"
    if comp.unavailable_reason:
        return message_chart(plot, title, comp.unavailable_reason)
    reset_plot(plot, f"NPV by path ({comp.years} yr)", "", "NPV ($M)", legend=True, legend_cols=2)
    by_name = {"mining": comp.mining, "ai_lease": comp.ai_lease, "hybrid": comp.hybrid, "sell": comp.sell,
               "bridge": comp.bridge}  # the bridge only when it is a path of its own (mine N years, then convert)
    names = [n for n, p in by_name.items() if p is not None]
    xs = np.arange(len(names), dtype=float)
    npvs = np.array([by_name[n].npv_usd / 1e6 for n in names])
    ex_tv = np.array([by_name[n].npv_excl_terminal_usd / 1e6 for n in names])
    best = comp.best_path
    span = float(max(np.abs(npvs).max(), np.abs(ex_tv).max(), 1.0))
    short = {**PATH_SHORT, "sell": "Sell", "bridge": "Mine, then AI"}
    named_npv = named_ex = False
    for i, (x, n, v) in enumerate(zip(xs, names, npvs)):
        p = by_name[n]
        if p.unavailable_reason:
            bar_item(plot, x=[x], height=[span * 0.05], width=0.6,
                     brush=mk_brush(NO_DATA_COLOUR, 255, Qt.BrushStyle.BDiagPattern), pen=pg.mkPen(NO_DATA_COLOUR))
            why = "n/a\nenter energized MW" if (p.unavailable_reason or "").startswith(NEEDS_ENERGIZED) else "n/a"
            text_label(plot, why, x, span * 0.06, anchor=(0.5, 1), colour="#555555")
            continue
        pen = pg.mkPen("#000000", width=2.4) if n == best else pg.mkPen("#444444", width=0.6)
        bar_item(plot, x=[x], y0=[0.0], height=[v], width=0.6, brush=mk_brush(PATH_COLOURS.get(n, "#8c8c8c"), 230),
                 pen=pen, name=None if named_npv else "NPV")
        named_npv = True
        if p.terminal_value_usd:
            bar_item(plot, x=[x], y0=[0.0], height=[ex_tv[i]], width=0.22,
                     brush=mk_brush("#222222", 200, Qt.BrushStyle.BDiagPattern), pen=pg.mkPen("#222222", width=0.8),
                     name=None if named_ex else "NPV without exit value")
            named_ex = True
        if n == best:  # a star inside the bar, not a word: "$1,680M  best" was wider than the bar spacing
            curve(plot, [float(x)], [float(v) / 2.0], pen=None, symbol="star", symbolSize=15, symbolBrush="#ffffff",
                  symbolPen=pg.mkPen("#000000", width=1.2), name="best path")
        label = fmt_usd_m(v * 1e6)
        top = max(v, ex_tv[i]) if v >= 0 else min(v, ex_tv[i])
        text_label(plot, label, x, top, anchor=(0.5, 1.05) if top >= 0 else (0.5, -0.05), size=8.5, bold=n == best)
    inf_line(plot, 0.0, 0, mk_pen("#666666", 1.0))
    plot.getAxis("bottom").setTicks([[(float(x), short[n]) for x, n in zip(xs, names)]])
    lo = min(0.0, float(npvs.min()), float(ex_tv.min()))
    hi = max(0.0, float(npvs.max()), float(ex_tv.max()))
    pad = (hi - lo or 1.0) * 0.2  # room for the value labels above the bars
    plot.setYRange(lo - pad, hi + pad, padding=0)
    plot.setXRange(-0.6, len(names) - 0.4, padding=0)
    plot.showGrid(x=False, y=True, alpha=0.25)

    def hover(x: float, _y: float) -> str | None:
        i = int(round(x))
        if not 0 <= i < len(names):
            return None
        p = by_name[names[i]]
        if p.unavailable_reason:
            return f"{p.label}: not available ({p.unavailable_reason})"
        irr = "n/a" if p.irr is None else fmt_fraction_pct(p.irr, 1)
        pb = "never" if p.payback_years is None else f"{p.payback_years:.1f} yr"
        elec = "n/a" if p.usd_per_mwh is None else f"${p.usd_per_mwh:,.0f}/MWh"
        share = "" if p.terminal_share is None else f" ({fmt_fraction_pct(p.terminal_share, 0)} of NPV)"
        return (f"{p.label}: NPV {fmt_usd_m(p.npv_usd)} ({fmt_usd_m(p.npv_usd_per_mw)}/MW), without exit value "
                f"{fmt_usd_m(p.npv_excl_terminal_usd)}{share}, IRR {irr}, payback {pb}, initial capex {fmt_usd_m(p.capex_usd)} "
                f"(build, excl. fleet refreshes), "
                f"value of an electron {elec}")

    return Chart(hover, {"paths": names, "npv_musd": npvs, "npv_excl_terminal_musd": ex_tv})


def tornado_chart(plot: pg.PlotItem, data: TornadoData) -> Chart:
    """Tornado of NPV sensitivity: each assumption at its low and high value (written on its row), widest on top."""
    bars = list(data.bars)[: data.max_bars]
    title = f"NPV sensitivity, {PATH_SHORT.get(data.path, data.path)}" + (f" ({data.steps})" if bars else "")
    if not bars:
        return message_chart(plot, title, data.empty_reason or "No sensitivity data for this path")
    n = len(bars)
    reset_plot(plot, title, "NPV ($M)", "", legend_cols=2)
    plot.getViewBox().invertY(True)
    base = data.base_npv_usd / 1e6
    ys = np.arange(n, dtype=float)
    low = np.array([b.npv_low for b in bars]) / 1e6
    high = np.array([b.npv_high for b in bars]) / 1e6
    hbars(plot, ys, base, low - base, mk_brush("#e66101", 220), name="input at its low value", height=0.64)
    hbars(plot, ys, base, high - base, mk_brush("#5e3c99", 220), name="input at its high value", height=0.64)
    inf_line(plot, base, 90, mk_pen("#111111", 1.4))
    row_labels(plot, ys, [b.row_label for b in bars], max_chars=48)
    lo = float(min(low.min(), high.min(), base))
    hi = float(max(low.max(), high.max(), base))
    pad = (hi - lo or 1.0) * 0.08
    plot.setXRange(lo - pad, hi + pad, padding=0)
    plot.setYRange(-1.3, n - 0.4, padding=0)
    text_label(plot, f"base NPV {fmt_usd_m(data.base_npv_usd)}", base, -0.7, anchor=(0.5, 0.5), size=7.5, bold=True)

    def hover(x: float, y: float) -> str | None:
        i = int(round(y))
        if not 0 <= i < n:
            return None
        b = bars[i]
        return (f"{b.label} ({b.step}): {b.range_text}; NPV {fmt_usd_m(b.npv_low)} at the low value, "
                f"{fmt_usd_m(b.npv_high)} at the high value \u00b7 swing {fmt_usd_m(b.swing_usd)}")

    return Chart(hover, {"keys": [b.key for b in bars], "labels": [b.row_label for b in bars],
                         "steps": [b.step for b in bars], "value_low": [b.value_low for b in bars],
                         "value_high": [b.value_high for b in bars], "low_musd": low, "high_musd": high,
                         "base_musd": base})


#: The bridge chart's x axis, and what its ends mean (legend entry and the axis tooltip).
BRIDGE_X_LABEL = "Conversion year N"
BRIDGE_X_MEANING = ("Conversion year N: mine for N years, then convert to an AI lease. N = 0 converts now "
                    "(the AI lease path); the last year never converts (the mining path).")

#: Room above the bridge curve's highest point for the "best" label, as a share of the NPV range.
BEST_LABEL_HEADROOM = 0.3


def bridge_chart(plot: pg.PlotItem, comp: PathComparison) -> Chart:
    """Bridge path: NPV when mining first and converting to AI in year N, with the best N marked."""
    title = "Bridge path: mine, then convert in year N"
    if comp.unavailable_reason or comp.bridge_npv_usd.size == 0:
        return message_chart(plot, title, comp.unavailable_reason or "No bridge-path data")
    npv = comp.bridge_npv_usd / 1e6
    ns = np.arange(npv.size, dtype=float)
    # the axis label is short enough for the Paths dock at 1000 px ("Conversion year N (0 = now, last =
    # never)" was cut at both ends); what 0 and the last year mean goes in the legend (it wraps) and tooltip
    reset_plot(plot, title, BRIDGE_X_LABEL, "NPV ($M)", legend_cols=2)
    plot.getAxis("bottom").setToolTip(BRIDGE_X_MEANING)
    curve(plot, ns, npv, pen=mk_pen(PATH_COLOURS["hybrid"], 2.2), symbol="o", symbolSize=6,
               symbolBrush=PATH_COLOURS["hybrid"], symbolPen=None,
               name="NPV if converted in year N (0 = now, last = never)")
    best = comp.best_bridge_year
    if best is not None:
        curve(plot, [float(best)], [npv[best]], pen=None, symbol="star", symbolSize=18, symbolBrush="#1a9850",
                   symbolPen=pg.mkPen("#0b5d2a"), name=f"best N = {best}")
        # beside the star where it covers no part of the curve (placed in pixels at paint time, so
        # at any size of the plot); the headroom above the curve is where it usually goes
        text_label(plot, f"best: year {best} ({fmt_usd_m(comp.bridge_npv_usd[best])})", float(best),
                   float(npv[best]), colour="#0b5d2a", size=8.5, bold=True, avoid=np.column_stack([ns, npv]))
        lo, hi = float(npv.min()), float(npv.max())
        span = (hi - lo) or max(abs(hi), 1.0)
        plot.setYRange(lo - 0.08 * span, hi + BEST_LABEL_HEADROOM * span, padding=0)
    plot.setXRange(-0.5, npv.size - 0.5, padding=0)

    def hover(x: float, _y: float) -> str | None:
        i = int(round(x))
        if not 0 <= i < npv.size:
            return None
        what = "convert now (= AI lease path)" if i == 0 else (
            "never convert (= mining path)" if i == npv.size - 1 else f"mine {i} yr, then convert")
        return f"N = {i}: {what}, NPV {fmt_usd_m(comp.bridge_npv_usd[i])}"

    return Chart(hover, {"years": ns, "npv_musd": npv, "best": best})
