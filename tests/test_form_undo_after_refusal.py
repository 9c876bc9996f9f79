"""QA: after a value refused in the site form, the next valid edit and Edit > Undo undo exactly that
edit. Driven as a user does it: type into the field, Enter (or Tab out), then Edit > Undo from the
menu (the menu opened, the Undo entry chosen with the keyboard)."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from planner.model.fields import FIELDS
from planner.ui.delegates import editor_value

from test_ui_form_input import _type, win  # noqa: F401 - fixtures
from test_ui_main_window import errors, fast_sample, _sample_once, make_window, window  # noqa: F401 - fixtures

pytestmark = pytest.mark.gui
SID = "IREN-CHI"


def _menu_undo(w, qtbot) -> None:
    """Edit > Undo with the mouse-free path of the menu bar: open Edit, pick Undo, Enter."""
    menu = w.edit_menu
    assert w.undo_action in menu.actions()
    menu.popup(w.mapToGlobal(w.rect().topLeft()))
    qtbot.waitUntil(menu.isVisible)
    assert w.undo_action.isEnabled(), "Edit > Undo greyed out"
    menu.setActiveAction(w.undo_action)
    qtbot.keyClick(menu, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not menu.isVisible())
    QApplication.processEvents()


def _stack(w) -> list[str]:
    s = w.undo_stack
    return [s.text(i) for i in range(s.count())]


def _enter(qtbot, editor, text: str, key=Qt.Key.Key_Return) -> None:
    _type(qtbot, editor, text)
    qtbot.keyClick(editor.lineEdit(), key)


def test_refused_value_then_valid_edit_then_menu_undo(win, qtbot):
    en = win.site_form.editors["energized_mw"]
    before = win.project.portfolio.get(SID).energized_mw
    _enter(qtbot, en, "-5")
    assert win.site_form.error_text and win.last_message == win.site_form.error_text  # refused, said so
    assert _stack(win) == [] and win.project.portfolio.get(SID).energized_mw == before
    _enter(qtbot, en, "12")
    assert win.project.portfolio.get(SID).energized_mw == 12.0
    assert win.undo_stack.count() == 1 and win.undo_stack.index() == 1 and not win.site_form.error_text
    _menu_undo(win, qtbot)
    assert win.project.portfolio.get(SID).energized_mw == before and win.undo_stack.index() == 0
    assert editor_value(en, FIELDS["energized_mw"]) == before


def test_valid_refused_valid_then_menu_undo_steps_back_one_edit(win, qtbot):
    """Two typed edits of one field with a refusal between them are two undo steps: Undo puts back
    the first edit's value, not the value before both (they merged while the merge window was open)."""
    en = win.site_form.editors["energized_mw"]
    before = win.project.portfolio.get(SID).energized_mw
    _enter(qtbot, en, "12")
    _enter(qtbot, en, "-5")
    assert win.site_form.error_text and win.project.portfolio.get(SID).energized_mw == 12.0
    _enter(qtbot, en, "13", Qt.Key.Key_Tab)  # tabbing out commits too
    assert win.project.portfolio.get(SID).energized_mw == 13.0
    assert win.undo_stack.count() == 2 and win.undo_stack.index() == 2, _stack(win)
    _menu_undo(win, qtbot)
    assert win.project.portfolio.get(SID).energized_mw == 12.0 and win.undo_stack.index() == 1
    assert editor_value(en, FIELDS["energized_mw"]) == 12.0
    _menu_undo(win, qtbot)
    assert win.project.portfolio.get(SID).energized_mw == before and win.undo_stack.index() == 0


def test_typed_but_uncommitted_value_then_menu_undo_undoes_it(win, qtbot):
    """As Ctrl+Z in the field: opening Edit commits what is typed, so Undo is enabled and undoes it
    (the refusal before it left the stack empty: Undo was greyed out and the typed value was
    committed later, when the field lost focus)."""
    en = win.site_form.editors["energized_mw"]
    before = win.project.portfolio.get(SID).energized_mw
    _enter(qtbot, en, "-5")
    assert win.site_form.error_text and win.undo_stack.count() == 0
    _type(qtbot, en, "12")  # no Enter
    _menu_undo(win, qtbot)
    assert win.project.portfolio.get(SID).energized_mw == before
    assert win.undo_stack.count() == 1 and win.undo_stack.index() == 0 and win.undo_stack.canRedo()
    assert editor_value(en, FIELDS["energized_mw"]) == before
