"""Scenario tools: named scenario comparison, one-at-a-time sensitivity (tornado) and network diversion."""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from planner.model.assumptions import ASSUMPTIONS, SCENARIOS, AssumptionError, Assumptions, assumptions_from_settings
from planner.model.economics import (
    PathComparison, hashprice_usd_per_ph_day, hashrate_hs, mining_state, site_paths)
from planner.model.site import PlannerError, Site

#: Assumptions varied by :func:`tornado` by default (the ones that move NPV most in practice).
TORNADO_KEYS: tuple[str, ...] = (
    "btc_price_usd", "btc_price_growth_per_year", "marginal_power_usd_per_mwh", "efficiency_gain_per_year",
    "power_price_usd_per_mwh", "asic_price_usd_per_th", "mining_opex_usd_per_mw_year", "uptime",
    "lease_rate_usd_per_kw_month", "lease_term_years", "lease_renewal_probability", "noi_margin",
    "conversion_capex_usd_per_mw_it", "critical_it_ratio", "discount_rate", "hybrid_mining_share",
    "ai_exit_multiple_noi", "existing_fleet_age_years",
)
PATHS: tuple[str, ...] = ("mining", "ai_lease", "hybrid")

#: Absolute steps (in the model unit) of the tornado for rates and for inputs whose base is 0: a relative
#: +-20 % of a 0 %/yr growth is no move at all, and of a 10 %/yr discount rate only 2 points.
RATE_STEP = 0.05                                    # rates (1/yr): +-5 percentage points...
RATE_STEPS: dict[str, float] = {"discount_rate": 0.02, "lease_escalator_per_year": 0.01}  # ...except these
SHARE_STEP_AT_ZERO = 0.05                           # a share (fraction) at 0: +-5 percentage points
POWER_PRICE_STEP_AT_ZERO = 10.0                     # a site power price of 0 $/MWh: +-10 $/MWh


class TornadoBar(NamedTuple):
    """NPV of one path with one assumption at its low and high value (the others at base)."""

    key: str
    label: str
    npv_low: float
    npv_high: float
    value_low: float
    value_high: float
    #: How the input was moved, e.g. "+-20 %" (relative) or "+-5 pp" (absolute percentage points).
    step: str = ""

    @property
    def swing_usd(self) -> float:
        """Width of the bar (|high - low|)."""
        return abs(self.npv_high - self.npv_low)

    @property
    def range_text(self) -> str:
        """The low and high input values as people read them (``-5 to 5 %/yr``, ``$36 to $54/MWh``)."""
        key = "power_price_usd_per_mwh" if self.key == "power_price_usd_per_mwh" else self.key
        spec = ASSUMPTIONS.get(key)
        if spec is None:
            return f"{self.value_low:,.4g} to {self.value_high:,.4g}"
        lo, hi = spec.display(self.value_low), spec.display(self.value_high)
        n = 0
        while n < min(len(lo), len(hi)) and lo[-1 - n] == hi[-1 - n]:
            n += 1
        tail = hi[len(hi) - n:] if n else ""
        cut = min((tail.find(c) for c in " /x%" if c in tail), default=-1)
        if cut >= 0 and tail[cut:].strip():  # one unit for both ends: "$56 to $84/MWh", "-5 to 5 %/yr"
            lo = lo[: len(lo) - len(tail) + cut].rstrip()
        return f"{lo} to {hi}"

    @property
    def row_label(self) -> str:
        """The bar's label with the values used: ``BTC price growth (-5 to 5 %/yr)``."""
        return f"{self.label} ({self.range_text})"


def step_summary(bars: Sequence[TornadoBar]) -> str:
    """The steps used by ``bars`` in one phrase, most common first (``+-20 %; rates +-5 pp``)."""
    seen: dict[str, int] = {}
    for b in bars:
        if b.step:
            seen[b.step] = seen.get(b.step, 0) + 1
    return "; ".join(sorted(seen, key=lambda k: -seen[k]))


def compare_scenarios(site: Site, settings: Mapping[str, Any] | None = None,
                      names: Sequence[str] | None = None) -> dict[str, PathComparison]:
    """:func:`site_paths` of ``site`` under each named scenario (built-in plus ``settings["scenarios"]``)."""
    settings = settings or {}
    if names is None:
        names = list(SCENARIOS) + [n for n in (settings.get("scenarios") or {}) if n not in SCENARIOS]
    return {n: site_paths(site, assumptions_from_settings(settings, scenario=n)) for n in names}


def _pp(step: float) -> str:
    return f"\u00b1{step * 100:g} pp"


def _swing_values(key: str, base: float, swing: float) -> tuple[float, float, str]:
    """Low and high value of ``key`` around ``base`` and the step as text.

    Rates (1/yr) move by an absolute step in percentage points (:data:`RATE_STEP`, :data:`RATE_STEPS`);
    a share at 0 by :data:`SHARE_STEP_AT_ZERO`; any other input at 0 by ``swing`` times its default;
    everything else by ``swing`` relative. Clamped to the valid range (integers rounded outwards).
    """
    spec = ASSUMPTIONS[key]
    lo_lim = -math.inf if spec.minimum is None else spec.minimum
    hi_lim = math.inf if spec.maximum is None else spec.maximum
    if spec.unit == "1/yr":
        step = RATE_STEPS.get(key, RATE_STEP)
        lo, hi, text = base - step, base + step, _pp(step)
    elif base == 0 and (spec.unit == "fraction" or spec.unit.startswith("fraction ")):
        lo, hi, text = -SHARE_STEP_AT_ZERO, SHARE_STEP_AT_ZERO, _pp(SHARE_STEP_AT_ZERO)
    elif base == 0:
        step = swing * abs(float(spec.default or 0.0)) or swing
        lo, hi, text = -step, step, f"\u00b1{spec.display(step)}"
    else:
        lo, hi = sorted((base * (1 - swing), base * (1 + swing)))
        text = f"\u00b1{swing * 100:g} %"
    lo, hi = max(lo_lim, lo), min(hi_lim, hi)
    if spec.kind == "int":
        lo, hi = math.floor(lo), math.ceil(hi)
        lo, hi = max(lo_lim, lo), min(hi_lim, hi)
    return float(lo), float(hi), text


def tornado(site: Site, assumptions: Assumptions, keys: Sequence[str] | None = None,
            swing: float = 0.2) -> dict[str, list[TornadoBar]]:
    """One-at-a-time sensitivity of each path's NPV: ``{path: [TornadoBar, ...]}``, widest bar first.

    Each key is moved to ``value * (1 -+ swing)`` clamped to its valid range, except rates and zero
    values, which move by a stated absolute step (see :func:`_swing_values`); each bar carries its
    low/high values and its step. ``power_price_usd_per_mwh`` moves the site's own price when it has
    one. Paths that are unavailable for the site are left out.
    """
    if not 0 < swing < 1:
        raise AssumptionError(f"tornado swing = {swing!r} must be between 0 and 1 (e.g. 0.2 for +-20 %)")
    keys = list(TORNADO_KEYS if keys is None else keys)
    for k in keys:
        spec = ASSUMPTIONS.get(k)
        if spec is None or spec.kind not in ("float", "int"):
            raise AssumptionError(f"tornado key {k!r} is not a numeric assumption. Choose from: "
                                  + ", ".join(x for x, s in ASSUMPTIONS.items() if s.kind in ("float", "int")))
    base = site_paths(site, assumptions)
    if base.unavailable_reason:
        return {}
    out: dict[str, list[TornadoBar]] = {p: [] for p in PATHS if p in base.paths}
    for k in keys:
        site_price = k == "power_price_usd_per_mwh" and site.power_price_usd_per_mwh is not None
        value = float(site.power_price_usd_per_mwh if site_price and site.power_price_usd_per_mwh is not None
                      else assumptions[k])
        if site_price:
            lo, hi = sorted((value * (1 - swing), value * (1 + swing)))
            step = f"\u00b1{swing * 100:g} %"
            if value == 0:
                lo, hi = -POWER_PRICE_STEP_AT_ZERO, POWER_PRICE_STEP_AT_ZERO
                step = f"\u00b1${POWER_PRICE_STEP_AT_ZERO:g}/MWh"
            low = site_paths(site.replace(power_price_usd_per_mwh=lo), assumptions)
            high = site_paths(site.replace(power_price_usd_per_mwh=hi), assumptions)
        else:
            lo, hi, step = _swing_values(k, value, swing)
            low = site_paths(site, assumptions.replace(**{k: lo}))
            high = site_paths(site, assumptions.replace(**{k: hi}))
        for p in out:
            pl, ph = low.paths.get(p), high.paths.get(p)
            if pl is None or ph is None:
                continue
            label = "Site all-in power price" if site_price else ASSUMPTIONS[k].label
            out[p].append(TornadoBar(k, label, pl.npv_usd, ph.npv_usd, lo, hi, step))
    for p in out:
        out[p].sort(key=lambda b: b.swing_usd, reverse=True)
    return out


@dataclass(frozen=True)
class DiversionResult:
    """What converting ``gw_converted`` of mining to AI does to the network (simple model)."""

    gw_converted: float
    network_power_gw: float
    hashrate_before_eh_s: float
    hashrate_removed_eh_s: float
    hashrate_after_eh_s: float
    share_removed: float
    difficulty_before: float
    difficulty_after: float
    hashprice_before_usd_per_ph_day: float
    hashprice_after_usd_per_ph_day: float
    hashprice_uplift_pct: float
    difficulty_growth_before_per_year: float
    difficulty_growth_after_per_year: float | None
    horizon_years: int


class DiversionError(PlannerError, ValueError):
    """A network-diversion input that cannot be modelled."""


def network_diversion(gw_converted: float, assumptions: Assumptions, years: int | None = None) -> DiversionResult:
    """Effect on hashrate, difficulty and hashprice of removing ``gw_converted`` GW of mining.

    Model (all other things equal, after the next difficulty retargets)::

        H0       = difficulty * 2**32 / 600                         (H/s)
        dH       = gw * 1e9 / pue_mining / network_avg_j_per_th * 1e12   (H/s removed)
        H1       = H0 - dH;  D1 = D0 * H1 / H0
        hashprice1 = hashprice0 * H0 / H1                           (same reward and BTC price)
        growth over T years: baseline H0 (1+g)^T, with diversion H0 (1+g)^T - dH
        g_eff    = ((H0 (1+g)^T - dH) / H0)^(1/T) - 1               (None if that is <= 0)

    The removed machines are assumed not to be redeployed elsewhere; in practice some are sold
    and re-plugged, so this is an upper bound on the effect.
    """
    a = assumptions
    try:
        gw = float(gw_converted)
    except (TypeError, ValueError):
        raise DiversionError(f"gw_converted = {gw_converted!r} must be a number of GW") from None
    if not math.isfinite(gw) or gw < 0:
        raise DiversionError(f"gw_converted = {gw_converted!r} must be a finite number >= 0 GW")
    t = int(a.horizon_years if years is None else years)
    if not 1 <= t <= 50:
        raise DiversionError(f"years = {years!r} must be between 1 and 50")
    h0 = hashrate_hs(a.difficulty)
    removed = gw * 1e9 / a.pue_mining / a.network_avg_j_per_th * 1e12
    network_gw = h0 / 1e12 * a.network_avg_j_per_th * a.pue_mining / 1e9
    if removed >= h0:
        raise DiversionError(f"gw_converted = {gw:g} GW is at least the whole network's power "
                             f"(~{network_gw:.1f} GW at {a.network_avg_j_per_th:g} J/TH). Enter a smaller value")
    h1 = h0 - removed
    d1 = a.difficulty * h1 / h0
    ms = mining_state(a)
    hp0 = ms.usd_per_ph_day
    hp1 = hashprice_usd_per_ph_day(d1, ms.reward_btc, a.btc_price_usd)
    g = a.difficulty_growth_per_year
    end = h0 * (1 + g) ** t - removed
    g_eff = (end / h0) ** (1.0 / t) - 1.0 if end > 0 else None
    return DiversionResult(gw, network_gw, h0 / 1e18, removed / 1e18, h1 / 1e18, removed / h0, a.difficulty, d1,
                           hp0, hp1, 100.0 * (hp1 / hp0 - 1.0), g, g_eff, t)
