"""QA: in the sites table, two quick edits of a cell with a refused value between them merged into one
undo step (the site form had the same bug, fixed in f92621e). Driven as a user: F2 on the cell, type,
Enter; a refused value; another value; Edit > Undo once from the menu puts back the first value.
Quick bursts of valid edits still merge (test_ui_table.test_edit_bursts_merge_and_later_edits_do_not)."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractSpinBox, QApplication

from test_form_undo_after_refusal import _menu_undo, _stack
from test_ui_main_window import errors, fast_sample, _sample_once, make_window, window  # noqa: F401 - fixtures

pytestmark = pytest.mark.gui
SID = "IREN-CHI"


def _type_in_cell(qtbot, w, site_id: str, field: str, text: str) -> None:
    """Select the cell, F2, type ``text`` over what is there, Enter."""
    model, table = w.table_model, w.table
    index = w.proxy.mapFromSource(model.index(model.row_of(site_id), model.column_of(field)))
    table.setCurrentIndex(index)
    table.scrollTo(index)
    table.setFocus()
    qtbot.waitUntil(table.hasFocus)
    qtbot.keyClick(table, Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: isinstance(QApplication.focusWidget(), QAbstractSpinBox)
                    or isinstance(QApplication.focusWidget().parent(), QAbstractSpinBox))
    focus = QApplication.focusWidget()
    editor = focus if isinstance(focus, QAbstractSpinBox) else focus.parent()
    editor.lineEdit().selectAll()
    qtbot.keyClicks(focus, text)  # where the keyboard goes: the focus widget
    qtbot.keyClick(focus, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: table.state() != table.State.EditingState)


def test_table_edit_refusal_edit_then_menu_undo_gives_back_the_first_edit(qtbot, window):  # noqa: F811
    w = window
    w.show()
    qtbot.waitExposed(w)
    w.set_current_site(SID)
    before = w.project.portfolio.get(SID).energized_mw
    _type_in_cell(qtbot, w, SID, "energized_mw", "12")
    assert w.project.portfolio.get(SID).energized_mw == 12.0 and w.undo_stack.count() == 1
    _type_in_cell(qtbot, w, SID, "energized_mw", "-5")  # refused: said so, nothing changed
    assert "below the minimum" in w.last_message and w.project.portfolio.get(SID).energized_mw == 12.0
    _type_in_cell(qtbot, w, SID, "energized_mw", "13")  # well within the 2 s merge window
    assert w.project.portfolio.get(SID).energized_mw == 13.0
    assert w.undo_stack.count() == 2, _stack(w)  # the refusal ended the burst
    _menu_undo(w, qtbot)
    assert w.project.portfolio.get(SID).energized_mw == 12.0
    _menu_undo(w, qtbot)
    assert w.project.portfolio.get(SID).energized_mw == before
