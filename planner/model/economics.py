"""Mining, AI-lease and hybrid economics (docs/DOMAIN.md sections 3 and 4), pure Python/numpy.

The first half are the textbook formulas, one function each, with units in the names. The
second half (:func:`site_paths`) turns a :class:`~planner.model.site.Site` and an
:class:`~planner.model.assumptions.Assumptions` into annual cash flows for three paths
(mining, AI lease, hybrid), their NPV/IRR/payback, the "value of an electron" and the bridge
path (mine first, convert in year N).

Cash-flow conventions
---------------------
* Year 0 holds the initial capex; years 1..H hold the operating cash of each year (end-of-year
  discounting, as numpy-financial ``npv``).
* The model starts on ``market_data_date``; month m of the horizon falls in calendar month
  ``(start month + m) % 12`` of a representative hourly year (``planner.model.hybrid``).
* Mining dispatch is hourly: the fleet runs in an hour only when the price is below its
  breakeven (= hash revenue per MWh consumed) and the hour is not a demand-response or ERCOT
  4CP alert hour. Hashprice moves monthly with price/difficulty growth and the halvings.
* AI lease: power is passed through to the tenant; the landlord earns lease * NOI margin from
  the end of the build period. No revenue while building.

Incremental (decision-relevant) cash flows of an operating miner
----------------------------------------------------------------
* The fleet and mining infrastructure already on the energized MW are sunk for every path. Only
  MW that are not yet energized need fleet capex (``asic_price_usd_per_th``) and infrastructure
  capex (``mining_capex_usd_per_mw``) in year 0. The installed fleet is
  ``existing_fleet_age_years`` old, so its first refresh falls in year
  ``max(0, fleet_refresh_years - existing_fleet_age_years)``; new machines are first refreshed
  after ``fleet_refresh_years``. Each fleet cohort is refreshed only when the refresh pays back
  over the next interval, otherwise it retires (see :func:`_fleet_plan`).
* Installed machines a path does not use (all of them for the AI lease, those beyond the hybrid's
  mining block) are sold in year 0 at ``asic_resale_usd_per_th``; so is a fleet that retires, and
  the bridge path's fleet when it stops mining (stream ``fleet_resale``).
* Terminal value at the horizon (``PathResult.terminal_value_usd``, stream ``terminal_value``,
  booked in year H of ``cash_flows_usd`` and so in NPV and IRR but not in payback or $/MWh):
  ``ai_exit_multiple_noi`` x final-year lease NOI at run rate (last month x 12, so a lease that
  starts during year H is not undervalued; 0 while still building) for the AI lease, the AI part
  of the hybrid and the converted bridge path; ``mining_exit_multiple`` x final-year mining operating cash
  (if positive) for mining fleets still running at the horizon (default 0: the fleet is obsolete).
"""
from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from planner.model.assumptions import AssumptionError, Assumptions, AsicSpec, parse_utc
from planner.model.site import PlannerError, Site

SATOSHI_PER_BTC = 100_000_000
HALVING_INTERVAL_BLOCKS = 210_000
DAYS_PER_MONTH = 30.4375
HOURS_PER_YEAR = 8760
TWO_32 = 2**32


class EconomicsError(PlannerError, ValueError):
    """An economics input that breaks a rule (says which input, which rule and the fix)."""


# ------------------------------------------------------------------------------------------------
# Bitcoin protocol
# ------------------------------------------------------------------------------------------------
def block_subsidy_sat(height: int) -> int:
    """Block subsidy in satoshi at ``height``: ``(50 * 1e8) >> (height // 210_000)``, 0 after 64 halvings."""
    if isinstance(height, bool) or int(height) != height or height < 0:
        raise EconomicsError(f"block height {height!r} must be a whole number >= 0")
    halvings = int(height) // HALVING_INTERVAL_BLOCKS
    if halvings >= 64:
        return 0
    return (50 * SATOSHI_PER_BTC) >> halvings


def block_subsidy_btc(height: int) -> float:
    """Block subsidy in BTC at ``height`` (3.125 from block 840,000)."""
    return block_subsidy_sat(height) / SATOSHI_PER_BTC


def next_halving(height: int) -> int:
    """Height of the first halving strictly after ``height``."""
    block_subsidy_sat(height)  # validates
    return (int(height) // HALVING_INTERVAL_BLOCKS + 1) * HALVING_INTERVAL_BLOCKS


def height_at(when: _dt.datetime, ref_height: int, ref_time: _dt.datetime, mean_interval_min: float) -> int:
    """Estimated block height at ``when`` from a reference block and the mean block interval."""
    if mean_interval_min <= 0:
        raise EconomicsError(f"mean_block_interval_min = {mean_interval_min!r} must be > 0")
    minutes = (when - ref_time).total_seconds() / 60.0
    return max(0, int(ref_height + math.floor(minutes / mean_interval_min)))


def projected_halving_dates(ref_height: int, ref_time: _dt.datetime | str, mean_interval_min: float,
                            n: int = 3) -> list[tuple[int, _dt.datetime]]:
    """The next ``n`` halvings after ``ref_height`` as (height, projected UTC time)."""
    if mean_interval_min <= 0:
        raise EconomicsError(f"mean_block_interval_min = {mean_interval_min!r} must be > 0")
    t0 = parse_utc("reference_block_time", ref_time)
    out: list[tuple[int, _dt.datetime]] = []
    h = next_halving(ref_height)
    for _ in range(max(0, int(n))):
        if h // HALVING_INTERVAL_BLOCKS >= 64:
            break
        out.append((h, t0 + _dt.timedelta(minutes=(h - ref_height) * mean_interval_min)))
        h += HALVING_INTERVAL_BLOCKS
    return out


def hashrate_hs(difficulty: float) -> float:
    """Network hashrate (H/s) implied by ``difficulty``: ``difficulty * 2**32 / 600``."""
    _positive("difficulty", difficulty)
    return difficulty * TWO_32 / 600.0


def difficulty_from_hashrate(hashrate_h_s: float) -> float:
    """Difficulty that a steady ``hashrate_h_s`` converges to (inverse of :func:`hashrate_hs`)."""
    _positive("hashrate_h_s", hashrate_h_s)
    return hashrate_h_s * 600.0 / TWO_32


def reward_btc(subsidy_btc: float, fee_share: float) -> float:
    """Total reward per block when fees are a share ``fee_share`` of it: ``subsidy / (1 - f)``."""
    if not 0.0 <= fee_share < 1.0:
        raise EconomicsError(f"fee_share = {fee_share!r} must be in [0, 1)")
    return subsidy_btc / (1.0 - fee_share)


def hashprice_usd_per_ph_day(difficulty: float, reward_btc: float, btc_usd: float) -> float:
    """Hashprice: ``86_400e15 / (difficulty * 2**32) * reward_btc * btc_usd`` ($ per PH/s per day)."""
    _positive("difficulty", difficulty)
    return 86_400e15 / (difficulty * TWO_32) * reward_btc * btc_usd


def hashprice_from_hashrate_usd_per_ph_day(network_ph_s: float, reward_btc: float, btc_usd: float) -> float:
    """Hashprice from network hashrate: ``144 * reward_btc * btc_usd / network_ph_s``."""
    _positive("network_ph_s", network_ph_s)
    return 144.0 * reward_btc * btc_usd / network_ph_s


def th_s_per_mw(j_per_th: float) -> float:
    """TH/s that one MW of ASIC input power delivers: ``1e6 / j_per_th``."""
    _positive("j_per_th", j_per_th)
    return 1e6 / j_per_th


def revenue_usd_per_mw_day(usd_per_th_day: float, j_per_th: float, pue_mining: float, uptime: float,
                           pool_fee: float) -> float:
    """Mining revenue per MW of site power per day: ``th_s_per_mw / pue * usd_per_th_day * uptime * (1 - fee)``."""
    _positive("pue_mining", pue_mining)
    return th_s_per_mw(j_per_th) / pue_mining * usd_per_th_day * uptime * (1.0 - pool_fee)


def breakeven_usd_per_mwh(usd_per_th_day: float, j_per_th: float, pue_mining: float, pool_fee: float) -> float:
    """Power price at which mining margin is zero; equals hash revenue per MWh consumed.

    ``usd_per_th_day * (1 - pool_fee) * 1e6 / (24 * j_per_th * pue_mining)``.
    """
    _positive("j_per_th", j_per_th)
    _positive("pue_mining", pue_mining)
    return usd_per_th_day * (1.0 - pool_fee) * 1e6 / (24.0 * j_per_th * pue_mining)


def hashcost_usd_per_ph_day(j_per_th: float, usd_per_mwh: float) -> float:
    """Power cost of one PH/s for a day: ``j_per_th * 0.024 * usd_per_mwh``."""
    return j_per_th * 0.024 * usd_per_mwh


def payback_months_static(capex_usd_per_th: float, usd_per_th_day: float, j_per_th: float,
                          usd_per_mwh: float, pool_fee: float, uptime: float) -> float | None:
    """Static payback in months at today's hashprice; None when the daily margin is not positive.

    ``capex / ((usd_per_th_day * (1 - fee) - j_per_th * 24e-6 * usd_per_mwh) * uptime) / 30.4375``.
    """
    margin = (usd_per_th_day * (1.0 - pool_fee) - j_per_th * 24e-6 * usd_per_mwh) * uptime
    if margin <= 0:
        return None
    return capex_usd_per_th / margin / DAYS_PER_MONTH


@dataclass(frozen=True, eq=False)
class PaybackResult:
    """Dynamic payback: months to recover the capex (None = never) and the monthly curves per TH/s."""

    months: float | None
    cumulative_usd_per_th: np.ndarray
    margin_usd_per_th_month: np.ndarray
    running: np.ndarray


def hashprice_factors(months: int, price_growth_per_year: float, difficulty_growth_per_year: float,
                      fee_share: float, halving_months: Sequence[float] = ()) -> np.ndarray:
    """Monthly hashprice multipliers: ``((1+g_p)/(1+g_d))**(t/12)`` times ``(1-f)/2 + f`` per halving passed."""
    if price_growth_per_year <= -1 or difficulty_growth_per_year <= -1:
        raise EconomicsError("price and difficulty growth must be above -100 %/yr")
    t = np.arange(int(months), dtype=float)
    growth = ((1.0 + price_growth_per_year) / (1.0 + difficulty_growth_per_year)) ** (t / 12.0)
    halving_factor = (1.0 - fee_share) / 2.0 + fee_share
    passed = np.zeros_like(t)
    for hm in halving_months:
        passed += (t >= hm)
    return growth * halving_factor ** passed


def payback_dynamic(capex_usd_per_th: float, usd_per_th_day: float, j_per_th: float, usd_per_mwh: float,
                    *, pool_fee: float, uptime: float, price_growth_per_year: float,
                    difficulty_growth_per_year: float, fee_share: float,
                    halving_months: Sequence[float] = (), max_months: int = 120) -> PaybackResult:
    """Monthly payback path with growth, halvings and switch-off in negative-margin months.

    Hashprice in month t is today's times :func:`hashprice_factors`; a month whose margin is
    negative is switched off (margin 0). Returns months = None when the capex is never recovered
    within ``max_months``.
    """
    hp = usd_per_th_day * hashprice_factors(max_months, price_growth_per_year, difficulty_growth_per_year,
                                            fee_share, halving_months)
    daily = (hp * (1.0 - pool_fee) - j_per_th * 24e-6 * usd_per_mwh) * uptime
    running = daily > 0
    monthly = np.where(running, daily, 0.0) * DAYS_PER_MONTH
    cum = np.cumsum(monthly)
    months: float | None = None
    if capex_usd_per_th <= 0:
        months = 0.0
    else:
        hit = np.nonzero(cum >= capex_usd_per_th)[0]
        if hit.size:
            i = int(hit[0])
            before = cum[i - 1] if i > 0 else 0.0
            months = float(i + (capex_usd_per_th - before) / monthly[i])
    return PaybackResult(months, cum, monthly, running)


# ------------------------------------------------------------------------------------------------
# Power: curtailment, demand response, ERCOT 4CP
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class CurtailmentResult:
    """Hourly dispatch of a flexible mining load against prices, with its money streams ($)."""

    running: np.ndarray
    mining_mwh: float
    mining_revenue_usd: float
    power_cost_usd: float
    resale_revenue_usd: float

    @property
    def net_usd(self) -> float:
        """Mining revenue + resale - power cost."""
        return self.mining_revenue_usd + self.resale_revenue_usd - self.power_cost_usd

    @property
    def hours_run(self) -> int:
        """Hours with the fleet running."""
        return int(self.running.sum())


def curtailment(prices_usd_per_mwh: np.ndarray, breakeven_usd_per_mwh: float, mw: float | np.ndarray = 1.0,
                *, contract_price_usd_per_mwh: float | None = None, uptime: float = 1.0,
                forced_off: np.ndarray | None = None) -> CurtailmentResult:
    """Dispatch a mining load hour by hour.

    Index-priced (``contract_price_usd_per_mwh`` None): run in hour h only if price_h < breakeven;
    pay price_h for the MWh used. Fixed price with resale (Riot-style): the block ``mw * uptime`` is
    bought at the contract price every hour; the fleet runs when breakeven >= price_h, otherwise the
    block is resold and the hour earns ``price_h - contract``. ``forced_off`` marks demand-response or
    4CP hours where the load must be off. Breakeven is the hash revenue per MWh consumed.
    """
    p = np.asarray(prices_usd_per_mwh, dtype=float)
    if p.ndim != 1 or not np.all(np.isfinite(p)):
        raise EconomicsError("prices_usd_per_mwh must be a 1-D array of finite $/MWh values")
    block = np.broadcast_to(np.asarray(mw, dtype=float), p.shape) * uptime
    if np.any(block < 0):
        raise EconomicsError("mw must be >= 0 in every hour")
    off = np.zeros(p.shape, bool) if forced_off is None else np.asarray(forced_off, bool)
    if contract_price_usd_per_mwh is None:
        run = (p < breakeven_usd_per_mwh) & ~off
        used = np.where(run, block, 0.0)
        return CurtailmentResult(run, float(used.sum()), float(breakeven_usd_per_mwh * used.sum()),
                                 float((used * p).sum()), 0.0)
    run = (p <= breakeven_usd_per_mwh) & ~off
    used = np.where(run, block, 0.0)
    sold = block - used
    return CurtailmentResult(run, float(used.sum()), float(breakeven_usd_per_mwh * used.sum()),
                             float(contract_price_usd_per_mwh * block.sum()), float((sold * p).sum()))


def demand_response_pay_usd(committed_mw: float, pay_usd_per_mw_h: float, hours: float = HOURS_PER_YEAR) -> float:
    """Demand-response availability pay: ``$/MW-h * MW committed * hours``."""
    return max(0.0, committed_mw) * pay_usd_per_mw_h * hours


def fourcp_charge_usd(load_mw_at_peaks: Sequence[float] | np.ndarray, tariff_usd_per_mw_year: float) -> float:
    """Next year's ERCOT transmission charge: tariff times the mean site load in the four summer peak intervals."""
    loads = np.asarray(load_mw_at_peaks, dtype=float)
    if loads.size == 0:
        return 0.0
    return float(tariff_usd_per_mw_year * loads.mean())


# ------------------------------------------------------------------------------------------------
# Finance
# ------------------------------------------------------------------------------------------------
def npv(rate: float, cash_flows: Sequence[float] | np.ndarray) -> float:
    """Net present value with year-0 flow undiscounted (numpy-financial convention)."""
    cf = np.asarray(cash_flows, dtype=float)
    if rate <= -1:
        raise EconomicsError(f"discount rate {rate!r} must be above -100 %")
    return float(np.sum(cf / (1.0 + rate) ** np.arange(cf.size)))


def irr(cash_flows: Sequence[float] | np.ndarray) -> float | None:
    """Internal rate of return; None when the flows never change sign or no real root exists.

    Roots of ``sum cf_t x**t`` with ``x = 1/(1+r)`` (numpy polynomial roots), polished by
    bisection; with several roots the one closest to zero is returned (numpy-financial rule).
    """
    cf = np.asarray(cash_flows, dtype=float)
    if cf.size < 2 or not np.all(np.isfinite(cf)) or not (np.any(cf > 0) and np.any(cf < 0)):
        return None
    scale = float(np.abs(cf).max())
    cf_n = cf / scale
    rates: list[float] = []
    try:
        roots = np.roots(cf_n[::-1])
    except np.linalg.LinAlgError:  # pragma: no cover - defensive
        roots = np.array([])
    for x in roots:
        if abs(x.imag) < 1e-7 and x.real > 1e-9:
            r = 1.0 / x.real - 1.0
            if -0.9999 < r < 1e6:
                rates.append(_polish_irr(cf_n, r))
    if not rates:  # fall back to a bracketing scan
        grid = np.concatenate([np.linspace(-0.99, 1.0, 400), np.geomspace(1.0, 1e4, 200)[1:]])
        vals = np.array([_npv_n(cf_n, g) for g in grid])
        sign = np.nonzero(np.sign(vals[:-1]) * np.sign(vals[1:]) < 0)[0]
        rates = [_bisect(cf_n, grid[i], grid[i + 1]) for i in sign]
    rates = [r for r in rates if math.isfinite(r) and abs(_npv_n(cf_n, r)) < 1e-6]
    if not rates:
        return None
    return float(min(rates, key=abs))


def _npv_n(cf: np.ndarray, r: float) -> float:
    return float(np.sum(cf / (1.0 + r) ** np.arange(cf.size)))


def _bisect(cf: np.ndarray, lo: float, hi: float) -> float:
    f_lo = _npv_n(cf, lo)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        f_mid = _npv_n(cf, mid)
        if f_mid == 0 or hi - lo < 1e-14:
            return mid
        if (f_mid > 0) == (f_lo > 0):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _polish_irr(cf: np.ndarray, r: float) -> float:
    span = max(1e-6, abs(r) * 1e-4)
    lo, hi = max(-0.99999, r - span), r + span
    if _npv_n(cf, lo) * _npv_n(cf, hi) < 0:
        return _bisect(cf, lo, hi)
    return r


def payback_year(cash_flows: Sequence[float] | np.ndarray) -> float | None:
    """Years until cumulative cash turns non-negative (interpolated within the year); None = never."""
    cf = np.asarray(cash_flows, dtype=float)
    cum = np.cumsum(cf)
    if cum.size == 0:
        return None
    if cum[0] >= 0:
        return 0.0
    for t in range(1, cum.size):
        if cum[t] >= 0:
            return float(t - 1 + (-cum[t - 1]) / cf[t])
    return None


# ------------------------------------------------------------------------------------------------
# Site paths
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MiningState:
    """Bitcoin market state on the model's start date, from the assumptions."""

    start: _dt.datetime
    height: int
    subsidy_btc: float
    reward_btc: float
    usd_per_ph_day: float
    asic: AsicSpec
    breakeven_usd_per_mwh: float
    halving_months: tuple[float, ...]

    @property
    def usd_per_th_day(self) -> float:
        """Hashprice per TH/s per day."""
        return self.usd_per_ph_day / 1000.0


def mining_state(assumptions: Assumptions, asic_model: str | None = None) -> MiningState:
    """Height, reward, hashprice, breakeven and months to each future halving on ``market_data_date``."""
    a = assumptions
    start = parse_utc("market_data_date", a.market_data_date)
    ref_time = parse_utc("reference_block_time", a.reference_block_time)
    height = height_at(start, a.reference_block_height, ref_time, a.mean_block_interval_min)
    subsidy = block_subsidy_btc(height)
    reward = reward_btc(subsidy, a.fee_share)
    hp = hashprice_usd_per_ph_day(a.difficulty, reward, a.btc_price_usd)
    asic = a.asic(asic_model)
    be = breakeven_usd_per_mwh(hp / 1000.0, asic.j_per_th, a.pue_mining, a.pool_fee)
    halvings = projected_halving_dates(height, start, a.mean_block_interval_min, n=8)
    months = tuple((t - start).total_seconds() / 86_400.0 / DAYS_PER_MONTH for _, t in halvings)
    return MiningState(start, height, subsidy, reward, hp, asic, be, months)


PATH_LABELS = {"mining": "Stay a miner", "ai_lease": "Convert to AI/HPC lease", "hybrid": "Hybrid (AI + flexible mining)"}


@dataclass(frozen=True, eq=False)
class PathResult:
    """One path's annual cash flows (year 0 = capex) and the figures derived from them."""

    name: str
    label: str
    cash_flows_usd: np.ndarray
    capex_usd: float
    npv_usd: float
    irr: float | None
    payback_years: float | None
    mwh_per_year: np.ndarray
    usd_per_mwh: float | None
    npv_usd_per_mw: float
    annual_net_usd_per_mw: float
    streams_usd: dict[str, float]
    notes: tuple[str, ...] = ()
    unavailable_reason: str | None = None
    #: Value at the horizon (exit multiple x final-year NOI / mining cash), booked in year H ($, nominal).
    terminal_value_usd: float = 0.0
    #: The terminal value discounted to year 0 at the path's discount rate ($).
    terminal_value_pv_usd: float = 0.0

    @property
    def operating_cash_usd(self) -> np.ndarray:
        """Cash of years 1..H (before the year-0 capex; year H includes the terminal value)."""
        return self.cash_flows_usd[1:]

    @property
    def cash_flows_ex_terminal_usd(self) -> np.ndarray:
        """``cash_flows_usd`` without the terminal value (years 0..H)."""
        cf = self.cash_flows_usd.copy()
        if cf.size:
            cf[-1] -= self.terminal_value_usd
        return cf


@dataclass(frozen=True)
class ValuationEstimate:
    """Implied enterprise-value uplift from EV/EBITDA multiples. An estimate, not a valuation."""

    label: str
    mining_ebitda_usd: float
    ai_ebitda_usd: float
    miner_multiple: float
    datacenter_multiple: float
    ev_mining_usd: float
    ev_ai_usd: float
    uplift_usd: float
    uplift_usd_per_mw: float


@dataclass(frozen=True, eq=False)
class PathComparison:
    """Mining vs AI lease vs hybrid for one site, plus the bridge path and the valuation estimate."""

    site_id: str
    years: int
    gross_mw: float | None = None
    it_mw: float | None = None
    power_price_usd_per_mwh: float | None = None
    asic_model: str | None = None
    mining: PathResult | None = None
    ai_lease: PathResult | None = None
    hybrid: PathResult | None = None
    bridge_npv_usd: np.ndarray = field(default_factory=lambda: np.zeros(0))
    best_bridge_year: int | None = None
    valuation: ValuationEstimate | None = None
    notes: tuple[str, ...] = ()
    unavailable_reason: str | None = None

    @property
    def paths(self) -> dict[str, PathResult]:
        """Available paths by name."""
        out = {"mining": self.mining, "ai_lease": self.ai_lease, "hybrid": self.hybrid}
        return {k: v for k, v in out.items() if v is not None and v.unavailable_reason is None}

    @property
    def best_path(self) -> str | None:
        """Name of the path with the highest NPV (None when no path is available)."""
        paths = self.paths
        return max(paths, key=lambda k: paths[k].npv_usd) if paths else None


def site_gross_mw(site: Site) -> float | None:
    """Gross MW used for economics: power_capacity_mw, else energized_mw, else None."""
    for v in (site.power_capacity_mw, site.energized_mw):
        if v is not None:
            return float(v)
    return None


def _finish(name: str, cash: np.ndarray, capex: float, mwh: np.ndarray, gross_mw: float, rate: float,
            streams: dict[str, float], notes: Sequence[str] = (), *, operating_usd: float,
            terminal_usd: float = 0.0) -> PathResult:
    """Assemble a :class:`PathResult`: add the terminal value in year H, derive NPV, IRR, payback, $/MWh.

    ``operating_usd`` is the operating cash of years 1..H (before capex, refreshes, resale and the
    terminal value): the numerator of the value of an electron and of the annual net per MW.
    Payback ignores the terminal value (it is not cash received during the horizon).
    """
    cash = np.where(np.abs(cash) < 1e-6, 0.0, cash)
    years = cash.size - 1
    with_tv = cash.copy()
    with_tv[-1] += terminal_usd
    v = npv(rate, with_tv)
    total_mwh = float(mwh[1:].sum())
    electron = operating_usd / total_mwh if total_mwh > 1e-9 else None
    streams = dict(streams)
    streams["terminal_value"] = float(terminal_usd)
    tv_pv = float(terminal_usd / (1.0 + rate) ** years)
    return PathResult(name, PATH_LABELS[name], with_tv, capex, v, irr(with_tv), payback_year(cash), mwh,
                      electron, v / gross_mw, operating_usd / max(1, years) / gross_mw, streams, tuple(notes),
                      terminal_value_usd=float(terminal_usd), terminal_value_pv_usd=tv_pv)


@dataclass(frozen=True, eq=False)
class _FleetPlan:
    """Fleet cohorts over the horizon: operating cash/MWh after retirements, refresh capex and resale by year."""

    op: np.ndarray
    mwh: np.ndarray
    refresh_capex: np.ndarray
    resale: np.ndarray
    stops: tuple[tuple[str, int], ...]
    active_share: np.ndarray  # share of the block's MW still mining in each year 0..H

    @property
    def cash(self) -> np.ndarray:
        """Operating cash - refresh capex + resale proceeds, years 0..H."""
        return self.op - self.refresh_capex + self.resale


def _fleet_plan(op: np.ndarray, mwh: np.ndarray, block_mw: float, cohorts: Sequence[tuple[str, float, int]],
                usd_per_mw: float, resale_usd_per_mw: float, refresh_years: int, *,
                last_year: int | None = None, sell_year: int | None = None) -> _FleetPlan:
    """Refresh or retire each fleet cohort ``(label, mw, first_refresh_year)`` of a mining block.

    The block's annual operating cash ``op`` and ``mwh`` (years 0..H) are shared among cohorts in
    proportion to their MW. A cohort is refreshed in year y (at ``usd_per_mw`` per MW, same model
    and price: a conservative rule) when its undiscounted cash of the next interval covers the
    refresh; otherwise it retires after year y and is sold for ``resale_usd_per_mw`` per MW in that
    year. Refreshes are only considered before ``last_year`` (the bridge path's conversion year);
    cohorts still running are sold in ``sell_year`` when it is given (the bridge stops mining).
    """
    horizon = op.size - 1
    end = horizon if last_year is None else min(last_year, horizon)
    out_op, out_mwh = np.zeros_like(op), np.zeros_like(mwh)
    capex, resale = np.zeros(horizon + 1), np.zeros(horizon + 1)
    stops: list[tuple[str, int]] = []
    active = np.zeros(horizon + 1)
    for label, mw, first in cohorts:
        if mw <= 0 or block_mw <= 0:
            continue
        share = mw / block_mw
        c_active = np.full(horizon + 1, share)
        c_op, c_mwh = op * share, mwh * share
        stopped = False
        y = int(first)
        while y < end:
            if c_op[y + 1: min(y + refresh_years, horizon) + 1].sum() >= usd_per_mw * mw:
                capex[y] += usd_per_mw * mw
                y += refresh_years
                continue
            c_op[y + 1:] = 0.0
            c_mwh[y + 1:] = 0.0
            c_active[y + 1:] = 0.0
            resale[y] += resale_usd_per_mw * mw
            stops.append((label, y))
            stopped = True
            break
        if not stopped and sell_year is not None and 0 <= sell_year <= horizon:
            resale[sell_year] += resale_usd_per_mw * mw
        out_op += c_op
        out_mwh += c_mwh
        active += c_active
    return _FleetPlan(out_op, out_mwh, capex, resale, tuple(stops), active)


def _stop_notes(plan: _FleetPlan, prefix: str) -> list[str]:
    return [f"{prefix}{label} fleet retired after year {y}: a refresh would not pay back" for label, y in plan.stops]


class _Dispatch:
    """Month-by-hour matrices of the representative year, reused by every path of one site."""

    def __init__(self, prices: np.ndarray, month_of_hour: np.ndarray, start_month: int, n_months: int):
        counts = np.bincount(month_of_hour, minlength=12)
        width = int(counts.max())
        self.price = np.full((12, width), np.nan)
        self.index = np.full((12, width), -1, dtype=int)
        for m in range(12):
            idx = np.nonzero(month_of_hour == m)[0]
            self.price[m, : idx.size] = prices[idx]
            self.index[m, : idx.size] = idx
        self.cal = (start_month + np.arange(n_months)) % 12
        # (months, hours) grids computed once per site; every path's dispatch reads them
        idx = self.index[self.cal]
        self.valid = idx >= 0
        self._idx_clipped = np.clip(idx, 0, None)
        self._price_grid = np.nan_to_num(self.price[self.cal])

    def by_month(self, hourly: np.ndarray) -> np.ndarray:
        """Map an 8,760-hour array onto the (months, hours) grid (0 where padded)."""
        return np.where(self.valid, np.asarray(hourly, float)[self._idx_clipped], 0.0)

    def run(self, block_mw: np.ndarray, off: np.ndarray, revenue_usd_per_mwh: np.ndarray, uptime: float,
            contract_usd_per_mwh: float | None) -> dict[str, np.ndarray]:
        """Monthly mining streams for an hourly block (MW) with forced-off hours (vectorised curtailment)."""
        p = self._price_grid
        r = revenue_usd_per_mwh[:, None]
        block = block_mw * uptime * self.valid
        if contract_usd_per_mwh is None:
            run = (p < r) & ~off
        else:
            run = (p <= r) & ~off
        used = np.where(run, block, 0.0)
        mwh = used.sum(axis=1)
        out = {"mwh": mwh, "revenue": revenue_usd_per_mwh * mwh}
        if contract_usd_per_mwh is None:
            out["cost"] = (used * p).sum(axis=1)
            out["resale"] = np.zeros_like(mwh)
        else:
            out["cost"] = contract_usd_per_mwh * block.sum(axis=1)
            out["resale"] = ((block - used) * p).sum(axis=1)
        return out


def _annual(monthly: np.ndarray, years: int) -> np.ndarray:
    out = np.zeros(years + 1)
    out[1:] = monthly[: years * 12].reshape(years, 12).sum(axis=1)
    return out


def site_paths(site: Site, assumptions: Assumptions, years: int | None = None) -> PathComparison:
    """Annual cash flows, NPV, IRR, payback and $/MWh of mining, AI lease and hybrid for one site.

    Cash flows are incremental for an operating miner: the fleet on ``energized_mw`` (all of
    the gross MW when energized_mw is unknown and the site is operating) is sunk, so only the MW
    not yet energized carry fleet and infrastructure capex in year 0; the installed fleet is
    first refreshed in year ``max(0, fleet_refresh_years - existing_fleet_age_years)``. Unused
    installed machines are sold at ``asic_resale_usd_per_th``. Each path carries a terminal
    value at the horizon (``ai_exit_multiple_noi`` / ``mining_exit_multiple``), reported in
    ``PathResult.terminal_value_usd`` and included in year H of ``cash_flows_usd``.
    Sites whose MW are unknown (or 0) get a :class:`PathComparison` with ``unavailable_reason``.
    """
    from planner.model import hybrid as hy  # hybrid builds on the formulas above

    a = assumptions
    sid = str(site.site_id)
    h_years = int(a.horizon_years if years is None else years)
    if isinstance(years, bool) or not 1 <= h_years <= 50 or (years is not None and years != h_years):
        raise AssumptionError(f"{sid}: years = {years!r} must be a whole number from 1 to 50")
    gross = site_gross_mw(site)
    if gross is None:
        return PathComparison(sid, h_years, unavailable_reason=(
            f"{sid}: power_capacity_mw and energized_mw are unknown. Enter the site's MW to compare paths"))
    if gross <= 0:
        return PathComparison(sid, h_years, gross_mw=gross, unavailable_reason=(
            f"{sid}: power capacity is 0 MW. Enter the site's gross MW to compare paths"))
    notes: list[str] = []
    if site.power_capacity_mw is None:
        notes.append(f"power_capacity_mw unknown: used energized_mw ({gross:g} MW)")
    price = site.power_price_usd_per_mwh
    if price is None:
        price = a.power_price_usd_per_mwh
        notes.append(f"power price unknown: used the default {price:g} $/MWh")
    model = site.asic_model
    if model is None or model not in a.catalogue:
        if model is not None:
            notes.append(f"asic_model {model!r} is not in the ASIC catalogue: used {a.asic_model}")
        model = a.asic_model
    ms = mining_state(a, model)
    n_months = h_years * 12
    rev_per_mwh = ms.breakeven_usd_per_mwh * hashprice_factors(
        n_months, a.btc_price_growth_per_year, a.difficulty_growth_per_year, a.fee_share, ms.halving_months)
    contract = float(price) if a.power_contract == "fixed" else None
    rate = float(a.discount_rate)

    # Hourly year: prices, AI load, headroom and event hours (shared by all paths).
    params = hy.HybridParams.from_site(site, a, breakeven_usd_per_mwh=ms.breakeven_usd_per_mwh,
                                       power_price_usd_per_mwh=float(price), gross_mw=gross)
    sim = hy.simulate_hybrid(params, seed=a.price_series_seed)
    cal = hy.hour_calendar()
    disp = _Dispatch(sim.price, cal.month, ms.start.month - 1, n_months)
    events = disp.by_month(sim.event.astype(float)) > 0
    hours_per_month = disp.valid.sum(axis=1).astype(float)

    # -- fleets: what is installed on the energized MW is sunk for every path -------------------
    th_per_site_mw = th_s_per_mw(ms.asic.j_per_th) / a.pue_mining
    fleet_usd_per_mw = th_per_site_mw * a.asic_price_usd_per_th
    resale_usd_per_mw = th_per_site_mw * a.asic_resale_usd_per_th
    built = site.energized_mw if site.energized_mw is not None else (gross if site.status == "operating" else 0.0)
    if site.energized_mw is None:
        notes.append("energized_mw unknown: infrastructure and fleet taken as " +
                     ("installed (status operating)" if site.status == "operating" else "not yet built"))
    existing_mw = min(max(float(built), 0.0), gross)
    new_mw = gross - existing_mw
    refresh = int(a.fleet_refresh_years)
    first_existing = max(0, refresh - int(a.existing_fleet_age_years))
    new_fleet_capex = fleet_usd_per_mw * new_mw
    infra_capex = a.mining_capex_usd_per_mw * new_mw
    site_cohorts = (("installed", existing_mw, first_existing), ("new", new_mw, refresh))
    ai_mult, mine_mult = float(a.ai_exit_multiple_noi), float(a.mining_exit_multiple)

    # -- mining: the whole site as a fleet (installed machines plus new ones on new MW) ---------
    committed = min(a.dr_committed_mw, gross)
    dr_monthly = committed * a.dr_pay_usd_per_mw_h * hours_per_month
    mine = disp.run(np.full(disp.valid.shape, gross), events, rev_per_mwh, a.uptime, contract)
    mine_net_m = mine["revenue"] + mine["resale"] - mine["cost"] + dr_monthly
    m_plan = _fleet_plan(_annual(mine_net_m, h_years), _annual(mine["mwh"], h_years), gross, site_cohorts,
                         fleet_usd_per_mw, resale_usd_per_mw, refresh)
    mining_cash = m_plan.cash
    mining_cash[0] -= new_fleet_capex + infra_capex
    m_streams = _streams(mine, h_years, dr_monthly, m_plan, sim.fourcp_avoided_usd(gross * a.uptime) * h_years)
    m_notes = _stop_notes(m_plan, "")
    if not np.any(mining_cash < 0):
        m_notes.insert(0, f"no new investment: the fleet on the {existing_mw:g} energized MW is sunk, so IRR is "
                          "undefined and payback is immediate")
    mining = _finish("mining", mining_cash, new_fleet_capex + infra_capex, m_plan.mwh, gross, rate, m_streams,
                     m_notes, operating_usd=float(m_plan.op[1:].sum()),
                     terminal_usd=mine_mult * max(0.0, float(m_plan.op[-1])))

    # -- AI lease: the installed fleet is sold in year 0 ----------------------------------------
    it_ai = min(gross * a.critical_it_ratio, gross / a.pue_ai)
    if it_ai < gross * a.critical_it_ratio:
        notes.append(f"critical IT capped at {it_ai:g} MW so that IT * PUE fits the {gross:g} MW interconnect")
    noi_per_month = a.lease_rate_usd_per_kw_month * 1000.0 * a.noi_margin
    live = np.arange(n_months) >= a.build_months
    ai_capex = a.conversion_capex_usd_per_mw_it * it_ai
    ai_draw_ratio = float(sim.ai_mw.mean() / params.it_mw) if params.it_mw > 0 else a.pue_ai
    ai_noi_m = np.where(live, noi_per_month * it_ai, 0.0)
    ai_mwh_m = np.where(live, it_ai * ai_draw_ratio * hours_per_month, 0.0)
    ai_noi = _annual(ai_noi_m, h_years)
    ai_resale = resale_usd_per_mw * existing_mw
    ai_cash = ai_noi.copy()
    ai_cash[0] += ai_resale - ai_capex
    ai = _finish("ai_lease", ai_cash, ai_capex, _annual(ai_mwh_m, h_years), gross, rate,
                 {"lease_revenue": float(ai_noi_m.sum() / a.noi_margin), "lease_noi": float(ai_noi_m.sum()),
                  "fleet_resale": float(ai_resale)},
                 operating_usd=float(ai_noi[1:].sum()), terminal_usd=ai_mult * 12.0 * float(ai_noi_m[-1]))

    # -- hybrid: AI tenant plus a mining fleet that takes the headroom -------------------------
    hybrid_res: PathResult
    if params.it_mw <= 0 and params.mining_capacity_mw <= 0:
        hybrid_res = _unavailable("hybrid", "no room for AI or mining below the interconnect reserve", h_years)
    else:
        cap = params.mining_capacity_mw
        hb_installed = min(cap, existing_mw)          # installed machines kept for the mining block
        hb_new = cap - hb_installed                   # machines (and mining infrastructure) to buy
        hb_surplus_resale = resale_usd_per_mw * (existing_mw - hb_installed)
        hb_new_capex = (fleet_usd_per_mw + a.mining_capex_usd_per_mw) * hb_new
        block = np.where(live[:, None], disp.by_month(sim.headroom_mw),
                         min(cap, params.interconnect_mw - params.reserve_mw))
        hb_mine = disp.run(block, events, rev_per_mwh, a.uptime, contract)
        hb_dr_m = min(committed, cap) * a.dr_pay_usd_per_mw_h * hours_per_month
        hb_noi_m = np.where(live, noi_per_month * params.it_mw, 0.0)
        hb_plan = _fleet_plan(_annual(hb_mine["revenue"] + hb_mine["resale"] - hb_mine["cost"] + hb_dr_m, h_years),
                              _annual(hb_mine["mwh"], h_years), cap,
                              (("installed", hb_installed, first_existing), ("new", hb_new, refresh)),
                              fleet_usd_per_mw, resale_usd_per_mw, refresh)
        hb_noi = _annual(hb_noi_m, h_years)
        hb_cash = hb_plan.cash + hb_noi
        hb_capex = a.conversion_capex_usd_per_mw_it * params.it_mw + hb_new_capex
        hb_cash[0] += hb_surplus_resale - hb_capex
        hb_mwh = hb_plan.mwh + _annual(np.where(live, params.it_mw * ai_draw_ratio * hours_per_month, 0.0), h_years)
        streams = _streams(hb_mine, h_years, hb_dr_m, hb_plan, sim.fourcp_avoided_usd(cap * a.uptime) * h_years)
        streams["fleet_resale"] += hb_surplus_resale
        streams["lease_noi"] = float(hb_noi_m.sum())
        streams["lease_revenue"] = float(hb_noi_m.sum() / a.noi_margin)
        hybrid_res = _finish("hybrid", hb_cash, hb_capex, hb_mwh, gross, rate, streams,
                             _stop_notes(hb_plan, "mining: "),
                             operating_usd=float(hb_plan.op[1:].sum() + hb_noi[1:].sum()),
                             terminal_usd=ai_mult * 12.0 * float(hb_noi_m[-1])
                             + mine_mult * max(0.0, float(hb_plan.op[-1])))

    # -- bridge: mine, convert in year N (mining continues through the AI build) ------------------
    bridge = np.zeros(h_years + 1)
    months = np.arange(n_months)
    for n in range(h_years + 1):
        if n == 0:
            bridge[n] = ai.npv_usd
            continue
        if n == h_years:
            bridge[n] = mining.npv_usd
            continue
        mining_end_month = n * 12 + a.build_months
        sell_year = math.ceil(mining_end_month / 12) if mining_end_month < n_months else None
        b_plan = _fleet_plan(_annual(np.where(months < mining_end_month, mine_net_m, 0.0), h_years),
                             np.zeros(h_years + 1), gross, site_cohorts, fleet_usd_per_mw, resale_usd_per_mw,
                             refresh, last_year=n, sell_year=sell_year)
        b_noi_m = np.where(months >= mining_end_month, noi_per_month * it_ai, 0.0)
        cash = b_plan.cash + _annual(b_noi_m, h_years)
        cash[0] -= new_fleet_capex + infra_capex
        cash[n] -= ai_capex
        cash[-1] += ai_mult * 12.0 * float(b_noi_m[-1]) + mine_mult * max(0.0, float(b_plan.op[-1]))
        bridge[n] = npv(rate, cash)
    best_n = int(np.argmax(bridge))

    mining_ebitda = float(m_plan.op[1])
    ai_ebitda = noi_per_month * 12.0 * it_ai
    ev_m = a.ev_ebitda_miner * mining_ebitda
    ev_ai = a.ev_ebitda_datacenter * ai_ebitda
    valuation = ValuationEstimate(
        "Estimate from editable EV/EBITDA multiples (miners vs data-center operators); not a valuation",
        mining_ebitda, ai_ebitda, a.ev_ebitda_miner, a.ev_ebitda_datacenter, ev_m, ev_ai, ev_ai - ev_m,
        (ev_ai - ev_m) / gross)
    comp = PathComparison(sid, h_years, gross, it_ai, float(price), model, mining, ai, hybrid_res, bridge, best_n,
                          valuation, tuple(notes))
    _check_finite(comp)
    return comp


def _streams(run: dict[str, np.ndarray], years: int, dr_monthly: np.ndarray, plan: _FleetPlan,
             fourcp_avoided: float) -> dict[str, float]:
    """Mining money streams ($ over the horizon) weighted by the share of the fleet still running each year."""
    n = years * 12
    w = np.repeat(plan.active_share[1:], 12)[:n]

    def total(x: np.ndarray) -> float:
        return float((np.asarray(x)[:n] * w).sum())

    return {"mining_revenue": total(run["revenue"]), "power_cost": total(run["cost"]),
            "resale_revenue": total(run["resale"]), "dr_pay": total(dr_monthly),
            "fleet_refresh_capex": float(plan.refresh_capex.sum()), "fleet_resale": float(plan.resale.sum()),
            "fourcp_avoided_vs_always_on": float(fourcp_avoided)}


def _unavailable(name: str, reason: str, years: int) -> PathResult:
    z = np.zeros(years + 1)
    return PathResult(name, PATH_LABELS[name], z, 0.0, 0.0, None, None, z, None, 0.0, 0.0, {}, (),
                      reason)


def _check_finite(comp: PathComparison) -> None:
    for p in (comp.mining, comp.ai_lease, comp.hybrid):
        if p is None:
            continue
        vals: list[Any] = [p.npv_usd, p.npv_usd_per_mw, p.annual_net_usd_per_mw, p.irr, p.usd_per_mwh,
                           p.terminal_value_usd,
                           p.payback_years, *p.streams_usd.values()]
        if not (np.all(np.isfinite(p.cash_flows_usd)) and all(v is None or math.isfinite(v) for v in vals)):
            raise EconomicsError(f"{comp.site_id}: the {p.name} path produced a non-finite number; "
                                 "check the assumptions for extreme values")


def _positive(name: str, value: float) -> None:
    if not (isinstance(value, (int, float, np.floating, np.integer)) and math.isfinite(value) and value > 0):
        raise EconomicsError(f"{name} = {value!r} must be a finite number > 0")
