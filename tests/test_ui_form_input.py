"""Form input on a laptop: the wheel never changes an unfocused field, Ctrl+Z works from a field,
out-of-range numbers are refused with a message in the user's words instead of being clamped."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from planner.model.fields import FIELDS
from planner.ui.delegates import create_editor, editor_value

from test_ui_main_window import errors, fast_sample, _sample_once, make_window, window  # noqa: F401 - fixtures

pytestmark = pytest.mark.gui
SID = "IREN-CHI"  # Childress, Texas


@pytest.fixture
def win(qtbot, window):  # noqa: F811
    w = window  # the sample opened in a window with a test double of the map
    w.set_current_site(SID)
    w.show()
    w.activateWindow()
    qtbot.waitExposed(w)
    return w


def _wheel(widget, steps: int = 3) -> None:
    pos = QPointF(widget.rect().center())
    ev = QWheelEvent(pos, QPointF(widget.mapToGlobal(pos.toPoint())), QPoint(0, 0), QPoint(0, 120 * steps),
                     Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, ev)


def test_wheel_over_an_unfocused_spin_box_scrolls_the_form_not_the_value(win, qtbot):
    form = win.site_form
    lon = form.editors["lon"]
    before = win.project.portfolio.get(SID).lon
    assert lon.focusPolicy() == Qt.FocusPolicy.StrongFocus and not lon.hasFocus()
    bar = form.scroll.verticalScrollBar()
    bar.setValue(bar.maximum())
    start = bar.value()
    _wheel(lon)
    assert editor_value(lon, FIELDS["lon"]) == pytest.approx(before)
    assert win.project.portfolio.get(SID).lon == before and win.undo_stack.count() == 0
    if start > 0:
        assert bar.value() < start  # the wheel went to the scroll area
    # with focus the wheel steps the value as usual
    lon.setFocus()
    qtbot.waitUntil(lon.hasFocus)
    _wheel(lon, 1)
    assert editor_value(lon, FIELDS["lon"]) != pytest.approx(before)


@pytest.mark.parametrize("name", ["status", "water_source", "expected_energization_date", "transformer_count"])
def test_wheel_over_unfocused_combo_date_and_int_editors_is_ignored(win, name):
    editor = win.site_form.editors[name]
    before = editor_value(editor, FIELDS[name])
    _wheel(editor, -2)
    assert editor_value(editor, FIELDS[name]) == before and win.undo_stack.count() == 0


def test_table_editors_and_bulk_dialog_share_the_guard(qtbot):
    w = create_editor(FIELDS["energized_mw"], None)
    qtbot.addWidget(w)
    w.setValue(50.0)
    _wheel(w)
    assert w.value() == 50.0


def _type(qtbot, editor, text: str) -> None:
    editor.setFocus()
    qtbot.waitUntil(editor.hasFocus)
    editor.lineEdit().selectAll()
    qtbot.keyClicks(editor.lineEdit(), text)


def test_ctrl_z_right_after_a_form_edit_undoes_it(win, qtbot):
    form = win.site_form
    en = form.editors["energized_mw"]
    before = win.project.portfolio.get(SID).energized_mw
    _type(qtbot, en, "12")
    qtbot.keyClick(en, Qt.Key.Key_Return)
    assert win.project.portfolio.get(SID).energized_mw == 12.0 and en.hasFocus()
    qtbot.keyClick(en, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert win.project.portfolio.get(SID).energized_mw == before
    assert editor_value(en, FIELDS["energized_mw"]) == before  # the field shows the stored value again
    qtbot.keyClick(en, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert win.project.portfolio.get(SID).energized_mw == 12.0


def test_ctrl_z_with_a_typed_but_uncommitted_value_commits_then_undoes(win, qtbot):
    form = win.site_form
    name = form.editors["name"]
    before = win.project.portfolio.get(SID).name
    name.setFocus()
    qtbot.waitUntil(name.hasFocus)
    name.selectAll()
    qtbot.keyClicks(name, "Childress North")
    qtbot.keyClick(name, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert win.project.portfolio.get(SID).name == before and name.text() == before
    assert win.undo_stack.canRedo()  # the typed value is one Redo away, not lost


@pytest.mark.parametrize("typed, needle", [
    ("99,999,999", "Energized (MW) of IREN-CHI: 99,999,999 MW is above the maximum 10,000 MW. "
                   "Enter a value between 0 and 10,000 MW."),
    ("-5", "Energized (MW) of IREN-CHI: -5 MW is below the minimum 0 MW"),
])
def test_out_of_range_typing_is_refused_with_a_message_not_clamped(win, qtbot, typed, needle):
    form = win.site_form
    en = form.editors["energized_mw"]
    before = win.project.portfolio.get(SID).energized_mw
    _type(qtbot, en, typed)
    qtbot.keyClick(en, Qt.Key.Key_Return)
    assert win.project.portfolio.get(SID).energized_mw == before and win.undo_stack.count() == 0
    assert form.error_text.startswith(needle)
    assert "energized_mw" not in form.error_text and win.last_message == form.error_text
    assert editor_value(en, FIELDS["energized_mw"]) == before
    assert win.statusBar().currentMessage() == form.error_text
    _type(qtbot, en, "12")  # the next accepted edit clears the stale refusal from the status bar
    qtbot.keyClick(en, Qt.Key.Key_Return)
    assert win.project.portfolio.get(SID).energized_mw == 12.0 and win.statusBar().currentMessage() == ""
