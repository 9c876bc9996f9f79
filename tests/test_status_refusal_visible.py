"""QA: a refusal in the status bar was cut off where the site counts began ("... is below the
minimum of 0 M" | "40 sites · 2 convertible (decided) · 38 undecided ..."). Typed into the site form
as a user does it, at the window sizes of a laptop: the refusal reads in full, or its full text is the
status bar's tooltip; the counts come back when the message goes."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from test_ui_form_input import _type
from test_ui_main_window import errors, fast_sample, _sample_once, make_window, window  # noqa: F401 - fixtures

pytestmark = pytest.mark.gui
SID = "IREN-CHI"


def _message_room(w) -> int:
    """Pixels QStatusBar gives its message: from its left margin to the first permanent widget."""
    return w.count_label.geometry().left() - 2 - 6


@pytest.mark.parametrize("size", [(1366, 768), (1024, 700)])
def test_form_refusal_reads_in_full_in_the_status_bar(qtbot, window, size):  # noqa: F811
    w = window
    w.showNormal()
    w.resize(*size)
    w.show()
    qtbot.waitExposed(w)
    w.set_current_site(SID)
    w.statusBar().clearMessage()  # the read-only sample's notice
    full_counts = w.count_label.text()
    assert "undecided" in full_counts and "layers" in full_counts
    en = w.site_form.editors["energized_mw"]
    _type(qtbot, en, "-5")
    qtbot.keyClick(en.lineEdit(), Qt.Key.Key_Return)
    bar = w.statusBar()
    message = bar.currentMessage()
    assert message and message == w.site_form.error_text  # refused, and said so in the bar
    qtbot.wait(20)  # the bar lays out its widgets again
    needed = bar.fontMetrics().horizontalAdvance(message)
    shown_in_full = needed <= _message_room(w)
    assert shown_in_full or bar.toolTip() == message, (size, needed, _message_room(w), w.count_label.text())
    if size[0] >= 1366:
        assert shown_in_full, (needed, _message_room(w))  # on a 1366 px laptop it simply reads
    else:  # the counts made room (they kept 512 px for an 848 px message) and keep their full line as a tooltip
        assert w.count_label.text() == "40 sites" and w.count_label.toolTip() == full_counts
        assert shown_in_full, (needed, _message_room(w))
    bar.clearMessage()
    assert w.count_label.text() == full_counts and bar.toolTip() == "" and w.count_label.toolTip() == ""
    longer = f"{message} {message}"  # wider than the whole bar: cut, so it is the bar's tooltip in full
    w.show_status(longer)
    assert bar.toolTip() == longer


def test_the_refused_field_stays_in_view_below_the_banner(qtbot, window):  # noqa: F811
    """QA: the red banner above the form pushed the fields down and left the refused Energized field
    half below the dock's edge."""
    from PySide6.QtCore import QPoint, QRect

    w = window
    w.showNormal()
    w.resize(1366, 768)
    w.show()
    qtbot.waitExposed(w)
    w.set_current_site(SID)
    form = w.site_form
    en = form.editors["energized_mw"]
    viewport = form.scroll.viewport()

    def in_view() -> bool:
        top_left = en.mapTo(viewport, QPoint(0, 0))
        return viewport.rect().contains(QRect(top_left, en.size()))

    qtbot.wait(50)  # the form lays out the site's fields
    bar = form.scroll.verticalScrollBar()  # the field's bottom at the bottom of the view, as QA had it
    bottom = en.mapTo(viewport, QPoint(0, en.height())).y()
    bar.setValue(bar.value() + bottom - viewport.height() + 1)
    qtbot.wait(20)
    assert form.isVisible() and in_view(), (en.mapTo(viewport, QPoint(0, 0)), en.size(), viewport.rect())
    _type(qtbot, en, "-50")
    qtbot.keyClick(en.lineEdit(), Qt.Key.Key_Return)
    assert form.error_text  # refused
    qtbot.waitUntil(in_view, timeout=2000)
