"""Site discovery: screen a region on a grid of candidate cells and rank where the next sites should go.

Pure geopandas/shapely/pyproj/dask (never Qt). :func:`screen` lays a square grid over a region
(a US state code from the project's ``states`` layer, ``CONUS``, a polygon or a lon/lat bbox),
measures each cell centre against the project's grid, fibre and stranded-energy layers, drops
cells that touch an exclusion layer, scores the rest with the readiness rules and returns the
top-N cells with a one-line reason each.

Grid
----
Square cells of ``cell_km`` in EPSG:5070 (CONUS Albers, equal-area) when the region lies in the
contiguous US, so a Texas cell has the same ``cell_id`` as in a national run; elsewhere a
Lambert azimuthal equal-area CRS centred on the region. A cell belongs to the region when its
centre does. (H3 was not used: its cell sizes are fixed per resolution, not the analyst's km,
and a projected square grid needs no extra package.)

Two stages, one set of rules
----------------------------
``compute_proximity`` (exact geodesic, what a site shows) costs ~4 ms per point on a dense grid:
Texas at 2 km (172,000 cells) would take ~12 minutes. So:

1. *Pre-screen, every cell.* Nearest-feature distances with ``STRtree.query_nearest`` in a
   Lambert azimuthal equal-area CRS centred on the region. Over the area that matters (the
   region's box grown by :data:`MAX_SCORED_KM`) the projection's point scale lies in
   ``[s_min, s_max]`` (pyproj ``get_factors``), so the true distance lies in
   ``[(d - delta) / s_max, (d + delta) / s_min]`` (``delta`` covers densifying lon/lat
   segments before projecting, plus a margin for compute_proximity's own tolerance). Every
   sub-score is monotone in the distances and flared-gas volume, so each cell gets a lower and
   an upper score bound (``score_min``/``score_max``) and an estimate (``score``).
2. *Refine the shortlist.* With ``T`` the N-th best lower bound, only cells whose upper bound
   reaches ``T`` can be in the exact top N. Those get ``compute_proximity`` on their centres
   and are scored by :func:`score_fields`, i.e. the readiness criteria functions
   (``grid_proximity``, ``fibre_latency``, and ``power_scale`` for the flared gas) run on a
   synthetic :class:`~planner.model.site.Site` built from the cell's computed fields. The
   top N is therefore exact, not approximate; ``exact_all=True`` refines every cell instead.

Distinct places
---------------
Without spacing the top N of a 2 km grid are neighbouring cells of one hot spot. ``min_spacing_km``
(default ``max(10 km, 5 x cell_km)``) keeps a cell only if it is at least that far (geodesic,
pyproj.Geod) from every candidate already accepted, walking the exact ranking best first (greedy
non-maximum suppression). The N-th best lower bound no longer bounds the N-th accepted score, so
the refine stage works in rounds: walk the cells by score, exact cells at their exact score and
unrefined ones at their upper bound, and refine every unrefined cell met before the N-th
acceptance unless it lies within the spacing of an accepted candidate that outscores its upper
bound (it would be suppressed whatever its exact score). When a walk meets no such cell, the
result equals greedy spacing over every cell's exact score (checked against ``exact_all=True``).

Suitability score
-----------------
Weighted mean over the criteria with data (weights renormalised, like readiness):

- ``grid_proximity`` and ``fibre_latency``: the readiness criteria unchanged, weights from the
  portfolio's active readiness weights profile (cells have no latency or dark-fibre facts, so
  fibre scores on fibre-route and PoP distance only, as for a site with those unknown);
- ``stranded_energy`` (screening only, default weight :data:`DEFAULT_STRANDED_WEIGHT`): half the
  stranded-region distance on the grid-proximity distance curve (inside = 100), half the flared
  gas within the proximity flare radius converted to MW (:class:`StrandedRules`) and scored on
  the readiness power-scale curve (20 MW gate, 200 MW campus).

Engines
-------
``engine="local"`` runs the row bands one after another in this process; ``engine="dask"``
builds the cell grid as a dask-geopandas frame (one partition per band of grid rows) and maps
the pre-screen over it on a ``distributed`` cluster (a light in-process LocalCluster by default,
or ``scheduler="tcp://host:8786"``). Both run the same per-band function on the same bands and
give identical results.
"""
from __future__ import annotations

import math
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Geod, Proj, Transformer

from planner.gis.crs import is_wgs84
from planner.gis.proximity import (
    SUBSTATION_TYPES, ProximityConfig, _col, _voltage_kv, compute_proximity, line_class_fields,
    project_coverage, project_layers,
)
from planner.model.fields import COMPUTED_FIELDS, VOLTAGE_CLASSES_KV
from planner.model.readiness import CRITERIA_BY_KEY, ScoringContext, thresholds_from_settings, weights_from_settings
from planner.model.readiness_rules import (
    DISTANCE_POINTS, FIBRE_ROUTE_POINTS, LINE_CLASS_FACTORS, PART_WEIGHTS, POP_POINTS, piecewise_linear,
    power_log_points, power_mw_score,
)
from planner.model.site import PlannerError, Site

__all__ = [
    "DASK_MODULES", "DEFAULT_STRANDED_WEIGHT", "ENGINES", "SCREEN_CRITERIA", "Candidate", "Region", "ScreeningError",
    "MAX_SPACING_KM", "ScreeningResult", "StrandedRules", "candidate_site", "check_inputs", "check_spacing",
    "default_min_spacing_km", "resolve_region", "score_fields", "screen", "screening_weights", "state_codes",
]

ENGINES: tuple[str, ...] = ("local", "dask")
#: Criteria of the suitability score, in display order.
SCREEN_CRITERIA: tuple[str, ...] = ("grid_proximity", "fibre_latency", "stranded_energy")
#: Default weight of the stranded-energy criterion (assumption: equal to the default grid-proximity
#: readiness weight; editable per run).
DEFAULT_STRANDED_WEIGHT = 8.0
#: Beyond this every distance curve is flat (PoP curve ends at 300 km), so bounds only matter within it.
MAX_SCORED_KM = 300.0
#: Safety caps: refuse grids that would not fit a laptop, refine at most this many cells.
MAX_CELLS = 20_000_000
MAX_REFINE_CELLS = 20_000
_CONUS_BBOX = (-125.0, 24.0, -66.5, 49.5)
_NON_CONUS = {"AK", "HI", "PR", "VI", "GU", "AS", "MP"}
_DENSIFY_DEG = 0.1      # lon/lat segments split to <= 0.1 deg before projecting: chord error < 10 m
_DELTA_KM = 0.02        # absolute slack: densify chord error + float noise
_REL_SLACK = 0.005      # compute_proximity's stated worst-case over-estimate (0.5 % below 300 km)
_BAND_CELLS = 40_000    # default cells per partition (memory and progress granularity)
_REFINE_MARGIN = 0.02   # exact scores are rounded to 0.01 and may exceed the bounds by 0.01 (mirror rounding)
_REFINE_BATCH = 64      # cells refined per extra round of the spaced top-N search (at least 2 x top)
_KM_PER_DEG_LAT_MIN = 110.5   # shortest meridian degree is 110.574 km (equator); rounded down
_GEOD = Geod(ellps="WGS84")
#: Largest accepted minimum spacing between candidates.
MAX_SPACING_KM = 5000.0


class ScreeningError(PlannerError, ValueError):
    """Bad screening input: region, resolution, exclusions, weights or engine."""


# ---------------------------------------------------------------------------------------------
# rules
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StrandedRules:
    """How flared gas near a cell turns into MW for the stranded-energy sub-score (editable).

    ``gas_mj_per_m3``: EIA average heat content of US natural gas, ~1,036 Btu/ft3 = 38.6 MJ/m3.
    ``generator_efficiency``: gas reciprocating engines / turbines at a flare site, 0.35
    (assumption). 1 bcm/yr then gives 1e9 * 38.6e6 J * 0.35 / 31.536e6 s = ~428 MW average.
    """

    gas_mj_per_m3: float = 38.6
    generator_efficiency: float = 0.35

    def __post_init__(self) -> None:
        if not 1.0 <= float(self.gas_mj_per_m3) <= 100.0:
            raise ScreeningError(f"stranded rules gas_mj_per_m3 = {self.gas_mj_per_m3!r}: outside 1-100 MJ/m3; "
                                 "use e.g. 38.6 (EIA US average)")
        if not 0.0 < float(self.generator_efficiency) <= 1.0:
            raise ScreeningError(f"stranded rules generator_efficiency = {self.generator_efficiency!r}: must be in "
                                 "(0, 1]; use e.g. 0.35")

    @property
    def mw_per_bcm_per_year(self) -> float:
        """Average electric MW from one bcm of gas a year."""
        return 1e9 * self.gas_mj_per_m3 * self.generator_efficiency / (365.0 * 24.0 * 3600.0)


def screening_weights(settings: Mapping[str, Any] | None = None,
                      overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """Weights of :data:`SCREEN_CRITERIA`: the active readiness profile's, plus stranded, plus overrides."""
    _, readiness = weights_from_settings(settings)
    out = {"grid_proximity": readiness["grid_proximity"], "fibre_latency": readiness["fibre_latency"],
           "stranded_energy": DEFAULT_STRANDED_WEIGHT}
    for key, value in dict(overrides or {}).items():
        if key not in out:
            raise ScreeningError(f"screening weight {key!r}: unknown criterion; use {', '.join(SCREEN_CRITERIA)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise ScreeningError(f"screening weight {key} = {value!r}: must be a number >= 0 (0 switches it off)")
        out[key] = float(value)
    if sum(out.values()) <= 0:
        raise ScreeningError("screening weights are all 0: give at least one criterion a weight > 0")
    return out


_BASE_SITE = Site.create(site_id="CELL", name="Screening cell", status="pipeline")
_GRID = CRITERIA_BY_KEY["grid_proximity"]
_FIBRE = CRITERIA_BY_KEY["fibre_latency"]


def _stranded_score(fields: Mapping[str, Any], rules: StrandedRules, ctx: ScoringContext,
                    radius_km: float) -> tuple[float | None, str]:
    d, region = fields.get("dist_stranded_km"), fields.get("stranded_region")
    vol = fields.get("flare_volume_bcm")
    parts: list[tuple[float, str]] = []
    if d is not None:
        s = piecewise_linear(float(d), DISTANCE_POINTS)
        parts.append((s, f"inside {region}" if region else f"stranded region {float(d):.1f} km"))
    if vol is not None:
        mw = float(vol) * rules.mw_per_bcm_per_year
        s = float(power_mw_score(min(mw, 1e4), ctx.thresholds))  # the readiness power scale (log MW)
        n = fields.get("flare_count")
        parts.append((s, f"{n if n is not None else '?'} flares / {float(vol):.3f} bcm/yr within "
                         f"{radius_km:g} km (~{mw:,.0f} MW)"))
    if not parts:
        return None, "no stranded-energy data"
    return sum(p[0] for p in parts) / len(parts), "; ".join(p[1] for p in parts)


def score_fields(fields: Mapping[str, Any], weights: Mapping[str, float], settings: Mapping[str, Any] | None = None,
                 rules: StrandedRules = StrandedRules(), flare_radius_km: float = 50.0
                 ) -> tuple[float | None, dict[str, float | None], dict[str, str]]:
    """Suitability of one cell from its computed fields: (total, sub-scores, reasons), readiness rules."""
    ctx = ScoringContext(thresholds_from_settings(settings))
    site = _BASE_SITE.with_computed({k: fields.get(k) for k in COMPUTED_FIELDS})
    subs: dict[str, float | None] = {}
    reasons: dict[str, str] = {}
    g, g_reason, _ = _GRID.score(site, ctx)
    f, f_reason, _ = _FIBRE.score(site, ctx)
    s, s_reason = _stranded_score(fields, rules, ctx, flare_radius_km)
    for key, value, reason in (("grid_proximity", g, g_reason), ("fibre_latency", f, f_reason),
                               ("stranded_energy", s, s_reason)):
        subs[key] = None if value is None else round(float(value), 2)
        reasons[key] = reason
    known = [(weights[k], v) for k, v in subs.items() if v is not None and weights.get(k, 0) > 0]
    wsum = sum(w for w, _ in known)
    total = None if wsum <= 0 else round(sum(w * v for w, v in known) / wsum, 2)
    return total, subs, reasons


# Vectorised mirror of the rules above (same public curves and part weights of
# planner.model.readiness_rules), used only for the pre-screen bounds. tests/test_screening.py
# checks it against score_fields on random inputs; at run time the refined cells are checked too.


def _interp(x: np.ndarray, pts: Sequence[tuple[float, float]]) -> np.ndarray:
    xs, ys = zip(*pts)
    return np.where(np.isnan(x), np.nan, np.interp(np.nan_to_num(x, nan=0.0), xs, ys))


def _combine_v(parts: Sequence[tuple[float, np.ndarray]]) -> np.ndarray:
    num = np.zeros(len(parts[0][1]))
    den = np.zeros(len(parts[0][1]))
    for w, v in parts:
        known = ~np.isnan(v)
        num += np.where(known, w * np.nan_to_num(v), 0.0)
        den += np.where(known, w, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, np.clip(num / den, 0, 100), np.nan)


def _scores_v(d: Mapping[str, np.ndarray], flare_mw: np.ndarray, weights: Mapping[str, float],
              power_pts: Sequence[tuple[float, float]]) -> np.ndarray:
    line_parts = [factor * _interp(d[f"line_{kv}"], DISTANCE_POINTS) for kv, factor in LINE_CLASS_FACTORS
                  if f"line_{kv}" in d]
    stack = np.vstack(line_parts) if line_parts else np.full((1, len(flare_mw)), np.nan)
    with np.errstate(all="ignore"):
        best = np.where(np.all(np.isnan(stack), axis=0), np.nan,
                        np.max(np.where(np.isnan(stack), -1.0, stack), axis=0))
    gw, fw = PART_WEIGHTS["grid_proximity"], PART_WEIGHTS["fibre_latency"]
    grid = _combine_v([(gw["lines"], best), (gw["dist_substation_km"], _interp(d["substation"], DISTANCE_POINTS))])
    fibre = _combine_v([(fw["dist_fibre_km"], _interp(d["fibre"], FIBRE_ROUTE_POINTS)),
                        (fw["dist_pop_km"], _interp(d["pop"], POP_POINTS))])
    region = _interp(d["stranded"], DISTANCE_POINTS)
    flares = np.where(np.isnan(flare_mw), np.nan,
                      np.where(flare_mw > 0, _interp(np.log10(np.clip(flare_mw, 1.0, 1e4)), power_pts), 0.0))
    stranded = _combine_v([(1.0, region), (1.0, flares)])
    return _combine_v([(weights["grid_proximity"], grid), (weights["fibre_latency"], fibre),
                       (weights["stranded_energy"], stranded)])


def _power_pts(settings: Mapping[str, Any] | None) -> list[tuple[float, float]]:
    """The readiness power scale's anchors in log10(MW) (planner.model.readiness_rules.power_log_points)."""
    return list(power_log_points(thresholds_from_settings(settings)))


# ---------------------------------------------------------------------------------------------
# regions
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Region:
    """A screening region: a short code for ids and layer names, a label and an EPSG:4326 polygon."""

    code: str
    label: str
    geometry: Any


def _states(project: Any) -> gpd.GeoDataFrame | None:
    frames = [lyr.gdf for lyr in getattr(project, "layers", {}).values()
              if getattr(lyr, "kind", None) == "states" and "STUSPS" in getattr(lyr, "gdf", pd.DataFrame()).columns]
    return frames[0] if frames else None


def state_codes(project: Any) -> list[str]:
    """State codes (``STUSPS``) of the project's states layer, sorted; empty when it has none."""
    states = _states(project)
    return [] if states is None else sorted(str(s) for s in states["STUSPS"].dropna().unique())


def _bbox_region(values: Sequence[float], text: str) -> Region:
    try:
        x0, y0, x1, y1 = (float(v) for v in values)
    except (TypeError, ValueError):
        raise ScreeningError(f"region {text!r}: a bbox needs 4 numbers minlon,minlat,maxlon,maxlat") from None
    if not (-180 <= x0 < x1 <= 180 and -90 <= y0 < y1 <= 90):
        raise ScreeningError(f"region bbox {text!r}: needs -180 <= minlon < maxlon <= 180 and "
                             "-90 <= minlat < maxlat <= 90 (lon/lat degrees)")
    return Region("BBOX", f"bbox {x0:g},{y0:g},{x1:g},{y1:g}", shapely.box(x0, y0, x1, y1))


def resolve_region(project: Any, region: Any) -> Region:
    """Turn a state code/name, ``CONUS``, a bbox (tuple or "minlon,minlat,maxlon,maxlat") or a polygon into a Region."""
    if isinstance(region, Region):
        return region
    if isinstance(region, (shapely.Polygon, shapely.MultiPolygon)):
        if region.is_empty or not region.is_valid:
            raise ScreeningError("region polygon is empty or invalid: give a valid EPSG:4326 (Multi)Polygon")
        x0, y0, x1, y1 = region.bounds
        if x0 < -180 or x1 > 180 or y0 < -90 or y1 > 90:
            raise ScreeningError("region polygon is not in lon/lat degrees: reproject it to EPSG:4326")
        return Region("AREA", "custom area", region)
    if isinstance(region, (tuple, list)) and len(region) == 4:
        return _bbox_region(region, ",".join(map(str, region)))
    if not isinstance(region, str) or not region.strip():
        raise ScreeningError(f"region {region!r}: give a state code (e.g. TX), CONUS, a bbox "
                             "minlon,minlat,maxlon,maxlat or a polygon")
    text = region.strip()
    if text.count(",") == 3:
        return _bbox_region(text.split(","), text)
    states = _states(project)
    if states is None:
        raise ScreeningError(f"region {text!r}: the project has no states layer with STUSPS codes; add the "
                             "basemap layers (File > New) or give a bbox minlon,minlat,maxlon,maxlat")
    key = text.upper()
    if key in ("CONUS", "US48", "LOWER48"):
        keep = states[~states["STUSPS"].astype(str).isin(_NON_CONUS)]
        return Region("CONUS", "contiguous US", shapely.union_all(keep.geometry.to_numpy()))
    hit = states[(states["STUSPS"].astype(str).str.upper() == key) |
                 (states["NAME"].astype(str).str.upper() == key if "NAME" in states.columns else False)]
    if hit.empty:
        raise ScreeningError(f"region {text!r}: unknown; use one of {', '.join(state_codes(project))}, CONUS, "
                             "or a bbox minlon,minlat,maxlon,maxlat")
    row = hit.iloc[0]
    label = str(row["NAME"]) if "NAME" in hit.columns else str(row["STUSPS"])
    return Region(str(row["STUSPS"]).upper(), label, shapely.union_all(hit.geometry.to_numpy()))


def _grid_crs(region: Region) -> CRS:
    x0, y0, x1, y1 = region.geometry.bounds
    cx0, cy0, cx1, cy1 = _CONUS_BBOX
    if x0 >= cx0 and x1 <= cx1 and y0 >= cy0 and y1 <= cy1:
        return CRS.from_epsg(5070)
    return _laea(region)


def _laea(region: Region) -> CRS:
    x0, y0, x1, y1 = region.geometry.bounds
    return CRS.from_proj4(f"+proj=laea +lat_0={(y0 + y1) / 2:.4f} +lon_0={(x0 + x1) / 2:.4f} "
                          "+x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs")


# ---------------------------------------------------------------------------------------------
# prepared inputs (picklable: plain arrays and shapely geometries, no trees)
# ---------------------------------------------------------------------------------------------
@dataclass
class _Plan:
    grid_wkt: str
    meas_wkt: str
    cell_m: float
    region_grid: Any           # region polygon in the grid CRS
    ix0: int
    ix1: int
    weights: dict[str, float]
    power_pts: list[tuple[float, float]]
    mw_per_bcm: float
    flare_radius_km: float
    s_min: float
    s_max: float
    lines: dict[int, np.ndarray] = field(default_factory=dict)   # slot kV -> measured-CRS geometries
    subs: np.ndarray | None = None
    fibre: np.ndarray | None = None
    pops: np.ndarray | None = None
    stranded_ll: np.ndarray | None = None    # lon/lat polygons (inside test, as proximity)
    stranded_m: np.ndarray | None = None     # measured-CRS boundaries
    stranded_names: list[str | None] = field(default_factory=list)
    flares_m: np.ndarray | None = None
    flare_vol: np.ndarray | None = None
    coverage: dict[str, Any] = field(default_factory=dict)
    exclusions: list[tuple[str, np.ndarray, list[str | None]]] = field(default_factory=list)

    # Pickle geometry arrays as one vectorised WKB array each: shapely pickles geometries one by
    # one (~60 us each), which made shipping a national plan to dask slower than screening it.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for key, value in state.items():
            if isinstance(value, np.ndarray) and value.dtype == object:
                state[key] = _WKB(shapely.to_wkb(value))
        state["lines"] = {k: _WKB(shapely.to_wkb(v)) for k, v in self.lines.items()}
        state["exclusions"] = [(lbl, _WKB(shapely.to_wkb(g)), names) for lbl, g, names in self.exclusions]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        def load(v: Any) -> Any:
            return shapely.from_wkb(v.data) if isinstance(v, _WKB) else v
        state = {k: load(v) for k, v in state.items()}
        state["lines"] = {k: load(v) for k, v in state["lines"].items()}
        state["exclusions"] = [(lbl, load(g), names) for lbl, g, names in state["exclusions"]]
        self.__dict__.update(state)


@dataclass(frozen=True)
class _WKB:
    data: np.ndarray


def _measured(geoms: np.ndarray, to_meas: Transformer) -> np.ndarray:
    """Densify in lon/lat, project, and explode into 2-point segments (small tree items: fast nearest)."""
    dense = shapely.segmentize(geoms, _DENSIFY_DEG)
    parts = shapely.get_parts(dense)
    types = shapely.get_type_id(parts)
    poly = np.isin(types, (3, 6))
    if poly.any():
        parts = np.concatenate([parts[~poly], shapely.get_parts(shapely.boundary(parts[poly]))])
        types = shapely.get_type_id(parts)
    points = parts[types == 0]
    coords, owner = shapely.get_coordinates(parts[types != 0], return_index=True)
    xy = np.column_stack(to_meas.transform(coords[:, 0], coords[:, 1])) if len(coords) else coords
    same = owner[1:] == owner[:-1]
    segs = shapely.linestrings(np.stack([xy[:-1][same], xy[1:][same]], axis=1)) if same.any() \
        else np.empty(0, dtype=object)
    if len(points):
        pxy = shapely.get_coordinates(points)
        points = shapely.points(*to_meas.transform(pxy[:, 0], pxy[:, 1]))
    return np.concatenate([np.asarray(points, dtype=object), np.asarray(segs, dtype=object)])


def _kind_frame(layers: Mapping[str, Sequence[gpd.GeoDataFrame]], kind: str) -> gpd.GeoDataFrame | None:
    frames = [g for g in layers.get(kind, []) if len(g)]
    for i, g in enumerate(frames):
        if g.crs is None or not is_wgs84(g.crs):
            raise ScreeningError(f"layer of kind {kind!r} #{i + 1} is not in EPSG:4326: reproject it with "
                                 "planner.gis.crs.ensure_wgs84")
    if not frames:
        return None
    out = frames[0] if len(frames) == 1 else gpd.GeoDataFrame(
        pd.concat([g.rename_geometry("geometry") if g.geometry.name != "geometry" else g for g in frames],
                  ignore_index=True), geometry="geometry", crs="EPSG:4326")
    out = out[out.geometry.notna() & ~out.geometry.is_empty].reset_index(drop=True)
    return out if len(out) else None


def _scale_range(meas: CRS, region: Region) -> tuple[float, float]:
    x0, y0, x1, y1 = region.geometry.bounds
    pad_lat = MAX_SCORED_KM / 110.574 + 0.5
    lat0, lat1 = max(-89.0, y0 - pad_lat), min(89.0, y1 + pad_lat)
    coslat = max(math.cos(math.radians(max(abs(lat0), abs(lat1)))), 0.05)
    pad_lon = min(180.0, pad_lat / coslat)
    lon, lat = np.meshgrid(np.linspace(max(-180, x0 - pad_lon), min(180, x1 + pad_lon), 41),
                           np.linspace(lat0, lat1, 41))
    f = Proj(meas).get_factors(lon.ravel(), lat.ravel())
    scales = np.concatenate([np.asarray(f.meridional_scale), np.asarray(f.parallel_scale)])
    scales = scales[np.isfinite(scales)]
    return float(scales.min()) * (1 - 1e-3), float(scales.max()) * (1 + 1e-3)


def _prepare(project: Any, region: Region, cell_km: float, exclusions: Sequence[Any],
             weights: Mapping[str, float], rules: StrandedRules) -> tuple[_Plan, ProximityConfig]:
    settings = project.portfolio.settings
    config = ProximityConfig.from_settings(settings.get("proximity"))
    grid, meas = _grid_crs(region), _laea(region)
    to_grid = Transformer.from_crs(4326, grid, always_xy=True)
    to_meas = Transformer.from_crs(4326, meas, always_xy=True)
    region_grid = shapely.transform(shapely.segmentize(region.geometry, _DENSIFY_DEG),
                                    lambda xy: np.column_stack(to_grid.transform(xy[:, 0], xy[:, 1])))
    cell_m = cell_km * 1000.0
    gx0, gy0, gx1, gy1 = region_grid.bounds
    n_est = region_grid.area / cell_m ** 2
    if n_est > MAX_CELLS:
        raise ScreeningError(f"{region.label} at {cell_km:g} km cells is ~{n_est:,.0f} cells, above the "
                             f"{MAX_CELLS:,} limit: use a coarser cell_km")
    s_min, s_max = _scale_range(meas, region)
    coverage = {k: v for k, v in project_coverage(project).items() if v is not None}
    for area in coverage.values():
        shapely.prepare(area)
    plan = _Plan(grid_wkt=grid.to_wkt(), meas_wkt=meas.to_wkt(), cell_m=cell_m, region_grid=region_grid,
                 ix0=int(math.floor(gx0 / cell_m)), ix1=int(math.ceil(gx1 / cell_m)), weights=dict(weights),
                 power_pts=_power_pts(settings), mw_per_bcm=rules.mw_per_bcm_per_year,
                 flare_radius_km=config.flare_radius_km, s_min=s_min, s_max=s_max,
                 coverage=coverage)
    layers = project_layers(project)
    lines = _kind_frame(layers, "transmission")
    if lines is not None:
        kv = np.nan_to_num(_voltage_kv(lines), nan=-1.0)
        geoms = lines.geometry.to_numpy()
        for slot, threshold in zip(VOLTAGE_CLASSES_KV, config.voltage_classes_kv):
            sel = kv >= threshold
            if sel.any():
                plan.lines[slot] = _measured(geoms[sel], to_meas)
    subs = _kind_frame(layers, "substations")
    if subs is not None:
        typ = _col(subs, "typ", "type", "substation")
        if typ is not None and subs[typ].astype(str).str.lower().isin(SUBSTATION_TYPES).any():
            subs = subs[subs[typ].astype(str).str.lower().isin(SUBSTATION_TYPES)]
        plan.subs = _measured(subs.geometry.to_numpy(), to_meas)
    fibre = _kind_frame(layers, "fibre")
    if fibre is not None:
        plan.fibre = _measured(fibre.geometry.to_numpy(), to_meas)
    pops = _kind_frame(layers, "pops")
    if pops is not None:
        plan.pops = _measured(pops.geometry.to_numpy(), to_meas)
    stranded = _kind_frame(layers, "stranded")
    if stranded is not None:
        geoms = stranded.geometry.to_numpy()
        plan.stranded_ll = geoms[np.isin(shapely.get_type_id(geoms), (3, 6))]
        plan.stranded_m = _measured(geoms, to_meas)
        name_col = _col(stranded, "region", "name")
        names = stranded[name_col].tolist() if name_col else [None] * len(stranded)
        poly = np.isin(shapely.get_type_id(geoms), (3, 6))
        plan.stranded_names = [None if n is None or str(n).strip() == "" else str(n).strip()
                               for n, p in zip(names, poly) if p]
    flares = _kind_frame(layers, "flares")
    if flares is not None:
        pts = flares.geometry.to_numpy()
        point = shapely.get_type_id(pts) == 0
        plan.flares_m = _measured(pts[point], to_meas)
        vol_col = _col(flares, "flr_volume_bcm", "volume_bcm")
        plan.flare_vol = (pd.to_numeric(flares.loc[point, vol_col], errors="coerce").to_numpy(dtype=float)
                          if vol_col else None)
    plan.exclusions = [_exclusion(project, item, i, to_grid) for i, item in enumerate(exclusions)]
    return plan, config


def _exclusion(project: Any, item: Any, i: int, to_grid: Transformer) -> tuple[str, np.ndarray, list[str | None]]:
    if isinstance(item, str):
        layer = getattr(project, "layers", {}).get(item)
        if layer is None:
            names = ", ".join(getattr(project, "layers", {})) or "none"
            raise ScreeningError(f"exclusion layer {item!r}: not in the project; use one of: {names}")
        gdf, label = layer.gdf, (layer.title or item)
    elif isinstance(item, gpd.GeoDataFrame):
        gdf, label = item, f"exclusion #{i + 1}"
    elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], gpd.GeoDataFrame):
        label, gdf = str(item[0]), item[1]
    else:
        raise ScreeningError(f"exclusion #{i + 1} is a {type(item).__name__}: give a project layer name "
                             "or a polygon GeoDataFrame")
    if gdf.crs is None or not is_wgs84(gdf.crs):
        raise ScreeningError(f"exclusion layer {label!r} is not in EPSG:4326: reproject it with "
                             "planner.gis.crs.ensure_wgs84")
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    types = shapely.get_type_id(gdf.geometry.to_numpy())
    if len(gdf) == 0 or not np.isin(types, (3, 6)).all():
        raise ScreeningError(f"exclusion layer {label!r} is not a polygon layer "
                             f"({', '.join(sorted(set(gdf.geom_type))) or 'no features'}): exclusions must be "
                             "polygon layers (e.g. protected areas, cities)")
    name_col = _col(gdf, "name", "region", "basin", "title", "label")
    names = [None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
             for v in (gdf[name_col].tolist() if name_col else [None] * len(gdf))]
    geoms = shapely.transform(shapely.segmentize(gdf.geometry.to_numpy(), _DENSIFY_DEG),
                              lambda xy: np.column_stack(to_grid.transform(xy[:, 0], xy[:, 1])))
    return label, geoms, names


# ---------------------------------------------------------------------------------------------
# the per-band pre-screen (the function both engines map over the bands)
# ---------------------------------------------------------------------------------------------
_MEASURES = ("line_69", "line_138", "line_230", "line_345", "line_500", "substation", "fibre", "pop", "stranded")
_COVER_KIND = {"line_69": "transmission", "line_138": "transmission", "line_230": "transmission",
               "line_345": "transmission", "line_500": "transmission", "substation": "substations",
               "fibre": "fibre", "pop": "pops"}
_BAND_COLUMNS = (["cell_id", "x", "y", "lon", "lat", "excluded", "excluded_reason", "stranded_region"]
                 + [f"{m}_km" for m in _MEASURES] + ["flare_volume_bcm", "score", "score_min", "score_max"])


def _band_meta() -> gpd.GeoDataFrame:
    cols: dict[str, Any] = {c: pd.Series(dtype=float) for c in _BAND_COLUMNS}
    for c in ("cell_id", "excluded_reason", "stranded_region"):
        cols[c] = pd.Series(dtype=object)
    cols["excluded"] = pd.Series(dtype=bool)
    return gpd.GeoDataFrame(cols, geometry=gpd.GeoSeries([], crs="EPSG:4326"))


@dataclass(frozen=True)
class _GridSpec:
    """What generating a band of cells needs (small: shipped with every band task)."""

    grid_wkt: str
    cell_m: float
    region_grid: Any
    ix0: int
    ix1: int


_PREPARE_LOCK = threading.Lock()


def _band_cells(plan: _Plan | _GridSpec, rows: tuple[int, int]) -> gpd.GeoDataFrame:
    """Cell centres of grid rows ``rows`` (iy from, to) inside the region, as EPSG:4326 points."""
    c = plan.cell_m
    ix = np.arange(plan.ix0, plan.ix1)
    iy = np.arange(rows[0], rows[1])
    gx, gy = np.meshgrid(ix, iy)
    gx, gy = gx.ravel(), gy.ravel()
    x, y = (gx + 0.5) * c, (gy + 0.5) * c
    region = plan.region_grid
    with _PREPARE_LOCK:  # worker threads share the geometry; GEOS prepare is not thread-safe
        shapely.prepare(region)
    inside = shapely.contains_xy(region, x, y)
    gx, gy, x, y = gx[inside], gy[inside], x[inside], y[inside]
    lon, lat = Transformer.from_crs(CRS.from_wkt(plan.grid_wkt), 4326, always_xy=True).transform(x, y)
    ids = [f"{'W' if a < 0 else 'E'}{abs(a)}{'S' if b < 0 else 'N'}{abs(b)}" for a, b in zip(gx.tolist(), gy.tolist())]
    return gpd.GeoDataFrame({"cell_id": ids, "x": x, "y": y, "lon": np.round(lon, 6), "lat": np.round(lat, 6)},
                            geometry=shapely.points(np.round(lon, 6), np.round(lat, 6)), crs="EPSG:4326")


def _nearest_km(tree_geoms: np.ndarray | None, pts: np.ndarray) -> np.ndarray:
    if tree_geoms is None or len(tree_geoms) == 0 or len(pts) == 0:
        return np.full(len(pts), np.nan)
    tree = shapely.STRtree(tree_geoms)
    (src, _), dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
    out = np.full(len(pts), np.nan)
    out[src] = dist / 1000.0
    return out


def _measure_band(cells: gpd.GeoDataFrame, plan: _Plan) -> gpd.GeoDataFrame:
    """Pre-screen measures, exclusions and score bounds for one band of cells."""
    n = len(cells)
    out = cells.copy()
    out["excluded"] = np.zeros(n, dtype=bool)
    out["excluded_reason"] = pd.Series([None] * n, dtype=object, index=out.index)
    out["stranded_region"] = pd.Series([None] * n, dtype=object, index=out.index)
    for col in [f"{m}_km" for m in _MEASURES] + ["flare_volume_bcm", "score", "score_min", "score_max"]:
        out[col] = np.full(n, np.nan)
    if n == 0:
        return out[list(_BAND_COLUMNS) + ["geometry"]]
    x, y = out["x"].to_numpy(), out["y"].to_numpy()
    half = plan.cell_m / 2
    # exclusions: a cell touching any exclusion polygon is out, with the first layer/feature as reason
    reason = np.full(n, None, dtype=object)
    if plan.exclusions:
        boxes = shapely.box(x - half, y - half, x + half, y + half)
        for label, geoms, names in plan.exclusions:
            free = np.flatnonzero(reason == None)  # noqa: E711 - elementwise on an object array
            if not len(free):
                break
            ci, fj = shapely.STRtree(geoms).query(boxes[free], predicate="intersects")
            order = np.lexsort((fj, ci))
            ci, fj = ci[order], fj[order]
            first = np.unique(ci, return_index=True)[1]
            for c_, f_ in zip(ci[first], fj[first]):
                reason[free[c_]] = f"excluded: touches {label}" + (f" ({names[f_]})" if names[f_] else "")
    excluded = reason != None  # noqa: E711
    out["excluded"] = excluded
    out["excluded_reason"] = reason
    keep = np.flatnonzero(~excluded)
    if not len(keep):
        return out[list(_BAND_COLUMNS) + ["geometry"]]
    lon, lat = out["lon"].to_numpy()[keep], out["lat"].to_numpy()[keep]
    mx, my = Transformer.from_crs(4326, CRS.from_wkt(plan.meas_wkt), always_xy=True).transform(lon, lat)
    pts = shapely.points(mx, my)
    ll = shapely.points(lon, lat)
    raw: dict[str, np.ndarray] = {}
    for slot in VOLTAGE_CLASSES_KV:
        raw[f"line_{slot}"] = _nearest_km(plan.lines.get(slot), pts)
    raw["substation"] = _nearest_km(plan.subs, pts)
    raw["fibre"] = _nearest_km(plan.fibre, pts)
    raw["pop"] = _nearest_km(plan.pops, pts)
    for m, kind in _COVER_KIND.items():  # outside a layer's stated coverage the distance is unknown
        area = plan.coverage.get(kind)
        if area is not None:
            raw[m] = np.where(shapely.covers(area, ll), raw[m], np.nan)
    inside = np.zeros(len(keep), dtype=bool)
    regions = np.full(len(keep), None, dtype=object)
    if plan.stranded_m is not None:
        raw["stranded"] = _nearest_km(plan.stranded_m, pts)
        if plan.stranded_ll is not None and len(plan.stranded_ll):
            si, rj = shapely.STRtree(plan.stranded_ll).query(ll, predicate="intersects")
            names: dict[int, list[str]] = {}
            for a, b in sorted(zip(si.tolist(), rj.tolist())):
                inside[a] = True
                nm = plan.stranded_names[b]
                if nm and nm not in names.setdefault(a, []):
                    names[a].append(nm)
            for a, nms in names.items():
                regions[a] = "; ".join(nms)
    else:
        raw["stranded"] = np.full(len(keep), np.nan)
    # bounds on the true geodesic distance from the projected one
    lo: dict[str, np.ndarray] = {}
    hi: dict[str, np.ndarray] = {}
    for m, d in raw.items():
        lo[m] = np.maximum(d - _DELTA_KM, 0.0) / plan.s_max * (1 - _REL_SLACK)
        hi[m] = (d + _DELTA_KM) / plan.s_min * (1 + _REL_SLACK)
        if m == "stranded":
            lo[m] = np.where(inside, 0.0, lo[m])
            hi[m] = np.where(inside, 0.0, hi[m])
            raw[m] = np.where(inside, 0.0, d)
    # flared gas within the radius: lower bound from a shrunk radius, upper from a grown one
    vol_est = vol_lo = vol_hi = np.full(len(keep), np.nan)
    if plan.flares_m is not None and plan.flare_vol is not None:
        r = plan.flare_radius_km
        r_hi = r * plan.s_max * (1 + _REL_SLACK) + _DELTA_KM
        r_lo = r * plan.s_min * (1 - _REL_SLACK)
        vols = np.nan_to_num(plan.flare_vol, nan=0.0)
        fi, ci = shapely.STRtree(pts).query(plan.flares_m, predicate="dwithin", distance=r_hi * 1000.0)
        fx, fy = shapely.get_x(plan.flares_m[fi]), shapely.get_y(plan.flares_m[fi])
        dd = np.hypot(fx - mx[ci], fy - my[ci]) / 1000.0
        vol_hi = np.bincount(ci, weights=vols[fi] * (dd <= r_hi), minlength=len(keep))
        vol_lo = np.bincount(ci, weights=vols[fi] * (dd <= r_lo), minlength=len(keep))
        vol_est = np.bincount(ci, weights=vols[fi] * (dd <= r), minlength=len(keep))
    mwb = plan.mw_per_bcm
    est = _scores_v(raw, vol_est * mwb, plan.weights, plan.power_pts)
    s_lo = _scores_v(hi, vol_lo * mwb, plan.weights, plan.power_pts)
    s_hi = _scores_v(lo, vol_hi * mwb, plan.weights, plan.power_pts)
    cols = {f"{m}_km": np.round(raw[m], 3) for m in _MEASURES}
    cols.update({"flare_volume_bcm": np.round(vol_est, 6), "score": np.round(est, 2),
                 "score_min": s_lo, "score_max": s_hi})
    for c, v in cols.items():
        out.iloc[keep, out.columns.get_loc(c)] = v
    out.iloc[keep, out.columns.get_loc("stranded_region")] = regions
    return out[list(_BAND_COLUMNS) + ["geometry"]]


def _prescreen_band(plan: _Plan, rows: tuple[int, int]) -> gpd.GeoDataFrame:
    return _measure_band(_band_cells(plan, rows), plan)


def _bands(plan: _Plan, partitions: int | None) -> list[tuple[int, int]]:
    gy0, gy1 = plan.region_grid.bounds[1], plan.region_grid.bounds[3]
    iy0, iy1 = int(math.floor(gy0 / plan.cell_m)), int(math.ceil(gy1 / plan.cell_m))
    rows = max(1, iy1 - iy0)
    if partitions is None:
        n_est = plan.region_grid.area / plan.cell_m ** 2
        partitions = max(1, min(rows, int(math.ceil(n_est / _BAND_CELLS))))
    if isinstance(partitions, bool) or not isinstance(partitions, int) or partitions < 1:
        raise ScreeningError(f"partitions = {partitions!r}: must be a whole number >= 1")
    partitions = min(partitions, rows)
    edges = np.linspace(iy0, iy1, partitions + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


# ---------------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    """One ranked cell: where, how good, why (one line), and its exact computed fields."""

    rank: int
    cell_id: str
    region: str
    lon: float
    lat: float
    score: float
    sub_scores: dict[str, float | None]
    reason: str
    fields: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Flat JSON-safe dict (for CSV/GeoPackage export and the CLI)."""
        out = {"rank": self.rank, "cell_id": self.cell_id, "region": self.region, "lon": self.lon,
               "lat": self.lat, "score": self.score, "reason": self.reason}
        out.update({f"score_{k}": v for k, v in self.sub_scores.items()})
        out.update(self.fields)
        return out


@dataclass
class ScreeningResult:
    """Cells (EPSG:4326 squares with score, bounds, exclusion), the top-N candidates and timing."""

    region: Region
    cell_km: float
    grid_crs: str
    engine: str
    weights: dict[str, float]
    cells: gpd.GeoDataFrame
    top: list[Candidate]
    timing_s: dict[str, float]
    n_refined: int
    bounds_violations: int = 0
    notes: list[str] = field(default_factory=list)
    min_spacing_km: float = 0.0

    @property
    def n_cells(self) -> int:
        """Cells in the region."""
        return len(self.cells)

    @property
    def n_excluded(self) -> int:
        """Cells removed by an exclusion layer."""
        return int(self.cells["excluded"].sum()) if len(self.cells) else 0

    def top_frame(self) -> gpd.GeoDataFrame:
        """The top-N candidates as EPSG:4326 points with every field (for export and map layers)."""
        rows = [c.to_dict() for c in self.top]
        geoms = [shapely.Point(c.lon, c.lat) for c in self.top]
        frame = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326") if rows else \
            gpd.GeoDataFrame({"rank": []}, geometry=gpd.GeoSeries([], crs="EPSG:4326"))
        if rows:
            frame.insert(1, "name", [f"#{c.rank} {c.cell_id} ({c.score:.1f})" for c in self.top])
        return frame


def _km(v: Any) -> str:
    return f"{float(v):.1f} km"


def _reason_line(fields: Mapping[str, Any], subs: Mapping[str, float | None], total: float,
                 radius_km: float) -> str:
    bits: list[str] = []
    # the line class that gives the grid score (best factor x distance curve; higher kV on ties)
    known = [(factor * piecewise_linear(float(fields[line_class_fields(kv)[0]]), DISTANCE_POINTS), kv) for kv, factor in
             LINE_CLASS_FACTORS if fields.get(line_class_fields(kv)[0]) is not None]
    if known:
        slot = max(known)[1]
        d_col, v_col, o_col, _ = line_class_fields(slot)
        desc = [x for x in (f"{fields[v_col]:g} kV" if fields.get(v_col) is not None else None,
                            fields.get(o_col)) if x]
        bits.append(f">={slot} kV line {_km(fields[d_col])}" + (f" ({', '.join(desc)})" if desc else ""))
    if fields.get("dist_substation_km") is not None:
        name, kv = fields.get("substation_name"), fields.get("substation_max_kv")
        extra = ", ".join(x for x in (name, f"{kv:g} kV" if kv is not None else None) if x)
        bits.append(f"substation {_km(fields['dist_substation_km'])}" + (f" ({extra})" if extra else ""))
    if fields.get("dist_fibre_km") is not None:
        net = fields.get("fibre_network")
        bits.append(f"fibre {_km(fields['dist_fibre_km'])}" + (f" ({net})" if net else ""))
    if fields.get("dist_pop_km") is not None:
        bits.append(f"PoP {_km(fields['dist_pop_km'])}")
    if fields.get("stranded_region"):
        bits.append(f"inside {fields['stranded_region']}")
    elif fields.get("dist_stranded_km") is not None:
        bits.append(f"stranded region {_km(fields['dist_stranded_km'])}")
    if fields.get("flare_count"):
        vol = fields.get("flare_volume_bcm")
        bits.append(f"{fields['flare_count']} flares" + (f" / {vol:.3f} bcm/yr" if vol is not None else "")
                    + f" within {radius_km:g} km")
    sub = " ".join(f"{k.split('_')[0]} {v:.0f}" for k, v in subs.items() if v is not None)
    return f"score {total:.1f} ({sub}): " + "; ".join(bits) if bits else f"score {total:.1f}: no layer data"


def candidate_site(candidate: Candidate, site_id: str, name: str | None = None) -> Site:
    """A new pipeline :class:`Site` at the candidate's cell centre carrying its computed fields."""
    admin1 = candidate.region if len(candidate.region) == 2 else None
    site = Site.create(site_id=site_id, name=name or f"Candidate {candidate.cell_id}", status="pipeline",
                       lon=candidate.lon, lat=candidate.lat, location_precision="approximate",
                       admin1=admin1, country="US" if admin1 else None,
                       notes=f"Screening candidate #{candidate.rank} (cell {candidate.cell_id}): {candidate.reason}")
    return site.with_computed({k: candidate.fields.get(k) for k in COMPUTED_FIELDS})


# ---------------------------------------------------------------------------------------------
# engines
# ---------------------------------------------------------------------------------------------
def _refine_chunk(points: gpd.GeoDataFrame, layers: Mapping[str, Any], config: ProximityConfig,
                  coverage: Mapping[str, Any]) -> pd.DataFrame:
    return compute_proximity(points, layers, config, coverage=coverage)


def _run_local(plan: _Plan, bands: list[tuple[int, int]], tick: Callable[[float], None]) -> list[gpd.GeoDataFrame]:
    parts = []
    for i, rows in enumerate(bands):
        parts.append(_prescreen_band(plan, rows))
        tick((i + 1) / len(bands))
    return parts


#: The optional packages ``engine="dask"`` needs (``pip install "site-conversion-planner[scale]"``).
DASK_MODULES: tuple[str, ...] = ("dask", "dask.dataframe", "distributed", "dask_geopandas")


def require_dask() -> None:
    """Raise :class:`ScreeningError` naming the install command when the dask stack is missing."""
    import importlib.util

    missing = []
    for name in DASK_MODULES:
        try:
            found = importlib.util.find_spec(name) is not None
        except ImportError:  # the parent package of "dask.dataframe" is itself missing
            found = False
        if not found:
            missing.append(name.split(".")[0].replace("_", "-"))
    if missing:
        raise ScreeningError(f"engine 'dask' needs {', '.join(dict.fromkeys(missing))}, which is not installed; "
                             "install the scale extra (pip install \"site-conversion-planner[scale]\", from a "
                             "checkout: pip install -e \".[scale]\") or run with --engine local")


class _Dask:
    """A distributed client for one screening run (closed afterwards when we opened it)."""

    def __init__(self, scheduler: Any):
        from distributed import Client, LocalCluster
        self.cluster = None
        self.own = True
        if scheduler is None:
            # light default for a 2-core laptop: one in-process worker, two threads (shapely/pyproj
            # release the GIL), no dashboard, no process start-up or pickling of the layers
            self.cluster = LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                        dashboard_address=None)
            self.client = Client(self.cluster)
        elif isinstance(scheduler, Client):
            self.client, self.own = scheduler, False
        elif isinstance(scheduler, str):
            try:
                self.client = Client(scheduler, timeout="10s")
            except OSError as e:
                raise ScreeningError(f"cannot reach the dask scheduler at {scheduler}: {e}. Start it with "
                                     "'dask scheduler' (and workers) or run with --engine local") from None
        elif hasattr(scheduler, "scheduler_address"):
            self.client = Client(scheduler)
        else:
            raise ScreeningError(f"scheduler {scheduler!r}: give a tcp://host:port address, a distributed "
                                 "Client or a LocalCluster")

    def close(self) -> None:
        if self.own:
            self.client.close()
            if self.cluster is not None:
                self.cluster.close()

    def gather(self, futures: list[Any], tick: Callable[[float], None]) -> list[Any]:
        from distributed import as_completed
        done = 0
        try:
            for _ in as_completed(futures):
                done += 1
                tick(done / len(futures))  # may raise TaskCancelled
        except BaseException:
            self.client.cancel(futures)
            raise
        return self.client.gather(futures)


def _run_dask(dk: _Dask, plan: _Plan, bands: list[tuple[int, int]],
              tick: Callable[[float], None]) -> list[gpd.GeoDataFrame]:
    import dask
    import dask.dataframe as dd
    import dask_geopandas  # noqa: F401 - registers the geopandas backend for the dask frames

    run = uuid.uuid4().hex
    # named keys: dask would otherwise hash (pickle) the layers to tokenize them, which costs more
    # than the screening itself; the plan is one graph key, shipped once per worker, not per band
    plan_d = dask.delayed(plan, name=f"screening-plan-{run}")
    spec = _GridSpec(plan.grid_wkt, plan.cell_m, plan.region_grid, plan.ix0, plan.ix1)
    cells = dd.from_map(_band_cells_for, bands, args=[spec], meta=_band_cells_meta(), enforce_metadata=False)
    measured = cells.map_partitions(_measure_band, plan_d, meta=_band_meta(), enforce_metadata=False)
    futures = dk.client.compute(measured.to_delayed())
    return list(dk.gather(futures, tick))


def _band_cells_for(rows: tuple[int, int], spec: _GridSpec) -> gpd.GeoDataFrame:
    return _band_cells(spec, tuple(rows))  # type: ignore[arg-type]


def _band_cells_meta() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"cell_id": pd.Series(dtype=object), "x": pd.Series(dtype=float),
                             "y": pd.Series(dtype=float), "lon": pd.Series(dtype=float),
                             "lat": pd.Series(dtype=float)}, geometry=gpd.GeoSeries([], crs="EPSG:4326"))


# ---------------------------------------------------------------------------------------------
# public entry point
# ---------------------------------------------------------------------------------------------
def check_inputs(cell_km: Any, top: Any) -> None:
    """Raise :class:`ScreeningError` for a cell size outside 0.5-500 km or a top N outside 1-10,000."""
    if isinstance(cell_km, bool) or not isinstance(cell_km, (int, float)) or not 0.5 <= float(cell_km) <= 500:
        raise ScreeningError(f"cell_km = {cell_km!r}: use a cell size between 0.5 and 500 km, e.g. 2")
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= 10_000:
        raise ScreeningError(f"top = {top!r}: ask for 1 to 10,000 candidates")


def default_min_spacing_km(cell_km: float) -> float:
    """Default minimum distance between top candidates: ``max(10 km, 5 x cell_km)``."""
    return max(10.0, 5.0 * float(cell_km))


def check_spacing(min_spacing_km: Any, cell_km: float) -> float:
    """The minimum candidate spacing in km (None = the default); :class:`ScreeningError` if not 0-5,000."""
    if min_spacing_km is None:
        return default_min_spacing_km(cell_km)
    if (isinstance(min_spacing_km, bool) or not isinstance(min_spacing_km, (int, float))
            or not 0.0 <= float(min_spacing_km) <= MAX_SPACING_KM):
        raise ScreeningError(f"min_spacing_km = {min_spacing_km!r}: use 0 (no spacing) to {MAX_SPACING_KM:,.0f} km, "
                             "e.g. 10")
    return float(min_spacing_km)


def screen(project: Any, region: Any, cell_km: float, top: int = 50, exclusions: Sequence[Any] = (),
           weights: Mapping[str, float] | None = None, progress: Callable[[float], None] | None = None,
           engine: str = "local", scheduler: Any = None, partitions: int | None = None, *,
           rules: StrandedRules = StrandedRules(), exact_all: bool = False,
           min_spacing_km: float | None = None) -> ScreeningResult:
    """Screen ``region`` of ``project`` on ``cell_km`` cells and return the exact top-``top`` candidates.

    Parameters
    ----------
    project
        A :class:`planner.gis.project.Project` (layers by kind; portfolio settings for the
        readiness weights profile, thresholds and proximity settings).
    region
        State code or name (``"TX"``), ``"CONUS"``, bbox (tuple or ``"minlon,minlat,maxlon,maxlat"``)
        or an EPSG:4326 (Multi)Polygon.
    cell_km
        Cell side in km (0.5-500).
    top
        How many candidates to return (1-10,000).
    exclusions
        Project layer names (or polygon GeoDataFrames, or ``(label, GeoDataFrame)``); cells touching
        any of their polygons are excluded, with the reason.
    weights
        Overrides of :func:`screening_weights` (``grid_proximity``, ``fibre_latency``, ``stranded_energy``).
    progress
        Called with the fraction done (0..1); may raise to cancel.
    engine
        ``"local"`` (this process) or ``"dask"`` (dask-geopandas on a distributed cluster).
    scheduler
        For ``engine="dask"``: None (in-process LocalCluster), ``"tcp://host:8786"``, a Client or a cluster.
    partitions
        Row bands the grid is split into (default: ~40,000 cells each).
    rules
        Flared gas to MW conversion.
    exact_all
        Run the exact proximity on every cell (slow; for checks on small regions).
    min_spacing_km
        Distinct places: a cell joins the top N only if it lies at least this far (geodesic) from
        every better candidate already in it (greedy, best first). None (default) =
        :func:`default_min_spacing_km` (``max(10 km, 5 x cell_km)``); 0 = no spacing (the
        top N may be neighbouring cells of one hot spot).

    Returns
    -------
    ScreeningResult

    Raises
    ------
    ScreeningError
        For an unknown region or engine, a bad resolution, weights or exclusion layer.
    """
    timing: dict[str, float] = {}
    t0 = time.perf_counter()
    if engine not in ENGINES:
        raise ScreeningError(f"engine {engine!r}: use one of {', '.join(ENGINES)}")
    if engine == "dask":
        require_dask()
    check_inputs(cell_km, top)
    spacing_km = check_spacing(min_spacing_km, cell_km)
    settings = project.portfolio.settings
    w = screening_weights(settings, weights)
    if isinstance(exclusions, (str, gpd.GeoDataFrame)):
        exclusions = [exclusions]
    reg = resolve_region(project, region)
    plan, config = _prepare(project, reg, float(cell_km), list(exclusions), w, rules)
    bands = _bands(plan, partitions)
    timing["prepare"] = time.perf_counter() - t0

    def stage(lo: float, hi: float) -> Callable[[float], None]:
        def tick(f: float) -> None:
            if progress is not None:
                progress(lo + (hi - lo) * min(1.0, max(0.0, f)))
        return tick

    stage(0, 0.05)(1.0)
    dk = _Dask(scheduler) if engine == "dask" else None
    try:
        t = time.perf_counter()
        parts = (_run_dask(dk, plan, bands, stage(0.05, 0.8)) if dk is not None
                 else _run_local(plan, bands, stage(0.05, 0.8)))
        frame = pd.concat(parts, ignore_index=True) if parts else _band_meta()
        for col in ("cell_id", "excluded_reason", "stranded_region"):  # dask hands back arrow strings
            frame[col] = pd.Series([None if v is None or v != v else str(v) for v in frame[col].tolist()],
                                   dtype=object, index=frame.index)
        frame["excluded"] = frame["excluded"].astype(bool)
        cells = gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326")
        timing["prescreen"] = time.perf_counter() - t
        t = time.perf_counter()
        candidates, n_refined, violations, notes = _refine(project, cells, plan, config, w, settings, top, rules,
                                                           exact_all, dk, stage(0.8, 0.98), reg, spacing_km)
        timing["refine"] = time.perf_counter() - t
    finally:
        if dk is not None:
            dk.close()
    t = time.perf_counter()
    cells = _cell_squares(cells, plan)
    timing["cells"] = time.perf_counter() - t
    timing["total"] = time.perf_counter() - t0
    stage(0.98, 1.0)(1.0)
    return ScreeningResult(region=reg, cell_km=float(cell_km), grid_crs=CRS.from_wkt(plan.grid_wkt).to_string(),
                           engine=engine, weights=w, cells=cells, top=candidates, timing_s=timing,
                           n_refined=n_refined, bounds_violations=violations, notes=notes,
                           min_spacing_km=spacing_km)


def _cell_squares(cells: gpd.GeoDataFrame, plan: _Plan) -> gpd.GeoDataFrame:
    half = plan.cell_m / 2
    x, y = cells["x"].to_numpy(), cells["y"].to_numpy()
    squares = gpd.GeoSeries(shapely.box(x - half, y - half, x + half, y + half), crs=CRS.from_wkt(plan.grid_wkt))
    out = cells.drop(columns=["x", "y", "geometry"])
    return gpd.GeoDataFrame(out, geometry=squares.to_crs(4326).values, crs="EPSG:4326")


class _Spaced:
    """Accepted candidates so far and the "is a cell closer than the spacing to one of them?" test."""

    def __init__(self, spacing_km: float, capacity: int):
        self.km = float(spacing_km)
        self.lon = np.empty(max(1, capacity))
        self.lat = np.empty(max(1, capacity))
        self.n = 0

    def near(self, lon: float, lat: float) -> bool:
        """True when an accepted candidate lies less than the spacing away (geodesic, WGS84)."""
        if self.km <= 0 or self.n == 0:
            return False
        alon, alat = self.lon[:self.n], self.lat[:self.n]
        # a geodesic is never shorter than the meridian arc between its latitudes (>= 110.574 km/deg)
        close = np.abs(alat - lat) * _KM_PER_DEG_LAT_MIN < self.km
        if not close.any():
            return False
        k = int(close.sum())
        _, _, d_m = _GEOD.inv(np.full(k, lon), np.full(k, lat), alon[close], alat[close])
        return bool((np.asarray(d_m) < self.km * 1000.0).any())

    def add(self, lon: float, lat: float) -> None:
        """Accept a candidate at (lon, lat)."""
        self.lon[self.n], self.lat[self.n] = lon, lat
        self.n += 1


def _scan(exact_order: Sequence[int], exact_score: Mapping[int, float], unref_order: np.ndarray,
          refined: np.ndarray, hi_key: np.ndarray, lon: np.ndarray, lat: np.ndarray, top: int,
          spacing_km: float, batch: int) -> tuple[list[int], list[int]]:
    """Greedy spacing over the exact ranking, with unrefined cells placed at their upper bound.

    Walks cells by score, highest first: exact cells by their exact score, unrefined ones at
    ``hi_key`` (upper bound plus margin; on ties they come first). An exact cell is accepted when
    no accepted cell lies within ``spacing_km``. An unrefined cell within the spacing of an
    accepted one is suppressed whatever its exact score (that candidate outscores it for sure);
    any other unrefined cell met before the ``top``-th acceptance is *blocking*: its exact score
    could change the answer. Returns (accepted positions, blocking positions, at most ``batch``);
    with no blocking cell the accepted list is exactly greedy spacing over every cell's exact score.
    """
    acc = _Spaced(spacing_km, top)
    accepted: list[int] = []
    blocking: list[int] = []
    i = j = 0
    n_e, n_u = len(exact_order), len(unref_order)
    while len(accepted) < top and len(blocking) < batch:
        while j < n_u and refined[unref_order[j]]:
            j += 1
        if i >= n_e and j >= n_u:
            break
        if j < n_u and (i >= n_e or hi_key[unref_order[j]] >= exact_score[exact_order[i]]):
            pos = int(unref_order[j])
            j += 1
            if not acc.near(lon[pos], lat[pos]):
                blocking.append(pos)   # provisional from here on: later acceptances may change
        else:
            pos = int(exact_order[i])
            i += 1
            if not acc.near(lon[pos], lat[pos]):
                accepted.append(pos)
                acc.add(lon[pos], lat[pos])
    return accepted, blocking


class _Refiner:
    """Exact ``compute_proximity`` + readiness scoring of cells, locally or on the dask client."""

    def __init__(self, project: Any, cells: gpd.GeoDataFrame, plan: _Plan, config: ProximityConfig,
                 w: Mapping[str, float], settings: Mapping[str, Any], rules: StrandedRules, dk: _Dask | None):
        self.cells, self.config, self.w, self.settings, self.rules, self.dk = cells, config, w, settings, rules, dk
        self.layers = project_layers(project)
        self.coverage = plan.coverage
        self.payload: list[Any] | None = None
        self.ids = cells["cell_id"].to_numpy()
        self.lo = cells["score_min"].to_numpy()
        self.hi = cells["score_max"].to_numpy()
        self.refined = np.zeros(len(cells), dtype=bool)
        self.scores: dict[int, tuple[float, dict[str, float | None], dict[str, Any]]] = {}
        self.violations = 0

    @property
    def n_refined(self) -> int:
        """Cells refined so far."""
        return int(self.refined.sum())

    def run(self, positions: np.ndarray, tick: Callable[[float], None]) -> None:
        """Exact fields and score of the cells at ``positions`` (row numbers of ``cells``)."""
        positions = np.sort(np.asarray(positions, dtype=int))
        pts = gpd.GeoDataFrame({"site_id": self.ids[positions]},
                               geometry=self.cells.geometry.to_numpy()[positions], crs="EPSG:4326")
        chunks = [pts.iloc[i:i + 2000] for i in range(0, len(pts), 2000)]
        if self.dk is not None:
            if self.payload is None:
                self.payload = self.dk.client.scatter([self.layers, self.config, self.coverage], broadcast=True,
                                                      hash=False)
            futures = [self.dk.client.submit(_refine_chunk, c, *self.payload, pure=False) for c in chunks]
            frames = self.dk.gather(futures, tick)
        else:
            frames = []
            for i, c in enumerate(chunks):
                frames.append(_refine_chunk(c, self.layers, self.config, self.coverage))
                tick((i + 1) / len(chunks))
        exact = pd.concat(frames)
        self.refined[positions] = True
        for pos, cid in zip(positions.tolist(), pts["site_id"]):
            fields = exact.loc[cid].to_dict()
            total, subs, _ = score_fields(fields, self.w, self.settings, self.rules, self.config.flare_radius_km)
            if total is None:
                continue
            if not np.isnan(self.lo[pos]) and not (self.lo[pos] - 0.01 <= total <= self.hi[pos] + 0.01):
                self.violations += 1
            self.scores[pos] = (float(total), subs, fields)


def _refine(project: Any, cells: gpd.GeoDataFrame, plan: _Plan, config: ProximityConfig, w: Mapping[str, float],
            settings: Mapping[str, Any], top: int, rules: StrandedRules, exact_all: bool, dk: _Dask | None,
            tick: Callable[[float], None], reg: Region, spacing_km: float = 0.0
            ) -> tuple[list[Candidate], int, int, list[str]]:
    """Exact top-N with greedy spacing; refines only the cells whose exact score could matter.

    Round 0 refines every cell whose upper bound reaches the N-th best lower bound (enough without
    spacing). Each further round runs :func:`_scan` over exact scores and upper bounds and refines
    its blocking cells, until there are none: then every unrefined cell either ranks below the
    N-th accepted candidate or lies within the spacing of an accepted candidate that outscores
    it, so the result equals greedy spacing over every cell's exact score (``exact_all``).
    """
    notes: list[str] = []
    ref = _Refiner(project, cells, plan, config, w, settings, rules, dk)
    excluded = cells["excluded"].to_numpy()
    ok = ~excluded & ~np.isnan(ref.lo)
    idx = np.flatnonzero(ok)
    capped = False
    if exact_all:
        short = np.flatnonzero(~excluded)
    elif len(idx) == 0:
        short = idx
    else:
        s_lo, s_hi = ref.lo[idx], ref.hi[idx]
        threshold = np.sort(s_lo)[::-1][min(top, len(s_lo)) - 1]
        reach = s_hi >= threshold - _REFINE_MARGIN
        short = idx[reach]
        if len(short) > MAX_REFINE_CELLS:
            order = np.lexsort((ref.ids[short], -s_hi[reach]))
            short = short[order[:MAX_REFINE_CELLS]]
            capped = True
    if len(short) == 0:
        tick(1.0)
        return [], 0, 0, notes + ["no cell has grid, fibre or stranded-energy data: add layers or choose "
                                  "another region"]
    lon, lat = cells["lon"].to_numpy(dtype=float), cells["lat"].to_numpy(dtype=float)
    hi_key = ref.hi + _REFINE_MARGIN
    unref_order = idx[np.argsort(-ref.hi[idx], kind="stable")]   # row order breaks ties: deterministic
    rnd = 0

    def round_tick(r: int) -> Callable[[float], None]:
        return lambda f: tick(1.0 - 0.5 ** r + 0.5 ** (r + 1) * f)

    ref.run(short, round_tick(rnd))
    batch = max(_REFINE_BATCH, 2 * top)
    while True:
        exact_order = sorted(ref.scores, key=lambda p: (-ref.scores[p][0], ref.ids[p]))
        exact_score = {p: ref.scores[p][0] for p in exact_order}
        accepted, blocking = _scan(exact_order, exact_score, unref_order, ref.refined, hi_key, lon, lat, top,
                                   spacing_km, batch)
        if not blocking:
            break
        room = MAX_REFINE_CELLS - ref.n_refined
        if room <= 0:
            capped = True
            accepted, _ = _scan(exact_order, exact_score, unref_order[:0], ref.refined, hi_key, lon, lat, top,
                                spacing_km, batch)
            break
        rnd += 1
        ref.run(np.asarray(blocking[:room]), round_tick(rnd))
    tick(1.0)
    if capped:
        notes.append(f"{MAX_REFINE_CELLS:,} cells refined out of more with overlapping score bounds "
                     "(many near-equal cells): the ranking below the refined set is approximate")
    if ref.violations:
        notes.append(f"{ref.violations} refined cells scored outside their pre-screen bounds: the shortlist may "
                     "have missed cells; rerun with exact_all=True on a smaller region")
    if spacing_km > 0 and len(accepted) < top:
        notes.append(f"only {len(accepted)} candidates at least {spacing_km:g} km apart: lower the minimum "
                     "spacing for more")
    score_col = cells.columns.get_loc("score")
    for pos, (total, _, _) in ref.scores.items():
        cells.iat[pos, score_col] = total  # the exact score replaces the estimate where it is known
    cells["score_exact"] = False
    cells.iloc[sorted(ref.scores), cells.columns.get_loc("score_exact")] = True
    out: list[Candidate] = []
    for rank, pos in enumerate(accepted, start=1):
        total, subs, fields = ref.scores[pos]
        clean = {k: (None if v is None or (isinstance(v, float) and math.isnan(v)) else v) for k, v in fields.items()}
        out.append(Candidate(rank, str(ref.ids[pos]), reg.code, float(lon[pos]), float(lat[pos]), float(total),
                             subs, _reason_line(clean, subs, float(total), config.flare_radius_km), clean))
    return out, ref.n_refined, ref.violations, notes
