"""The pyqtgraph workarounds, in one place: a legend under the axes, item reuse, one label layer.

- :class:`BelowLegend`: pyqtgraph's legend floats over the data; this one sits in the plot's
  layout under the x axis, fits its columns to the width, reuses its entries across redraws
  and really removes the ones it drops (``LegendItem.removeItem`` left them painted).
- Item reuse (:class:`ItemPool`): creating a pyqtgraph item and adding it to a plot costs about
  1-3 ms (scene bookkeeping, signal connections), removing it about 1 ms; a redraw of a panel
  made 15-25 of each. A builder's drawing has the same structure from one site or assumption to
  the next, so the items of the previous drawing are kept and updated in place (setData,
  setOpts, setPos) in the order the builder asks for them. Items stay in the plot in creation
  order, so the stacking (and thus the picture) is the same as a fresh drawing.
- :class:`LabelLayer`: every text label of a plot drawn by one item (a TextItem per label costs
  about 2 ms to create).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont

from planner.plots.style import TEXT_COLOUR, mk_brush, mk_font


class BelowLegend(pg.LegendItem):
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
            if getattr(label, "_planner_full", label.text) != name:
                label._planner_full = name
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
            entries = [(sample.item, getattr(label, "_planner_full", label.text)) for sample, label in self.items]
            for sample, label in self.items:
                self._drop(sample)
                self._drop(label)
            self.items = []
            for item, name in entries:
                pg.LegendItem.addItem(self, item, name)
            self._fit_columns()
            self.updateSize()
        self._fit_widget_height()

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
        fm = QFontMetrics(mk_font(8))
        fulls = [getattr(label, "_planner_full", label.text) for _sample, label in self.items]
        entry = max(fm.horizontalAdvance(t) for t in fulls) + 20 + 14 + 14
        avail = self._plot.getViewBox().width() or 600.0
        cols = int(max(1, min(self.max_cols, len(self.items), avail // entry)))
        if cols != self.columnCount:
            self.setColumnCount(cols)
        # one column and a label still wider than the plot (a laptop dock cut "exit value ..."):
        # it wraps onto more lines, its full text as tooltip
        width = max(80.0, avail - 20 - 14 - 16) if cols == 1 else None  # sample, spacing, text margins
        changed = False
        for (_sample, label), full in zip(self.items, fulls):
            shrinkable(label)
            shown = full if width is None or fm.horizontalAdvance(full) <= width else "<br>".join(wrap_to_width(full, fm, width))
            if label.text != shown:
                label._planner_full = full
                label.setText(shown)
                label.setToolTip(full if shown != full else "")
                changed = True
        if changed:
            self.updateSize()
        self._fit_widget_height()

    def _fit_widget_height(self) -> None:
        """Grow the hosting widget to the plot's minimum height (view box floor + axes + this legend):
        on a short dock an 8-entry legend squeezed the plot to a 1 px strip; now the dock scrolls."""
        view = self._plot.getViewWidget()
        if view is None:
            return
        need = int(self._plot.effectiveSizeHint(Qt.SizeHint.MinimumSize).height()) + 4
        if need > view.minimumHeight():
            view.setMinimumHeight(need)


def shrinkable(label: Any) -> None:
    """Let a pyqtgraph LabelItem be narrower than its text (its ``updateMin`` pins the minimum width to
    the text, so a long title or legend entry made the whole chart, and its dock, wider than a laptop
    screen; the text is then wrapped or elided to the width the chart gets)."""
    if getattr(label, "_planner_shrinkable", False):
        return
    label._planner_shrinkable = True
    pinned = label.updateMin

    def update_min() -> None:
        pinned()
        label.setMinimumWidth(0)

    label.updateMin = update_min
    label.setMinimumWidth(0)


def wrap_to_width(text: str, fm: Any, width: float) -> list[str]:
    """``text`` broken at spaces into lines at most ``width`` px wide in ``fm`` (a word wider stays whole)."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and fm.horizontalAdvance(lines[-1] + " " + word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


_PLOT_STYLE_DEFAULTS: dict[str, Any] = {
    # PlotDataItem's own defaults for every style key a builder sets: a reused item is updated
    # with the full set so it ends with the same options as a freshly created one
    "pen": (200, 200, 200), "shadowPen": None, "fillLevel": None, "fillOutline": False, "fillBrush": None,
    "stepMode": None, "symbol": None, "symbolSize": 10, "symbolPen": (200, 200, 200),
    "symbolBrush": (50, 50, 150), "name": None,
}


_BAR_DEFAULTS: dict[str, Any] = {k: None for k in ("x", "y", "x0", "y0", "x1", "y1", "name", "height", "width",
                                                   "pen", "brush", "pens", "brushes")}


class ItemPool:
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


def item_pool(plot: pg.PlotItem) -> ItemPool:
    pool = getattr(plot, "_planner_pool", None)
    if pool is None:
        pool = ItemPool()
        plot._planner_pool = pool
    return pool


def add_to_legend(plot: pg.PlotItem, item: Any, name: str | None) -> None:
    # what PlotItem.addItem does for a named data item; a reused item registers again by itself
    if name is not None and getattr(plot, "legend", None) is not None:
        plot.legend.addItem(item, name=name)


def curve(plot: pg.PlotItem, x: Any, y: Any, **style: Any) -> pg.PlotDataItem:
    """``plot.plot(x, y, **style)``, reusing the next pooled curve when there is one."""
    item = item_pool(plot).take(plot, pg.PlotDataItem)
    if item is None:
        item = plot.plot(x, y, **style)
        item_pool(plot).put(item, pg.PlotDataItem)
        return item
    opts = dict(_PLOT_STYLE_DEFAULTS)
    if "symbol" not in style and any(k in style for k in ("symbolPen", "symbolBrush", "symbolSize")):
        opts["symbol"] = "o"  # as PlotDataItem does when a symbol style is given without a symbol
    if "brush" in style:
        style = {**style, "fillBrush": style["brush"]}
        del style["brush"]
    opts.update(style)
    item.setData(x, y, **opts)
    add_to_legend(plot, item, opts["name"])
    return item


def bar_item(plot: pg.PlotItem, **opts: Any) -> pg.BarGraphItem:
    """``plot.addItem(pg.BarGraphItem(**opts))``, reusing the next pooled bar item when there is one."""
    pool = item_pool(plot)
    item = pool.take(plot, pg.BarGraphItem)
    if item is None:
        item = pg.BarGraphItem(**opts)
        plot.addItem(item)
        pool.put(item, pg.BarGraphItem)
        return item
    full = {**_BAR_DEFAULTS, "pen": pg.getConfigOption("foreground"), "brush": (128, 128, 128), **opts}
    item.setOpts(**full)
    add_to_legend(plot, item, full["name"])
    return item


def inf_line(plot: pg.PlotItem, pos: float, angle: float, pen: Any) -> pg.InfiniteLine:
    """``plot.addItem(pg.InfiniteLine(pos=pos, angle=angle, pen=pen))``, reusing a pooled line."""
    pool = item_pool(plot)
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


def x_region(plot: pg.PlotItem, values: tuple[float, float], colour: str, alpha: int) -> pg.LinearRegionItem:
    """A fixed, pen-less shaded x range, reusing a pooled one of the same colour."""
    pool = item_pool(plot)
    key = (pg.LinearRegionItem, colour, alpha)
    item = pool.take(plot, key)
    if item is None:
        item = pg.LinearRegionItem(values, movable=False, brush=mk_brush(colour, alpha), pen=pg.mkPen(None))
        plot.addItem(item)
        pool.put(item, key)
        return item
    item.setRegion(values)
    return item


def fill_between(plot: pg.PlotItem, c1: pg.PlotDataItem, c2: pg.PlotDataItem, brush: QBrush) -> pg.FillBetweenItem:
    """``plot.addItem(pg.FillBetweenItem(c1, c2, brush=brush))``, reusing a pooled fill."""
    pool = item_pool(plot)
    item = pool.take(plot, pg.FillBetweenItem)
    if item is None:
        item = pg.FillBetweenItem(c1, c2, brush=brush)
        plot.addItem(item)
        pool.put(item, pg.FillBetweenItem)
        return item
    item.setBrush(brush)
    item.setCurves(c1, c2)
    return item


#: Distance (px) between a curve-avoiding label and its point: clears an 18 px marker symbol.
LABEL_GAP_PX = 12.0
#: Space (px) kept between a curve-avoiding label and the curve (about its pen and point symbols).
CURVE_MARGIN_PX = 4.0


class LabelLayer(pg.GraphicsObject):
    """All text labels of a plot drawn by one item (a TextItem per label costs ~2 ms to create).

    Labels are placed in data coordinates and drawn unscaled in the view box's own frame, with
    TextItem's anchor convention ((0, 0) = top-left at the point, (0.5, 1) = bottom-centre).
    """

    def __init__(self, vb: pg.ViewBox):
        super().__init__()
        self.vb = vb
        self.labels: list[tuple[float, float, str, tuple[float, float], QColor, QFont]] = []
        # label index -> the curve (data x, y) it must keep clear of: placed beside its point at paint time
        self._avoid: dict[int, np.ndarray] = {}
        self.setParentItem(vb)
        self.setZValue(1_000)
        vb.sigTransformChanged.connect(self._on_view_changed)
        vb.sigResized.connect(self._on_view_changed)

    def _on_view_changed(self, *_: Any) -> None:
        self.prepareGeometryChange()
        self.update()

    def clear(self) -> None:
        self.labels = []
        self._avoid = {}
        self.update()

    def add(self, text: str, x: float, y: float, anchor: tuple[float, float], colour: str, font: QFont,
            avoid: np.ndarray | None = None) -> None:
        """Add a label at data point (x, y). With ``avoid`` (the data points of a polyline through or
        near the point) the anchor is ignored: the label goes beside the point where it covers no
        part of that line, inside the plot (:meth:`_clear_of`)."""
        if avoid is not None:
            self._avoid[len(self.labels)] = np.asarray(avoid, dtype=float).reshape(-1, 2)
        self.labels.append((float(x), float(y), str(text), anchor, QColor(colour), font))
        self.update()

    def leaders(self) -> list[tuple[str, Any]]:
        """(text, QLineF from the label to its point) of the curve-avoiding labels placed away from
        their point (a free corner of the plot), as :meth:`paint` draws them."""
        return [(label[2], line) for label, _rect, line in self._placed_with_leaders() if line is not None]

    def texts(self) -> list[str]:
        """The label strings, in drawing order."""
        return [lab[2] for lab in self.labels]

    def boundingRect(self) -> Any:
        return self.vb.boundingRect()

    def rects(self) -> list[tuple[str, Any]]:
        """(text, QRectF in the view box's pixel frame) of every finite label, as :meth:`paint` draws it."""
        return [(label[2], rect) for label, rect in self._placed()]

    def _placed(self) -> list[tuple[tuple[float, float, str, tuple[float, float], QColor, QFont], Any]]:
        return [(label, rect) for label, rect, _line in self._placed_with_leaders()]

    def _placed_with_leaders(self) -> list[tuple[tuple[float, float, str, tuple[float, float], QColor, QFont],
                                                 Any, Any]]:
        """Every finite label with its rectangle (and leader line, or None).

        A label that would overlap one placed before it is moved away from its point (up when it
        sits above the point, down when below) until it is clear: the values over neighbouring
        bars of a narrow dock are staggered instead of printed over each other.
        """
        from PySide6.QtCore import QPointF, QRectF
        from PySide6.QtGui import QFontMetricsF

        frame = self.vb.boundingRect()
        out: list[tuple[tuple[float, float, str, tuple[float, float], QColor, QFont], Any]] = []
        leaders: list[Any] = []
        for i, label in enumerate(self.labels):
            x, y, text, (ax, ay), _colour, font = label
            if not (math.isfinite(x) and math.isfinite(y)):
                continue
            pt = self.vb.mapFromView(QPointF(x, y))
            fm = QFontMetricsF(font)
            lines = text.split("\n")
            w = max(fm.horizontalAdvance(line) for line in lines) + 4
            h = fm.height() * len(lines) + 2
            if i in self._avoid:
                rect, leader = self._clear_of(self._avoid[i], pt, w, h, frame, [r for _lab, r in out])
                out.append((label, rect))
                leaders.append(leader)
                continue
            rect = QRectF(pt.x() - ax * w, pt.y() - ay * h, w, h)
            if rect.width() <= frame.width():  # a label at the edge of the plot is kept inside it
                rect.translate(max(0.0, frame.left() - rect.left()) - max(0.0, rect.right() - frame.right()), 0.0)
            start = QRectF(rect)
            for up in (ay >= 0.5, ay < 0.5):  # away from the point; the other way if that leaves the plot
                rect = QRectF(start)
                for _ in range(len(out)):
                    hit = next((r for _lab, r in out if r.intersects(rect)), None)
                    if hit is None:
                        break
                    rect.translate(0.0, (hit.top() - rect.bottom() - 1.0) if up else (hit.bottom() - rect.top() + 1.0))
                if frame.top() <= rect.top() and rect.bottom() <= frame.bottom():
                    break
            out.append((label, rect))
            leaders.append(None)
        return [(label, rect, line) for (label, rect), line in zip(out, leaders)]

    def _clear_of(self, curve: np.ndarray, pt: Any, w: float, h: float, frame: Any, taken: list[Any]) -> tuple[Any, Any]:
        """The rectangle (w x h px) of a label of point ``pt`` that covers no part of ``curve`` nor
        another label, inside ``frame``, and its leader line (None when it sits beside the point).

        Tried in order: above, below, then the four diagonals and the sides of the point, each
        LABEL_GAP_PX from it and then further out; then the four corners of the plot (with a leader
        line to the point). All in pixels of the drawn view, so it holds at any size of the plot.
        If every place touches the curve (a plot too small for the label), the one touching it least.
        """
        from PySide6.QtCore import QLineF, QPointF, QRectF

        px = np.array([[p.x(), p.y()] for p in (self.vb.mapFromView(QPointF(float(a), float(b))) for a, b in curve
                                                 if math.isfinite(a) and math.isfinite(b))], dtype=float).reshape(-1, 2)
        samples = [px]
        for a, b in zip(px[:-1], px[1:]):  # every segment sampled each pixel
            n = int(np.hypot(*(b - a))) + 1
            samples.append(a + (b - a) * np.linspace(0.0, 1.0, n + 1)[:, None])
        pts = np.concatenate(samples) if samples else np.zeros((0, 2))
        m, g = CURVE_MARGIN_PX, LABEL_GAP_PX

        def hits(r: Any) -> int:
            inside = ((pts[:, 0] >= r.left() - m) & (pts[:, 0] <= r.right() + m)
                      & (pts[:, 1] >= r.top() - m) & (pts[:, 1] <= r.bottom() + m))
            return int(inside.sum())

        cx, cy = pt.x(), pt.y()
        near: list[Any] = []
        for step in range(1, 7):
            d = g * step
            for dx, dy in ((0, -1), (0, 1), (1, -1), (-1, -1), (1, 1), (-1, 1), (1, 0), (-1, 0)):
                left = cx - w / 2 + dx * (w / 2 + (d * 0.7 if dy else d)) if dx else cx - w / 2
                top = cy - h / 2 + dy * (h / 2 + d) if dy else cy - h / 2
                r = QRectF(left, top, w, h)
                if r.width() <= frame.width():  # kept inside the plot sideways, as the other labels
                    r.translate(max(0.0, frame.left() - r.left()) - max(0.0, r.right() - frame.right()), 0.0)
                near.append(r)
        inset = 4.0
        corners = [QRectF(x0, y0, w, h) for x0, y0 in (
            (frame.left() + inset, frame.top() + inset), (frame.right() - inset - w, frame.top() + inset),
            (frame.left() + inset, frame.bottom() - inset - h), (frame.right() - inset - w, frame.bottom() - inset - h))]
        corners.sort(key=lambda r: math.hypot(r.center().x() - cx, r.center().y() - cy))

        def free(r: Any) -> bool:
            return frame.contains(r) and hits(r) == 0 and not any(t.intersects(r) for t in taken)

        rect = next((r for r in near if free(r)), None)
        if rect is not None:
            return rect, None
        rect = next((r for r in corners if free(r)), None)
        if rect is None:
            inside = [r for r in near + corners if frame.contains(r)] or near
            rect = min(inside, key=hits)
        # a leader from the label's edge to the point, stopping short of the marker
        end = QPointF(min(max(cx, rect.left()), rect.right()), min(max(cy, rect.top()), rect.bottom()))
        line = QLineF(end, QPointF(cx, cy))
        if line.length() <= g * 1.5:
            return rect, None
        line.setLength(line.length() - g)
        return rect, line

    def paint(self, painter: Any, *_: Any) -> None:
        if not self.labels:
            return
        painter.setRenderHint(painter.RenderHint.TextAntialiasing, True)
        for (_x, _y, text, _anchor, colour, font), rect, leader in self._placed_with_leaders():
            painter.setFont(font)
            painter.setPen(colour)
            painter.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), text)
            if leader is not None:
                painter.drawLine(leader)


def label_layer(plot: pg.PlotItem) -> LabelLayer:
    layer = getattr(plot, "_planner_labels", None)
    if layer is None:
        layer = LabelLayer(plot.getViewBox())
        plot._planner_labels = layer
    return layer


def finish_legend(plot: pg.PlotItem) -> None:
    """Close a builder's drawing: drop the items and legend entries of the previous drawing it did not reuse."""
    item_pool(plot).end(plot)
    lg = getattr(plot, "_planner_legend", None)
    if lg is not None:
        lg.finish()


def plot_texts(plot: pg.PlotItem) -> list[str]:
    """Every text label a builder drew on ``plot`` (for tests and checks)."""
    return label_layer(plot).texts()
