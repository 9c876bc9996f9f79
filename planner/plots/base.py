"""What every chart builder shares: :class:`Chart`, plot styling, text and bars, the off-screen PNG.

A builder is ``builder(plot: pg.PlotItem, data) -> Chart``: it clears ``plot`` and draws ``data``
(plain numbers built by the pure functions of :mod:`planner.model.chart_data` or taken straight
from the engine) with labelled axes (units in brackets), a legend and value labels. It computes
nothing: every number it writes comes with the data. The returned :class:`Chart` carries a
``hover(x, y) -> str | None`` read-out (view coordinates) that the panels wire to mouse moves,
and the plotted arrays (``values``) for tests and reports.


Builders create no widgets; :func:`render_png` hosts one in an off-screen ``pg.PlotWidget`` and
writes a PNG of the requested size with ``pyqtgraph.exporters.ImageExporter``.
"""
from __future__ import annotations

import html
import textwrap

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from planner.plots.style import BACKGROUND, NO_DATA_COLOUR, TEXT_COLOUR, mk_brush, mk_font
from planner.plots.workarounds import (BelowLegend, bar_item, finish_legend, item_pool, label_layer, shrinkable,
                                      wrap_to_width)


HoverFn = Callable[[float, float], "str | None"]


@dataclass
class Chart:
    """What a builder drew: the hover read-out and the plotted arrays by series name."""

    hover: HoverFn
    values: dict[str, Any] = field(default_factory=dict)


def no_hover(_x: float, _y: float) -> str | None:
    return None


Builder = Callable[[pg.PlotItem, Any], Chart]


def reset_plot(plot: pg.PlotItem, title: str, x_label: str, y_label: str, *, legend: bool = True,
               legend_cols: int = 3, grid: bool = True) -> pg.LegendItem | None:
    """Clear ``plot`` and style it: title, axis labels with units, grid, pens, legend below the axes.

    The legend sits in the plot item's layout under the x axis, so it never hides data; items
    added with ``name=...`` join it (``plot.legend`` points at it).
    """
    lg0 = getattr(plot, "_planner_legend", None)
    if lg0 is not None:
        lg0.begin()  # keep legend entries through clear() for reuse
    item_pool(plot).begin(plot)  # items of the last drawing stay for reuse (clear() when some are not pooled)
    label_layer(plot).clear()
    for name in ("left", "bottom"):
        ax = plot.getAxis(name)
        ax.setTicks(None)
        ax.enableAutoSIPrefix(False)
        ax.setPen(pg.mkPen("#555555"))
        ax.setTextPen(pg.mkPen(TEXT_COLOUR))
        ax.setStyle(tickFont=mk_font(8))
    plot.getAxis("left").setWidth(None)
    plot.getViewBox().setMinimumHeight(VIEW_MIN_HEIGHT)  # a long legend never squeezes the data away
    plot._planner_title = title
    if not getattr(plot, "_planner_title_fit", False):
        plot.geometryChanged.connect(lambda: fit_title(plot))  # titles re-fit when the dock resizes
        plot._planner_title_fit = True
    fit_title(plot)
    plot.setLabel("bottom", x_label, color=TEXT_COLOUR)
    plot.setLabel("left", y_label, color=TEXT_COLOUR)
    plot.showAxis("left", True)
    plot.showGrid(x=grid, y=grid, alpha=0.25)
    plot.getViewBox().setMouseEnabled(x=True, y=True)
    plot.getViewBox().invertY(False)
    plot.enableAutoRange()
    lg = getattr(plot, "_planner_legend", None)
    if lg is None:
        lg = BelowLegend(plot, legend_cols)
        plot.layout.addItem(lg, 4, 1)
        plot.layout.setRowStretchFactor(2, 100)  # the view box takes the spare height, not the legend row
        plot.layout.setRowStretchFactor(4, 0)
        plot._planner_legend = lg
    lg.begin()
    lg.max_cols = max(1, legend_cols)
    lg.setVisible(legend)
    plot.legend = lg if legend else None
    return lg if legend else None


TITLE_PT = 10.0
VIEW_MIN_HEIGHT = 90  # px of plot area a chart keeps whatever its legend (the dock scrolls instead)


def fit_title(plot: pg.PlotItem) -> None:
    """Set the plot's title to fit its width: wrapped onto a second line, elided past that, the full
    text as the title's tooltip (a narrow laptop dock cut "CORZ-DEN: 59 (35-8" mid-number)."""
    from PySide6.QtGui import QFontMetrics

    full = getattr(plot, "_planner_title", None)
    if full is None:
        return
    if not getattr(plot, "_planner_title_span", False):
        # pyqtgraph centres the title over the view box column only: span the axes too
        plot.layout.removeItem(plot.titleLabel)
        plot.layout.addItem(plot.titleLabel, 0, 0, 1, 3)
        plot._planner_title_span = True
    fm = QFontMetrics(mk_font(TITLE_PT))
    avail = max(60, int(plot.width()) - 28) if plot.width() > 0 else 10_000  # margin: the HTML label renders a little wider
    lines = wrap_to_width(full, fm, avail)
    cut = len(lines) > 2 or any(fm.horizontalAdvance(ln) > avail for ln in lines)
    if len(lines) > 2:
        lines = [lines[0], " ".join(lines[1:])]
    lines = [fm.elidedText(ln, Qt.TextElideMode.ElideRight, avail) for ln in lines]
    height = 30 if len(lines) == 1 else 48
    text = "<br>".join(html.escape(ln) for ln in lines)
    if getattr(plot, "_planner_title_shown", None) != (text, height):
        plot._planner_title_shown = (text, height)
        shrinkable(plot.titleLabel)
        plot.setTitle(text, color=TEXT_COLOUR, size=f"{TITLE_PT:g}pt")
        plot.titleLabel.setMaximumHeight(height)
        plot.layout.setRowFixedHeight(0, height)
    plot.titleLabel.setToolTip(full if (cut or len(lines) > 1) else "")


def title_lines(plot: pg.PlotItem) -> list[str]:
    """The title as shown, line by line (plain text; for tests and checks)."""
    shown = getattr(plot, "_planner_title_shown", None)
    return [html.unescape(ln) for ln in shown[0].split("<br>")] if shown else []


def fit_left_axis(plot: pg.PlotItem, labels: Sequence[str], max_chars: int = 42) -> list[str]:
    """Size the left axis to its tick labels (pyqtgraph drops labels that do not fit); long ones are elided."""
    from PySide6.QtGui import QFontMetrics

    out = [lab if len(lab) <= max_chars else lab[: max_chars - 1] + "\u2026" for lab in labels]
    fm = QFontMetrics(mk_font(8))
    widest = max((fm.horizontalAdvance(lab) for lab in out), default=20)
    plot.getAxis("left").setWidth(widest + 16)
    return out


def row_labels(plot: pg.PlotItem, ys: Sequence[float] | np.ndarray, labels: Sequence[str],
               max_chars: int = 42) -> list[str]:
    """Label the rows at ``ys`` on the left axis (sized to fit, long labels elided); returns the shown labels."""
    shown = fit_left_axis(plot, labels, max_chars)
    plot.getAxis("left").setTicks([[(float(y), lab) for y, lab in zip(ys, shown)]])
    return shown


def frame_rows(plot: pg.PlotItem, ys: Sequence[float] | np.ndarray, labels: Sequence[str],
               x_range: tuple[float, float], *, max_chars: int = 42, grid: bool = True) -> list[str]:
    """Finish a row chart: rows labelled on the left axis (:func:`row_labels`), ``x_range`` shown,
    every row in view (half a row of margin), vertical grid lines; returns the shown labels."""
    shown = row_labels(plot, ys, labels, max_chars=max_chars)
    plot.setXRange(*x_range, padding=0)
    plot.setYRange(-0.6, len(ys) - 0.4, padding=0)
    if grid:
        plot.showGrid(x=True, y=False, alpha=0.2)
    return shown


def row_at(y: float, n: int) -> int | None:
    """The row index under hover position ``y`` of a row chart with ``n`` rows (None off the rows)."""
    i = int(round(y))
    return i if 0 <= i < n else None


def band_bars(plot: pg.PlotItem, ys: np.ndarray, lows: np.ndarray, highs: np.ndarray, *, name: str,
              height: float = 0.25, pen_width: float = 0.6) -> None:
    """The band of unknowns (worst - best) as thin hatched bars, on the rows where it has a width."""
    band = highs > lows
    if band.any():
        hbars(plot, ys[band], lows[band], highs[band] - lows[band],
              mk_brush(NO_DATA_COLOUR, 255, Qt.BrushStyle.BDiagPattern), pen=pg.mkPen(NO_DATA_COLOUR, width=pen_width),
              height=height, name=name)


def text_label(plot: pg.PlotItem, text: str, x: float, y: float, anchor: tuple[float, float] = (0, 0.5),
               colour: str = TEXT_COLOUR, size: float = 8.0, bold: bool = False, avoid: Any = None) -> None:
    """A label at data point (x, y); with ``avoid`` (an (n, 2) array of the data points of a curve)
    it is placed beside the point clear of that curve instead of at ``anchor``
    (:meth:`planner.plots.workarounds.LabelLayer.add`)."""
    label_layer(plot).add(text, x, y, anchor, colour, mk_font(size, bold), avoid=avoid)


MESSAGE_CHARS_PER_LINE = 38  # ~270 px at 9 pt: fits the narrowest dock


def message_chart(plot: pg.PlotItem, title: str, message: str) -> Chart:
    """An empty chart that says why there is nothing to show."""
    reset_plot(plot, title, "", "", legend=False, grid=False)
    plot.getAxis("left").setTicks([[]])
    plot.getAxis("bottom").setTicks([[]])
    # wrapped and centred: a one-line message wider than a narrow dock was cut off at both ends
    wrapped = "\n".join(textwrap.wrap(message, width=MESSAGE_CHARS_PER_LINE, break_long_words=True)) or message
    text_label(plot, wrapped, 0.5, 0.5, anchor=(0.5, 0.5), colour="#555555", size=9)
    plot.setXRange(0, 1, padding=0)
    plot.setYRange(0, 1, padding=0)
    return Chart(no_hover, {"message": message})


def hbars(plot: pg.PlotItem, y: np.ndarray, x0: np.ndarray | float, width: np.ndarray, brush: Any,
          pen: Any = None, height: float = 0.62, name: str | None = None) -> pg.BarGraphItem:
    return bar_item(plot, x0=x0, y=y, width=width, height=height, brush=brush,
                    pen=pen if pen is not None else pg.mkPen("#444444", width=0.6), name=name)


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
        # the legend's column fit changes its size after the first layout pass, which posts another
        # layout request: settle them all, or a wide legend was painted at the plot's top-left corner
        # (over the y axis) with its own row left empty under the x axis
        for _ in range(4):
            widget.getPlotItem().layout.activate()
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
