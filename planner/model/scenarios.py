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


class TornadoBar(NamedTuple):
    """NPV of one path with one assumption at its low and high value (the others at base)."""

    key: str
    label: str
    npv_low: float
    npv_high: float
    value_low: float
    value_high: float

    @property
    def swing_usd(self) -> float:
        """Width of the bar (|high - low|)."""
        return abs(self.npv_high - self.npv_low)


def compare_scenarios(site: Site, settings: Mapping[str, Any] | None = None,
                      names: Sequence[str] | None = None) -> dict[str, PathComparison]:
    """:func:`site_paths` of ``site`` under each named scenario (built-in plus ``settings["scenarios"]``)."""
    settings = settings or {}
    if names is None:
        names = list(SCENARIOS) + [n for n in (settings.get("scenarios") or {}) if n not in SCENARIOS]
    return {n: site_paths(site, assumptions_from_settings(settings, scenario=n)) for n in names}


def _swing_values(key: str, base: float, swing: float) -> tuple[float, float]:
    spec = ASSUMPTIONS[key]
    lo_lim = -math.inf if spec.minimum is None else spec.minimum
    hi_lim = math.inf if spec.maximum is None else spec.maximum
    if base == 0:  # +-20 % of zero is zero: swing by a share of the valid range instead
        width = (hi_lim - lo_lim) if math.isfinite(hi_lim - lo_lim) else 1.0
        lo, hi = base - swing * width / 2, base + swing * width / 2
    else:
        lo, hi = sorted((base * (1 - swing), base * (1 + swing)))
    lo, hi = max(lo_lim, lo), min(hi_lim, hi)
    if spec.kind == "int":
        lo, hi = math.floor(lo), math.ceil(hi)
        lo, hi = max(lo_lim, lo), min(hi_lim, hi)
    return float(lo), float(hi)


def tornado(site: Site, assumptions: Assumptions, keys: Sequence[str] | None = None,
            swing: float = 0.2) -> dict[str, list[TornadoBar]]:
    """One-at-a-time sensitivity of each path's NPV: ``{path: [TornadoBar, ...]}``, widest bar first.

    Each key is moved to ``value * (1 -+ swing)`` clamped to its valid range (a value of 0 moves by
    ``swing`` times half the range). ``power_price_usd_per_mwh`` moves the site's own price when it
    has one. Paths that are unavailable for the site are left out.
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
            if value == 0:
                lo, hi = -10.0 * swing, 10.0 * swing
            low = site_paths(site.replace(power_price_usd_per_mwh=lo), assumptions)
            high = site_paths(site.replace(power_price_usd_per_mwh=hi), assumptions)
        else:
            lo, hi = _swing_values(k, value, swing)
            low = site_paths(site, assumptions.replace(**{k: lo}))
            high = site_paths(site, assumptions.replace(**{k: hi}))
        for p in out:
            pl, ph = low.paths.get(p), high.paths.get(p)
            if pl is None or ph is None:
                continue
            label = "Site all-in power price" if site_price else ASSUMPTIONS[k].label
            out[p].append(TornadoBar(k, label, pl.npv_usd, ph.npv_usd, lo, hi))
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
