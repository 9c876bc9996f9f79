"""The map page is cached per unedited project version and reused instead of rebuilt."""
from __future__ import annotations

import json

import pytest

pytest.importorskip("PySide6.QtWebEngineWidgets")
pytestmark = pytest.mark.gui

from planner.model.portfolio import Portfolio  # noqa: E402
from planner.model.readiness import score_portfolio  # noqa: E402
from planner.model.site import Site  # noqa: E402
from planner.settings import cache_dir  # noqa: E402
from test_map_view import TIMEOUT_MS, _close  # noqa: E402


def _project():
    from planner.gis.project import Project
    p = Portfolio()
    for i, (lon, lat) in enumerate([(-97.7, 30.3), (-102.1, 31.9), (-95.4, 29.8)]):
        p.add_site(Site.create(site_id=f"S{i}", name=f"Site {i}", lon=lon, lat=lat, status="operating"))
    return Project(portfolio=p)


def _show(project, scores, key):
    from planner.ui.map_view import MapView
    view = MapView()
    view.resize(800, 500)
    view.show()
    view.set_project(project, scores, cache_key=key)
    assert view.wait_ready(TIMEOUT_MS), view.console_messages
    return view


def test_page_is_built_once_per_version_and_reused(qapp, monkeypatch):
    import planner.ui.map_view as mv

    project = _project()
    scores = dict(score_portfolio(project.portfolio))
    builds = []
    real = mv.build_map
    monkeypatch.setattr(mv, "build_map", lambda *a, **k: builds.append(1) or real(*a, **k))
    first = _show(project, scores, "file-a|100|1")
    html = first.html_path.read_text(encoding="utf-8")
    _close(first)
    assert len(builds) == 1 and len(list((cache_dir() / "map-pages").glob("*.html"))) == 1
    # the same version: the cached page, no build, and it works (sites drawn, incremental updates)
    again = _show(project, scores, "file-a|100|1")
    try:
        assert len(builds) == 1 and again.html_path.read_text(encoding="utf-8") == html
        assert json.loads(again.eval_js("plannerMap.countFeatures()"))["sites"] == 3
        again.refresh(scores)  # in-place update needs the legend data the build reported: kept with the page
        assert again.js_errors == []
    finally:
        _close(again)
    # another file version or other scores: built again
    _close(_show(project, scores, "file-a|100|2"))
    assert len(builds) == 2
    rescored = dict(scores)
    rescored.pop("S0")
    _close(_show(project, rescored, "file-a|100|2"))
    assert len(builds) == 3
    # without a key (an edited project) nothing is read from or written to the cache
    _close(_show(project, scores, None))
    assert len(builds) == 4 and len(list((cache_dir() / "map-pages").glob("*.html"))) == 3


def test_window_uses_the_cache_only_for_an_unedited_file(qtbot, tmp_path):
    from planner.assets import sample_project
    from planner.settings import AppSettings
    from planner.ui.main_window import MainWindow

    window = MainWindow(AppSettings())
    qtbot.addWidget(window)
    assert window.map.cache_key() is None  # new, unsaved project
    assert window.open_project(sample_project())
    key = window.map.cache_key()
    assert key is not None and str(sample_project().resolve()) in key
    window.add_site(-97.0, 31.0)  # an edit: the page no longer matches the file
    assert window.map.cache_key() is None
    window.undo_stack.undo()
    assert window.map.cache_key() == key
