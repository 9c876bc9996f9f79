"""Hybrid site over one year of hours: an AI tenant plus miners as the flexible load (DOMAIN section 5).

Model (8,760 hourly steps, vectorised numpy, deterministic for a seed)
-----------------------------------------------------------------------
* Server power fraction at utilisation u: ``P(u) = idle + (1 - idle) * u``.
* Inference utilisation: ``u_inf = base + amp * cos(2 pi (hour - peak_hour) / 24)`` times the
  weekend factor on Saturdays and Sundays, plus small seeded noise, clipped to [0, 1].
* Training utilisation: ``training_util * (1 - lost_min / 60)`` where the lost minutes are the
  checkpoint dip each hour plus ``restart_min`` per random interruption (Poisson, rate
  ``interruptions_per_day / 24`` per hour), capped at 60.
* AI facility draw ``A(h) = pue_ai * it_mw * [s P(u_inf) + (1 - s) P(u_train)]``.
* Headroom for miners ``min(mining_capacity_mw, interconnect_mw - reserve_mw - A(h))`` (>= 0).
* Miners draw ``M(h) = uptime * headroom`` when ``price_h < breakeven`` and h is not a
  demand-response or ERCOT 4CP alert hour, else 0. So ``A + M <= interconnect - reserve``.

Synthetic hourly prices (:func:`synthetic_prices`) when none are given: an ERCOT-West-like
shape, documented there, scaled to the site's mean power price.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np

from planner.fmt import HOURS_PER_YEAR, real_number
from planner.model.assumptions import Assumptions
from planner.model.site import PlannerError, Site

REPRESENTATIVE_YEAR = 2025  # a non-leap year starting on a Wednesday
SUMMER_MONTHS = (5, 6, 7, 8)  # June-September (0-based): the ERCOT 4CP months
ERCOT_OFFER_CAP_USD_PER_MWH = 5000.0   # ERCOT high system-wide offer cap since 2023
ERCOT_OFFER_FLOOR_USD_PER_MWH = -250.0  # ERCOT system-wide offer floor


class HybridError(PlannerError, ValueError):
    """Hybrid-site inputs that cannot be simulated (names the input, the rule and the fix)."""


@dataclass(frozen=True)
class HourCalendar:
    """Calendar of the representative year: month (0-11), hour of day, weekday (0 = Monday)."""

    month: np.ndarray
    hour: np.ndarray
    weekday: np.ndarray

    @property
    def weekend(self) -> np.ndarray:
        """True on Saturdays and Sundays."""
        return self.weekday >= 5


@lru_cache(maxsize=4)
def _calendar(year: int) -> HourCalendar:
    start = np.datetime64(f"{year}-01-01T00", "h")
    stamps = start + np.arange(HOURS_PER_YEAR)
    months = (stamps.astype("datetime64[M]").astype(int) % 12).astype(int)
    hours = (stamps.astype(int) % 24).astype(int)
    days = stamps.astype("datetime64[D]").astype(int)
    weekday = ((days + 3) % 7).astype(int)  # 1970-01-01 was a Thursday
    for arr in (months, hours, weekday):
        arr.setflags(write=False)
    return HourCalendar(months, hours, weekday)


def hour_calendar(year: int = REPRESENTATIVE_YEAR) -> HourCalendar:
    """Month, hour-of-day and weekday of each of the 8,760 hours of ``year`` (first 8,760 hours)."""
    return _calendar(int(year))


def synthetic_prices(mean_usd_per_mwh: float, seed: int = 0, year: int = REPRESENTATIVE_YEAR) -> np.ndarray:
    """Seeded, ERCOT-West-like hourly real-time prices (8,760 values) with the given mean.

    Shape (before scaling, typical level ~$30/MWh): evening peak (cosine, max at 20:00), midday
    solar dip, summer (Jul-Aug) +35 % and spring (Mar-May) -25 % seasonality, a day-to-day AR(1)
    lognormal weather factor and hourly lognormal noise. Wind-driven negative hours (about 6 %
    overall, more at night and in spring) take -$0 to -$25. Scarcity spikes: about 0.6 % of
    summer weekday 15:00-20:00 hours at $500 up to the $5,000 offer cap. The shape is then
    shifted additively, ``clip(base + s, floor, cap)`` with ERCOT's -$250 floor and $5,000 cap, and
    ``s`` is found by bisection so the mean is ``mean_usd_per_mwh``: every hour moves by the same
    $/MWh (a dearer contract does not make negative hours more negative or spikes pass the cap),
    and each hour's price never falls when the mean rises.
    """
    if not math.isfinite(mean_usd_per_mwh):
        raise HybridError(f"mean power price {mean_usd_per_mwh!r} must be a finite $/MWh value")
    lo_cap, hi_cap = ERCOT_OFFER_FLOOR_USD_PER_MWH, ERCOT_OFFER_CAP_USD_PER_MWH
    if not lo_cap < mean_usd_per_mwh < hi_cap:
        raise HybridError(f"mean power price {mean_usd_per_mwh:g} $/MWh must lie between the market floor "
                          f"({lo_cap:g}) and cap ({hi_cap:g})")
    base, mean = _unscaled_prices(int(seed), int(year))
    srt, csum = _sorted_prices(int(seed), int(year))
    n = srt.size

    def clipped_mean(shift: float) -> float:  # mean of clip(base + shift) from the sorted shape, O(log n)
        i = int(np.searchsorted(srt, lo_cap - shift))           # hours at the floor
        j = int(np.searchsorted(srt, hi_cap - shift, "right"))  # hours below the cap
        return float((i * lo_cap + (csum[j] - csum[i]) + (j - i) * shift + (n - j) * hi_cap) / n)

    lo, hi = mean_usd_per_mwh - mean - hi_cap, mean_usd_per_mwh - mean - lo_cap + hi_cap
    for _ in range(80):  # mean of the clipped series is continuous and non-decreasing in the shift
        mid = 0.5 * (lo + hi)
        if clipped_mean(mid) < mean_usd_per_mwh:
            lo = mid
        else:
            hi = mid
    return np.clip(base + 0.5 * (lo + hi), lo_cap, hi_cap)


@lru_cache(maxsize=16)
def _sorted_prices(seed: int, year: int) -> tuple[np.ndarray, np.ndarray]:
    """The unscaled shape sorted, with its prefix sums (leading 0)."""
    srt = np.sort(_unscaled_prices(seed, year)[0])
    return srt, np.concatenate([[0.0], np.cumsum(srt)])


@lru_cache(maxsize=16)
def _unscaled_prices(seed: int, year: int) -> tuple[np.ndarray, float]:
    """Unscaled price shape of :func:`synthetic_prices` (read-only) and its mean: depends on seed and year only."""
    cal = hour_calendar(year)
    rng = np.random.default_rng(int(seed))
    h = cal.hour.astype(float)
    solar = np.clip(np.sin(np.pi * (h - 7.0) / 12.0), 0.0, None)
    shape = 1.0 + 0.30 * np.cos(2 * np.pi * (h - 20.0) / 24.0) - 0.25 * solar
    season = np.ones(12)
    season[[6, 7]] = 1.35
    season[[5, 8]] = 1.15
    season[[2, 3, 4]] = 0.75
    n_days = HOURS_PER_YEAR // 24
    weather = np.empty(n_days)
    x = 0.0
    shocks = rng.normal(0.0, 0.18, n_days)
    for d in range(n_days):  # AR(1) in log space: multi-day heat waves and windy spells
        x = 0.7 * x + shocks[d]
        weather[d] = x
    daily = np.exp(np.repeat(weather, 24))
    noise = rng.lognormal(0.0, 0.15, HOURS_PER_YEAR)
    base = 30.0 * shape * season[cal.month] * daily * noise
    night = (h < 7) | (h >= 22)
    spring = np.isin(cal.month, (2, 3, 4))
    p_neg = 0.03 + 0.05 * night + 0.04 * spring
    negative = rng.random(HOURS_PER_YEAR) < p_neg
    base = np.where(negative, -rng.uniform(0.0, 25.0, HOURS_PER_YEAR), base)
    window = np.isin(cal.month, SUMMER_MONTHS) & (cal.weekday < 5) & (h >= 15) & (h < 20)
    spike = window & (rng.random(HOURS_PER_YEAR) < 0.02)
    base = np.where(spike, np.minimum(ERCOT_OFFER_CAP_USD_PER_MWH, rng.uniform(500.0, 5000.0, HOURS_PER_YEAR)), base)
    base.setflags(write=False)
    return base, float(base.mean())


@dataclass(frozen=True)
class HybridParams:
    """Inputs of the hourly hybrid model (all MW at the interconnect unless named IT)."""

    interconnect_mw: float
    reserve_mw: float
    it_mw: float
    pue_ai: float
    mining_capacity_mw: float
    breakeven_usd_per_mwh: float
    power_price_usd_per_mwh: float
    idle_fraction: float = 0.35
    inference_share: float = 0.3
    inference_base_util: float = 0.55
    inference_amp_util: float = 0.25
    inference_peak_hour: float = 14.0
    inference_weekend_factor: float = 0.8
    training_util: float = 0.95
    checkpoint_min_per_hour: float = 3.0
    interruptions_per_day: float = 8.6
    interruption_restart_min: float = 10.0
    uptime: float = 0.95
    lease_rate_usd_per_kw_month: float = 121.0
    noi_margin: float = 0.85
    dr_committed_mw: float = 0.0
    dr_pay_usd_per_mw_h: float = 0.0
    dr_event_hours: int = 0
    fourcp: bool = False
    fourcp_alert_hours_per_month: int = 6
    fourcp_tariff_usd_per_mw_year: float = 0.0
    contract: Literal["index", "fixed"] = "index"

    def __post_init__(self) -> None:
        for name in ("interconnect_mw", "reserve_mw", "it_mw", "pue_ai", "mining_capacity_mw",
                     "breakeven_usd_per_mwh", "power_price_usd_per_mwh", "dr_committed_mw"):
            v = getattr(self, name)
            if real_number(v) is None:
                raise HybridError(f"hybrid {name} = {v!r} must be a finite number")
        if self.interconnect_mw <= 0:
            raise HybridError(f"hybrid interconnect_mw = {self.interconnect_mw!r} must be > 0. Enter the site's MW")
        if not 0 <= self.reserve_mw <= self.interconnect_mw:
            raise HybridError(f"hybrid reserve_mw = {self.reserve_mw:g} must be between 0 and the interconnect "
                              f"({self.interconnect_mw:g} MW). Lower interconnect_reserve_mw")
        if self.pue_ai < 1.0:
            raise HybridError(f"hybrid pue_ai = {self.pue_ai:g} must be >= 1")
        if self.it_mw < 0 or self.mining_capacity_mw < 0:
            raise HybridError("hybrid it_mw and mining_capacity_mw must be >= 0")
        if self.pue_ai * self.it_mw > self.interconnect_mw - self.reserve_mw + 1e-9:
            raise HybridError(f"hybrid AI peak draw {self.pue_ai * self.it_mw:g} MW exceeds interconnect minus reserve "
                              f"({self.interconnect_mw - self.reserve_mw:g} MW). Lower it_mw or the reserve")
        for name in ("idle_fraction", "inference_share", "inference_base_util", "training_util", "uptime",
                     "noi_margin"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise HybridError(f"hybrid {name} = {v!r} must be between 0 and 1")
        if self.contract not in ("index", "fixed"):
            raise HybridError(f"hybrid contract = {self.contract!r} must be 'index' or 'fixed'")

    @classmethod
    def from_site(cls, site: Site, assumptions: Assumptions, *, breakeven_usd_per_mwh: float | None = None,
                  power_price_usd_per_mwh: float | None = None, gross_mw: float | None = None) -> "HybridParams":
        """Parameters for ``site``: interconnect = gross MW, AI IT MW = critical IT share, miners = hybrid share."""
        a = assumptions
        gross = gross_mw
        if gross is None:
            gross = site.power_capacity_mw if site.power_capacity_mw is not None else site.energized_mw
        if gross is None or gross <= 0:
            raise HybridError(f"{site.site_id}: Power capacity (gross) and Energized MW are both unknown or 0. "
                              "Enter the site's MW (either field) to simulate its hybrid load")
        price = power_price_usd_per_mwh
        if price is None:
            price = site.power_price_usd_per_mwh if site.power_price_usd_per_mwh is not None \
                else a.power_price_usd_per_mwh
        if breakeven_usd_per_mwh is None:
            from planner.model.economics import mining_state  # economics is the lower-level module
            model = site.asic_model if site.asic_model in a.catalogue else None
            breakeven_usd_per_mwh = mining_state(a, model).breakeven_usd_per_mwh
        reserve = min(float(a.interconnect_reserve_mw), float(gross))
        it_mw = max(0.0, min(gross * a.critical_it_ratio, (gross - reserve) / a.pue_ai))
        cap = min(gross * a.hybrid_mining_share, gross - reserve)
        in_ercot = (site.admin1 or "").strip().upper() in ("TX", "TEXAS") and (site.country or "US").upper() == "US"
        return cls(
            interconnect_mw=float(gross), reserve_mw=reserve, it_mw=it_mw, pue_ai=a.pue_ai,
            mining_capacity_mw=max(0.0, cap), breakeven_usd_per_mwh=float(breakeven_usd_per_mwh),
            power_price_usd_per_mwh=float(price), idle_fraction=a.idle_fraction,
            inference_share=a.inference_share, inference_base_util=a.inference_base_util,
            inference_amp_util=a.inference_amp_util, inference_peak_hour=a.inference_peak_hour,
            inference_weekend_factor=a.inference_weekend_factor, training_util=a.training_util,
            checkpoint_min_per_hour=a.checkpoint_min_per_hour, interruptions_per_day=a.interruptions_per_day,
            interruption_restart_min=a.interruption_restart_min, uptime=a.uptime,
            lease_rate_usd_per_kw_month=a.lease_rate_usd_per_kw_month, noi_margin=a.noi_margin,
            dr_committed_mw=min(a.dr_committed_mw, max(0.0, cap)), dr_pay_usd_per_mw_h=a.dr_pay_usd_per_mw_h,
            dr_event_hours=a.dr_event_hours_per_year if a.dr_committed_mw > 0 else 0, fourcp=in_ercot,
            fourcp_alert_hours_per_month=a.fourcp_alert_hours_per_month,
            fourcp_tariff_usd_per_mw_year=a.fourcp_tariff_usd_per_mw_year,
            contract="fixed" if a.power_contract == "fixed" else "index")


@dataclass(frozen=True, eq=False)
class HybridResult:
    """Hourly profiles (MW, $/MWh) of one simulated year and the figures derived from them."""

    params: HybridParams
    price: np.ndarray
    ai_mw: np.ndarray
    headroom_mw: np.ndarray
    mining_mw: np.ndarray
    dr_event: np.ndarray
    fourcp_alert: np.ndarray
    fourcp_peak_hours: np.ndarray

    @property
    def total_mw(self) -> np.ndarray:
        """Site draw: AI facility plus miners."""
        return np.asarray(self.ai_mw + self.mining_mw)

    @property
    def event(self) -> np.ndarray:
        """Hours where the flexible load must be off (demand response or 4CP alert)."""
        return np.asarray(self.dr_event | self.fourcp_alert)

    @property
    def mining_capacity_factor(self) -> float:
        """Mining MWh over what the fleet would use running every hour (0-1; 0 without a fleet)."""
        cap = self.params.mining_capacity_mw
        if cap <= 0:
            return 0.0
        return float(self.mining_mw.sum() / (cap * HOURS_PER_YEAR))

    @property
    def site_load_factor(self) -> float:
        """Site MWh over the interconnect MW times 8,760 h."""
        return float(self.total_mw.sum() / (self.params.interconnect_mw * HOURS_PER_YEAR))

    @property
    def revenue_by_stream_usd(self) -> dict[str, float]:
        """Annual $ by stream: lease (gross and NOI), mining revenue, power cost, resale, demand response."""
        p = self.params
        lease = p.lease_rate_usd_per_kw_month * 1000.0 * 12.0 * p.it_mw
        mwh = self.mining_mw
        mining_rev = float(p.breakeven_usd_per_mwh * mwh.sum())
        if p.contract == "fixed":
            block = np.minimum(self.headroom_mw, p.mining_capacity_mw) * p.uptime
            cost = float(p.power_price_usd_per_mwh * block.sum())
            resale = float(((block - mwh) * self.price).sum())
        else:
            cost = float((mwh * self.price).sum())
            resale = 0.0
        dr = p.dr_committed_mw * p.dr_pay_usd_per_mw_h * HOURS_PER_YEAR
        return {"lease_revenue": lease, "lease_noi": lease * p.noi_margin, "mining_revenue": mining_rev,
                "mining_power_cost": cost, "resale_revenue": resale, "dr_pay": float(dr),
                "mining_net": mining_rev + resale - cost}

    @property
    def steadiness(self) -> dict[str, float]:
        """Coefficient of variation (std/mean) and p5-p95 band (MW) of AI alone and AI + mining."""
        out: dict[str, float] = {}
        for name, arr in (("ai", self.ai_mw), ("total", self.total_mw)):
            mean = float(arr.mean())
            out[f"cv_{name}"] = float(arr.std() / mean) if mean > 0 else 0.0
            p5, p95 = np.percentile(arr, [5, 95])
            out[f"band_{name}_mw"] = float(p95 - p5)
        out["cv_reduction_pct"] = (100.0 * (1 - out["cv_total"] / out["cv_ai"])) if out["cv_ai"] > 0 else 0.0
        return out

    def load_duration_curve(self, which: str = "total") -> np.ndarray:
        """Hourly MW of ``which`` ("total", "ai" or "mining") sorted from highest to lowest."""
        arrays = {"total": self.total_mw, "ai": self.ai_mw, "mining": self.mining_mw}
        if which not in arrays:
            raise HybridError(f"load duration curve {which!r} is unknown; use total, ai or mining")
        return np.sort(arrays[which])[::-1]

    def fourcp_avoided_usd(self, load_mw: float) -> float:
        """4CP charge an always-on load of ``load_mw`` would pay, avoided by curtailing in the alert hours."""
        if not self.params.fourcp:
            return 0.0
        return float(self.params.fourcp_tariff_usd_per_mw_year * load_mw)


def _fourcp_hours(price: np.ndarray, cal: HourCalendar, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Alert mask (top-k weekday 13:00-20:00 hours by price in each of Jun-Sep) and the 4 peak hours.

    Price is the proxy for system load (the real 4CP intervals are ERCOT's monthly demand peaks).
    """
    alert = np.zeros(HOURS_PER_YEAR, bool)
    peaks = []
    window = (cal.weekday < 5) & (cal.hour >= 13) & (cal.hour < 20)
    for m in SUMMER_MONTHS:
        idx = np.nonzero((cal.month == m) & window)[0]
        order = idx[np.argsort(price[idx], kind="stable")[::-1]]
        alert[order[:k]] = True
        peaks.append(int(order[0]))
    return alert, np.array(peaks, dtype=int)


@lru_cache(maxsize=32)
def _ai_shape(seed: int, idle: float, share: float, base: float, amp: float, peak: float, weekend: float,
              train: float, ckpt: float, interruptions_per_day: float, restart_min: float) -> np.ndarray:
    """``s P(u_inf) + (1 - s) P(u_train)`` by hour (read-only): the AI draw per MW of IT before PUE."""
    cal = hour_calendar()
    rng = np.random.default_rng(seed)
    hour = cal.hour.astype(float)
    u_inf = base + amp * np.cos(2 * np.pi * (hour - peak) / 24.0)
    u_inf = np.where(cal.weekend, u_inf * weekend, u_inf)
    u_inf = np.clip(u_inf + rng.normal(0.0, 0.03, HOURS_PER_YEAR), 0.0, 1.0)
    interruptions = rng.poisson(interruptions_per_day / 24.0, HOURS_PER_YEAR)
    lost_min = np.minimum(60.0, ckpt + interruptions * restart_min)
    u_train = train * (1.0 - lost_min / 60.0)

    def power(u: np.ndarray) -> np.ndarray:
        return idle + (1.0 - idle) * u

    out = share * power(u_inf) + (1 - share) * power(u_train)
    out.setflags(write=False)
    return out


def simulate_hybrid(params: HybridParams, seed: int = 0, prices: np.ndarray | None = None) -> HybridResult:
    """Simulate the hybrid site hour by hour for one year (see the module docstring for the model)."""
    p = params
    cal = hour_calendar()
    if prices is None:
        price = synthetic_prices(p.power_price_usd_per_mwh, seed=seed)
    else:
        price = np.asarray(prices, dtype=float)
        if price.shape != (HOURS_PER_YEAR,) or not np.all(np.isfinite(price)):
            raise HybridError(f"prices must be {HOURS_PER_YEAR} finite hourly $/MWh values "
                              f"(got shape {price.shape}). Provide one value per hour of a non-leap year")
    shape = _ai_shape(int(seed), p.idle_fraction, p.inference_share, p.inference_base_util, p.inference_amp_util,
                      p.inference_peak_hour, p.inference_weekend_factor, p.training_util, p.checkpoint_min_per_hour,
                      p.interruptions_per_day, p.interruption_restart_min)
    ai = p.pue_ai * p.it_mw * shape
    limit = p.interconnect_mw - p.reserve_mw
    ai = np.minimum(ai, limit)  # guards float round-off only: validation keeps pue * it_mw <= limit
    headroom = np.clip(np.minimum(p.mining_capacity_mw, limit - ai), 0.0, None)
    dr_event = np.zeros(HOURS_PER_YEAR, bool)
    if p.dr_event_hours > 0 and p.dr_committed_mw > 0:
        dr_event[np.argsort(price, kind="stable")[::-1][: int(p.dr_event_hours)]] = True
    if p.fourcp:
        alert, peaks = _fourcp_hours(price, cal, int(p.fourcp_alert_hours_per_month))
    else:
        alert, peaks = np.zeros(HOURS_PER_YEAR, bool), np.zeros(0, int)
    run = (price < p.breakeven_usd_per_mwh) & ~dr_event & ~alert
    mining = np.where(run, headroom * p.uptime, 0.0)
    for arr in (price, ai, headroom, mining, dr_event, alert, peaks):
        arr.setflags(write=False)
    return HybridResult(p, price, ai, headroom, mining, dr_event, alert, peaks)


def describe(result: HybridResult) -> dict[str, Any]:
    """Headline figures of a simulation as a flat dict (for tables and reports)."""
    out: dict[str, Any] = {
        "mining_capacity_factor": result.mining_capacity_factor,
        "site_load_factor": result.site_load_factor,
        "ai_mean_mw": float(result.ai_mw.mean()),
        "mining_mean_mw": float(result.mining_mw.mean()),
    }
    out.update(result.steadiness)
    out.update({f"{k}_usd": v for k, v in result.revenue_by_stream_usd.items()})
    return out


__all__ = ["HOURS_PER_YEAR", "HourCalendar", "HybridError", "HybridParams", "HybridResult", "describe",
           "hour_calendar", "simulate_hybrid", "synthetic_prices"]
