"""Start-up: what is not on screen is built when the analyst opens it, and then works.

The chart panels and the assumptions editor are built when their dock first shows (a tab
raised, View > Panels checked); the Problems list computes its next facts only while shown.
Each is opened here the way a user opens it and its content checked.
"""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QScrollArea
from test_ui_main_window import FakeMap, fast_sample, _sample_once, errors, make_window  # noqa: F401  (fixtures)

from planner.assets import sample_project
from planner.settings import AppSettings
from planner.ui.main_window import MainWindow

pytestmark = pytest.mark.gui

SID = "CORZ-DEN"  # Denton, Texas


@pytest.fixture
def shown(qtbot, make_window):  # noqa: F811
    w = make_window()
    w.resize(1366, 768)
    w.show()
    qtbot.waitExposed(w)
    assert w.open_project(sample_project())
    return w


def _panel_in_dock(w: MainWindow, key: str):
    area = w.panels.docks[key].widget()
    assert isinstance(area, QScrollArea)
    return area.widget()


def test_panels_wait_until_their_tab_is_raised_then_draw_the_selected_site(shown, qtbot):
    w = shown
    assert w.sites_dock.isVisible()
    assert not any(w.panels.is_built(k) for k in ("paths", "mining", "hybrid", "market", "readiness", "assumptions"))
    w.set_current_site(SID)
    w.panels.docks["mining"].raise_()  # what clicking the "Mining economics" tab does
    qtbot.waitUntil(lambda: w.panels.is_built("mining"), timeout=5000)
    panel = _panel_in_dock(w, "mining")
    assert type(panel).__name__ == "MiningPanel" and w.panels["mining"] is panel
    qtbot.waitUntil(lambda: not panel.is_dirty, timeout=10000)  # drawn for the selected site once shown
    assert set(panel.charts) == {"hashprice", "network", "revenue", "payback"} and panel.caption.text()
    assert not w.panels.is_built("paths")  # the other tabs still wait


def test_closed_panel_is_built_by_its_view_menu_action(shown, qtbot):
    w = shown
    dock = w.panels.docks["assumptions"]
    dock.close()
    assert not w.panels.is_built("assumptions")
    action = dock.toggleViewAction()
    assert action in w.docks_menu.actions()
    action.trigger()  # View > Panels > Assumptions
    dock.raise_()
    qtbot.waitUntil(lambda: w.panels.is_built("assumptions"), timeout=5000)
    editor = _panel_in_dock(w, "assumptions")
    assert editor is w.assumptions_editor and "btc_price_usd" in editor.editors
    assert editor.set_weight("power_scale", 40.0)  # edits reach the session through the editor
    assert w.scores[SID].criterion("power_scale").weight == 40.0


def test_panels_are_built_on_lookup_for_scripts(shown):
    w = shown
    panel = w.panels["readiness"]  # code asking for a panel gets it built (not shown)
    assert w.panels.is_built("readiness") and _panel_in_dock(w, "readiness") is panel
    w.set_current_site(SID)
    panel.flush()
    assert panel.charts["criteria"].values["keys"][0] == "power_scale"


def test_problems_dock_fills_next_facts_only_once_shown(shown, qtbot):
    w = shown
    panel = w.problems_panel
    dock = next(d for d in w.panel_docks if d.objectName() == "problemsDock")
    w.tabifyDockWidget(w.sites_dock, dock)  # as on a laptop screen: a tab behind the sites
    w.sites_dock.raise_()
    qtbot.waitUntil(lambda: panel.visibleRegion().isEmpty())  # Qt 6: a tab behind stays isVisible()
    panel.refresh()  # e.g. the project opened while the tab was behind
    qtbot.wait(50)
    assert panel.facts_pending
    assert not any("\u2014 next: " in panel.list.item(i).text() for i in range(panel.list.count()))
    dock.raise_()  # the Problems tab
    qtbot.waitUntil(lambda: not panel.facts_pending, timeout=20000)
    texts = [panel.list.item(i).text() for i in range(panel.list.count())]
    gaps = [t for t in texts if t.split(" ", 1)[0] in w.portfolio.ids() and ": no " in t]
    assert gaps and all("\u2014 next: " in t for t in gaps)


def test_map_says_loading_until_the_page_comes(qtbot):
    from test_map_page_cache import _project

    from planner.ui.map_view import LOADING_TEXT, MapView
    view = MapView()
    qtbot.addWidget(view)
    view.resize(800, 500)
    view.show()
    # a Qt label over the view (Chromium paints white while a page loads), and the warm-up page says it too
    assert view.overlay_text == LOADING_TEXT and view.overlay.geometry() == view.rect()
    text = "document.getElementById('pm-placeholder') ? document.getElementById('pm-placeholder').textContent : ''"
    qtbot.waitUntil(lambda: view.eval_js(text) == LOADING_TEXT, timeout=20000)
    view.set_placeholder("No project open <b>")
    qtbot.waitUntil(lambda: view.eval_js(text) == "No project open <b>", timeout=20000)  # text, not markup
    assert view.overlay_text == "No project open <b>"
    view.set_project(_project())
    assert view.wait_ready(20000)
    assert view.overlay_text == ""  # the map shows
    view.release()


def test_start_project_is_read_on_a_worker_while_its_cached_page_loads(qtbot, tmp_path, monkeypatch, errors):  # noqa: F811
    """Second start on the same file: the cached page loads before the file is read, and is kept."""
    import shutil

    from planner import app as app_mod
    from tests.test_map_page_cache import _count_builds

    project = tmp_path / "p.gpkg"
    shutil.copyfile(sample_project(), project)
    builds = _count_builds(monkeypatch)

    def start(settings):
        w = MainWindow(settings)
        qtbot.addWidget(w)
        w.show()
        app_mod._open_start(w, project, project, None)
        return w

    first = start(AppSettings())
    qtbot.waitUntil(lambda: len(first.portfolio) > 0, timeout=30000)
    assert first.map_view.wait_ready(30000) and len(builds) == 1
    first.close()
    second = start(AppSettings())
    page = second.map_view.html_path
    assert page is not None and len(second.portfolio) == 0  # the page loads before the file is read
    assert second.statusBar().currentMessage() == "Opening p.gpkg\u2026"  # said while it is read
    assert second.windowTitle().startswith("p.gpkg (opening") and second.count_label.text() == ""
    second.statusBar().showMessage("Opening p.gpkg\u2026 (again)", 100)  # any message meanwhile
    assert second.count_label.text() == ""  # the old "0 sites ..." does not come back with it
    qtbot.waitUntil(lambda: len(second.portfolio) > 0, timeout=30000)
    assert second.statusBar().currentMessage() != "Opening p.gpkg\u2026"
    assert second.windowTitle().startswith("p.gpkg - ") and second.count_label.text().startswith("40 sites")
    assert second.map_view.wait_ready(30000)
    assert second.map_view.html_path == page and len(builds) == 1  # kept: no build, no second load
    sid = "CORZ-DEN"
    second.set_current_site(sid)
    qtbot.waitUntil(lambda: second.map_view.eval_js("plannerMap.selected") == sid, timeout=10000)
    second.close()


def test_planner_without_a_command_goes_straight_to_the_window(monkeypatch, tmp_path):
    """``planner`` / ``planner P.gpkg`` start the GUI without building the subcommands' help first."""
    from planner import app as app_mod
    from planner import cli

    started = []
    monkeypatch.setattr(app_mod, "run_gui", lambda project=None: started.append(project) or 0)
    monkeypatch.setattr(cli, "build_parser", lambda: (_ for _ in ()).throw(AssertionError("parser built")))
    assert cli.main([]) == 0 and cli.main([str(sample_project())]) == 0
    assert cli.main(["new.gpkg"]) == 0  # a new file name: the window says it cannot open it
    assert started == [None, str(sample_project()), "new.gpkg"]
    assert cli._opens_gui([]) and not cli._opens_gui(["info", "x.gpkg"]) and not cli._opens_gui(["--version"])
    assert not cli._opens_gui(["info"]) and not cli._opens_gui([str(tmp_path / "missing")])


def test_run_gui_reads_the_start_project_once_on_a_worker(qtbot, monkeypatch, errors):  # noqa: F811
    from PySide6.QtWidgets import QApplication

    from planner import app as app_mod
    from planner.gis import project as gis_project
    from planner.ui import main_window, project_files

    windows: list = []
    real_window = main_window.MainWindow
    monkeypatch.setattr(QApplication, "exec", lambda self: 0)
    monkeypatch.setattr(main_window, "MainWindow",
                        lambda settings, map_factory: windows.append(real_window(settings, map_factory=map_factory))
                        or windows[-1])
    reads = []
    real_open = gis_project.open_project
    monkeypatch.setattr(gis_project, "open_project", lambda p, **k: reads.append(p) or real_open(p))
    monkeypatch.setattr(project_files, "gis_open_project", lambda p: reads.append(p) or real_open(p))
    assert app_mod.run_gui(str(sample_project())) == 0
    assert windows and len(windows[0].portfolio) == 0  # the window shows first; the project opens after it
    qtbot.waitUntil(lambda: len(windows[0].portfolio) > 0, timeout=30000)
    w = windows[0]
    assert len(reads) == 1 and w.windowTitle().startswith("sample_portfolio.gpkg")
    assert w.sites.table_model.rowCount() == len(w.portfolio) and not errors
    w.close()


def test_a_built_panel_behind_a_tab_waits_and_redraws_when_raised(shown, qtbot):
    """Qt 6 keeps a dock tab behind another isVisible(): the panel must not redraw on every selection."""
    w = shown
    w.set_current_site(SID)
    w.panels.docks["mining"].raise_()
    qtbot.waitUntil(lambda: w.panels.is_built("mining") and not w.panels["mining"].is_dirty, timeout=10000)
    mining = w.panels["mining"]
    w.sites_dock.raise_()  # back to the table
    qtbot.waitUntil(lambda: mining.visibleRegion().isEmpty())
    drawn = mining.refresh_count
    other = next(s.site_id for s in w.portfolio if s.site_id != SID and s.has_location)
    w.set_current_site(other)
    qtbot.wait(100)
    assert mining.is_dirty and mining.refresh_count == drawn  # behind the table: waits
    w.panels.docks["mining"].raise_()  # the tab clicked again
    qtbot.waitUntil(lambda: not mining.is_dirty, timeout=10000)
    from planner.ui.panels.base import cached_mining
    assert mining.refresh_count == drawn + 1
    assert mining.data is cached_mining(w.portfolio.get(other), w.session.assumptions())  # the new site's


@pytest.mark.parametrize("name", ["missing.gpkg", "not_a_gpkg.gpkg"])
def test_title_is_the_windows_own_again_after_a_start_file_fails_to_open(qtbot, tmp_path, monkeypatch, name):
    """QA: after 'planner fake.gpkg' the error was clear but the title kept 'fake.gpkg (opening…)'."""
    from planner import app as app_mod
    from planner.ui import dialogs

    errors: list[str] = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, message: errors.append(message))
    path = tmp_path / name
    if name.startswith("not_"):
        path.write_text("this is not a GeoPackage\n", encoding="utf-8")
    w = MainWindow(AppSettings(), map_factory=FakeMap)
    qtbot.addWidget(w)
    w.show()
    app_mod._open_start(w, path, path, None)
    assert "(opening" in w.windowTitle()  # while it is read
    qtbot.waitUntil(lambda: bool(errors), timeout=20000)
    assert "(opening" not in w.windowTitle() and w.statusBar().currentMessage() != f"Opening {name}\u2026"
    assert w.count_label.full_text().startswith("0 sites")
