"""Spatial proximity engine: geodesic distances from sites to grid, fibre and stranded-energy layers.

Pure geopandas/shapely/pyproj (never Qt). :func:`compute_proximity` fills the computed
fields of :mod:`planner.model.fields` for a table of sites; :func:`apply_proximity`
writes them onto a project's portfolio in one ``sites_changed``.

Method (vectorised, no Python loop over sites x features)
---------------------------------------------------------
Geometries are taken as stored in EPSG:4326, i.e. a segment between two vertices is
the straight line in lon/lat (the shapely/geopandas convention, and what a lon/lat
densify produces). For each layer:

1. Features are exploded into segments (points are zero-length segments, polygons
   their rings); their lon/lat bounding boxes go in one :class:`shapely.STRtree`.
2. Every point within geodesic distance ``r`` of a site lies in a lon/lat box of
   half-height ``r / 110.574 km`` (the smallest meridian degree, WGS84 equator) and
   half-width ``r / (N(phi) cos(phi) * pi/180)`` at the box's most poleward latitude
   (the smallest parallel degree in the box); the box is split at the antimeridian and
   widened to the full circle near the poles. A bounding-box query with it therefore returns
   every segment that has a point within ``r``.
3. Expanding search: start with ``r`` about the mean segment spacing; a site is settled when
   the best exact distance among its candidates is ``<= r`` (nothing outside the box can be
   nearer). Otherwise ``r`` becomes that best distance (an upper bound, so the next round
   settles) or grows 4x when the box was empty; only unsettled sites query again.
4. For each (site, candidate) pair the closest point on the segment is found in a local
   ellipsoidal equirectangular frame centred on the site (an affine map of lon/lat, so the
   segment stays straight and the foot point lies exactly on it), with the scale taken at
   the mean latitude of site and foot point (two passes). ``pyproj.Geod.inv`` then gives the
   exact WGS84 geodesic distance from the site to that foot point; the minimum per site wins.

Why this is the true geodesic nearest within tolerance: steps 2-3 never drop the nearest
segment (rigorous bound, not a heuristic), and each reported distance is the exact
geodesic length to a real point of the reported feature, so it can only over-estimate the
true minimum. The over-estimate comes from the foot point alone: the frame's metric
differs from the ellipsoid's by a relative ``eps ~ (d / R)**2 * tan(phi)`` after the
mid-latitude correction, and because distance is stationary at the foot point the error is
second order in it. Rigorous bound ``(1 + eps) / (1 - eps) - 1``: < 0.5 % for d < 300 km at
|lat| <= 45 deg. Measured on 200 random Texas sites against an azimuthal-equidistant
reference: worst 7e-5 relative (16 m at 233 km), typically < 1e-6. Beyond 300 km the
endpoints and a golden-section search on the exact geodesic refine each site's closest
candidates (Bhutan/Norway/Paraguay to Texas lines agree with brute force to 1e-8).

Why a lon/lat index rather than one projected CRS: sites span continents (Texas, Paraguay,
Bhutan), no single projection is low-distortion everywhere, and the geodesic-derived boxes
make the candidate set provably complete instead of "projected nearest * 1.05 + margin".
Segments must not cross the antimeridian (split them, as RFC 7946 asks).
"""
from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from planner.gis.crs import is_wgs84
from planner.gis.kinds import PROXIMITY_KINDS
from planner.gis.voltage import normalise_voltage_kv
from planner.lazy import lazy_module
from planner.model.fields import COMPUTED_FIELDS, VOLTAGE_CLASSES_KV
from planner.model.site import PlannerError, Site

if TYPE_CHECKING:
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import shapely
    import pyproj
else:  # imported on first use: the window shows before these load (planner.lazy)
    gpd = lazy_module("geopandas", globals(), "gpd")
    np = lazy_module("numpy", globals(), "np")
    pd = lazy_module("pandas", globals(), "pd")
    shapely = lazy_module("shapely", globals(), "shapely")
    pyproj = lazy_module("pyproj", globals(), "pyproj")

__all__ = [
    "PROXIMITY_KINDS", "ProximityConfig", "ProximityError", "apply_proximity", "compute_proximity",
    "line_class_fields", "project_layers", "sites_frame",
]

@functools.cache
def _geod() -> pyproj.Geod:
    """The WGS84 ellipsoid's geodesic solver (made on first use)."""
    return pyproj.Geod(ellps="WGS84")


_A_KM = 6378.137
_E2 = 0.00669437999014
_DEG = math.pi / 180.0
_MIN_MERIDIAN_KM_PER_DEG = _A_KM * (1 - _E2) * _DEG  # 110.574 km at the equator
_POLAR_LAT_DEG = 89.9

#: Layer kinds this module reads (other kinds in a project are ignored).
#: Node types of the GridKit/OSM nodes layer that are substations (others are joints, plants...).
SUBSTATION_TYPES: frozenset[str] = frozenset({"substation", "sub_station", "station"})


class ProximityError(PlannerError, ValueError):
    """Bad input to the proximity engine (CRS, geometry type, settings)."""


@dataclass(frozen=True)
class ProximityConfig:
    """Editable proximity settings (``portfolio.settings["proximity"]``).

    ``voltage_classes_kv`` are ascending thresholds, one per line-class slot of the computed
    fields: slot ``i`` (columns named after ``VOLTAGE_CLASSES_KV[i]``, e.g. ``dist_line_345kv_km``
    for ``i = 3``) holds the nearest line with ``voltage_kv >=`` the ``i``-th threshold. With fewer
    thresholds than slots the remaining slots are None.
    """

    voltage_classes_kv: tuple[float, ...] = field(default=tuple(float(v) for v in VOLTAGE_CLASSES_KV))
    flare_radius_km: float = 50.0

    def __post_init__(self) -> None:
        classes = tuple(self.voltage_classes_kv)
        if not 1 <= len(classes) <= len(VOLTAGE_CLASSES_KV):
            raise ProximityError(f"proximity.voltage_classes_kv has {len(classes)} values: give 1 to "
                                 f"{len(VOLTAGE_CLASSES_KV)} thresholds in kV, e.g. {list(VOLTAGE_CLASSES_KV)}")
        for v in classes:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < float(v) <= 1200:
                raise ProximityError(f"proximity.voltage_classes_kv value {v!r} is not a voltage: "
                                     "use numbers in kV between 0 and 1200")
        if any(b <= a for a, b in zip(classes, classes[1:])):
            raise ProximityError(f"proximity.voltage_classes_kv {list(classes)} must be strictly ascending: "
                                 "sort them, e.g. [69, 138, 230, 345, 500]")
        r = self.flare_radius_km
        if isinstance(r, bool) or not isinstance(r, (int, float)) or not 0 < float(r) <= 1000:
            raise ProximityError(f"proximity.flare_radius_km = {r!r} is invalid: use a radius in km "
                                 "between 0 and 1000, e.g. 50")
        object.__setattr__(self, "voltage_classes_kv", tuple(float(v) for v in classes))
        object.__setattr__(self, "flare_radius_km", float(r))

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> "ProximityConfig":
        """Build from ``portfolio.settings.get("proximity")`` (None or {} gives the defaults)."""
        if not settings:
            return cls()
        if not isinstance(settings, Mapping):
            raise ProximityError(f"settings 'proximity' is a {type(settings).__name__}, expected a table "
                                 "like {\"voltage_classes_kv\": [69, 138, 230, 345, 500], \"flare_radius_km\": 50}")
        unknown = set(settings) - {"voltage_classes_kv", "flare_radius_km"}
        if unknown:
            raise ProximityError(f"settings 'proximity' has unknown key(s) {sorted(unknown)}: "
                                 "only voltage_classes_kv and flare_radius_km are allowed")
        kw: dict[str, Any] = {}
        if settings.get("voltage_classes_kv") is not None:
            raw = settings["voltage_classes_kv"]
            if isinstance(raw, (str, bytes)) or not isinstance(raw, Iterable):
                raise ProximityError(f"proximity.voltage_classes_kv = {raw!r} is not a list: "
                                     "give a list of kV values, e.g. [69, 138, 230, 345, 500]")
            kw["voltage_classes_kv"] = tuple(raw)
        if settings.get("flare_radius_km") is not None:
            kw["flare_radius_km"] = settings["flare_radius_km"]
        return cls(**kw)

    def to_settings(self) -> dict[str, Any]:
        """JSON-serialisable form for ``portfolio.settings["proximity"]``."""
        return {"voltage_classes_kv": list(self.voltage_classes_kv), "flare_radius_km": self.flare_radius_km}


def line_class_fields(slot_kv: int) -> tuple[str, str, str, str]:
    """Computed field names (distance, voltage, operator, name) of the line-class slot named ``slot_kv``."""
    return (f"dist_line_{slot_kv}kv_km", f"line_{slot_kv}kv_voltage_kv",
            f"line_{slot_kv}kv_operator", f"line_{slot_kv}kv_name")


# ---------------------------------------------------------------------------------------------
# geometry helpers (all vectorised over arrays)
# ---------------------------------------------------------------------------------------------
def _parallel_km_per_deg(lat_deg: np.ndarray) -> np.ndarray:
    s = np.sin(np.radians(lat_deg))
    return np.asarray(_A_KM * np.cos(np.radians(lat_deg)) / np.sqrt(1 - _E2 * s * s) * _DEG)


def _meridian_km_per_deg(lat_deg: np.ndarray) -> np.ndarray:
    s = np.sin(np.radians(lat_deg))
    return np.asarray(_A_KM * (1 - _E2) / (1 - _E2 * s * s) ** 1.5 * _DEG)


def _wrap180(dlon: np.ndarray) -> np.ndarray:
    return (dlon + 180.0) % 360.0 - 180.0


@dataclass
class _Segments:
    """Features exploded into segments a->b (lon/lat), with the feature row of each."""

    a: np.ndarray  # (n, 2)
    b: np.ndarray  # (n, 2)
    feature: np.ndarray  # (n,) positional index into the layer
    envelopes: np.ndarray  # (n,) shapely boxes: the tree only ever tests bounding boxes

    def subset(self, features: np.ndarray) -> "_Segments":
        """Segments of the features whose row is in ``features`` (sorted positions), renumbered 0..k-1."""
        keep = np.isin(self.feature, features)
        return _Segments(self.a[keep], self.b[keep], np.searchsorted(features, self.feature[keep]),
                         self.envelopes[keep])


def _segments(geoms: np.ndarray) -> _Segments:
    parts, pidx = shapely.get_parts(geoms, return_index=True)
    types = shapely.get_type_id(parts)
    poly = types == 3
    if poly.any():
        rings, ridx = shapely.get_parts(shapely.boundary(parts[poly]), return_index=True)
        parts = np.concatenate([parts[~poly], rings])
        pidx = np.concatenate([pidx[~poly], pidx[poly][ridx]])
    coords, cidx = shapely.get_coordinates(parts, return_index=True)
    same = cidx[1:] == cidx[:-1]
    a, b, feat = coords[:-1][same], coords[1:][same], pidx[cidx[:-1][same]]
    counts = np.bincount(cidx, minlength=len(parts))
    single = np.flatnonzero(counts == 1)  # points: zero-length segments
    if len(single):
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])[single]
        a = np.concatenate([a, coords[starts]])
        b = np.concatenate([b, coords[starts]])
        feat = np.concatenate([feat, pidx[single]])
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    envelopes = shapely.box(lo[:, 0], lo[:, 1], hi[:, 0], hi[:, 1]) if len(a) else np.empty(0, dtype=object)
    return _Segments(a.reshape(-1, 2), b.reshape(-1, 2), feat.astype(np.int64), envelopes)


def _foot_points(lon0: np.ndarray, lat0: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Closest point on each lon/lat segment a->b to (lon0, lat0), in a local ellipsoidal frame."""
    dax = _wrap180(a[:, 0] - lon0)
    dbx = dax + (b[:, 0] - a[:, 0])
    day, dby = a[:, 1] - lat0, b[:, 1] - lat0
    lat_m = lat0.astype(float)
    t = np.zeros(len(lon0))
    for _ in range(2):  # second pass: scale at the mean latitude of site and foot point
        kx, ky = _parallel_km_per_deg(lat_m), _meridian_km_per_deg(lat_m)
        ax, ay, vx, vy = dax * kx, day * ky, (dbx - dax) * kx, (dby - day) * ky
        l2 = vx * vx + vy * vy
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(l2 > 0, np.clip(-(ax * vx + ay * vy) / l2, 0.0, 1.0), 0.0)
        lat_m = lat0 + 0.5 * (day + t * (dby - day))
    return lon0 + dax + t * (dbx - dax), lat0 + day + t * (dby - day)


def _geodesic_km(lon0: np.ndarray, lat0: np.ndarray, lon1: np.ndarray, lat1: np.ndarray) -> np.ndarray:
    if len(lon0) == 0:
        return np.empty(0)
    _, _, dist_m = _geod().inv(lon0, lat0, lon1, lat1)
    return np.asarray(dist_m, dtype=float) / 1000.0


def _boxes(lon: np.ndarray, lat: np.ndarray, radius_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat boxes holding every point within geodesic ``radius_km`` of each site; returns (boxes, site)."""
    r = radius_km * (1 + 1e-9) + 1e-6
    dlat = r / _MIN_MERIDIAN_KM_PER_DEG
    lat_lo, lat_hi = np.maximum(lat - dlat, -90.0), np.minimum(lat + dlat, 90.0)
    lat_max = np.maximum(np.abs(lat_lo), np.abs(lat_hi))
    polar = lat_max >= _POLAR_LAT_DEG
    with np.errstate(divide="ignore", invalid="ignore"):
        dlon = np.where(polar, 360.0, r / _parallel_km_per_deg(np.minimum(lat_max, _POLAR_LAT_DEG)))
    full = dlon >= 180.0
    lo, hi = np.where(full, -180.0, lon - dlon), np.where(full, 180.0, lon + dlon)
    site = np.arange(len(lon))
    xmin, xmax, ymin, ymax, owner = [lo], [hi], [lat_lo], [lat_hi], [site]
    west, east = ~full & (lo < -180.0), ~full & (hi > 180.0)
    if west.any():  # wrap the part west of -180 to the east end
        xmin.append(lo[west] + 360.0); xmax.append(np.full(west.sum(), 180.0))
        ymin.append(lat_lo[west]); ymax.append(lat_hi[west]); owner.append(site[west])
    if east.any():
        xmin.append(np.full(east.sum(), -180.0)); xmax.append(hi[east] - 360.0)
        ymin.append(lat_lo[east]); ymax.append(lat_hi[east]); owner.append(site[east])
    boxes = shapely.box(np.concatenate(xmin), np.concatenate(ymin), np.concatenate(xmax), np.concatenate(ymax))
    return boxes, np.concatenate(owner)


_FAR_KM = 300.0  # beyond this the local frame's foot point is refined on the exact geodesic


def _golden_km(lon0: np.ndarray, lat0: np.ndarray, a: np.ndarray, b: np.ndarray, iterations: int = 30) -> np.ndarray:
    """Min geodesic km from each site to its lon/lat segment by golden-section search on t in [0, 1]."""
    g = (math.sqrt(5) - 1) / 2
    lo, hi = np.zeros(len(lon0)), np.ones(len(lon0))
    dx = _wrap180(a[:, 0] - lon0)
    ddx, ddy = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]

    def f(t: np.ndarray) -> np.ndarray:
        return _geodesic_km(lon0, lat0, lon0 + dx + t * ddx, a[:, 1] + t * ddy)

    x1, x2 = hi - g * (hi - lo), lo + g * (hi - lo)
    f1, f2 = f(x1), f(x2)
    for _ in range(iterations):
        left = f1 < f2
        hi = np.where(left, x2, hi)
        lo = np.where(left, lo, x1)
        x1n, x2n = hi - g * (hi - lo), lo + g * (hi - lo)
        fn = f(np.where(left, x1n, x2n))
        f1, f2, x1, x2 = (np.where(left, fn, f2), np.where(left, f1, fn),
                          np.where(left, x1n, x2), np.where(left, x1, x2n))
    return np.asarray(np.minimum(f1, f2))


def _pair_distances(lon: np.ndarray, lat: np.ndarray, seg: _Segments, site: np.ndarray,
                    idx: np.ndarray) -> np.ndarray:
    lon0, lat0, a, b = lon[site], lat[site], seg.a[idx], seg.b[idx]
    flon, flat = _foot_points(lon0, lat0, a, b)
    d = _geodesic_km(lon0, lat0, flon, flat)
    far = np.flatnonzero(d > _FAR_KM)
    if len(far):
        # far away the local frame distorts: the endpoints (exact) and, for each site's closest
        # few far candidates, a golden-section search on the exact geodesic tighten the estimate
        da = _geodesic_km(lon0[far], lat0[far], a[far, 0], a[far, 1])
        db = _geodesic_km(lon0[far], lat0[far], b[far, 0], b[far, 1])
        d[far] = np.minimum(d[far], np.minimum(da, db))
        order = far[np.lexsort((d[far], site[far]))]
        rank = np.arange(len(order)) - np.searchsorted(site[order], site[order])
        best = order[rank < 4]
        long_enough = best[(a[best] != b[best]).any(axis=1)]
        if len(long_enough):
            d[long_enough] = np.minimum(d[long_enough], _golden_km(lon0[long_enough], lat0[long_enough],
                                                                  a[long_enough], b[long_enough]))
    return d


_MAX_PAIRS_PER_QUERY = 4_000_000  # bounds memory when far-away sites see whole layers


def _initial_radius_km(lon: np.ndarray, lat: np.ndarray, seg: _Segments) -> float:
    """A first search radius: about the mean spacing of the segments (0.5-50 km)."""
    lo, hi = np.minimum(seg.a, seg.b).min(axis=0), np.maximum(seg.a, seg.b).max(axis=0)
    mid_lat = float(np.clip((lo[1] + hi[1]) / 2, -80, 80))
    area_km2 = max((hi[0] - lo[0]) * float(_parallel_km_per_deg(np.array(mid_lat))) *
                   (hi[1] - lo[1]) * _MIN_MERIDIAN_KM_PER_DEG, 1.0)
    return float(np.clip(0.5 * math.sqrt(area_km2 / len(seg.a)), 0.5, 50.0))


def _nearest(lon: np.ndarray, lat: np.ndarray, seg: _Segments) -> tuple[np.ndarray, np.ndarray]:
    """Geodesic km to the nearest feature and that feature's row, for sites given as lon/lat arrays.

    Expanding rigorous boxes: a site is settled once the nearest distance found inside its box
    is <= the box radius (then no feature outside can be nearer); otherwise the radius grows to
    that distance (or doubles when nothing was found) and only the unsettled sites query again.
    """
    n = len(lon)
    dist = np.full(n, np.nan)
    feat = np.full(n, -1, dtype=np.int64)
    if n == 0 or len(seg.a) == 0:
        return dist, feat
    tree = shapely.STRtree(seg.envelopes)
    todo = np.arange(n)
    radius = np.full(n, _initial_radius_km(lon, lat, seg))
    world_km = 20_100.0  # > half the meridian circumference: the box is the whole globe
    while len(todo):
        # chunk the sites so that a round with huge boxes cannot allocate billions of pairs
        est = len(seg.a) if radius[todo].max() > 2_000 else max(64, len(seg.a) // 50)
        step = max(1, _MAX_PAIRS_PER_QUERY // est)
        next_todo: list[np.ndarray] = []
        for c0 in range(0, len(todo), step):
            ids = todo[c0:c0 + step]
            boxes, owner = _boxes(lon[ids], lat[ids], radius[ids])
            bi, j = tree.query(boxes)
            s_local = owner[bi]
            s = ids[s_local]
            d = _pair_distances(lon, lat, seg, s, j)
            order = np.lexsort((seg.feature[j], d, s))  # by site, then distance (ties: first feature)
            s, d, j = s[order], d[order], j[order]
            first = np.r_[True, s[1:] != s[:-1]] if len(s) else np.zeros(0, dtype=bool)
            best_s, best_d, best_j = s[first], d[first], j[first]
            settled = (best_d <= radius[best_s]) | (radius[best_s] >= world_km)
            dist[best_s[settled]] = best_d[settled]
            feat[best_s[settled]] = seg.feature[best_j[settled]]
            found = np.zeros(n, dtype=bool)
            found[best_s] = True
            radius[best_s[~settled]] = np.minimum(best_d[~settled] * (1 + 1e-9), world_km)
            empty = ids[~found[ids]]
            radius[empty] = np.minimum(radius[empty] * 4.0, world_km)
            next_todo += [best_s[~settled], empty]
        todo = np.unique(np.concatenate(next_todo)) if next_todo else np.empty(0, dtype=np.int64)
    return dist, feat


# ---------------------------------------------------------------------------------------------
# layers
# ---------------------------------------------------------------------------------------------
def _text(value: Any) -> str | None:
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    text = str(value).strip()
    return text or None


def _str(value: Any) -> str | None:
    """Text of a known (non-missing) value; blank -> None."""
    return str(value).strip() or None


def _number(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) or math.isinf(v) else v


def _col(gdf: gpd.GeoDataFrame, *names: str) -> str | None:
    lower = {str(c).lower(): c for c in gdf.columns if c != gdf.geometry.name}
    for n in names:
        if n in lower:
            return str(lower[n])
    return None


def _values(source: gpd.GeoDataFrame | np.ndarray, rows: np.ndarray, conv: Callable[[Any], Any],
            column: str | None = None) -> list[Any]:
    """``conv`` of the values at positional ``rows`` (-1 = none) of an array or a frame column."""
    if isinstance(source, np.ndarray):
        col = source
    elif column is None:
        return [None] * len(rows)
    else:
        col = source[column].to_numpy()
    if len(col) == 0:
        return [None] * len(rows)
    codes, uniques = pd.factorize(pd.Series(col[np.maximum(rows, 0)], dtype=object))  # NaN/None -> -1
    clean = np.array([None] + [conv(u) for u in uniques], dtype=object)  # convert each distinct value once
    out = clean[codes + 1]
    out[rows < 0] = None
    return list(out.tolist())


def _voltage_kv(lines: gpd.GeoDataFrame) -> np.ndarray:
    """Max circuit kV per line (NaN unknown); a numeric ``voltage_kv`` column is used as is."""
    col = lines["voltage_kv"] if "voltage_kv" in lines.columns else None
    if col is not None and pd.api.types.is_numeric_dtype(col):
        kv = col.to_numpy(dtype=float, na_value=np.nan).copy()
        kv[~(kv > 0)] = np.nan  # HIFLD writes -999999 for unknown
        kv = np.where(kv > 2000, kv / 1000.0, kv)  # same volts rule as planner.gis.voltage
        kv[kv > 1200] = np.nan
        unknown = np.flatnonzero(np.isnan(kv))
        if len(unknown) and len(lines.columns) > 2:
            kv[unknown] = normalise_voltage_kv(lines.iloc[unknown])["voltage_kv"].to_numpy(dtype=float)
        return np.asarray(kv, dtype=float)
    return np.asarray(normalise_voltage_kv(lines)["voltage_kv"].to_numpy(dtype=float), dtype=float)


def _check_layer(kind: str, i: int, gdf: Any) -> gpd.GeoDataFrame:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise ProximityError(f"layer {kind!r} #{i + 1} is a {type(gdf).__name__}, not a GeoDataFrame: "
                             "read it with planner.gis.io.read_layer")
    if gdf.crs is None or not is_wgs84(gdf.crs):
        raise ProximityError(f"layer {kind!r} #{i + 1} is in {gdf.crs.to_string() if gdf.crs else 'no CRS'}, "
                             "not EPSG:4326: reproject it with planner.gis.crs.ensure_wgs84")
    return gdf


def _concat_kind(kind: str, value: gpd.GeoDataFrame | Sequence[gpd.GeoDataFrame] | None) -> gpd.GeoDataFrame | None:
    if value is None:
        return None
    frames = [value] if isinstance(value, gpd.GeoDataFrame) else list(value)
    frames = [_check_layer(kind, i, g) for i, g in enumerate(frames)]
    frames = [g for g in frames if len(g)]
    if not frames:
        return None
    if len(frames) == 1:
        out = frames[0]
    else:
        geoms = [g if g.geometry.name == "geometry" else g.rename_geometry("geometry") for g in frames]
        out = gpd.GeoDataFrame(pd.concat(geoms, ignore_index=True), geometry="geometry", crs="EPSG:4326")
    out = out[out.geometry.notna() & ~out.geometry.is_empty]
    return out.reset_index(drop=True)


def sites_frame(sites: Iterable[Site]) -> gpd.GeoDataFrame:
    """EPSG:4326 points indexed by ``site_id`` (None geometry for sites without a location)."""
    rows = list(sites)
    geoms = [shapely.Point(s.lon, s.lat) if s.has_location else None for s in rows]
    return gpd.GeoDataFrame({"name": [s.name for s in rows]}, geometry=geoms, crs="EPSG:4326",
                            index=pd.Index([s.site_id for s in rows], name="site_id"))


def _site_coords(sites: gpd.GeoDataFrame) -> tuple[pd.Index, np.ndarray, np.ndarray, np.ndarray]:
    if not isinstance(sites, gpd.GeoDataFrame):
        raise ProximityError(f"sites is a {type(sites).__name__}, not a GeoDataFrame of points: "
                             "build it with planner.gis.proximity.sites_frame")
    if sites.crs is None:
        raise ProximityError("the sites have no CRS: set EPSG:4326 (lon/lat) or reproject them with "
                             "planner.gis.crs.ensure_wgs84")
    if not is_wgs84(sites.crs):
        raise ProximityError(f"the sites are in {sites.crs.to_string()}, not EPSG:4326: reproject them with "
                             "planner.gis.crs.ensure_wgs84")
    if "site_id" in sites.columns:
        ids = pd.Index(sites["site_id"].astype(str), name="site_id")
    else:
        ids = pd.Index(sites.index.astype(str), name="site_id")
    if ids.has_duplicates:
        dup = ids[ids.duplicated()][0]
        raise ProximityError(f"duplicate site_id {dup!r} in the sites: give each site a unique ID")
    geom = sites.geometry.to_numpy()
    located = ~(shapely.is_missing(geom) | shapely.is_empty(geom))
    bad = located & (shapely.get_type_id(geom) != 0)
    if bad.any():
        raise ProximityError(f"site {ids[np.flatnonzero(bad)[0]]!r} has a {geom[bad][0].geom_type} geometry, "
                             "not a Point: give each site one lon/lat point")
    lon = np.full(len(geom), np.nan)
    lat = np.full(len(geom), np.nan)
    if located.any():
        lon[located] = shapely.get_x(geom[located])
        lat[located] = shapely.get_y(geom[located])
    located &= np.isfinite(lon) & np.isfinite(lat)
    return ids, lon, lat, located


# ---------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------
def compute_proximity(sites: gpd.GeoDataFrame,
                      layers: Mapping[str, gpd.GeoDataFrame | Sequence[gpd.GeoDataFrame]],
                      config: ProximityConfig | None = None,
                      progress: Callable[[float], None] | None = None,
                      coverage: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Computed proximity fields for every site.

    Parameters
    ----------
    sites
        EPSG:4326 points with a ``site_id`` column or index; missing/empty geometry = no location.
    layers
        Layers keyed by kind (``transmission``, ``substations``, ``fibre``, ``pops``, ``stranded``,
        ``flares``); a list of frames per kind is concatenated. Missing kinds give None columns.
    config
        Voltage-class thresholds and flare radius; defaults to :class:`ProximityConfig`.
    progress
        Called with the fraction done (0..1).
    coverage
        Optional area each kind's data covers (kind -> shapely polygon in EPSG:4326). Sites outside
        it get None for that kind's fields: a Texas-only grid layer says nothing about a site in
        New York, so its distance there is unknown, not "far".

    Returns
    -------
    pandas.DataFrame
        Indexed by ``site_id``, columns exactly ``COMPUTED_FIELDS`` (object dtype, None = unknown).

    Raises
    ------
    ProximityError
        When the sites or a layer are not in EPSG:4326 or a site is not a point.
    """
    cfg = config or ProximityConfig()
    ids, lon_all, lat_all, located = _site_coords(sites)
    kinds = {k: _concat_kind(k, layers.get(k)) for k in PROXIMITY_KINDS}
    out = pd.DataFrame({c: np.full(len(ids), None, dtype=object) for c in COMPUTED_FIELDS}, index=ids)
    rows = np.flatnonzero(located)
    lon, lat = lon_all[rows], lat_all[rows]
    steps = [s for s in PROXIMITY_KINDS if kinds[s] is not None]
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done / max(1, len(steps)))

    def put(column: str, values: Sequence[Any] | np.ndarray) -> None:
        out.iloc[rows, out.columns.get_loc(column)] = pd.Series(list(values), dtype=object).to_numpy()

    def km(d: np.ndarray) -> list[float | None]:
        return [None if x != x else x for x in np.round(d, 4).tolist()]  # 0.1 m; NaN -> None

    if progress is not None:
        progress(0.0)
    lines = kinds["transmission"]
    if lines is not None:
        kv = _voltage_kv(lines)
        op_col, name_col = _col(lines, "operator"), _col(lines, "name")
        all_segments = _segments(lines.geometry.to_numpy()) if len(rows) else None
        for slot, threshold in zip(VOLTAGE_CLASSES_KV, cfg.voltage_classes_kv):
            sel = np.flatnonzero(np.nan_to_num(kv, nan=-1.0) >= threshold)
            d_col, v_col, o_col, n_col = line_class_fields(slot)
            if len(sel) == 0 or all_segments is None:
                continue  # no line of this class in the data: unknown, not 0
            dist, f = _nearest(lon, lat, all_segments.subset(sel))
            r = np.where(f >= 0, sel[np.maximum(f, 0)], -1)
            put(d_col, km(dist))
            put(v_col, _values(kv, r, _number))
            put(o_col, _values(lines, r, _str, op_col))
            put(n_col, _values(lines, r, _str, name_col))
        tick()
    subs = kinds["substations"]
    if subs is not None:
        typ = _col(subs, "typ", "type", "substation")
        if typ is not None and subs[typ].astype(str).str.lower().isin(SUBSTATION_TYPES).any():
            subs = subs[subs[typ].astype(str).str.lower().isin(SUBSTATION_TYPES)].reset_index(drop=True)
        if len(rows):
            dist, f = _nearest(lon, lat, _segments(subs.geometry.to_numpy()))
            put("dist_substation_km", km(dist))
            put("substation_name", _values(subs, f, _str, _col(subs, "name")))
            put("substation_max_kv", _values(_voltage_kv(subs), f, _number))
        tick()
    fibre = kinds["fibre"]
    if fibre is not None:
        if len(rows):
            dist, f = _nearest(lon, lat, _segments(fibre.geometry.to_numpy()))
            put("dist_fibre_km", km(dist))
            put("fibre_network", _values(fibre, f, _str, _col(fibre, "network", "name", "operator")))
        tick()
    pops = kinds["pops"]
    if pops is not None:
        if len(rows):
            dist, f = _nearest(lon, lat, _segments(pops.geometry.to_numpy()))
            node = _values(pops, f, _str, _col(pops, "node", "name"))
            net = _values(pops, f, _str, _col(pops, "network"))
            put("dist_pop_km", km(dist))
            put("pop_name", [None if n is None else (f"{n} ({w})" if w else n) for n, w in zip(node, net)])
        tick()
    regions = kinds["stranded"]
    if regions is not None:
        if len(rows):
            _stranded(out, rows, lon, lat, regions, put, km)
        tick()
    flares = kinds["flares"]
    if flares is not None:
        if len(rows):
            count, volume = _flares_within(lon, lat, flares, cfg.flare_radius_km)
            put("flare_count", [int(c) for c in count])
            put("flare_volume_bcm", [None if v is None else round(float(v), 6) for v in volume])
        tick()
    if progress is not None and not steps:
        progress(1.0)
    if coverage and len(rows):
        pts = shapely.points(lon, lat)
        for kind, area in coverage.items():
            if area is None or kind not in KIND_FIELDS:
                continue
            outside = rows[~shapely.covers(area, pts)]
            if len(outside):
                for column in KIND_FIELDS[kind]:
                    out.iloc[outside, out.columns.get_loc(column)] = None
    return out


def _kind_fields() -> dict[str, tuple[str, ...]]:
    lines: list[str] = []
    for slot in VOLTAGE_CLASSES_KV:
        lines.extend(line_class_fields(slot))
    return {"transmission": tuple(lines),
            "substations": ("dist_substation_km", "substation_name", "substation_max_kv"),
            "fibre": ("dist_fibre_km", "fibre_network"),
            "pops": ("dist_pop_km", "pop_name")}


KIND_FIELDS: dict[str, tuple[str, ...]] = _kind_fields()


def project_coverage(project: Any) -> dict[str, Any]:
    """Union of the stated coverage of each kind's layers; a kind with any unlimited layer is unlimited."""
    areas: dict[str, list[Any]] = {}
    unlimited: set[str] = set()
    for layer in getattr(project, "layers", {}).values():
        kind = getattr(layer, "kind", None)
        if kind not in KIND_FIELDS:
            continue
        area = getattr(layer, "coverage", None)
        if area is None:
            unlimited.add(kind)
        else:
            areas.setdefault(kind, []).append(area)
    return {k: shapely.union_all(v) for k, v in areas.items() if k not in unlimited}


def _stranded(out: pd.DataFrame, rows: np.ndarray, lon: np.ndarray, lat: np.ndarray, regions: gpd.GeoDataFrame,
              put: Callable[[str, Any], None], km: Callable[[np.ndarray], list[float | None]]) -> None:
    names = regions[_col(regions, "region", "name")].map(_text).to_numpy() if _col(regions, "region", "name") \
        else np.array([None] * len(regions), dtype=object)
    geoms = regions.geometry.to_numpy()
    poly = np.isin(shapely.get_type_id(geoms), (3, 6))
    inside_names: list[list[str]] = [[] for _ in range(len(lon))]
    inside = np.zeros(len(lon), dtype=bool)
    if poly.any():
        sel = np.flatnonzero(poly)
        s, j = shapely.STRtree(geoms[sel]).query(shapely.points(lon, lat), predicate="intersects")
        for si, ji in sorted(zip(s.tolist(), sel[j].tolist())):  # pairs inside (few), in layer order
            inside[si] = True
            if names[ji] and names[ji] not in inside_names[si]:
                inside_names[si].append(names[ji])
    dist, _ = _nearest(lon, lat, _segments(geoms))
    dist = np.where(inside, 0.0, dist)
    put("dist_stranded_km", km(dist))
    put("stranded_region", ["; ".join(n) if n else None for n in inside_names])


def _flares_within(lon: np.ndarray, lat: np.ndarray, flares: gpd.GeoDataFrame,
                   radius_km: float) -> tuple[np.ndarray, list[float | None]]:
    pts = flares.geometry.to_numpy()
    pts = pts[shapely.get_type_id(pts) == 0]
    vol_col = _col(flares, "flr_volume_bcm", "volume_bcm")
    vol = (pd.to_numeric(flares.loc[shapely.get_type_id(flares.geometry.to_numpy()) == 0, vol_col],
                         errors="coerce").to_numpy(dtype=float) if vol_col else None)
    fx, fy = shapely.get_x(pts), shapely.get_y(pts)
    boxes, owner = _boxes(lon, lat, np.full(len(lon), radius_km))
    bi, j = shapely.STRtree(pts).query(boxes)
    s = owner[bi]
    d = _geodesic_km(lon[s], lat[s], fx[j], fy[j])
    keep = d <= radius_km
    s, j = s[keep], j[keep]
    count = np.bincount(s, minlength=len(lon))
    if vol is None:
        return count, [None] * len(lon)
    total = np.bincount(s, weights=np.nan_to_num(vol[j], nan=0.0), minlength=len(lon))
    return count, [float(v) for v in total]


def project_layers(project: Any) -> dict[str, list[gpd.GeoDataFrame]]:
    """The project's layers grouped by kind (only the kinds proximity uses), in project order."""
    by_kind: dict[str, list[gpd.GeoDataFrame]] = {}
    for layer in getattr(project, "layers", {}).values():
        if getattr(layer, "kind", None) in PROXIMITY_KINDS and getattr(layer, "gdf", None) is not None:
            by_kind.setdefault(layer.kind, []).append(layer.gdf)
    return by_kind


def apply_proximity(project: Any, site_ids: Iterable[str] | None = None,
                    progress: Callable[[float], None] | None = None) -> list[str]:
    """Compute proximity for ``site_ids`` (default all) of ``project`` and store it on the sites.

    ``project`` is anything with ``.portfolio`` (a :class:`planner.model.portfolio.Portfolio`) and
    ``.layers`` (mapping name -> object with ``.kind`` and ``.gdf``); layers of one kind are
    concatenated. Calls ``portfolio.replace_sites`` once and returns the ids whose values changed.
    """
    portfolio = project.portfolio
    wanted = list(portfolio.ids()) if site_ids is None else list(dict.fromkeys(site_ids))
    sites = [portfolio.get(sid) for sid in wanted]  # raises PortfolioError for an unknown id
    config = ProximityConfig.from_settings(portfolio.settings.get("proximity"))
    table = compute_proximity(sites_frame(sites), project_layers(project), config, progress,
                              coverage=project_coverage(project))
    changed: list[Site] = []
    for site in sites:
        new = site.with_computed(table.loc[site.site_id].to_dict())
        if new != site:
            changed.append(new)
    if changed:
        portfolio.replace_sites(changed)
    return [s.site_id for s in changed]
