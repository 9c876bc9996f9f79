"""Compact, bounded geometry encoding for the page.

Strategy for large layers (a national grid of 100,000 segments must stay usable):

1. **Merge** (line layers above ``merge_threshold`` features): segments of one style
   class are joined end to end with ``shapely.line_merge`` so 100,000 two-vertex
   segments become a few thousand polylines; per-feature labels are dropped then.
2. **Simplify** with Douglas-Peucker at ``tolerance_deg``; if the layer still holds more
   than ``max_vertices`` vertices the tolerance is doubled until it fits (at most 10
   times), so the page size has an upper bound whatever the input.
3. **Quantize** coordinates to ``decimals`` (<= 6, 1e-5 deg ~ 1.1 m) as integers,
   drop repeated points, and **delta-encode** each part: ``[x0, y0, dx1, dy1, ...]``.
   The page decodes with ``PlannerMap.decode`` (a few lines of JS).

Pure shapely/numpy; no Qt.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True)
class EncodeStats:
    """What the encoder did to one layer (reported in the page for transparency)."""

    features_in: int
    features_out: int
    vertices_out: int
    tolerance_deg: float
    merged: bool


def _encode_coords(coords: np.ndarray, scale: float) -> list[int] | None:
    """Quantize an (n, 2) lon/lat array and delta-encode it; None when it collapses to < 1 point."""
    if coords.size == 0:
        return None
    q = np.round(coords[:, :2] * scale).astype(np.int64)
    if len(q) > 1:
        keep = np.ones(len(q), dtype=bool)
        keep[1:] = np.any(q[1:] != q[:-1], axis=1)
        q = q[keep]
    d = q.copy()
    d[1:] -= q[:-1]
    return d.ravel().tolist()


def encode_point(geom: BaseGeometry, decimals: int) -> list[int] | None:
    """``[x, y]`` quantized integers of a point (representative point for other geometries)."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type != "Point":
        geom = geom.representative_point()
    scale = 10.0 ** decimals
    return [int(round(geom.x * scale)), int(round(geom.y * scale))]


def encode_points(geoms: Sequence[BaseGeometry | None], decimals: int) -> list[list[int] | None]:
    """:func:`encode_point` of every geometry at once (same integers; None for missing/empty/non-finite)."""
    arr = np.asarray(list(geoms) if not isinstance(geoms, np.ndarray) else geoms, dtype=object)
    out: list[list[int] | None] = [None] * len(arr)
    if not len(arr):
        return out
    ok = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    pts = arr.copy()
    other = ok & (shapely.get_type_id(arr) != 0)
    if other.any():
        pts[other] = shapely.point_on_surface(arr[other])  # what representative_point() gives
    idx = np.flatnonzero(ok)
    scale = 10.0 ** decimals
    xy = np.column_stack([shapely.get_x(pts[idx]), shapely.get_y(pts[idx])]) * scale
    finite = np.isfinite(xy).all(axis=1)
    q = np.rint(xy[finite]).astype(np.int64).tolist()  # rint: round half to even, as round() does
    for i, v in zip(idx[finite].tolist(), q):
        out[i] = v
    return out


def _encode_parts(parts: np.ndarray, scale: float, min_points: int) -> list[list[int] | None]:
    """:func:`_encode_coords` of many simple line parts at once; None for parts under ``min_points`` points."""
    coords, owner = shapely.get_coordinates(parts, return_index=True)
    out: list[list[int] | None] = [None] * len(parts)
    if not len(coords):
        return out
    q = np.round(coords * scale).astype(np.int64)
    first = np.ones(len(q), dtype=bool)
    first[1:] = owner[1:] != owner[:-1]
    keep = first.copy()
    keep[1:] |= np.any(q[1:] != q[:-1], axis=1)  # repeated points dropped within a part
    q, owner, first = q[keep], owner[keep], first[keep]
    d = q.copy()
    d[1:] -= q[:-1]
    d[first] = q[first]  # each part starts absolute
    counts = np.bincount(owner, minlength=len(parts))
    flat = d.ravel().tolist()
    ends = (2 * np.cumsum(counts)).tolist()
    start = 0
    for i, (end, n) in enumerate(zip(ends, counts.tolist())):
        if n >= min_points:
            out[i] = flat[start:end]
        start = end
    return out


def _line_parts(geom: BaseGeometry) -> list[np.ndarray]:
    if geom is None or geom.is_empty:
        return []
    if geom.geom_type == "LineString":
        return [np.asarray(geom.coords)]
    if geom.geom_type in ("MultiLineString", "GeometryCollection"):
        out: list[np.ndarray] = []
        for g in geom.geoms:
            out.extend(_line_parts(g))
        return out
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return _line_parts(geom.boundary)
    return []


def _polygon_parts(geom: BaseGeometry) -> list[list[np.ndarray]]:
    if geom is None or geom.is_empty:
        return []
    if geom.geom_type == "Polygon":
        return [[np.asarray(geom.exterior.coords)] + [np.asarray(r.coords) for r in geom.interiors]]
    if geom.geom_type in ("MultiPolygon", "GeometryCollection"):
        out: list[list[np.ndarray]] = []
        for g in geom.geoms:
            out.extend(_polygon_parts(g))
        return out
    return []


def _simplify_to_budget(geoms: np.ndarray, tolerance_deg: float, max_vertices: int,
                        preserve_topology: bool) -> tuple[np.ndarray, float]:
    tol = tolerance_deg
    out = shapely.simplify(geoms, tol, preserve_topology=preserve_topology) if tol > 0 else geoms
    for _ in range(10):
        if int(shapely.get_num_coordinates(out).sum()) <= max_vertices:
            break
        tol = max(tol * 2, 1e-4)
        out = shapely.simplify(geoms, tol, preserve_topology=preserve_topology)
    return out, tol


def encode_lines(geoms: Sequence[BaseGeometry], groups: Sequence[object], *, decimals: int,
                 tolerance_deg: float, max_vertices: int, merge_threshold: int,
                 ) -> tuple[list[tuple[object, list[list[int]], int | None]], EncodeStats]:
    """Encode line geometries; returns ``[(group, parts, source_row or None), ...]`` and stats.

    ``groups`` is the style class of each geometry (e.g. the voltage class). Above
    ``merge_threshold`` features, lines of one group are merged and ``source_row`` is None.
    """
    arr = np.asarray(list(geoms), dtype=object)
    grp = list(groups)
    n_in = len(arr)
    merged = n_in > merge_threshold
    if merged:
        keys = list(dict.fromkeys(grp))
        grp_arr = np.asarray([str(k) for k in grp], dtype=object)
        ok = ~(shapely.is_missing(arr) | shapely.is_empty(arr)) if len(arr) else np.zeros(0, dtype=bool)
        new_geoms, new_groups = [], []
        for key in keys:
            sel = arr[ok & (grp_arr == str(key))]
            if not len(sel):
                continue
            parts = shapely.get_parts(sel)
            polys = np.isin(shapely.get_type_id(parts), (3,))
            if polys.any():  # lines layer holding polygons: draw their outlines
                parts = np.concatenate([parts[~polys], shapely.get_parts(shapely.boundary(parts[polys]))])
            parts = parts[shapely.get_num_coordinates(parts) >= 2]
            if not len(parts):
                continue
            m = shapely.line_merge(shapely.multilinestrings(parts))
            pieces = shapely.get_parts(m)  # the merged lines (one LineString or the parts of a Multi)
            new_geoms.extend(pieces)
            new_groups.extend([key] * len(pieces))
        arr = np.asarray(new_geoms, dtype=object)
        grp = new_groups
        rows: list[int | None] = [None] * len(arr)
    else:
        rows = list(range(n_in))
    simp, tol = _simplify_to_budget(arr, tolerance_deg, max_vertices, preserve_topology=False) \
        if len(arr) else (arr, tolerance_deg)
    scale = 10.0 ** decimals
    # LineStrings and MultiLineStrings (all but odd inputs) are encoded at once; the rest part by part
    types = shapely.get_type_id(simp) if len(simp) else np.zeros(0, dtype=int)
    simple = np.isin(types, (1, 5))
    parts_of: dict[int, list[list[int]]] = {}
    if simple.any():
        sel = np.flatnonzero(simple)
        parts, owner = shapely.get_parts(simp[sel], return_index=True)
        for row_i, enc in zip(sel[owner].tolist(), _encode_parts(parts, scale, 2)):
            if enc is not None:
                parts_of.setdefault(row_i, []).append(enc)
    out: list[tuple[object, list[list[int]], int | None]] = []
    n_vertices = 0
    for i, (g, key, row) in enumerate(zip(simp, grp, rows)):
        if simple[i]:
            parts = parts_of.get(i, [])
        else:
            parts = [e for e in (_encode_coords(p, scale) for p in _line_parts(g)) if e is not None and len(e) >= 4]
        n_vertices += sum(len(e) for e in parts) // 2
        if parts:
            out.append((key, parts, row))
    return out, EncodeStats(n_in, len(out), n_vertices, tol, merged)


def encode_polygons(geoms: Sequence[BaseGeometry], *, decimals: int, tolerance_deg: float,
                    max_vertices: int) -> tuple[list[tuple[list[list[list[int]]], int]], EncodeStats]:
    """Encode polygons as ``[(polygons, source_row)]`` where polygons = ``[[ring, ...], ...]``."""
    arr = np.asarray(list(geoms), dtype=object)
    simp, tol = _simplify_to_budget(arr, tolerance_deg, max_vertices, preserve_topology=True) \
        if len(arr) else (arr, tolerance_deg)
    scale = 10.0 ** decimals
    out: list[tuple[list[list[list[int]]], int]] = []
    n_vertices = 0
    for row, g in enumerate(simp):
        polys = []
        for rings in _polygon_parts(g):
            enc_rings = [e for e in (_encode_coords(r, scale) for r in rings) if e is not None and len(e) >= 6]
            if enc_rings:
                polys.append(enc_rings)
                n_vertices += sum(len(e) // 2 for e in enc_rings)
        if polys:
            out.append((polys, row))
    return out, EncodeStats(len(arr), len(out), n_vertices, tol, False)
