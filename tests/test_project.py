"""GeoPackage projects: round trip, atomic save, schema versions, the bundled sample, and the CLI."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

import planner.gis.project as project_mod
from planner.assets import sample_project
from planner.cli import main as cli_main
from planner.gis.io import read_layer
from planner.gis.project import (LAYER_KINDS, SCHEMA_VERSION, MapLayer, Project, ProjectError, default_style,
                                 new_project, open_project, save_project, sites_from_gdf, sites_to_gdf)
from planner.model.fields import FIELD_LIST
from planner.model.portfolio import Portfolio
from planner.model.site import Site

REPO = Path(__file__).resolve().parent.parent


def _rich_sites() -> list[Site]:
    full = Site.create(
        site_id="RIOT-RKD", name="Rockdale <b>&amp;</b> \"Whinstone\" – Ørsted ✓", operator="Riot",
        lon=-97.0014, lat=30.6552, location_precision="town_centroid", country="US", status="announced_conversion",
        power_capacity_mw=700.0, energized_mw=700.0, pipeline_mw=0.0, interconnection_status="energized",
        expected_energization_date="2026-05-01", power_price_usd_per_mwh=-12.5, substation_owned=True,
        substation_voltage_kv=345.0, transformer_count=4, transformers_n_plus_1=False, land_acres=200.0,
        land_expandable=False, dark_fibre_on_site=True, labour_rating=5, redundancy_power="N+1",
        notes="line1\nline2 <script>alert(1)</script>", sources="https://a.example ; https://b.example",
    ).with_computed({"dist_line_345kv_km": 0.38, "flare_count": 12, "stranded_region": "Permian Basin (TX/NM)"})
    bare = Site.create(site_id="ETH-1", name="Ethiopia (no location)", status="pipeline")
    zero = Site.create(site_id="Z", name="Zero", lon=0.0, lat=0.0, energized_mw=0.0, transformer_count=0)
    return [full, bare, zero]


def _project(tmp_path: Path) -> Project:
    settings = {"assumptions": {"btc_usd": 95000.5, "pool_fee": 0.02}, "scenario": "bull",
                "weights_profiles": {"mine": {"power_scale": 3, "fibre": 0.5}}, "proximity":
                {"voltage_classes_kv": [230, 345], "flare_radius_km": 50}, "note": "ünïcode <tag>", "flag": None}
    project = Project(path=tmp_path / "p.gpkg", portfolio=Portfolio(_rich_sites(), settings, name="Test – portfolio"))
    lines = gpd.GeoDataFrame({"voltage_kv": [345.0, None], "name": ["A <x>", None], "n": [1, 2]},
                             geometry=[shapely.LineString([(-97, 30), (-96, 31)]),
                                       shapely.MultiLineString([[(-98, 30), (-97.5, 30.5)]])], crs=4326)
    style = {**default_style("transmission"), "color": "#123456"}
    project.add_layer(MapLayer("tx_lines", "transmission", "Lines «TX»", lines, "lines.geojson", style))
    empty = gpd.GeoDataFrame({"x": pd.Series([], dtype="float64")}, geometry=gpd.GeoSeries([], crs=4326))
    project.add_layer(MapLayer("empty_pops", "pops", "No PoPs", empty, "", default_style("pops")))
    return project


def test_round_trip_keeps_everything(tmp_path):
    project = _project(tmp_path)
    saved = save_project(project)
    again = open_project(saved)
    assert again.portfolio.name == "Test – portfolio"
    assert again.portfolio.settings == project.portfolio.settings
    assert again.portfolio.ids() == project.portfolio.ids()
    for a, b in zip(project.portfolio, again.portfolio):
        for f in FIELD_LIST:
            va, vb = a.get(f.name), b.get(f.name)
            assert va == vb and type(va) is type(vb), (a.site_id, f.name, va, vb)
    assert not again.portfolio.get("ETH-1").has_location
    assert again.portfolio.get("Z").energized_mw == 0.0  # 0 stays 0, not unknown
    assert list(again.layers) == ["tx_lines", "empty_pops"]
    lyr = again.layers["tx_lines"]
    assert (lyr.kind, lyr.title, lyr.source, lyr.style["color"]) == ("transmission", "Lines «TX»", "lines.geojson",
                                                                     "#123456")
    assert lyr.gdf["name"].tolist()[0] == "A <x>" and pd.isna(lyr.gdf["name"].tolist()[1])
    assert lyr.gdf.crs.to_epsg() == 4326 and len(again.layers["empty_pops"].gdf) == 0
    assert again.warnings == []


def test_geopackage_is_ordinary_for_gdal_and_qgis(tmp_path):
    path = save_project(_project(tmp_path))
    layers = dict((str(n), t) for n, t in pyogrio.list_layers(path))
    assert layers["sites"] == "Point" and layers["planner_metadata"] is None and "tx_lines" in layers
    with sqlite3.connect(path) as con:
        kinds = dict(con.execute("select table_name, data_type from gpkg_contents"))
        meta = dict(con.execute("select key, value from planner_metadata"))
    assert kinds["planner_metadata"] == "attributes" and kinds["sites"] == "features"
    assert meta["schema_version"] == str(SCHEMA_VERSION) and {"app_version", "saved_at", "settings", "layers"} <= set(meta)
    info = pyogrio.read_info(path, layer="sites")
    assert info["crs"] == "EPSG:4326" and list(info["fields"]) == [f.name for f in FIELD_LIST]


def test_sites_gdf_dtypes_keep_unknowns_null():
    gdf = sites_to_gdf(_rich_sites())
    assert str(gdf["energized_mw"].dtype) == "Float64" and str(gdf["transformer_count"].dtype) == "Int64"
    assert str(gdf["substation_owned"].dtype) == "boolean"
    assert gdf["energized_mw"].isna().tolist() == [False, True, False]
    assert gdf["operator"].tolist()[1] is None
    assert gdf.geometry.isna().tolist() == [False, True, False]
    assert sites_from_gdf(gdf) == _rich_sites()


def test_failed_save_leaves_previous_file_byte_identical(tmp_path, monkeypatch):
    project = _project(tmp_path)
    path = save_project(project)
    before = path.read_bytes()
    calls = {"n": 0}
    real = project_mod._write_layer

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(project_mod, "_write_layer", flaky)
    project.portfolio.add_site(Site.create(site_id="NEW", name="New"))
    with pytest.raises(ProjectError, match=r"p\.gpkg: could not save \(disk full\); the previous file is unchanged"):
        save_project(project)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.gpkg"]  # no temp file left behind


def test_newer_schema_is_refused(tmp_path):
    path = save_project(_project(tmp_path))
    with sqlite3.connect(path) as con:
        con.execute("update planner_metadata set value = '99' where key = 'schema_version'")
    with pytest.raises(ProjectError, match=r"p\.gpkg: was saved by a newer version \(schema 99\); update the planner"):
        open_project(path)


def test_v0_plain_geopackage_migrates(tmp_path):
    path = tmp_path / "plain.gpkg"
    lines = gpd.GeoDataFrame({"voltage_kv": [345.0]}, geometry=[shapely.LineString([(0, 0), (1, 1)])], crs=4326)
    pts = gpd.GeoDataFrame({"site_id": ["A", "B"], "name": ["Alpha", "Beta"], "energized_mw": [10.0, None]},
                           geometry=[shapely.Point(-97, 30), None], crs=4326)
    pyogrio.write_dataframe(lines, path, layer="transmission")
    pyogrio.write_dataframe(pts, path, layer="candidates")
    project = open_project(path)
    assert project.portfolio.ids() == ["A", "B"] and project.portfolio.get("B").energized_mw is None
    assert project.portfolio.get("A").lon == -97.0
    assert [(lyr.name, lyr.kind) for lyr in project.layers.values()] == [("transmission", "transmission")]
    resaved = open_project(save_project(project, tmp_path / "v1.gpkg"))  # now schema 1
    assert resaved.portfolio.ids() == ["A", "B"] and list(resaved.layers) == ["transmission"]


@pytest.mark.parametrize("content", [b"", b"hello, not a database", b"SQLite format 3\x00" + b"\x00" * 50])
def test_corrupt_files_give_one_line_project_errors(tmp_path, content):
    path = tmp_path / "broken.gpkg"
    path.write_bytes(content)
    with pytest.raises(ProjectError) as info:
        open_project(path)
    assert str(info.value).startswith("broken.gpkg: ") and "\n" not in str(info.value)
    with pytest.raises(ProjectError, match="missing.gpkg: project file not found"):
        open_project(tmp_path / "missing.gpkg")


def test_layer_names_and_kinds_are_checked():
    empty = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=4326))
    with pytest.raises(ProjectError, match="unknown kind 'roads'"):
        MapLayer("roads", "roads", "Roads", empty)
    with pytest.raises(ProjectError, match="layer name 'sites' is not allowed"):
        MapLayer("sites", "other", "x", empty)
    assert set(LAYER_KINDS) >= {"transmission", "countries", "states", "other"}


def test_sample_project_is_complete(shared_data):
    project = open_project(sample_project())
    sites = list(project.portfolio)
    assert len(sites) == 40 and sum(not s.has_location for s in sites) == 2
    assert {lyr.kind for lyr in project.layers.values()} == set(LAYER_KINDS) - {"other"}
    flares = project.layers["flares"].gdf
    assert (flares["cntry_iso"] == "USA").sum() == 5039
    subs = project.layers["substations"].gdf
    assert set(subs["typ"]) == {"substation", "sub_station", "station"}
    pops = project.layers["pops"].gdf
    assert not pops.duplicated(["network", "node"]).any()
    lines = project.layers["transmission"].gdf  # national grid file: MANIFEST kV mix 230 kV 4,153, 345 kV 2,357 ...
    assert len(lines) == 22_337 and (lines["voltage_kv"] >= 230).sum() == 7_982
    assert set(lines["region"]) == {"USA-South", "USA-Midwest", "USA-Northeast", "Canada", "Europe", "Asia",
                                    "South-America"}
    s = project.portfolio.get("BTCM-ETH")  # 35 energized of 51 total: derivations of maps/README.md
    assert (s.energized_mw, s.power_capacity_mw, s.pipeline_mw, s.interconnection_status) == (35.0, 51.0, 16.0, "energized")
    m = project.portfolio.get("CORZ-MUS")  # no energized figure: nothing derived
    assert (m.energized_mw, m.pipeline_mw, m.interconnection_status) == (None, None, None)
    assert all(x.sources for x in sites)
    # 22,337 lines + 10,538 substations of the national grid file (and their spatial indexes): ~10 MB
    assert sample_project().stat().st_size < 12e6


def test_new_project_has_basemap_only():
    project = new_project()
    assert len(project.portfolio) == 0 and project.path is None
    assert [lyr.kind for lyr in project.layers.values()] == ["countries", "states"]
    assert len(project.layers["countries"].gdf) == 177


def test_save_needs_a_path_and_gpkg_suffix(tmp_path):
    project = Project()
    with pytest.raises(ProjectError, match="has no file yet"):
        save_project(project)
    with pytest.raises(ProjectError, match="use a name ending in .gpkg"):
        save_project(project, tmp_path / "x.shp")


# -- CLI ------------------------------------------------------------------------------------
def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "planner", *args], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)


def test_cli_info_on_sample_subprocess():
    r = _run("info", str(sample_project()))
    assert r.returncode == 0, r.stderr
    assert "sites: 40 (38 with a location, 2 without)" in r.stdout
    assert "layer transmission: kind transmission, LineString, EPSG:4326, 22337 features" in r.stdout


def test_cli_import_garbage_is_one_line_subprocess(tmp_path):
    bad = tmp_path / "bad.geojson"
    bad.write_text("{nope")
    r = _run("import", str(bad), "--into", str(tmp_path / "p.gpkg"), "--kind", "other")
    assert r.returncode == 1
    assert r.stderr.strip().startswith("planner import: error: bad.geojson: cannot be read as GeoJSON")
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert not (tmp_path / "p.gpkg").exists()


def test_cli_info_plain_file_and_errors(shared_data, capsys):
    assert cli_main(["info", str(shared_data / "eia_lower48_shale_basins.geojson")]) == 0
    assert "MultiPolygon, EPSG:4326, 48 features" in capsys.readouterr().out
    assert cli_main(["info", "/no/such/file.geojson"]) == 1
    assert capsys.readouterr().err.strip() == "planner info: error: file.geojson: file not found. Check the path"


def test_cli_import_creates_merges_and_adds_layers(shared_data, tmp_path, capsys):
    proj = tmp_path / "work.gpkg"
    first = tmp_path / "a.csv"
    first.write_text("site_id,name,lon,lat,energized_mw,power_capacity_mw,land_acres\n"
                     "A,Alpha,-97,30,10,100,50\nB,Beta,-98,31,,,\n")
    assert cli_main(["import", str(first), "--into", str(proj), "--kind", "sites"]) == 0
    out = capsys.readouterr().out
    assert "Sites: 2 added, 0 updated, 0 unchanged." in out and "Created" in out
    second = tmp_path / "b.csv"
    second.write_text("site_id,name,lon,lat,energized_mw,power_capacity_mw,land_acres\n"
                      "A,Alpha,-97,30,20,,\nC,Gamma,-99,32,5,5,\nB,Beta,-98,31,,,\n")
    assert cli_main(["import", str(second), "--into", str(proj), "--kind", "sites", "--name", "Merged"]) == 0
    assert "Sites: 1 added, 1 updated, 1 unchanged." in capsys.readouterr().out
    p = open_project(proj)
    a = p.portfolio.get("A")
    assert (a.energized_mw, a.power_capacity_mw, a.land_acres) == (20.0, 100.0, 50.0)  # empty cells erase nothing
    assert p.portfolio.ids() == ["A", "B", "C"] and p.portfolio.name == "Merged"
    assert [lyr.kind for lyr in p.layers.values()] == ["countries", "states"]

    lines = shared_data / "tx_osm2017_hv_lines.geojson"
    assert cli_main(["import", str(lines), "--into", str(proj), "--kind", "transmission", "--name", "TX HV"]) == 0
    assert "Layer 'tx_hv' (transmission): added, 809 features." in capsys.readouterr().out
    assert cli_main(["import", str(lines), "--into", str(proj), "--kind", "transmission", "--name", "TX HV"]) == 0
    assert "replaced" in capsys.readouterr().out
    p = open_project(proj)
    assert list(p.layers) == ["countries", "states", "tx_hv"] and p.layers["tx_hv"].title == "TX HV"

    before = proj.read_bytes()
    bad = tmp_path / "bad.csv"
    bad.write_text("site_id,name,lon,lat,energized_mw\nA,Alpha,-97,30,-1\nA,Again,-97,30,1\n")
    assert cli_main(["import", str(bad), "--into", str(proj), "--kind", "sites"]) == 1
    err = capsys.readouterr().err
    assert "row 1: A: energized_mw = -1.0" in err and "row 2: duplicate site_id 'A'" in err
    assert err.strip().splitlines()[-1].startswith("planner import: error: bad.csv: 2 problems in the sites")
    assert cli_main(["import", str(lines), "--into", str(proj), "--kind", "pops"]) == 1
    assert "pops layers need Point geometries" in capsys.readouterr().err
    assert proj.read_bytes() == before  # failed imports never touch the project


def test_cli_import_merge_conflict_is_refused(tmp_path, capsys):
    proj = tmp_path / "c.gpkg"
    f1 = tmp_path / "one.csv"
    f1.write_text("site_id,name,power_capacity_mw\nA,Alpha,100\n")
    assert cli_main(["import", str(f1), "--into", str(proj), "--kind", "sites"]) == 0
    f2 = tmp_path / "two.csv"
    f2.write_text("site_id,name,energized_mw\nA,Alpha,150\n")
    assert cli_main(["import", str(f2), "--into", str(proj), "--kind", "sites"]) == 1
    assert "A: merging would make it invalid" in capsys.readouterr().err
    assert open_project(proj).portfolio.get("A").energized_mw is None


def test_read_layer_on_project_table(tmp_path):
    path = save_project(_project(tmp_path))
    gdf, report = read_layer(path, layer="tx_lines", kind="transmission")
    assert len(gdf) == 2 and report.layer == "tx_lines"


def test_attribution_copy_in_resources_matches_root():
    root = (REPO / "DATA_ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "(c) OpenStreetMap contributors" in root and "Knight" in root and "CC BY 4.0" in root
    assert (REPO / "resources" / "DATA_ATTRIBUTION.md").read_text(encoding="utf-8") == root
