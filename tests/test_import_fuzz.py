"""Property tests at the edge: random raw values, random CSV and GeoJSON tables. The importers and the
validation either return clean data (finite numbers, in range, in EPSG:4326) or raise a PlannerError;
the sites they return score and value without NaN/inf. (tests/test_readiness_fuzz.py and
tests/test_economics_fuzz.py cover valid sites; this file covers what comes before them.)
"""
from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.gis.io import KIND_GEOMETRIES, LayerImportError, import_sites, read_layer
from planner.model.assumptions import assumptions_from_settings
from planner.model.economics import site_paths
from planner.model.fields import FIELD_LIST, FIELDS
from planner.model.readiness import score_site
from planner.model.site import (
    PlannerError,
    Site,
    SiteError,
    coerce_value,
    validate_records,
)

FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
pytestmark = [pytest.mark.filterwarnings("ignore:Could not parse column:UserWarning"),
              pytest.mark.filterwarnings("ignore:Non closed ring detected:RuntimeWarning"),
              pytest.mark.filterwarnings("ignore::RuntimeWarning:pyogrio.*"),
              pytest.mark.filterwarnings("ignore:invalid value encountered in from_wkb:RuntimeWarning")]
_EDITABLE = [f for f in FIELD_LIST if not f.computed]

# Text that breaks naive parsers: separators, quotes, decimal commas, units, HTML, formulas, NUL-ish bytes.
_NASTY = st.sampled_from(["", " ", "NaN", "nan", "inf", "-inf", "1e400", "-0", "1,5", "1,234", "1.234,5",
                          "300 MW", "300MW", "1.5 GW", "12 kV", "yes", "no", "N+1", "n/a", "?", "—", "\u00a07",
                          "<b>x</b>", '"', "'", ";", ",", "\t", "=1+1", "</script>", "\u2028", "\ufeff",
                          "9" * 400, "-1", "2025-02-30", "2025-01-01", "operating", "ENERGIZED", "air"])
_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_RAW = st.one_of(st.none(), _NASTY, _TEXT, st.booleans(), st.integers(-10**12, 10**12),
                 st.floats(allow_nan=True, allow_infinity=True))


def _finite_or_none(x: object) -> bool:
    return x is None or isinstance(x, bool) or not isinstance(x, (int, float)) or math.isfinite(x)


def _check_site(site: Site) -> None:
    for fs in FIELD_LIST:
        v = site.get(fs.name)
        if v is None:
            continue
        if fs.kind in ("float", "int"):
            assert isinstance(v, (int, float)) and math.isfinite(v), (fs.name, v)
            assert fs.minimum is None or v >= fs.minimum, (fs.name, v)
            assert fs.maximum is None or v <= fs.maximum, (fs.name, v)
        elif fs.kind == "enum":
            assert v in fs.choices, (fs.name, v)
        elif fs.kind == "str":
            assert isinstance(v, str) and v == v.strip() and len(v) <= fs.max_length


# -- validation ---------------------------------------------------------------------------------
@settings(FUZZ, max_examples=400)
@given(field=st.sampled_from([f.name for f in FIELD_LIST]), raw=_RAW)
def test_coerce_value_returns_typed_finite_value_or_site_error(field, raw):
    fs = FIELDS[field]
    try:
        v = coerce_value(field, raw)
    except SiteError as e:
        assert e.field == field and "\n" not in str(e)
        return
    if v is None:
        return
    expected = {"float": float, "int": int, "bool": bool, "enum": str, "date": str, "str": str}[fs.kind]
    assert isinstance(v, expected) and _finite_or_none(v)
    if fs.kind in ("float", "int"):
        assert (fs.minimum is None or v >= fs.minimum) and (fs.maximum is None or v <= fs.maximum)
    if fs.kind == "enum":
        assert v in fs.choices


@settings(FUZZ, max_examples=150)
@given(records=st.lists(st.dictionaries(st.sampled_from([f.name for f in _EDITABLE] + ["bogus"]), _RAW,
                                        max_size=8), max_size=6))
def test_site_create_and_validate_records_only_raise_planner_errors(records):
    issues = validate_records(records)  # collects, never raises
    assert all("\n" not in i.message for i in issues)
    for rec in records:
        raw = {k: v for k, v in rec.items() if k in FIELDS}
        raw.setdefault("site_id", "FZ-1")
        raw.setdefault("name", "fuzz")
        try:
            site = Site.create(**raw)
        except PlannerError:
            continue
        _check_site(site)
        r = score_site(site)
        assert r.total is None or 0.0 <= r.total <= 100.0
        assert all(c.score is None or 0.0 <= c.score <= 100.0 for c in r.criteria)


# -- CSV sites -------------------------------------------------------------------------------------
_CSV_FIELDS = ["power_capacity_mw", "energized_mw", "pipeline_mw", "land_acres", "substation_voltage_kv",
               "substation_owned", "interconnection_status", "status", "operator", "notes",
               "power_price_usd_per_mwh", "transformer_count", "labour_rating", "expected_energization_date"]
_CELL = st.one_of(_NASTY, _TEXT.filter(lambda t: "\r" not in t and "\n" not in t),
                  st.floats(-1e5, 1e5, allow_nan=False).map(lambda x: f"{x:g}"), st.integers(-5, 5000).map(str))
_COORD = st.one_of(st.floats(-200, 200, allow_nan=False).map(lambda x: f"{x:.5f}"), _NASTY, st.just(""))


@st.composite
def csv_tables(draw: st.DrawFn) -> tuple[bytes, str]:
    sep = draw(st.sampled_from([",", ";", "\t"]))
    cols = ["site_id", "name", "lon", "lat"] + draw(st.lists(st.sampled_from(_CSV_FIELDS), max_size=5,
                                                             unique=True))
    rows = []
    for i in range(draw(st.integers(0, 6))):
        sid = draw(st.one_of(st.just(f"S{i}"), st.just("S0"), _CELL))
        cells = [sid, draw(_CELL), draw(_COORD), draw(_COORD)] + [draw(_CELL) for _ in cols[4:]]
        rows.append(cells)

    def q(cell: str) -> str:
        return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in (sep, '"', "\n")) else cell

    text = "\n".join(sep.join(q(c) for c in r) for r in [cols] + rows) + "\n"
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    return text.encode(encoding, errors="replace"), encoding


@settings(FUZZ, max_examples=150)
@given(table=csv_tables())
def test_random_csv_sites_import_cleanly_or_raise_planner_error(table):
    data, _ = table
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.csv"
        path.write_bytes(data)
        try:
            sites, report = import_sites(path)
        except PlannerError as e:
            assert "\n" not in str(e) and str(e).startswith("fuzz.csv: ")
            return
    assert report.rows_imported == len(sites) <= report.rows_read
    assert len({s.site_id for s in sites}) == len(sites)
    assumptions = assumptions_from_settings({})
    for site in sites:
        _check_site(site)
        r = score_site(site)
        assert r.total is None or math.isfinite(r.total)
        assert math.isfinite(r.capex_total_usd) if r.capex_total_usd is not None else True
    for site in sites[:1]:
        try:
            comp = site_paths(site, assumptions)
        except PlannerError:
            continue
        for path_result in (comp.mining, comp.ai_lease, comp.hybrid):
            if path_result is not None and path_result.unavailable_reason is None:
                assert math.isfinite(path_result.npv_usd)


# -- GeoJSON layers -----------------------------------------------------------------------------
_NUM = st.one_of(st.floats(-200, 200, allow_nan=False), st.sampled_from([float("nan"), float("inf"), -1e300]))
_XY = st.lists(_NUM, min_size=2, max_size=3)


def _geometry() -> st.SearchStrategy:
    pts = st.lists(_XY, min_size=0, max_size=5)
    return st.one_of(
        st.none(),
        _XY.map(lambda c: {"type": "Point", "coordinates": c}),
        pts.map(lambda c: {"type": "LineString", "coordinates": c}),
        pts.map(lambda c: {"type": "MultiPoint", "coordinates": c}),
        pts.map(lambda c: {"type": "Polygon", "coordinates": [c + c[:1]] if c else []}),
        st.lists(pts, max_size=2).map(lambda c: {"type": "MultiLineString", "coordinates": c}),
    )


_PROPS = st.dictionaries(st.sampled_from(["name", "voltage", "max_kv", "operator", "kv", "n"]),
                         st.one_of(st.none(), _NASTY, _TEXT, st.integers(-10**6, 10**6),
                                   st.floats(allow_nan=False, allow_infinity=False)), max_size=4)


@settings(FUZZ, max_examples=150)
@given(features=st.lists(st.fixed_dictionaries({"geometry": _geometry(), "properties": _PROPS}), max_size=6),
       kind=st.sampled_from(sorted(KIND_GEOMETRIES)))
def test_random_geojson_layers_import_cleanly_or_raise_planner_error(features, kind):
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", **f} for f in features]}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.geojson"
        path.write_text(json.dumps(doc))  # NaN/Infinity literals included on purpose
        try:
            gdf, report = read_layer(path, kind=kind)
        except LayerImportError as e:
            assert "\n" not in str(e) and str(e).startswith("fuzz.geojson: ")
            return
    assert gdf.crs.to_epsg() == 4326
    assert report.rows_imported == len(gdf) <= report.rows_read
    assert len(gdf) + len(report.dropped) == report.rows_read
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    assert not shapely.is_missing(geoms).any() and shapely.is_valid(geoms).all()
    coords = shapely.get_coordinates(geoms)
    assert np.isfinite(coords).all()
    assert (np.abs(coords[:, 0]) <= 180).all() and (np.abs(coords[:, 1]) <= 90).all()
    if "voltage_kv" in gdf.columns:
        kv = gdf["voltage_kv"].to_numpy(dtype=float)
        assert np.all(np.isnan(kv) | (np.isfinite(kv) & (kv > 0)))
