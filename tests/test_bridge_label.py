"""The bridge chart's "best: year N ($xM)" label never covers the curve and stays inside the plot:
checked on the drawn geometry (label rectangle against the curve sampled every pixel, in the view
box's pixel frame) in the Paths panel at 1000 and 1366 px, for every sample site and for curve
shapes the sample does not have (best in the middle, best last, flat, negative)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from planner.plots import bridge_chart
from planner.plots.workarounds import label_layer
from planner.ui.panels import PathsPanel

from test_ui_panels import _panel, _sample, host  # noqa: F401 - fixtures

pytestmark = pytest.mark.gui


def _curve_px(vb, xs, ys) -> np.ndarray:
    pts = np.array([[p.x(), p.y()] for p in (vb.mapFromView(QPointF(float(x), float(y))) for x, y in zip(xs, ys))])
    return np.concatenate([a + (b - a) * np.linspace(0, 1, int(np.hypot(*(b - a))) + 2)[:, None]
                           for a, b in zip(pts[:-1], pts[1:])])


def _check(panel, where) -> None:
    plot = panel.plots["bridge"].getPlotItem()
    chart = panel.charts["bridge"]
    layer = label_layer(plot)
    frame = layer.vb.boundingRect()
    [rect] = [r for t, r in layer.rects() if t.startswith("best: year")]
    assert frame.contains(rect), (where, rect, frame)
    px = _curve_px(layer.vb, chart.values["years"], chart.values["npv_musd"])
    inside = ((px[:, 0] >= rect.left()) & (px[:, 0] <= rect.right())
              & (px[:, 1] >= rect.top()) & (px[:, 1] <= rect.bottom()))
    assert not inside.any(), (where, rect, px[inside][:3])
    best = chart.values["best"]
    star = layer.vb.mapFromView(QPointF(float(best), float(chart.values["npv_musd"][best])))
    assert not rect.adjusted(-6, -6, 6, 6).contains(star), (where, rect, star)  # nor the star


SHAPES = {  # NPV ($) by conversion year
    "best in the middle": np.array([100, 180, 260, 300, 290, 240, 180, 120, 90, 80]) * 1e6,
    "best last (never convert)": np.linspace(50, 400, 16) * 1e6,
    "flat": np.full(16, 250e6),
    "all negative, best first": -np.linspace(20, 300, 12) ** 1.2 * 1e6,
    "zigzag": np.array([200, 205, 190, 207, 185, 206, 150]) * 1e6,
}


def test_best_label_clear_of_the_curve_for_every_sample_site(qtbot, host):  # noqa: F811
    panel = _panel(qtbot, PathsPanel, host)
    panel.show()
    ids = [s.site_id for s in host.project.portfolio]
    checked = 0
    for width in (1000, 1366):  # the Paths dock, full width at 1000 and 1366 px
        panel.resize(width, 420)
        qtbot.wait(20)
        for sid in ids:
            host.set_current_site(sid)
            panel.flush()
            panel._tornado_timer.stop()  # the sensitivity run is not drawn here: not started 40 times
            if panel.charts["bridge"].values.get("best") is None:
                continue
            _check(panel, (width, sid))
            checked += 1
        for name, npv in SHAPES.items():
            comp = SimpleNamespace(unavailable_reason=None, bridge_npv_usd=npv, best_bridge_year=int(np.argmax(npv)))
            panel.draw("bridge", bridge_chart, comp)
            _check(panel, (width, name))
    assert checked >= 50  # 29 sample sites have a bridge curve: 58 charts
