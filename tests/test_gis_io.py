"""GIS import: every format good and bad, CRS policy, geometry cleaning, voltage parsing, site import."""
from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Geod, Transformer

from planner.gis.crs import CRSError, ensure_wgs84
from planner.gis.io import (ImportReport, LayerImportError, SiteImportError, import_sites, list_layers,
                            map_location_precision, read_layer)
from planner.gis.voltage import normalise_voltage_kv, parse_voltage_kv
from planner.model.site import PlannerError

GEOD = Geod(ellps="WGS84")
# A few real places (lon, lat): Rockdale TX, Denton TX, Childress TX
PLACES = [(-97.0014, 30.6552), (-97.13307, 33.21484), (-100.2045, 34.4265)]


def _points(crs: str | None = "EPSG:4326") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": ["Rockdale", "Denton", "Childress"], "mw": [700.0, 125.0, 450.0]},
                            geometry=[shapely.Point(x, y) for x, y in PLACES], crs=crs)


def _assert_places(gdf: gpd.GeoDataFrame, tol_m: float = 0.01) -> None:
    assert gdf.crs.to_epsg() == 4326
    assert len(gdf) == len(PLACES)
    for g, (x, y) in zip(gdf.geometry, PLACES):
        _, _, dist = GEOD.inv(g.x, g.y, x, y)
        assert dist < tol_m


# -- voltage ------------------------------------------------------------------------
@pytest.mark.parametrize("raw, kv", [
    ("345000;138000", 345.0), ("230000;230000", 230.0), ("220-287", 287.0), ("345 kV", 345.0),
    ("345kV;138kV", 345.0), (345, 345.0), (345000.0, 345.0), ("69000", 69.0), ("115/230", 230.0),
    ("500", 500.0), ("138000 V", 138.0), (-999999, None), ("UNDER 100", None), ("NOT AVAILABLE", None),
    ("DC", None), ("", None), (None, None), (float("nan"), None), ("abc", None),
])
def test_parse_voltage_kv(raw, kv):
    assert parse_voltage_kv(raw) == kv


def test_normalise_voltage_falls_back_across_columns():
    gdf = gpd.GeoDataFrame({"VOLTAGE": [-999999, 345, None], "VOLT_CLASS": ["220-287", "345", "UNDER 100"]},
                           geometry=[shapely.LineString([(0, 0), (1, 1)])] * 3, crs=4326)
    out = normalise_voltage_kv(gdf)
    assert out["voltage_kv"].iloc[0] == 287.0  # VOLTAGE unknown -> class
    assert out["voltage_kv"].iloc[1] == 345.0
    assert math.isnan(out["voltage_kv"].iloc[2])
    assert "voltage_kv" not in gdf.columns  # input untouched


def test_real_transmission_voltage_mix_matches_manifest(shared_data):
    gdf, report = read_layer(shared_data / "tx_osm2017_hv_lines.geojson", kind="transmission")
    counts = gdf["voltage_kv"].value_counts()
    assert (counts[345.0], counts[230.0], counts[138.0], counts[500.0]) == (575, 131, 70, 5)
    assert report.rows_read == report.rows_imported == 809 and not report.dropped


# -- formats -------------------------------------------------------------------------
@pytest.mark.parametrize("suffix, driver", [(".shp", "ESRI Shapefile"), (".fgb", "FlatGeobuf"),
                                            (".kml", "KML"), (".geojson", "GeoJSON"), (".gpkg", "GPKG")])
def test_read_each_format(tmp_path, suffix, driver):
    path = tmp_path / f"pts{suffix}"
    pyogrio.write_dataframe(_points(), path, driver=driver)
    gdf, report = read_layer(path, kind="pops")
    _assert_places(gdf)
    name_col = next(c for c in gdf.columns if c.lower() == "name")  # KML calls it "Name"
    assert sorted(gdf[name_col]) == ["Childress", "Denton", "Rockdale"]
    assert report.rows_imported == 3


@pytest.mark.filterwarnings("ignore:Field VOLTAGE of type Integer64:RuntimeWarning")
def test_filegdb_with_layer_choice(tmp_path):
    gdb = tmp_path / "grid.gdb"
    pyogrio.write_dataframe(_points(), gdb, layer="subs", driver="OpenFileGDB")
    lines = gpd.GeoDataFrame({"VOLTAGE": [345]}, geometry=[shapely.LineString(PLACES[:2])], crs=4326)
    pyogrio.write_dataframe(lines, gdb, layer="lines", driver="OpenFileGDB")
    assert sorted(list_layers(gdb)) == ["lines", "subs"]
    with pytest.raises(LayerImportError, match=r"grid\.gdb: holds 2 layers .*--layer"):
        read_layer(gdb)
    gdf, _ = read_layer(gdb, layer="lines", kind="transmission")
    assert gdf["voltage_kv"].tolist() == [345.0]


def test_geopackage_layer_choice_and_unknown_layer(tmp_path):
    path = tmp_path / "two.gpkg"
    pyogrio.write_dataframe(_points(), path, layer="a")
    pyogrio.write_dataframe(_points(), path, layer="b")
    with pytest.raises(LayerImportError, match=r"two\.gpkg: holds 2 layers \(a, b\)"):
        read_layer(path)
    with pytest.raises(LayerImportError, match="has no layer 'c'; layers: a, b"):
        read_layer(path, layer="c")
    gdf, report = read_layer(path, layer="b")
    assert report.layer == "b" and len(gdf) == 3


def _zip_shapefile(tmp_path: Path, name: str = "pts", extra: dict[str, bytes] | None = None) -> Path:
    shp_dir = tmp_path / f"shp_{name}"
    shp_dir.mkdir()
    pyogrio.write_dataframe(_points(), shp_dir / f"{name}.shp")
    z = tmp_path / f"{name}.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in shp_dir.iterdir():
            zf.write(f, f"data/{f.name}")
        for member, content in (extra or {}).items():
            zf.writestr(member, content)
    return z


def test_zipped_shapefile(tmp_path):
    gdf, _ = read_layer(_zip_shapefile(tmp_path), kind="pops")
    _assert_places(gdf)


def test_zip_with_unsafe_member_is_refused(tmp_path):
    z = _zip_shapefile(tmp_path, extra={"../evil.txt": b"x"})
    with pytest.raises(LayerImportError, match=r"pts\.zip: unsafe member path '\.\./evil\.txt'"):
        read_layer(z)
    z2 = _zip_shapefile(tmp_path, name="abs", extra={"/etc/evil.txt": b"x"})
    with pytest.raises(LayerImportError, match="unsafe member path"):
        read_layer(z2)


def test_zip_over_size_limit_is_refused(tmp_path):
    z = _zip_shapefile(tmp_path, extra={"data/padding.bin": b"\0" * 200_000})  # compresses to almost nothing
    with pytest.raises(LayerImportError, match="uncompressed size .* exceeds the limit"):
        read_layer(z, max_zip_bytes=100_000)
    assert len(read_layer(z)[0]) == 3  # the default 2 GB limit accepts it


def test_zip_with_two_shapefiles_asks_for_layer(tmp_path):
    z = _zip_shapefile(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    pyogrio.write_dataframe(_points(), other / "second.shp")
    with zipfile.ZipFile(z, "a") as zf:
        for f in other.iterdir():
            zf.write(f, f.name)
    with pytest.raises(LayerImportError, match=r"2 shapefiles \(pts, second\); choose one with --layer"):
        read_layer(z)
    assert len(read_layer(z, layer="second")[0]) == 3


# -- CSV -----------------------------------------------------------------------------
def test_csv_bom_semicolon_decimal_comma(tmp_path):
    path = tmp_path / "sites.csv"
    text = "Name;Longitude;Latitude;MW\n" + "".join(
        f"{n};{str(x).replace('.', ',')};{str(y).replace('.', ',')};{mw}\n"
        for n, (x, y), mw in zip(["Rockdale", "Denton", "Childress"], PLACES, ["700,5", "125", "450"]))
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    gdf, report = read_layer(path)
    _assert_places(gdf)
    assert list(gdf.columns[:2]) == ["Name", "MW"]  # BOM stripped from the first header
    assert gdf["MW"].tolist() == [700.5, 125.0, 450.0]


def test_csv_without_coordinate_columns_lists_columns(tmp_path):
    path = tmp_path / "nocoords.csv"
    path.write_text("site,easting,northing\na,1,2\n")
    with pytest.raises(LayerImportError, match=r"nocoords\.csv: no longitude/latitude columns found "
                                               r"\(columns: site, easting, northing\)"):
        read_layer(path)


def test_csv_bad_and_out_of_range_rows_are_dropped_with_row_numbers(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("id,lon,lat\na,-97,30\nb,abc,31\nc,,\nd,250,30\ne,-98,31\n")
    gdf, report = read_layer(path)
    assert gdf["id"].tolist() == ["a", "e"]
    reasons = dict(report.dropped)
    assert set(reasons) == {2, 3, 4}
    assert "not numbers" in reasons[2] and reasons[3] == "no geometry" and "outside lon" in reasons[4]
    assert "Dropped 3 rows" in report.summary()


# -- CRS -----------------------------------------------------------------------------
@pytest.mark.parametrize("epsg", [3857, 32614])
def test_reprojection_lands_within_metres(tmp_path, epsg):
    fwd = Transformer.from_crs(4326, epsg, always_xy=True)
    pts = _points(crs=None)
    pts = pts.set_geometry([shapely.Point(*fwd.transform(x, y)) for x, y in PLACES]).set_crs(epsg)
    path = tmp_path / f"p{epsg}.gpkg"
    pyogrio.write_dataframe(pts, path)
    gdf, report = read_layer(path, kind="pops")
    _assert_places(gdf, tol_m=0.01)
    assert report.reprojected_from == f"EPSG:{epsg}"


@pytest.mark.filterwarnings("ignore:'crs' was not provided:UserWarning")
def test_layer_without_crs_is_refused_unless_named(tmp_path):
    fwd = Transformer.from_crs(4326, 32614, always_xy=True)
    pts = _points(crs=None).set_geometry([shapely.Point(*fwd.transform(x, y)) for x, y in PLACES])
    path = tmp_path / "noprj.shp"
    pyogrio.write_dataframe(pts, path)
    assert not path.with_suffix(".prj").exists()
    with pytest.raises(LayerImportError, match=r"noprj\.shp: the layer has no coordinate reference system.*--crs"):
        read_layer(path)
    gdf, report = read_layer(path, crs="EPSG:32614")
    _assert_places(gdf, tol_m=0.01)
    with pytest.raises(LayerImportError, match="unknown CRS 'EPSG:99999999'"):
        read_layer(path, crs="EPSG:99999999")


def test_ensure_wgs84_direct():
    with pytest.raises(CRSError):
        ensure_wgs84(_points(crs=None))
    assert ensure_wgs84(_points()).crs.to_epsg() == 4326


# -- geometry cleaning and kinds --------------------------------------------------------
def _write_geojson(path: Path, geometries: list[dict | None]) -> Path:
    feats = [{"type": "Feature", "properties": {"n": i + 1}, "geometry": g} for i, g in enumerate(geometries)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def test_invalid_geometries_repaired_and_bad_ones_dropped(tmp_path):
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]}
    square = {"type": "Polygon", "coordinates": [[[10, 10], [11, 10], [11, 11], [10, 11], [10, 10]]]}
    out_of_range = {"type": "Polygon", "coordinates": [[[200, 0], [201, 0], [201, 1], [200, 0]]]}
    empty = {"type": "Polygon", "coordinates": []}
    path = _write_geojson(tmp_path / "polys.geojson", [bowtie, square, None, out_of_range, empty])
    gdf, report = read_layer(path, kind="stranded")
    assert gdf["n"].tolist() == [1, 2]
    assert report.repaired == 1
    assert gdf.geometry.is_valid.all()
    assert gdf.geometry.iloc[0].area == pytest.approx(2.0)  # both triangles of the bow-tie kept
    assert [r for r, _ in report.dropped] == [3, 4, 5]


def test_nan_coordinates_are_dropped(tmp_path):
    gdf = gpd.GeoDataFrame({"n": [1, 2]}, geometry=[shapely.Point(1, 1), shapely.Point(np.nan, 5)], crs=4326)
    path = tmp_path / "nan.gpkg"
    pyogrio.write_dataframe(gdf, path)
    out, report = read_layer(path)
    assert out["n"].tolist() == [1]
    assert report.dropped == [(2, "non-finite (NaN/infinite) coordinates")]


def test_wrong_geometry_type_for_kind(shared_data):
    with pytest.raises(LayerImportError, match="transmission layers need LineString geometries but the layer "
                                               "holds Point"):
        read_layer(shared_data / "tx_osm2017_hv_nodes.geojson", kind="transmission")


@pytest.mark.parametrize("content, problem", [
    (b"", "the file is empty"),
    (b"this is not json at all", "cannot be read as GeoJSON"),
    (b"\x00\x01\x02garbage", "cannot be read as GeoJSON"),
])
def test_garbage_files_give_one_line_errors(tmp_path, content, problem):
    path = tmp_path / "bad.geojson"
    path.write_bytes(content)
    with pytest.raises(LayerImportError) as info:
        read_layer(path)
    msg = str(info.value)
    assert msg.startswith("bad.geojson: ") and problem in msg and "\n" not in msg
    assert isinstance(info.value, PlannerError)


def test_missing_and_unsupported_files(tmp_path):
    with pytest.raises(LayerImportError, match="nope.geojson: file not found"):
        read_layer(tmp_path / "nope.geojson")
    (tmp_path / "x.docx").write_text("x")
    with pytest.raises(LayerImportError, match="unsupported file type '.docx'"):
        read_layer(tmp_path / "x.docx")
    (tmp_path / "broken.zip").write_bytes(b"PK not really")
    with pytest.raises(LayerImportError, match="broken.zip: not a readable zip archive"):
        read_layer(tmp_path / "broken.zip")


def test_progress_is_reported(shared_data):
    seen: list[float] = []
    read_layer(shared_data / "eia_lower48_shale_basins.geojson", kind="basins", progress=seen.append)
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)


# -- sites -----------------------------------------------------------------------------
def test_import_real_sites_csv(shared_data):
    sites, report = import_sites(shared_data / "mining_sites_public.csv")
    assert len(sites) == 40 and report.rows_imported == 40
    by_id = {s.site_id: s for s in sites}
    assert not by_id["BTCM-ETH"].has_location and not by_id["FUFU-ETH"].has_location
    assert by_id["CORZ-DEN"].lon == pytest.approx(-97.13307) and by_id["CORZ-DEN"].energized_mw == 125.0
    assert by_id["CORZ-DEN"].power_capacity_mw == 394.0
    assert by_id["WULF-ABE"].status == "ai_new_build"
    assert by_id["RIOT-COR"].status == "operating"  # planned_or_evaluating keeps the mining status
    assert by_id["CORZ-MAR"].location_precision == "county_seat"
    assert by_id["IREN-CF"].energized_mw is None  # unknown stays unknown
    assert "mw_notes" in report.unmapped_columns and "verification" in report.unmapped_columns


def test_import_sites_collects_every_error(tmp_path):
    path = tmp_path / "bad_sites.csv"
    path.write_text("site_id,name,lon,lat,energized_mw,power_capacity_mw,status\n"
                    "A,Alpha,-97,30,10,20,operating\n"
                    "B,Beta,-97,30,-5,20,operating\n"
                    "A,Dup,-97,30,1,2,operating\n"
                    "C,Gamma,-97,30,30,20,flying\n"
                    ",NoId,-97,30,,,\n")
    with pytest.raises(SiteImportError) as info:
        import_sites(path)
    errors = info.value.errors
    assert any(e.startswith("row 2: ") and "energized_mw" in e and "minimum" in e for e in errors)
    assert any(e.startswith("row 3: ") and "duplicate site_id 'A' (first on row 1)" in e for e in errors)
    assert any(e.startswith("row 4: ") and "status" in e for e in errors)
    assert any(e.startswith("row 5: ") and "site_id is required" in e for e in errors)
    assert str(info.value).startswith("bad_sites.csv: 4 problems") and "\n" not in str(info.value)


def test_import_sites_cross_field_rule(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("site_id,name,lon,lat,energized_mw,power_capacity_mw\nA,Alpha,-97,30,30,20\n")
    with pytest.raises(SiteImportError, match="row 1: A: energized_mw .* exceeds power_capacity_mw"):
        import_sites(path)


def test_import_sites_from_projected_gpkg_with_column_map(tmp_path):
    fwd = Transformer.from_crs(4326, 3857, always_xy=True)
    gdf = gpd.GeoDataFrame({"ID": ["R", "D", "C"], "Label": ["Rockdale", "Denton", "Childress"],
                            "Power": [700.0, 125.0, None], "extra": [1, 2, 3]},
                           geometry=[shapely.Point(*fwd.transform(x, y)) for x, y in PLACES], crs=3857)
    path = tmp_path / "s.gpkg"
    pyogrio.write_dataframe(gdf, path)
    sites, report = import_sites(path, column_map={"ID": "site_id", "Label": "name", "Power": "energized_mw"})
    assert [s.site_id for s in sites] == ["R", "D", "C"]
    assert sites[2].energized_mw is None
    _, _, d = GEOD.inv(sites[0].lon, sites[0].lat, *PLACES[0])
    assert d < 0.05
    assert report.unmapped_columns == ["extra"]
    with pytest.raises(LayerImportError, match="column_map maps 'Label' to 'label', which is not a site field"):
        import_sites(path, column_map={"Label": "label"})


@pytest.mark.parametrize("text, choice", [
    ("town centroid (parish seat)", "town_centroid"), ("city centroid", "town_centroid"),
    ("county seat (Spearman) - exact wind-farm location not given", "county_seat"),
    ("district centre (Tsimasham)", "district_centre"), ("municipal centre (Aas/Ås, Tydal)", "town_centroid"),
    ("unknown - not disclosed", None), ("exact", "exact"), ("somewhere near", "approximate"),
])
def test_map_location_precision(text, choice):
    assert map_location_precision(text) == choice


def test_report_summary_is_one_paragraph():
    r = ImportReport(source="/x/lines.shp", rows_read=10, rows_imported=7, repaired=2,
                     dropped=[(i, "no geometry") for i in range(1, 4)], reprojected_from="EPSG:3857",
                     unmapped_columns=["foo"])
    s = r.summary()
    assert "\n" not in s and s.startswith("lines.shp: imported 7 of 10 rows.")
    assert "Repaired 2 invalid geometries" in s and "EPSG:3857" in s and "foo" in s
