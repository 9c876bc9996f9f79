"""Input guards for value editors: the mouse wheel changes a spin box or combo only when it has focus.

A wheel over a form scrolls the form; it must never change the value under the pointer (a
scroll over Longitude once moved a site 280 km). :func:`guard_wheel` gives an editor
``Qt.StrongFocus`` (the default ``WheelFocus`` would let the wheel itself take focus) and an
event filter that hands wheel events to the parents (the scroll area) while the editor has
no focus. After a click or Tab into the editor the wheel steps its value as usual.

The hand-over is explicit (a copy of the event offered to each ancestor until one accepts it):
Qt only propagates spontaneous wheel events, and the explicit path behaves the same for real
mice and for synthetic events in tests.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QWidget

_EDITORS = (QAbstractSpinBox, QComboBox)


class WheelGuard(QObject):
    """Event filter: a wheel event over an unfocused spin box or combo goes to its parent instead."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Wheel and isinstance(obj, QWidget) and isinstance(event, QWheelEvent) \
                and not obj.hasFocus():
            _offer_to_ancestors(obj, event)
            event.accept()  # handled here: the editor never sees it, Qt does not propagate it again
            return True
        return False


def _offer_to_ancestors(widget: QWidget, event: QWheelEvent) -> None:
    pos = event.position()
    w = widget
    while not w.isWindow() and w.parentWidget() is not None:
        pos = QPointF(w.mapToParent(pos))
        w = w.parentWidget()
        copy = QWheelEvent(pos, event.globalPosition(), event.pixelDelta(), event.angleDelta(), event.buttons(),
                           event.modifiers(), event.phase(), event.inverted(), event.source())
        copy.ignore()
        QApplication.sendEvent(w, copy)
        if copy.isAccepted():
            return


_GUARD: WheelGuard | None = None


def _guard() -> WheelGuard:
    global _GUARD
    if _GUARD is None:
        _GUARD = WheelGuard()
    return _GUARD


def guard_wheel(widget: QWidget) -> QWidget:
    """Make ``widget`` (a spin box or combo) take the wheel only with focus; returns it."""
    widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    widget.installEventFilter(_guard())
    return widget


def guard_wheel_in(root: QWidget) -> int:
    """Guard every spin box and combo under ``root`` (including ``root``); returns how many."""
    found = [w for w in root.findChildren(QWidget) if isinstance(w, _EDITORS)]
    if isinstance(root, _EDITORS):
        found.append(root)
    for w in found:
        guard_wheel(w)
    return len(found)
