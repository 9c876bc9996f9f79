"""The bridge chart's x-axis label reads in full in the Paths dock of a laptop window."""
from __future__ import annotations

import os

import pytest
from PySide6.QtWidgets import QApplication

from test_ui_main_window import errors, fast_sample, _sample_once, make_window, window  # noqa: F401 - fixtures

pytestmark = pytest.mark.gui


def _paths_dock(w):
    [dock] = [d for d in w.panel_docks if d.windowTitle() == "Paths"]
    return dock


@pytest.mark.parametrize("size", [(1366, 768), (1000, 768)])
def test_bridge_axis_label_shows_in_full_in_the_paths_dock(qtbot, window, size):  # noqa: F811
    """QA: "Conversion year N (0 = now, last = never)" was cut at both ends in the narrow bridge chart of the
    Paths dock (the window at 1366x768 and at 1000 px wide, a site selected, the Paths tab raised)."""
    w = window
    w.showNormal()
    w.resize(*size)
    w.show()
    qtbot.waitExposed(w)
    w.set_current_site("CORZ-DEN")
    dock = _paths_dock(w)
    dock.show()
    dock.raise_()
    panel = w.panels["paths"]
    panel.flush()
    panel._tornado_timer.stop()  # the sensitivity run is not what is looked at here (nor left running)
    QApplication.processEvents()
    pw = panel.plots["bridge"]
    plot = pw.getPlotItem()
    axis = plot.getAxis("bottom")
    label = axis.label
    rect = pw.mapFromScene(label.mapRectToScene(label.boundingRect())).boundingRect()
    view = pw.viewport().rect()
    if os.environ.get("PLANNER_GRAB"):
        w.grab().save(f"{os.environ['PLANNER_GRAB']}/window_{size[0]}.png")
        pw.grab().save(f"{os.environ['PLANNER_GRAB']}/bridge_{size[0]}.png")
    assert view.contains(rect), (size, rect, view, axis.labelText)  # was 267 px wide in a 208-286 px chart
    # what "0" and "last" mean is still on the chart: in the legend (it wraps) and the axis tooltip
    legend = [label.text.replace("<br>", " ") for _sample, label in plot._planner_legend.items]
    assert any("0 = now, last = never" in t for t in legend), legend
    assert "never converts" in axis.toolTip()
