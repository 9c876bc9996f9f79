"""Proximity engine on the real public layers, checked against independent brute-force geodesy."""
from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod, Transformer

from planner.gis.proximity import (
    ProximityConfig, ProximityError, apply_proximity, compute_proximity, sites_frame,
)
from planner.model.fields import COMPUTED_FIELDS
from planner.model.portfolio import Portfolio
from planner.model.site import PlannerError, Site

GEOD = Geod(ellps="WGS84")
#: Layer kinds the tests read from the bundled sample (maps/sample_portfolio.gpkg, built from the shared
#: files by scripts/build_sample.py): the tests run on a checkout without ../shared/data.
KINDS = ("transmission", "substations", "fibre", "pops", "stranded", "flares")
DENTON = (-97.13307, 33.21484)
ADDIS_ABABA = (38.74689, 9.02497)  # a point inside Ethiopia (GeoNames Addis Ababa)


def _bundled(repo_root: Path) -> Path:
    sample = repo_root / "maps" / "sample_portfolio.gpkg"
    if not sample.is_file():
        pytest.fail(f"{sample} is missing: the proximity tests run on the bundled sample; rebuild it with "
                    "python scripts/build_sample.py")
    return sample


@pytest.fixture(scope="module")
def layers(repo_root: Path) -> dict[str, gpd.GeoDataFrame]:
    sample = _bundled(repo_root)
    return {k: gpd.read_file(sample, layer=k, engine="pyogrio") for k in KINDS}


@pytest.fixture(scope="module")
def public_sites(repo_root: Path) -> list[Site]:
    sites = gpd.read_file(_bundled(repo_root), layer="sites", engine="pyogrio")
    out = []
    for r in sites.itertuples():
        located = r.geometry is not None and not r.geometry.is_empty
        out.append(Site.create(site_id=r.site_id, name=r.name, operator=r.operator, country=r.country,
                               admin1=r.admin1, locality=r.locality, lon=r.geometry.x if located else None,
                               lat=r.geometry.y if located else None))
    return out


@pytest.fixture(scope="module")
def table(public_sites, layers) -> pd.DataFrame:
    return compute_proximity(sites_frame(public_sites), layers)


def _kv(raw) -> float:
    """Independent voltage reading: max of the ';'-joined volts, else max_kv."""
    if isinstance(raw, str) and raw.strip():
        return max(float(v) for v in raw.split(";") if v.strip()) / 1000.0
    return math.nan


def _lines_at_least(lines: gpd.GeoDataFrame, kv: float) -> np.ndarray:
    volts = lines["voltage"].map(_kv).fillna(lines["max_kv"].astype(float))
    return lines.geometry.to_numpy()[volts.to_numpy() >= kv]


def _site_gdf(points: dict[str, tuple[float, float] | None]) -> gpd.GeoDataFrame:
    geoms = [None if p is None else shapely.Point(*p) for p in points.values()]
    return gpd.GeoDataFrame({"site_id": list(points)}, geometry=geoms, crs="EPSG:4326")


def _aeqd_min_km(lon: float, lat: float, dense: np.ndarray, coords: np.ndarray) -> float:
    """Naive reference: every (densified) feature in an azimuthal equidistant CRS centred on the site.

    AEQD keeps the distance from its centre exact for every point, so the planar distance
    from the origin to a densified line is the geodesic distance up to the chord sagitta.
    """
    aeqd = Transformer.from_pipeline("+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
                                     f"+step +proj=aeqd +lat_0={lat} +lon_0={lon} +ellps=WGS84")
    x, y = aeqd.transform(coords[:, 0], coords[:, 1])
    projected = shapely.set_coordinates(dense.copy(), np.column_stack([x, y]))
    return float(shapely.distance(shapely.Point(0, 0), projected).min()) / 1000.0


def test_columns_are_exactly_the_computed_fields(table, public_sites):
    assert list(table.columns) == list(COMPUTED_FIELDS)
    assert list(table.index) == [s.site_id for s in public_sites]


def test_denton_345kv_equals_bruteforce_geodesic(table, layers):
    """CORZ-DEN nearest >=345 kV line vs densify-every-line + Geod.inv on all samples."""
    geoms = _lines_at_least(layers["transmission"], 345)
    samples = shapely.get_coordinates(shapely.segmentize(geoms, 0.0005))  # ~50 m spacing
    _, _, d_m = GEOD.inv(np.full(len(samples), DENTON[0]), np.full(len(samples), DENTON[1]),
                         samples[:, 0], samples[:, 1])
    brute_km = float(np.min(d_m)) / 1000.0
    got = table.loc["CORZ-DEN", "dist_line_345kv_km"]
    assert 0.5 < brute_km < 50  # sanity: a real nearby line, not a degenerate case
    assert got == pytest.approx(brute_km, rel=0.01)
    # samples are points on the lines, so the exact minimum can only be smaller (by < 25 m here)
    assert got <= brute_km + 1e-4 and brute_km - got < 0.025
    assert table.loc["CORZ-DEN", "line_345kv_voltage_kv"] >= 345


def test_permian_site_inside_region_with_flares(table, public_sites, layers):
    row = table.loc["CORZ-PEC"]  # Pecos, Reeves County TX
    assert "Permian" in row["stranded_region"]
    assert row["dist_stranded_km"] == 0.0
    site = next(s for s in public_sites if s.site_id == "CORZ-PEC")
    fl = layers["flares"]
    _, _, d_m = GEOD.inv(np.full(len(fl), site.lon), np.full(len(fl), site.lat), fl.geometry.x, fl.geometry.y)
    within = d_m <= 50_000
    assert row["flare_count"] == int(within.sum()) > 0
    assert row["flare_volume_bcm"] == pytest.approx(float(fl["flr_volume_bcm"][within].sum()), rel=1e-6)


def test_surplus_hydro_countries_and_outside(layers):
    sites = _site_gdf({"HIVE-YGZ": (-55.00489, -25.46096), "ETH-ADD": ADDIS_ABABA, "CORZ-DEN": DENTON})
    t = compute_proximity(sites, {"stranded": layers["stranded"]})
    assert t.loc["HIVE-YGZ", "stranded_region"] == "Paraguay"
    assert t.loc["ETH-ADD", "stranded_region"] == "Ethiopia"
    assert t.loc["ETH-ADD", "dist_stranded_km"] == 0.0
    assert t.loc["CORZ-DEN", "stranded_region"] is None
    assert 100 < t.loc["CORZ-DEN", "dist_stranded_km"] < 1000  # outside: distance to the nearest region
    assert t.loc["CORZ-DEN", "dist_line_345kv_km"] is None  # no transmission layer given -> unknown


def test_unknown_location_gets_none_everywhere(table):
    assert table.loc["BTCM-ETH"].isna().all()
    assert all(v is None for v in table.loc["FUFU-ETH"].tolist())


def test_missing_layer_kinds_are_none_not_zero(layers):
    t = compute_proximity(_site_gdf({"CORZ-DEN": DENTON}), {"transmission": layers["transmission"]})
    row = t.loc["CORZ-DEN"]
    assert row["dist_line_345kv_km"] > 0
    for col in ("dist_fibre_km", "pop_name", "flare_count", "flare_volume_bcm", "dist_substation_km"):
        assert row[col] is None


def test_raising_voltage_classes_changes_results(layers):
    sites = _site_gdf({"CORZ-DEN": DENTON})
    base = compute_proximity(sites, layers, ProximityConfig())
    raised = compute_proximity(sites, layers, ProximityConfig.from_settings(
        {"voltage_classes_kv": [100, 200, 300, 400, 500], "flare_radius_km": 50}))
    # slot "345" now means >= 400 kV: only the 500 kV lines qualify, far from Denton
    assert raised.loc["CORZ-DEN", "dist_line_345kv_km"] == base.loc["CORZ-DEN", "dist_line_500kv_km"]
    assert raised.loc["CORZ-DEN", "dist_line_345kv_km"] > 10 * base.loc["CORZ-DEN", "dist_line_345kv_km"]
    assert raised.loc["CORZ-DEN", "line_345kv_voltage_kv"] >= 400
    fewer = compute_proximity(sites, layers, ProximityConfig((345,)))
    assert fewer.loc["CORZ-DEN", "dist_line_69kv_km"] == base.loc["CORZ-DEN", "dist_line_345kv_km"]
    assert fewer.loc["CORZ-DEN", "dist_line_500kv_km"] is None


def _project(sites: list[Site], layers: dict[str, gpd.GeoDataFrame], settings=None) -> SimpleNamespace:
    lay = {f"{k}-{i}": SimpleNamespace(name=f"{k}-{i}", kind=k, gdf=g)
           for k, gdf in layers.items() for i, g in enumerate([gdf])}
    return SimpleNamespace(portfolio=Portfolio(sites, settings=settings), layers=lay)


def test_apply_proximity_updates_only_the_moved_site(public_sites, layers):
    project = _project(public_sites, layers)
    events: list[list[str]] = []
    project.portfolio.sites_changed.connect(events.append)
    changed = apply_proximity(project)
    located = [s.site_id for s in public_sites if s.has_location]
    assert changed == located and events == [located]
    assert project.portfolio.get("CORZ-DEN").dist_line_345kv_km == pytest.approx(2.6, abs=0.5)
    assert apply_proximity(project) == [] and len(events) == 1  # idempotent: nothing changed, no signal
    moved = project.portfolio.get("RIOT-COR").replace(lon=-103.49323, lat=31.42291)  # to Pecos
    project.portfolio.replace_sites([moved])
    events.clear()
    assert apply_proximity(project) == ["RIOT-COR"]
    assert events == [["RIOT-COR"]]
    assert "Permian" in project.portfolio.get("RIOT-COR").stranded_region


def test_apply_proximity_concatenates_layers_of_one_kind_and_reads_settings(public_sites, layers):
    lines = layers["transmission"]
    halves = [lines.iloc[: len(lines) // 2], lines.iloc[len(lines) // 2:]]
    project = SimpleNamespace(
        portfolio=Portfolio([s for s in public_sites if s.site_id == "CORZ-DEN"],
                            settings={"proximity": {"voltage_classes_kv": [69, 138, 230, 400, 500]}}),
        layers={f"tx{i}": SimpleNamespace(kind="transmission", gdf=g) for i, g in enumerate(halves)})
    assert apply_proximity(project, ["CORZ-DEN"]) == ["CORZ-DEN"]
    full = compute_proximity(_site_gdf({"CORZ-DEN": DENTON}), {"transmission": lines})
    site = project.portfolio.get("CORZ-DEN")
    assert site.dist_line_230kv_km == full.loc["CORZ-DEN", "dist_line_230kv_km"]
    assert site.dist_line_345kv_km == full.loc["CORZ-DEN", "dist_line_500kv_km"]  # slot 345 = >= 400 kV


def test_vectorised_equals_naive_reference_on_200_random_sites(layers):
    rng = np.random.default_rng(20251126)
    n = 200
    lon, lat = rng.uniform(-106.5, -93.5, n), rng.uniform(25.9, 36.5, n)
    sites = gpd.GeoDataFrame({"site_id": [f"R{i:03d}" for i in range(n)]},
                             geometry=shapely.points(lon, lat), crs="EPSG:4326")
    t = compute_proximity(sites, {k: layers[k] for k in ("transmission", "pops", "flares")})
    dense = shapely.segmentize(_lines_at_least(layers["transmission"], 230), 0.05)  # <= 5.6 km chords: sagitta < 1 m
    coords = shapely.get_coordinates(dense)
    pops = layers["pops"]
    fl_all = layers["flares"]
    fl_x, fl_y = fl_all.geometry.x.to_numpy(), fl_all.geometry.y.to_numpy()
    pop_x, pop_y = pops.geometry.x.to_numpy(), pops.geometry.y.to_numpy()
    worst = 0.0
    for i in range(n):  # the naive reference: one site at a time, every feature, no index
        sid = f"R{i:03d}"
        ref_line = _aeqd_min_km(lon[i], lat[i], dense, coords)
        got = t.loc[sid, "dist_line_230kv_km"]
        assert got == pytest.approx(ref_line, rel=1e-3, abs=0.005), sid
        if ref_line >= 1.0:  # below 1 km the reference's own ~1 m chord error dominates: abs=5 m above applies
            worst = max(worst, abs(got - ref_line) / ref_line)
        _, _, d_pop = GEOD.inv(np.full(len(pop_x), lon[i]), np.full(len(pop_x), lat[i]), pop_x, pop_y)
        assert t.loc[sid, "dist_pop_km"] == pytest.approx(d_pop.min() / 1000.0, abs=1e-4), sid
        # a +-2 deg window is far wider than 50 km at these latitudes; it only keeps the test fast
        near = (np.abs(fl_x - lon[i]) < 2) & (np.abs(fl_y - lat[i]) < 2)
        _, _, d_fl = GEOD.inv(np.full(near.sum(), lon[i]), np.full(near.sum(), lat[i]), fl_x[near], fl_y[near])
        assert t.loc[sid, "flare_count"] == int((d_fl <= 50_000).sum()), sid
    print(f"worst relative difference vs naive AEQD reference: {worst:.2e}")
    assert worst < 1e-3


def test_far_sites_match_bruteforce(layers):
    """Sites thousands of km from the US-South lines / US fibre (Norway, Paraguay, Bhutan)."""
    far = {"BTDR-TYD": (11.65, 63.05), "HIVE-YGZ": (-55.00489, -25.46096), "BTDR-GED": (89.53604, 27.0989)}
    south = layers["transmission"][layers["transmission"]["region"] == "USA-South"]
    t = compute_proximity(_site_gdf(far), {"transmission": south, "fibre": layers["fibre"]})
    for frame, col in ((south, "dist_line_69kv_km"), (layers["fibre"], "dist_fibre_km")):
        samples = shapely.get_coordinates(shapely.segmentize(frame.geometry.to_numpy(), 0.1))
        for sid, (x, y) in far.items():
            _, _, d_m = GEOD.inv(np.full(len(samples), x), np.full(len(samples), y), samples[:, 0], samples[:, 1])
            assert t.loc[sid, col] == pytest.approx(d_m.min() / 1000.0, rel=1e-4), (sid, col)


def test_antimeridian_and_polar_sites():
    feats = gpd.GeoDataFrame({"node": ["east", "north"], "network": ["X", "Y"]},
                             geometry=[shapely.Point(179.9, 0.0), shapely.Point(10.0, 89.5)], crs="EPSG:4326")
    t = compute_proximity(_site_gdf({"W": (-179.9, 0.0), "P": (-170.0, 89.5)}), {"pops": feats})
    _, _, d = GEOD.inv(-179.9, 0.0, 179.9, 0.0)
    assert t.loc["W", "dist_pop_km"] == pytest.approx(d / 1000.0, abs=1e-4)  # ~22 km, not ~40,000 km
    assert t.loc["W", "pop_name"] == "east (X)"
    _, _, d = GEOD.inv(-170.0, 89.5, 10.0, 89.5)
    assert t.loc["P", "dist_pop_km"] == pytest.approx(d / 1000.0, abs=1e-4)  # across the pole


def test_crs_errors_are_clear(layers):
    with pytest.raises(ProximityError, match=r"EPSG:4326.*planner\.gis\.crs"):
        compute_proximity(_site_gdf({"A": DENTON}), {"pops": layers["pops"].to_crs(3857)})
    no_crs = gpd.GeoDataFrame({"site_id": ["A"]}, geometry=[shapely.Point(*DENTON)])
    with pytest.raises(PlannerError, match="no CRS"):
        compute_proximity(no_crs, {})
    line_site = gpd.GeoDataFrame({"site_id": ["A"]}, geometry=[shapely.LineString([(0, 0), (1, 1)])], crs=4326)
    with pytest.raises(ProximityError, match="not a Point"):
        compute_proximity(line_site, {})


@pytest.mark.parametrize("settings, match", [
    ({"voltage_classes_kv": [345, 230]}, "ascending"),
    ({"voltage_classes_kv": "345"}, "not a list"),
    ({"flare_radius_km": -5}, "flare_radius_km"),
    ({"radius": 5}, "unknown key"),
])
def test_config_validation(settings, match):
    with pytest.raises(ProximityError, match=match):
        ProximityConfig.from_settings(settings)


def test_progress_reaches_one(layers):
    seen: list[float] = []
    compute_proximity(_site_gdf({"A": DENTON}), {"pops": layers["pops"], "fibre": layers["fibre"]},
                      progress=seen.append)
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)


def test_cli_missing_file_is_one_line_error(tmp_path):
    r = subprocess.run([sys.executable, "-m", "planner", "proximity", str(tmp_path / "nope.gpkg")],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr.strip().count("\n") == 0 and "no such project file" in r.stderr


def test_midwest_site_230kv_matches_independent_geod_on_the_shared_file(table, public_sites, layers):
    """APLD-ELL (Ellendale, ND): nearest >= 230 kV line vs Geod.inv to points every ~50 m of every such line.

    Reads ``grid_osm2017_hv_lines.geojson`` from ../shared/data when present (the file the sample is built
    from), else the bundled copy of it in the sample; voltages are read independently of planner.gis.voltage.
    """
    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "grid_osm2017_hv_lines.geojson"
    lines = gpd.read_file(shared, engine="pyogrio") if shared.is_file() else layers["transmission"]
    site = next(s for s in public_sites if s.site_id == "APLD-ELL")
    geoms = _lines_at_least(lines, 230)
    box = shapely.box(site.lon - 4, site.lat - 3, site.lon + 4, site.lat + 3)  # ~330 km either way
    geoms = geoms[shapely.intersects(geoms, box)]
    samples = shapely.get_coordinates(shapely.segmentize(geoms, 0.0005))  # <= ~55 m apart
    _, _, d_m = GEOD.inv(np.full(len(samples), site.lon), np.full(len(samples), site.lat),
                         samples[:, 0], samples[:, 1])
    brute_km = float(d_m.min()) / 1000.0
    got = table.loc["APLD-ELL", "dist_line_230kv_km"]
    assert 1.0 < brute_km < 250.0, f"{shared if shared.is_file() else 'bundled layer'}: {brute_km} km"
    # the samples lie on the lines: the exact minimum is at most ~30 m (half a spacing) below them
    assert got <= brute_km + 1e-4 and brute_km - got < 0.03, (got, brute_km)
    assert table.loc["APLD-ELL", "line_230kv_voltage_kv"] >= 230


def test_sample_project_via_open_project_and_cli(repo_root):
    from planner.gis.project import open_project
    sample = _bundled(repo_root)
    project = open_project(sample)
    shipped = {s.site_id: s for s in project.portfolio}
    blank = {c: None for c in COMPUTED_FIELDS}
    project.portfolio.replace_sites([s.with_computed(blank) for s in project.portfolio])
    changed = apply_proximity(project)
    assert changed, "the sample has sites with locations and grid layers"
    # the sample ships with the same computed values the engine produces now
    for sid in changed:
        assert project.portfolio.get(sid) == shipped[sid], sid
    # layer coverage: the national grid covers the US South, Midwest and Northeast, Canada and the sites
    # abroad; not the US West (Wyoming). Fibre covers the contiguous US only.
    get = project.portfolio.get
    for sid in ("WULF-LM", "APLD-ELL", "CLSK-WAS", "CORZ-DEN", "IREN-PG", "HUT-MH", "BTDR-TYD", "BTDR-GED",
                "HIVE-YGZ"):
        s = get(sid)
        assert s.dist_line_230kv_km is not None and s.dist_substation_km is not None, sid
    assert get("CORZ-DEN").dist_line_345kv_km < 5 and get("WULF-LM").dist_line_345kv_km < 10
    west = get("CLSK-CHY")
    assert west.dist_line_69kv_km is None and west.dist_substation_km is None  # unknown, never "far"
    assert west.dist_fibre_km is not None
    bc = get("IREN-PG")
    assert bc.dist_fibre_km is None and bc.dist_pop_km is None
    r = subprocess.run([sys.executable, "-m", "planner", "proximity", str(sample), "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
