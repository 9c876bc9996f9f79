"""Start-up order: the window is built before pandas/geopandas load, and the bundled sample's map
comes from the page shipped beside it (``planner.webmap.page_cache``) on a first start."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from planner.assets import sample_project
from planner.webmap import page_cache
from planner.webmap.options import MapOptions, app_options

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("numpy", "pandas", "geopandas", "pyogrio", "pyarrow", "shapely", "pyproj", "jinja2", "folium", "scipy", "pyqtgraph")


def _stable(html: str) -> str:
    """A page without what differs between two builds of the same data: folium's random element
    ids and the build time it reports."""
    html = re.sub(r"_[0-9a-f]{32}\b", "_ID", html)
    return re.sub(r'"build_seconds":[0-9.e-]+', '"build_seconds":0', html)


def test_shipped_sample_page_is_what_the_builder_makes_today():
    from planner.gis.project import open_project
    from planner.model.readiness import score_portfolio
    from planner.webmap import build_map

    sample = sample_project()
    found = page_cache.seed_page(sample, app_options())
    assert found is not None, ("maps/sample_portfolio.page.html is not this version's page: "
                               "run `python scripts/build_sample.py --page`")
    page, meta = found
    project = open_project(sample)
    scores = dict(score_portfolio(project.portfolio))
    built: dict = {}
    html = _stable(build_map(project, scores, app_options(), meta=built))
    shipped = _stable(page.read_text(encoding="utf-8"))
    at = next((i for i, (a, b) in enumerate(zip(shipped, html)) if a != b), min(len(shipped), len(html)))
    same = len(shipped) == len(html) and at == len(html)
    assert same, f"the shipped page differs from a build at character {at}: ...{shipped[at - 80:at + 80]!r}..."
    assert meta["scores"] == page_cache.scores_digest(scores)
    assert meta["legend_layers"] == json.loads(json.dumps(built["legend_layers"]))


def test_shipped_page_counts_only_for_the_bundled_sample_its_bytes_and_options(tmp_path, monkeypatch):
    sample = sample_project()
    copy = tmp_path / "copy.gpkg"
    shutil.copyfile(sample, copy)
    assert page_cache.seed_page(copy, app_options()) is None  # another file, same bytes: its own cache only
    assert page_cache.seed_page(sample, MapOptions(layer_control=True)) is None  # the exported page's options
    # a sample folder elsewhere (as an installed wheel has it): counts while the bytes are the same
    folder = tmp_path / "maps"
    folder.mkdir()
    for name in (sample.name, page_cache.SEED_PAGE, page_cache.SEED_META):
        shutil.copyfile(sample.parent / name, folder / name)
    monkeypatch.setattr(page_cache, "sample_project", lambda: folder / sample.name)
    assert page_cache.seed_page(folder / sample.name, app_options()) is not None
    with open(folder / sample.name, "ab") as f:  # the sample changed, its page did not
        f.write(b"\0")
    assert page_cache.seed_page(folder / sample.name, app_options()) is None
    shutil.copyfile(sample, folder / sample.name)
    (folder / page_cache.SEED_META).write_text("{not json", encoding="utf-8")
    assert page_cache.seed_page(folder / sample.name, app_options()) is None  # damaged meta: built as usual


def test_window_is_built_and_shown_before_pandas_and_geopandas_load(tmp_path):
    """What start-up puts before the first map: nothing that imports the GIS stack (it loads on
    the worker reading the project; see planner.lazy)."""
    code = (
        "import sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "import PySide6.QtWebEngineWidgets\n"
        "app = QApplication([])\n"
        "from planner.ui.map_view import MapView\n"
        "from planner.ui.main_window import MainWindow\n"
        "view = MapView()\n"
        "w = MainWindow(map_factory=lambda parent: view)\n"
        "w.show()\n"
        "app.processEvents()\n"
        f"print('LOADED', sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
        "from planner.gis.project import open_project\n"
        "from planner.assets import sample_project\n"
        "assert len(open_project(sample_project()).portfolio) == 40\n"  # and the lazy modules work
        "print('READ OK')\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QTWEBENGINE_DISABLE_SANDBOX="1",
               XDG_CONFIG_HOME=str(tmp_path / "config"), PLANNER_CACHE_DIR=str(tmp_path / "cache"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "LOADED []" in out.stdout and "READ OK" in out.stdout, out.stdout


@pytest.mark.gui
def test_first_start_on_the_sample_shows_the_shipped_page_and_keeps_it(qtbot, monkeypatch):
    pytest.importorskip("PySide6.QtWebEngineWidgets")
    from test_map_page_cache import _count_builds

    from planner import app as app_mod
    from planner.settings import AppSettings, cache_dir
    from planner.ui.main_window import MainWindow

    builds = _count_builds(monkeypatch)
    assert not list((cache_dir() / "map-pages").glob("*.html"))  # a fresh profile
    w = MainWindow(AppSettings())
    qtbot.addWidget(w)
    w.show()
    sample = sample_project()
    app_mod._open_start(w, None, sample, None)
    page = w.map_view.html_path
    assert page is not None and len(w.portfolio) == 0  # the shipped page loads before the sample is read
    qtbot.waitUntil(lambda: len(w.portfolio) > 0, timeout=30000)
    assert w.map_view.wait_ready(30000)
    assert w.map_view.html_path == page and builds == []  # kept: no build, no second load
    counts = json.loads(w.map_view.eval_js("plannerMap.countFeatures()"))
    located = sum(1 for s in w.portfolio if s.lat is not None and s.lon is not None)
    assert counts["sites"] == located
    w.set_current_site("CORZ-DEN")  # the bridge works on the shipped page
    qtbot.waitUntil(lambda: w.map_view.eval_js("plannerMap.selected") == "CORZ-DEN", timeout=10000)
    assert len(list((cache_dir() / "map-pages").glob("*.html"))) == 1  # cached for this file from now on
    w.close()


@pytest.mark.gui
def test_a_page_loaded_before_its_window_shows_opens_fitted_as_a_shown_one(qtbot):
    """The app loads the kept page while the window is built (no size yet): the sites must open
    fitted to the map's real size, as in a page loaded on screen (it opened at zoom 2, not 4)."""
    pytest.importorskip("PySide6.QtWebEngineWidgets")
    from PySide6.QtWidgets import QMainWindow

    from planner.ui.map_controller import file_key
    from planner.ui.map_view import MapView

    sample = sample_project()
    views = []
    for shown_first in (False, True):
        view = MapView()
        window = QMainWindow()
        qtbot.addWidget(window)
        window.setCentralWidget(view)
        window.resize(1000, 700)
        if shown_first:
            window.show()
            qtbot.waitExposed(window)
        assert view.preload(file_key(sample), sample)
        if not shown_first:
            qtbot.waitUntil(lambda v=view: v._finished is not None, timeout=20000)  # loaded while hidden
            window.show()
        assert view.wait_ready(20000)
        qtbot.wait(200)  # the window's last layout pass
        views.append(json.loads(view.eval_js("plannerMap.getView()")))
        view.release()
    hidden_first, on_screen = views
    assert hidden_first["zoom"] == on_screen["zoom"] >= 3
    assert abs(hidden_first["lat"] - on_screen["lat"]) < 1 and abs(hidden_first["lon"] - on_screen["lon"]) < 1
    assert hidden_first["legend_collapsed"] == on_screen["legend_collapsed"]


@pytest.mark.gui
def test_a_kept_page_that_loaded_before_the_window_was_built_still_takes_javascript(qtbot):
    """The window sets its own empty project after the map widget was made: when the kept page had
    already loaded by then, scripts to it (selection, the start-up trace) waited for the file's read."""
    pytest.importorskip("PySide6.QtWebEngineWidgets")
    from planner.gis.project import Project
    from planner.ui.map_controller import file_key
    from planner.ui.map_view import MapView

    sample = sample_project()
    view = MapView()
    qtbot.addWidget(view)
    assert view.preload(file_key(sample), sample)
    qtbot.waitUntil(lambda: view._finished == (view.html_path, True), timeout=20000)
    view.set_project(Project())  # what MainWindow's constructor does
    qtbot.wait(50)
    assert view.eval_js("1 + 1", timeout_ms=3000) == 2
    view.release()


@pytest.mark.gui
def test_the_folded_legend_stays_folded_while_the_window_lays_out(qtbot):
    """Review: while the first view follows the window's sizes, a legend folded for being tall measured
    0 px at the next size and unfolded, then folded again: it flipped at every resize."""
    pytest.importorskip("PySide6.QtWebEngineWidgets")
    from PySide6.QtWidgets import QMainWindow

    from planner.ui.map_controller import file_key
    from planner.ui.map_view import MapView

    sample = sample_project()
    view = MapView()
    window = QMainWindow()
    qtbot.addWidget(window)
    window.setCentralWidget(view)
    assert view.preload(file_key(sample), sample)
    qtbot.waitUntil(lambda: view._finished is not None, timeout=20000)  # loaded while hidden
    window.resize(1300, 700)
    window.show()
    assert view.wait_ready(20000)
    shown = "getComputedStyle(document.querySelector('.pm-legend-body')).display"
    states = []
    for size in [(1300, 720), (1320, 700), (1310, 710), (1300, 700)]:
        window.resize(*size)
        qtbot.wait(250)
        states.append(view.eval_js(shown))
    assert states == ["none"] * 4  # a 487 px legend over a ~700 px map: folded, and it stays so
    view.release()
