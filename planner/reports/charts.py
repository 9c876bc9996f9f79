"""pyqtgraph chart builders shared by the live panels (planner.ui.panels) and the PDF/PNG reports.

Each chart is two steps:

1. a pure *data* function (``mining_data``, ``hybrid_week_data``, ...) that turns model objects
   into plain numpy arrays and a caption stating the scenario and assumptions used;
2. a *builder* ``builder(plot: pg.PlotItem, data) -> Chart`` that clears ``plot`` and draws the
   data with labelled axes (units in brackets), a legend and value labels. The returned
   :class:`Chart` carries a ``hover(x, y) -> str | None`` read-out (view coordinates) that the
   panels wire to mouse moves, and the plotted arrays (``values``) for tests and reports.

Builders create no widgets; :func:`render_png` hosts one in an off-screen ``pg.PlotWidget`` and
writes a PNG of the requested size with ``pyqtgraph.exporters.ImageExporter``.
"""
from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont

from planner.model.assumptions import ASSUMPTIONS, Assumptions
from planner.model.economics import (
    DAYS_PER_MONTH, PathComparison, PaybackResult, breakeven_usd_per_mwh, hashprice_factors, mining_state,
    payback_dynamic, revenue_usd_per_mw_day, site_gross_mw, th_s_per_mw)
from planner.model.hybrid import HOURS_PER_YEAR, REPRESENTATIVE_YEAR, HybridResult
from planner.model.market import (
    CAPEX_RANGES, FIGURES, LEASE_DEALS, US_DC_DEMAND, demand_cagr)
from planner.model.readiness import READINESS_CLASSES, ReadinessResult, rank_results
from planner.model.scenarios import TornadoBar
from planner.model.site import Site
from planner.webmap.styles import READINESS_COLOURS, READINESS_LABELS


# -- colours ------------------------------------------------------------------------------------
#: Path colours (mining = bitcoin orange, AI lease = blue, hybrid = purple); used by panels and reports.
PATH_COLOURS: dict[str, str] = {"mining": "#e8871e", "ai_lease": "#2b6cb0", "hybrid": "#7b3294"}
PATH_SHORT: dict[str, str] = {"mining": "Mining", "ai_lease": "AI lease", "hybrid": "Hybrid"}
#: Qualitative palette (Tableau 10) for ASIC fleets and other series.
SERIES_COLOURS: tuple[str, ...] = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                                   "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
SCORE_COLOUR = "#3b6fb6"
GATE_COLOUR = "#d73027"
NO_DATA_COLOUR = "#9e9e9e"
TEXT_COLOUR = "#222222"
LIMIT_COLOUR = "#c0392b"
BACKGROUND = "w"

HoverFn = Callable[[float, float], "str | None"]


@dataclass
class Chart:
    """What a builder drew: the hover read-out and the plotted arrays by series name."""

    hover: HoverFn
    values: dict[str, Any] = field(default_factory=dict)


def _no_hover(_x: float, _y: float) -> str | None:
    return None


# -- formatting ---------------------------------------------------------------------------------
def fmt_usd_m(usd: float | None) -> str:
    """Format dollars as $M with a sign, e.g. ``-$531M`` or ``$12.3M``; None -> ``n/a``."""
    if usd is None or not math.isfinite(usd):
        return "n/a"
    m = usd / 1e6
    sign = "-" if m < 0 else ""
    m = abs(m)
    if m >= 100:
        return f"{sign}${m:,.0f}M"
    if m >= 10:
        return f"{sign}${m:,.1f}M"
    return f"{sign}${m:,.2f}M"


def _pct(x: float | None, digits: int = 0) -> str:
    return "n/a" if x is None else f"{100.0 * x:.{digits}f} %"


def _short_model(model: str) -> str:
    return model.replace("Antminer ", "").replace("Whatsminer ", "")


def _month_name(start: _dt.datetime, months: float) -> str:
    when = start + _dt.timedelta(days=months * DAYS_PER_MONTH)
    return when.strftime("%b %Y")


def _year_fraction(when: _dt.datetime) -> float:
    start = _dt.datetime(when.year, 1, 1, tzinfo=when.tzinfo)
    length = (_dt.datetime(when.year + 1, 1, 1, tzinfo=when.tzinfo) - start).total_seconds()
    return when.year + (when - start).total_seconds() / length


# -- plot styling -------------------------------------------------------------------------------
def _pen(colour: str, width: float = 2.0, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> Any:
    return pg.mkPen(colour, width=width, style=style)


def _brush(colour: str, alpha: int = 255, pattern: Qt.BrushStyle | None = None) -> QBrush:
    c = QColor(colour)
    c.setAlpha(alpha)
    return QBrush(c, pattern) if pattern is not None else QBrush(c)


def _font(point_size: float = 8.5, bold: bool = False) -> QFont:
    f = QFont()
    f.setPointSizeF(point_size)
    f.setBold(bold)
    return f


class _BelowLegend(pg.LegendItem):
    """Legend laid out under the x axis; its column count follows the width of the view box."""

    def __init__(self, plot: pg.PlotItem, max_cols: int = 3):
        super().__init__(labelTextColor=TEXT_COLOUR, labelTextSize="8pt", colCount=1,
                         brush=pg.mkBrush(255, 255, 255, 0), pen=pg.mkPen(None), horSpacing=14)
        self._plot = plot
        self.max_cols = max_cols
        plot.getViewBox().sigResized.connect(self._fit_columns)

    def begin(self) -> None:
        """Start a redraw: entries are reused in order, renamed where the name changed (LabelItems are slow)."""
        self._reuse = 0

    def addItem(self, item: Any, name: str) -> None:
        i = getattr(self, "_reuse", None)
        if i is not None and i < len(self.items):  # reuse the entry; a new name only changes its text
            sample, label = self.items[i]
            sample.item = item
            sample.update()
            if label.text != name:
                label.setText(name)
                self._renamed = True
            self._reuse = i + 1
            return
        if i is not None:  # more entries than last time: add normally from here on
            self._reuse = None
        super().addItem(item, name)
        self._fit_columns()

    def finish(self) -> None:
        """End a redraw: drop entries that were not reused."""
        i = getattr(self, "_reuse", None)
        self._reuse = None
        renamed, self._renamed = getattr(self, "_renamed", False), False
        if i is not None and i < len(self.items):
            for sample, label in self.items[i:]:
                self._drop(sample)
                self._drop(label)
            del self.items[i:]
            self.setColumnCount(self.columnCount)
            self.updateSize()
        if renamed:
            # a LabelItem whose text changed in place keeps its old cell size, and the old
            # pixels showed through the new text (seen as "inpu+20 %"): lay the entries out anew
            entries = [(sample.item, label.text) for sample, label in self.items]
            for sample, label in self.items:
                self._drop(sample)
                self._drop(label)
            self.items = []
            for item, name in entries:
                pg.LegendItem.addItem(self, item, name)
            self._fit_columns()
            self.updateSize()

    def _drop(self, widget: Any) -> None:
        """Take a legend sample/label out for good: close() alone left it painted as a child."""
        self.layout.removeItem(widget)
        widget.hide()
        widget.setParentItem(None)
        if widget.scene() is not None:
            widget.scene().removeItem(widget)

    def removeItem(self, item: Any) -> None:  # pyqtgraph's version close()s the widgets but leaves them painted
        if getattr(self, "_reuse", None) is not None:
            return  # plot.clear() during a redraw: entries stay for reuse
        for entry in [e for e in self.items if e[0].item is item or e[1].text == item]:
            self.items.remove(entry)
            self._drop(entry[0])
            self._drop(entry[1])
        self.updateSize()

    def _fit_columns(self, *_: Any) -> None:
        from PySide6.QtGui import QFontMetrics

        if not self.items:
            return
        fm = QFontMetrics(_font(8))
        entry = max(fm.horizontalAdvance(label.text) for _sample, label in self.items) + 20 + 14 + 14
        avail = self._plot.getViewBox().width() or 600.0
        cols = int(max(1, min(self.max_cols, len(self.items), avail // entry)))
        if cols != self.columnCount:
            self.setColumnCount(cols)


# -- item reuse ---------------------------------------------------------------------------------
# Creating a pyqtgraph item and adding it to a plot costs about 1-3 ms (scene bookkeeping, signal
# connections), removing it about 1 ms; a redraw of a panel made 15-25 of each. A builder's
# drawing has the same structure from one site or assumption to the next, so the items of the
# previous drawing are kept and updated in place (setData, setOpts, setPos) in the order the
# builder asks for them. Items stay in the plot in creation order, so the stacking (and thus the
# picture) is the same as a fresh drawing.
_PLOT_STYLE_DEFAULTS: dict[str, Any] = {
    # PlotDataItem's own defaults for every style key a builder sets: a reused item is updated
    # with the full set so it ends with the same options as a freshly created one
    "pen": (200, 200, 200), "shadowPen": None, "fillLevel": None, "fillOutline": False, "fillBrush": None,
    "stepMode": None, "symbol": None, "symbolSize": 10, "symbolPen": (200, 200, 200),
    "symbolBrush": (50, 50, 150), "name": None,
}
_BAR_DEFAULTS: dict[str, Any] = {k: None for k in ("x", "y", "x0", "y0", "x1", "y1", "name", "height", "width",
                                                   "pen", "brush", "pens", "brushes")}


class _ItemPool:
    """The items a builder added to one plot, in order, for reuse by the next drawing on it."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.keys: list[Any] = []
        self.cursor = 0
        self.active = False

    def begin(self, plot: pg.PlotItem) -> None:
        """Start a drawing: keep the pooled items; clear the plot when it holds items added otherwise."""
        if self.active:
            self.end(plot)  # the previous builder was not finished with finish_legend()
        pooled = set(map(id, self.items))
        if len(plot.items) != len(self.items) or any(id(it) not in pooled for it in plot.items):
            plot.clear()
            self.items, self.keys = [], []
        self.cursor = 0
        self.active = True

    def take(self, plot: pg.PlotItem, key: Any) -> Any | None:
        """The next pooled item if it was made with the same ``key``, else None (later items are dropped)."""
        if not self.active:
            return None
        i = self.cursor
        if i < len(self.items) and self.keys[i] == key:
            self.cursor = i + 1
            return self.items[i]
        self._drop_from(plot, i)
        return None

    def put(self, item: Any, key: Any) -> None:
        """Record a newly added item (it becomes reusable by the next drawing)."""
        if self.active:
            self.items.append(item)
            self.keys.append(key)
            self.cursor = len(self.items)

    def end(self, plot: pg.PlotItem) -> None:
        """Finish a drawing: remove the pooled items it did not reuse."""
        if self.active:
            self._drop_from(plot, self.cursor)
            self.active = False

    def _drop_from(self, plot: pg.PlotItem, i: int) -> None:
        for item in self.items[i:]:
            plot.removeItem(item)
        del self.items[i:], self.keys[i:]


def _pool(plot: pg.PlotItem) -> _ItemPool:
    pool = getattr(plot, "_planner_pool", None)
    if pool is None:
        pool = _ItemPool()
        plot._planner_pool = pool
    return pool


def _add_to_legend(plot: pg.PlotItem, item: Any, name: str | None) -> None:
    # what PlotItem.addItem does for a named data item; a reused item registers again by itself
    if name is not None and getattr(plot, "legend", None) is not None:
        plot.legend.addItem(item, name=name)


def _plot(plot: pg.PlotItem, x: Any, y: Any, **style: Any) -> pg.PlotDataItem:
    """``plot.plot(x, y, **style)``, reusing the next pooled curve when there is one."""
    item = _pool(plot).take(plot, pg.PlotDataItem)
    if item is None:
        item = plot.plot(x, y, **style)
        _pool(plot).put(item, pg.PlotDataItem)
        return item
    opts = dict(_PLOT_STYLE_DEFAULTS)
    if "symbol" not in style and any(k in style for k in ("symbolPen", "symbolBrush", "symbolSize")):
        opts["symbol"] = "o"  # as PlotDataItem does when a symbol style is given without a symbol
    if "brush" in style:
        style = {**style, "fillBrush": style["brush"]}
        del style["brush"]
    opts.update(style)
    item.setData(x, y, **opts)
    _add_to_legend(plot, item, opts["name"])
    return item


def _bar_item(plot: pg.PlotItem, **opts: Any) -> pg.BarGraphItem:
    """``plot.addItem(pg.BarGraphItem(**opts))``, reusing the next pooled bar item when there is one."""
    pool = _pool(plot)
    item = pool.take(plot, pg.BarGraphItem)
    if item is None:
        item = pg.BarGraphItem(**opts)
        plot.addItem(item)
        pool.put(item, pg.BarGraphItem)
        return item
    full = {**_BAR_DEFAULTS, "pen": pg.getConfigOption("foreground"), "brush": (128, 128, 128), **opts}
    item.setOpts(**full)
    _add_to_legend(plot, item, full["name"])
    return item


def _line(plot: pg.PlotItem, pos: float, angle: float, pen: Any) -> pg.InfiniteLine:
    """``plot.addItem(pg.InfiniteLine(pos=pos, angle=angle, pen=pen))``, reusing a pooled line."""
    pool = _pool(plot)
    item = pool.take(plot, pg.InfiniteLine)
    if item is None:
        item = pg.InfiniteLine(pos=pos, angle=angle, pen=pen)
        plot.addItem(item)
        pool.put(item, pg.InfiniteLine)
        return item
    item.setAngle(angle)
    item.setPos(pos)
    item.setPen(pen)
    return item


def _region(plot: pg.PlotItem, values: tuple[float, float], colour: str, alpha: int) -> pg.LinearRegionItem:
    """A fixed, pen-less shaded x range, reusing a pooled one of the same colour."""
    pool = _pool(plot)
    key = (pg.LinearRegionItem, colour, alpha)
    item = pool.take(plot, key)
    if item is None:
        item = pg.LinearRegionItem(values, movable=False, brush=_brush(colour, alpha), pen=pg.mkPen(None))
        plot.addItem(item)
        pool.put(item, key)
        return item
    item.setRegion(values)
    return item


def _fill_between(plot: pg.PlotItem, c1: pg.PlotDataItem, c2: pg.PlotDataItem, brush: QBrush) -> pg.FillBetweenItem:
    """``plot.addItem(pg.FillBetweenItem(c1, c2, brush=brush))``, reusing a pooled fill."""
    pool = _pool(plot)
    item = pool.take(plot, pg.FillBetweenItem)
    if item is None:
        item = pg.FillBetweenItem(c1, c2, brush=brush)
        plot.addItem(item)
        pool.put(item, pg.FillBetweenItem)
        return item
    item.setBrush(brush)
    item.setCurves(c1, c2)
    return item


def _reset(plot: pg.PlotItem, title: str, x_label: str, y_label: str, *, legend: bool = True,
           legend_cols: int = 3, grid: bool = True) -> pg.LegendItem | None:
    """Clear ``plot`` and style it: title, axis labels with units, grid, pens, legend below the axes.

    The legend sits in the plot item's layout under the x axis, so it never hides data; items
    added with ``name=...`` join it (``plot.legend`` points at it).
    """
    lg0 = getattr(plot, "_planner_legend", None)
    if lg0 is not None:
        lg0.begin()  # keep legend entries through clear() for reuse
    _pool(plot).begin(plot)  # items of the last drawing stay for reuse (clear() when some are not pooled)
    _labels(plot).clear()
    for name in ("left", "bottom"):
        ax = plot.getAxis(name)
        ax.setTicks(None)
        ax.enableAutoSIPrefix(False)
        ax.setPen(pg.mkPen("#555555"))
        ax.setTextPen(pg.mkPen(TEXT_COLOUR))
        ax.setStyle(tickFont=_font(8))
    plot.getAxis("left").setWidth(None)
    plot.setTitle(title, color=TEXT_COLOUR, size="10pt")
    plot.setLabel("bottom", x_label, color=TEXT_COLOUR)
    plot.setLabel("left", y_label, color=TEXT_COLOUR)
    plot.showAxis("left", True)
    plot.showGrid(x=grid, y=grid, alpha=0.25)
    plot.getViewBox().setMouseEnabled(x=True, y=True)
    plot.getViewBox().invertY(False)
    plot.enableAutoRange()
    lg = getattr(plot, "_planner_legend", None)
    if lg is None:
        lg = _BelowLegend(plot, legend_cols)
        plot.layout.addItem(lg, 4, 1)
        plot.layout.setRowStretchFactor(2, 100)  # the view box takes the spare height, not the legend row
        plot.layout.setRowStretchFactor(4, 0)
        plot._planner_legend = lg
    lg.begin()
    lg.max_cols = max(1, legend_cols)
    lg.setVisible(legend)
    plot.legend = lg if legend else None
    return lg if legend else None


def _fit_left_axis(plot: pg.PlotItem, labels: Sequence[str], max_chars: int = 42) -> list[str]:
    """Size the left axis to its tick labels (pyqtgraph drops labels that do not fit); long ones are elided."""
    from PySide6.QtGui import QFontMetrics

    out = [lab if len(lab) <= max_chars else lab[: max_chars - 1] + "\u2026" for lab in labels]
    fm = QFontMetrics(_font(8))
    widest = max((fm.horizontalAdvance(lab) for lab in out), default=20)
    plot.getAxis("left").setWidth(widest + 16)
    return out


class _LabelLayer(pg.GraphicsObject):
    """All text labels of a plot drawn by one item (a TextItem per label costs ~2 ms to create).

    Labels are placed in data coordinates and drawn unscaled in the view box's own frame, with
    TextItem's anchor convention ((0, 0) = top-left at the point, (0.5, 1) = bottom-centre).
    """

    def __init__(self, vb: pg.ViewBox):
        super().__init__()
        self.vb = vb
        self.labels: list[tuple[float, float, str, tuple[float, float], QColor, QFont]] = []
        self.setParentItem(vb)
        self.setZValue(1_000)
        vb.sigTransformChanged.connect(self._on_view_changed)
        vb.sigResized.connect(self._on_view_changed)

    def _on_view_changed(self, *_: Any) -> None:
        self.prepareGeometryChange()
        self.update()

    def clear(self) -> None:
        self.labels = []
        self.update()

    def add(self, text: str, x: float, y: float, anchor: tuple[float, float], colour: str, font: QFont) -> None:
        self.labels.append((float(x), float(y), str(text), anchor, QColor(colour), font))
        self.update()

    def texts(self) -> list[str]:
        """The label strings, in drawing order."""
        return [lab[2] for lab in self.labels]

    def boundingRect(self) -> Any:
        return self.vb.boundingRect()

    def paint(self, painter: Any, *_: Any) -> None:
        from PySide6.QtCore import QPointF, QRectF
        from PySide6.QtGui import QFontMetricsF

        if not self.labels:
            return
        painter.setRenderHint(painter.RenderHint.TextAntialiasing, True)
        for x, y, text, (ax, ay), colour, font in self.labels:
            if not (math.isfinite(x) and math.isfinite(y)):
                continue
            pt = self.vb.mapFromView(QPointF(x, y))
            fm = QFontMetricsF(font)
            lines = text.split("\n")
            w = max(fm.horizontalAdvance(line) for line in lines) + 4
            h = fm.height() * len(lines) + 2
            painter.setFont(font)
            painter.setPen(colour)
            painter.drawText(QRectF(pt.x() - ax * w, pt.y() - ay * h, w, h),
                             int(Qt.AlignmentFlag.AlignCenter), text)


def _labels(plot: pg.PlotItem) -> _LabelLayer:
    layer = getattr(plot, "_planner_labels", None)
    if layer is None:
        layer = _LabelLayer(plot.getViewBox())
        plot._planner_labels = layer
    return layer


def finish_legend(plot: pg.PlotItem) -> None:
    """Close a builder's drawing: drop the items and legend entries of the previous drawing it did not reuse."""
    _pool(plot).end(plot)
    lg = getattr(plot, "_planner_legend", None)
    if lg is not None:
        lg.finish()


def plot_texts(plot: pg.PlotItem) -> list[str]:
    """Every text label a builder drew on ``plot`` (for tests and checks)."""
    return _labels(plot).texts()


def _text(plot: pg.PlotItem, text: str, x: float, y: float, anchor: tuple[float, float] = (0, 0.5),
          colour: str = TEXT_COLOUR, size: float = 8.0, bold: bool = False) -> None:
    _labels(plot).add(text, x, y, anchor, colour, _font(size, bold))


def _message(plot: pg.PlotItem, title: str, message: str) -> Chart:
    """An empty chart that says why there is nothing to show."""
    _reset(plot, title, "", "", legend=False, grid=False)
    plot.getAxis("left").setTicks([[]])
    plot.getAxis("bottom").setTicks([[]])
    _text(plot, message, 0.5, 0.5, anchor=(0.5, 0.5), colour="#555555", size=9)
    plot.setXRange(0, 1, padding=0)
    plot.setYRange(0, 1, padding=0)
    return Chart(_no_hover, {"message": message})


def _hbars(plot: pg.PlotItem, y: np.ndarray, x0: np.ndarray | float, width: np.ndarray, brush: Any,
           pen: Any = None, height: float = 0.62, name: str | None = None) -> pg.BarGraphItem:
    return _bar_item(plot, x0=x0, y=y, width=width, height=height, brush=brush,
                     pen=pen if pen is not None else pg.mkPen("#444444", width=0.6), name=name)


# ===============================================================================================
# Readiness
# ===============================================================================================
def readiness_bars(plot: pg.PlotItem, result: ReadinessResult | None) -> Chart:
    """Per-criterion sub-scores (0-100) of one site: expected score as a bar, the band of its unknowns as a
    thin hatched bar (worst - best), criteria with no data hatched over their whole band, gates red."""
    title = "Readiness by criterion"
    if result is None:
        return _message(plot, title, "Select a site to see its readiness")
    crit = list(result.criteria)
    n = len(crit)
    _reset(plot, f"{result.site_id}: {result.band_text}/100 \u00b7 {result.class_label} \u00b7 "
           f"data {result.completeness_pct:.0f} % of weight",
           "Sub-score (0-100 points)", "", legend=True, legend_cols=4)
    ys = np.arange(n, dtype=float)[::-1]  # first criterion at the top
    scores = np.array([c.score for c in crit], dtype=float)
    lows = np.array([c.low for c in crit], dtype=float)
    highs = np.array([c.high for c in crit], dtype=float)
    missing = np.array([c.missing for c in crit])
    gated = np.array([c.gate_failed for c in crit])
    ok = ~missing & ~gated
    if ok.any():
        _hbars(plot, ys[ok], 0.0, scores[ok], _brush(SCORE_COLOUR, 220), name="sub-score")
    if (gated & ~missing).any():
        sel = gated & ~missing
        _hbars(plot, ys[sel], 0.0, np.maximum(scores[sel], 1.5), _brush(GATE_COLOUR, 235),
               name="hard gate failed")
    if missing.any():
        _hbars(plot, ys[missing], lows[missing], highs[missing] - lows[missing],
               _brush(NO_DATA_COLOUR, 255, Qt.BrushStyle.BDiagPattern), pen=pg.mkPen(NO_DATA_COLOUR, width=0.8),
               name="no data")
    band = ~missing & (highs > lows)
    if band.any():
        _hbars(plot, ys[band], lows[band], highs[band] - lows[band],
               _brush(NO_DATA_COLOUR, 255, Qt.BrushStyle.BDiagPattern), pen=pg.mkPen(NO_DATA_COLOUR, width=0.6),
               height=0.25, name="band of unknowns")
    for c, y, s in zip(crit, ys, scores):
        if c.missing:
            _text(plot, "no data", 50.0, y, anchor=(0.5, 0.5), colour="#555555", size=7.5)
        else:
            label = f"{s:.0f}" + ("  gate failed" if c.gate_failed else "")
            _text(plot, label, max(s, c.high) + 1.0, y, anchor=(0, 0.5), size=7.5,
                  colour=GATE_COLOUR if c.gate_failed else TEXT_COLOUR)
    labels = _fit_left_axis(plot, [c.label for c in crit])
    plot.getAxis("left").setTicks([[(float(y), lab) for lab, y in zip(labels, ys)]])
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
        score = f"{c.score:.0f}/100" if c.low == c.high else f"{c.score:.0f}/100 (band {c.low:.0f}-{c.high:.0f})"
        if c.missing:
            score = "no data, " + score
        gate = " \u2014 HARD GATE FAILED" if c.gate_failed else ""
        return (f"{c.label}: {score}{gate} \u00b7 weight {c.weight:g} ({100 * c.weight / total_w:.0f} % of total)"
                f"\n{c.reason}")

    return Chart(hover, {"keys": [c.key for c in crit], "scores": scores, "missing": missing, "gated": gated,
                         "weights": np.array([c.weight for c in crit]), "lows": lows, "highs": highs})


@dataclass(frozen=True)
class RankingData:
    """Readiness results of a portfolio and the selected site (highlighted)."""

    results: Mapping[str, ReadinessResult]
    selected: str | None = None


def readiness_ranking(plot: pg.PlotItem, data: RankingData) -> Chart:
    """Portfolio ranking: expected readiness total per site, best first, coloured by class as on the map,
    with the band (unknowns at worst - best) as a thin hatched bar."""
    title = "Portfolio ranking (readiness total and band)"
    ranked = rank_results(data.results.values())
    if not ranked:
        return _message(plot, title, "No scored sites in the portfolio")
    n = len(ranked)
    _reset(plot, title, "Readiness total (0-100 points)", "", legend=True, legend_cols=2)
    plot.getViewBox().invertY(True)  # best at the top
    ys = np.arange(n, dtype=float)
    totals = np.array([r.total for r in ranked], dtype=float)
    lows = np.array([r.total_low for r in ranked], dtype=float)
    highs = np.array([r.total_high for r in ranked], dtype=float)
    klass = [r.klass for r in ranked]
    for key in READINESS_CLASSES:
        sel = np.array([k == key for k in klass])
        if sel.any():
            _hbars(plot, ys[sel], 0.0, totals[sel], _brush(READINESS_COLOURS[key], 230), height=0.7,
                   name=READINESS_LABELS.get(key, key))
    band = highs > lows
    if band.any():
        _hbars(plot, ys[band], lows[band], highs[band] - lows[band],
               _brush(NO_DATA_COLOUR, 255, Qt.BrushStyle.BDiagPattern), pen=pg.mkPen(NO_DATA_COLOUR, width=0.6),
               height=0.22, name="band (unknowns at worst - best)")
    if data.selected and data.selected in data.results:
        i = [r.site_id for r in ranked].index(data.selected)
        _hbars(plot, ys[i:i + 1], 0.0, np.array([totals[i]]), None, pen=pg.mkPen("#000000", width=2.2), height=0.86)
    for y, t, hi in zip(ys, totals, highs):
        _text(plot, f"{t:.0f}", max(t, hi) + 0.8, y, size=7)
    labels = _fit_left_axis(plot, [r.site_id for r in ranked])
    plot.getAxis("left").setTicks([[(float(y), lab) for y, lab in zip(ys, labels)]])
    plot.setXRange(-1.5, 110, padding=0)
    plot.setYRange(-0.6, n - 0.4, padding=0)
    plot.showGrid(x=True, y=False, alpha=0.2)

    def hover(x: float, y: float) -> str | None:
        i = int(round(y))
        if not 0 <= i < n:
            return None
        r = ranked[i]
        gates = f" \u00b7 gate: {r.gates_failed[0]}" if r.gates_failed else ""
        return (f"#{i + 1} {r.site_id}: {r.band_text}/100 \u00b7 {r.class_label} \u00b7 data for "
                f"{r.completeness_pct:.0f} % of weight{gates}")

    return Chart(hover, {"site_ids": [r.site_id for r in ranked], "totals": totals, "classes": klass,
                         "lows": lows, "highs": highs})


# ===============================================================================================
# Mining economics
# ===============================================================================================
@dataclass(frozen=True)
class FleetEconomics:
    """One ASIC model at today's hashprice and the site's power price."""

    model: str
    j_per_th: float
    breakeven_hashprice_usd_per_ph_day: float
    breakeven_power_usd_per_mwh: float
    revenue_usd_per_mw_day: float


@dataclass(frozen=True, eq=False)
class MiningData:
    """Everything the mining charts draw for one site (arrays monthly from the market data date)."""

    site_id: str
    start: _dt.datetime
    months: np.ndarray
    years: np.ndarray
    hashprice_usd_per_ph_day: np.ndarray
    halving_months: tuple[float, ...]
    power_price_usd_per_mwh: float
    power_price_basis: str
    fleets: tuple[FleetEconomics, ...]
    site_model: str
    gross_mw: float | None
    fleet_th_s: float | None
    capex_usd: float | None
    capex_usd_per_th: float
    payback: PaybackResult
    cumulative_net_usd: np.ndarray
    per_th: bool
    caption: str
    uptime: float

    @property
    def payback_months(self) -> float | None:
        """Months until the site fleet's capex is recovered (None = never within the horizon)."""
        return self.payback.months


def mining_data(site: Site, assumptions: Assumptions) -> MiningData:
    """Hashprice path, per-fleet breakevens and the site fleet's dynamic payback (DOMAIN section 3)."""
    a = assumptions
    ms = mining_state(a)
    n = int(a.horizon_years) * 12
    months = np.arange(n, dtype=float)
    hp = ms.usd_per_ph_day * hashprice_factors(n, a.btc_price_growth_per_year, a.difficulty_growth_per_year,
                                               a.fee_share, ms.halving_months)
    years = _year_fraction(ms.start) + months / 12.0
    if site.power_price_usd_per_mwh is not None:
        price, basis = float(site.power_price_usd_per_mwh), "site"
    else:
        price, basis = float(a.power_price_usd_per_mwh), "portfolio default"
    fleets = []
    for model, spec in a.catalogue.items():
        j = spec.j_per_th
        fleets.append(FleetEconomics(
            model, j, price * 0.024 * j * a.pue_mining / (1.0 - a.pool_fee),
            breakeven_usd_per_mwh(ms.usd_per_th_day, j, a.pue_mining, a.pool_fee),
            revenue_usd_per_mw_day(ms.usd_per_th_day, j, a.pue_mining, a.uptime, a.pool_fee)))
    model = site.asic_model if site.asic_model in a.catalogue else a.asic_model
    j = a.catalogue[model].j_per_th
    gross = site_gross_mw(site)
    if gross is not None and gross > 0:
        fleet_th = th_s_per_mw(j) * gross / a.pue_mining
        built = site.energized_mw if site.energized_mw is not None else (
            gross if site.status == "operating" else 0.0)
        infra = a.mining_capex_usd_per_mw * max(gross - float(built), 0.0)
        capex = fleet_th * a.asic_price_usd_per_th + infra
        capex_per_th = capex / fleet_th
        per_th = False
    else:
        fleet_th, capex, capex_per_th, per_th = None, None, float(a.asic_price_usd_per_th), True
    pb = payback_dynamic(capex_per_th, ms.usd_per_th_day, j, price, pool_fee=a.pool_fee, uptime=a.uptime,
                         price_growth_per_year=a.btc_price_growth_per_year,
                         difficulty_growth_per_year=a.difficulty_growth_per_year, fee_share=a.fee_share,
                         halving_months=ms.halving_months, max_months=n)
    cum = pb.cumulative_usd_per_th - capex_per_th
    cum_net = cum if per_th else cum * float(fleet_th)  # type: ignore[arg-type]
    caption = (f"Scenario {a.scenario} \u00b7 market data {str(a.market_data_date)[:10]}: BTC "
               f"${a.btc_price_usd:,.0f} (growth {_pct(a.btc_price_growth_per_year)}/yr), difficulty "
               f"{a.difficulty / 1e12:,.0f} T (growth {_pct(a.difficulty_growth_per_year)}/yr), fees "
               f"{_pct(a.fee_share, 1)} of reward \u00b7 hashprice today ${ms.usd_per_ph_day:,.1f}/PH/day \u00b7 "
               f"power {price:,.1f} $/MWh ({basis}) \u00b7 PUE {a.pue_mining:g}, uptime {_pct(a.uptime)}, pool fee "
               f"{_pct(a.pool_fee, 1)} \u00b7 site fleet {model} ({j:.1f} J/TH) at ${a.asic_price_usd_per_th:,.2f}/TH"
               + ("" if per_th else f", plus mining infrastructure for MW not yet energized "
                                    f"(${a.mining_capex_usd_per_mw / 1e6:,.2f}M/MW)")
               + f" \u00b7 horizon {a.horizon_years} yr")
    return MiningData(str(site.site_id), ms.start, months, years, hp, tuple(m for m in ms.halving_months if m < n),
                      price, basis, tuple(fleets), model, gross, fleet_th, capex, capex_per_th, pb, cum_net, per_th,
                      caption, float(a.uptime))


def hashprice_chart(plot: pg.PlotItem, data: MiningData) -> Chart:
    """Monthly hashprice path (with the halving step) against each fleet's breakeven hashprice."""
    _reset(plot, f"Hashprice vs fleet breakeven at {data.power_price_usd_per_mwh:,.0f} $/MWh",
           "Year", "Hashprice ($/PH/day)", legend_cols=3)
    _plot(plot, data.years, data.hashprice_usd_per_ph_day, pen=_pen("#111111", 2.4), name="Hashprice path")
    for i, f in enumerate(data.fleets):
        width = 2.4 if f.model == data.site_model else 1.3
        style = Qt.PenStyle.SolidLine if f.model == data.site_model else Qt.PenStyle.DashLine
        mark = " (site fleet)" if f.model == data.site_model else ""
        _plot(plot, [data.years[0], data.years[-1]], [f.breakeven_hashprice_usd_per_ph_day] * 2,
                   pen=_pen(SERIES_COLOURS[i % len(SERIES_COLOURS)], width, style),
                   name=f"{_short_model(f.model)} breakeven{mark}")
    top = float(max(np.max(data.hashprice_usd_per_ph_day),
                    max(f.breakeven_hashprice_usd_per_ph_day for f in data.fleets)))
    x_end = float(data.years[-1])
    for k, hm in enumerate(data.halving_months):
        x = _year_fraction(data.start) + hm / 12.0
        _line(plot, x, 90, _pen("#888888", 1.2, Qt.PenStyle.DotLine))
        near_end = x > x_end - 0.2 * (x_end - float(data.years[0]))
        _text(plot, f"halving ~{_month_name(data.start, hm)}", x, top * (1.1 if k % 2 == 0 else 1.03),
              anchor=(1.03, 0) if near_end else (-0.03, 0), colour="#555555", size=7.5)
    plot.setYRange(0, top * 1.14, padding=0)
    plot.setXRange(float(data.years[0]), float(data.years[-1]), padding=0.01)

    def hover(x: float, _y: float) -> str | None:
        if x < data.years[0] - 0.1 or x > data.years[-1] + 0.1:
            return None
        i = int(np.clip(round((x - data.years[0]) * 12.0), 0, len(data.years) - 1))
        hp = data.hashprice_usd_per_ph_day[i]
        above = [f.model for f in data.fleets if hp > f.breakeven_hashprice_usd_per_ph_day]
        return (f"{_month_name(data.start, data.months[i])}: hashprice ${hp:,.2f}/PH/day \u00b7 profitable "
                f"at {data.power_price_usd_per_mwh:,.0f} $/MWh: {', '.join(above) if above else 'no fleet'}")

    return Chart(hover, {"x": data.years, "hashprice": data.hashprice_usd_per_ph_day,
                         "breakeven": np.array([f.breakeven_hashprice_usd_per_ph_day for f in data.fleets])})


def mining_revenue_chart(plot: pg.PlotItem, data: MiningData) -> Chart:
    """Revenue per MW-day of each fleet (flat) against the power cost per MW-day (rising with $/MWh)."""
    top_price = max(150.0, data.power_price_usd_per_mwh * 1.5,
                    max(f.breakeven_power_usd_per_mwh for f in data.fleets) * 1.15)
    prices = np.linspace(0.0, top_price, 61)
    cost = 24.0 * data.uptime * prices  # $ per MW of site power per day at that price while running
    _reset(plot, "Revenue per MW-day vs power price", "Power price ($/MWh)", "Revenue or power cost ($/MW-day)",
           legend_cols=3)
    for i, f in enumerate(data.fleets):
        width = 2.4 if f.model == data.site_model else 1.3
        _plot(plot, [0.0, top_price], [f.revenue_usd_per_mw_day] * 2,
                   pen=_pen(SERIES_COLOURS[i % len(SERIES_COLOURS)], width),
                   name=f"{_short_model(f.model)} (breakeven {f.breakeven_power_usd_per_mwh:,.0f} $/MWh)")
    _plot(plot, prices, cost, pen=_pen("#111111", 2.2, Qt.PenStyle.DashLine), name="Power cost per MW-day")
    _line(plot, data.power_price_usd_per_mwh, 90, _pen(LIMIT_COLOUR, 1.4, Qt.PenStyle.DotLine))
    ymax = float(max(cost[-1], max(f.revenue_usd_per_mw_day for f in data.fleets))) * 1.08
    _text(plot, f"site {data.power_price_usd_per_mwh:,.0f} $/MWh ({data.power_price_basis})",
          data.power_price_usd_per_mwh, ymax * 0.98, anchor=(-0.03, 0), colour=LIMIT_COLOUR, size=7.5)
    plot.setXRange(0, top_price, padding=0.01)
    plot.setYRange(0, ymax, padding=0)

    def hover(x: float, _y: float) -> str | None:
        if x < 0 or x > top_price:
            return None
        c = 24.0 * data.uptime * x
        best = max(data.fleets, key=lambda f: f.revenue_usd_per_mw_day)
        return (f"At {x:,.0f} $/MWh: power cost ${c:,.0f}/MW-day; best fleet {best.model} earns "
                f"${best.revenue_usd_per_mw_day:,.0f}/MW-day (margin ${best.revenue_usd_per_mw_day - c:,.0f})")

    return Chart(hover, {"prices": prices, "cost": cost,
                         "revenue": np.array([f.revenue_usd_per_mw_day for f in data.fleets])})


def payback_chart(plot: pg.PlotItem, data: MiningData) -> Chart:
    """Cumulative net cash of the site's fleet over months (dynamic payback; may never pay back)."""
    unit, scale = ("$ per TH/s", 1.0) if data.per_th else ("$M", 1e-6)
    size = 1.0 if data.per_th else float(data.fleet_th_s)  # type: ignore[arg-type]
    capex = data.capex_usd_per_th * size * scale
    x = np.arange(0, len(data.cumulative_net_usd) + 1, dtype=float)
    y = np.concatenate([[-capex], data.cumulative_net_usd * scale])
    who = f"{_short_model(data.site_model)} fleet" + ("" if data.per_th else f", {data.gross_mw:,.0f} MW")
    _reset(plot, f"Dynamic payback: {who}", f"Months from {data.start:%b %Y}", f"Cumulative net cash ({unit})",
           legend_cols=3)
    ymin, ymax = float(min(y.min(), 0.0)), float(max(y.max(), 0.0))
    span = (ymax - ymin) or 1.0
    # shade the months the fleet is switched off (negative margin)
    off = ~data.payback.running
    edges = np.flatnonzero(np.diff(np.concatenate([[0], off.astype(int), [0]])))
    for k, (a0, a1) in enumerate(zip(edges[::2], edges[1::2])):
        _region(plot, (float(a0), float(a1)), "#9e9e9e", 55)
        if k == 0:
            _text(plot, "fleet switched off\n(negative margin)", float(a0) + 1, ymax + 0.02 * span,
                  anchor=(0, 0), colour="#555555", size=7.5)
    _plot(plot, x, y, pen=_pen(PATH_COLOURS["mining"], 2.4), name="Cumulative net cash after capex")
    _plot(plot, [0.0], [-capex], pen=None, symbol="o", symbolSize=7, symbolBrush=PATH_COLOURS["mining"],
               name=f"Capex {('$' + format(capex, ',.2f') + '/TH') if data.per_th else fmt_usd_m(capex / scale)}")
    _line(plot, 0.0, 0, _pen("#666666", 1.0))
    n = len(data.cumulative_net_usd)
    if data.payback_months is not None:
        _line(plot, data.payback_months, 90, _pen("#1a9850", 1.4, Qt.PenStyle.DashLine))
        _text(plot, f"pays back in {data.payback_months:,.1f} months", data.payback_months, ymin + 0.1 * span,
              anchor=(-0.03, 0.5), colour="#1a7a40", size=8.5, bold=True)
        verdict = f"pays back in {data.payback_months:.1f} months"
    else:
        _text(plot, f"never pays back within {n} months", float(n) / 2, ymin + 0.3 * span,
              anchor=(0.5, 0.5), colour=GATE_COLOUR, size=10, bold=True)
        verdict = "never pays back"
    plot.setXRange(0, n, padding=0.01)
    plot.setYRange(ymin - 0.05 * span, ymax + 0.16 * span, padding=0)

    def hover(xv: float, _y: float) -> str | None:
        i = int(round(xv))
        if not 0 <= i <= n:
            return None
        if i == 0:
            return f"Month 0: capex {fmt_usd_m(-y[0] / scale) if not data.per_th else f'${-y[0]:,.2f}/TH'}"
        state = "running" if data.payback.running[i - 1] else "switched off (negative margin)"
        val = f"{y[i]:,.2f} {unit}" if data.per_th else fmt_usd_m(data.cumulative_net_usd[i - 1])
        return f"Month {i} ({_month_name(data.start, i)}): cumulative net {val}, fleet {state}"

    return Chart(hover, {"months": x, "cumulative": y, "verdict": verdict})


# ===============================================================================================
# Paths: mining vs AI lease vs hybrid
# ===============================================================================================
def paths_caption(comp: PathComparison, a: Assumptions) -> str:
    """One-line statement of the scenario and key assumptions behind a path comparison."""
    if comp.unavailable_reason:
        return comp.unavailable_reason
    price = comp.power_price_usd_per_mwh or 0.0
    notes = f" \u00b7 notes: {'; '.join(comp.notes)}" if comp.notes else ""
    return (f"Scenario {a.scenario} \u00b7 {comp.gross_mw:,.0f} MW gross, {comp.it_mw:,.0f} MW critical IT \u00b7 "
            f"power {price:,.1f} $/MWh ({a.power_contract} contract) \u00b7 fleet {comp.asic_model} \u00b7 BTC "
            f"${a.btc_price_usd:,.0f} \u00b7 lease ${a.lease_rate_usd_per_kw_month:,.0f}/kW-month at "
            f"{_pct(a.noi_margin)} NOI \u00b7 conversion ${a.conversion_capex_usd_per_mw_it / 1e6:,.1f}M/MW IT, "
            f"{a.build_months} months build \u00b7 discount {_pct(a.discount_rate, 1)}, {comp.years} yr{notes}")


def paths_cash_chart(plot: pg.PlotItem, comp: PathComparison) -> Chart:
    """Annual operating cash flow ($M/yr) of each available path (year-0 capex in the legend)."""
    title = "Annual cash flow by path"
    if comp.unavailable_reason or not comp.paths:
        return _message(plot, title, comp.unavailable_reason or "No path available for this site")
    _reset(plot, title, "Year", "Operating cash flow ($M/yr)", legend_cols=2)
    years = np.arange(1, comp.years + 1, dtype=float)
    values: dict[str, Any] = {"years": years}
    for name, p in comp.paths.items():
        # the terminal value (exit value booked in year H) would flatten every other year: legend only
        ex_tv = getattr(p, "cash_flows_ex_terminal_usd", p.cash_flows_usd)
        cf = np.asarray(ex_tv, dtype=float)[1:] / 1e6
        values[name] = cf
        tv = float(getattr(p, "terminal_value_usd", 0.0) or 0.0)
        tv_txt = f"; exit value {fmt_usd_m(tv)} yr {comp.years}" if tv else ""
        _plot(plot, years, cf, pen=_pen(PATH_COLOURS[name], 2.2), symbol="o", symbolSize=5,
                   symbolBrush=PATH_COLOURS[name], symbolPen=None,
                   name=f"{PATH_SHORT[name]} (capex {fmt_usd_m(p.capex_usd)}{tv_txt})")
    _line(plot, 0.0, 0, _pen("#666666", 1.0))
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
    """NPV of each path as bars with the values written on them (best path outlined)."""
    title = "NPV by path"
    if comp.unavailable_reason:
        return _message(plot, title, comp.unavailable_reason)
    _reset(plot, f"NPV by path ({comp.years} yr)", "", "NPV ($M)", legend=False)
    names = [n for n in ("mining", "ai_lease", "hybrid") if getattr(comp, n) is not None]
    xs = np.arange(len(names), dtype=float)
    npvs = np.array([getattr(comp, n).npv_usd / 1e6 for n in names])
    best = comp.best_path
    span = float(max(np.abs(npvs).max(), 1.0))
    for x, n, v in zip(xs, names, npvs):
        p = getattr(comp, n)
        if p.unavailable_reason:
            _bar_item(plot, x=[x], height=[span * 0.05], width=0.6,
                      brush=_brush(NO_DATA_COLOUR, 255, Qt.BrushStyle.BDiagPattern), pen=pg.mkPen(NO_DATA_COLOUR))
            _text(plot, "n/a", x, span * 0.06, anchor=(0.5, 1), colour="#555555")
            continue
        pen = pg.mkPen("#000000", width=2.4) if n == best else pg.mkPen("#444444", width=0.6)
        _bar_item(plot, x=[x], y0=[0.0], height=[v], width=0.6, brush=_brush(PATH_COLOURS[n], 230), pen=pen)
        label = fmt_usd_m(v * 1e6) + ("  best" if n == best else "")
        _text(plot, label, x, v, anchor=(0.5, 1.05) if v >= 0 else (0.5, -0.05), size=8.5, bold=n == best)
    _line(plot, 0.0, 0, _pen("#666666", 1.0))
    plot.getAxis("bottom").setTicks([[(float(x), PATH_SHORT[n]) for x, n in zip(xs, names)]])
    lo, hi = min(0.0, float(npvs.min())), max(0.0, float(npvs.max()))
    pad = (hi - lo or 1.0) * 0.15
    plot.setYRange(lo - pad, hi + pad, padding=0)
    plot.setXRange(-0.6, len(names) - 0.4, padding=0)
    plot.showGrid(x=False, y=True, alpha=0.25)

    def hover(x: float, _y: float) -> str | None:
        i = int(round(x))
        if not 0 <= i < len(names):
            return None
        p = getattr(comp, names[i])
        if p.unavailable_reason:
            return f"{p.label}: not available ({p.unavailable_reason})"
        irr = "n/a" if p.irr is None else _pct(p.irr, 1)
        pb = "never" if p.payback_years is None else f"{p.payback_years:.1f} yr"
        elec = "n/a" if p.usd_per_mwh is None else f"${p.usd_per_mwh:,.0f}/MWh"
        return (f"{p.label}: NPV {fmt_usd_m(p.npv_usd)} ({fmt_usd_m(p.npv_usd_per_mw)}/MW), IRR {irr}, payback {pb},"
                f" capex {fmt_usd_m(p.capex_usd)}, value of an electron {elec}")

    return Chart(hover, {"paths": names, "npv_musd": npvs})


@dataclass(frozen=True)
class TornadoData:
    """One path's one-at-a-time NPV sensitivities around its base NPV."""

    path: str
    bars: Sequence[TornadoBar]
    base_npv_usd: float
    swing: float = 0.2
    max_bars: int = 10


def tornado_chart(plot: pg.PlotItem, data: TornadoData) -> Chart:
    """Tornado of NPV sensitivity: each assumption at -swing and +swing, widest bar on top."""
    title = f"NPV sensitivity, {PATH_SHORT.get(data.path, data.path)} (each input \u00b1{data.swing * 100:.0f} %)"
    bars = list(data.bars)[: data.max_bars]
    if not bars:
        return _message(plot, title, "No sensitivity data for this path")
    n = len(bars)
    _reset(plot, title, "NPV ($M)", "", legend_cols=2)
    plot.getViewBox().invertY(True)
    base = data.base_npv_usd / 1e6
    ys = np.arange(n, dtype=float)
    low = np.array([b.npv_low for b in bars]) / 1e6
    high = np.array([b.npv_high for b in bars]) / 1e6
    _hbars(plot, ys, base, low - base, _brush("#e66101", 220), name=f"input -{data.swing * 100:.0f} %",
           height=0.64)
    _hbars(plot, ys, base, high - base, _brush("#5e3c99", 220), name=f"input +{data.swing * 100:.0f} %",
           height=0.64)
    _line(plot, base, 90, _pen("#111111", 1.4))
    labels = _fit_left_axis(plot, [b.label for b in bars], max_chars=30)
    plot.getAxis("left").setTicks([[(float(y), lab) for y, lab in zip(ys, labels)]])
    lo = float(min(low.min(), high.min(), base))
    hi = float(max(low.max(), high.max(), base))
    pad = (hi - lo or 1.0) * 0.08
    plot.setXRange(lo - pad, hi + pad, padding=0)
    plot.setYRange(-1.3, n - 0.4, padding=0)
    _text(plot, f"base NPV {fmt_usd_m(data.base_npv_usd)}", base, -0.7, anchor=(0.5, 0.5), size=7.5, bold=True)

    def hover(x: float, y: float) -> str | None:
        i = int(round(y))
        if not 0 <= i < n:
            return None
        b = bars[i]
        unit = ASSUMPTIONS[b.key].unit if b.key in ASSUMPTIONS else ""
        return (f"{b.label}: {b.value_low:,.4g} \u2192 NPV {fmt_usd_m(b.npv_low)}; {b.value_high:,.4g} \u2192 NPV "
                f"{fmt_usd_m(b.npv_high)} {('(' + unit + ')') if unit else ''} \u00b7 swing {fmt_usd_m(b.swing_usd)}")

    return Chart(hover, {"keys": [b.key for b in bars], "low_musd": low, "high_musd": high, "base_musd": base})


def bridge_chart(plot: pg.PlotItem, comp: PathComparison) -> Chart:
    """Bridge path: NPV when mining first and converting to AI in year N, with the best N marked."""
    title = "Bridge path: mine, then convert in year N"
    if comp.unavailable_reason or comp.bridge_npv_usd.size == 0:
        return _message(plot, title, comp.unavailable_reason or "No bridge-path data")
    npv = comp.bridge_npv_usd / 1e6
    ns = np.arange(npv.size, dtype=float)
    _reset(plot, title, "Conversion year N (0 = convert now, last = never)", "NPV ($M)", legend_cols=2)
    _plot(plot, ns, npv, pen=_pen(PATH_COLOURS["hybrid"], 2.2), symbol="o", symbolSize=6,
               symbolBrush=PATH_COLOURS["hybrid"], symbolPen=None, name="NPV if converted in year N")
    best = comp.best_bridge_year
    if best is not None:
        _plot(plot, [float(best)], [npv[best]], pen=None, symbol="star", symbolSize=18, symbolBrush="#1a9850",
                   symbolPen=pg.mkPen("#0b5d2a"), name=f"best N = {best}")
        lo, hi = float(npv.min()), float(npv.max())
        anchor = (1.05, 0.5) if best > npv.size / 2 else (-0.08, 0.5)
        _text(plot, f"best: year {best} ({fmt_usd_m(comp.bridge_npv_usd[best])})", float(best),
              npv[best] - 0.0 * (hi - lo), anchor=anchor, colour="#0b5d2a", size=8.5, bold=True)
    plot.setXRange(-0.5, npv.size - 0.5, padding=0)

    def hover(x: float, _y: float) -> str | None:
        i = int(round(x))
        if not 0 <= i < npv.size:
            return None
        what = "convert now (= AI lease path)" if i == 0 else (
            "never convert (= mining path)" if i == npv.size - 1 else f"mine {i} yr, then convert")
        return f"N = {i}: {what}, NPV {fmt_usd_m(comp.bridge_npv_usd[i])}"

    return Chart(hover, {"years": ns, "npv_musd": npv, "best": best})


# ===============================================================================================
# Hybrid site
# ===============================================================================================
WEEKS_PER_YEAR = 52


@dataclass(frozen=True, eq=False)
class HybridWeek:
    """One week (1-52) of a simulated hybrid year."""

    result: HybridResult
    week: int = 1
    site_id: str = ""

    @property
    def hours(self) -> slice:
        """Slice of the 8,760 hours in this week."""
        w = min(max(int(self.week), 1), WEEKS_PER_YEAR)
        return slice((w - 1) * 168, w * 168)

    @property
    def start_date(self) -> _dt.date:
        """Calendar date of the week's first hour in the representative year."""
        return _dt.date(REPRESENTATIVE_YEAR, 1, 1) + _dt.timedelta(days=(min(max(self.week, 1), 52) - 1) * 7)


def hybrid_week_chart(plot: pg.PlotItem, data: HybridWeek) -> Chart:
    """AI, mining and total load (MW) over one week against the interconnection limit."""
    r, p = data.result, data.result.params
    sl = data.hours
    ai = np.asarray(r.ai_mw[sl])
    mining = np.asarray(r.mining_mw[sl])
    total = ai + mining
    days = np.arange(ai.size, dtype=float) / 24.0
    _reset(plot, f"Week {data.week} load (from {data.start_date:%a %d %b}, representative year)",
           "Day of the week", "Load (MW)", legend_cols=3)
    ai_curve = _plot(plot, days, ai, pen=_pen(PATH_COLOURS["ai_lease"], 1.8), name="AI facility",
                          fillLevel=0.0, fillBrush=_brush(PATH_COLOURS["ai_lease"], 60))
    tot_curve = _plot(plot, days, total, pen=_pen("#111111", 1.6), name="Total site load")
    _fill_between(plot, ai_curve, tot_curve, _brush(PATH_COLOURS["mining"], 110))
    _plot(plot, days, mining, pen=_pen(PATH_COLOURS["mining"], 1.4), name="Mining (stacked on AI when shaded)")
    _plot(plot, [0, 7], [p.interconnect_mw] * 2, pen=_pen(LIMIT_COLOUR, 2.0, Qt.PenStyle.DashLine),
               name=f"Interconnection limit {p.interconnect_mw:,.0f} MW")
    if p.reserve_mw > 0:
        _plot(plot, [0, 7], [p.interconnect_mw - p.reserve_mw] * 2, pen=_pen(LIMIT_COLOUR, 1.0, Qt.PenStyle.DotLine),
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
    _reset(plot, "Load-duration curve (one year)", "Hours of the year at or above the load (h)", "Load (MW)",
           legend_cols=4)
    hours = np.arange(1, HOURS_PER_YEAR + 1, dtype=float)
    curves = {k: result.load_duration_curve(k) for k in ("total", "ai", "mining")}
    style = {"total": ("#111111", 2.2, "Total site load"), "ai": (PATH_COLOURS["ai_lease"], 1.8, "AI facility"),
             "mining": (PATH_COLOURS["mining"], 1.8, "Mining")}
    for k, c in curves.items():
        colour, width, label = style[k]
        _plot(plot, hours, c, pen=_pen(colour, width), name=label)
    _plot(plot, [0, HOURS_PER_YEAR], [p.interconnect_mw] * 2, pen=_pen(LIMIT_COLOUR, 2.0, Qt.PenStyle.DashLine),
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


def hybrid_figures(result: HybridResult) -> list[tuple[str, str]]:
    """Key figures of a hybrid year as (label, formatted value) rows."""
    s = result.steadiness
    rev = result.revenue_by_stream_usd
    p = result.params
    return [
        ("Interconnect / AI IT / mining fleet", f"{p.interconnect_mw:,.0f} / {p.it_mw:,.0f} / "
                                                f"{p.mining_capacity_mw:,.0f} MW"),
        ("Mining capacity factor", _pct(result.mining_capacity_factor, 1)),
        ("Whole-site load factor", _pct(result.site_load_factor, 1)),
        ("Load variability (std/mean), AI alone", f"{s['cv_ai']:.3f}"),
        ("Load variability (std/mean), AI + mining", f"{s['cv_total']:.3f} ({s['cv_reduction_pct']:+.0f} % steadier)"
         if s["cv_reduction_pct"] >= 0 else f"{s['cv_total']:.3f} ({-s['cv_reduction_pct']:.0f} % less steady)"),
        ("p5-p95 band, AI alone / AI + mining", f"{s['band_ai_mw']:,.1f} / {s['band_total_mw']:,.1f} MW"),
        ("Lease NOI per year", fmt_usd_m(rev["lease_noi"])),
        ("Mining net per year (revenue + resale - power)", fmt_usd_m(rev["mining_net"])),
    ]


def hybrid_caption(result: HybridResult, a: Assumptions) -> str:
    """The hybrid model's inputs in one line."""
    p = result.params
    return (f"Scenario {a.scenario} \u00b7 hourly model, representative year {REPRESENTATIVE_YEAR}, seed "
            f"{a.price_series_seed} (synthetic ERCOT-West-like prices, mean {p.power_price_usd_per_mwh:,.1f} $/MWh) \u00b7 "
            f"AI: {p.it_mw:,.0f} MW IT x PUE {p.pue_ai:g}, inference share {_pct(p.inference_share)}, idle "
            f"{_pct(p.idle_fraction)} \u00b7 miners ({_pct(a.hybrid_mining_share)} of gross) run when price < "
            f"breakeven {p.breakeven_usd_per_mwh:,.0f} $/MWh and off in demand-response"
            + (" and ERCOT 4CP alert" if p.fourcp else "") + f" hours \u00b7 reserve {p.reserve_mw:,.0f} MW")


# ===============================================================================================
# Market context
# ===============================================================================================
def market_caption() -> str:
    """Sources of the market charts."""
    return ("Sources: US data-center demand ~21 GW in 2024 (+31 %), ~45 GW by 2030 (DOE, CBRE; years between "
            f"interpolated at {demand_cagr() * 100:.1f} %/yr, hollow markers) \u00b7 lease deals = contract value / "
            "term / MW from public announcements \u00b7 colocation asking rate CBRE H2 2024 \u00b7 rack density "
            "2020 average and GB200 NVL72 class (NVIDIA) \u00b7 interconnection waits DOE/CBRE \u00b7 all as summarised "
            "in docs/DOMAIN.md sections 1 and 4")


def demand_chart(plot: pg.PlotItem, _data: Any = None) -> Chart:
    """US data-center power demand 2023-2030 (GW): sourced points filled, interpolated points hollow."""
    _reset(plot, "US data-center power demand", "Year", "Demand (GW)", legend_cols=2)
    years = np.array([p.year for p in US_DC_DEMAND], dtype=float)
    gw = np.array([p.demand_gw for p in US_DC_DEMAND])
    derived = np.array([p.derived for p in US_DC_DEMAND])
    _plot(plot, years, gw, pen=_pen(PATH_COLOURS["ai_lease"], 2.2))
    _plot(plot, years[~derived], gw[~derived], pen=None, symbol="o", symbolSize=10,
               symbolBrush=PATH_COLOURS["ai_lease"], symbolPen=pg.mkPen("#0d3b66"), name="sourced (DOE, CBRE)")
    _plot(plot, years[derived], gw[derived], pen=None, symbol="o", symbolSize=8, symbolBrush="w",
               symbolPen=_pen(PATH_COLOURS["ai_lease"], 1.5), name="interpolated / derived")
    for x, y, d in zip(years, gw, derived):
        if not d:
            _text(plot, f"{y:g} GW", x, y, anchor=(0.5, 1.3), size=8.5, bold=True)
    plot.setXRange(years.min() - 0.5, years.max() + 0.5, padding=0)
    plot.setYRange(0, gw.max() * 1.2, padding=0)
    plot.getAxis("bottom").setTicks([[(float(y), f"{int(y)}") for y in years]])

    def hover(x: float, _y: float) -> str | None:
        i = int(round(x - years[0]))
        if not 0 <= i < len(years):
            return None
        p = US_DC_DEMAND[i]
        return f"{p.year}: {p.demand_gw:g} GW \u2014 {p.source}"

    return Chart(hover, {"years": years, "gw": gw})


def lease_deals_chart(plot: pg.PlotItem, assumptions: Assumptions | None = None) -> Chart:
    """Public miner-to-AI lease deals ($M per MW-yr) with the CBRE colocation rate and the model's lease rate."""
    deals = sorted(LEASE_DEALS, key=lambda d: d.usd_m_per_mw_year)
    n = len(deals)
    _reset(plot, "AI/HPC lease deals on mining sites", "Lease revenue ($M per MW of critical IT per year)", "",
           legend_cols=2)
    ys = np.arange(n, dtype=float)
    vals = np.array([d.usd_m_per_mw_year for d in deals])
    _hbars(plot, ys, 0.0, vals, _brush(PATH_COLOURS["ai_lease"], 200), name="public deal")
    for y, v in zip(ys, vals):
        _text(plot, f"${v:.2f}M", v + 0.02, y, size=7.5)
    cbre = FIGURES["cbre_colo_rate_usd_per_kw_month"].value * 12 * 1000 / 1e6
    _plot(plot, [cbre, cbre], [-0.6, n - 0.4], pen=_pen("#444444", 1.6, Qt.PenStyle.DashLine),
               name=f"CBRE colo asking ${FIGURES['cbre_colo_rate_usd_per_kw_month'].value:.0f}/kW-month")
    model_rate = None
    if assumptions is not None:
        model_rate = assumptions.lease_rate_usd_per_kw_month * 12 * 1000 / 1e6
        _plot(plot, [model_rate, model_rate], [-0.6, n - 0.4], pen=_pen(LIMIT_COLOUR, 2.0),
                   name=f"model lease rate ${assumptions.lease_rate_usd_per_kw_month:.0f}/kW-month")
    labels = _fit_left_axis(plot, [f"{d.landlord} - {d.tenant}" for d in deals])
    plot.getAxis("left").setTicks([[(float(y), lab) for y, lab in zip(ys, labels)]])
    plot.setXRange(0, max(vals.max(), cbre, model_rate or 0) * 1.18, padding=0)
    plot.setYRange(-0.6, n - 0.4, padding=0)

    def hover(_x: float, y: float) -> str | None:
        i = int(round(y))
        if not 0 <= i < n:
            return None
        d = deals[i]
        return (f"{d.landlord} - {d.tenant}: ${d.usd_m_per_mw_year:.2f}M per MW-yr "
                f"(${d.usd_per_kw_month:.0f}/kW-month); source: {d.source}")

    return Chart(hover, {"deals": [f"{d.landlord}-{d.tenant}" for d in deals], "usd_m_per_mw_year": vals,
                         "model_rate": model_rate})


def rack_density_chart(plot: pg.PlotItem, _data: Any = None) -> Chart:
    """Rack density then and now (kW per rack): 2020 average, legacy hall cap, GB200 NVL72 class."""
    keys = ("rack_density_2020_kw", "rack_density_legacy_cap_kw", "rack_density_gb200_kw")
    figs = [FIGURES[k] for k in keys]
    labels = ["2020 average", "legacy hall cap", "GB200 NVL72 class"]
    _reset(plot, "Rack density", "", "Power per rack (kW/rack)", legend=False)
    xs = np.arange(len(figs), dtype=float)
    vals = np.array([f.value for f in figs])
    colours = ["#7f7f7f", "#e8871e", "#2b6cb0"]
    for x, v, c in zip(xs, vals, colours):
        _bar_item(plot, x=[x], height=[v], width=0.6, brush=_brush(c, 220), pen=pg.mkPen("#444444", width=0.6))
    for x, f in zip(xs, figs):
        top = f.high if f.high is not None else f.value
        if f.high is not None:
            plot.addItem(pg.ErrorBarItem(x=np.array([x]), y=np.array([f.value]), top=np.array([f.high - f.value]),
                                         bottom=np.array([0.0]), beam=0.2, pen=_pen("#111111", 1.4)))
        rng = f"{f.value:g}-{f.high:g}" if f.high is not None else f"{f.value:g}"
        _text(plot, f"{rng} kW", x, top, anchor=(0.5, 1.15), size=8.5, bold=True)
    plot.getAxis("bottom").setTicks([[(float(x), lab) for x, lab in zip(xs, labels)]])
    plot.setXRange(-0.6, len(figs) - 0.4, padding=0)
    plot.setYRange(0, 165, padding=0)

    def hover(x: float, _y: float) -> str | None:
        i = int(round(x))
        if not 0 <= i < len(figs):
            return None
        f = figs[i]
        return f"{f.label}: {f.value:g}{'-' + format(f.high, 'g') if f.high else ''} {f.unit} \u2014 {f.source}"

    return Chart(hover, {"kw_per_rack": vals})


def time_to_power_chart(plot: pg.PlotItem, _data: Any = None) -> Chart:
    """Months to capacity: new grid interconnection vs AI build on a converted mining site (ranges)."""
    wait = FIGURES["interconnection_wait_years"]
    build = FIGURES["build_months_converted"]
    rows = [
        ("New 300 MW-1 GW+ grid interconnection", wait.value * 12, (wait.high or wait.value) * 12, wait.source),
        ("Converted mining site: lease to first capacity", build.value, build.high or build.value, build.source),
        ("Greenfield data center", 48.0, 60.0, "4+ years greenfield, docs/DOMAIN.md section 4 (upper end assumed)"),
    ]
    n = len(rows)
    _reset(plot, "Time to power for AI capacity", "Months", "", legend=False)
    plot.getViewBox().invertY(True)
    ys = np.arange(n, dtype=float)
    colours = [LIMIT_COLOUR, "#1a9850", "#7f7f7f"]
    for y, (label, lo, hi, _src), c in zip(ys, rows, colours):
        _hbars(plot, np.array([y]), lo, np.array([hi - lo]), _brush(c, 200), height=0.5)
        _text(plot, f"{lo:.0f}-{hi:.0f} months", hi + 1.0, y, size=8)
    labels = _fit_left_axis(plot, [r[0] for r in rows], max_chars=48)
    plot.getAxis("left").setTicks([[(float(y), lab) for y, lab in zip(ys, labels)]])
    plot.setXRange(0, 80, padding=0)
    plot.setYRange(-0.6, n - 0.4, padding=0)

    def hover(_x: float, y: float) -> str | None:
        i = int(round(y))
        if not 0 <= i < n:
            return None
        label, lo, hi, src = rows[i]
        return f"{label}: {lo:.0f}-{hi:.0f} months \u2014 {src}"

    return Chart(hover, {"low_months": np.array([r[1] for r in rows]), "high_months": np.array([r[2] for r in rows])})


def capex_chart(plot: pg.PlotItem, _data: Any = None) -> Chart:
    """Reported conversion capex ranges ($M per MW of critical IT) next to a mining build."""
    rows = list(CAPEX_RANGES)
    n = len(rows)
    _reset(plot, "Capex per MW", "Capex ($M per MW)", "", legend=False)
    plot.getViewBox().invertY(True)
    ys = np.arange(n, dtype=float)
    for y, r in zip(ys, rows):
        c = PATH_COLOURS["mining"] if r.who.lower().startswith("bitcoin mining") else PATH_COLOURS["ai_lease"]
        _hbars(plot, np.array([y]), r.low_usd_m_per_mw, np.array([r.high_usd_m_per_mw - r.low_usd_m_per_mw]),
               _brush(c, 200), height=0.5)
        _text(plot, f"${r.low_usd_m_per_mw:g}-{r.high_usd_m_per_mw:g}M", r.high_usd_m_per_mw + 0.2, y, size=7.5)
    labels = _fit_left_axis(plot, [r.who for r in rows], max_chars=48)
    plot.getAxis("left").setTicks([[(float(y), lab) for y, lab in zip(ys, labels)]])
    plot.setXRange(0, 18.5, padding=0)
    plot.setYRange(-0.6, n - 0.4, padding=0)

    def hover(_x: float, y: float) -> str | None:
        i = int(round(y))
        if not 0 <= i < n:
            return None
        r = rows[i]
        return f"{r.who}: ${r.low_usd_m_per_mw:g}-{r.high_usd_m_per_mw:g}M per MW \u2014 {r.source}"

    return Chart(hover, {"low": np.array([r.low_usd_m_per_mw for r in rows])})


# ===============================================================================================
# Rendering
# ===============================================================================================
Builder = Callable[[pg.PlotItem, Any], Chart]


def new_plot_widget(parent: Any = None) -> pg.PlotWidget:
    """A white-background PlotWidget with antialiasing, the host every builder draws into."""
    w = pg.PlotWidget(parent=parent, background=BACKGROUND)
    w.setAntialiasing(True)
    w.getPlotItem().setMenuEnabled(False)
    return w


def render_png(builder: Builder, data: Any, path: str | Path, width: int = 900, height: int = 500) -> Path:
    """Draw ``builder(plot, data)`` off screen and write a ``width`` x ``height`` PNG to ``path``.

    Needs a QApplication (one is created when none exists; use ``QT_QPA_PLATFORM=offscreen``
    without a display).
    """
    from PySide6.QtWidgets import QApplication
    from pyqtgraph.exporters import ImageExporter

    if width < 50 or height < 50:
        raise ValueError(f"render_png: size {width}x{height} px is too small; use at least 50x50")
    app = QApplication.instance() or pg.mkQApp()
    widget = new_plot_widget()
    try:
        # lay the plot out at the exact size without a visible window (the exporter keeps the
        # plot item's aspect ratio, so its geometry must already be width x height)
        widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        widget.resize(int(width), int(height))
        widget.show()
        builder(widget.getPlotItem(), data)
        finish_legend(widget.getPlotItem())
        app.processEvents()
        exporter = ImageExporter(widget.getPlotItem())
        params = exporter.parameters()
        # width and height are linked by aspect ratio: set both without their change handlers
        params.param("width").setValue(int(width), blockSignal=exporter.widthChanged)
        params.param("height").setValue(int(height), blockSignal=exporter.heightChanged)
        params["background"] = QColor("white")
        params["antialias"] = True
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        exporter.export(str(out))
        return out
    finally:
        widget.close()
        widget.deleteLater()
