"""The page encoding, vectorised for start-up, writes the same bytes as the per-feature code it replaced.

The reference functions below are the previous implementations (one geometry / one value at a
time), kept here verbatim as the specification.
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiLineString, MultiPoint, Point, Polygon

from planner.webmap.escape import _clean, json_for_script
from planner.webmap.geometry import _encode_coords, _line_parts, encode_lines, encode_point, encode_points


# -- the previous implementations ------------------------------------------------------------------
def _old_json_for_script(obj):
    text = json.dumps(_clean(obj), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, code in {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
                       "\u2029": "\\u2029"}.items():
        text = text.replace(char, code)
    return text


def _old_encode_parts(simp, decimals):
    scale = 10.0 ** decimals
    out = []
    for g in simp:
        parts = []
        for p in _line_parts(g):
            enc = _encode_coords(p, scale)
            if enc is not None and len(enc) >= 4:
                parts.append(enc)
        out.append(parts)
    return out


# -- generators ----------------------------------------------------------------------------------------
coord = st.floats(-180, 180, allow_nan=False, width=64)
# few distinct values so that quantised points repeat (the encoder drops repeats)
snapped = st.sampled_from([0.0, 1e-6, 4.9e-6, 5e-6, 1.5e-5, 0.25, -97.123455, -97.123465, 30.000005])
xy = st.tuples(st.one_of(coord, snapped), st.one_of(coord, snapped))


@st.composite
def lines(draw):
    kind = draw(st.sampled_from(["line", "multi", "empty", "none", "polygon", "3d"]))
    if kind == "none":
        return None
    if kind == "empty":
        return LineString()
    if kind == "polygon":
        x, y = draw(xy)
        return Polygon([(x, y), (x + 1, y), (x, y + 1)])
    pts = draw(st.lists(xy, min_size=2, max_size=8))
    if kind == "3d":
        return LineString([(x, y, 5.0) for x, y in pts])
    if kind == "line":
        return LineString(pts)
    more = draw(st.lists(st.lists(xy, min_size=2, max_size=5), min_size=1, max_size=3))
    return MultiLineString([pts] + more)


@st.composite
def points(draw):
    kind = draw(st.sampled_from(["point", "point", "multi", "empty", "none", "polygon"]))
    if kind == "none":
        return None
    if kind == "empty":
        return Point()
    if kind == "multi":
        return MultiPoint(draw(st.lists(xy, min_size=1, max_size=4)))
    x, y = draw(xy)
    return Point(x, y) if kind == "point" else Polygon([(x, y), (x + 1, y), (x, y + 1)])


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(), st.text(max_size=12)),
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.tuples(children, children),
        # keys of any JSON-able type; a dict holding both 1 and "1" is left out: JSON text with the key
        # twice (the fast path) parses to the same object as the cleaned one, but is not the same bytes
        st.dictionaries(st.one_of(st.text(max_size=6), st.integers(-5, 5), st.booleans(), st.none(),
                                  st.floats(allow_infinity=True, allow_nan=True)), children, max_size=4)
        .filter(lambda d: len({str(k) for k in d}) == len(d))),
    max_leaves=30)


# -- properties --------------------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(st.lists(points(), max_size=12), st.integers(0, 6))
def test_encode_points_matches_encode_point(geoms, decimals):
    assert encode_points(geoms, decimals) == [encode_point(g, decimals) for g in geoms]


@settings(max_examples=300, deadline=None)
@given(st.lists(lines(), max_size=10), st.integers(0, 6))
def test_line_encoding_matches_the_per_part_encoder(geoms, decimals):
    feats, stats = encode_lines(geoms, list(range(len(geoms))), decimals=decimals, tolerance_deg=0.0,
                                max_vertices=10**6, merge_threshold=10**6)
    want = _old_encode_parts(np.asarray(geoms, dtype=object), decimals)
    assert feats == [(i, parts, i) for i, parts in enumerate(want) if parts]
    assert stats.vertices_out == sum(len(e) // 2 for parts in want for e in parts)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_json_for_script_is_unchanged(value):
    try:
        want = _old_json_for_script(value)
    except (ValueError, TypeError) as e:
        with pytest.raises(type(e)):
            json_for_script(value)
        return
    assert json_for_script(value) == want


def test_json_for_script_odd_keys_and_escapes():
    value = {True: 1, None: [float("nan"), math.inf], float("nan"): "</script><!--", "a": ("\u2028", "&")}
    assert json_for_script(value) == _old_json_for_script(value)
    assert "</script>" not in json_for_script(value)


def test_sample_layers_encode_as_before():
    """Every line and point layer of the bundled sample (national grid: 22,000 lines, 20,000 points)."""
    from planner.assets import sample_project
    from planner.gis.project import open_project

    project = open_project(sample_project())
    n_lines = n_points = 0
    for layer in project.layers.values():
        geoms = np.asarray(layer.gdf.geometry.values, dtype=object)
        types = shapely.get_type_id(geoms)
        pts = geoms[np.isin(types, (0, 4))]
        assert encode_points(pts, 5) == [encode_point(g, 5) for g in pts]
        n_points += len(pts)
        ls = geoms[np.isin(types, (1, 5))]
        if len(ls):
            simp = shapely.simplify(ls, 0.0005, preserve_topology=False)
            feats, _ = encode_lines(ls, [0] * len(ls), decimals=5, tolerance_deg=0.0005, max_vertices=10**7,
                                    merge_threshold=10**7)
            assert [parts for _, parts, _ in feats] == [p for p in _old_encode_parts(simp, 5) if p]
            n_lines += len(ls)
    assert n_lines > 20_000 and n_points > 15_000
