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

Three stages, one set of rules
------------------------------
``compute_proximity`` (exact geodesic, what a site shows) costs ~3 ms per point on a dense grid:
CONUS at 1 km (7.8 M cells) would take ~6 hours. So:

1. *Raster pre-screen, every cell* (:mod:`planner.gis.prescreen`). The cells are the pixels of
   a raster in the grid CRS; each layer is sampled into it and
   ``scipy.ndimage.distance_transform_edt`` gives every cell of a band of rows its nearest
   marked pixel at once. That bounds the planar distance to within a pixel's half-diagonal
   plus half the sampling step; the projection's local point-scale range (pyproj Tissot axes
   over everything within reach of the cell) turns it into bounds on the geodesic distance,
   widened by ``delta`` (densifying lon/lat segments before projecting) and compute_proximity's
   own tolerance. Flared gas within the radius is a disk sum (FFT convolution) with the disk
   shrunk/grown by the same margins. Every sub-score is monotone in the distances and the
   flared-gas volume, so each cell gets a lower and an upper score bound
   (``score_min``/``score_max``) and an estimate (``score``). Bands carry a halo as wide as
   the criterion's curve reaches (60 km for lines, 300 km for PoPs): anything farther scores
   the same, so memory per band stays bounded.
2. *Tighten the pool.* With ``T`` the N-th best lower bound, only cells whose upper bound
   reaches ``T`` can be in the exact top N. For those, exact planar distances
   (``STRtree.query_nearest`` on the projected segments) give tighter bounds.
3. *Refine the shortlist.* Cells whose tightened upper bound still reaches the N-th best
   tightened lower bound get ``compute_proximity`` on their centres and are scored by
   :func:`score_fields`, i.e. the readiness criteria functions (``grid_proximity``,
   ``fibre_latency``, and ``power_scale`` for the flared gas) run on a synthetic
   :class:`~planner.model.site.Site` built from the cell's computed fields. The top N is
   therefore exact, not approximate; ``exact_all=True`` refines every cell instead.

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
Both engines run the same per-band function on the same row bands and give identical results.
``engine="local"`` computes the bands one after another and keeps them in this process;
``engine="dask"`` computes them as tasks on a ``distributed`` cluster (a light in-process
LocalCluster by default, ``workers=N`` local processes, or ``scheduler="tcp://host:8786"``)
and keeps them there: the client receives per-band summaries (counts, the band's top-N lower
bounds, the worker's peak memory) and the pool of cells the exact search asks for, never the
whole grid unless ``cells="all"`` asks for the full table.
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
from pyproj import CRS, Geod, Transformer

from planner.fmt import fmt_number, real_number
from planner.gis.crs import is_wgs84
from planner.gis.prescreen import (
    SamplePixels, ScaleField, disk_sums, geodesic_bounds, nearest_bounds, sample_points,
)
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
from planner.model.topology_zoo import network_text

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
#: Safety caps: refuse grids that would not fit a laptop, refine at most this many cells.
MAX_CELLS = 20_000_000
MAX_REFINE_CELLS = 20_000
_CONUS_BBOX = (-125.0, 24.0, -66.5, 49.5)
_NON_CONUS = {"AK", "HI", "PR", "VI", "GU", "AS", "MP"}
_DENSIFY_DEG = 0.1      # lon/lat segments split to <= 0.1 deg before projecting: chord error < 10 m
_DELTA_KM = 0.02        # absolute slack: densify chord error + float noise
_REL_SLACK = 0.005      # compute_proximity's stated worst-case over-estimate (0.5 % below 300 km)
_REFINE_MARGIN = 0.02   # exact scores are rounded to 0.01 and may exceed the bounds by 0.01 (mirror rounding)
_REFINE_CHUNK = 2000     # cells per exact-refine task
_REFINE_CHUNK_MIN = 100  # smallest chunk the dask engine splits a refine round into (one per worker thread)
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
        if real_number(value) is None or value < 0:
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
        parts.append((s, f"inside {region}" if region else f"stranded region {fmt_number(float(d), 'km')}"))
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


def _bbox_region(values: Sequence[float | str], text: str) -> Region:
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
_MEASURES = ("line_69", "line_138", "line_230", "line_345", "line_500", "substation", "fibre", "pop", "stranded")
_COVER_KIND = {"line_69": "transmission", "line_138": "transmission", "line_230": "transmission",
               "line_345": "transmission", "line_500": "transmission", "substation": "substations",
               "fibre": "fibre", "pop": "pops"}


def _curve_end_km(measure: str) -> float:
    """Distance beyond which the measure's score curve is flat (bounds beyond it cannot matter)."""
    return float({"fibre": FIBRE_ROUTE_POINTS[-1][0], "pop": POP_POINTS[-1][0]}.get(measure, DISTANCE_POINTS[-1][0]))


@dataclass
class _Plan:
    grid_wkt: str
    cell_m: float
    region_grid: Any           # region polygon in the grid CRS
    ix0: int
    ix1: int
    weights: dict[str, float]
    power_pts: list[tuple[float, float]]
    mw_per_bcm: float
    flare_radius_km: float
    scale: ScaleField
    pad_m: float               # the scale field covers this far (planar) around every cell
    feats: dict[str, _Feats] = field(default_factory=dict)       # source layer -> grid-CRS points and segments
    # measure -> (source, lowest key (line kV) or None, whether the measure has segments): the bands
    # sample each measure's features in their own window
    measures: dict[str, tuple[str, float | None, bool]] = field(default_factory=dict)
    stranded_ll: np.ndarray | None = None    # lon/lat polygons (inside test, as proximity)
    stranded_names: list[str | None] = field(default_factory=list)
    flares_xy: np.ndarray | None = None      # (n, 2) grid-CRS metres
    flare_vol: np.ndarray | None = None
    coverage: dict[str, Any] = field(default_factory=dict)
    exclusions: list[tuple[str, np.ndarray, list[str | None]]] = field(default_factory=list)

    def halo_px(self, reach_km: float) -> int:
        """Pixels a band's window must extend so that anything farther is beyond ``reach_km`` (geodesic)."""
        s_max = float(self.scale.smax.max())
        return int(math.ceil((reach_km / (1 - _REL_SLACK) * s_max + _DELTA_KM) * 1000.0 / self.cell_m)) + 1

    def trees(self) -> dict[str, shapely.STRtree]:
        """Per measure, an STRtree of its features as shapely points and 2-point segments (grid CRS, in
        :func:`_measured` order); the line classes are subsets of one set of line geometries."""
        built: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
        out = {}
        for m, (src, at_least, _) in self.measures.items():
            f = self.feats[src]
            if src not in built:
                geoms = np.concatenate([np.asarray(shapely.points(f.pts), dtype=object).reshape(-1),
                                        np.asarray(shapely.linestrings(f.segs), dtype=object).reshape(-1)])
                key = None if f.pt_key is None or f.seg_key is None else np.concatenate([f.pt_key, f.seg_key])
                built[src] = (geoms, key)
            geoms, key = built[src]
            out[m] = shapely.STRtree(geoms if at_least is None or key is None else geoms[key >= at_least])
        return out

    # Pickle geometry arrays as one vectorised WKB array each: shapely pickles geometries one by
    # one (~60 us each), which made shipping a national plan to dask slower than screening it.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if isinstance(state.get("stranded_ll"), np.ndarray):
            state["stranded_ll"] = _WKB(shapely.to_wkb(state["stranded_ll"]))
        state["exclusions"] = [(lbl, _WKB(shapely.to_wkb(g)), names) for lbl, g, names in self.exclusions]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        def load(v: Any) -> Any:
            return shapely.from_wkb(v.data) if isinstance(v, _WKB) else v
        state["stranded_ll"] = load(state.get("stranded_ll"))
        state["exclusions"] = [(lbl, load(g), names) for lbl, g, names in state["exclusions"]]
        self.__dict__.update(state)


@dataclass(frozen=True)
class _WKB:
    data: np.ndarray


@dataclass
class _Feats:
    """A source layer's features in the grid CRS as coordinates, in :func:`_measured` order.

    ``pts`` (n x 2) are point features, ``segs`` (m x 2 x 2) the 2-point segments of the densified
    lines and polygon rings; ``pt_key``/``seg_key`` the owner's key (line voltage) for subsets.
    """

    pts: np.ndarray
    segs: np.ndarray
    pt_key: np.ndarray | None = None
    seg_key: np.ndarray | None = None

    def subset(self, at_least: float | None) -> tuple[np.ndarray, np.ndarray]:
        """Points and segments whose key is at least ``at_least`` (all for None), in order."""
        if at_least is None or self.pt_key is None or self.seg_key is None:
            return self.pts, self.segs
        return self.pts[self.pt_key >= at_least], self.segs[self.seg_key >= at_least]

    def window_samples(self, cell_m: float, window: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray | None]:
        """Raster sample points of the features that can have a sample in pixel ``window`` (ix0, iy0, ix1, iy1)
        and each one's key: for any subset, the subsequence with key >= the subset's is, inside the
        window, exactly what sampling the whole subset gives (one pixel of margin for rounding)."""
        wx0, wy0, wx1, wy1 = window
        p = np.floor(self.pts / cell_m)
        kp = (p[:, 0] >= wx0) & (p[:, 0] < wx1) & (p[:, 1] >= wy0) & (p[:, 1] < wy1)
        lo = np.floor(self.segs.min(axis=1) / cell_m) - 1
        hi = np.floor(self.segs.max(axis=1) / cell_m) + 1
        ks = (lo[:, 0] < wx1) & (hi[:, 0] >= wx0) & (lo[:, 1] < wy1) & (hi[:, 1] >= wy0)
        xy, source = sample_points(self.pts[kp], self.segs[ks], cell_m)
        if self.pt_key is None or self.seg_key is None:
            return xy, None
        return xy, np.concatenate([self.pt_key[kp], self.seg_key[ks]])[source]


def _measured(geoms: np.ndarray, to_grid: Transformer, key: np.ndarray | None = None) -> _Feats:
    """Densify in lon/lat, project, and explode into points and 2-point segments (small tree items: fast nearest)."""
    dense = shapely.segmentize(geoms, _DENSIFY_DEG)
    parts, owner = shapely.get_parts(dense, return_index=True)
    types = shapely.get_type_id(parts)
    poly = np.isin(types, (3, 6))
    if poly.any():
        rings, ring_of = shapely.get_parts(shapely.boundary(parts[poly]), return_index=True)
        owner = np.concatenate([owner[~poly], owner[poly][ring_of]])
        parts = np.concatenate([parts[~poly], rings])
        types = shapely.get_type_id(parts)
    point = types == 0
    pxy, p_of = shapely.get_coordinates(parts[point], return_index=True)
    if len(pxy):
        pxy = np.column_stack(to_grid.transform(pxy[:, 0], pxy[:, 1]))
    coords, c_of = shapely.get_coordinates(parts[~point], return_index=True)
    xy = np.column_stack(to_grid.transform(coords[:, 0], coords[:, 1])) if len(coords) else coords
    same = c_of[1:] == c_of[:-1]
    segs = np.stack([xy[:-1][same], xy[1:][same]], axis=1) if same.any() else np.empty((0, 2, 2))
    if key is None:
        return _Feats(pxy.reshape(-1, 2), segs)
    return _Feats(pxy.reshape(-1, 2), segs, key[owner[point]][p_of], key[owner[~point]][c_of[:-1][same]])


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


def _scale_field(grid: CRS, region_grid: Any, reach_km: float) -> tuple[ScaleField, float]:
    """Scale field over the region grown by a pad that covers every geodesic up to ``reach_km`` long."""
    pad = reach_km * 1000.0 * 1.25
    for _ in range(3):
        fld = ScaleField(grid.to_wkt(), region_grid.bounds, pad)
        s_max = float(fld.smax.max())
        if not math.isfinite(s_max) or float(fld.smin.min()) <= 0:
            raise ScreeningError("region too large for one equal-area grid (it reaches the edge of the "
                                 "projection): split it into smaller regions")
        if pad >= reach_km * 1000.0 * s_max:
            return fld, pad
        pad = reach_km * 1000.0 * s_max * 1.05
    raise ScreeningError("region too large for one equal-area grid (scale distortion too high): split it")


def _prepare(project: Any, region: Region, cell_km: float, exclusions: Sequence[Any],
             weights: Mapping[str, float], rules: StrandedRules) -> tuple[_Plan, ProximityConfig]:
    settings = project.portfolio.settings
    config = ProximityConfig.from_settings(settings.get("proximity"))
    grid = _grid_crs(region)
    to_grid = Transformer.from_crs(4326, grid, always_xy=True)
    region_grid = shapely.transform(shapely.segmentize(region.geometry, _DENSIFY_DEG),
                                    lambda xy: np.column_stack(to_grid.transform(xy[:, 0], xy[:, 1])))
    cell_m = cell_km * 1000.0
    gx0, gy0, gx1, gy1 = region_grid.bounds
    n_est = region_grid.area / cell_m ** 2
    if n_est > MAX_CELLS:
        raise ScreeningError(f"{region.label} at {cell_km:g} km cells is ~{n_est:,.0f} cells, above the "
                             f"{MAX_CELLS:,} limit: use a coarser cell_km")
    reach = max(max(_curve_end_km(m) for m in _MEASURES), config.flare_radius_km) + 10.0
    scale, pad = _scale_field(grid, region_grid, reach)
    coverage = {k: v for k, v in project_coverage(project).items() if v is not None}
    for area in coverage.values():
        shapely.prepare(area)
    plan = _Plan(grid_wkt=grid.to_wkt(), cell_m=cell_m, region_grid=region_grid,
                 ix0=int(math.floor(gx0 / cell_m)), ix1=int(math.ceil(gx1 / cell_m)), weights=dict(weights),
                 power_pts=_power_pts(settings), mw_per_bcm=rules.mw_per_bcm_per_year,
                 flare_radius_km=config.flare_radius_km, scale=scale, pad_m=pad, coverage=coverage)
    layers = project_layers(project)
    lines = _kind_frame(layers, "transmission")
    if lines is not None:
        # every line once, keyed by voltage: each class is the subset at or above its threshold
        kv = np.nan_to_num(_voltage_kv(lines), nan=-1.0)
        plan.feats["lines"] = _measured(lines.geometry.to_numpy(), to_grid, kv)
        for slot, threshold in zip(VOLTAGE_CLASSES_KV, config.voltage_classes_kv):
            plan.measures[f"line_{slot}"] = ("lines", float(threshold), False)
    subs = _kind_frame(layers, "substations")
    if subs is not None:
        typ = _col(subs, "typ", "type", "substation")
        if typ is not None and subs[typ].astype(str).str.lower().isin(SUBSTATION_TYPES).any():
            subs = subs[subs[typ].astype(str).str.lower().isin(SUBSTATION_TYPES)]
        plan.feats["substation"] = _measured(subs.geometry.to_numpy(), to_grid)
    fibre = _kind_frame(layers, "fibre")
    if fibre is not None:
        plan.feats["fibre"] = _measured(fibre.geometry.to_numpy(), to_grid)
    pops = _kind_frame(layers, "pops")
    if pops is not None:
        plan.feats["pop"] = _measured(pops.geometry.to_numpy(), to_grid)
    stranded = _kind_frame(layers, "stranded")
    if stranded is not None:
        geoms = stranded.geometry.to_numpy()
        poly = np.isin(shapely.get_type_id(geoms), (3, 6))
        plan.stranded_ll = geoms[poly]
        for g in plan.stranded_ll:
            shapely.prepare(g)
        plan.feats["stranded"] = _measured(geoms, to_grid)
        name_col = _col(stranded, "region", "name")
        names = stranded[name_col].tolist() if name_col else [None] * len(stranded)
        plan.stranded_names = [None if n is None or str(n).strip() == "" else str(n).strip()
                               for n, p in zip(names, poly) if p]
    for m in ("substation", "fibre", "pop", "stranded"):
        if m in plan.feats:
            plan.measures[m] = (m, None, False)
    kept = {}
    for m, (src, at_least, _) in plan.measures.items():
        pts, segs = plan.feats[src].subset(at_least)
        if len(pts) or len(segs):   # a measure with no features has no bounds (as no layer)
            kept[m] = (src, at_least, bool(len(segs)))
    plan.measures = kept
    flares = _kind_frame(layers, "flares")
    if flares is not None:
        pts = flares.geometry.to_numpy()
        point = shapely.get_type_id(pts) == 0
        vol_col = _col(flares, "flr_volume_bcm", "volume_bcm")
        if point.any() and vol_col:
            xy = shapely.get_coordinates(pts[point])
            plan.flares_xy = np.column_stack(to_grid.transform(xy[:, 0], xy[:, 1]))
            plan.flare_vol = np.nan_to_num(pd.to_numeric(flares.loc[point, vol_col], errors="coerce")
                                           .to_numpy(dtype=float), nan=0.0)
    plan.exclusions = [_exclusion(project, item, i, to_grid) for i, item in enumerate(exclusions)]
    return plan, config


def _exclusion(project: Any, item: Any, i: int, to_grid: Transformer) -> tuple[str, np.ndarray, list[str | None]]:
    if isinstance(item, str):
        layer = project.layers.get(item)
        if layer is None:
            known = ", ".join(project.layers) or "none"
            raise ScreeningError(f"exclusion layer {item!r}: not in the project; use one of: {known}")
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
    names: list[str | None] = [None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
                               for v in (gdf[name_col].tolist() if name_col else [None] * len(gdf))]
    geoms = shapely.transform(shapely.segmentize(gdf.geometry.to_numpy(), _DENSIFY_DEG),
                              lambda xy: np.column_stack(to_grid.transform(xy[:, 0], xy[:, 1])))
    return label, geoms, names




# ---------------------------------------------------------------------------------------------
# the per-band pre-screen (the function both engines map over the bands)
# ---------------------------------------------------------------------------------------------
_TABLE_COLUMNS = (["cell_id", "lon", "lat", "excluded", "excluded_reason", "stranded_region"]
                  + [f"{m}_km" for m in _MEASURES] + ["flare_volume_bcm", "score", "score_min", "score_max"])
_PREPARE_LOCK = threading.Lock()


#: Per-cell columns of a band (``km`` is per measure and cell, handled apart).
_BAND_COLUMNS = ("gx", "gy", "lon", "lat", "excluded", "excluded_reason", "stranded_region", "flare_volume_bcm",
                 "score", "score_min", "score_max")


@dataclass
class _Band:
    """Pre-screen of one band of grid rows: compact columns, one entry per cell of the region, row-major.

    ``km`` holds the estimated distance per measure (planar, grid CRS; NaN: no data, outside the
    layer's coverage, or beyond the distance where the criterion's curve is flat). ``row`` is the
    cell's row number in the whole table (set on selections).
    """

    gx: np.ndarray
    gy: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    excluded: np.ndarray
    excluded_reason: np.ndarray
    stranded_region: np.ndarray
    km: np.ndarray
    flare_volume_bcm: np.ndarray
    score: np.ndarray
    score_min: np.ndarray
    score_max: np.ndarray
    row: np.ndarray | None = None
    peak_mb: float = 0.0
    where: str = "local"
    cpu_s: float = 0.0       # CPU seconds the band took (its thread's): the work, whatever the machine's load

    @classmethod
    def blank(cls, gx: np.ndarray, gy: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> _Band:
        n = len(gx)
        nan = np.full(n, np.nan)
        return cls(gx.astype(np.int32), gy.astype(np.int32), lon, lat, np.zeros(n, dtype=bool),
                   np.full(n, None, dtype=object), np.full(n, None, dtype=object),
                   np.full((len(_MEASURES), n), np.nan, dtype=np.float32), nan.copy(), nan.copy(), nan.copy(),
                   nan.copy())

    def __len__(self) -> int:
        return len(self.gx)

    def take(self, idx: np.ndarray, offset: int | None = None) -> _Band:
        """The cells at positions ``idx``; ``offset`` (this band's first table row) sets ``row``."""
        cols: dict[str, Any] = {k: getattr(self, k)[idx] for k in _BAND_COLUMNS}
        out = _Band(**cols, km=self.km[:, idx])
        out.row = (offset + idx.astype(np.int64)) if offset is not None else (
            None if self.row is None else self.row[idx])
        return out

    @classmethod
    def concat(cls, bands: Sequence[_Band]) -> _Band:
        """One band of all cells of ``bands``, in order."""
        if not bands:
            e = np.empty(0)
            return cls.blank(e.astype(np.int32), e.astype(np.int32), e, e)
        cols: dict[str, Any] = {k: np.concatenate([getattr(b, k) for b in bands]) for k in _BAND_COLUMNS}
        out = cls(**cols, km=np.concatenate([b.km for b in bands], axis=1))
        rows = [b.row for b in bands if b.row is not None]
        if len(rows) == len(bands):
            out.row = np.concatenate(rows)
        return out

    def rows(self) -> np.ndarray:
        """The cells' row numbers in the whole table (set on every selection the search keeps)."""
        if self.row is None:
            raise AssertionError("band without row numbers: take() it with an offset first")
        return self.row

    def ids(self) -> np.ndarray:
        """Cell ids (``E<ix>N<iy>``, W/S for negative indices): the same cell has the same id in every run."""
        return np.array([f"{'W' if a < 0 else 'E'}{abs(a)}{'S' if b < 0 else 'N'}{abs(b)}"
                         for a, b in zip(self.gx.tolist(), self.gy.tolist())], dtype=object)

    def summary(self, top: int) -> dict[str, Any]:
        """Counts, the ``top`` best lower bounds and where/how much memory it took (small: sent to the client)."""
        ok = ~self.excluded & ~np.isnan(self.score_min)
        lo = np.sort(self.score_min[ok])[::-1][:top]
        return {"n": len(self), "n_excluded": int(self.excluded.sum()), "top_lo": lo, "peak_mb": self.peak_mb,
                "where": self.where, "cpu_s": self.cpu_s}

    def select(self, level: float, offset: int, nodata: bool) -> _Band:
        """Cells not excluded whose upper bound (plus the refine margin) reaches ``level`` (all with ``nodata``)."""
        keep = ~self.excluded
        if not nodata:
            keep &= ~np.isnan(self.score_min) & (self.score_max + _REFINE_MARGIN >= level)
        return self.take(np.flatnonzero(keep), offset)


def _peak_mb() -> float:
    """Peak RSS of this process (MB).

    ``VmHWM`` where there is one (Linux): ``ru_maxrss`` survives ``exec``, so a dask worker spawned
    from a client holding 800 MB would report the client's 800 MB however little it used.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _where() -> str:
    import sys
    if sys.modules.get("distributed") is None:   # the local engine never imports it (or it is blocked)
        return "local"
    from distributed import get_worker
    try:
        return str(get_worker().address)
    except ValueError:
        return "local"


def _excluded(plan: _Plan, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Reason per cell ("excluded: touches <layer> (<feature>)") or None: the cell square touches a polygon."""
    n = len(x)
    reason = np.full(n, None, dtype=object)
    if not plan.exclusions or not n:
        return reason
    half = plan.cell_m / 2
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
    return reason


def _stranded_inside(plan: _Plan, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which cells lie inside a stranded-energy polygon (as proximity tests it) and the region names."""
    inside = np.zeros(len(lon), dtype=bool)
    regions = np.full(len(lon), None, dtype=object)
    if plan.stranded_ll is None or not len(plan.stranded_ll):
        return inside, regions
    names: dict[int, list[str]] = {}
    for poly, nm in zip(plan.stranded_ll, plan.stranded_names):
        with _PREPARE_LOCK:
            shapely.prepare(poly)
        hit = np.flatnonzero(shapely.intersects_xy(poly, lon, lat))
        inside[hit] = True
        if nm:
            for a in hit.tolist():
                if nm not in names.setdefault(a, []):
                    names[a].append(nm)
    for a, nms in names.items():
        regions[a] = "; ".join(nms)
    return inside, regions


def _bounds_to_scores(plan: _Plan, lo_m: Mapping[str, np.ndarray], hi_m: Mapping[str, np.ndarray],
                      est_km: Mapping[str, np.ndarray], lon: np.ndarray, lat: np.ndarray, x: np.ndarray,
                      y: np.ndarray, vol: tuple[np.ndarray, np.ndarray, np.ndarray]) -> dict[str, Any]:
    """Geodesic distance bounds, coverage and stranded-inside rules, then score bounds, for some cells.

    ``lo_m``/``hi_m``: planar distance bounds in m per measure (absent: no such layer);
    ``est_km``: estimates; ``vol``: flared gas (lower bound, estimate, upper bound; NaN = no data).
    """
    n = len(lon)
    s_min, s_max = plan.scale.at(x, y)
    inside, regions = _stranded_inside(plan, lon, lat)
    nan = np.full(n, np.nan)
    lo: dict[str, np.ndarray] = {}
    hi: dict[str, np.ndarray] = {}
    est: dict[str, np.ndarray] = {}
    covered: dict[str, np.ndarray] = {}
    for m in _MEASURES:
        if m not in lo_m:
            lo[m] = hi[m] = est[m] = nan
            continue
        lo[m], hi[m] = geodesic_bounds(lo_m[m], hi_m[m], s_min, s_max, plan.pad_m, _DELTA_KM, _REL_SLACK)
        est[m] = np.asarray(est_km[m], dtype=float)
        kind = _COVER_KIND.get(m)
        area = plan.coverage.get(kind) if kind else None
        if kind is not None and area is not None:   # outside a layer's stated coverage the distance is unknown
            if kind not in covered:
                covered[kind] = shapely.intersects_xy(area, lon, lat)
            for d in (lo, hi, est):
                d[m] = np.where(covered[kind], d[m], np.nan)
        if m == "stranded":
            lo[m], hi[m], est[m] = (np.where(inside, 0.0, d[m]) for d in (lo, hi, est))
    mwb = plan.mw_per_bcm
    v_lo, v_est, v_hi = vol
    return {"km": est, "stranded_region": regions, "flare_volume_bcm": np.round(v_est, 6),
            "score": np.round(_scores_v(est, v_est * mwb, plan.weights, plan.power_pts), 2),
            "score_min": _scores_v(hi, v_lo * mwb, plan.weights, plan.power_pts),
            "score_max": _scores_v(lo, v_hi * mwb, plan.weights, plan.power_pts)}


def _flare_radii_m(plan: _Plan, s_min: np.ndarray, s_max: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Planar radii: a flare within the lower one is within the exact radius, one within it is within the upper."""
    r = plan.flare_radius_km * 1000.0
    return r * s_min * (1 - _REL_SLACK), r * s_max * (1 + _REL_SLACK) + _DELTA_KM * 1000.0


def _raster_band(plan: _Plan, rows: tuple[int, int]) -> _Band:
    """Cells of grid rows ``rows`` (iy from, to) inside the region, with exclusions and score bounds."""
    cpu0 = time.thread_time()
    c = plan.cell_m
    mesh_x, mesh_y = np.meshgrid(np.arange(plan.ix0, plan.ix1, dtype=np.int64),
                                 np.arange(rows[0], rows[1], dtype=np.int64))
    gx, gy = mesh_x.ravel(), mesh_y.ravel()
    x, y = (gx + 0.5) * c, (gy + 0.5) * c
    with _PREPARE_LOCK:  # worker threads share the geometry; GEOS prepare is not thread-safe
        shapely.prepare(plan.region_grid)
    inside = shapely.contains_xy(plan.region_grid, x, y)
    gx, gy, x, y = gx[inside], gy[inside], x[inside], y[inside]
    lon, lat = Transformer.from_crs(CRS.from_wkt(plan.grid_wkt), 4326, always_xy=True).transform(x, y)
    band = _Band.blank(gx, gy, np.round(lon, 6), np.round(lat, 6))
    band.excluded_reason = _excluded(plan, x, y)
    band.excluded = band.excluded_reason != None  # noqa: E711
    keep = np.flatnonzero(~band.excluded)
    if len(keep):
        kx, ky = gx[keep], gy[keep]
        box = (int(kx.min()), int(ky.min()), int(kx.max()) + 1, int(ky.max()) + 1)
        lo_m: dict[str, np.ndarray] = {}
        hi_m: dict[str, np.ndarray] = {}
        raw: dict[tuple[str, tuple[int, int, int, int]], tuple[SamplePixels, np.ndarray | None]] = {}
        for m, (src, at_least, has_segs) in plan.measures.items():
            h = plan.halo_px(_curve_end_km(m))
            window = (box[0] - h, box[1] - h, box[2] + h, box[3] + h)
            if (src, window) not in raw:   # the line classes share one sampling (and sort) of the lines
                xy, key = plan.feats[src].window_samples(c, window)
                raw[(src, window)] = (SamplePixels(xy, c), key)
            pixels, key = raw[(src, window)]
            samples = pixels.first(key >= at_least if at_least is not None and key is not None else None,
                                   c / 2.0 if has_segs else 0.0)
            lo_m[m], hi_m[m] = nearest_bounds(samples, c, window, kx, ky)
        del raw
        nan = np.full(len(keep), np.nan)
        vol = (nan, nan, nan)
        if plan.flares_xy is not None and plan.flare_vol is not None:
            s_min, s_max = plan.scale.at(x[keep], y[keep])
            r_lo, r_hi = _flare_radii_m(plan, s_min, s_max)
            h = int(math.ceil(float(r_hi.max()) / c)) + 2
            sums = disk_sums(np.floor(plan.flares_xy[:, 0] / c).astype(np.int64),
                             np.floor(plan.flares_xy[:, 1] / c).astype(np.int64), plan.flare_vol, c,
                             (box[0] - h, box[1] - h, box[2] + h, box[3] + h), kx, ky,
                             {"lo": (float(r_lo.min()), "lo"), "est": (plan.flare_radius_km * 1000.0, "centre"),
                              "hi": (float(r_hi.max()), "hi")})
            vol = (sums["lo"], sums["est"], sums["hi"])
        est_km = {m: v / 1000.0 for m, v in hi_m.items()}   # to a real point of the feature (inf: none near)
        cols = _bounds_to_scores(plan, lo_m, hi_m, est_km, band.lon[keep], band.lat[keep], x[keep], y[keep], vol)
        for i, m in enumerate(_MEASURES):
            v = cols["km"][m]
            band.km[i, keep] = np.round(np.where(v <= _curve_end_km(m), v, np.nan), 3)
        band.stranded_region[keep] = cols["stranded_region"]
        for k in ("flare_volume_bcm", "score", "score_min", "score_max"):
            getattr(band, k)[keep] = cols[k]
    band.peak_mb, band.where, band.cpu_s = _peak_mb(), _where(), time.thread_time() - cpu0
    return band


def _nearest_m(tree: shapely.STRtree, pts: np.ndarray) -> np.ndarray:
    (src, _), dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
    out = np.full(len(pts), np.nan)
    out[src] = dist
    return out


def _vector_bounds(plan: _Plan, pool: _Band, trees: Mapping[str, shapely.STRtree]) -> tuple[np.ndarray, np.ndarray]:
    """Score bounds from exact planar distances (STRtree per measure) for a few cells: tighter than the raster's."""
    c = plan.cell_m
    x, y = (pool.gx + 0.5) * c, (pool.gy + 0.5) * c
    pts = shapely.points(x, y)
    d = {m: _nearest_m(trees[m], pts) for m in plan.measures}
    nan = np.full(len(pool), np.nan)
    vol = (nan, nan, nan)
    if plan.flares_xy is not None and plan.flare_vol is not None:
        s_min, s_max = plan.scale.at(x, y)
        r_lo, r_hi = _flare_radii_m(plan, s_min, s_max)
        fi, ci = shapely.STRtree(pts).query(shapely.points(plan.flares_xy), predicate="dwithin",
                                            distance=float(r_hi.max()))
        dd = np.hypot(plan.flares_xy[fi, 0] - x[ci], plan.flares_xy[fi, 1] - y[ci])
        vols = plan.flare_vol[fi]
        vol = (np.bincount(ci, weights=vols * (dd <= r_lo[ci]), minlength=len(pool)), nan,
               np.bincount(ci, weights=vols * (dd <= r_hi[ci]), minlength=len(pool)))
    cols = _bounds_to_scores(plan, d, d, {m: v / 1000.0 for m, v in d.items()}, pool.lon, pool.lat, x, y, vol)
    return cols["score_min"], cols["score_max"]


_BAND_PIXELS = 2_500_000   # grid cells per band by default (the rasters add a halo): memory stays bounded


def _bands(plan: _Plan, partitions: int | None, at_least: int = 1) -> list[tuple[int, int]]:
    gy0, gy1 = plan.region_grid.bounds[1], plan.region_grid.bounds[3]
    iy0, iy1 = int(math.floor(gy0 / plan.cell_m)), int(math.ceil(gy1 / plan.cell_m))
    rows = max(1, iy1 - iy0)
    if partitions is None:
        partitions = max(at_least, int(math.ceil(rows * (plan.ix1 - plan.ix0) / _BAND_PIXELS)))
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
    """The top-N candidates, the screened cells (EPSG:4326 squares with score, bounds, exclusion) and timing.

    ``cells`` is built on first access from compact columns. With ``screen(..., cells="all")`` it
    holds every cell of the region; with ``cells="pool"`` only the cells the exact search looked at
    (those whose upper bound reached the candidates' level), so a national run never holds
    millions of polygons. ``n_cells``/``n_excluded`` always count the whole region.
    ``worker_memory_mb``: peak RSS (MB) of each process that ran pre-screen bands;
    ``worker_cpu_s``: the CPU seconds of the pre-screen bands each of them ran (the work it did,
    however loaded the machine), ``worker_bands``: how many bands.
    """

    region: Region
    cell_km: float
    grid_crs: str
    engine: str
    weights: dict[str, float]
    top: list[Candidate]
    timing_s: dict[str, float]
    n_refined: int
    n_cells: int
    n_excluded: int
    bounds_violations: int = 0
    notes: list[str] = field(default_factory=list)
    min_spacing_km: float = 0.0
    cells_scope: str = "all"
    worker_memory_mb: dict[str, float] = field(default_factory=dict)
    worker_cpu_s: dict[str, float] = field(default_factory=dict)
    worker_bands: dict[str, int] = field(default_factory=dict)
    cells_builder: Callable[[], gpd.GeoDataFrame] | None = field(default=None, repr=False, compare=False)
    _cells: gpd.GeoDataFrame | None = field(default=None, repr=False, compare=False)

    @property
    def cells(self) -> gpd.GeoDataFrame:
        """The screened cells (see the class docstring), built once on first access."""
        if self._cells is None:
            if self.cells_builder is None:
                raise ScreeningError("screening result has no cell table")
            self._cells, self.cells_builder = self.cells_builder(), None
        return self._cells

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
    return fmt_number(float(v), "km")  # the digits the form, report and readiness reasons use


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
        net = network_text(str(net)) if net else None
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
# engines: where the bands are computed and kept
# ---------------------------------------------------------------------------------------------
def _refine_chunk(points: gpd.GeoDataFrame, layers: Mapping[str, Any], config: ProximityConfig,
                  coverage: Mapping[str, Any]) -> pd.DataFrame:
    return compute_proximity(points, layers, config, coverage=coverage)


def _band_summary(band: _Band, top: int) -> dict[str, Any]:
    return band.summary(top)


def _band_select(band: _Band, level: float, offset: int, nodata: bool) -> _Band:
    return band.select(level, offset, nodata)


class _LocalParts:
    """The pre-screen bands, computed one after another and kept in this process."""

    def __init__(self, plan: _Plan, bands: list[tuple[int, int]], tick: Callable[[float], None]):
        self.bands: list[_Band] = []
        for i, rows in enumerate(bands):
            self.bands.append(_raster_band(plan, rows))
            tick((i + 1) / len(bands))

    def summaries(self, top: int) -> list[dict[str, Any]]:
        return [b.summary(top) for b in self.bands]

    def select(self, level: float, offsets: Sequence[int], nodata: bool) -> _Band:
        return _Band.concat([b.select(level, o, nodata) for b, o in zip(self.bands, offsets)])

    def gather(self) -> _Band:
        return _Band.concat(self.bands)


class _DaskParts:
    """The pre-screen bands, computed and kept on the dask workers.

    The client only ever receives per-band summaries (counts, the top-N lower bounds, memory) and
    the selections the exact search asks for (cells whose upper bound reaches a level); the whole
    table comes back only for ``cells="all"``.
    """

    def __init__(self, dk: _Dask, plan: _Plan, bands: list[tuple[int, int]]):
        client = dk.client
        self.dk = dk
        run = uuid.uuid4().hex
        # one scatter to every worker: dask would otherwise hash (pickle) the plan to name each task;
        # the features travel as coordinate arrays (each band samples its own window of them)
        plan_f = client.scatter(plan, broadcast=True, hash=False)
        self.futures = dk.spread(_raster_band, [(plan_f, rows) for rows in bands],
                                 [f"screening-band-{run}-{i}" for i in range(len(bands))])

    def wait(self, tick: Callable[[float], None]) -> None:
        """Wait until every band is computed (they stay on the workers)."""
        self.dk.wait(self.futures, tick)

    def summaries(self, top: int) -> list[dict[str, Any]]:
        client = self.dk.client
        return list(client.gather([client.submit(_band_summary, f, top, pure=False) for f in self.futures]))

    def select(self, level: float, offsets: Sequence[int], nodata: bool) -> _Band:
        client = self.dk.client
        parts = client.gather([client.submit(_band_select, f, level, o, nodata, pure=False)
                               for f, o in zip(self.futures, offsets)])
        return _Band.concat(parts)

    def gather(self) -> _Band:
        return _Band.concat(self.dk.client.gather(self.futures))


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

    def __init__(self, scheduler: Any, workers: int | None = None):
        try:
            from distributed import Client, LocalCluster
        except ImportError as e:
            raise ScreeningError(f"engine 'dask' needs dask and distributed ({e.name} is missing): install the "
                                 "scale extra, pip install 'site-conversion-planner[scale]', or use engine "
                                 "'local'") from None
        self.cluster = None
        self.own = True
        if scheduler is None and workers:
            import dask
            # distributed spawns its workers with MALLOC_TRIM_THRESHOLD_=65536, which switches off
            # glibc's adaptive mmap threshold: every temporary array of a band (8 MB per million
            # cells) is then mmap'ed and page-faulted afresh, ~1.5x the CPU of the same band here
            with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
                self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                            dashboard_address=None)
            self.client = Client(self.cluster)
        elif scheduler is None:
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

    @classmethod
    def start(cls, scheduler: Any, workers: int | None) -> _DaskStart:
        """Connect (or start a LocalCluster) in a background thread: the workers spawn and import the
        stack while this process prepares the plan (:meth:`_DaskStart.result` waits for it)."""
        return _DaskStart(scheduler, workers)

    def warm(self) -> None:
        """Import the pre-screen stack on every worker now, not in its first band."""
        self.client.run(_warm_worker)

    def spread(self, fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]],
               keys: Sequence[str] | None = None) -> list[Any]:
        """Submit ``fn(*args)`` for each ``calls`` item, round-robin over the workers (any may steal):
        tasks submitted together otherwise often all land on one worker (bands, refine chunks)."""
        workers = sorted(self.client.scheduler_info()["workers"]) or [None]
        return [self.client.submit(fn, *args, key=keys[i] if keys else None, pure=keys is not None,
                                   workers=workers[i % len(workers)], allow_other_workers=True)
                for i, args in enumerate(calls)]

    def threads(self) -> int:
        """Worker threads in the cluster (at least 1)."""
        return max(1, int(sum(self.client.nthreads().values())))

    def close(self) -> None:
        if self.own:
            self.client.close()
            if self.cluster is not None:
                self.cluster.close()

    def wait(self, futures: list[Any], tick: Callable[[float], None]) -> None:
        """Wait for ``futures`` (results stay on the workers), ticking progress; a failed task raises."""
        from distributed import as_completed
        done = 0
        try:
            for f in as_completed(futures):
                if f.status == "error":
                    f.result()   # raises the task's exception here
                done += 1
                tick(done / len(futures))  # may raise TaskCancelled
        except BaseException:
            self.client.cancel(futures)
            raise

    def gather(self, futures: list[Any], tick: Callable[[float], None]) -> list[Any]:
        self.wait(futures, tick)
        return list(self.client.gather(futures))


def _warm_worker() -> None:
    import scipy.fft  # noqa: F401  (disk sums)
    import scipy.ndimage  # noqa: F401  (distance transforms)

    import planner.gis.proximity  # noqa: F401  (the exact refine)


class _DaskStart:
    """A :class:`_Dask` being made in a background thread (cluster start, worker imports)."""

    def __init__(self, scheduler: Any, workers: int | None):
        from concurrent.futures import ThreadPoolExecutor
        pool = ThreadPoolExecutor(1, thread_name_prefix="screening-dask-start")
        self.future = pool.submit(self._make, scheduler, workers)
        pool.shutdown(wait=False)

    @staticmethod
    def _make(scheduler: Any, workers: int | None) -> _Dask:
        dk = _Dask(scheduler, workers)
        try:
            dk.warm()
        except BaseException:
            dk.close()
            raise
        return dk

    def result(self) -> _Dask:
        """The connected client (raises what connecting raised)."""
        return self.future.result()

    def abandon(self) -> None:
        """Close the cluster once it is up (the run failed before using it)."""
        try:
            self.future.result().close()
        except Exception:  # noqa: BLE001  (the run's own error is the one to report)
            pass


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
           min_spacing_km: float | None = None, cells: str = "all", workers: int | None = None) -> ScreeningResult:
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
        ``"local"`` (this process) or ``"dask"`` (bands computed and kept on a distributed cluster).
    scheduler
        For ``engine="dask"``: None (a LocalCluster), ``"tcp://host:8786"``, a Client or a cluster.
    partitions
        Row bands the grid is split into (default: ~2.5 M grid cells each, and at least one per
        dask worker thread).
    rules
        Flared gas to MW conversion.
    exact_all
        Run the exact proximity on every cell (slow; for checks on small regions).
    min_spacing_km
        Distinct places: a cell joins the top N only if it lies at least this far (geodesic) from
        every better candidate already in it (greedy, best first). None (default) =
        :func:`default_min_spacing_km` (``max(10 km, 5 x cell_km)``); 0 = no spacing (the
        top N may be neighbouring cells of one hot spot).
    cells
        ``"all"`` (default): ``result.cells`` holds every cell of the region; ``"pool"``: only the
        cells the exact search looked at (national runs: the whole table never reaches the client).
    workers
        For ``engine="dask"`` without a scheduler: start a LocalCluster of this many worker
        processes (one thread each) instead of the light in-process default.

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
    if cells not in ("all", "pool"):
        raise ScreeningError(f"cells = {cells!r}: use 'all' (every cell) or 'pool' (only the cells the search used)")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 256):
        raise ScreeningError(f"workers = {workers!r}: give a number of dask worker processes from 1 to 256")
    check_inputs(cell_km, top)
    spacing_km = check_spacing(min_spacing_km, cell_km)
    settings = project.portfolio.settings
    w = screening_weights(settings, weights)
    if isinstance(exclusions, (str, gpd.GeoDataFrame)):
        exclusions = [exclusions]
    reg = resolve_region(project, region)

    def stage(lo: float, hi: float) -> Callable[[float], None]:
        def tick(f: float) -> None:
            if progress is not None:
                progress(lo + (hi - lo) * min(1.0, max(0.0, f)))
        return tick

    starting = _Dask.start(scheduler, workers) if engine == "dask" else None
    try:
        plan, config = _prepare(project, reg, float(cell_km), list(exclusions), w, rules)
        timing["prepare"] = time.perf_counter() - t0
        stage(0, 0.05)(1.0)   # may raise to cancel
    except BaseException:
        if starting is not None:
            starting.abandon()   # closes the cluster once it is up
        raise
    t = time.perf_counter()
    dk = starting.result() if starting is not None else None
    timing["cluster"] = time.perf_counter() - t   # waiting for the cluster once the plan is ready
    try:
        t = time.perf_counter()
        bands = _bands(plan, partitions, dk.threads() if dk is not None else 1)
        ref = _Refiner(project, plan, config, w, settings, rules, dk)
        tight = _Tightener(plan)
        parts: _LocalParts | _DaskParts
        if dk is not None:
            parts = _DaskParts(dk, plan, bands)
            ref.ship()      # while the workers run the bands: the exact refine's layers travel,
            tight.index()   # and this process builds the trees the pool's tightening queries
            parts.wait(stage(0.05, 0.8))
        else:
            parts = _LocalParts(plan, bands, stage(0.05, 0.8))
        stats = parts.summaries(top)
        timing["prescreen"] = time.perf_counter() - t
        t = time.perf_counter()
        found = _search(parts, stats, tight, ref, top, exact_all, stage(0.8, 0.98), reg, spacing_km)
        timing["refine"] = time.perf_counter() - t
        timing["tighten"] = found.tighten_s
        t = time.perf_counter()
        table = parts.gather() if cells == "all" else found.pool
        timing["gather"] = time.perf_counter() - t
    finally:
        if dk is not None:
            dk.close()
    memory: dict[str, float] = {}
    cpu: dict[str, float] = {}
    n_bands: dict[str, int] = {}
    for s in stats:
        memory[s["where"]] = max(memory.get(s["where"], 0.0), float(s["peak_mb"]))
        cpu[s["where"]] = cpu.get(s["where"], 0.0) + float(s["cpu_s"])
        n_bands[s["where"]] = n_bands.get(s["where"], 0) + 1
    timing["total"] = time.perf_counter() - t0
    stage(0.98, 1.0)(1.0)
    scores = {row: v[0] for row, v in found.scores.items()}
    return ScreeningResult(region=reg, cell_km=float(cell_km), grid_crs=CRS.from_wkt(plan.grid_wkt).to_string(),
                           engine=engine, weights=w, top=found.candidates, timing_s=timing,
                           n_refined=found.n_refined, n_cells=sum(s["n"] for s in stats),
                           n_excluded=sum(s["n_excluded"] for s in stats), bounds_violations=found.violations,
                           notes=found.notes, min_spacing_km=spacing_km, cells_scope=cells,
                           worker_memory_mb=memory, worker_cpu_s=cpu, worker_bands=n_bands, cells_builder=lambda: _cells_table(table, plan, scores))


def _cells_table(band: _Band, plan: _Plan, exact: Mapping[int, float]) -> gpd.GeoDataFrame:
    """The cell table: compact band columns, exact scores where known, cell squares in EPSG:4326."""
    rows = band.row if band.row is not None else np.arange(len(band), dtype=np.int64)
    frame = pd.DataFrame({"cell_id": band.ids(), "lon": band.lon, "lat": band.lat, "excluded": band.excluded,
                          "excluded_reason": band.excluded_reason, "stranded_region": band.stranded_region})
    for i, m in enumerate(_MEASURES):
        frame[f"{m}_km"] = np.round(band.km[i].astype(float), 3)
    score = band.score.copy()
    known = np.fromiter(exact.keys(), dtype=np.int64, count=len(exact))
    pos = np.searchsorted(rows, known)
    ok = (pos < len(rows)) & (rows[np.minimum(pos, len(rows) - 1)] == known) if len(rows) else pos < 0
    score[pos[ok]] = np.fromiter(exact.values(), dtype=float, count=len(exact))[ok]
    flag = np.zeros(len(band), dtype=bool)
    flag[pos[ok]] = True
    frame["flare_volume_bcm"] = band.flare_volume_bcm
    frame["score"] = score   # the exact score replaces the estimate where it is known
    frame["score_min"], frame["score_max"] = band.score_min, band.score_max
    frame["score_exact"] = flag
    c, half = plan.cell_m, plan.cell_m / 2
    x, y = (band.gx + 0.5) * c, (band.gy + 0.5) * c
    squares = gpd.GeoSeries(shapely.box(x - half, y - half, x + half, y + half), crs=CRS.from_wkt(plan.grid_wkt))
    return gpd.GeoDataFrame(frame, geometry=squares.to_crs(4326).values, crs="EPSG:4326")


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
    """Exact ``compute_proximity`` + readiness scoring of cells (keyed by table row), locally or on the dask client."""

    def __init__(self, project: Any, plan: _Plan, config: ProximityConfig, w: Mapping[str, float],
                 settings: Mapping[str, Any], rules: StrandedRules, dk: _Dask | None):
        self.config, self.w, self.settings, self.rules, self.dk = config, w, settings, rules, dk
        self.layers = project_layers(project)
        self.coverage = plan.coverage
        self.payload: list[Any] | None = None
        self.refined: set[int] = set()
        self.scores: dict[int, tuple[float, dict[str, float | None], dict[str, Any]]] = {}
        self.violations = 0

    @property
    def n_refined(self) -> int:
        """Cells refined so far."""
        return len(self.refined)

    def refined_mask(self, pool: _Band) -> np.ndarray:
        """Which cells of ``pool`` have been refined."""
        return np.isin(pool.rows(), np.fromiter(self.refined, dtype=np.int64, count=len(self.refined)))

    def ship(self) -> None:
        """Send the layers the exact refine needs to every worker (once)."""
        if self.dk is not None and self.payload is None:
            self.payload = self.dk.client.scatter([self.layers, self.config, self.coverage], broadcast=True,
                                                  hash=False)

    def run(self, pool: _Band, positions: np.ndarray, tick: Callable[[float], None]) -> None:
        """Exact fields and score of the cells at ``positions`` of ``pool``."""
        positions = np.sort(np.asarray(positions, dtype=int))
        if not len(positions):
            return
        cells = pool.take(positions)
        ids = cells.ids()
        pts = gpd.GeoDataFrame({"site_id": ids}, geometry=shapely.points(cells.lon, cells.lat), crs="EPSG:4326")
        # chunks of at most _REFINE_CHUNK cells; on dask at least one per worker thread (down to
        # _REFINE_CHUNK_MIN cells: each chunk pays the proximity set-up, ~2 s for national layers)
        n_chunks = math.ceil(len(pts) / _REFINE_CHUNK)
        if self.dk is not None:
            n_chunks = max(n_chunks, min(self.dk.threads(), len(pts) // _REFINE_CHUNK_MIN))
        edges = np.linspace(0, len(pts), max(1, n_chunks) + 1).round().astype(int)
        chunks = [pts.iloc[a:b] for a, b in zip(edges[:-1], edges[1:]) if b > a]
        if self.dk is not None:
            self.ship()
            assert self.payload is not None
            futures = self.dk.spread(_refine_chunk, [(c, *self.payload) for c in chunks])
            frames = self.dk.gather(futures, tick)
        else:
            frames = []
            for i, c in enumerate(chunks):
                frames.append(_refine_chunk(c, self.layers, self.config, self.coverage))
                tick((i + 1) / len(chunks))
        exact = pd.concat(frames)
        for row, cid, lo, hi in zip(cells.rows().tolist(), ids, cells.score_min.tolist(), cells.score_max.tolist()):
            self.refined.add(int(row))
            fields = exact.loc[cid].to_dict()
            total, subs, _ = score_fields(fields, self.w, self.settings, self.rules, self.config.flare_radius_km)
            if total is None:
                continue
            if not math.isnan(lo) and not (lo - 0.01 <= total <= hi + 0.01):
                self.violations += 1
            self.scores[int(row)] = (float(total), subs, fields)


@dataclass
class _Found:
    candidates: list[Candidate]
    n_refined: int
    violations: int
    notes: list[str]
    pool: _Band
    scores: dict[int, tuple[float, dict[str, float | None], dict[str, Any]]]
    tighten_s: float = 0.0


def _lower(level: float, nth_score: float | None, step: float) -> float:
    """The next selection level: the N-th accepted exact score when there is one, else ``step`` lower."""
    new = min(level - 0.01, nth_score - _REFINE_MARGIN) if nth_score is not None else level - step
    return -math.inf if new < 0 else new


class _Tightener:
    """Intersects a pool's raster score bounds with exact-planar (STRtree) ones, computed once per cell."""

    def __init__(self, plan: _Plan):
        self.plan = plan
        self.trees: dict[str, shapely.STRtree] = {}
        self.cache: dict[int, tuple[float, float]] = {}

    def index(self) -> None:
        """Build the measures' trees (once; the dask engine does it while the workers run the bands)."""
        if not self.trees:
            self.trees = self.plan.trees()

    def run(self, pool: _Band) -> None:
        cache = self.cache
        new = np.flatnonzero(~np.isin(pool.rows(), np.fromiter(cache, dtype=np.int64, count=len(cache))))
        if len(new):
            self.index()
            lo, hi = _vector_bounds(self.plan, pool.take(new), self.trees)
            cache.update(zip(pool.rows()[new].tolist(), zip(lo.tolist(), hi.tolist())))
        vals = np.array([cache[r] for r in pool.rows().tolist()], dtype=np.float64).reshape(-1, 2)
        pool.score_min = np.fmax(pool.score_min, vals[:, 0])
        pool.score_max = np.fmin(pool.score_max, vals[:, 1])


def _search(parts: _LocalParts | _DaskParts, stats: list[dict[str, Any]], tight: _Tightener, ref: _Refiner,
            top: int, exact_all: bool, tick: Callable[[float], None], reg: Region, spacing_km: float = 0.0) -> _Found:
    """Exact top-N with greedy spacing; fetches, tightens and refines only cells whose exact score could matter.

    The pool is every cell whose upper bound reaches ``level``, starting at the N-th best lower
    bound (enough without spacing). In the pool, round 0 refines every cell whose upper bound
    reaches the N-th best lower bound; each further round runs :func:`_scan` over exact scores
    and upper bounds and refines its blocking cells, until there are none: then every unrefined
    pool cell either ranks below the N-th accepted candidate or lies within the spacing of an
    accepted candidate that outscores it. Cells outside the pool have upper bounds below
    ``level``, so when the N-th accepted score reaches ``level`` the result equals greedy spacing
    over every cell's exact score (``exact_all``); otherwise the level is lowered and the pool grows.
    """
    notes: list[str] = []
    offsets = np.concatenate([[0], np.cumsum([s["n"] for s in stats])[:-1]]).astype(int).tolist() if stats else []
    config = ref.config
    los = np.concatenate([s["top_lo"] for s in stats]) if stats else np.empty(0)
    no_data = ("no cell has grid, fibre or stranded-energy data: add layers or choose another region")
    if exact_all:
        level = -math.inf
    elif not len(los):
        tick(1.0)
        return _Found([], 0, 0, [no_data], _Band.concat([]), {})
    else:
        level = float(np.sort(los)[::-1][min(top, len(los)) - 1]) - _REFINE_MARGIN
    step = 5.0
    tighten_s = 0.0
    capped = False
    rnd = 0
    batch = max(_REFINE_BATCH, 2 * top)

    def round_tick(r: int) -> Callable[[float], None]:
        return lambda f: tick(min(1.0, 1.0 - 0.5 ** r + 0.5 ** (r + 1) * f))

    while True:
        pool = parts.select(level, offsets, exact_all)
        if not len(pool):
            tick(1.0)
            return _Found([], 0, 0, [no_data], pool, {})
        if not exact_all:
            t = time.perf_counter()
            tight.run(pool)
            tighten_s += time.perf_counter() - t
        lo, hi = pool.score_min, pool.score_max
        done = ref.refined_mask(pool)
        if exact_all:
            short = np.flatnonzero(~done)
        else:
            idx = np.flatnonzero(~np.isnan(lo))
            threshold = np.sort(lo[idx])[::-1][min(top, len(idx)) - 1]
            short = idx[(hi[idx] >= threshold - _REFINE_MARGIN) & ~done[idx]]
        room = MAX_REFINE_CELLS - ref.n_refined
        if len(short) > room:
            short = short[np.lexsort((pool.rows()[short], -hi[short]))[:max(room, 0)]]
            capped = True
        ref.run(pool, short, round_tick(rnd))
        rnd += 1
        ids = pool.ids()
        hi_key = hi + _REFINE_MARGIN
        ok = np.flatnonzero(~np.isnan(lo))
        unref_order = ok[np.argsort(-hi[ok], kind="stable")]   # table order breaks ties: deterministic
        while True:
            rows = np.fromiter(ref.scores, dtype=np.int64, count=len(ref.scores))
            where = np.searchsorted(pool.rows(), rows)   # pools only grow, so every scored cell is in this one
            exact_score = {int(p): ref.scores[int(r)][0] for p, r in zip(where, rows)}
            exact_order = sorted(exact_score, key=lambda p: (-exact_score[p], ids[p]))
            accepted, blocking = _scan(exact_order, exact_score, unref_order, ref.refined_mask(pool), hi_key,
                                       pool.lon, pool.lat, top, spacing_km, batch)
            if not blocking:
                break
            room = MAX_REFINE_CELLS - ref.n_refined
            if room <= 0:
                capped = True
                accepted, _ = _scan(exact_order, exact_score, unref_order[:0], ref.refined_mask(pool), hi_key,
                                    pool.lon, pool.lat, top, spacing_km, batch)
                break
            ref.run(pool, np.asarray(blocking[:room]), round_tick(rnd))
            rnd += 1
        nth = exact_score[accepted[-1]] if len(accepted) == top else None
        if exact_all or capped or level == -math.inf or (nth is not None and nth >= level):
            break
        level = _lower(level, nth, step)
        step *= 2
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
    out: list[Candidate] = []
    for rank, pos in enumerate(accepted, start=1):
        total, subs, fields = ref.scores[int(pool.rows()[pos])]
        clean = {k: (None if v is None or (isinstance(v, float) and math.isnan(v)) else v) for k, v in fields.items()}
        out.append(Candidate(rank, str(ids[pos]), reg.code, float(pool.lon[pos]), float(pool.lat[pos]), float(total),
                             subs, _reason_line(clean, subs, float(total), config.flare_radius_km), clean))
    return _Found(out, ref.n_refined, ref.violations, notes, pool, ref.scores, tighten_s)
