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


def _count_builds(monkeypatch) -> list[int]:
    """A list that grows by one for each map page the MapView builds (the real build still runs)."""
    import planner.webmap.builder as builder

    builds: list[int] = []
    real = builder.build_map
    monkeypatch.setattr(builder, "build_map", lambda *a, **k: builds.append(1) or real(*a, **k))
    return builds


def _show(project, scores, key):
    from planner.ui.map_view import MapView
    view = MapView()
    view.resize(800, 500)
    view.show()
    view.set_project(project, scores, cache_key=key)
    assert view.wait_ready(TIMEOUT_MS), view.console_messages
    return view


def test_page_is_built_once_per_version_and_reused(qapp, monkeypatch):
    project = _project()
    scores = dict(score_portfolio(project.portfolio))
    builds = _count_builds(monkeypatch)
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
    # one page per file version (the last scores it was shown with)
    assert len(builds) == 4 and len(list((cache_dir() / "map-pages").glob("*.html"))) == 2


def test_preloaded_page_is_kept_when_the_project_arrives_with_the_same_scores(qapp, monkeypatch):
    import planner.ui.map_view as mv

    project = _project()
    scores = dict(score_portfolio(project.portfolio))
    builds = _count_builds(monkeypatch)
    _close(_show(project, scores, "file-p|1|1"))
    assert len(builds) == 1
    view = mv.MapView()
    try:
        view.resize(800, 500)
        view.show()
        assert not view.preload("file-p|1|2")  # another version: nothing cached, the placeholder stays
        assert view.html_path is None
        assert view.preload("file-p|1|1")  # before the file is read: the page starts loading
        page = view.html_path
        assert page is not None and page.is_file()
        view.set_project(project, scores, cache_key="file-p|1|1")
        assert view.wait_ready(TIMEOUT_MS), view.console_messages
        assert view.html_path == page and len(builds) == 1  # kept: no build, no second load
        assert json.loads(view.eval_js("plannerMap.countFeatures()"))["sites"] == 3
        view.select_site("S1")  # JavaScript and the bridge work on the kept page
        assert view.eval_js("plannerMap.selected") == "S1"
        view.refresh(scores)
        assert view.js_errors == []
    finally:
        _close(view)
    # the project's scores differ from the preloaded page's: built again and replaced
    view = mv.MapView()
    try:
        view.show()
        assert view.preload("file-p|1|1")
        page = view.html_path
        rescored = dict(scores)
        rescored.pop("S0")
        view.set_project(project, rescored, cache_key="file-p|1|1")
        assert view.wait_ready(TIMEOUT_MS), view.console_messages
        assert view.html_path != page and len(builds) == 2
    finally:
        _close(view)


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
