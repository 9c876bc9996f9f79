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
    # the page draws the classes in this order: where lines cross, the higher voltage is on top
    assert lines["group_order"] == ["kv_unknown", "kv_69_138", "kv_230", "kv_345", "kv_500"]
    assert set(lines["group_order"]) == set(VOLTAGE_COLOURS)
    assert lines["group_tips"]["kv_345"] == "345 kV line"  # hover text of a merged line


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
    from planner.gis import project as project_mod
    from planner.assets import sample_project
    project = project_mod.open_project(sample_project())
    data = _data(build_map(project))
    located = [s for s in project.portfolio if s.lat is not None and s.lon is not None]
    assert len(data["sites"]) == len(located) > 0
    tx = [lay for lay in data["layers"] if lay["kind"] == "transmission"]
    n_lines = sum(len(lyr.gdf) for lyr in project.layers_of_kind("transmission"))
    assert sum(lay["stats"]["lines"]["features_in"] for lay in tx) == n_lines
    for lay in tx:  # the national grid (22,337 lines) is above the merge threshold: merged per voltage class
        st = lay["stats"]["lines"]
        assert st["merged"] is (st["features_in"] > MapOptions().merge_threshold_features)
        assert 0 < len(lay["lines"]) and st["vertices_out"] <= MapOptions().max_vertices_per_layer


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


# --------------------------------------------------------------------------- graduated (color_by) layers
from planner.webmap.styles import (
    NO_VALUE_COLOUR, RAMPS, class_breaks, class_index, merged_style, ramp_colours,
)


def _grid_layer(n_side, title, style, values=None, x0=-100.0, y0=30.0, step=0.02):
    xs, ys = np.meshgrid(x0 + step * np.arange(n_side), y0 + step * np.arange(n_side))
    v = np.arange(n_side * n_side, dtype=float) if values is None else values
    gdf = gpd.GeoDataFrame({"score": v}, geometry=shapely.points(xs.ravel(), ys.ravel()), crs=4326)
    return _layer("heat", "other", gdf, title=title, style=style)


def _decode_cells(cells):
    xy = np.cumsum(np.asarray(cells["xy"], dtype=np.int64).reshape(-1, 2), axis=0) / 10.0 ** cells["decimals"]
    return xy, np.asarray(cells["cls"])


def test_class_breaks_ramps_and_class_index():
    v = np.r_[np.arange(100.0), np.nan]
    q = class_breaks(v, 4, "quantile")
    assert q == pytest.approx([0, 24.75, 49.5, 74.25, 99])
    cls = class_index(v, q)
    assert list(np.bincount(cls[cls >= 0])) == [25, 25, 25, 25] and cls[-1] == -1
    assert class_index([99.0, 0.0, 24.75], q).tolist() == [3, 0, 1]  # top edge closed, inner edges start a class
    assert class_breaks(v, 5, "equal_interval") == pytest.approx([0, 19.8, 39.6, 59.4, 79.2, 99])
    assert class_breaks([3.0, 3.0, np.nan], 5) == [3.0, 3.0] and class_breaks([np.nan], 5) == []
    assert len(class_breaks(np.r_[np.zeros(90), np.arange(10.0)], 5, "quantile")) < 6  # ties collapse classes
    for ramp, anchors in RAMPS.items():
        cols = ramp_colours(ramp, 5)
        assert cols[0] == anchors[0] and cols[-1] == anchors[-1] and len(set(cols)) == 5
    assert ramp_colours("viridis", 7) == list(RAMPS["viridis"])


def test_graduated_style_keys_are_validated():
    st = merged_style("other", {"color_by": "score", "ramp": "YLORRD", "classes": 12, "breaks": "jenks",
                                "unit": "x" * 30, "cell_km": float("nan")})
    assert st["color_by"] == "score" and st["ramp"] == "ylorrd" and st["classes"] == 7
    assert "breaks" not in st and "unit" not in st and "cell_km" not in st
    assert st["fillOpacity"] == 0.75  # value colours are not a faint tint
    assert merged_style("other", {"color_by": "score", "fill_opacity": 0.4})["fillOpacity"] == 0.4
    assert "color_by" not in merged_style("other", {"color_by": "<script>"})
    assert "color_by" not in merged_style("transmission", {"color_by": "voltage_kv"})  # voltage classes stay


def test_graduated_points_legend_colours_and_escaping():
    style = {"color_by": "score", "classes": 5, "breaks": "equal_interval", "unit": "<s>MW</s>"}
    values = np.arange(10_000, dtype=float) / 100.0  # 0 .. 99.99
    values[7] = np.nan
    lay = _grid_layer(100, f"Heat {HOSTILE}", {**style, "cell_km": 2.0}, values=values)
    html = build_map(SimpleNamespace(portfolio=Portfolio([]), layers={"heat": lay}))
    assert HOSTILE not in html and "<s>MW" not in html
    data = _data(html)
    legend = data["legend_html"]
    assert "<h2>Heat &lt;img src=x onerror=alert(1)&gt;</h2>" in legend
    colours = ramp_colours("viridis", 5)
    for k, (lo, hi) in enumerate([(0, 20), (20, 40), (40, 60), (60, 80), (80, 100)]):  # 19.998-wide classes
        label = f"{lo}\u2013{hi} &lt;s&gt;MW&lt;/s&gt;"
        assert f"background:{colours[k]}\"></span>{label} (" in legend, (k, label)
    assert f"background:{NO_VALUE_COLOUR}\"></span>no score value (1)" in legend
    assert "score, equal-interval classes" in legend
    (layer,) = data["layers"]
    assert layer["grad"]["colours"] == colours and "points" not in layer and "cluster" not in layer
    xy, cls = _decode_cells(layer["cells"])
    assert len(cls) == 10_000 and layer["cells"]["cell_m"] == 2000.0 and layer["cells"]["decimals"] == 3
    assert np.abs(xy - shapely.get_coordinates(lay.gdf.geometry.values)).max() <= 0.0005 + 1e-9
    expect = np.minimum((np.nan_to_num(values, nan=-1) // 19.998).astype(int), 4)
    expect[7] = -1
    assert (cls == expect).all()


def test_small_graduated_points_keep_markers_and_tooltips():
    lay = _grid_layer(10, "Few points", {"color_by": "score", "classes": 4, "unit": "MW"})
    layer = _data(build_map(SimpleNamespace(portfolio=Portfolio([]), layers={"heat": lay})))["layers"][0]
    assert "cells" not in layer and len(layer["points"]) == 100
    assert [p[4] for p in layer["points"][:3]] == [0, 0, 0] and layer["points"][-1][4] == 3
    assert layer["points"][50][2] == "score 50 MW"  # planner.fmt.fmt_number drops a trailing .0


def test_graduated_polygons_and_lines_get_class_colours(shared_data):
    states = gpd.read_file(shared_data / "us_states_census2016_simplified.geojson")
    states["area_rank"] = states.to_crs(5070).geometry.area.rank()
    lines = gpd.GeoDataFrame({"load": [1.0, 2.0, 3.0, None]},
                             geometry=shapely.linestrings([[(0, 0), (1, 1)], [(1, 1), (2, 1)], [(2, 1), (3, 0)],
                                                           [(3, 0), (4, 0)]]), crs=4326)
    proj = SimpleNamespace(portfolio=Portfolio([]), layers={
        "st": _layer("st", "other", states, "States by size", style={"color_by": "area_rank", "classes": 5}),
        "ln": _layer("ln", "fibre", lines, "Load", style={"color_by": "load", "classes": 3,
                                                          "breaks": "equal_interval", "ramp": "ylorrd"}),
        "miss": _layer("miss", "other", lines, "Missing column", style={"color_by": "nope"}),
    })
    data = _data(build_map(proj))
    st, ln, miss = (next(lay for lay in data["layers"] if lay["name"] == n) for n in ("st", "ln", "miss"))
    polys = st["polygons"]
    assert len(polys) == len(states) and {p[2] for p in polys} == {0, 1, 2, 3, 4}
    assert ln["group_colours"]["g0"] == RAMPS["ylorrd"][0] and ln["group_colours"]["g-1"] == NO_VALUE_COLOUR
    assert [f[0] for f in ln["lines"]] == ["g0", "g1", "g2", "g-1"]
    assert "grad" not in miss and "Missing column: no column &#39;nope&#39; to colour by" in data["legend_html"]


def test_texas_2km_heat_grid_stays_bounded():
    """~170,000 cells of 2 km over Texas: rounded delta-encoded centroids, one class each, < 3 MB page."""
    n_side = 413  # 170,569 cells
    step = 0.0187  # ~2 km
    values = np.random.default_rng(3).uniform(0, 100, n_side * n_side)
    lay = _grid_layer(n_side, "Screening Texas 2 km (score)", {"color_by": "score", "cell_km": 2.0},
                      values=values, x0=-106.6, y0=25.8, step=step)
    html = build_map(SimpleNamespace(portfolio=Portfolio([]), layers={"heat": lay}))
    assert len(html) < 3_000_000, len(html)
    layer = _data(html)["layers"][0]
    assert layer["stats"]["cells"] == {"points_in": 170_569, "cells_out": 170_569, "aggregated": False}
    assert "rows of" not in layer and len(layer["cells"]["cls"]) == 170_569
    # above the cap the points are binned on a coarser grid and re-classed with the same breaks
    small = _data(build_map(SimpleNamespace(portfolio=Portfolio([]), layers={"heat": lay}),
                            options=MapOptions(max_graduated_points=20_000)))["layers"][0]
    agg = small["cells"]["aggregated"]
    assert agg["points_in"] == 170_569 and agg["bins"] == len(small["cells"]["cls"]) <= 20_000
    assert small["cells"]["cell_m"] > 2000.0 and set(small["cells"]["cls"]) <= set(range(6))
    with pytest.raises(WebMapError, match="max_graduated_points"):
        MapOptions(max_graduated_points=5)


def test_graduated_cell_squares_go_to_the_cell_canvas():
    """Square cell polygons with a cell size are sent as centroids (not 4-vertex polygons each)."""
    centres = shapely.points(np.c_[np.repeat(np.arange(-100, -99, 0.1), 10), np.tile(np.arange(30, 31, 0.1), 10)])
    gdf = gpd.GeoDataFrame({"score": np.arange(100.0)}, geometry=shapely.buffer(centres, 0.05, cap_style="square"),
                           crs=4326)
    lay = _layer("sq", "other", gdf, "Squares", style={"color_by": "score", "cell_km": 10.0, "on_top": True})
    layer = _data(build_map(SimpleNamespace(portfolio=Portfolio([]), layers={"sq": lay})))["layers"][0]
    assert "polygons" not in layer and layer["style"]["on_top"] is True
    xy, cls = _decode_cells(layer["cells"])
    assert np.abs(xy - shapely.get_coordinates(centres)).max() <= 0.00051
    assert list(np.bincount(cls)) == [17, 16, 17, 16, 17, 17]  # 6 quantile classes of 0..99: edges 16.5, 33, ...


def test_site_markers_coloured_by_band_class_with_band_in_popup():
    from planner.model.readiness import score_portfolio
    from planner.model.readiness import READINESS_COLOURS, READINESS_LABELS
    sites = [Site.create(site_id="A", name="A", power_capacity_mw=300, energized_mw=200, lon=-101.5, lat=31.9),
             Site.create(site_id="B", name="B", power_capacity_mw=10, lon=-100.0, lat=32.0)]
    proj = SimpleNamespace(portfolio=Portfolio(sites), layers={})
    scores = score_portfolio(proj.portfolio)
    data = _data(build_map(proj, scores=scores))
    for entry in data["sites"]:
        r = scores[entry["id"]]
        assert entry["k"] == r.klass and entry["c"] == READINESS_COLOURS[r.klass]
        if r.leans:  # undecided: the class it leans to, expected total and band
            assert (f"{r.class_label} \u2014 leans {READINESS_LABELS[r.leans]} (expected {r.total:.0f}, "
                    f"band {round(r.total_low)}-{round(r.total_high)})") in entry["pop"]
        else:
            assert f"{r.class_label} ({r.band_text}/100)" in entry["pop"]
    assert {e["k"] for e in data["sites"]} == {"insufficient_data", "mining_only"}  # B fails the 20 MW gate


def test_popup_names_the_other_sites_at_the_same_point():
    """QA: RIOT-RKD and BTDR-RKD share a point; the map showed one marker and nothing said two sites
    were there. Each popup (and tooltip) names the other; names stay text."""
    from planner.assets import sample_project
    from planner.gis.project import open_project
    from planner.webmap.builder import _site_entries, site_popup

    project = open_project(sample_project())
    rkd, btdr = project.portfolio.get("RIOT-RKD"), project.portfolio.get("BTDR-RKD")
    assert (rkd.lat, rkd.lon) == (btdr.lat, btdr.lon)
    assert "Same location" in site_popup(project, rkd, None) and "(BTDR-RKD)" in site_popup(project, rkd, None)
    assert "(RIOT-RKD)" in site_popup(project, btdr, None)
    assert "Same location" not in site_popup(project, project.portfolio.get("CORZ-DEN"), None)
    entry = _site_entries(project, [rkd], {}, None, None)[0]
    assert "+1 more site here" in entry["tip"]
    project.portfolio.replace_sites([btdr.replace(name="<b>Evil</b>")])
    assert "&lt;b&gt;Evil&lt;/b&gt;" in site_popup(project, rkd, None)
