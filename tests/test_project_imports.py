"""Issue #13, cases 3, 8 and 9: recovery that checks the file, imports an analyst expects, and
interop details (GeoJSON for Debian's ogr2ogr, odd file names, warnings in the log, DBF text)."""
from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from planner.cli import main as cli_main
from planner.gis.import_policy import apply_site_import, id_from_name, plan_site_import
from planner.gis.io import LayerImportError, SiteImportError, import_sites, read_layer
from planner.gis.project import Project, open_project, save_project
from planner.model.portfolio import Portfolio
from planner.model.site import Site

REPO = Path(__file__).resolve().parent.parent
needs_gdal = pytest.mark.skipif(shutil.which("ogr2ogr") is None, reason="Debian gdal-bin (ogr2ogr) is not installed")


def _env(tmp: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "PLANNER_DATA_DIR": str(tmp / "data")}


# -- 8. imports ------------------------------------------------------------------------------------------
def test_csv_without_site_id_gets_stable_unique_ids_from_names(tmp_path, capsys):
    f = tmp_path / "list.csv"
    f.write_text("name,lon,lat,power_capacity_mw\nRockdale (TX),-97,30.6,700\nDenton,-97.1,33.2,300\n"
                 "Denton,-97.2,33.3,50\nØrsted Mine,-98,31,\n")
    sites, report = import_sites(f)
    assert [s.site_id for s in sites] == ["ROCKDALE-TX", "DENTON", "DENTON-2", "ORSTED-MINE"]
    assert "No site_id column: made 4 IDs from the names" in report.summary()
    proj = tmp_path / "p.gpkg"
    assert cli_main(["import", str(f), "--into", str(proj), "--kind", "sites"]) == 0
    f.write_text("name,lon,lat,power_capacity_mw\nRockdale (TX),-97,30.6,750\n")
    assert cli_main(["import", str(f), "--into", str(proj), "--kind", "sites"]) == 0  # same name, same site
    assert "Sites: 0 added, 1 updated" in capsys.readouterr().out
    project = open_project(proj)
    assert len(project.portfolio) == 4 and project.portfolio.get("ROCKDALE-TX").power_capacity_mw == 750
    assert id_from_name("", set(), fallback="ROW-3") == "ROW-3"


def test_bad_rows_are_rejected_by_row_while_good_rows_import_and_strict_is_all_or_nothing(tmp_path, capsys):
    f = tmp_path / "mixed.csv"
    f.write_text("site_id,name,lon,lat,labour_rating,energized_mw\nA,Alpha,-97,30,3,10\nB,Beta,-98,31,7,\n"
                 "C,,-99,32,,\nD,Delta,-96,29,,-5\nE,Echo,-95,28,,\n")
    proj = tmp_path / "p.gpkg"
    assert cli_main(["import", str(f), "--into", str(proj), "--kind", "sites"]) == 0
    captured = capsys.readouterr()
    assert "imported 2 of 5 rows" in captured.out and "Dropped 3 rows" in captured.out
    assert "not imported: row 2: B: labour_rating = 7" in captured.err
    assert "not imported: row 3: name is required" in captured.err and "not imported: row 4: D: energized_mw" in captured.err
    assert open_project(proj).portfolio.ids() == ["A", "E"]
    before = proj.read_bytes()
    assert cli_main(["import", str(f), "--into", str(proj), "--kind", "sites", "--strict"]) == 1
    err = capsys.readouterr().err
    assert "3 problems in the sites" in err and proj.read_bytes() == before
    with pytest.raises(SiteImportError):
        import_sites(f)  # the library default stays all or nothing


def test_one_import_policy_for_cli_and_app(tmp_path):
    from planner.session.imports import DEFAULT_POLICY, prepare_import

    old = [Site.create(site_id="A", name="Alpha", power_capacity_mw=100.0), Site.create(site_id="B", name="Beta")]
    new = [Site.create(site_id="A", name="Alpha", energized_mw=50.0), Site.create(site_id="C", name="Gamma"),
           Site.create(site_id="B", name="Beta", energized_mw=10.0)]
    merge = plan_site_import(old, new, "merge")
    assert [s.site_id for s in merge.additions] == ["C"] and [s.energized_mw for s in merge.updates] == [50.0, 10.0]
    rename = plan_site_import(old, new, "rename")
    assert [s.site_id for s in rename.additions] == ["A-2", "C", "B-2"] and not rename.updates
    reject = plan_site_import(old, new, "reject")
    assert [s.site_id for s in reject.additions] == ["C"] and [r[0] for r in reject.rejected] == ["A", "B"]
    bad = plan_site_import(old, [Site.create(site_id="A", name="Alpha", energized_mw=500.0)], "merge")
    assert bad.rejected and "would make it invalid" in bad.rejected[0][1] and not bad.updates
    # the app's session plans with the very same function (its default policy: rename)
    assert DEFAULT_POLICY == "rename"
    portfolio = Portfolio(old)
    f = tmp_path / "new.csv"
    f.write_text("site_id,name,energized_mw\nA,Alpha,50\nC,Gamma,\nB,Beta,10\nX,,\n")
    app_plan = prepare_import(f, portfolio, {}, DEFAULT_POLICY)
    assert [s.site_id for s in app_plan.additions] == [s.site_id for s in rename.additions]
    assert app_plan.report.dropped == [(4, "name is required. Fill it in")]  # the app imports the good rows too
    assert [n.site_id for _, n in prepare_import(f, portfolio, {}, "merge").updates] == ["A", "B"]
    apply_site_import(portfolio, merge)
    assert portfolio.ids() == ["A", "B", "C"] and portfolio.get("A").energized_mw == 50.0


def test_case_duplicate_columns_are_renamed_reported_and_saved(tmp_path, capsys):
    f = tmp_path / "pops.csv"
    f.write_text("name,NAME,Name,lon,lat\nhub,HUB,Hub,-97,30\n")
    gdf, report = read_layer(f, kind="pops")
    assert {"name", "NAME_2", "Name_3"} <= set(gdf.columns)
    assert "Columns differing only in case were renamed: NAME -> NAME_2, Name -> Name_3." in report.summary()
    proj = tmp_path / "p.gpkg"
    assert cli_main(["import", str(f), "--into", str(proj), "--kind", "pops"]) == 0
    assert "Layer 'pops' (pops): added" in capsys.readouterr().out
    assert open_project(proj).layers["pops"].gdf["NAME_2"].tolist() == ["HUB"]


def _lying_zip(path: Path, real_size: int) -> None:
    """A zip whose headers say its member is 100 bytes while it inflates to ``real_size``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.geojson", b" " * real_size)
    data = bytearray(path.read_bytes())
    for sig, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # uncompressed size in both headers
        i = data.find(sig)
        struct.pack_into("<I", data, i + offset, 100)
    path.write_bytes(bytes(data))


def test_zip_whose_headers_lie_is_refused_by_its_real_size(tmp_path):
    bomb = tmp_path / "bomb.zip"
    _lying_zip(bomb, 3_000_000)
    assert zipfile.ZipFile(bomb).infolist()[0].file_size == 100
    with pytest.raises(LayerImportError, match="inflates to more than 2 MB although its headers say less"):
        read_layer(bomb, max_zip_bytes=2_000_000)
    honest = tmp_path / "ok.zip"
    with zipfile.ZipFile(honest, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("p.geojson", json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [1, 2]}}]}))
    assert len(read_layer(honest, max_zip_bytes=2_000_000)[0]) == 1


def test_site_merge_is_linear():
    """50,000 incoming sites against 50,000: dict look-ups only (benchmarks/bench_site_merge.py times 1,000,000)."""
    existing = {f"S{i}": Site({"site_id": f"S{i}", "name": f"n{i}", "status": "operating"}) for i in range(50_000)}
    incoming = [Site({"site_id": f"S{i}", "name": f"n{i}", "status": "operating", "land_acres": 5.0})
                for i in range(25_000, 75_000)]
    plan = plan_site_import(existing, incoming, "merge")
    assert len(plan.additions) == 25_000 and len(plan.updates) == 25_000
    portfolio = Portfolio(existing.values())
    apply_site_import(portfolio, plan)
    assert len(portfolio) == 75_000 and portfolio.ids()[-1] == "S74999"


# -- 3. recovery that checks the file --------------------------------------------------------------------
@pytest.mark.gui
def test_recover_after_the_file_changed_on_disk_opens_a_copy_and_compares(qtbot, tmp_path, monkeypatch):
    from planner.settings import AppSettings
    from planner.ui import dialogs
    from planner.ui.autosave import Autosaver
    from planner.ui.main_window import MainWindow
    from test_ui_main_window import FakeMap

    target = tmp_path / "shared.gpkg"
    project = Project(portfolio=Portfolio([Site.create(site_id="A", name="Alpha")], name="Shared"))
    save_project(project, target)
    mine = open_project(target)  # the session that will crash
    mine.portfolio.add_site(Site.create(site_id="MINE", name="My edit"))
    autosaver = Autosaver(lambda: mine, lambda: True, directory=tmp_path / "recovery")
    autosaver.save_now()
    # ... the session dies; a colleague saves the file meanwhile
    theirs = open_project(target)
    theirs.portfolio.add_site(Site.create(site_id="THEIRS", name="Their edit"))
    save_project(theirs)
    # next start: the recovery copy says the original changed
    autosaver._written.clear()
    monkeypatch.setattr("planner.ui.autosave.pid_alive", lambda pid: False)
    found = autosaver.find_recovery()
    assert found and found[0].original_changed and "changed on disk since" in found[0].describe()
    shown: list[str] = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, message: shown.append(message))
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, name: "discard")
    w = MainWindow(AppSettings(), map_factory=FakeMap)
    qtbot.addWidget(w)
    w.autosave = autosaver
    assert w.recover(found[0])
    assert shown and "changed on disk after your work was autosaved" in shown[0]
    assert "1 only in yours, 1 only on disk" in shown[0] and "only in yours: MINE" in shown[0]
    assert w.save_path is None and w.is_dirty()  # Save asks for a new name: the colleague's save is safe
    assert "THEIRS" in open_project(target).portfolio.ids()


def test_save_refuses_to_replace_a_file_changed_since_open(tmp_path):
    from planner.gis.project import ProjectChangedError

    target = tmp_path / "p.gpkg"
    save_project(Project(portfolio=Portfolio([Site.create(site_id="A", name="Alpha")])), target)
    mine = open_project(target)
    theirs = open_project(target)
    theirs.portfolio.add_site(Site.create(site_id="T", name="Theirs"))
    save_project(theirs)
    with pytest.raises(ProjectChangedError, match="changed on disk since it was opened"):
        save_project(mine, expected_stamp=mine.disk_stamp)
    assert "T" in open_project(target).portfolio.ids()


# -- 9. interop --------------------------------------------------------------------------------------------
@needs_gdal
def test_geojson_export_is_rfc7946_named_after_the_file_and_ogr2ogr_reads_it(tmp_path):
    from planner.reports.export import export_sites

    project = Project(portfolio=Portfolio([Site.create(site_id="A", name="Alpha", lon=-97.0, lat=30.0,
                                                       expected_energization_date="2026-05-01")]))
    out = export_sites(project, tmp_path / "fresh_sites.geojson", economics=False)
    data = json.loads(out.read_text())
    assert data["name"] == "fresh_sites" and "crs" not in data
    r = subprocess.run(["ogr2ogr", "-f", "GPKG", str(tmp_path / "copy.gpkg"), str(out)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr
    info = subprocess.run(["ogrinfo", "-ro", "-so", str(tmp_path / "copy.gpkg"), "fresh_sites"], capture_output=True,
                          text=True, timeout=60)
    assert "Feature Count: 1" in info.stdout
    gpkg = export_sites(project, tmp_path / "sites.gpkg", economics=False)
    info = subprocess.run(["ogrinfo", "-ro", "-so", str(gpkg), "sites_scored"], capture_output=True, text=True,
                          timeout=60)
    assert "expected_energization_date: Date" in info.stdout and "Warning" not in info.stderr


def test_file_names_with_newlines_and_leading_dashes(tmp_path):
    f = tmp_path / "-sites.csv"
    f.write_text("site_id,name,lon,lat\nA,Alpha,-97,30\n")
    odd = tmp_path / "proj\nect.gpkg"
    r = subprocess.run([sys.executable, "-m", "planner", "import", "--into", str(odd), "--kind", "sites", "--", str(f)],
                       capture_output=True, text=True, cwd=REPO, env=_env(tmp_path), timeout=120)
    assert r.returncode == 0, r.stderr
    assert open_project(odd).portfolio.ids() == ["A"]
    dashed = tmp_path / "-dash.gpkg"
    r = subprocess.run([sys.executable, "-m", "planner", "import", f"--into={dashed}", "--kind", "sites",
                        f"./{f.name}"], capture_output=True, text=True, cwd=tmp_path, env=_env(tmp_path), timeout=120)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "data") == ["-dash.gpkg", "-sites.csv", "proj\nect.gpkg"]
    r = subprocess.run([sys.executable, "-m", "planner", "info", str(tmp_path / "no\nsuch.gpkg")], capture_output=True,
                       text=True, cwd=REPO, env=_env(tmp_path), timeout=120)
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1 and "no\\nsuch.gpkg" in r.stderr


def test_library_warnings_go_to_the_log_and_dbf_text_becomes_unknown(tmp_path):
    lines = gpd.GeoDataFrame({"VOLTAGE": [345.0, 138.0]}, crs=4326,
                             geometry=[shapely.LineString([(-97, 30), (-96, 31)]), shapely.LineString([(-96, 31), (-95, 32)])])
    lines.to_file(tmp_path / "hifld.shp")
    dbf = bytearray((tmp_path / "hifld.dbf").read_bytes())
    hlen, rlen = struct.unpack_from("<HH", dbf, 8)
    dbf[hlen + rlen + 1:hlen + 2 * rlen] = b"WNER".rjust(rlen - 1)  # the second line's VOLTAGE
    (tmp_path / "hifld.dbf").write_bytes(bytes(dbf))
    r = subprocess.run([sys.executable, "-m", "planner", "import", str(tmp_path / "hifld.shp"), "--into",
                        str(tmp_path / "p.gpkg"), "--kind", "transmission"], capture_output=True, text=True, cwd=REPO,
                       env=_env(tmp_path), timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # no RuntimeWarning with a source line
    assert "1 VOLTAGE value in the .dbf is text, not a number ('WNER'); read as unknown, not 0." in r.stdout
    log = (tmp_path / "data" / "planner.log").read_text()
    assert "parsed incompletely" in log
    gdf = open_project(tmp_path / "p.gpkg").layers["hifld"].gdf
    assert gdf["voltage_kv"].tolist()[0] == 345.0 and gdf["voltage_kv"].isna().tolist()[1]
