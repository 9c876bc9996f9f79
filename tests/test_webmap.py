"""The web map HTML, without Qt: offline (no CDN), escaped, complete, bounded for big layers."""
from __future__ import annotations

import json
import re
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pytest
import shapely

from planner.model.portfolio import Portfolio
from planner.model.site import PlannerError, Site
from planner.webmap import MapOptions, WebMapError, build_map, tile_url_template
from planner.webmap.escape import json_for_script
from planner.webmap.geometry import encode_lines
from planner.webmap.styles import VOLTAGE_COLOURS, site_radius_px, voltage_class

HOSTILE = "<img src=x onerror=alert(1)>"
BREAKOUT = "</script><script>window.__xss=1</script>"


def _layer(name, kind, gdf, title=None, source="test data", style=None):
    return SimpleNamespace(name=name, kind=kind, title=title or name, gdf=gdf, source=source, style=style or {})


def _data(html: str) -> dict:
    m = re.search(r'<script type="application/json" id="planner-data">(.*?)</script>', html, re.S)
    assert m, "planner-data block missing"
    return json.loads(m.group(1))


@pytest.fixture(scope="module")
def small_project(shared_data):
    lines = gpd.read_file(shared_data / "tx_osm2017_hv_lines.geojson").rename(columns={"max_kv": "voltage_kv"})
    subs = gpd.read_file(shared_data / "tx_osm2017_hv_nodes.geojson")
    states = gpd.read_file(shared_data / "us_states_census2016_simplified.geojson")
    flares = gpd.read_file(shared_data / "eog_vnf_global_flares_2015.geojson")
    flares = flares[flares["cntry_iso"] == "USA"].head(500)
    stranded = gpd.read_file(shared_data / "stranded_energy_regions.geojson")
    lines.loc[0, "name"] = HOSTILE  # hostile feature label
    sites = [
        Site.create(site_id="EVIL-1", name=HOSTILE, operator=BREAKOUT, lat=31.9, lon=-102.1,
                    power_capacity_mw=300, energized_mw=200),
        Site.create(site_id="TPL-1", name="{{ 7*7 }} & co", lat=32.5, lon=-101.0, power_capacity_mw=50),
        Site.create(site_id="BIG-1", name="Big campus", lat=30.2, lon=-97.7, power_capacity_mw=1200),
        Site.create(site_id="NOLOC-1", name="Unknown place", power_capacity_mw=80),
    ]
    layers = {
        "states": _layer("states", "states", states, "US states"),
        "stranded": _layer("stranded", "stranded", stranded, "Stranded energy"),
        "lines": _layer("lines", "transmission", lines, title=f"HV lines {HOSTILE}",
                        source="(c) OpenStreetMap contributors"),
        "subs": _layer("subs", "substations", subs, "Substations"),
        "flares": _layer("flares", "flares", flares, "Flares"),
    }
    return SimpleNamespace(portfolio=Portfolio(sites), layers=layers)


@pytest.fixture(scope="module")
def scores():
    return {"EVIL-1": SimpleNamespace(total=81.0, klass="ready_now", class_label=f"Ready {HOSTILE}"),
            "BIG-1": SimpleNamespace(total=None, klass="insufficient_data", class_label="Insufficient data")}


@pytest.fixture(scope="module")
def small_html(small_project, scores):
    return build_map(small_project, scores)


def test_no_network_references(small_html):
    srcs = re.findall(r"<(?:script|img|iframe)[^>]*\bsrc\s*=\s*[\"']?([^\"' >]+)", small_html, re.I)
    hrefs = re.findall(r"<link[^>]*\bhref\s*=\s*[\"']?([^\"' >]+)", small_html, re.I)
    assert not [u for u in srcs + hrefs if re.match(r"(https?:)?//", u)], srcs + hrefs
    assert "cdn.jsdelivr" not in small_html and "cdnjs" not in small_html and "code.jquery" not in small_html
    assert "url(images/" not in small_html  # Leaflet CSS images are data: URIs
    assert "data:image/png;base64," in small_html
    assert _data(small_html)["tiles"] is None
    assert "preferCanvas\": true" in small_html  # folium skeleton keeps the canvas renderer
    assert "L.control.scale()" in small_html


def test_online_tiles_only_add_the_tile_template(small_project):
    opts = MapOptions(online_tiles=True)
    html = build_map(small_project, None, opts)
    template = tile_url_template(opts)
    assert template == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    tiles = _data(html)["tiles"]
    assert tiles["url"] == template and "OpenStreetMap" in tiles["attribution_html"]
    assert tile_url_template(MapOptions()) is None
    srcs = re.findall(r"<(?:script|img)[^>]*\bsrc\s*=\s*[\"']?([^\"' >]+)", html, re.I)
    assert not [u for u in srcs if u.startswith("http")]
    with pytest.raises(WebMapError, match="unknown tile provider"):
        MapOptions(online_tiles="No.Such.Provider")
    with pytest.raises(WebMapError, match="API key"):
        MapOptions(online_tiles="CartoDB.Positron")  # needs a key in current xyzservices


def test_hostile_strings_are_escaped_everywhere(small_html):
    assert HOSTILE not in small_html
    assert BREAKOUT not in small_html
    # exactly the scripts we wrote: vendor, planner, data, map init -- no injected <script>
    assert len(re.findall(r"<script\b", small_html)) == len(re.findall(r"</script>", small_html))
    data = _data(small_html)
    evil = next(s for s in data["sites"] if s["id"] == "EVIL-1")
    assert "&lt;img src=x onerror=alert(1)&gt;" in evil["pop"]
    assert "&lt;/script&gt;&lt;script&gt;window.__xss=1&lt;/script&gt;" in evil["pop"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in evil["tip"]
    assert "Ready &lt;img" in evil["pop"]  # class label from the score object
    lines = next(lay for lay in data["layers"] if lay["kind"] == "transmission")
    assert "HV lines &lt;img src=x onerror=alert(1)&gt;" in lines["title_html"]
    assert any(f[2] and "&lt;img src=x" in f[2] for f in lines["lines"])
    assert "HV lines &lt;img src=x onerror=alert(1)&gt;" in data["legend_html"]
    tpl = next(s for s in data["sites"] if s["id"] == "TPL-1")
    assert "{{ 7*7 }} &amp; co" in tpl["pop"]  # not evaluated as a template
    # the raw JSON block itself cannot contain a tag opener
    raw = re.search(r'id="planner-data">(.*?)</script>', small_html, re.S).group(1)
    assert "<" not in raw and ">" not in raw


def test_json_for_script_escapes_breakouts():
    text = json_for_script({"a": "</script><!--", "b": float("nan"), "c": "\u2028"})
    assert "<" not in text and ">" not in text and "\u2028" not in text
    assert json.loads(text) == {"a": "</script><!--", "b": None, "c": "\u2028"}


def test_layer_and_feature_counts(small_project, small_html):
    data = _data(small_html)
    assert [s["id"] for s in data["sites"]] == ["EVIL-1", "TPL-1", "BIG-1"]  # NOLOC-1 has no location
    assert "1 site(s) without a location" in data["legend_html"]
    by_kind = {lay["kind"]: lay for lay in data["layers"]}
    # drawn bottom to top: basemap, regions, lines, points
    assert [lay["kind"] for lay in data["layers"]] == ["states", "stranded", "transmission", "substations", "flares"]
    assert len(by_kind["transmission"]["lines"]) == len(small_project.layers["lines"].gdf)
    assert len(by_kind["substations"]["points"]) == len(small_project.layers["subs"].gdf)
    assert len(by_kind["flares"]["points"]) == 500 and by_kind["flares"]["cluster"] is True
    assert len(by_kind["states"]["polygons"]) == len(small_project.layers["states"].gdf)
    # flares sized by volume: bigger flare, bigger radius
    gdf = small_project.layers["flares"].gdf.reset_index(drop=True)
    radii = [p[3] for p in by_kind["flares"]["points"]]
    order = np.argsort(gdf["flr_volume_bcm"].to_numpy())
    assert radii[order[-1]] > radii[order[0]]


def test_readiness_colours_and_sizes(small_html):
    data = _data(small_html)
    sites = {s["id"]: s for s in data["sites"]}
    assert sites["EVIL-1"]["k"] == "ready_now" and sites["BIG-1"]["k"] == "insufficient_data"
    assert sites["TPL-1"]["k"] == "not_scored"
    assert len({s["c"] for s in sites.values()}) == 3
    assert sites["BIG-1"]["r"] > sites["EVIL-1"]["r"] > sites["TPL-1"]["r"]
    assert "Ready now (1)" in data["legend_html"] and "Not scored (1)" in data["legend_html"]


def test_voltage_classes_coloured(small_html):
    data = _data(small_html)
    lines = next(lay for lay in data["layers"] if lay["kind"] == "transmission")
    used = {f[0] for f in lines["lines"]}
    assert {"kv_230", "kv_345", "kv_500"} <= used
    for key in used:
        assert lines["group_colours"][key] == VOLTAGE_COLOURS[key]
        assert VOLTAGE_COLOURS[key] in data["legend_html"]
    for label in ("69-138 kV", "230 kV", "345 kV", "500+ kV"):
        assert label in data["legend_html"]


@pytest.mark.parametrize("kv,klass", [(69, "kv_69_138"), (138, "kv_69_138"), (161, "kv_69_138"),
                                      (230, "kv_230"), (287, "kv_230"), (345, "kv_345"), (500, "kv_500"),
                                      (765, "kv_500"), (34.5, "kv_unknown"), (None, "kv_unknown"),
                                      (float("nan"), "kv_unknown")])
def test_voltage_class(kv, klass):
    assert voltage_class(kv) == klass


def test_site_radius_is_sqrt_scaled():
    assert site_radius_px(None) == 5.0
    r_full, r_quarter = site_radius_px(400, 400), site_radius_px(100, 400)
    assert (r_full - 5) == pytest.approx(2 * (r_quarter - 5), rel=0.02)


def test_encoding_roundtrip_within_quantum():
    line = shapely.LineString([(-101.123456, 31.654321), (-100.5, 32.25), (-99.000004, 33.0)])
    feats, stats = encode_lines([line], [None], decimals=5, tolerance_deg=0, max_vertices=10_000,
                                merge_threshold=100)
    flat = feats[0][1][0]
    xs, ys = np.cumsum(flat[0::2]) / 1e5, np.cumsum(flat[1::2]) / 1e5
    assert np.allclose(np.c_[xs, ys], np.asarray(line.coords), atol=0.6e-5)
    assert stats.vertices_out == 3 and not stats.merged


def test_crs_and_option_errors(small_project):
    bad = SimpleNamespace(portfolio=small_project.portfolio,
                          layers={"m": _layer("m", "states", small_project.layers["states"].gdf.to_crs(3857))})
    with pytest.raises(WebMapError, match="EPSG:4326") as err:
        build_map(bad)
    assert isinstance(err.value, PlannerError) and "to_crs(4326)" in str(err.value)
    with pytest.raises(WebMapError, match="mode"):
        MapOptions(mode="fly")
    with pytest.raises(WebMapError, match="coord_decimals"):
        MapOptions(coord_decimals=9)


def test_layer_style_overrides_and_visibility(small_project):
    states = small_project.layers["states"]
    proj = SimpleNamespace(portfolio=small_project.portfolio, layers={
        "states": _layer("states", "states", states.gdf,
                         style={"color": "#123456", "fill_opacity": 0.5, "visible": False,
                                "onclick": "alert(1)", "weight": "javascript:"})})
    lay = _data(build_map(proj))["layers"][0]
    assert lay["style"]["color"] == "#123456" and lay["style"]["fillOpacity"] == 0.5
    assert "onclick" not in lay["style"] and lay["style"]["weight"] != "javascript:"
    assert lay["hidden"] is True
    lay2 = _data(build_map(proj, options=MapOptions(layer_visibility={"states": True})))["layers"][0]
    assert lay2["hidden"] is False


def test_sample_project_map():
    project_mod = pytest.importorskip("planner.gis.project")
    from planner.assets import sample_project
    project = project_mod.open_project(sample_project())
    data = _data(build_map(project))
    located = [s for s in project.portfolio if s.lat is not None and s.lon is not None]
    assert len(data["sites"]) == len(located) > 0
    tx = [lay for lay in data["layers"] if lay["kind"] == "transmission"]
    assert sum(len(lay["lines"]) for lay in tx) == sum(len(lyr.gdf) for lyr in project.layers_of_kind("transmission"))


def test_large_layer_stays_bounded():
    """100,000 two-vertex segments (1,000 chains of 100) build into a bounded page quickly."""
    rng = np.random.default_rng(7)
    starts = np.c_[rng.uniform(-120, -75, 1000), rng.uniform(28, 48, 1000)]
    steps = rng.normal(0, 0.02, size=(1000, 100, 2))
    chains = starts[:, None, :] + np.cumsum(steps, axis=1)
    chains = np.concatenate([starts[:, None, :], chains], axis=1)  # (1000, 101, 2)
    a = chains[:, :-1, :].reshape(-1, 2)
    b = chains[:, 1:, :].reshape(-1, 2)
    geoms = shapely.linestrings(np.stack([a, b], axis=1))
    kv = np.repeat(rng.choice([138.0, 230.0, 345.0, 500.0], 1000), 100)
    gdf = gpd.GeoDataFrame({"voltage_kv": kv}, geometry=geoms, crs=4326)
    assert len(gdf) == 100_000
    proj = SimpleNamespace(portfolio=Portfolio([]), layers={"grid": _layer("grid", "transmission", gdf)})
    html = build_map(proj, options=MapOptions(max_vertices_per_layer=60_000))  # timing: benchmarks/bench_webmap.py
    assert len(html) < 3_000_000, len(html)
    lay = _data(html)["layers"][0]
    assert lay["stats"]["lines"]["merged"] is True
    assert lay["stats"]["lines"]["vertices_out"] <= 60_000
    assert 1000 <= len(lay["lines"]) <= 5000  # chains merged per voltage class
