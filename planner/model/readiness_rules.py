"""The readiness rules as public data: curves, score tables, part weights, criterion weights, classes.

One set of rules for the readiness engine (:mod:`planner.model.readiness`), the screening engine
(:mod:`planner.gis.screening`) and the UI: nothing here is copied elsewhere. Curves are
piecewise-linear ``((x, score), ...)`` tuples, evaluated with :func:`piecewise_linear` (clamped at
both ends). Curves given relative to a threshold (``*_REL`` names) are multiplied by that threshold
from :data:`DEFAULT_THRESHOLDS` (or the project's overrides) first. Figures come from
docs/DOMAIN.md section 2 unless marked "assumption".

Power counts on a log scale (:func:`power_mw_score`): energized MW is the scarce asset (DOMAIN 1:
miners hold energized, interconnected MW that new data centers wait 2-4 years for), and each
doubling of MW is worth about the same, so 1,400 MW scores above 200 MW and 200 MW well above
40 MW. Anchors: the 20 MW gate -> 20, the 200 MW campus -> 70, 1 GW -> 100 (DOMAIN 1: new 300 MW -
1 GW+ interconnections), log-linear between them, 1 MW -> 0 below the gate.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from planner.lazy import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:  # imported on first use: the window shows before numpy loads (planner.lazy)
    np = lazy_module("numpy", globals(), "np")

Curve = tuple[tuple[float, float], ...]

READINESS_CLASSES: dict[str, str] = {
    "ready_now": "Ready now",
    "convertible_with_upgrades": "Convertible with upgrades",
    "mining_only": "Mining only",
    "insufficient_data": "Insufficient data",
}
#: A site without a readiness result (the map and charts still show it).
NOT_SCORED = "not_scored"
#: Labels of every class a site can show, ``not_scored`` included.
READINESS_LABELS: dict[str, str] = {**READINESS_CLASSES, NOT_SCORED: "Not scored"}
#: One colour per class for the map, the charts and the reports (green / amber / red / grey, blue unscored).
READINESS_COLOURS: dict[str, str] = {
    "ready_now": "#1a9850",
    "convertible_with_upgrades": "#f39c12",
    "mining_only": "#d73027",
    "insufficient_data": "#8c8c8c",
    NOT_SCORED: "#3b6fb6",
}
#: Short class names for "leans ..." texts (an undecided site's class at its expected total).
READINESS_SHORT_LABELS: dict[str, str] = {
    "ready_now": "Ready now",
    "convertible_with_upgrades": "Convertible",
    "mining_only": "Mining only",
    "insufficient_data": "Insufficient data",
}

DEFAULT_THRESHOLDS: dict[str, float] = {
    "ready_now_min_total": 70.0,
    "convertible_min_total": 40.0,
    "gate_min_power_mw": 20.0,
    "gate_max_line_distance_km": 50.0,
    "campus_power_mw": 200.0,            # DOMAIN 2: >= 200 MW best for one campus
    "full_power_mw": 1000.0,             # DOMAIN 1: 300 MW - 1 GW+ interconnections; full marks at 1 GW
    "target_rack_kw": 130.0,             # DOMAIN 1/2: GB200 NVL72-class racks need 130+ kW
    "campus_land_acres": 100.0,          # DOMAIN 2: >= 100 acres for a campus
    "metro_latency_ms": 10.0,            # DOMAIN 2: < 10 ms to a metro best
    "water_wue_l_per_kwh": 1.8,          # assumption: US data-center average water use (evaporative)
    "critical_it_ratio_default": 0.70,   # DOMAIN 4: 0.67-0.80 in public deals, default 0.70
}

# Months to energization by interconnection status when no date is entered.
# DOMAIN 1: new 300 MW-1 GW interconnections wait 2-4 years; others are assumptions.
INTERCONNECTION_MONTHS: dict[str, float] = {
    "energized": 0.0,
    "approved": 18.0,     # assumption: studies done, construction left
    "in_queue": 36.0,     # DOMAIN 1: 2-4 years, midpoint
    "studying": 42.0,     # assumption: before queue position
    "none": 48.0,         # DOMAIN 1: upper end of 2-4 years
}

# ---------------------------------------------------------------------------------------
# criterion weights (sum 100) and named profiles
# ---------------------------------------------------------------------------------------
DEFAULT_WEIGHTS: dict[str, float] = {
    "power_scale": 15.0, "time_to_power": 14.0, "hv_infrastructure": 10.0, "grid_proximity": 8.0,
    "land": 5.0, "water": 5.0, "fibre_latency": 8.0, "permits_zoning": 8.0, "cooling_design": 7.0,
    "redundancy": 5.0, "rack_density": 6.0, "skilled_labour": 4.0, "long_lead_equipment": 5.0,
}
# Named profiles shipped with the app; a profile in settings with the same name replaces it.
BUILTIN_WEIGHTS_PROFILES: dict[str, dict[str, float]] = {
    "default": dict(DEFAULT_WEIGHTS),
    # Large training clusters: one big energized block matters most, latency hardly (DOMAIN 1).
    "training_campus": {**DEFAULT_WEIGHTS, "power_scale": 22.0, "time_to_power": 18.0, "fibre_latency": 3.0},
    # Inference close to users: latency and fibre weigh more, raw scale less.
    "inference_latency": {**DEFAULT_WEIGHTS, "power_scale": 8.0, "fibre_latency": 18.0, "redundancy": 8.0},
}

# ---------------------------------------------------------------------------------------
# part weights inside each criterion (each criterion's parts sum to 1)
# ---------------------------------------------------------------------------------------
PART_WEIGHTS: dict[str, dict[str, float]] = {
    "power_scale": {"energized_mw": 0.7, "power_capacity_mw": 0.3},
    "time_to_power": {"energized_mw": 0.3, "interconnection_status": 0.4, "expected_energization_date": 0.3},
    "hv_infrastructure": {"substation_owned": 0.4, "substation_voltage_kv": 0.35, "transformers_n_plus_1": 0.25},
    "grid_proximity": {"lines": 0.7, "dist_substation_km": 0.3},
    "land": {"land_acres": 0.85, "land_expandable": 0.15},
    "water": {"water_source": 0.5, "water_stress": 0.25, "water_volume_m3_per_year": 0.25},
    "fibre_latency": {"latency_to_metro_ms": 0.35, "dark_fibre_on_site": 0.25, "dist_fibre_km": 0.25,
                      "dist_pop_km": 0.15},
    "permits_zoning": {"power_permit": 0.4, "zoning": 0.35, "moratorium_risk": 0.25},
    "cooling_design": {"dlc_path": 0.7, "cooling_current": 0.3},
    "redundancy": {"redundancy_power": 0.5, "redundancy_cooling": 0.25, "redundancy_network": 0.25},
    "rack_density": {"max_rack_kw": 0.75, "hall_type": 0.25},
    "skilled_labour": {"labour_rating": 1.0},
    "long_lead_equipment": {"equipment_status": 0.6, "equipment_lead_time_months": 0.4},
}

# ---------------------------------------------------------------------------------------
# curves
# ---------------------------------------------------------------------------------------
#: Grid distances (km): lines, substations, stranded-energy regions. < 2 km best, > 30 km poor.
DISTANCE_POINTS: Curve = ((0.0, 100.0), (2.0, 100.0), (10.0, 75.0), (30.0, 25.0), (60.0, 0.0))
#: Higher voltage carries a 200+ MW campus without reinforcement; lower classes count for less.
LINE_CLASS_FACTORS: tuple[tuple[int, float], ...] = ((500, 1.0), (345, 1.0), (230, 0.85), (138, 0.6))
FIBRE_ROUTE_POINTS: Curve = ((0, 100), (1, 100), (10, 70), (50, 20), (100, 0))
POP_POINTS: Curve = ((0, 100), (10, 100), (50, 60), (150, 20), (300, 0))
#: Latency as a multiple of ``metro_latency_ms``.
LATENCY_POINTS_REL: Curve = ((0, 100), (1, 100), (2, 60), (4, 20), (6, 0))
#: Land as a share of ``campus_land_acres``.
LAND_POINTS_REL: Curve = ((0, 0), (0.1, 15), (0.5, 55), (1, 100))
#: Water volume as a share of the evaporative need.
WATER_VOLUME_POINTS: Curve = ((0, 0), (0.25, 40), (1, 100))
SUBSTATION_KV_POINTS: Curve = ((0, 0), (69, 40), (115, 70), (138, 100))
TRANSFORMER_COUNT_POINTS: Curve = ((0, 0), (1, 20), (2, 60))
#: Months until the expected energization date.
ENERGIZATION_MONTHS_POINTS: Curve = ((0, 70), (12, 60), (24, 40), (48, 10), (60, 0))
#: kW per rack; the last point moves to ``target_rack_kw`` when that is above 80.
RACK_KW_POINTS: Curve = ((0, 0), (8.4, 10), (40, 40), (80, 70), (130, 100))
EQUIPMENT_LEAD_POINTS: Curve = ((0, 100), (6, 90), (12, 70), (24, 35), (36, 10), (48, 0))

# ---------------------------------------------------------------------------------------
# score tables for categorical fields
# ---------------------------------------------------------------------------------------
INTERCONNECTION_SCORES: dict[str, float] = {"energized": 85.0, "approved": 50.0, "in_queue": 30.0,
                                            "studying": 15.0, "none": 0.0}
N_PLUS_1_SCORES: dict[str, float] = {"n_plus_1": 100.0, "no_n_plus_1_with_unit": 30.0, "none": 0.0}
WATER_SOURCE_SCORES: dict[str, float] = {"rights_secured": 100.0, "surface_water": 70.0, "groundwater_well": 60.0,
                                         "municipal": 55.0, "none": 0.0}
WATER_STRESS_SCORES: dict[str, float] = {"low": 100.0, "medium": 70.0, "high": 35.0, "extremely_high": 10.0}
DARK_FIBRE_SCORES: dict[bool, float] = {True: 100.0, False: 30.0}
PERMIT_SCORES: dict[str, float] = {"granted": 100.0, "pending": 50.0, "none": 0.0}
ZONING_SCORES: dict[str, float] = {"industrial_approved": 100.0, "rezoning_pending": 45.0, "not_zoned": 0.0}
MORATORIUM_SCORES: dict[str, float] = {"low": 100.0, "medium": 50.0, "high": 0.0}
DLC_SCORES: dict[str, float] = {"dlc_ready": 100.0, "retrofit_planned": 70.0, "retrofit_possible": 45.0, "none": 0.0}
# Hydro-cooled ASIC halls already run facility water loops, closer to DLC than air.
COOLING_SCORES: dict[str, float] = {"direct_to_chip": 100.0, "hydro": 70.0, "immersion": 60.0, "mixed": 40.0,
                                    "air": 15.0}
REDUNDANCY_SCORES: dict[str, float] = {"N": 20.0, "N+1": 85.0, "2N": 100.0}
HALL_SCORES: dict[str, float] = {"rack_mount_halls": 100.0, "mixed": 60.0, "greenfield": 50.0, "containers": 25.0}
EQUIPMENT_SCORES: dict[str, float] = {"owned": 100.0, "on_order": 60.0, "none": 0.0}
BOOL_SCORES: dict[bool, float] = {True: 100.0, False: 0.0}


# ---------------------------------------------------------------------------------------
# functions
# ---------------------------------------------------------------------------------------
def piecewise_linear(x: float, points: Sequence[tuple[float, float]]) -> float:
    """Piecewise-linear interpolation through ``points`` (sorted by x), clamped at both ends."""
    if x <= points[0][0]:
        return float(points[0][1])
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if x <= x1:
            return float(y0 + (y1 - y0) * (x - x0) / (x1 - x0) if x1 > x0 else y1)
    return float(points[-1][1])


def scaled(points: Curve, factor: float) -> Curve:
    """A relative curve (``*_REL``) with its x values multiplied by ``factor``."""
    return tuple((x * factor, y) for x, y in points)


def rack_kw_points(target_rack_kw: float) -> Curve:
    """:data:`RACK_KW_POINTS` with full marks at ``max(80, target_rack_kw)`` kW per rack."""
    return RACK_KW_POINTS[:-1] + ((max(80.0, float(target_rack_kw)), 100.0),)


def power_log_points(thresholds: Mapping[str, float] | None = None) -> Curve:
    """Anchors of the power scale in log10(MW): (1 MW, 0), (gate, 20), (campus, 70), (full, 100)."""
    t = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    gate = max(float(t["gate_min_power_mw"]), 1.0 + 1e-6)
    campus = max(float(t["campus_power_mw"]), gate * (1 + 1e-6))
    full = max(float(t["full_power_mw"]), campus * (1 + 1e-6))
    return ((0.0, 0.0), (math.log10(gate), 20.0), (math.log10(campus), 70.0), (math.log10(full), 100.0))


def power_mw_score(mw: Any, thresholds: Mapping[str, float] | None = None) -> Any:
    """Score 0-100 of ``mw`` (a number or a numpy array; 0 MW scores 0) on the log power scale."""
    pts = power_log_points(thresholds)
    if not isinstance(mw, (int, float)) and hasattr(mw, "shape"):  # a numpy array (numpy scalars are floats)
        xs, ys = zip(*pts)
        with np.errstate(divide="ignore", invalid="ignore"):
            lg = np.log10(np.where(mw > 0, mw, 1.0))
        return np.where(np.isnan(mw), np.nan, np.where(mw > 0, np.interp(lg, xs, ys), 0.0))
    mw = float(mw)
    return 0.0 if mw <= 0 else piecewise_linear(math.log10(mw), pts)


# ---------------------------------------------------------------------------------------
# unknowns: priors, and the facts an analyst can collect (docs/readiness.md)
# ---------------------------------------------------------------------------------------
#: Expected value of an unknown field where a mining-site base rate is stated; every other unknown
#: part takes the neutral prior, the midpoint of the scores it can still reach. The band itself
#: (unknowns at their worst / best) never depends on these.
UNKNOWN_PRIORS: dict[str, tuple[Any, str]] = {
    "max_rack_kw": (40.0, "DOMAIN 1: mining-era halls capped near 40 kW per rack"),
    "cooling_current": ("air", "assumption: most ASIC mining halls are air-cooled"),
    "redundancy_power": ("N", "assumption: mining load is interruptible and built N"),
    "redundancy_cooling": ("N", "assumption: mining load is interruptible and built N"),
    "redundancy_network": ("N", "assumption: mining load is interruptible and built N"),
}

#: What to find out, per site field (or group of computed fields), as the start of a sentence.
FACT_PROMPTS: dict[str, str] = {
    "power_capacity_mw": "Confirm the site's gross MW (power capacity)",
    "energized_mw": "Confirm the energized MW",
    "interconnection_status": "Confirm the interconnection status",
    "expected_energization_date": "Get the expected energization date",
    "substation_owned": "Confirm whether the site owns its substation",
    "substation_voltage_kv": "Confirm the substation's kV",
    "transformers_n_plus_1": "Confirm whether the transformers are N+1",
    "transformer_count": "Count the transformers in service",
    "grid_lines": "Measure the distance to the nearest >= 230 kV line",
    "dist_substation_km": "Measure the distance to the nearest substation",
    "land_acres": "Confirm the acres of land",
    "land_expandable": "Confirm whether the land can be expanded",
    "water_source": "Confirm the water source / rights",
    "water_stress": "Look up the water stress",
    "water_volume_m3_per_year": "Confirm the water volume available per year",
    "latency_to_metro_ms": "Measure the latency to the nearest major metro",
    "dark_fibre_on_site": "Confirm whether dark fibre reaches the site",
    "dist_fibre_km": "Measure the distance to the nearest fibre route",
    "dist_pop_km": "Measure the distance to the nearest PoP",
    "power_permit": "Confirm the power permit",
    "zoning": "Confirm the land use / zoning",
    "moratorium_risk": "Check the local moratorium risk",
    "dlc_path": "Assess the path to direct liquid cooling",
    "cooling_current": "Confirm the current cooling",
    "redundancy_power": "Confirm the power redundancy",
    "redundancy_cooling": "Confirm the cooling redundancy",
    "redundancy_network": "Confirm the network redundancy",
    "max_rack_kw": "Confirm the max kW per rack the halls support",
    "hall_type": "Confirm the hall type",
    "labour_rating": "Rate the skilled labour available",
    "equipment_status": "Confirm whether transformers/switchgear are owned or on order",
    "equipment_lead_time_months": "Get the long-lead equipment lead time",
}

#: Values tried for an unknown numeric fact when ranking what to find out next (enums and yes/no
#: facts try every choice; dates try 0, 12, 24, 48 and 60 months from the as-of date).
FACT_TRIAL_VALUES: dict[str, tuple[float, ...]] = {
    "power_capacity_mw": (10, 20, 50, 100, 200, 500, 1000, 2000),
    "energized_mw": (0, 10, 20, 50, 100, 200, 500, 1000, 2000),
    "substation_voltage_kv": (34.5, 69, 115, 138, 230, 345),
    "transformer_count": (0, 1, 2, 4),
    "grid_lines": (0.5, 5, 15, 30, 60, 150),
    "dist_substation_km": (0.5, 5, 15, 30, 60),
    "land_acres": (5, 20, 50, 100, 300),
    "water_volume_m3_per_year": (0, 1e5, 1e6, 5e6, 2e7),
    "latency_to_metro_ms": (2, 10, 20, 40, 60),
    "dist_fibre_km": (0.5, 5, 20, 60, 150),
    "dist_pop_km": (5, 30, 100, 300),
    "max_rack_kw": (8.4, 20, 40, 80, 130, 200),
    "labour_rating": (1, 2, 3, 4, 5),
    "equipment_lead_time_months": (3, 12, 24, 48),
}
