"""Conversion readiness: can this mining site host AI/HPC load, what does it take, how long?

Pure Python (DOMAIN section 2). Thirteen criteria each turn site attributes into a 0-100
sub-score with a one-line reason that names the numbers and units. The rules (curves, score
tables, part and criterion weights, class thresholds) are the public data of
:mod:`planner.model.readiness_rules`, which screening and the UI use too.

Readiness measures the site, not how much is known about it
------------------------------------------------------------
Each criterion is a weighted sum of *parts* (one field or a small group of fields). A known part
has its score; an unknown part has the range of scores it can still reach (``low`` - ``high``, e.g.
0-100 for an unknown substation voltage, 60-100 for the energized share of a site whose gross MW
is unknown) and a stated prior (:data:`~planner.model.readiness_rules.UNKNOWN_PRIORS`, else the
midpoint of that range; docs/readiness.md explains the choice). Nothing is renormalised:

- ``total`` = expected total, unknown parts at their prior;
- ``total_low`` / ``total_high`` = every unknown part at its worst / best; a fully known site has
  ``total_low == total == total_high``;
- ``completeness_pct`` = share of the total weight (criterion weight x part weight) that is known.

Class, decided on the band (first rule that applies):

1. an enabled hard gate failed on known facts -> ``mining_only``;
2. ``ready_now`` only when the *low* end clears ``ready_now_min_total`` (70), no gate can still fail
   and no known critical upgrade is needed;
3. the class at the low end (total_low, gates that could fail taken as failed) and at the high end
   (total_high, such gates passed) lead to the same decision -> that class: ``convertible_with_upgrades``
   when the low end clears ``convertible_min_total`` (40) (a band reaching into "ready now" still means
   "convert, with upgrades"), ``mining_only`` when even the high end stays below 40;
4. otherwise the band spans "keep mining" and "convert" -> ``insufficient_data``.

Power counts on a continuous log scale (energized MW 70 %, gross MW 30 %; 20 MW -> 20, 200 MW -> 70,
1 GW -> 100). Readiness reads only physical and contractual facts of the site (the fields named by
:data:`CRITERIA`, the gates and the upgrades), never status, AI partner, notes, sources or anything
recording whether a conversion happened.

What to find out next: :func:`next_facts` tries each unknown fact's possible values and ranks the
facts by how far they can move the class, then the total.

Hard gates (``settings["gates"]`` lists the enabled ones, default all of :data:`GATES`):
``min_power`` - gross capacity (or energized MW > 0 when capacity is unknown) below
``gate_min_power_mw`` (20 MW); ``path_to_power`` - nothing energized, interconnection
status ``none`` and the nearest line >= 69 kV farther than ``gate_max_line_distance_km``
(50 km). A gate whose data is unknown does not fail, but may still fail: it counts at the low end.

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
import functools
import json
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from planner.fmt import HOURS_PER_YEAR, fmt_number, fmt_usd, real_number
from planner.model.assumptions import assumptions_from_settings
from planner.model.costs import unit_costs_from_settings
from planner.model.fields import FIELDS
from planner.model.readiness_rules import (
    BOOL_SCORES, BUILTIN_WEIGHTS_PROFILES, COOLING_SCORES, DARK_FIBRE_SCORES, DEFAULT_THRESHOLDS, DEFAULT_WEIGHTS,
    DISTANCE_POINTS, DLC_SCORES, ENERGIZATION_MONTHS_POINTS, EQUIPMENT_LEAD_POINTS, EQUIPMENT_SCORES,
    FACT_PROMPTS, FACT_TRIAL_VALUES, FIBRE_ROUTE_POINTS, HALL_SCORES, INTERCONNECTION_MONTHS,
    INTERCONNECTION_SCORES, LAND_POINTS_REL, LATENCY_POINTS_REL, LINE_CLASS_FACTORS, MORATORIUM_SCORES,
    NOT_SCORED, PART_WEIGHTS, PERMIT_SCORES, POP_POINTS, READINESS_CLASSES, READINESS_COLOURS, READINESS_LABELS,
    READINESS_SHORT_LABELS, REDUNDANCY_SCORES, SUBSTATION_KV_POINTS,
    TRANSFORMER_COUNT_POINTS, UNKNOWN_PRIORS, WATER_SOURCE_SCORES, WATER_STRESS_SCORES, WATER_VOLUME_POINTS,
    ZONING_SCORES,
    piecewise_linear, power_mw_score, rack_kw_points, scaled,
)
from planner.model.site import PlannerError, Site

if TYPE_CHECKING:  # pragma: no cover
    from planner.model.portfolio import Portfolio

__all__ = [
    "BUILTIN_WEIGHTS_PROFILES", "CRITERIA", "CRITERIA_BY_KEY", "DEFAULT_THRESHOLDS", "DEFAULT_WEIGHTS", "GATES",
    "INTERCONNECTION_MONTHS", "INPUT_FIELDS", "NOT_SCORED", "READINESS_CLASSES", "READINESS_COLOURS",
    "READINESS_LABELS", "READINESS_SHORT_LABELS", "Criterion", "CriterionScore", "Fact",
    "Gate", "ReadinessError", "ReadinessResult", "ScoringContext", "SubScore", "Upgrade", "WeightsProfile",
    "LEANING_FILTERS", "class_keys", "counts_text", "decision_gaps",
    "compute_upgrades", "critical_it_ratio", "gates_from_settings", "next_facts", "rank_results",
    "score_portfolio", "score_site", "site_power_mw", "thresholds_from_settings", "weights_from_settings",
    "weights_profiles",
]


class ReadinessError(PlannerError, ValueError):
    """Invalid readiness settings (weights profile, thresholds, gates)."""


#: Threshold keys of earlier versions that saved projects may still carry; accepted and ignored.
RETIRED_THRESHOLDS: dict[str, str] = {
    "min_completeness_pct": "the class is decided on the score band, not on completeness",
}


# ---------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------
def _n(x: float) -> str:
    """Format a number for a reason: no trailing .0, thousands separators when large."""
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x - round(x)) < 0.05:
        return f"{round(x):.0f}"
    return f"{x:.1f}"


def _c(choice: Any) -> str:
    """A choice value for a reason: ``rights_secured`` -> ``rights secured`` (readers, not code)."""
    return str(choice).replace("_", " ")


def _clamp(score: float) -> float:
    return max(0.0, min(100.0, float(score)))


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
    assert pipe is not None  # both unknown returned above
    return float(pipe), "pipeline (gross and energized unknown)"


def _energized_now(site: Site) -> bool:
    en = site.energized_mw
    if en is not None:
        return en > 0
    return site.interconnection_status == "energized"


# ---------------------------------------------------------------------------------------
# parts and sub-scores
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Part:
    """One component of a criterion: a known score, or the range an unknown can still reach."""

    name: str                       # the fact (key of FACT_PROMPTS) this part waits for
    weight: float
    score: float | None
    text: str = ""
    low: float = 0.0
    high: float = 100.0
    prior: float | None = None      # expected score while unknown; None = midpoint of low-high

    @property
    def expected(self) -> float:
        if self.score is not None:
            return self.score
        mid = (self.low + self.high) / 2.0
        return mid if self.prior is None else min(self.high, max(self.low, self.prior))


@dataclass(frozen=True)
class SubScore:
    """A criterion's result: expected score and band, reason, known share, facts still unknown."""

    score: float
    low: float
    high: float
    reason: str
    known_share: float
    unknown: tuple[str, ...]
    known_score: float | None       # on the known parts only (renormalised), as screening cells use it

    def __iter__(self) -> Iterator[Any]:  # (score or None, reason, missing), the triple of earlier versions
        return iter((self.known_score, self.reason, self.known_share <= 0.0))


def _unknown(name: str, weight: float, low: float = 0.0, high: float = 100.0, *,
             prior_score: float | None = None, scorer: Callable[[Any], float] | None = None) -> _Part:
    prior = None
    if name in UNKNOWN_PRIORS and scorer is not None:
        prior = scorer(UNKNOWN_PRIORS[name][0])
    elif prior_score is not None:
        prior = prior_score
    return _Part(name, weight, None, "", low, high, prior)


def _table(name: str, weight: float, value: Any, table: Mapping[Any, float], text: str) -> _Part:
    """A categorical part: known -> its table score; unknown -> the table's range."""
    if value is None or value not in table:
        return _unknown(name, weight, min(table.values()), max(table.values()), scorer=lambda v: table[v])
    return _Part(name, weight, table[value], text)


def _curve(name: str, weight: float, value: float | None, points: Sequence[tuple[float, float]], text: str) -> _Part:
    """A numeric part on a curve: known -> the curve; unknown -> the curve's range."""
    ys = [p[1] for p in points]
    if value is None:
        return _unknown(name, weight, min(ys), max(ys), scorer=lambda v: piecewise_linear(float(v), points))
    return _Part(name, weight, _clamp(piecewise_linear(float(value), points)), text)


#: Facts that are a group of fields, named in reasons by their fields.
_REASON_NAMES = {"grid_lines": "dist_line_138kv_km-dist_line_500kv_km"}


def _combine(parts: Sequence[_Part]) -> SubScore:
    total_w = sum(p.weight for p in parts)
    known = [p for p in parts if p.score is not None]
    unknown = [p for p in parts if p.score is None]
    known_w = sum(p.weight for p in known)
    score = sum(p.weight * p.expected for p in parts) / total_w
    low = sum(p.weight * (p.low if p.score is None else p.score) for p in parts) / total_w
    high = sum(p.weight * (p.high if p.score is None else p.score) for p in parts) / total_w
    known_score = None if known_w <= 0 else sum(p.weight * p.expected for p in known) / known_w  # known: expected = score
    texts = [p.text for p in known if p.text]
    if unknown:
        names = ", ".join(dict.fromkeys(_REASON_NAMES.get(p.name, p.name) for p in unknown))
        texts.append(f"unknown: {names} (band {low:.0f}-{high:.0f})" if known else
                     f"no data ({names} unknown; band {low:.0f}-{high:.0f})")
    return SubScore(_clamp(score), _clamp(low), _clamp(high), "; ".join(texts), known_w / total_w,
                    tuple(dict.fromkeys(p.name for p in unknown)), None if known_score is None else _clamp(known_score))


def _pw(criterion: str, part: str) -> float:
    return PART_WEIGHTS[criterion][part]


# ---------------------------------------------------------------------------------------
# criteria
# ---------------------------------------------------------------------------------------
def _power_scale(site: Site, ctx: ScoringContext) -> SubScore:
    en = site.energized_mw
    cap, basis = site.power_capacity_mw, "gross capacity"
    if cap is None and en is not None and site.pipeline_mw is not None:
        cap, basis = float(en) + float(site.pipeline_mw), "energized + pipeline"
    t = ctx.thresholds

    def s(mw: float) -> float:
        return float(power_mw_score(mw, t))

    w_en, w_cap = _pw("power_scale", "energized_mw"), _pw("power_scale", "power_capacity_mw")
    if en is not None:
        p_en = _Part("energized_mw", w_en, s(en), f"{_n(en)} MW energized")
    else:  # energized can be anything from 0 to the gross capacity
        p_en = _unknown("energized_mw", w_en, 0.0, 100.0 if cap is None else s(cap))
    if cap is not None:
        p_cap = _Part("power_capacity_mw", w_cap, s(cap), f"{_n(cap)} MW {basis}")
    else:  # gross is at least what is energized
        p_cap = _unknown("power_capacity_mw", w_cap, 0.0 if en is None else s(en), 100.0)
    sub = _combine([p_en, p_cap])
    scale = (f"log scale {_n(ctx.t('gate_min_power_mw'))} MW -> 20, {_n(ctx.t('campus_power_mw'))} MW -> 70, "
             f"{_n(ctx.t('full_power_mw'))} MW -> 100")
    return SubScore(sub.score, sub.low, sub.high, f"{sub.reason} ({scale})", sub.known_share, sub.unknown,
                    sub.known_score)


def _time_to_power(site: Site, ctx: ScoringContext) -> SubScore:
    en, status, date, cap = site.energized_mw, site.interconnection_status, site.expected_energization_date, \
        site.power_capacity_mw
    if (en is not None and en > 0) or (en is None and status == "energized"):
        what = f"{_n(en)} MW energized now" if en is not None else "interconnection energized (MW unknown)"
        # 60 for power energized now + 40 x the energized share of gross
        now = _Part("energized_mw" if en is not None else "interconnection_status", 0.6, 100.0,
                    f"{what}; energized now >> queued")
        if en is not None and cap is not None and cap > 0:
            share = min(1.0, en / cap)
            return _combine([now, _Part("power_capacity_mw", 0.4, 100.0 * share,
                                        f"{share * 100:.0f} % of {_n(cap)} MW gross energized")])
        # the energized share of an unknown gross is somewhere in (0, 1]
        return _combine([now, _unknown("power_capacity_mw" if en is not None else "energized_mw", 0.4)])
    if en is None and status is None:
        # energized now (60-100) or not (down to 0): wait for the energized MW / interconnection status
        return _combine([_unknown("energized_mw", 1.0, 0.0, 100.0)])
    w = PART_WEIGHTS["time_to_power"]
    parts = [_Part("energized_mw", w["energized_mw"], 0.0, "nothing energized (0 MW)")]
    if status is not None:
        parts.append(_Part("interconnection_status", w["interconnection_status"], INTERCONNECTION_SCORES[status],
                           f"interconnection {_c(status)}"))
    else:  # 0 MW energized: anything up to "approved"
        not_energized = {k: v for k, v in INTERCONNECTION_SCORES.items() if k != "energized"}
        parts.append(_unknown("interconnection_status", w["interconnection_status"], min(not_energized.values()),
                              max(not_energized.values())))
    if date is not None:
        months = _months_until(date, ctx.as_of)
        if months < 0:
            text = f"expected energization {date} has passed ({_n(-months)} months ago) without power"
        else:
            text = f"expected energization {date} ({_n(months)} months away)"
        parts.append(_Part("expected_energization_date", w["expected_energization_date"],
                           piecewise_linear(max(0.0, months), ENERGIZATION_MONTHS_POINTS), text))
    else:
        parts.append(_curve("expected_energization_date", w["expected_energization_date"], None,
                            ENERGIZATION_MONTHS_POINTS, ""))
    if en is None:
        # interconnection known but not "energized", MW unknown: expected as nothing energized (0), yet part
        # of the site may be energized already (then 60-100, above), so the band reaches 100: the part's
        # high end is what lifts the criterion's to 100 (learning the MW then never widens the band)
        rest = sum(p.weight * (p.high if p.score is None else p.score) for p in parts[1:])
        total_w = sum(p.weight for p in parts)
        parts[0] = _unknown("energized_mw", w["energized_mw"], 0.0,
                            max(0.0, (100.0 * total_w - rest) / w["energized_mw"]), prior_score=0.0)
    return _combine(parts)


def _hv_infrastructure(site: Site, ctx: ScoringContext) -> SubScore:
    owned, kv = site.substation_owned, site.substation_voltage_kv
    count, n1 = site.transformer_count, site.transformers_n_plus_1
    w = PART_WEIGHTS["hv_infrastructure"]
    parts = [
        _table("substation_owned", w["substation_owned"], owned, BOOL_SCORES,
               "own substation" if owned else "no own substation"),
        _curve("substation_voltage_kv", w["substation_voltage_kv"], kv, SUBSTATION_KV_POINTS,
               f"substation {_n(kv)} kV (>= 138 kV best)" if kv is not None else ""),
    ]
    wn = w["transformers_n_plus_1"]
    if n1 is True:
        parts.append(_Part("transformers_n_plus_1", wn, 100.0,
                           f"N+1 transformers ({count} in service)" if count is not None else "N+1 transformers"))
    elif n1 is False and count is not None:
        parts.append(_Part("transformers_n_plus_1", wn, 30.0 if count >= 1 else 0.0,
                           f"no N+1 transformer ({count} in service)"))
    elif n1 is False:  # one unit in service scores 30, none 0
        parts.append(_unknown("transformer_count", wn, 0.0, 30.0))
    elif count is not None:  # N+1 unknown: two or more units may be N+1
        lo = 30.0 if count >= 1 else 0.0
        hi = 100.0 if count >= 2 else lo
        parts.append(_unknown("transformers_n_plus_1", wn, lo, hi,
                              prior_score=piecewise_linear(count, TRANSFORMER_COUNT_POINTS)))
    else:
        parts.append(_unknown("transformers_n_plus_1", wn, 0.0, 100.0))
    return _combine(parts)


def _line_score(site: Site) -> tuple[float | None, str]:
    best: float | None = None
    texts = []
    for kv, factor in LINE_CLASS_FACTORS:
        d = site.get(f"dist_line_{kv}kv_km")
        if d is None:
            continue
        texts.append(f"{kv} kV+ line {fmt_number(d, 'km')}")
        s = factor * piecewise_linear(d, DISTANCE_POINTS)
        best = s if best is None else max(best, s)
    return best, ", ".join(texts) + " (< 2 km best, > 30 km poor)"


def _grid_proximity(site: Site, ctx: ScoringContext) -> SubScore:
    w = PART_WEIGHTS["grid_proximity"]
    best, text = _line_score(site)
    dsub = site.dist_substation_km
    return _combine([
        _Part("grid_lines", w["lines"], best, text) if best is not None else _unknown("grid_lines", w["lines"]),
        _curve("dist_substation_km", w["dist_substation_km"], dsub, DISTANCE_POINTS,
               f"substation {fmt_number(dsub, 'km')}" if dsub is not None else ""),
    ])


def _land(site: Site, ctx: ScoringContext) -> SubScore:
    acres, exp = site.land_acres, site.land_expandable
    target = ctx.t("campus_land_acres")
    w = PART_WEIGHTS["land"]
    return _combine([
        _curve("land_acres", w["land_acres"], acres, scaled(LAND_POINTS_REL, target),
               f"{_n(acres)} acres (>= {_n(target)} acres for a campus)" if acres is not None else ""),
        _table("land_expandable", w["land_expandable"], exp, BOOL_SCORES, "expandable" if exp else "not expandable"),
    ])


def _water(site: Site, ctx: ScoringContext) -> SubScore:
    src, vol, stress = site.water_source, site.water_volume_m3_per_year, site.water_stress
    w = PART_WEIGHTS["water"]
    vol_part = _curve("water_volume_m3_per_year", w["water_volume_m3_per_year"], None, WATER_VOLUME_POINTS, "")
    if vol is not None:
        mw, _ = site_power_mw(site)
        ref_note = ""
        if mw is None:
            mw, ref_note = 100.0, ", site MW unknown: 100 MW reference"
        it_mw = mw * ctx.critical_it_ratio
        need_m3 = it_mw * HOURS_PER_YEAR * ctx.t("water_wue_l_per_kwh")  # MWh * L/kWh = m3
        ratio = vol / need_m3 if need_m3 > 0 else 1.0
        vol_part = _Part("water_volume_m3_per_year", w["water_volume_m3_per_year"],
                         piecewise_linear(ratio, WATER_VOLUME_POINTS),
                         f"{_n(vol)} m3/yr = {ratio * 100:.0f} % of evaporative need {_n(need_m3)} m3/yr "
                         f"({_n(it_mw)} MW IT{ref_note})")
    return _combine([
        _table("water_source", w["water_source"], src, WATER_SOURCE_SCORES, f"water source {_c(src)} (rights secured best)"),
        _table("water_stress", w["water_stress"], stress, WATER_STRESS_SCORES, f"water stress {_c(stress)}"),
        vol_part,
    ])


def _fibre(site: Site, ctx: ScoringContext) -> SubScore:
    lat, dark = site.latency_to_metro_ms, site.dark_fibre_on_site
    dfib, dpop = site.dist_fibre_km, site.dist_pop_km
    target = ctx.t("metro_latency_ms")
    w = PART_WEIGHTS["fibre_latency"]
    if dark is True:
        fib = _Part("dist_fibre_km", w["dist_fibre_km"], 100.0, "fibre on site")
    else:
        fib = _curve("dist_fibre_km", w["dist_fibre_km"], dfib, FIBRE_ROUTE_POINTS,
                     f"fibre route {fmt_number(dfib, 'km')}" if dfib is not None else "")
    return _combine([
        _curve("latency_to_metro_ms", w["latency_to_metro_ms"], lat, scaled(LATENCY_POINTS_REL, target),
               f"{_n(lat)} ms to metro (< {_n(target)} ms best)" if lat is not None else ""),
        _table("dark_fibre_on_site", w["dark_fibre_on_site"], dark, DARK_FIBRE_SCORES,
               "dark fibre on site" if dark else "no dark fibre on site"),
        fib,
        _curve("dist_pop_km", w["dist_pop_km"], dpop, POP_POINTS, f"PoP {fmt_number(dpop, 'km')}" if dpop is not None else ""),
    ])


def _permits(site: Site, ctx: ScoringContext) -> SubScore:
    pp, zn, risk = site.power_permit, site.zoning, site.moratorium_risk
    w = PART_WEIGHTS["permits_zoning"]
    return _combine([
        _table("power_permit", w["power_permit"], pp, PERMIT_SCORES, f"power permit {_c(pp)}"),
        _table("zoning", w["zoning"], zn, ZONING_SCORES, f"zoning {_c(zn)}"),
        _table("moratorium_risk", w["moratorium_risk"], risk, MORATORIUM_SCORES, f"moratorium risk {_c(risk)}"),
    ])


def _cooling(site: Site, ctx: ScoringContext) -> SubScore:
    cur, dlc = site.cooling_current, site.dlc_path
    if cur == "direct_to_chip" and dlc is None:
        return _combine([_Part("dlc_path", 1.0, 100.0, "direct-to-chip cooling in place")])
    w = PART_WEIGHTS["cooling_design"]
    return _combine([
        _table("dlc_path", w["dlc_path"], dlc, DLC_SCORES, f"DLC path {_c(dlc)} (DLC-ready best)"),
        _table("cooling_current", w["cooling_current"], cur, COOLING_SCORES, f"current cooling {_c(cur)}"),
    ])


def _redundancy(site: Site, ctx: ScoringContext) -> SubScore:
    w = PART_WEIGHTS["redundancy"]
    return _combine([
        _table(f"redundancy_{k}", w[f"redundancy_{k}"], v, REDUNDANCY_SCORES, f"{k} {_c(v)}")
        for k, v in (("power", site.redundancy_power), ("cooling", site.redundancy_cooling),
                     ("network", site.redundancy_network))
    ])


def _rack_density(site: Site, ctx: ScoringContext) -> SubScore:
    kw, hall = site.max_rack_kw, site.hall_type
    target = ctx.t("target_rack_kw")
    w = PART_WEIGHTS["rack_density"]
    return _combine([
        _curve("max_rack_kw", w["max_rack_kw"], kw, rack_kw_points(target),
               f"{_n(kw)} kW/rack (>= {_n(target)} kW/rack path best)" if kw is not None else ""),
        _table("hall_type", w["hall_type"], hall, HALL_SCORES, f"hall type {_c(hall)}"),
    ])


def _labour(site: Site, ctx: ScoringContext) -> SubScore:
    r = site.labour_rating
    return _combine([_curve("labour_rating", 1.0, r, ((1, 0), (5, 100)),
                            f"skilled labour rating {r}/5" if r is not None else "")])


def _equipment(site: Site, ctx: ScoringContext) -> SubScore:
    st, lead = site.equipment_status, site.equipment_lead_time_months
    if st == "owned":
        return _combine([_Part("equipment_status", 1.0, 100.0, "transformers/switchgear owned (best)")])
    w = PART_WEIGHTS["long_lead_equipment"]
    return _combine([
        _table("equipment_status", w["equipment_status"], st, EQUIPMENT_SCORES, f"long-lead equipment {_c(st)}"),
        _curve("equipment_lead_time_months", w["equipment_lead_time_months"], lead, EQUIPMENT_LEAD_POINTS,
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
        """The :class:`SubScore` of ``site``; unpacks to (score on known parts or None, reason, missing)."""
        return self.scorer(site, ctx or ScoringContext())


_W = DEFAULT_WEIGHTS
CRITERIA: tuple[Criterion, ...] = (
    Criterion("power_scale", "Power scale at one site", ("power_capacity_mw", "energized_mw", "pipeline_mw"),
              _W["power_scale"], "log MW scale (20 MW -> 20, 200 MW -> 70, >= 1 GW -> 100): energized MW 70 %, "
              "gross MW 30 %; < 20 MW gross is a hard gate", _power_scale),
    Criterion("time_to_power", "Time to power",
              ("energized_mw", "interconnection_status", "expected_energization_date", "power_capacity_mw"),
              _W["time_to_power"], "energized now: 60 + 40 x energized share; else interconnection status and "
              "months to expected energization (0 m -> 70, 24 m -> 40, >= 60 m -> 0)", _time_to_power),
    Criterion("hv_infrastructure", "HV infrastructure on site",
              ("substation_owned", "substation_voltage_kv", "transformer_count", "transformers_n_plus_1"),
              _W["hv_infrastructure"], "own substation 40 %, voltage (>= 138 kV full) 35 %, N+1 transformers 25 %",
              _hv_infrastructure),
    Criterion("grid_proximity", "Grid proximity",
              ("dist_line_138kv_km", "dist_line_230kv_km", "dist_line_345kv_km", "dist_line_500kv_km",
               "dist_substation_km"),
              _W["grid_proximity"], "nearest line (345 kV+ full, 230 kV x0.85, 138 kV x0.6) 70 %, substation 30 %; "
              "< 2 km -> 100, 10 km -> 75, 30 km -> 25, >= 60 km -> 0", _grid_proximity),
    Criterion("land", "Land", ("land_acres", "land_expandable"), _W["land"],
              ">= 100 acres -> 100 (85 %), expandable (15 %)", _land),
    Criterion("water", "Water for cooling", ("water_source", "water_stress", "water_volume_m3_per_year"),
              _W["water"], "source (rights secured best) 50 %, stress 25 %, volume vs evaporative need 25 %", _water),
    Criterion("fibre_latency", "Fibre and latency",
              ("latency_to_metro_ms", "dark_fibre_on_site", "dist_fibre_km", "dist_pop_km"), _W["fibre_latency"],
              "latency (< 10 ms best) 35 %, dark fibre on site 25 %, fibre distance 25 %, PoP distance 15 %",
              _fibre),
    Criterion("permits_zoning", "Permits and zoning", ("power_permit", "zoning", "moratorium_risk"),
              _W["permits_zoning"], "power permit 40 %, zoning 35 %, moratorium risk 25 %; all in place best",
              _permits),
    Criterion("cooling_design", "Cooling design", ("dlc_path", "cooling_current"), _W["cooling_design"],
              "path to direct liquid cooling 70 % (DLC-ready best), current cooling 30 %", _cooling),
    Criterion("redundancy", "Redundancy", ("redundancy_power", "redundancy_cooling", "redundancy_network"),
              _W["redundancy"], "N -> 20, N+1 -> 85 (AI minimum), 2N -> 100; power 50 %, cooling 25 %, network 25 %",
              _redundancy),
    Criterion("rack_density", "Rack density / form factor", ("max_rack_kw", "hall_type"), _W["rack_density"],
              "kW/rack (8.4 -> 10, 40 -> 40, >= 130 -> 100) 75 %, hall type 25 %", _rack_density),
    Criterion("skilled_labour", "Skilled labour", ("labour_rating",), _W["skilled_labour"], "rating 1-5 -> 0-100",
              _labour),
    Criterion("long_lead_equipment", "Long-lead equipment", ("equipment_status", "equipment_lead_time_months"),
              _W["long_lead_equipment"], "owned -> 100; else status 60 % and lead time (6 m -> 90, 24 m -> 35, "
              ">= 48 m -> 0) 40 %", _equipment),
)
CRITERIA_BY_KEY: dict[str, Criterion] = {c.key: c for c in CRITERIA}


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
        if key in RETIRED_THRESHOLDS:
            continue
        if key not in DEFAULT_THRESHOLDS:
            raise ReadinessError(f"settings readiness_thresholds: unknown key {key!r}. "
                                 f"Use one of: {', '.join(DEFAULT_THRESHOLDS)}")
        if real_number(value) is None or value < 0:
            raise ReadinessError(f"settings readiness_thresholds {key} = {value!r}: must be a number >= 0. "
                                 "Enter a non-negative number")
        out[key] = float(value)
    return out


def critical_it_ratio(settings: Mapping[str, Any] | None) -> float:
    """Critical IT MW per gross MW: the ``critical_it_ratio`` assumption in force (DOMAIN 4: 0.67-0.80)."""
    return float(assumptions_from_settings(dict(settings or {})).critical_it_ratio)


# ---------------------------------------------------------------------------------------
# gates
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Gate:
    """A hard gate. ``check`` returns the failure reason, or None when passed or not decidable;
    ``could_fail`` says what unknown data could still make it fail (None when it cannot)."""

    key: str
    label: str
    criterion: str
    rule: str
    check: Callable[[Site, ScoringContext], "str | None"] = field(repr=False, compare=False)
    could_fail: Callable[[Site, ScoringContext], "str | None"] = field(repr=False, compare=False,
                                                                       default=lambda s, c: None)


def _gate_min_power(site: Site, ctx: ScoringContext) -> str | None:
    limit = ctx.t("gate_min_power_mw")
    if site.power_capacity_mw is not None:
        mw, what = site.power_capacity_mw, "gross capacity"
    elif site.energized_mw is not None and site.energized_mw > 0:  # 0 MW energized says nothing of the scale
        mw, what = site.energized_mw, "energized (gross unknown)"
    else:
        return None
    if mw < limit:
        return f"power scale: {_n(mw)} MW {what} is below the {_n(limit)} MW minimum for an AI/HPC campus"
    return None


def _open_min_power(site: Site, ctx: ScoringContext) -> str | None:
    if site.power_capacity_mw is None and not (site.energized_mw or 0) > 0:
        return f"site MW unknown: below {_n(ctx.t('gate_min_power_mw'))} MW it fails the power gate"
    return None


def _gate_path_to_power(site: Site, ctx: ScoringContext) -> str | None:
    limit = ctx.t("gate_max_line_distance_km")
    d69 = site.dist_line_69kv_km
    if site.interconnection_status != "none" or (site.energized_mw or 0) > 0 or d69 is None:
        return None
    if d69 > limit:
        return (f"no path to power: nothing energized, interconnection 'none' and the nearest line >= 69 kV is "
                f"{fmt_number(d69, 'km')} away (> {_n(limit)} km)")
    return None


def _open_path_to_power(site: Site, ctx: ScoringContext) -> str | None:
    st, en, d69 = site.interconnection_status, site.energized_mw, site.dist_line_69kv_km
    conditions = (None if st is None else st == "none",           # interconnection 'none'
                  None if en is None else en <= 0,                 # nothing energized
                  None if d69 is None else d69 > ctx.t("gate_max_line_distance_km"))
    if False in conditions or None not in conditions:
        return None  # passes, or failed on known facts (check says so)
    missing = [name for name, c in zip(("interconnection status", "energized MW", "distance to a >= 69 kV line"),
                                       conditions) if c is None]
    return f"{', '.join(missing)} unknown: with no path to power the site fails the path-to-power gate"


GATES: dict[str, Gate] = {
    "min_power": Gate("min_power", "Minimum power scale", "power_scale",
                      "gross capacity (energized if unknown) < gate_min_power_mw fails", _gate_min_power,
                      _open_min_power),
    "path_to_power": Gate("path_to_power", "Path to power", "time_to_power",
                          "no energized MW, interconnection 'none' and no line >= 69 kV within "
                          "gate_max_line_distance_km fails", _gate_path_to_power, _open_path_to_power),
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
                           f"DLC path {_c(dlc)}: {it_txt} x {fmt_usd(costs['dlc_retrofit_usd_per_mw_it'])}/MW",
                           per_it("dlc_retrofit_usd_per_mw_it"), costs["dlc_retrofit_months"]))
    # racks / halls
    kw, hall = site.max_rack_kw, site.hall_type
    target_kw = ctx.t("target_rack_kw")
    if hall in ("containers", "greenfield") or (kw is not None and kw < target_kw and hall != "rack_mount_halls"):
        why = f"hall type {_c(hall)}" if hall else f"{_n(kw)} kW/rack < {_n(target_kw)}"  # type: ignore[arg-type]
        out.append(Upgrade("hall_buildout", f"Rack hall build-out for >= {_n(target_kw)} kW/rack",
                           f"{why}: {it_txt} x {fmt_usd(costs['hall_buildout_usd_per_mw_it'])}/MW",
                           per_it("hall_buildout_usd_per_mw_it"), costs["hall_buildout_months"]))
    elif kw is not None and kw < target_kw:
        out.append(Upgrade("rack_density", f"Rack density upgrade to >= {_n(target_kw)} kW/rack",
                           f"{_n(kw)} kW/rack in rack-mount halls: {it_txt} x "
                           f"{fmt_usd(costs['rack_density_upgrade_usd_per_mw_it'])}/MW",
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
                        f"{fmt_usd(costs['transformer_fixed_usd'])} + {fmt_usd(costs['transformer_usd_per_mva'])}/MVA")
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
                           f"{why}: {_n(mw)} MW x {fmt_usd(sub_cost)}/MW" if mw is not None else
                           f"{why}: site MW unknown, capex unknown",
                           None if mw is None else mw * sub_cost, costs["substation_months"], critical=True))
        if d138 is not None:
            out.append(Upgrade("hv_line", "HV line / tap to the grid (>= 138 kV)",
                               f"{fmt_number(d138, 'km')} to the nearest >= 138 kV line x {fmt_usd(costs['hv_line_usd_per_km'])}/km",
                               d138 * costs["hv_line_usd_per_km"], costs["hv_line_months"], critical=True))
        else:
            out.append(Upgrade("hv_line", "HV line / tap to the grid (>= 138 kV)",
                               "distance to the nearest >= 138 kV line unknown (run proximity), capex unknown",
                               None, costs["hv_line_months"], critical=True))
    elif owned is True and mw is not None and en is not None and mw > en:
        short = en < gate_mw  # the first usable block of power waits for this expansion
        out.append(Upgrade("substation_expansion", "Substation expansion",
                           f"{_n(mw - en)} MW not yet energized ({_n(mw)} MW {basis} - {_n(en)} MW) x "
                           f"{fmt_usd(sub_cost)}/MW", (mw - en) * sub_cost, costs["substation_months"],
                           critical=short, on_power_path=short))
    # fibre
    dark, dfib = site.dark_fibre_on_site, site.dist_fibre_km
    if dark is not True and dfib is not None and (dark is False or dfib > 1.0):
        out.append(Upgrade("fibre_build", "Fibre lateral build",
                           f"{fmt_number(dfib, 'km')} to the nearest fibre route x {fmt_usd(costs['fibre_build_usd_per_km'])}/km",
                           dfib * costs["fibre_build_usd_per_km"], costs["fibre_build_months"]))
    elif dark is False:
        out.append(Upgrade("fibre_build", "Fibre lateral build",
                           "no fibre on site, distance to fibre unknown (run proximity), capex unknown",
                           None, costs["fibre_build_months"]))
    # water
    if site.water_source == "none":
        out.append(Upgrade("water_rights", "Water rights / supply", "no water source: lump sum "
                           f"{fmt_usd(costs['water_rights_usd'])}", costs["water_rights_usd"],
                           costs["water_rights_months"]))
    # permits
    pp, zn = site.power_permit, site.zoning
    todo = [t for t, bad in ((f"power permit {_c(pp)}", pp in ("pending", "none")),
                             (f"zoning {_c(zn)}", zn in ("rezoning_pending", "not_zoned"))) if bad]
    if todo:
        out.append(Upgrade("permitting", "Permits and zoning", ", ".join(todo) +
                           f": lump sum {fmt_usd(costs['permitting_usd'])}", costs["permitting_usd"],
                           costs["permitting_months"], critical=pp == "none" or zn == "not_zoned"))
    return out


# ---------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------
#: Every site field readiness reads (criteria, gates, upgrades). Status, AI partner, notes, sources,
#: operator, location text and the ASIC fleet are not among them: they never move a score.
INPUT_FIELDS: frozenset[str] = frozenset(
    {f for c in CRITERIA for f in c.fields}
    | {"dist_line_69kv_km", "dist_fibre_km", "dist_pop_km", "dark_fibre_on_site", "latency_to_metro_ms",
       "cooling_current", "dlc_path", "max_rack_kw", "hall_type", "transformers_n_plus_1", "transformer_count",
       "redundancy_power", "substation_owned", "substation_voltage_kv", "equipment_lead_time_months",
       "water_source", "power_permit", "zoning"})

_CLASS_ORDER = ("ready_now", "convertible_with_upgrades", "insufficient_data", "mining_only")


@dataclass(frozen=True)
class CriterionScore:
    """One criterion's result for one site: expected score and band (low-high), weight, reason."""

    key: str
    label: str
    score: float
    weight: float
    reason: str
    missing: bool
    gate_failed: bool = False
    low: float = 0.0
    high: float = 100.0
    known_pct: float = 0.0
    unknown: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReadinessResult:
    """Readiness of one site: expected total with its band, class, completeness, criteria, gates, upgrades."""

    site_id: str
    total: float
    klass: str
    class_label: str
    completeness_pct: float
    criteria: list[CriterionScore]
    gates_failed: list[str]
    upgrades: list[Upgrade]
    capex_total_usd: float | None
    time_to_power_months: float | None
    weights_profile: str = "default"
    total_low: float = 0.0
    total_high: float = 100.0
    class_low: str = "mining_only"
    class_high: str = "ready_now"
    gates_open: list[str] = field(default_factory=list)
    class_expected: str = ""   # the class at the expected total (what an undecided site leans to)

    @property
    def leans(self) -> str | None:
        """An undecided site's class at its expected total (``convertible_with_upgrades`` ...), else None."""
        if self.klass != "insufficient_data" or self.class_expected not in READINESS_CLASSES:
            return None
        return self.class_expected

    @property
    def class_text(self) -> str:
        """``"Insufficient data (leans Convertible)"`` for an undecided site, else the class label."""
        lean = self.leans
        return self.class_label if lean is None else f"{self.class_label} (leans {READINESS_SHORT_LABELS[lean]})"

    @property
    def band_text(self) -> str:
        """``"72 (60-85)"``: expected total and its band, rounded; ``"72"`` when fully known."""
        lo, hi = round(self.total_low), round(self.total_high)
        return f"{self.total:.0f}" if lo == hi else f"{self.total:.0f} ({lo}-{hi})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (numbers, strings, lists, None) for reports and the CLI; ``class`` = ``klass`` and
        ``completeness`` = ``completeness_pct`` (the names of ``planner score --json``)."""
        d = asdict(self)
        d["class"] = self.klass
        d["completeness"] = self.completeness_pct
        return d

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


def _class_at(total: float, gated: bool, critical: bool, ctx: ScoringContext) -> str:
    if gated:
        return "mining_only"
    if total >= ctx.t("ready_now_min_total") and not critical:
        return "ready_now"
    if total >= ctx.t("convertible_min_total"):
        return "convertible_with_upgrades"
    return "mining_only"


def _decide(low: str, high: str, failed: bool) -> str:
    """The class from the classes at both ends of the band (module docstring, rules 1-4)."""
    if failed or (low == "mining_only" and high == "mining_only"):
        return "mining_only"
    if low == "ready_now":
        return "ready_now"
    if low != "mining_only":
        return "convertible_with_upgrades"
    return "insufficient_data"


def _gate_state(site: Site, p: _Prepared) -> tuple[list[tuple[str, str]], list[str]]:
    """The failed gates as (criterion key, reason) and what unknown data could still fail one."""
    failed: list[tuple[str, str]] = []  # (criterion key, reason)
    open_: list[str] = []
    for key in p.gates:
        reason = GATES[key].check(site, p.ctx)
        if reason:
            failed.append((GATES[key].criterion, reason))
        else:
            maybe = GATES[key].could_fail(site, p.ctx)
            if maybe:
                open_.append(maybe)
    return failed, open_


def _weighted(values: Iterable[tuple[float, float]], all_w: float) -> float:
    """The weighted mean of (weight, sub-score) pairs over the sum of all weights, 0-100, 2 decimals."""
    return round(_clamp(sum(w * v for w, v in values) / all_w), 2)


def _classes(total: float, low: float, high: float, failed: bool, open_: bool, critical: bool,
             ctx: ScoringContext) -> tuple[str, str, str, str]:
    """(class at the low end, at the high end, decided class, class at the expected total)."""
    class_low = _class_at(low, failed or open_, critical, ctx)
    class_high = _class_at(high, failed, critical, ctx)
    return class_low, class_high, _decide(class_low, class_high, failed), _class_at(total, failed, critical, ctx)


def _rounded(sub: SubScore) -> tuple[float, float, float]:
    """A sub-score's (expected, low, high) as the result keeps them."""
    return round(sub.score, 2), round(sub.low, 2), round(sub.high, 2)


def _score(site: Site, p: _Prepared) -> ReadinessResult:
    ctx = p.ctx
    failed, open_ = _gate_state(site, p)
    gated = {crit for crit, _ in failed}
    scores: list[CriterionScore] = []
    for c in CRITERIA:
        sub = c.score(site, ctx)
        expected, low_c, high_c = _rounded(sub)
        scores.append(CriterionScore(c.key, c.label, expected, p.weights[c.key], sub.reason,
                                     sub.known_share <= 0.0, c.key in gated, low_c, high_c,
                                     round(100.0 * sub.known_share, 1), sub.unknown))
    all_w = sum(p.weights.values())
    total = _weighted(((c.weight, c.score) for c in scores), all_w)
    low = _weighted(((c.weight, c.low) for c in scores), all_w)
    high = _weighted(((c.weight, c.high) for c in scores), all_w)
    completeness = 100.0 * sum(c.weight * c.known_pct / 100.0 for c in scores) / all_w
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
    critical = any(u.critical for u in upgrades)
    class_low, class_high, klass, class_expected = _classes(total, low, high, bool(gates_failed), bool(open_),
                                                            critical, ctx)
    return ReadinessResult(
        site_id=site.site_id, total=total, klass=klass, class_label=READINESS_CLASSES[klass],
        completeness_pct=round(completeness, 2), criteria=scores, gates_failed=gates_failed,
        upgrades=upgrades, capex_total_usd=None if capex is None else round(capex, 2),
        time_to_power_months=None if ttp is None else round(ttp, 1), weights_profile=p.profile,
        total_low=low, total_high=high, class_low=class_low, class_high=class_high, gates_open=open_,
        class_expected=class_expected)


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


#: Class filter keys of undecided sites by lean (``insufficient_data:convertible_with_upgrades`` ...)
#: and their labels, for the sites table's class filter.
LEANING_FILTERS: dict[str, str] = {
    f"insufficient_data:{k}": f"Insufficient data (leans {READINESS_SHORT_LABELS[k]})"
    for k in ("ready_now", "convertible_with_upgrades", "mining_only")
}


def class_keys(result: Any) -> set[str]:
    """The class filter keys ``result`` matches: its class, and ``<class>:<lean>`` when undecided."""
    klass = getattr(result, "klass", None)
    if klass is None:
        return set()
    lean = getattr(result, "leans", None)
    return {klass} | ({f"{klass}:{lean}"} if lean else set())


def counts_text(results: Iterable[Any]) -> str:
    """One line for the status bar: ``"2 convertible (decided) · 38 undecided (38 lean convertible)"``.

    Decided classes first (those with sites), then the undecided ones with what they lean to.
    """
    decided: Counter[str] = Counter()
    leaning: Counter[str] = Counter()
    undecided = 0
    for r in results:
        if r.klass == "insufficient_data":
            undecided += 1
            if r.leans:
                leaning[r.leans] += 1
        else:
            decided[r.klass] += 1
    if not decided and not undecided:
        return "no readiness scores"
    parts = [f"{decided[k]} {READINESS_SHORT_LABELS[k].lower()} (decided)"
             for k in _CLASS_ORDER if decided.get(k)]
    if not decided:
        parts.append("0 decided")
    if undecided:
        lean = ", ".join(f"{leaning[k]} lean {READINESS_SHORT_LABELS[k].lower()}" for k in _CLASS_ORDER if leaning.get(k))
        parts.append(f"{undecided} undecided" + (f" ({lean})" if lean else ""))
    return " \u00b7 ".join(parts)


def decision_gaps(site: Site) -> list[str]:
    """Missing facts that keep a decision on ``site`` from being made, each with what it blocks:
    no location (not on the map, no grid / fibre / metro distances) and no MW at all (the
    minimum-power gate stays open, no economics). Empty when neither is missing."""
    gaps = []
    if site.lat is None or site.lon is None:
        gaps.append("no location: not on the map, and its grid, fibre and metro distances cannot be measured "
                    "(enter lon/lat, then run proximity)")
    if site_power_mw(site)[0] is None:
        gaps.append("no MW (gross, energized and pipeline unknown): the minimum-power gate stays open and "
                    "no economics can run")
    return gaps


def rank_results(results: Iterable[ReadinessResult]) -> list[ReadinessResult]:
    """Results best first: gate failures last, then expected total, then the low end, then site_id."""
    return sorted(results, key=lambda r: (bool(r.gates_failed), -r.total, -r.total_low, r.site_id))


# ---------------------------------------------------------------------------------------
# what to find out next (value of information)
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fact:
    """An unknown fact of a site and how far knowing it can move the site's total and class."""

    key: str
    prompt: str
    sentence: str
    total_min: float
    total_max: float
    classes: tuple[str, ...]
    moves_class: bool

    @property
    def swing(self) -> float:
        return round(self.total_max - self.total_min, 2)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "swing": self.swing}


_LINE_FIELDS = tuple(f"dist_line_{kv}kv_km" for kv in (69, 138, 230, 345, 500))


def _trials(key: str, site: Site, ctx: ScoringContext) -> list[Site]:
    """``site`` with fact ``key`` set to each of its trial values (energized never above gross)."""
    if key == "grid_lines":
        return [site.with_computed({f: float(d) for f in _LINE_FIELDS}) for d in FACT_TRIAL_VALUES[key]]
    spec = FIELDS[key]
    if spec.kind == "enum":
        values: Sequence[Any] = spec.choices
    elif spec.kind == "bool":
        values = (True, False)
    elif spec.kind == "date":
        values = [(ctx.as_of + _dt.timedelta(days=round(m * 30.4375))).isoformat() for m in (0, 12, 24, 48, 60)]
    else:
        values = FACT_TRIAL_VALUES.get(key, ())
    if key == "energized_mw" and site.power_capacity_mw is not None:
        values = [v for v in values if v <= site.power_capacity_mw] + [site.power_capacity_mw]
    if key == "power_capacity_mw" and site.energized_mw is not None:
        values = [v for v in values if v >= site.energized_mw] + [site.energized_mw]
    base = site.to_dict()  # trial values are valid by construction: no re-validation of unrelated fields
    return [Site({**base, key: v}) for v in dict.fromkeys(values)]


def next_facts(site: Site, settings: Mapping[str, Any] | None = None, *, as_of: _dt.date | None = None,
               result: ReadinessResult | None = None) -> list[Fact]:
    """The site's unknown facts, ranked by how far knowing each can move the class, then the total.

    Each fact is tried at every value of its range (enum choices, yes/no, the numbers of
    :data:`~planner.model.readiness_rules.FACT_TRIAL_VALUES`) with every other unknown left unknown;
    the expected totals and classes reached give the sentence, e.g. "Confirm the substation's kV:
    can move this site from Convertible with upgrades to Ready now".
    """
    p = _prepare(settings, as_of)
    memo = json.dumps([site.to_dict(), settings, p.ctx.as_of.isoformat()], sort_keys=True, default=str)
    with _FACTS_LOCK:  # the form, the Readiness panel and the map ask for the selected site
        hit = _FACTS_MEMO.get(memo)
        if hit is not None:
            _FACTS_MEMO.move_to_end(memo)
            return list(hit)
    facts = _next_facts(site, p, result or _score(site, p))
    with _FACTS_LOCK:
        _FACTS_MEMO[memo] = tuple(facts)
        while len(_FACTS_MEMO) > _FACTS_MEMO_SIZE:
            _FACTS_MEMO.popitem(last=False)
    return facts


#: Recent next_facts answers by site content, settings and date (each costs ~5 ms, benchmarks/bench_next_facts.py).
_FACTS_MEMO: OrderedDict[str, tuple[Fact, ...]] = OrderedDict()
_FACTS_MEMO_SIZE = 256
_FACTS_LOCK = threading.Lock()


class _ReadLog(dict[str, Any]):
    """A site's values that note which fields are read (:class:`_TrialScorer`). Any access that
    could reveal every value (iteration, copy, comparison) counts as reading everything."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        super().__init__(values)
        self.read: set[str] = set()
        self.everything = False

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self.read.add(str(key))
        return super().__contains__(key)

    def _all(self) -> None:
        self.everything = True

    def __iter__(self) -> Iterator[str]:
        self._all()
        return super().__iter__()

    def keys(self) -> Any:
        self._all()
        return super().keys()

    def values(self) -> Any:
        self._all()
        return super().values()

    def items(self) -> Any:
        self._all()
        return super().items()

    def copy(self) -> dict[str, Any]:
        self._all()
        return dict(super().items())

    def __eq__(self, other: object) -> bool:
        self._all()
        return super().__eq__(other)



def _criterion_values(c: Criterion, ctx: ScoringContext, site: Site) -> tuple[float, float, float]:
    return _rounded(c.score(site, ctx))


def _read_by(fn: Callable[[Site], Any], site: Site) -> tuple[Any, frozenset[str] | None]:
    """``fn(site)`` and the fields it read (None: possibly all of them)."""
    log = _ReadLog(site.to_dict())
    traced = Site.__new__(Site)
    object.__setattr__(traced, "_values", log)
    value = fn(traced)
    return value, None if log.everything else frozenset(log.read)


class _TrialScorer:
    """The expected total and class of a site with some fields changed, as :func:`_score` gives them,
    recomputing only the parts that read a changed field.

    Each part of the score (every criterion, the gates, the upgrades' critical flag) is a function
    of the fields it reads: run once on the site with the reads noted, a part that read none of the
    changed fields gives the same answer on the changed site (same reads, same values, same steps),
    so its result is reused. The totals and classes are then combined by the same functions and in
    the same order as in :func:`_score`: identical numbers, ~10x fewer criterion runs in next_facts.
    """

    def __init__(self, site: Site, p: _Prepared) -> None:
        self.p = p
        self.all_w = sum(p.weights.values())
        self.weights = [p.weights[c.key] for c in CRITERIA]
        self.parts = [_read_by(functools.partial(_criterion_values, c, p.ctx), site) for c in CRITERIA]
        self.gates = _read_by(lambda s: _gate_state(s, p), site)
        self.critical = _read_by(lambda s: any(u.critical for u in compute_upgrades(s, p.costs, p.ctx)), site)

    @staticmethod
    def _stale(reads: frozenset[str] | None, changed: frozenset[str]) -> bool:
        return reads is None or not reads.isdisjoint(changed)

    def outcome(self, trial: Site, changed: frozenset[str]) -> tuple[float, str]:
        """(expected total, class) of ``trial``: the scored site with only ``changed`` fields different."""
        p, stale = self.p, self._stale
        subs = [c.score(trial, p.ctx) if stale(reads, changed) else None for c, (_v, reads) in zip(CRITERIA, self.parts)]
        values = [_rounded(sub) if sub is not None else value for sub, (value, _r) in zip(subs, self.parts)]
        failed, open_ = _gate_state(trial, p) if stale(self.gates[1], changed) else self.gates[0]
        critical = any(u.critical for u in compute_upgrades(trial, p.costs, p.ctx)) \
            if stale(self.critical[1], changed) else self.critical[0]
        total = _weighted(((w, v[0]) for w, v in zip(self.weights, values)), self.all_w)
        low = _weighted(((w, v[1]) for w, v in zip(self.weights, values)), self.all_w)
        high = _weighted(((w, v[2]) for w, v in zip(self.weights, values)), self.all_w)
        return total, _classes(total, low, high, bool(failed), bool(open_), critical, p.ctx)[2]


#: How a trial site is scored in :func:`_next_facts`: (trial, fields changed) -> (total, class).
TrialOutcome = Callable[[Site, frozenset[str]], tuple[float, str]]


def _next_facts(site: Site, p: _Prepared, base: ReadinessResult, outcome: TrialOutcome | None = None) -> list[Fact]:
    """The facts of :func:`next_facts`; ``outcome`` scores the trial sites (default: a
    :class:`_TrialScorer`; the tests and the benchmark pass a full :func:`_score` to compare)."""
    score_trial = outcome or _TrialScorer(site, p).outcome
    keys: list[str] = []
    for c in base.criteria:
        keys.extend(k for k in c.unknown if k not in keys)
    for key in ("energized_mw", "interconnection_status", "power_capacity_mw"):
        if base.gates_open and site.get(key) is None and key not in keys:
            keys.append(key)
    if base.gates_open and site.dist_line_69kv_km is None and "grid_lines" not in keys:
        keys.append("grid_lines")
    facts = []
    for key in keys:
        changed = frozenset(_LINE_FIELDS if key == "grid_lines" else (key,))
        results = [score_trial(s, changed) for s in _trials(key, site, p.ctx)]
        if not results:
            continue
        lo, hi = min(total for total, _k in results), max(total for total, _k in results)
        classes = tuple(k for k in _CLASS_ORDER if any(klass == k for _t, klass in results))
        others = [READINESS_CLASSES[k] for k in classes if k != base.klass]
        prompt = FACT_PROMPTS.get(key, f"Find out {FIELDS[key].label.lower()}" if key in FIELDS else key)
        if others:
            sentence = f"{prompt}: can move this site from {base.class_label} to {' or '.join(others)}"
        else:
            sentence = (f"{prompt}: moves the expected total between {lo:.0f} and {hi:.0f} "
                        f"(now {base.total:.0f}), class stays {base.class_label}")
        facts.append(Fact(key, prompt, sentence, lo, hi, classes, bool(others)))
    return sorted(facts, key=lambda f: (not f.moves_class, -f.swing, f.key))
