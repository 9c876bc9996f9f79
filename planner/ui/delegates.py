"""Editors per FieldSpec kind, shared by the sites table (delegate) and the site form.

Every editor can say "unknown": spin boxes and date edits show ``unknown`` at a sentinel
just below their range (Qt's ``specialValueText``), combo boxes have an "unknown" entry,
and an empty line edit is unknown. ``editor_value`` turns that back into ``None``.
"""
from __future__ import annotations

import datetime as dt
import math
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QDate, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (QAbstractSpinBox, QComboBox, QDateEdit, QDoubleSpinBox, QLineEdit,
                               QSpinBox, QStyledItemDelegate, QStyleOptionViewItem, QWidget)

from planner.model.fields import FIELDS, FieldSpec

UNKNOWN_TEXT = "unknown"
FIELD_ROLE = Qt.ItemDataRole.UserRole + 1  # the model answers the FieldSpec name of a column
_DATE_SENTINEL = QDate(1900, 1, 1)
_FLOAT_FALLBACK_RANGE = 1e9


def _decimals(fs: FieldSpec) -> int:
    if fs.unit == "deg":
        return 6
    span = (fs.maximum or 0) - (fs.minimum or 0)
    return 1 if span >= 1000 else 2


def format_value(fs: FieldSpec, value: Any, with_unit: bool = True) -> str:
    """Display text of a field value with its unit; ``""`` for unknown."""
    if value is None:
        return ""
    if fs.kind == "bool":
        return "yes" if value else "no"
    if fs.kind == "float":
        v = float(value)
        if fs.unit == "deg":
            text = f"{v:.5f}"
        elif v == 0:
            text = "0"
        elif abs(v) >= 100:
            text = f"{v:,.0f}"
        elif abs(v) >= 10:
            text = f"{v:,.1f}"
        else:
            text = f"{v:,.2f}"
        if not with_unit or not fs.unit:
            return text
        return f"{text}°" if fs.unit == "deg" else f"{text} {fs.unit}"
    if fs.kind == "int":
        unit = fs.unit if fs.unit not in ("count", "1-5") else ""
        return f"{int(value):,d} {unit}".strip() if with_unit else f"{int(value):d}"
    if fs.kind == "enum":
        return str(value).replace("_", " ")
    return str(value)


def create_editor(fs: FieldSpec, parent: QWidget | None) -> QWidget:
    """A widget to edit one field of ``fs.kind`` with units, ranges and an unknown state."""
    if fs.kind == "float":
        w = QDoubleSpinBox(parent)
        dec = _decimals(fs)
        step = 10.0 ** -dec
        lo = fs.minimum if fs.minimum is not None else -_FLOAT_FALLBACK_RANGE
        hi = fs.maximum if fs.maximum is not None else _FLOAT_FALLBACK_RANGE
        w.setDecimals(dec)
        w.setRange(lo - step, hi)  # the sentinel just below the range reads "unknown"
        w.setSpecialValueText(UNKNOWN_TEXT)
        w.setSingleStep(1.0 if hi - lo >= 10 else 0.1)
        if fs.unit:
            w.setSuffix(f" {fs.unit}")
        w.setKeyboardTracking(False)
        w.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToNearestValue)
        return w
    if fs.kind == "int":
        w = QSpinBox(parent)
        lo = int(fs.minimum) if fs.minimum is not None else -2_000_000_000
        hi = int(fs.maximum) if fs.maximum is not None else 2_000_000_000
        w.setRange(lo - 1, hi)
        w.setSpecialValueText(UNKNOWN_TEXT)
        if fs.unit and fs.unit not in ("count",):
            w.setSuffix(f" {fs.unit}" if fs.unit != "1-5" else " / 5")
        w.setKeyboardTracking(False)
        return w
    if fs.kind in ("enum", "bool"):
        w = QComboBox(parent)
        w.addItem(UNKNOWN_TEXT, None)
        if fs.kind == "bool":
            w.addItem("yes", True)
            w.addItem("no", False)
        else:
            for c in fs.choices:
                w.addItem(c.replace("_", " "), c)
        return w
    if fs.kind == "date":
        w = QDateEdit(parent)
        w.setCalendarPopup(True)
        w.setDisplayFormat("yyyy-MM-dd")
        w.setMinimumDate(_DATE_SENTINEL)
        w.setSpecialValueText(UNKNOWN_TEXT)
        return w
    w = QLineEdit(parent)
    w.setMaxLength(fs.max_length)
    w.setPlaceholderText(UNKNOWN_TEXT)
    w.setClearButtonEnabled(True)
    return w


def set_editor_value(editor: QWidget, fs: FieldSpec, value: Any) -> None:
    """Show ``value`` (``None`` = unknown) in an editor made by :func:`create_editor`."""
    if isinstance(editor, QDoubleSpinBox):
        editor.setValue(editor.minimum() if value is None else float(value))
    elif isinstance(editor, QSpinBox):
        editor.setValue(editor.minimum() if value is None else int(value))
    elif isinstance(editor, QComboBox):
        idx = editor.findData(value) if value is not None else 0
        editor.setCurrentIndex(max(idx, 0))
    elif isinstance(editor, QDateEdit):
        if value is None:
            editor.setDate(_DATE_SENTINEL)
        else:
            d = dt.date.fromisoformat(str(value)[:10])
            editor.setDate(QDate(d.year, d.month, d.day))
    elif isinstance(editor, QLineEdit):
        editor.setText("" if value is None else str(value))


def editor_value(editor: QWidget, fs: FieldSpec) -> Any:
    """The editor's value as a Python value (``None`` = unknown), not yet validated."""
    if isinstance(editor, QDoubleSpinBox):
        v = editor.value()
        if v <= editor.minimum() or math.isclose(v, editor.minimum()):
            return None
        return round(v, editor.decimals())
    if isinstance(editor, QSpinBox):
        v = editor.value()
        return None if v == editor.minimum() else v
    if isinstance(editor, QComboBox):
        return editor.currentData()
    if isinstance(editor, QDateEdit):
        d = editor.date()
        return None if d <= _DATE_SENTINEL else d.toString("yyyy-MM-dd")
    if isinstance(editor, QLineEdit):
        text = editor.text().strip()
        return text or None
    raise TypeError(f"no value reader for {type(editor).__name__}")


class FieldDelegate(QStyledItemDelegate):
    """Item delegate that edits a cell with the editor of its column's FieldSpec."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)

    @staticmethod
    def _spec(index: QModelIndex | QPersistentModelIndex) -> FieldSpec | None:
        name = index.data(FIELD_ROLE)
        return FIELDS.get(name) if isinstance(name, str) else None

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: QModelIndex | QPersistentModelIndex) -> QWidget:
        fs = self._spec(index)
        if fs is None:
            return super().createEditor(parent, option, index)
        editor = create_editor(fs, parent)
        editor.setAutoFillBackground(True)
        return editor

    def setEditorData(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:
        fs = self._spec(index)
        if fs is None:
            super().setEditorData(editor, index)
            return
        set_editor_value(editor, fs, index.data(Qt.ItemDataRole.EditRole))

    def setModelData(self, editor: QWidget, model: QAbstractItemModel,
                     index: QModelIndex | QPersistentModelIndex) -> None:
        fs = self._spec(index)
        if fs is None:
            super().setModelData(editor, model, index)
            return
        new = editor_value(editor, fs)
        if new == index.data(Qt.ItemDataRole.EditRole):
            return  # opening and closing an editor is not an edit
        model.setData(index, new, Qt.ItemDataRole.EditRole)
