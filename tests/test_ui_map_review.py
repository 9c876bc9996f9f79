"""A portfolio review on a laptop with the real map: the window fits, the app opens on the overview,
the selection drives the popup, the Layers panel and the page agree, edits update the map in place.

One real window (QtWebEngine map, the bundled sample) is shared by the tests of this module.
"""
from __future__ import annotations

import json

import pytest

pytest.importorskip("PySide6.QtWebEngineWidgets")
pytestmark = pytest.mark.gui

TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def review(qapp):
    from PySide6.QtCore import QCoreApplication, QEvent

    from planner.assets import sample_project
    from planner.settings import AppSettings
    from planner.ui import dialogs
    from planner.ui.main_window import MainWindow
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(dialogs, "show_error", lambda *a: None)
        mp.setattr(dialogs, "ask_save_changes", lambda *a: "discard")
        w = MainWindow(AppSettings())
        w.resize(1366, 740)
        w.show()
        assert w.open_project(sample_project())
        assert w.map_view.wait_ready(TIMEOUT_MS), w.map_view.console_messages
        _wait(lambda: w.map_view.eval_js("!!plannerMap.bridgeReady") is True)
        yield w
        w.close()
        w.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        QCoreApplication.processEvents()


def _wait(cond, timeout_ms: int = TIMEOUT_MS) -> None:
    from planner.reports.render_qt import _wait as spin
    assert spin(cond, timeout_ms), "condition not met in time"


def _js(w, code):
    return w.map_view.eval_js(code)


def _view(w) -> dict:
    return json.loads(_js(w, "plannerMap.getView()"))


def _popup(w) -> str:
    return _js(w, "(function(){var p=document.querySelectorAll('.leaflet-popup-content');"
                  "return p.length + '|' + (p.length ? p[0].textContent : '');})()")


def test_window_fits_1280x720_and_up(review):
    hint = review.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 700, hint
    review.resize(1024, 700)
    _wait(lambda: review.height() <= 720)
    assert review.statusBar().geometry().bottom() <= review.height()  # the status bar is on screen
    # every dock of the bottom and right groups is reachable (shown, maybe as a tab)
    docks = [review.sites_dock, review.form_dock, review.layers_dock] + review.panel_docks
    assert all(not d.isHidden() for d in docks)
    review.resize(1366, 740)


def test_opens_on_the_portfolio_overview(review, qtbot):
    assert review.current_site == "" and not _js(review, "plannerMap.selected")
    before = _view(review)
    review.table.setFocus()  # keyboard focus arriving on the table used to select its first row
    qtbot.wait(300)
    assert review.current_site == "" and _view(review)["zoom"] == before["zoom"]
    assert _popup(review).startswith("0|")


def test_popup_follows_the_table_selection(review, qtbot):
    p = review.portfolio
    a, b = p.get("CORZ-DEN"), p.get("IREN-CHI")
    for site in (a, b):
        row = review.proxy.mapFromSource(review.table_model.index(review.table_model.row_of(site.site_id), 1))
        review.table.selectRow(row.row())
        assert review.current_site == site.site_id
        _wait(lambda s=site: _popup(review) == f"1|{_popup(review)[2:]}" and s.name in _popup(review))
        assert (a.name if site is b else b.name) not in _popup(review)  # never another site's popup
    # a click on another marker moves the selection and the popup together, without moving the view
    view = _view(review)
    review.map_view.run_js("var m = plannerMap.marker('CORZ-DEN'); m.fire('click', {latlng: m.getLatLng()});")
    _wait(lambda: review.current_site == "CORZ-DEN" and a.name in _popup(review))
    assert _view(review)["zoom"] == view["zoom"]
    review.set_current_site("")
    _wait(lambda: _popup(review).startswith("0|"))


def test_site_popup_is_drawn_over_the_title_box(review, qtbot):
    """On a small map the title box ("Site Conversion Planner / 38 of 40 sites shown") drew over
    the popup: the popup is on top wherever they overlap."""
    review.set_current_site("CORZ-DEN")
    _wait(lambda: "Denton" in _popup(review))
    qtbot.wait(600)  # the popup's auto-pan settles
    # move the view so that the popup's top-left corner lands inside the title box
    review.map_view.run_js(
        "(function(){var p=document.querySelector('.leaflet-popup').getBoundingClientRect();"
        "var t=document.querySelector('.pm-title').getBoundingClientRect();"
        "plannerMap.map.panBy([p.left - (t.left + 20), p.top - (t.top + 20)], {animate: false});})()")
    qtbot.wait(300)
    probe = ("(function(){var p=document.querySelector('.leaflet-popup').getBoundingClientRect();"
             "var t=document.querySelector('.pm-title').getBoundingClientRect();"
             "var x=(Math.max(p.left,t.left)+Math.min(p.right,t.right))/2, y=(Math.max(p.top,t.top)+Math.min(p.bottom,t.bottom))/2;"
             "var overlap=Math.min(p.right,t.right)>Math.max(p.left,t.left) && Math.min(p.bottom,t.bottom)>Math.max(p.top,t.top);"
             "var e=document.elementFromPoint(x, y);"
             "return overlap + '|' + !!(e && e.closest('.leaflet-popup'));})()")
    _wait(lambda: _js(review, probe) == "true|true")
    review.set_current_site("")
    _wait(lambda: _popup(review).startswith("0|"))
    assert _js(review, "document.querySelector('.pm-title').classList.contains('pm-under-popup')") is False


def test_layers_panel_page_and_legend_agree(review):
    panel = review.layers_panel
    for kind in ("pops", "flares", "fibre"):
        for name, layer in review.project.layers.items():
            if layer.kind != kind:
                continue
            shown = panel.is_visible(name)
            assert _js(review, f"plannerMap.layerVisibleByName({json.dumps(name)})") is shown, name
            panel.set_visible(name, not shown)
            _wait(lambda n=name, s=shown: _js(review, f"plannerMap.layerVisibleByName({json.dumps(n)})") is (not s))
            assert layer.style["visible"] is (not shown)  # the exports read the same flag
            off = _js(review, f"(function(){{var r=document.querySelector('.pm-legend [data-layer=\"{name}\"]');"
                              "return r ? r.classList.contains('pm-off') : null;})()")
            assert off in (None, shown)
            panel.set_visible(name, shown)
            _wait(lambda n=name, s=shown: _js(review, f"plannerMap.layerVisibleByName({json.dumps(n)})") is s)
    assert _js(review, "document.querySelectorAll('.leaflet-control-layers').length") == 0  # one switch: the panel


def test_edits_update_the_map_in_place(review, qtbot):
    page = review.map_view.html_path
    review.map_view.run_js("plannerMap.setView(33.0, -99.0, 7); plannerMap.setLegendCollapsed(true);")
    review.set_current_site("IREN-CHI")
    _wait(lambda: _js(review, "plannerMap.selected") == "IREN-CHI")
    qtbot.wait(600)  # the popup's auto-pan (animated) settles
    before = _view(review)
    model = review.table_model
    cell = model.index(model.row_of("IREN-CHI"), model.column_of("energized_mw"))
    assert model.setData(cell, 123.0)
    _wait(lambda: "123 MW" in _popup(review))  # the popup shows the edited value
    after = _view(review)
    assert review.map_view.html_path == page  # no page rebuild
    assert (after["lat"], after["lon"], after["zoom"]) == pytest.approx((before["lat"], before["lon"], before["zoom"]))
    assert after["legend_collapsed"] is True and after["selected"] == "IREN-CHI"
    review.undo_stack.undo()
    _wait(lambda: "123 MW" not in _popup(review))
    # a layer change rebuilds the page but keeps the place, the selection and the legend state
    name = next(iter(review.project.layers))
    review.remove_layer(name)
    _wait(lambda: review.map_view.html_path != page and review.map_view.wait_ready(TIMEOUT_MS))
    _wait(lambda: _view(review)["selected"] == "IREN-CHI")
    again = _view(review)
    assert again["zoom"] == before["zoom"] and again["legend_collapsed"] is True
    review.undo_stack.undo()
    review.set_current_site("")


def test_zoom_to_all_sites(review):
    review.map_view.run_js("plannerMap.setView(33.0, -99.0, 11)")
    _wait(lambda: _view(review)["zoom"] == 11)
    review.zoom_to_sites_action.trigger()
    _wait(lambda: _view(review)["zoom"] < 6)
    # the first press frames the main group (not the world: the sample has sites in PY, NO, BT) ...
    first = _view(review)["zoom"]
    assert first >= 3 and _js(review, "plannerMap.map.getBounds().contains([31.0, -97.0])")  # Texas
    assert not _js(review, "plannerMap.map.getBounds().contains([-25.46, -55.0])")  # Paraguay
    # ... the second every site
    review.zoom_to_sites_action.trigger()
    _wait(lambda: _view(review)["zoom"] < first)
    assert _js(review, "plannerMap.map.getBounds().contains([-25.46, -55.0])"), (_view(review), _js(review, "plannerMap.map.getBounds().toBBoxString()"), _js(review, "JSON.stringify(plannerMap.map.getSize())"))
    assert "Zoom to all sites" in " ".join(a.text().replace("&", "") for a in review.view_menu.actions())


def test_the_map_follows_the_table_filter(review, qtbot):
    """Typing a filter in the Sites dock limits the map's markers, legend counts and subtitle to the
    rows shown (the QA walkthrough saw "38 of 40 sites shown" with two rows in the table)."""
    def markers():
        return json.loads(_js(review, "plannerMap.countFeatures()"))["sites"]

    def subtitle():
        return _js(review, "document.querySelector('.pm-title .pm-sub').textContent")

    all_markers = markers()
    qtbot.keyClicks(review.sites.filter_edit, "riot")
    rows = review.sites.shown
    ids = review.sites.shown_site_ids()
    assert 0 < rows < all_markers and ids is not None and len(ids) == rows
    located = sum(1 for s in review.project.portfolio if s.site_id in ids and s.lat is not None)
    _wait(lambda: markers() == located)
    assert subtitle() == f"{located} of {len(review.project.portfolio)} sites shown (table filter: {rows} sites match)"
    assert all(_js(review, f"plannerMap.marker({json.dumps(sid)}) !== null") for sid in ids)
    assert _js(review, "plannerMap.marker('IREN-CHI') === null")
    # a page rebuild (a layer removed) keeps the filter
    page = review.map_view.html_path
    name = next(iter(review.project.layers))
    review.remove_layer(name)
    _wait(lambda: review.map_view.html_path != page and review.map_view.wait_ready(TIMEOUT_MS))
    _wait(lambda: markers() == located)
    review.undo_stack.undo()
    review.sites.filter_edit.clear()  # cleared: every site again
    _wait(lambda: markers() == all_markers)
    assert "table filter" not in subtitle() and review.sites.shown_site_ids() is None
