"""Colours, pens, brushes and fonts of every chart (panels and reports draw alike)."""
from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont

from planner.model.readiness import READINESS_COLOURS, READINESS_LABELS

__all__ = ["BACKGROUND", "ENERGIZED_COLOUR", "GATE_COLOUR", "LIMIT_COLOUR", "NO_DATA_COLOUR", "PATH_COLOURS",
           "PIPELINE_COLOUR", "READINESS_COLOURS", "READINESS_LABELS", "SCORE_COLOUR", "SERIES_COLOURS",
           "TEXT_COLOUR", "mk_brush", "mk_font", "mk_pen"]

#: Path colours (mining = bitcoin orange, AI lease = blue, hybrid = purple); used by panels and reports.
PATH_COLOURS: dict[str, str] = {"mining": "#e8871e", "ai_lease": "#2b6cb0", "hybrid": "#7b3294"}
#: Qualitative palette (Tableau 10) for ASIC fleets and other series.
SERIES_COLOURS: tuple[str, ...] = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                                   "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
SCORE_COLOUR = "#3b6fb6"
GATE_COLOUR = "#d73027"
NO_DATA_COLOUR = "#9e9e9e"
TEXT_COLOUR = "#222222"
LIMIT_COLOUR = "#c0392b"
ENERGIZED_COLOUR = "#1f6fb2"
PIPELINE_COLOUR = "#9ecae1"
BACKGROUND = "w"


def mk_pen(colour: str, width: float = 2.0, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> Any:
    return pg.mkPen(colour, width=width, style=style)


def mk_brush(colour: str, alpha: int = 255, pattern: Qt.BrushStyle | None = None) -> QBrush:
    c = QColor(colour)
    c.setAlpha(alpha)
    return QBrush(c, pattern) if pattern is not None else QBrush(c)


def mk_font(point_size: float = 8.5, bold: bool = False) -> QFont:
    f = QFont()
    f.setPointSizeF(point_size)
    f.setBold(bold)
    return f
