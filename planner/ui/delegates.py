"""Editors per FieldSpec kind, shared by the sites table (delegate) and the site form.

Every editor can say "unknown": spin boxes and date edits show ``unknown`` at a sentinel
just below their range (Qt's ``specialValueText``), combo boxes have an "unknown" entry,
and an empty line edit is unknown. ``editor_value`` turns that back into ``None``.
"""
from __future__ import annotations

import datetime as dt
import math
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QDate, QEvent, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QFocusEvent, QKeyEvent, QValidator
from PySide6.QtWidgets import (QAbstractItemDelegate, QAbstractSpinBox, QComboBox, QDateEdit, QDoubleSpinBox, QLineEdit,
                               QSpinBox, QStyledItemDelegate, QStyleOptionViewItem, QWidget)

from planner.model.fields import FIELDS, FieldSpec, field_text
from planner.ui.input_guard import guard_wheel

UNKNOWN_TEXT = "unknown"
FIELD_ROLE = Qt.ItemDataRole.UserRole + 1  # the model answers the FieldSpec name of a column
_DATE_SENTINEL = QDate(1900, 1, 1)
_FLOAT_FALLBACK_RANGE = 1e9


def _decimals(fs: FieldSpec) -> int:
    if fs.unit == "deg":
        return 6
    span = (fs.maximum or 0) - (fs.minimum or 0)
    return 1 if span >= 1000 else 2


def format_value(fs: FieldSpec, value: Any) -> str:
    """Display text of a field value with its unit (``7.8 km``); ``""`` for unknown.

    The same text as the report and the map popup (:func:`planner.model.fields.field_text`).
    """
    return "" if value is None else field_text(fs.name, value)


class _TypedNumberMixin:
    """A spin box that keeps a typed number outside its range instead of clamping it silently.

    Qt refuses keystrokes beyond the maximum and clamps on focus-out, so 99,999,999 MW became
    9,999 MW without a word. Here the text may go out of range (``Intermediate``); when the
    edit finishes (Enter, focus out) the typed number is kept in :attr:`typed_out_of_range`
    and :func:`editor_value` returns it, so validation refuses it with a message.
    """

    typed_out_of_range: float | None = None

    def _typed_number(self, text: str) -> float | None:
        t = text
        prefix, suffix = self.prefix(), self.suffix()  # type: ignore[attr-defined]
        if prefix and t.startswith(prefix):
            t = t[len(prefix):]
        if suffix and t.endswith(suffix):
            t = t[:-len(suffix)]
        loc = self.locale()  # type: ignore[attr-defined]
        t = t.strip().replace(loc.groupSeparator(), "").replace(loc.decimalPoint(), ".")
        try:
            n = float(t)
        except ValueError:
            return None
        return n if math.isfinite(n) else None

    def _out_of_range(self, text: str) -> float | None:
        n = self._typed_number(text)
        if n is None or self.minimum() <= n <= self.maximum():  # type: ignore[attr-defined]
            return None
        return n

    def validate(self, text: str, pos: int) -> object:
        if self._out_of_range(text) is not None:
            return QValidator.State.Intermediate, text, pos
        return super().validate(text, pos)  # type: ignore[misc]

    def _capture(self) -> None:
        self.typed_out_of_range = self._out_of_range(self.lineEdit().text())  # type: ignore[attr-defined]

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._capture()
        super().keyPressEvent(event)  # type: ignore[misc]

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt override
        self._capture()
        super().focusOutEvent(event)  # type: ignore[misc]


class FieldDoubleSpinBox(_TypedNumberMixin, QDoubleSpinBox):
    """Float field editor (see :class:`_TypedNumberMixin`)."""


class FieldSpinBox(_TypedNumberMixin, QSpinBox):
    """Integer field editor (see :class:`_TypedNumberMixin`)."""


def create_editor(fs: FieldSpec, parent: QWidget | None) -> QWidget:
    """A widget to edit one field of ``fs.kind`` with units, ranges and an unknown state.

    Spin boxes, combos and date edits take the mouse wheel only when they have focus.
    """
    w = _create_editor(fs, parent)
    if isinstance(w, (QAbstractSpinBox, QComboBox)):
        guard_wheel(w)
    return w


def _create_editor(fs: FieldSpec, parent: QWidget | None) -> QWidget:
    if fs.kind == "float":
        w = FieldDoubleSpinBox(parent)
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
        w.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToPreviousValue)
        w.setGroupSeparatorShown(True)
        return w
    if fs.kind == "int":
        w = FieldSpinBox(parent)
        lo = int(fs.minimum) if fs.minimum is not None else -2_000_000_000
        hi = int(fs.maximum) if fs.maximum is not None else 2_000_000_000
        w.setRange(lo - 1, hi)
        w.setSpecialValueText(UNKNOWN_TEXT)
        if fs.unit and fs.unit not in ("count",):
            w.setSuffix(f" {fs.unit}" if fs.unit != "1-5" else " / 5")
        w.setKeyboardTracking(False)
        w.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToPreviousValue)
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
    if isinstance(editor, _TypedNumberMixin):
        editor.typed_out_of_range = None
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
        editor.setCursorPosition(0)  # long text opens at its start, not scrolled to the end


def editor_value(editor: QWidget, fs: FieldSpec) -> Any:
    """The editor's value as a Python value (``None`` = unknown), not yet validated.

    A number typed outside the editor's range is returned as typed (validation refuses it).
    """
    if isinstance(editor, _TypedNumberMixin) and editor.typed_out_of_range is not None:
        n = editor.typed_out_of_range
        return int(n) if isinstance(editor, QSpinBox) and n == int(n) else n
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


#: Keys with which the table's delegate commits an editor, and where the table goes next.
_COMMIT_HINTS = {Qt.Key.Key_Return: QAbstractItemDelegate.EndEditHint.SubmitModelCache,
                 Qt.Key.Key_Enter: QAbstractItemDelegate.EndEditHint.SubmitModelCache,
                 Qt.Key.Key_Tab: QAbstractItemDelegate.EndEditHint.EditNextItem,
                 Qt.Key.Key_Backtab: QAbstractItemDelegate.EndEditHint.EditPreviousItem}


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

    def eventFilter(self, editor: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        # Qt's delegate filter sees Enter and Tab before the editor and has a spin box fix its text
        # first, so an out-of-range "-5" went back to the old value and the edit vanished without a
        # word. Such a number is committed as typed here (setModelData refuses it with a message).
        if isinstance(editor, _TypedNumberMixin):
            if event.type() == QEvent.Type.FocusOut:
                editor._capture()  # the filter commits before the editor's own focus-out handler runs
            elif event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent) \
                    and event.key() in _COMMIT_HINTS:
                editor._capture()
                if editor.typed_out_of_range is not None:
                    self.commitData.emit(editor)
                    self.closeEditor.emit(editor, _COMMIT_HINTS[Qt.Key(event.key())])
                    return True
        return super().eventFilter(editor, event)

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
