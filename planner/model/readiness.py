"""Conversion readiness: can this mining site host AI/HPC load, what does it take, how long?

Pure Python (DOMAIN section 2). Thirteen criteria each turn site attributes into a 0-100
sub-score with a one-line reason that names the numbers and units. Rules are transparent
piecewise-linear curves through the thresholds in DOMAIN (e.g. power: 20 MW -> 20,
100 MW -> 65, >= 200 MW -> 100). A criterion with some of its fields known scores on what is
known and names the unknown fields in its reason; with none known it is *missing*
(score ``None``), never 0.

Total and class
---------------
- ``total`` = weighted mean of the sub-scores of the criteria that have data, the weights
  renormalised over those criteria (``None`` only when no weighted criterion has data).
- ``completeness_pct`` = share of the total weight whose criterion had data.
- ``klass``, first rule that applies:

  1. any enabled hard gate failed -> ``mining_only`` (not convertible, whatever the total);
  2. ``completeness_pct < min_completeness_pct`` (50) -> ``insufficient_data`` (total still shown);
  3. ``total >= ready_now_min_total`` (70) and no critical upgrade -> ``ready_now``;
  4. ``total >= convertible_min_total`` (40) -> ``convertible_with_upgrades``;
  5. else ``mining_only``.

Hard gates (``settings["gates"]`` lists the enabled ones, default all of :data:`GATES`):
``min_power`` - gross capacity (or energized MW when capacity is unknown) below
``gate_min_power_mw`` (20 MW); ``path_to_power`` - nothing energized, interconnection
status ``none`` and the nearest line >= 69 kV farther than ``gate_max_line_distance_km``
(50 km). A gate that cannot be evaluated because data is unknown does not fail.

Upgrades and time to power
--------------------------
Upgrades follow from known facts only and are priced with :mod:`planner.model.costs` unit
costs (``settings["unit_costs"]`` overrides). Critical IT MW = site MW x ``critical_it_ratio``
(``planner.model.assumptions`` when present, else ``settings["assumptions"]``, default 0.70).
Critical upgrades (HV line, substation for the first block of power, N+1 transformer,
permits/zoning not started) block ``ready_now``. ``time_to_power_months`` = for a site with
power energized now, the longest upgrade on the path to first AI capacity (0 if none); else
the later of the expected energization (date, or the interconnection-status estimate) and
that upgrade path.

All thresholds are in :data:`DEFAULT_THRESHOLDS`, overridable by
``settings["readiness_thresholds"]``; weights come from named profiles
(``settings["weights_profile"]``, ``settings["weights_profiles"]``).
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from planner.fmt import HOURS_PER_YEAR, real_number
from planner.model.costs import unit_costs_from_settings
from planner.model.site import PlannerError, Site

if TYPE_CHECKING:  # pragma: no cover
    from planner.model.portfolio import Portfolio

SubScore = tuple["float | None", str, bool]


class ReadinessError(PlannerError, ValueError):
    """Invalid readiness settings (weights profile, thresholds, gates)."""


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

DEFAULT_THRESHOLDS: dict[str, float] = {
    "ready_now_min_total": 70.0,
    "convertible_min_total": 40.0,
    "min_completeness_pct": 50.0,
    "gate_min_power_mw": 20.0,
    "gate_max_line_distance_km": 50.0,
    "campus_power_mw": 200.0,            # DOMAIN 2: >= 200 MW best
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
# small helpers
# ---------------------------------------------------------------------------------------
def _pl(x: float, points: Sequence[tuple[float, float]]) -> float:
    """Piecewise-linear interpolation through ``points`` (sorted by x), clamped at both ends."""
    if x <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0) if x1 > x0 else y1
    return points[-1][1]


def _n(x: float) -> str:
    """Format a number for a reason: no trailing .0, thousands separators when large."""
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x - round(x)) < 0.05:
        return f"{round(x):.0f}"
    return f"{x:.1f}"


def _clamp(score: float) -> float:
    return max(0.0, min(100.0, float(score)))


@dataclass(frozen=True)
class _Part:
    """One component of a multi-field criterion."""

    name: str
    weight: float
    score: float | None
    text: str = ""


def _combine(parts: Sequence[_Part]) -> SubScore:
    known = [p for p in parts if p.score is not None]
    unknown = [p.name for p in parts if p.score is None]
    if not known:
        return None, f"no data ({', '.join(unknown)} unknown)", True
    total_w = sum(p.weight for p in known)
    score = sum(p.weight * float(p.score) for p in known) / total_w  # type: ignore[arg-type]
    reason = "; ".join(p.text for p in known)
    if unknown:
        reason += f"; scored without {', '.join(unknown)} (unknown)"
    return _clamp(score), reason, False


def _months_until(iso_date: str, as_of: _dt.date) -> float:
    return (_dt.date.fromisoformat(iso_date) - as_of).days / 30.4375


@dataclass(frozen=True)
class ScoringContext:
    """What the rules need besides the site: thresholds, the as-of date and the IT ratio."""

    thresholds: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    as_of: _dt.date = field(default_factory=_dt.date.today)
    critical_it_ratio: float = 0.70

    def t(self, key: str) -> float:
        return float(self.thresholds[key])


def site_power_mw(site: Site) -> tuple[float | None, str]:
    """Site MW used for scale and sizing: gross capacity, else energized + pipeline; with its basis."""
    cap = site.power_capacity_mw
    if cap is not None:
        return float(cap), "gross capacity"
    en, pipe = site.energized_mw, site.pipeline_mw
    if en is None and pipe is None:
        return None, ""
    if en is not None and pipe is not None:
        return float(en) + float(pipe), "energized + pipeline (gross unknown)"
    if en is not None:
        return float(en), "energized (gross and pipeline unknown)"
    return float(pipe), "pipeline (gross and energized unknown)"


def _energized_now(site: Site) -> bool:
    en = site.energized_mw
    if en is not None:
        return en > 0
    return site.interconnection_status == "energized"


# ---------------------------------------------------------------------------------------
# criteria
# ---------------------------------------------------------------------------------------
def _power_scale(site: Site, ctx: ScoringContext) -> SubScore:
    mw, basis = site_power_mw(site)
    if mw is None:
        return None, "no data (power_capacity_mw, energized_mw, pipeline_mw unknown)", True
    best, gate = ctx.t("campus_power_mw"), ctx.t("gate_min_power_mw")
    pts = [(0.0, 0.0), (gate, 20.0), (max(gate, best / 2), 65.0), (max(gate, best), 100.0)]
    score = _pl(mw, sorted(pts))
    extra = ""
    if site.power_capacity_mw is not None and site.energized_mw is not None:
        extra = f" ({_n(site.energized_mw)} MW energized)"
    return _clamp(score), (f"{_n(mw)} MW {basis}{extra}; full marks at >= {_n(best)} MW, "
                           f"< {_n(gate)} MW fails the gate"), False


_STATUS_SCORE = {"energized": 85.0, "approved": 50.0, "in_queue": 30.0, "studying": 15.0, "none": 0.0}


def _time_to_power(site: Site, ctx: ScoringContext) -> SubScore:
    en, status, date = site.energized_mw, site.interconnection_status, site.expected_energization_date
    if en is not None and en > 0:
        cap = site.power_capacity_mw
        if cap is not None and cap > 0:
            share = min(1.0, en / cap)
            return _clamp(60.0 + 40.0 * share), (f"{_n(en)} MW energized now ({share * 100:.0f} % of "
                                                 f"{_n(cap)} MW gross); energized now >> queued"), False
        return 85.0, f"{_n(en)} MW energized now (gross unknown, share not scored)", False
    if en is None and status == "energized":
        return 85.0, "interconnection energized (energized MW unknown)", False
    parts = [
        _Part("energized_mw", 0.3, 0.0 if en is not None else None, "nothing energized (0 MW)"),
        _Part("interconnection_status", 0.4, _STATUS_SCORE.get(status) if status else None,
              f"interconnection {status}"),
    ]
    if date is not None:
        months = _months_until(date, ctx.as_of)
        if months < 0:
            text = f"expected energization {date} has passed ({_n(-months)} months ago) without power"
        else:
            text = f"expected energization {date} ({_n(months)} months away)"
        parts.append(_Part("expected_energization_date", 0.3,
                           _pl(max(0.0, months), [(0, 70), (12, 60), (24, 40), (48, 10), (60, 0)]), text))
    else:
        parts.append(_Part("expected_energization_date", 0.3, None))
    return _combine(parts)


def _hv_infrastructure(site: Site, ctx: ScoringContext) -> SubScore:
    owned, kv = site.substation_owned, site.substation_voltage_kv
    count, n1 = site.transformer_count, site.transformers_n_plus_1
    parts = [
        _Part("substation_owned", 0.4, None if owned is None else (100.0 if owned else 0.0),
              "own substation" if owned else "no own substation"),
        _Part("substation_voltage_kv", 0.35,
              None if kv is None else _pl(kv, [(0, 0), (69, 40), (115, 70), (138, 100)]),
              f"substation {_n(kv)} kV (>= 138 kV best)" if kv is not None else ""),
    ]
    if n1 is True:
        parts.append(_Part("transformers_n_plus_1", 0.25, 100.0,
                           f"N+1 transformers ({count} in service)" if count is not None else "N+1 transformers"))
    elif n1 is False:
        parts.append(_Part("transformers_n_plus_1", 0.25, 30.0 if (count or 0) >= 1 else 0.0,
                           f"no N+1 transformer ({'count unknown' if count is None else f'{count} in service'})"))
    elif count is not None:
        parts.append(_Part("transformers_n_plus_1", 0.25, _pl(count, [(0, 0), (1, 20), (2, 60)]),
                           f"{count} transformers, N+1 unknown"))
    else:
        parts.append(_Part("transformer_count / transformers_n_plus_1", 0.25, None))
    return _combine(parts)


_DIST_PTS = [(0.0, 100.0), (2.0, 100.0), (10.0, 75.0), (30.0, 25.0), (60.0, 0.0)]
# Higher voltage carries a 200+ MW campus without reinforcement; lower classes count for less.
_LINE_CLASS_FACTOR = ((500, 1.0), (345, 1.0), (230, 0.85), (138, 0.6))


def _grid_proximity(site: Site, ctx: ScoringContext) -> SubScore:
    best: float | None = None
    texts = []
    for kv, factor in _LINE_CLASS_FACTOR:
        d = site.get(f"dist_line_{kv}kv_km")
        if d is None:
            continue
        texts.append(f"{kv} kV+ line {d:.1f} km")
        s = factor * _pl(d, _DIST_PTS)
        best = s if best is None else max(best, s)
    dsub = site.dist_substation_km
    parts = [
        _Part("dist_line_230kv_km / dist_line_345kv_km", 0.7, best,
              ", ".join(texts) + " (< 2 km best, > 30 km poor)"),
        _Part("dist_substation_km", 0.3, None if dsub is None else _pl(dsub, _DIST_PTS),
              f"substation {dsub:.1f} km" if dsub is not None else ""),
    ]
    return _combine(parts)


def _land(site: Site, ctx: ScoringContext) -> SubScore:
    acres, exp = site.land_acres, site.land_expandable
    target = ctx.t("campus_land_acres")
    return _combine([
        _Part("land_acres", 0.85,
              None if acres is None else _pl(acres, [(0, 0), (target * 0.1, 15), (target * 0.5, 55), (target, 100)]),
              f"{_n(acres)} acres (>= {_n(target)} acres for a campus)" if acres is not None else ""),
        _Part("land_expandable", 0.15, None if exp is None else (100.0 if exp else 0.0),
              "expandable" if exp else "not expandable"),
    ])


_WATER_SOURCE = {"rights_secured": 100.0, "surface_water": 70.0, "groundwater_well": 60.0,
                 "municipal": 55.0, "none": 0.0}
_WATER_STRESS = {"low": 100.0, "medium": 70.0, "high": 35.0, "extremely_high": 10.0}


def _water(site: Site, ctx: ScoringContext) -> SubScore:
    src, vol, stress = site.water_source, site.water_volume_m3_per_year, site.water_stress
    vol_part = _Part("water_volume_m3_per_year", 0.25, None)
    if vol is not None:
        mw, _ = site_power_mw(site)
        ref_note = ""
        if mw is None:
            mw, ref_note = 100.0, ", site MW unknown: 100 MW reference"
        it_mw = mw * ctx.critical_it_ratio
        need_m3 = it_mw * HOURS_PER_YEAR * ctx.t("water_wue_l_per_kwh")  # MWh * L/kWh = m3
        ratio = vol / need_m3 if need_m3 > 0 else 1.0
        vol_part = _Part("water_volume_m3_per_year", 0.25, _pl(ratio, [(0, 0), (0.25, 40), (1, 100)]),
                         f"{_n(vol)} m3/yr = {ratio * 100:.0f} % of evaporative need {_n(need_m3)} m3/yr "
                         f"({_n(it_mw)} MW IT{ref_note})")
    return _combine([
        _Part("water_source", 0.5, _WATER_SOURCE.get(src) if src else None,
              f"water source {src} (rights secured best)"),
        _Part("water_stress", 0.25, _WATER_STRESS.get(stress) if stress else None, f"water stress {stress}"),
        vol_part,
    ])


def _fibre(site: Site, ctx: ScoringContext) -> SubScore:
    lat, dark = site.latency_to_metro_ms, site.dark_fibre_on_site
    dfib, dpop = site.dist_fibre_km, site.dist_pop_km
    target = ctx.t("metro_latency_ms")
    if dark is True:
        fib = _Part("dist_fibre_km", 0.25, 100.0, "fibre on site")
    else:
        fib = _Part("dist_fibre_km", 0.25,
                    None if dfib is None else _pl(dfib, [(0, 100), (1, 100), (10, 70), (50, 20), (100, 0)]),
                    f"fibre route {dfib:.1f} km" if dfib is not None else "")
    return _combine([
        _Part("latency_to_metro_ms", 0.35,
              None if lat is None else _pl(lat, [(0, 100), (target, 100), (2 * target, 60), (4 * target, 20),
                                                 (6 * target, 0)]),
              f"{_n(lat)} ms to metro (< {_n(target)} ms best)" if lat is not None else ""),
        _Part("dark_fibre_on_site", 0.25, None if dark is None else (100.0 if dark else 30.0),
              "dark fibre on site" if dark else "no dark fibre on site"),
        fib,
        _Part("dist_pop_km", 0.15,
              None if dpop is None else _pl(dpop, [(0, 100), (10, 100), (50, 60), (150, 20), (300, 0)]),
              f"PoP {dpop:.1f} km" if dpop is not None else ""),
    ])


_PERMIT = {"granted": 100.0, "pending": 50.0, "none": 0.0}
_ZONING = {"industrial_approved": 100.0, "rezoning_pending": 45.0, "not_zoned": 0.0}
_RISK = {"low": 100.0, "medium": 50.0, "high": 0.0}


def _permits(site: Site, ctx: ScoringContext) -> SubScore:
    pp, zn, risk = site.power_permit, site.zoning, site.moratorium_risk
    return _combine([
        _Part("power_permit", 0.4, _PERMIT.get(pp) if pp else None, f"power permit {pp}"),
        _Part("zoning", 0.35, _ZONING.get(zn) if zn else None, f"zoning {zn}"),
        _Part("moratorium_risk", 0.25, _RISK.get(risk) if risk else None, f"moratorium risk {risk}"),
    ])


_DLC = {"dlc_ready": 100.0, "retrofit_planned": 70.0, "retrofit_possible": 45.0, "none": 0.0}
# Hydro-cooled ASIC halls already run facility water loops, closer to DLC than air.
_COOLING = {"direct_to_chip": 100.0, "hydro": 70.0, "immersion": 60.0, "mixed": 40.0, "air": 15.0}


def _cooling(site: Site, ctx: ScoringContext) -> SubScore:
    cur, dlc = site.cooling_current, site.dlc_path
    if cur == "direct_to_chip" and dlc is None:
        return 100.0, "direct-to-chip cooling in place", False
    return _combine([
        _Part("dlc_path", 0.7, _DLC.get(dlc) if dlc else None, f"DLC path {dlc} (DLC-ready best)"),
        _Part("cooling_current", 0.3, _COOLING.get(cur) if cur else None, f"current cooling {cur}"),
    ])


_REDUNDANCY = {"N": 20.0, "N+1": 85.0, "2N": 100.0}


def _redundancy(site: Site, ctx: ScoringContext) -> SubScore:
    return _combine([
        _Part(f"redundancy_{k}", w, _REDUNDANCY.get(v) if v else None, f"{k} {v}")
        for k, w, v in (("power", 0.5, site.redundancy_power), ("cooling", 0.25, site.redundancy_cooling),
                        ("network", 0.25, site.redundancy_network))
    ])


_HALL = {"rack_mount_halls": 100.0, "mixed": 60.0, "greenfield": 50.0, "containers": 25.0}


def _rack_density(site: Site, ctx: ScoringContext) -> SubScore:
    kw, hall = site.max_rack_kw, site.hall_type
    target = ctx.t("target_rack_kw")
    return _combine([
        _Part("max_rack_kw", 0.75,
              None if kw is None else _pl(kw, [(0, 0), (8.4, 10), (40, 40), (80, 70), (max(80.0, target), 100)]),
              f"{_n(kw)} kW/rack (>= {_n(target)} kW/rack path best)" if kw is not None else ""),
        _Part("hall_type", 0.25, _HALL.get(hall) if hall else None, f"hall type {hall}"),
    ])


def _labour(site: Site, ctx: ScoringContext) -> SubScore:
    r = site.labour_rating
    if r is None:
        return None, "no data (labour_rating unknown)", True
    return _clamp((r - 1) * 25.0), f"skilled labour rating {r}/5", False


_EQUIP = {"owned": 100.0, "on_order": 60.0, "none": 0.0}


def _equipment(site: Site, ctx: ScoringContext) -> SubScore:
    st, lead = site.equipment_status, site.equipment_lead_time_months
    if st == "owned":
        return 100.0, "transformers/switchgear owned (best)", False
    return _combine([
        _Part("equipment_status", 0.6, _EQUIP.get(st) if st else None, f"long-lead equipment {st}"),
        _Part("equipment_lead_time_months", 0.4,
              None if lead is None else _pl(lead, [(0, 100), (6, 90), (12, 70), (24, 35), (36, 10), (48, 0)]),
              f"lead time {_n(lead)} months" if lead is not None else ""),
    ])


@dataclass(frozen=True)
class Criterion:
    """One readiness criterion: key, label, fields used, default weight, rule text and scorer."""

    key: str
    label: str
    fields: tuple[str, ...]
    default_weight: float
    rule: str
    scorer: Callable[[Site, ScoringContext], SubScore] = field(repr=False, compare=False)

    def score(self, site: Site, ctx: ScoringContext | None = None) -> SubScore:
        """Return (score 0-100 or None, one-line reason, missing) for ``site``."""
        return self.scorer(site, ctx or ScoringContext())


CRITERIA: tuple[Criterion, ...] = (
    Criterion("power_scale", "Power scale at one site", ("power_capacity_mw", "energized_mw", "pipeline_mw"),
              15.0, "gross MW: 20 MW -> 20, 100 MW -> 65, >= 200 MW -> 100; < 20 MW is a hard gate", _power_scale),
    Criterion("time_to_power", "Time to power",
              ("energized_mw", "interconnection_status", "expected_energization_date", "power_capacity_mw"),
              14.0, "energized now: 60 + 40 x energized share; else interconnection status and months to "
              "expected energization (0 m -> 70, 24 m -> 40, >= 60 m -> 0)", _time_to_power),
    Criterion("hv_infrastructure", "HV infrastructure on site",
              ("substation_owned", "substation_voltage_kv", "transformer_count", "transformers_n_plus_1"),
              10.0, "own substation 40 %, voltage (>= 138 kV full) 35 %, N+1 transformers 25 %", _hv_infrastructure),
    Criterion("grid_proximity", "Grid proximity",
              ("dist_line_138kv_km", "dist_line_230kv_km", "dist_line_345kv_km", "dist_line_500kv_km",
               "dist_substation_km"),
              8.0, "nearest line (345 kV+ full, 230 kV x0.85, 138 kV x0.6) 70 %, substation 30 %; "
              "< 2 km -> 100, 10 km -> 75, 30 km -> 25, >= 60 km -> 0", _grid_proximity),
    Criterion("land", "Land", ("land_acres", "land_expandable"), 5.0,
              ">= 100 acres -> 100 (85 %), expandable (15 %)", _land),
    Criterion("water", "Water for cooling", ("water_source", "water_stress", "water_volume_m3_per_year"), 5.0,
              "source (rights secured best) 50 %, stress 25 %, volume vs evaporative need 25 %", _water),
    Criterion("fibre_latency", "Fibre and latency",
              ("latency_to_metro_ms", "dark_fibre_on_site", "dist_fibre_km", "dist_pop_km"), 8.0,
              "latency (< 10 ms best) 35 %, dark fibre on site 25 %, fibre distance 25 %, PoP distance 15 %",
              _fibre),
    Criterion("permits_zoning", "Permits and zoning", ("power_permit", "zoning", "moratorium_risk"), 8.0,
              "power permit 40 %, zoning 35 %, moratorium risk 25 %; all in place best", _permits),
    Criterion("cooling_design", "Cooling design", ("dlc_path", "cooling_current"), 7.0,
              "path to direct liquid cooling 70 % (DLC-ready best), current cooling 30 %", _cooling),
    Criterion("redundancy", "Redundancy", ("redundancy_power", "redundancy_cooling", "redundancy_network"), 5.0,
              "N -> 20, N+1 -> 85 (AI minimum), 2N -> 100; power 50 %, cooling 25 %, network 25 %", _redundancy),
    Criterion("rack_density", "Rack density / form factor", ("max_rack_kw", "hall_type"), 6.0,
              "kW/rack (8.4 -> 10, 40 -> 40, >= 130 -> 100) 75 %, hall type 25 %", _rack_density),
    Criterion("skilled_labour", "Skilled labour", ("labour_rating",), 4.0, "rating 1-5 -> 0-100", _labour),
    Criterion("long_lead_equipment", "Long-lead equipment", ("equipment_status", "equipment_lead_time_months"),
              5.0, "owned -> 100; else status 60 % and lead time (6 m -> 90, 24 m -> 35, >= 48 m -> 0) 40 %",
              _equipment),
)
CRITERIA_BY_KEY: dict[str, Criterion] = {c.key: c for c in CRITERIA}
DEFAULT_WEIGHTS: dict[str, float] = {c.key: c.default_weight for c in CRITERIA}

# Named profiles shipped with the app; a profile in settings with the same name replaces it.
BUILTIN_WEIGHTS_PROFILES: dict[str, dict[str, float]] = {
    "default": dict(DEFAULT_WEIGHTS),
    # Large training clusters: one big energized block matters most, latency hardly (DOMAIN 1).
    "training_campus": {**DEFAULT_WEIGHTS, "power_scale": 22.0, "time_to_power": 18.0, "fibre_latency": 3.0},
    # Inference close to users: latency and fibre weigh more, raw scale less.
    "inference_latency": {**DEFAULT_WEIGHTS, "power_scale": 8.0, "fibre_latency": 18.0, "redundancy": 8.0},
}


# ---------------------------------------------------------------------------------------
# weights profiles
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WeightsProfile:
    """A named, editable set of criterion weights (missing keys take the default weight)."""

    name: str
    weights: Mapping[str, float]

    @classmethod
    def from_mapping(cls, name: str, raw: Mapping[str, Any]) -> "WeightsProfile":
        """Validate ``raw`` (criterion key -> weight >= 0) and fill missing keys from the defaults."""
        if not isinstance(raw, Mapping):
            raise ReadinessError(f"weights profile {name!r}: must map criterion keys to numbers. "
                                 "Fix the profile in the project settings")
        weights = dict(DEFAULT_WEIGHTS)
        for key, value in raw.items():
            if key not in CRITERIA_BY_KEY:
                raise ReadinessError(f"weights profile {name!r}: unknown criterion {key!r}. "
                                     f"Use one of: {', '.join(CRITERIA_BY_KEY)}")
            if real_number(value) is None:
                raise ReadinessError(f"weights profile {name!r}: weight for {key} = {value!r} is not a finite "
                                     "number. Enter a number >= 0")
            if value < 0:
                raise ReadinessError(f"weights profile {name!r}: weight for {key} = {value:g} is negative. "
                                     "Enter a weight >= 0 (0 switches the criterion off)")
            weights[key] = float(value)
        if sum(weights.values()) <= 0:
            raise ReadinessError(f"weights profile {name!r}: all weights are 0. Give at least one criterion "
                                 "a weight > 0")
        return cls(name, weights)

    def to_dict(self) -> dict[str, float]:
        """Plain ``{criterion_key: weight}`` for saving in ``settings["weights_profiles"]``."""
        return dict(self.weights)


def weights_profiles(settings: Mapping[str, Any] | None) -> dict[str, WeightsProfile]:
    """All named profiles: the built-in ones, replaced/extended by ``settings["weights_profiles"]``."""
    raw = dict(BUILTIN_WEIGHTS_PROFILES)
    custom = (settings or {}).get("weights_profiles") or {}
    if not isinstance(custom, Mapping):
        raise ReadinessError("settings weights_profiles: must map profile names to {criterion: weight}. "
                             "Fix the project settings")
    raw.update(custom)
    return {name: WeightsProfile.from_mapping(str(name), w) for name, w in raw.items()}


def weights_from_settings(settings: Mapping[str, Any] | None) -> tuple[str, dict[str, float]]:
    """Active profile name and its weights (``settings["weights_profile"]``, default "default")."""
    name = (settings or {}).get("weights_profile") or "default"
    profiles = weights_profiles(settings)
    if name not in profiles:
        raise ReadinessError(f"settings weights_profile = {name!r}: no such weights profile. "
                             f"Choose one of: {', '.join(profiles)}")
    return str(name), dict(profiles[name].weights)


def thresholds_from_settings(settings: Mapping[str, Any] | None) -> dict[str, float]:
    """:data:`DEFAULT_THRESHOLDS` with ``settings["readiness_thresholds"]`` overrides (checked)."""
    out = dict(DEFAULT_THRESHOLDS)
    raw = (settings or {}).get("readiness_thresholds") or {}
    for key, value in dict(raw).items():
        if key not in DEFAULT_THRESHOLDS:
            raise ReadinessError(f"settings readiness_thresholds: unknown key {key!r}. "
                                 f"Use one of: {', '.join(DEFAULT_THRESHOLDS)}")
        if real_number(value) is None or value < 0:
            raise ReadinessError(f"settings readiness_thresholds {key} = {value!r}: must be a number >= 0. "
                                 "Enter a non-negative number")
        out[key] = float(value)
    return out


def critical_it_ratio(settings: Mapping[str, Any] | None) -> float:
    """Critical IT MW per gross MW: planner.model.assumptions when available, else settings, else 0.70."""
    try:
        from planner.model import assumptions as _assumptions  # written by another module owner
    except ModuleNotFoundError as e:
        if e.name != "planner.model.assumptions":
            raise
        _assumptions = None  # type: ignore[assignment]
    ratio: Any = None
    if _assumptions is not None and hasattr(_assumptions, "assumptions_from_settings"):
        ratio = getattr(_assumptions.assumptions_from_settings(dict(settings or {})), "critical_it_ratio", None)
    if ratio is None:
        ratio = ((settings or {}).get("assumptions") or {}).get("critical_it_ratio",
                                                                DEFAULT_THRESHOLDS["critical_it_ratio_default"])
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 < float(ratio) <= 1:
        raise ReadinessError(f"settings assumptions critical_it_ratio = {ratio!r}: must be in (0, 1]. "
                             "Enter e.g. 0.70")
    return float(ratio)


# ---------------------------------------------------------------------------------------
# gates
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Gate:
    """A hard gate: ``check`` returns the failure reason, or None when passed or not decidable."""

    key: str
    label: str
    criterion: str
    rule: str
    check: Callable[[Site, ScoringContext], "str | None"] = field(repr=False, compare=False)


def _gate_min_power(site: Site, ctx: ScoringContext) -> str | None:
    limit = ctx.t("gate_min_power_mw")
    if site.power_capacity_mw is not None:
        mw, what = site.power_capacity_mw, "gross capacity"
    elif site.energized_mw is not None:
        mw, what = site.energized_mw, "energized (gross unknown)"
    else:
        return None
    if mw < limit:
        return f"power scale: {_n(mw)} MW {what} is below the {_n(limit)} MW minimum for an AI/HPC campus"
    return None


def _gate_path_to_power(site: Site, ctx: ScoringContext) -> str | None:
    limit = ctx.t("gate_max_line_distance_km")
    d69 = site.dist_line_69kv_km
    if site.interconnection_status != "none" or (site.energized_mw or 0) > 0 or d69 is None:
        return None
    if d69 > limit:
        return (f"no path to power: nothing energized, interconnection 'none' and the nearest line >= 69 kV is "
                f"{d69:.1f} km away (> {_n(limit)} km)")
    return None


GATES: dict[str, Gate] = {
    "min_power": Gate("min_power", "Minimum power scale", "power_scale",
                      "gross capacity (energized if unknown) < gate_min_power_mw fails", _gate_min_power),
    "path_to_power": Gate("path_to_power", "Path to power", "time_to_power",
                          "no energized MW, interconnection 'none' and no line >= 69 kV within "
                          "gate_max_line_distance_km fails", _gate_path_to_power),
}


def gates_from_settings(settings: Mapping[str, Any] | None) -> list[str]:
    """Enabled gate keys: ``settings["gates"]`` (a list) or all of :data:`GATES`."""
    raw = (settings or {}).get("gates")
    if raw is None:
        return list(GATES)
    if isinstance(raw, (str, bytes)) or not isinstance(raw, Iterable):
        raise ReadinessError(f"settings gates = {raw!r}: must be a list of gate keys. "
                             f"Use a list from: {', '.join(GATES)}")
    keys = list(raw)
    for k in keys:
        if k not in GATES:
            raise ReadinessError(f"settings gates: unknown gate {k!r}. Use a list from: {', '.join(GATES)}")
    return keys


# ---------------------------------------------------------------------------------------
# upgrades
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Upgrade:
    """Work a site needs before AI/HPC load: capex (None = unknown) and duration in months.

    ``critical`` upgrades block the ready_now class; ``on_power_path`` ones count towards
    ``time_to_power_months``.
    """

    key: str
    label: str
    detail: str
    capex_usd: float | None
    months: float | None
    critical: bool = False
    on_power_path: bool = True


def _usd(x: float) -> str:
    return f"${x / 1e6:,.2f}M" if abs(x) >= 1e6 else f"${x:,.0f}"


def compute_upgrades(site: Site, costs: Mapping[str, float], ctx: ScoringContext) -> list[Upgrade]:
    """Upgrades that follow from the known facts of ``site``, priced with ``costs``."""
    out: list[Upgrade] = []
    mw, basis = site_power_mw(site)
    it_mw = None if mw is None else mw * ctx.critical_it_ratio
    it_txt = "site MW unknown, capex unknown" if it_mw is None else \
        f"{_n(it_mw)} MW critical IT ({_n(mw)} MW x {ctx.critical_it_ratio:.2f})"  # type: ignore[arg-type]

    def per_it(key: str) -> float | None:
        return None if it_mw is None else it_mw * costs[key]

    # cooling
    cur, dlc = site.cooling_current, site.dlc_path
    if cur != "direct_to_chip" and dlc is not None and dlc != "dlc_ready":
        out.append(Upgrade("dlc_retrofit", "Direct-to-chip cooling retrofit",
                           f"DLC path {dlc}: {it_txt} x {_usd(costs['dlc_retrofit_usd_per_mw_it'])}/MW",
                           per_it("dlc_retrofit_usd_per_mw_it"), costs["dlc_retrofit_months"]))
    # racks / halls
    kw, hall = site.max_rack_kw, site.hall_type
    target_kw = ctx.t("target_rack_kw")
    if hall in ("containers", "greenfield") or (kw is not None and kw < target_kw and hall != "rack_mount_halls"):
        why = f"hall type {hall}" if hall else f"{_n(kw)} kW/rack < {_n(target_kw)}"  # type: ignore[arg-type]
        out.append(Upgrade("hall_buildout", f"Rack hall build-out for >= {_n(target_kw)} kW/rack",
                           f"{why}: {it_txt} x {_usd(costs['hall_buildout_usd_per_mw_it'])}/MW",
                           per_it("hall_buildout_usd_per_mw_it"), costs["hall_buildout_months"]))
    elif kw is not None and kw < target_kw:
        out.append(Upgrade("rack_density", f"Rack density upgrade to >= {_n(target_kw)} kW/rack",
                           f"{_n(kw)} kW/rack in rack-mount halls: {it_txt} x "
                           f"{_usd(costs['rack_density_upgrade_usd_per_mw_it'])}/MW",
                           per_it("rack_density_upgrade_usd_per_mw_it"), costs["hall_buildout_months"]))
    # N+1 transformer
    n1, count = site.transformers_n_plus_1, site.transformer_count
    if n1 is False or (n1 is None and site.redundancy_power == "N"):
        units = max(count or 1, 1)
        if mw is None:
            capex, size_txt = None, "site MW unknown, transformer size unknown"
        else:
            mva = mw / units / costs["power_factor"]
            capex = costs["transformer_fixed_usd"] + mva * costs["transformer_usd_per_mva"]
            size_txt = (f"one {_n(mva)} MVA unit ({_n(mw)} MW / {units} in service / pf {costs['power_factor']:.2f}): "
                        f"{_usd(costs['transformer_fixed_usd'])} + {_usd(costs['transformer_usd_per_mva'])}/MVA")
        lead = site.equipment_lead_time_months
        months = float(lead) if lead is not None else costs["transformer_lead_time_months"]
        out.append(Upgrade("n1_transformer", "N+1 transformer", size_txt, capex, months, critical=True))
    # substation and HV line
    owned, kv, en = site.substation_owned, site.substation_voltage_kv, site.energized_mw
    gate_mw = ctx.t("gate_min_power_mw")
    d138 = site.dist_line_138kv_km
    sub_cost = costs["substation_usd_per_mw"]
    if owned is False or (owned is True and kv is not None and kv < 138):
        why = "no own substation" if owned is False else f"own substation only {_n(kv)} kV"  # type: ignore[arg-type]
        out.append(Upgrade("substation_build", "HV substation (>= 138 kV)",
                           f"{why}: {_n(mw)} MW x {_usd(sub_cost)}/MW" if mw is not None else
                           f"{why}: site MW unknown, capex unknown",
                           None if mw is None else mw * sub_cost, costs["substation_months"], critical=True))
        if d138 is not None:
            out.append(Upgrade("hv_line", "HV line / tap to the grid (>= 138 kV)",
                               f"{d138:.1f} km to the nearest >= 138 kV line x {_usd(costs['hv_line_usd_per_km'])}/km",
                               d138 * costs["hv_line_usd_per_km"], costs["hv_line_months"], critical=True))
        else:
            out.append(Upgrade("hv_line", "HV line / tap to the grid (>= 138 kV)",
                               "distance to the nearest >= 138 kV line unknown (run proximity), capex unknown",
                               None, costs["hv_line_months"], critical=True))
    elif owned is True and mw is not None and en is not None and mw > en:
        short = en < gate_mw  # the first usable block of power waits for this expansion
        out.append(Upgrade("substation_expansion", "Substation expansion",
                           f"{_n(mw - en)} MW not yet energized ({_n(mw)} MW {basis} - {_n(en)} MW) x "
                           f"{_usd(sub_cost)}/MW", (mw - en) * sub_cost, costs["substation_months"],
                           critical=short, on_power_path=short))
    # fibre
    dark, dfib = site.dark_fibre_on_site, site.dist_fibre_km
    if dark is not True and dfib is not None and (dark is False or dfib > 1.0):
        out.append(Upgrade("fibre_build", "Fibre lateral build",
                           f"{dfib:.1f} km to the nearest fibre route x {_usd(costs['fibre_build_usd_per_km'])}/km",
                           dfib * costs["fibre_build_usd_per_km"], costs["fibre_build_months"]))
    elif dark is False:
        out.append(Upgrade("fibre_build", "Fibre lateral build",
                           "no fibre on site, distance to fibre unknown (run proximity), capex unknown",
                           None, costs["fibre_build_months"]))
    # water
    if site.water_source == "none":
        out.append(Upgrade("water_rights", "Water rights / supply", "no water source: lump sum "
                           f"{_usd(costs['water_rights_usd'])}", costs["water_rights_usd"],
                           costs["water_rights_months"]))
    # permits
    pp, zn = site.power_permit, site.zoning
    todo = [t for t, bad in ((f"power permit {pp}", pp in ("pending", "none")),
                             (f"zoning {zn}", zn in ("rezoning_pending", "not_zoned"))) if bad]
    if todo:
        out.append(Upgrade("permitting", "Permits and zoning", ", ".join(todo) +
                           f": lump sum {_usd(costs['permitting_usd'])}", costs["permitting_usd"],
                           costs["permitting_months"], critical=pp == "none" or zn == "not_zoned"))
    return out


# ---------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CriterionScore:
    """One criterion's result for one site."""

    key: str
    label: str
    score: float | None
    weight: float
    reason: str
    missing: bool
    gate_failed: bool = False


@dataclass(frozen=True)
class ReadinessResult:
    """Readiness of one site: total, class, completeness, sub-scores, gates, upgrades, timing."""

    site_id: str
    total: float | None
    klass: str
    class_label: str
    completeness_pct: float
    criteria: list[CriterionScore]
    gates_failed: list[str]
    upgrades: list[Upgrade]
    capex_total_usd: float | None
    time_to_power_months: float | None
    weights_profile: str = "default"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (numbers, strings, lists, None) for reports and the CLI."""
        return asdict(self)

    def criterion(self, key: str) -> CriterionScore:
        """The :class:`CriterionScore` of criterion ``key``."""
        for c in self.criteria:
            if c.key == key:
                return c
        raise KeyError(f"unknown criterion {key!r}")


@dataclass(frozen=True)
class _Prepared:
    profile: str
    weights: dict[str, float]
    gates: list[str]
    costs: dict[str, float]
    ctx: ScoringContext


def _prepare(settings: Mapping[str, Any] | None, as_of: _dt.date | None) -> _Prepared:
    profile, weights = weights_from_settings(settings)
    ctx = ScoringContext(thresholds_from_settings(settings), as_of or _dt.date.today(),
                         critical_it_ratio(settings))
    return _Prepared(profile, weights, gates_from_settings(settings), unit_costs_from_settings(settings), ctx)


def _score(site: Site, p: _Prepared) -> ReadinessResult:
    ctx = p.ctx
    failed: list[tuple[str, str]] = []  # (criterion key, reason)
    for key in p.gates:
        reason = GATES[key].check(site, ctx)
        if reason:
            failed.append((GATES[key].criterion, reason))
    gated = {crit for crit, _ in failed}
    scores: list[CriterionScore] = []
    for c in CRITERIA:
        s, reason, missing = c.score(site, ctx)
        scores.append(CriterionScore(c.key, c.label, None if s is None else round(_clamp(s), 2),
                                     p.weights[c.key], reason, missing, c.key in gated))
    all_w = sum(p.weights.values())
    known = [c for c in scores if c.score is not None and c.weight > 0]
    known_w = sum(c.weight for c in known)
    completeness = 100.0 * known_w / all_w
    total = None if known_w <= 0 else round(sum(c.weight * c.score for c in known) / known_w, 2)  # type: ignore[misc]
    upgrades = compute_upgrades(site, p.costs, ctx)
    capex = None if any(u.capex_usd is None for u in upgrades) else \
        float(sum(u.capex_usd for u in upgrades))  # type: ignore[misc]
    path = [u.months for u in upgrades if u.on_power_path and u.months is not None]
    path_months = max(path, default=0.0)
    ttp: float | None
    if _energized_now(site):
        ttp = path_months
    elif site.expected_energization_date is not None:
        ttp = max(max(0.0, _months_until(site.expected_energization_date, ctx.as_of)), path_months)
    elif site.interconnection_status is not None:
        ttp = max(INTERCONNECTION_MONTHS[site.interconnection_status], path_months)
    else:
        ttp = None
    gates_failed = [reason for _, reason in failed]
    t = ctx.t
    if gates_failed:
        klass = "mining_only"
    elif completeness < t("min_completeness_pct"):
        klass = "insufficient_data"
    elif total is not None and total >= t("ready_now_min_total") and not any(u.critical for u in upgrades):
        klass = "ready_now"
    elif total is not None and total >= t("convertible_min_total"):
        klass = "convertible_with_upgrades"
    else:
        klass = "mining_only"
    return ReadinessResult(
        site_id=site.site_id, total=total, klass=klass, class_label=READINESS_CLASSES[klass],
        completeness_pct=round(completeness, 2), criteria=scores, gates_failed=gates_failed,
        upgrades=upgrades, capex_total_usd=None if capex is None else round(capex, 2),
        time_to_power_months=None if ttp is None else round(ttp, 1), weights_profile=p.profile)


def score_site(site: Site, settings: Mapping[str, Any] | None = None, *,
               as_of: _dt.date | None = None) -> ReadinessResult:
    """Score one site with the portfolio ``settings`` (weights profile, unit costs, thresholds, gates).

    ``as_of`` (default today) is the date months to energization are counted from.
    """
    return _score(site, _prepare(settings, as_of))


def score_portfolio(portfolio: "Portfolio", *, as_of: _dt.date | None = None) -> dict[str, ReadinessResult]:
    """Score every site of ``portfolio`` with its settings, in portfolio order."""
    prepared = _prepare(portfolio.settings, as_of)
    return {s.site_id: _score(s, prepared) for s in portfolio}


def rank_results(results: Iterable[ReadinessResult]) -> list[ReadinessResult]:
    """Results best first: by class (gated last), then total (unknown last), then site_id."""
    order = {"ready_now": 0, "convertible_with_upgrades": 1, "insufficient_data": 2, "mining_only": 3}
    return sorted(results, key=lambda r: (order[r.klass], -(r.total if r.total is not None else -1.0), r.site_id))
