"""The project file in a shared GIS world (issue #13), each numbered case with a real outside client
where one exists: Debian's GDAL 3.6 (``ogr2ogr``/``ogrinfo``) edits the project the way QGIS does,
two processes import at once, and an unprivileged user (``setpriv``) saves read-only, private and
symlinked projects.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import geopandas as gpd
from PySide6.QtCore import Qt
import pytest
import shapely

from planner.cli import main as cli_main
from planner.gis.lock import ProjectLock
from planner.gis.project import MapLayer, Project, default_style, open_project, save_project
from planner.model.portfolio import Portfolio
from planner.model.site import Site

REPO = Path(__file__).resolve().parent.parent
HAVE_GDAL = shutil.which("ogr2ogr") is not None and shutil.which("ogrinfo") is not None
needs_gdal = pytest.mark.skipif(not HAVE_GDAL, reason="Debian gdal-bin (ogr2ogr, ogrinfo) is not installed")
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes, owners and flock")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}


def _planner(*args: str, user: bool = False, timeout: int = 120) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "planner", *args]
    if user:  # nobody, able to read the root-installed Python (CAP_DAC_READ_SEARCH) but write nothing it does not own
        cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=+dac_read_search",
               "--ambient-caps=+dac_read_search", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env=_env(), timeout=timeout)


def _project(path: Path) -> Project:
    sites = [Site.create(site_id="A", name="Alpha", lon=-97.0, lat=30.0, power_capacity_mw=100.0),
             Site.create(site_id="B", name="Beta", lon=-98.0, lat=31.0, expected_energization_date="2026-05-01")]
    lines = gpd.GeoDataFrame({"voltage_kv": [345.0]}, geometry=[shapely.LineString([(-97.5, 29.5), (-97.5, 31.5)])],
                             crs=4326)
    project = Project(path=path, portfolio=Portfolio(sites, {}, name="Contract"))
    project.add_layer(MapLayer("tx", "transmission", "TX lines", lines, "tx.geojson", default_style("transmission")))
    return project


def _gdal(*args: str) -> subprocess.CompletedProcess:
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, (args, r.stderr)
    return r


def _dump(path: Path, table: str) -> tuple[str, list]:
    with sqlite3.connect(path) as c:
        sql = c.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
        rows = c.execute(f'SELECT * FROM "{table}" ORDER BY 1').fetchall()
    return sql, rows


def _qgis_edits(proj: Path, tmp: Path) -> None:
    """What an analyst does in QGIS: a Wells layer, a field_notes table, layer_styles, an extra site field."""
    wells = tmp / "wells.geojson"
    wells.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"well": "W-1", "depth_m": 3200},
         "geometry": {"type": "Point", "coordinates": [-97.2, 30.2]}}]}))
    _gdal("ogr2ogr", "-update", "-nln", "Wells", str(proj), str(wells))
    notes = tmp / "field_notes.csv"
    notes.write_text("site,note\nA,fence needs repair\nB,owner called back\n")
    _gdal("ogr2ogr", "-update", "-nln", "field_notes", str(proj), str(notes))
    styles = tmp / "layer_styles.csv"
    styles.write_text('f_table_catalog,f_table_schema,f_table_name,f_geometry_column,styleName,styleQML,useAsDefault\n'
                      ',,sites,geom,analyst,"<qgis><renderer-v2 type=""singleSymbol""/></qgis>",1\n')
    _gdal("ogr2ogr", "-update", "-nln", "layer_styles", str(proj), str(styles))
    _gdal("ogrinfo", str(proj), "-sql", "ALTER TABLE sites ADD COLUMN analyst_tag TEXT")
    _gdal("ogrinfo", str(proj), "-sql", "UPDATE sites SET analyst_tag = 'visit in May' WHERE site_id = 'A'")


# -- 1. a save keeps what the planner did not create ------------------------------------------------
@needs_gdal
def test_qgis_layer_table_styles_and_field_survive_every_save(tmp_path, capsys):
    proj = tmp_path / "p.gpkg"
    save_project(_project(proj))
    _qgis_edits(proj, tmp_path)
    before = {t: _dump(proj, t) for t in ("Wells", "field_notes", "layer_styles")}

    # an import that changes nothing, an import that adds a site, and a save from an opened project
    same = tmp_path / "same.csv"
    same.write_text("site_id,name,lon,lat\nA,Alpha,-97,30\n")
    assert cli_main(["import", str(same), "--into", str(proj), "--kind", "sites"]) == 0
    more = tmp_path / "more.csv"
    more.write_text("site_id,name,lon,lat\nC,Gamma,-99,32\n")
    assert cli_main(["import", str(more), "--into", str(proj), "--kind", "sites"]) == 0
    project = open_project(proj)
    project.portfolio.replace_sites([project.portfolio.get("B").replace(name="Beta renamed")])
    save_project(project)

    for table, dump in before.items():
        assert _dump(proj, table) == dump, table  # schema and every row byte for byte
    with sqlite3.connect(proj) as c:
        tags = dict(c.execute("SELECT site_id, analyst_tag FROM sites").fetchall())
    assert tags == {"A": "visit in May", "B": None, "C": None}
    again = open_project(proj)
    assert again.portfolio.get("B").name == "Beta renamed" and again.portfolio.ids() == ["A", "B", "C"]
    assert "Wells" in again.layers and not again.layers["Wells"].owned
    kept = "\n".join(again.kept)
    for needle in ("layer Wells", "table field_notes", "table layer_styles", "field sites.analyst_tag"):
        assert needle in kept
    capsys.readouterr()
    assert cli_main(["info", str(proj)]) == 0
    out = capsys.readouterr().out
    assert "kept, not ours: layer Wells (1 row)" in out and "kept, not ours: field sites.analyst_tag (TEXT)" in out
    # Debian's GDAL reads everything back, silently (GeoPackage 1.2)
    r = _gdal("ogrinfo", "-ro", "-al", "-so", str(proj))
    assert "Warning" not in r.stderr and "partially supported" not in r.stderr
    assert "Layer name: Wells" in r.stdout and "analyst_tag: String" in r.stdout
    assert "expected_energization_date: Date" in r.stdout  # dates are DATE, not TEXT


@needs_gdal
def test_removed_planner_layer_is_dropped_cleanly_and_foreign_layers_stay(tmp_path):
    proj = tmp_path / "p.gpkg"
    save_project(_project(proj))
    _qgis_edits(proj, tmp_path)
    project = open_project(proj)
    del project.layers["tx"]
    del project.layers["Wells"]  # not ours: removing it from the view does not delete the analyst's data
    save_project(project)
    r = _gdal("ogrinfo", "-ro", "-q", str(proj))
    assert "Wells" in r.stdout and "tx (" not in r.stdout and "Warning" not in r.stderr
    with sqlite3.connect(proj) as c:
        assert not c.execute("SELECT 1 FROM sqlite_master WHERE name LIKE 'rtree_tx_%'").fetchall()
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert c.execute("PRAGMA user_version").fetchone()[0] == 10200


# -- 2. one lock for CLI and app; two imports at once both land ---------------------------------------
@posix_only
def test_two_processes_importing_at_once_both_land(tmp_path):
    proj = tmp_path / "shared.gpkg"
    save_project(_project(proj))
    files = []
    for n in range(2):
        f = tmp_path / f"team{n}.csv"
        f.write_text("site_id,name,lon,lat\n" + "".join(f"T{n}-{i},Site {n}.{i},-97.{i},30.{n}\n" for i in range(20)))
        files.append(f)
    for trial in range(3):
        procs = [subprocess.Popen([sys.executable, "-m", "planner", "import", str(f), "--into", str(proj), "--kind",
                                   "sites", "--name", f"trial {trial}"], cwd=REPO, env=_env(),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for f in files]
        results = [p.communicate(timeout=180) for p in procs]
        assert all(p.returncode == 0 for p in procs), results
    ids = set(open_project(proj).portfolio.ids())
    assert {f"T{n}-{i}" for n in range(2) for i in range(20)} <= ids and {"A", "B"} <= ids


_HOLD_APP_LOCK = """
import sys, time
from planner.gis.lock import ProjectLock
lock = ProjectLock(sys.argv[1])
assert lock.acquire()
print("locked", flush=True)
time.sleep(60)
"""


@posix_only
def test_cli_write_to_a_project_open_in_the_app_fails_naming_the_holder(tmp_path):
    proj = tmp_path / "p.gpkg"
    save_project(_project(proj))
    before = proj.read_bytes()
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_APP_LOCK, str(proj)], cwd=REPO, env=_env(),
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        f = tmp_path / "x.csv"
        f.write_text("site_id,name\nX,Xray\n")
        r = _planner("import", str(f), "--into", str(proj), "--kind", "sites")
        assert r.returncode == 1
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "p.gpkg is locked by planner app" in lines[0] and f"process {holder.pid}" in lines[0]
        with pytest.raises(Exception, match="locked by planner app"):
            save_project(open_project(proj))
        assert proj.read_bytes() == before
    finally:
        holder.kill()
        holder.wait(10)
    assert ProjectLock(proj).other_owner() is None  # the holder died: stale, nothing to clean up by hand
    assert _planner("import", str(f), "--into", str(proj), "--kind", "sites").returncode == 0


# -- 4. permissions, owners and symlinks, as an unprivileged user -----------------------------------------
@posix_only
@pytest.mark.skipif(shutil.which("setpriv") is None or os.geteuid() != 0,
                    reason="needs setpriv (util-linux) and root to switch to the user nobody")
def test_read_only_private_shared_and_symlinked_projects_as_nobody():
    import pwd

    nobody = pwd.getpwnam("nobody")
    base = Path(tempfile.mkdtemp(prefix="planner-perm-"))
    try:
        os.chmod(base, 0o755)
        work = base / "work"
        work.mkdir()
        os.chown(work, nobody.pw_uid, nobody.pw_gid)
        csv_file = base / "add.csv"
        csv_file.write_text("site_id,name,lon,lat\nN1,From nobody,-96,29\n")
        os.chmod(csv_file, 0o644)

        def make(name: str, mode: int, owner: int) -> Path:
            p = work / name
            save_project(_project(p))
            os.chown(p, owner, nobody.pw_gid)
            os.chmod(p, mode)
            return p

        # read-only: refused with a clear line, nothing changed, still read-only
        ro = make("ro.gpkg", 0o444, nobody.pw_uid)
        before = ro.read_bytes()
        r = _planner("import", str(csv_file), "--into", str(ro), "--kind", "sites", user=True)
        assert r.returncode == 1 and "ro.gpkg is read-only (-r--r--r--)" in r.stderr, r.stderr
        assert ro.read_bytes() == before and stat.S_IMODE(ro.stat().st_mode) == 0o444

        # private: stays -rw------- and owned by its owner
        private = make("private.gpkg", 0o600, nobody.pw_uid)
        r = _planner("import", str(csv_file), "--into", str(private), "--kind", "sites", user=True)
        assert r.returncode == 0, r.stderr
        st = private.stat()
        assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == nobody.pw_uid
        assert "N1" in open_project(private).portfolio.ids()
        assert not [p.name for p in work.iterdir() if p.name.startswith(".private")]  # no temp left behind

        # shared (someone else's file, writable by all): the owner and mode stay
        shared = make("shared.gpkg", 0o666, 0)
        r = _planner("import", str(csv_file), "--into", str(shared), "--kind", "sites", user=True)
        assert r.returncode == 0, r.stderr
        assert shared.stat().st_uid == 0 and stat.S_IMODE(shared.stat().st_mode) == 0o666

        # symlinked: the link stays a link and its target is updated
        real_dir = base / "real"
        real_dir.mkdir()
        os.chown(real_dir, nobody.pw_uid, nobody.pw_gid)
        target = real_dir / "target.gpkg"
        save_project(_project(target))
        os.chown(target, nobody.pw_uid, nobody.pw_gid)
        os.chmod(target, 0o640)
        link = work / "link.gpkg"
        link.symlink_to(target)
        r = _planner("import", str(csv_file), "--into", str(link), "--kind", "sites", user=True)
        assert r.returncode == 0, r.stderr
        assert link.is_symlink() and os.readlink(link) == str(target)
        assert stat.S_IMODE(target.stat().st_mode) == 0o640 and target.stat().st_uid == nobody.pw_uid
        assert "N1" in open_project(target).portfolio.ids()
    finally:
        shutil.rmtree(base, ignore_errors=True)


# -- 5./6. open what can be opened -----------------------------------------------------------------------
@needs_gdal
def test_bad_rows_open_flagged_and_nothing_is_lost(tmp_path, capsys):
    proj = tmp_path / "p.gpkg"
    save_project(_project(proj))
    # digitised in QGIS with only a name, a copy-pasted feature, a rating of 7
    _gdal("ogrinfo", str(proj), "-sql", "INSERT INTO sites (name, status) VALUES ('Digitised only', 'operating')")
    _gdal("ogrinfo", str(proj), "-sql", "INSERT INTO sites (site_id, name, status) VALUES ('A', 'Alpha copy', 'operating')")
    _gdal("ogrinfo", str(proj), "-sql", "UPDATE sites SET labour_rating = 7 WHERE site_id = 'B'")
    project = open_project(proj)
    assert len(project.portfolio) == 4
    text = "\n".join(p.describe() for p in project.open_problems())
    assert "site_id = None: is missing. Enter an ID; the planner uses DIGITISED-ONLY" in text
    assert "site_id = 'A': is a duplicate (also on row 1)" in text and "A-2" in text
    assert "(B): labour_rating = 7: is above the maximum 5" in text
    assert project.portfolio.get("B").labour_rating is None  # unknown meanwhile, never a wrong 5 or 0
    for cmd in (["info", str(proj)], ["score", str(proj)], ["proximity", str(proj)]):
        assert cli_main(cmd) == 0, cmd
    out = capsys.readouterr().out
    assert "problems: 3" in out and "labour_rating = 7" in out
    # a save keeps the 7 until someone fixes it; the fix is saved
    save_project(project)
    with sqlite3.connect(proj) as c:
        assert c.execute("SELECT labour_rating FROM sites WHERE site_id = 'B'").fetchone()[0] == 7
    project = open_project(proj)
    project.portfolio.replace_sites([project.portfolio.get("B").replace(labour_rating=4)])
    assert not [p for p in project.open_problems() if p.field == "labour_rating"]
    save_project(project)
    reopened = open_project(proj)
    assert reopened.portfolio.get("B").labour_rating == 4 and set(reopened.portfolio.ids()) >= {"DIGITISED-ONLY", "A-2"}
    assert not [p for p in reopened.open_problems() if p.field in ("labour_rating", "site_id")]


@pytest.mark.parametrize("key, value, warning", [
    ("layers", "[1,2]", "layers has 2 damaged entries"),
    ("layers", "{not json", "layers is damaged"),
    ("settings", "[]", "settings is damaged (a list, expected a dict)"),
    ("schema_version", "one", "schema_version 'one' is damaged"),
])
def test_damaged_metadata_falls_back_to_defaults_with_a_warning(tmp_path, key, value, warning):
    proj = tmp_path / "p.gpkg"
    save_project(_project(proj))
    with sqlite3.connect(proj) as c:
        c.execute("UPDATE planner_metadata SET value = ? WHERE key = ?", (value, key))
    project = open_project(proj)
    assert project.portfolio.ids() == ["A", "B"]
    assert any(warning in w for w in project.warnings), project.warnings
    save_project(project)  # saving repairs the metadata
    assert not [w for w in open_project(proj).warnings if "damaged" in w]


def test_app_survives_a_project_that_breaks_opening(tmp_path, monkeypatch, qtbot):
    from planner.settings import AppSettings
    from planner.ui import dialogs, main_window, project_files
    from test_ui_main_window import FakeMap

    errors: list[str] = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, message: errors.append(message))

    def broken(path):
        raise AttributeError("'int' object has no attribute 'get'")

    monkeypatch.setattr(project_files, "gis_open_project", broken)
    w = main_window.MainWindow(AppSettings(), map_factory=FakeMap)
    qtbot.addWidget(w)
    assert not w.open_project(tmp_path / "p.gpkg")
    assert errors and "has no attribute" in errors[0]


# -- 7. freshness ----------------------------------------------------------------------------------------
@needs_gdal
def test_site_moved_in_qgis_gets_fresh_distances_and_lonlat_edit_is_reported(tmp_path):
    from planner.gis.proximity import apply_proximity

    proj = tmp_path / "p.gpkg"
    project = _project(proj)
    apply_proximity(project)
    save_project(project)
    before = open_project(proj).portfolio.get("A").dist_line_345kv_km
    assert before is not None and 45 < before < 50  # 0.5 degree of longitude at 30 N
    # QGIS moves the point onto the line
    _gdal("ogrinfo", str(proj), "-sql", "UPDATE sites SET geom = ST_GeomFromText('POINT(-97.5 30)', 4326) "
                                        "WHERE site_id = 'A'")
    _gdal("ogrinfo", str(proj), "-sql", "UPDATE sites SET lon = -90 WHERE site_id = 'B'")  # attribute table edit
    project = open_project(proj)
    a = project.portfolio.get("A")
    assert (a.lon, a.lat) == (-97.5, 30.0) and a.dist_line_345kv_km < 0.01
    assert any("recomputed distances for 1 site" in w for w in project.warnings)
    text = "\n".join(p.describe() for p in project.open_problems())
    assert "(B): lon = -90.0: disagrees with the point geometry (-98.000000)" in text
    assert project.portfolio.get("B").lon == -98.0
    # a layer edited outside: every site is measured again
    save_project(project)
    _gdal("ogrinfo", str(proj), "-sql", "DELETE FROM tx")
    again = open_project(proj)
    assert again.portfolio.get("A").dist_line_345kv_km is None


@needs_gdal
@pytest.mark.gui
def test_problems_are_listed_in_the_app_shaded_in_the_table_and_leave_when_fixed(tmp_path, qtbot, monkeypatch):
    from planner.settings import AppSettings
    from planner.ui import dialogs
    from planner.ui.main_window import MainWindow
    from planner.ui.site_table import PROBLEM_BRUSH
    from test_ui_main_window import FakeMap

    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, name: "discard")
    proj = tmp_path / "p.gpkg"
    save_project(_project(proj))
    _gdal("ogrinfo", str(proj), "-sql", "UPDATE sites SET land_acres = -40 WHERE site_id = 'B'")
    w = MainWindow(AppSettings(), map_factory=FakeMap)
    qtbot.addWidget(w)
    assert w.open_project(proj)
    panel = w.problems_panel
    assert panel.count() == 1 and "land_acres = -40" in panel.list.item(0).text()
    m = w.table_model
    cell = m.index(m.row_of("B"), m.column_of("land_acres"))
    assert m.data(cell, Qt.ItemDataRole.BackgroundRole) == PROBLEM_BRUSH
    assert "is below the minimum 0" in m.data(cell, Qt.ItemDataRole.ToolTipRole).replace("\xa0", " ")
    panel.list.itemClicked.emit(panel.list.item(0))
    assert w.current_site == "B"
    assert m.setData(cell, 40)  # fixed in the table: an undoable edit
    assert panel.count() == 0 and m.data(cell, Qt.ItemDataRole.BackgroundRole) != PROBLEM_BRUSH


@pytest.mark.gui
def test_a_last_project_that_breaks_opening_does_not_block_the_next_start(tmp_path, qapp, qtbot, monkeypatch):
    from PySide6.QtWidgets import QApplication

    from planner import app as app_mod
    from planner.settings import load_settings, save_settings
    from planner.ui import dialogs, main_window

    broken = tmp_path / "broken.gpkg"
    save_project(_project(broken))
    with sqlite3.connect(broken) as c:
        c.execute("UPDATE planner_metadata SET value = '[1,2]' WHERE key = 'layers'")
    settings = load_settings()
    settings.last_project = str(broken)
    save_settings(settings)
    errors: list[str] = []
    windows: list = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, message: errors.append(message))
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, name: "discard")
    monkeypatch.setattr(QApplication, "exec", lambda self: 0)
    real_window = main_window.MainWindow

    def light_window(settings, map_factory=None):
        from test_ui_main_window import FakeMap
        w = real_window(settings, map_factory=FakeMap)
        windows.append(w)
        return w

    monkeypatch.setattr(main_window, "MainWindow", light_window)

    def exploding_open(path):
        raise AttributeError("'int' object has no attribute 'get'")  # what a damaged file did before

    from planner.gis import project as gis_project
    from planner.ui import project_files
    monkeypatch.setattr(gis_project, "open_project", exploding_open)  # the start read, on a worker
    monkeypatch.setattr(project_files, "gis_open_project", exploding_open)  # read again to say why
    assert app_mod.run_gui() == 0
    # the start project is read on a worker once the window has painted
    qtbot.waitUntil(lambda: len(errors) >= 2, timeout=20000)  # the last project, then the sample fallback
    assert errors and "has no attribute" in errors[0]  # said, and the app kept running
    assert windows and windows[0].save_path is None
    assert load_settings().last_project != str(broken)  # ... and the next start does not try it again
    for w in windows:
        w.close()
    # the damaged metadata itself opens with a warning, no error at all
    assert any("damaged" in w for w in open_project(broken).warnings)
