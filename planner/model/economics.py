"""Mining, AI-lease, hybrid and sell economics (docs/DOMAIN.md sections 3-5), pure Python/numpy.

The first half are the textbook formulas, one function each, with units in the names. The second
half (:func:`site_paths`) turns a :class:`~planner.model.site.Site` and an
:class:`~planner.model.assumptions.Assumptions` into annual cash flows of four paths (stay a miner,
convert to an AI/HPC lease, hybrid, sell the site) and the bridge path (mine, convert in year N), with
NPV with and without terminal value, IRR, payback, financing (equity NPV/IRR, minimum DSCR) and the
"value of an electron". docs/economics.md states every rule; in short:

* Cash flows are annual, year 0 = ``market_data_date``, end-of-year discounting. Money spent during
  model month m falls in year ``m // 12 + 1``; an event at the start of month m in ``ceil(m / 12)``.
* Hashprice follows :func:`planner.model.outlook.build_outlook` (cost floor by default). New machines
  follow the efficiency frontier and cost ``asic_price_usd_per_th`` x hashprice(t) / hashprice(0).
* Only energized MW carry an installed fleet (site ``fleet_*`` fields, else the public-miner default);
  status never decides. Fleet cohorts are kept, refreshed or sold at their review dates, whichever is
  worth most over the next interval. Dispatch is hourly against the site's price year (shifted
  additively, ERCOT floor and cap) through :class:`DispatchCurve`; the site price is net of curtailment
  credits by default (counted once).
* The AI lease prices this site's conversion (fit-out + readiness upgrades) over its own build time,
  with term, escalator, renewal/downtime/re-fit, prepayment, tenant credit spread and an explicit exit.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from planner.fmt import HOURS_PER_YEAR, fmt_mw, fmt_number, real_number
from planner.model.assumptions import ASSUMPTIONS, AssumptionError, Assumptions, AsicSpec, parse_utc
from planner.model.site import PlannerError, Site

SATOSHI_PER_BTC = 100_000_000
HALVING_INTERVAL_BLOCKS = 210_000
DAYS_PER_MONTH = 30.4375
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
                          usd_per_mwh: float, pool_fee: float, uptime: float, pue_mining: float = 1.0) -> float | None:
    """Static payback in months at today's hashprice; None when the daily margin is not positive.

    ``capex / ((usd_per_th_day * (1 - fee) - j_per_th * 24e-6 * usd_per_mwh * pue) * uptime) / 30.4375``
    (DOMAIN's formula with the site overhead ``pue_mining`` on the power bill; 1.0 = DOMAIN as written).
    """
    margin = (usd_per_th_day * (1.0 - pool_fee) - j_per_th * 24e-6 * usd_per_mwh * pue_mining) * uptime
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
                    halving_months: Sequence[float] = (), max_months: int = 120, pue_mining: float = 1.0,
                    hashprice_path_usd_per_th_day: np.ndarray | None = None) -> PaybackResult:
    """Monthly payback path with growth, halvings and switch-off in negative-margin months.

    Hashprice in month t is today's times :func:`hashprice_factors`; a month whose margin is
    negative is switched off (margin 0). Returns months = None when the capex is never recovered
    within ``max_months``.
    """
    if hashprice_path_usd_per_th_day is not None:  # e.g. planner.model.outlook's path, held flat at its end
        path = np.asarray(hashprice_path_usd_per_th_day, float)
        hp = path[np.minimum(np.arange(max_months), path.size - 1)]
    else:
        hp = usd_per_th_day * hashprice_factors(max_months, price_growth_per_year, difficulty_growth_per_year,
                                                fee_share, halving_months)
    daily = (hp * (1.0 - pool_fee) - j_per_th * 24e-6 * usd_per_mwh * pue_mining) * uptime
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
    return float(cf @ _discount(float(rate), cf.size))


@lru_cache(maxsize=64)
def _discount(rate: float, n: int) -> np.ndarray:
    out = (1.0 + rate) ** -np.arange(n, dtype=float)
    out.setflags(write=False)
    return out


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
    unique = _irr_unique(cf_n)
    if unique is not None:
        return unique
    found = _irr_bracketed(cf_n)
    if found is not None:
        return found
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


def _irr_unique(cf: np.ndarray) -> float | None:
    """The IRR when it is provably the only one, by safeguarded Newton; None otherwise.

    Descartes' rule of signs: when the cash flows change sign exactly once, ``sum cf_t x**t`` has
    exactly one root with x > 0, i.e. one IRR above -100 %.
    """
    nz = cf[cf != 0]
    if nz.size < 2 or int(np.count_nonzero(np.diff(np.sign(nz)))) != 1:
        return None
    coef = [float(c) for c in cf[::-1]]  # Horner, highest power first
    lo, hi = 1e-9, 1e9                   # bracket in x = 1 / (1 + r)
    f_lo = _horner(coef, lo)[0]
    x = 1.0 / 1.1
    for _ in range(100):
        f, d = _horner(coef, x)
        if abs(f) < 1e-13:
            break
        if (f > 0) == (f_lo > 0):
            lo = x
        else:
            hi = x
        step = x - f / d if d != 0 else -1.0
        x = step if lo < step < hi else 0.5 * (lo + hi) if hi < 1e8 else 2.0 * x
        if hi - lo < 1e-15 * hi:
            break
    r = 1.0 / x - 1.0
    return r if math.isfinite(r) and abs(_npv_n(cf, r)) < 1e-9 else None


_IRR_GRID = np.unique(np.concatenate([np.linspace(-0.95, 0.5, 59), np.geomspace(0.5, 1000.0, 40)]))


@lru_cache(maxsize=8)
def _grid_powers(n: int) -> np.ndarray:
    """``x**t`` for the rate grid (rows) and t = 0..n-1 (columns), x = 1 / (1 + r)."""
    return (1.0 / (1.0 + _IRR_GRID))[:, None] ** np.arange(n)[None, :]


def _irr_bracketed(cf: np.ndarray) -> float | None:
    """The IRR closest to zero when a rate grid brackets every root Descartes' rule allows; else None.

    The number of positive roots x of ``sum cf_t x**t`` is the number of sign changes of the cash flows
    minus an even number. When the grid (-95 % to +100,000 %) shows that many sign changes of the NPV,
    every IRR has been bracketed, each is refined (safeguarded Newton) and the one closest to zero is
    returned: the same answer as the polynomial roots, faster.
    """
    nz = cf[np.abs(cf) > 0]
    bound = int(np.count_nonzero(np.diff(np.sign(nz))))
    vals = _grid_powers(cf.size) @ cf
    idx = np.nonzero(np.sign(vals[:-1]) * np.sign(vals[1:]) < 0)[0]
    if idx.size != bound or bound == 0 or np.any(vals == 0):
        return None
    coef = [float(c) for c in cf[::-1]]
    rates = []
    for i in idx:
        r = _refine(coef, 1.0 / (1.0 + _IRR_GRID[i + 1]), 1.0 / (1.0 + _IRR_GRID[i]))
        if r is None:
            return None
        rates.append(r)
    return float(min(rates, key=abs))


def _refine(coef: list[float], lo: float, hi: float) -> float | None:
    """Root of the polynomial between ``lo`` and ``hi`` (x, values of opposite sign) as a rate."""
    f_lo = _horner(coef, lo)[0]
    x = 0.5 * (lo + hi)
    for _ in range(100):
        f, d = _horner(coef, x)
        if abs(f) < 1e-14:
            break
        if (f > 0) == (f_lo > 0):
            lo = x
        else:
            hi = x
        step = x - f / d if d != 0 else lo - 1.0
        x = step if lo < step < hi else 0.5 * (lo + hi)
        if hi - lo < 1e-15 * max(hi, 1e-300):
            break
    r = 1.0 / x - 1.0
    return r if math.isfinite(r) and abs(_horner(coef, x)[0]) < 1e-9 else None


def _horner(coef: list[float], x: float) -> tuple[float, float]:
    f = d = 0.0
    for c in coef:
        d = d * x + f
        f = f * x + c
    return f, d


def _npv_n(cf: np.ndarray, r: float) -> float:
    return float(np.polyval(cf[::-1], 1.0 / (1.0 + r)))  # Horner: sum cf_t x**t with x = 1 / (1 + r)


def _bisect(cf: np.ndarray, lo: float, hi: float) -> float:
    f_lo = _npv_n(cf, lo)
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        f_mid = _npv_n(cf, mid)
        if f_mid == 0 or hi - lo < 1e-12 * max(1.0, abs(mid)):
            return mid
        if (f_mid > 0) == (f_lo > 0):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def _polish_irr(cf: np.ndarray, r: float) -> float:
    """Polish an eigenvalue root: a few Newton steps on x = 1 / (1 + r), else a bisection in a small
    bracket; the candidate with the smallest NPV residual wins (so polishing never makes a root worse)."""
    cands = [r]
    x = 1.0 / (1.0 + r)
    der = np.polyder(cf[::-1])
    for _ in range(3):
        f, d = np.polyval(cf[::-1], x), np.polyval(der, x)
        if abs(f) < 1e-14 or d == 0:
            break
        x -= f / d
    if x > 0:
        cands.append(1.0 / x - 1.0)
    span = max(1e-6, abs(r) * 1e-4)
    lo, hi = max(-0.99999, r - span), r + span
    if _npv_n(cf, lo) * _npv_n(cf, hi) < 0:
        cands.append(_bisect(cf, lo, hi))
    return min(cands, key=lambda c: abs(_npv_n(cf, c)) if c > -1 else math.inf)


def payback_year(cash_flows: Sequence[float] | np.ndarray) -> float | None:
    """Years until cumulative cash turns non-negative (interpolated within the year); None = never."""
    cf = np.asarray(cash_flows, dtype=float)
    cum = np.cumsum(cf)
    if cum.size == 0:
        return None
    neg = np.nonzero(cum < 0)[0]
    if neg.size == 0:
        return 0.0
    # money received before the investment (e.g. a fleet sold at signing) does not count as payback
    for t in range(int(neg[0]) + 1, cum.size):
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


def breakeven_hashprice_usd_per_ph_day(j_per_th: float, usd_per_mwh: float, pue_mining: float,
                                       pool_fee: float) -> float:
    """Hashprice at which a fleet of ``j_per_th`` just pays its power: ``J * 0.024 * usd_per_mwh * pue / (1 - fee)``."""
    return hashcost_usd_per_ph_day(j_per_th, usd_per_mwh) * pue_mining / (1.0 - pool_fee)


#: How a path that depends on unknown energized MW reads (mining, selling): never $0.
NEEDS_ENERGIZED = "n/a (enter energized MW)"
PATH_LABELS = {"mining": "Stay a miner", "ai_lease": "Convert to AI/HPC lease",
               "hybrid": "Hybrid (AI + flexible mining)", "sell": "Sell the site",
               "bridge": "Mine, then convert (bridge)"}
#: Capex items that belong to the data hall (paid by the tenant when the fit-out is tenant-funded).
HALL_UPGRADES = frozenset({"dlc_retrofit", "hall_buildout", "rack_density"})


@dataclass(frozen=True)
class Financing:
    """Debt on a path's initial capex and the equity view (see :func:`finance_path`)."""

    debt_usd: float
    debt_service_usd: np.ndarray
    equity_cash_flows_usd: np.ndarray
    equity_npv_usd: float
    equity_irr: float | None
    min_dscr: float | None


@dataclass(frozen=True, eq=False)
class PathResult:
    """One path's annual cash flows (year 0 = signing/decision) and the figures derived from them."""

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
    #: Value at the horizon (exit multiple x run-rate NOI / mining cash), booked in year H ($, nominal).
    terminal_value_usd: float = 0.0
    #: The terminal value discounted to year 0 ($).
    terminal_value_pv_usd: float = 0.0
    #: NPV without the terminal value ($).
    npv_excl_terminal_usd: float = 0.0
    #: Initial capex by year (years 0..H; the build spread), excluding fleet refreshes ($).
    capex_by_year_usd: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: Discount rate applied to the lease cash flows (base rate + tenant credit spread).
    lease_discount_rate: float | None = None
    financing: Financing | None = None
    #: Which variant of the path this is (e.g. "energized only" for mining).
    option: str = ""

    @property
    def operating_cash_usd(self) -> np.ndarray:
        """Cash of years 1..H (year H includes the terminal value)."""
        return self.cash_flows_usd[1:]

    @property
    def cash_flows_ex_terminal_usd(self) -> np.ndarray:
        """``cash_flows_usd`` without the terminal value (years 0..H)."""
        cf = self.cash_flows_usd.copy()
        if cf.size:
            cf[-1] -= self.terminal_value_usd
        return np.asarray(cf)

    @property
    def terminal_share(self) -> float | None:
        """Share of the NPV that is terminal value (PV of the exit / NPV); None when the NPV is not positive.

        Above 1 means the path loses money without its exit value.
        """
        return self.terminal_value_pv_usd / self.npv_usd if self.npv_usd > 0 else None

    @property
    def irr_excl_terminal(self) -> float | None:
        """IRR of the cash flows without the terminal value."""
        return irr(self.cash_flows_ex_terminal_usd)

    @property
    def equity_irr(self) -> float | None:
        """IRR of the equity cash flows (after debt draws and service)."""
        return None if self.financing is None else self.financing.equity_irr

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (the ``compare --json`` path object)."""
        f = self.financing
        return {
            "label": self.label, "option": self.option, "available": self.unavailable_reason is None,
            "unavailable_reason": self.unavailable_reason,
            # an unavailable path has no NPV (never 0: unknown is not zero)
            "npv_usd": None if self.unavailable_reason else _r(self.npv_usd), "irr": _r(self.irr, 6),
            "npv_excl_terminal_usd": None if self.unavailable_reason else _r(self.npv_excl_terminal_usd),
            "irr_excl_terminal": _r(self.irr_excl_terminal, 6),
            "terminal_value_usd": _r(self.terminal_value_usd), "terminal_value_pv_usd": _r(self.terminal_value_pv_usd),
            "terminal_share": _r(self.terminal_share, 6),
            "equity_npv_usd": _r(None if f is None else f.equity_npv_usd), "equity_irr": _r(self.equity_irr, 6),
            "min_dscr": _r(None if f is None else f.min_dscr, 4), "debt_usd": _r(None if f is None else f.debt_usd),
            "capex_usd": _r(self.capex_usd), "payback_years": _r(self.payback_years, 3),
            "npv_usd_per_mw": _r(self.npv_usd_per_mw), "usd_per_mwh": _r(self.usd_per_mwh, 3),
            "lease_discount_rate": _r(self.lease_discount_rate, 6),
            "cash_flows_usd": [_r(v) for v in self.cash_flows_usd],
            "capex_by_year_usd": [_r(v) for v in self.capex_by_year_usd],
            "equity_cash_flows_usd": None if f is None else [_r(v) for v in f.equity_cash_flows_usd],
            "streams_usd": {k: _r(v) for k, v in self.streams_usd.items()},
            "notes": list(self.notes),
        }


def _r(v: float | None, nd: int = 2) -> float | None:
    return None if v is None else round(float(v), nd)


@dataclass(frozen=True)
class ValuationEstimate:
    """A market-multiple view of converting (secondary to the NPVs; not a valuation).

    Each path's own EBITDA times an editable EV/EBITDA multiple: mining = the site's first-year mining
    EBITDA (energized MW only) x the miners' multiple; AI = the AI lease path's first full year of NOI x
    the data-center multiple, discounted from that year at the lease rate, less the present value of the
    conversion capex, plus the mining cash until the halls go live. ``uplift_usd`` = AI - mining.
    None on a comparison when energized MW are unknown or zero (no operating EBITDA to apply a multiple to).
    """

    label: str
    mining_ebitda_usd: float
    ai_ebitda_usd: float
    miner_multiple: float
    datacenter_multiple: float
    ev_mining_usd: float
    ev_ai_usd: float
    uplift_usd: float
    uplift_usd_per_mw: float
    conversion_capex_usd: float = 0.0
    #: Year whose NOI the data-center multiple applies to (first full year of AI operation).
    ai_stabilised_year: int = 0
    #: Present value of the conversion capex deducted from the AI side.
    conversion_capex_pv_usd: float = 0.0


@dataclass(frozen=True)
class CapexItem:
    """One line of the site's AI conversion capex: what, how much, how it was priced."""

    key: str
    label: str
    usd: float | None
    detail: str


@dataclass(frozen=True, eq=False)
class PathComparison:
    """Mining vs AI lease vs hybrid vs selling for one site, plus the bridge path and the valuation estimate."""

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
    sell: PathResult | None = None
    #: Energized MW carrying the installed fleet (None = unknown: the paths use 0 and ``energized_range``).
    energized_mw: float | None = None
    fleet_mw: float = 0.0
    fleet_j_per_th: float | None = None
    fleet_age_years: float | None = None
    fleet_source: str = ""
    #: Months from signing to first AI capacity at this site and what set it.
    build_months: float | None = None
    build_basis: str = ""
    capex_items: tuple[CapexItem, ...] = ()
    #: Site breakeven today ($/MWh) and the site's power cost per PH/s-day vs the network's marginal cost.
    breakeven_usd_per_mwh: float | None = None
    site_cost_usd_per_ph_day: float | None = None
    #: With energized MW unknown: NPV of each path with nothing energized and with all gross MW energized.
    energized_range: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: Year of the bridge path's first conversion capex for each conversion year N (-1 = never converts).
    bridge_capex_year: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: Cash flows (years 0..H, terminal value in year H) of the bridge path for each N, shape (H + 1, H + 1).
    bridge_cash_flows_usd: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    #: The bridge at its best conversion year when that is a genuinely different path (0 < N < H): a
    #: candidate of :attr:`best_path`. N = 0 is the AI lease path itself, N = H the mining path.
    bridge: PathResult | None = None

    @property
    def paths(self) -> dict[str, PathResult]:
        """Available operating paths by name (mining, AI lease, hybrid)."""
        out = {"mining": self.mining, "ai_lease": self.ai_lease, "hybrid": self.hybrid}
        return {k: v for k, v in out.items() if v is not None and v.unavailable_reason is None}

    @property
    def all_paths(self) -> dict[str, PathResult]:
        """Available paths including the "sell the site" baseline and, when it is a different path, the bridge."""
        out = self.paths
        if self.sell is not None and self.sell.unavailable_reason is None:
            out["sell"] = self.sell
        if self.bridge is not None:
            out["bridge"] = self.bridge
        return out

    @property
    def best_path(self) -> str | None:
        """Name of the path with the highest NPV, selling included (None when no path is available)."""
        paths = self.all_paths
        return max(paths, key=lambda k: paths[k].npv_usd) if paths else None

    @property
    def conversion_capex_usd(self) -> float:
        """Landlord's AI conversion capex at this site (fit-out + known upgrades), $."""
        return float(sum(i.usd for i in self.capex_items if i.usd is not None))

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe comparison (the ``compare --json`` object)."""
        paths = {"mining": self.mining, "ai_lease": self.ai_lease, "hybrid": self.hybrid, "sell": self.sell,
                 "bridge": self.bridge}
        return {
            "site_id": self.site_id, "best_path": self.best_path, "horizon_years": self.years,
            "unavailable_reason": self.unavailable_reason,
            "gross_mw": self.gross_mw, "it_mw": _r(self.it_mw, 3), "energized_mw": self.energized_mw,
            "power_price_usd_per_mwh": self.power_price_usd_per_mwh,
            "fleet": {"mw": _r(self.fleet_mw, 3), "j_per_th": _r(self.fleet_j_per_th, 3),
                      "age_years": self.fleet_age_years, "source": self.fleet_source},
            "breakeven_usd_per_mwh": _r(self.breakeven_usd_per_mwh, 3),
            "site_cost_usd_per_ph_day": _r(self.site_cost_usd_per_ph_day, 3),
            "build_months": _r(self.build_months, 1), "build_basis": self.build_basis,
            "conversion_capex_usd": _r(self.conversion_capex_usd),
            "capex_items": [{"key": i.key, "label": i.label, "usd": _r(i.usd), "detail": i.detail}
                            for i in self.capex_items],
            "paths": {k: v.to_dict() for k, v in paths.items() if v is not None},
            "bridge": {"npv_usd_by_conversion_year": [_r(v) for v in self.bridge_npv_usd],
                       "best_conversion_year": self.best_bridge_year},
            "energized_range": {k: [_r(lo), _r(hi)] for k, (lo, hi) in self.energized_range.items()},
            "valuation_estimate": None if self.valuation is None else {
                "label": self.valuation.label, "uplift_usd": _r(self.valuation.uplift_usd),
                "ev_mining_usd": _r(self.valuation.ev_mining_usd), "ev_ai_usd": _r(self.valuation.ev_ai_usd),
                "conversion_capex_usd": _r(self.valuation.conversion_capex_usd),
                "conversion_capex_pv_usd": _r(self.valuation.conversion_capex_pv_usd),
                "mining_ebitda_usd": _r(self.valuation.mining_ebitda_usd),
                "ai_ebitda_usd": _r(self.valuation.ai_ebitda_usd),
                "ai_stabilised_year": self.valuation.ai_stabilised_year,
                "miner_multiple": self.valuation.miner_multiple,
                "datacenter_multiple": self.valuation.datacenter_multiple},
            "notes": list(self.notes),
        }


def site_gross_mw(site: Site) -> float | None:
    """Gross MW used for economics: power_capacity_mw, else energized_mw, else None."""
    for v in (site.power_capacity_mw, site.energized_mw):
        if v is not None:
            return float(v)
    return None


# ------------------------------------------------------------------------------------------------
# Building blocks
# ------------------------------------------------------------------------------------------------
def _annual(monthly: np.ndarray, years: int) -> np.ndarray:
    """Monthly values (months 0..12H-1) summed into years 1..H (index 0 = year 0 is left 0)."""
    out = np.zeros(years + 1)
    out[1:] = np.asarray(monthly, float)[: years * 12].reshape(years, 12).sum(axis=1)
    return out


def _year_of_month(months: Any) -> Any:
    """Cash-flow year of money spent during month m: year m // 12 + 1 (year k holds months 12(k-1) .. 12k-1,
    as :func:`_annual`)."""
    return np.asarray(months, int) // 12 + 1


def _year_at(month: int) -> int:
    """Cash-flow year of an event at the start of month m (a sale, a refresh, a signing): ceil(m / 12), so
    month 0 is year 0 (today) and month 12N the end of year N."""
    return int(math.ceil(int(month) / 12.0))


_ROW = 1e5          # row offset of the flattened per-month price matrix (prices lie in [-250, 5,000])
_SENTINEL = 9e4     # padding above every price in a row and below the next row
_LOWEST = -9e3      # lowest price / revenue a row can hold without reaching the previous row's padding


class PriceOrder:
    """Hours of each calendar month sorted by price (stable), padded to a (12, width) matrix, with the
    flattened search keys: everything about one price series that every :class:`DispatchCurve` shares."""

    def __init__(self, prices: np.ndarray, month_of_hour: np.ndarray):
        p = np.asarray(prices, float)
        if p.min() <= _LOWEST or p.max() >= _SENTINEL:
            raise EconomicsError("hourly prices must lie between -9,000 and 90,000 $/MWh")
        order = []
        for m in range(12):
            idx = np.nonzero(month_of_hour == m)[0]
            order.append(idx[np.argsort(p[idx], kind="stable")])
        self.width = w = max(o.size for o in order)
        self.idx = np.zeros((12, w), int)
        self.valid = np.zeros((12, w), bool)
        for m, o in enumerate(order):
            self.idx[m, : o.size] = o
            self.valid[m, : o.size] = True
        self.prices, self.month = p, month_of_hour
        self.sorted_prices = np.where(self.valid, p[self.idx], 0.0)
        self.flat = (np.where(self.valid, self.sorted_prices, _SENTINEL) + _ROW * np.arange(12)[:, None]).ravel()


def month_price_order(prices: np.ndarray, month_of_hour: np.ndarray) -> PriceOrder:
    """The :class:`PriceOrder` of a price series (compute once, share between curves)."""
    return PriceOrder(prices, month_of_hour)


class DispatchCurve:
    """Hourly dispatch of a flexible block as a function of its revenue per MWh, month by month.

    For each calendar month the hours are sorted by price with the cumulative block MWh and block
    x price: the MWh run and their market cost for any revenue ``r`` (run while price < r, or <= r
    with a fixed contract) are one ``searchsorted`` away. Exactly the hour-by-hour curtailment of
    :func:`curtailment`, at O(log hours) per month instead of O(hours).
    """

    def __init__(self, prices: np.ndarray, block_on: np.ndarray, block_all: np.ndarray, month_of_hour: np.ndarray,
                 order: PriceOrder | None = None):
        po = PriceOrder(prices, month_of_hour) if order is None else order
        self.width, self._flat = po.width, po.flat
        blk = np.where(po.valid, np.asarray(block_on, float)[po.idx], 0.0)
        cw = np.zeros((12, po.width + 1))
        cwp = np.zeros((12, po.width + 1))
        np.cumsum(blk, axis=1, out=cw[:, 1:])
        np.cumsum(blk * po.sorted_prices, axis=1, out=cwp[:, 1:])
        ball = np.asarray(block_all, float)
        self.total_all: np.ndarray = np.bincount(po.month, weights=ball, minlength=12)
        self.total_all_cost: np.ndarray = np.bincount(po.month, weights=ball * po.prices, minlength=12)
        self._cw, self._cwp = cw, cwp

    def scaled(self, factor: float) -> "DispatchCurve":
        """The same curve for a block ``factor`` times as large (MWh and $ scale, the hours run do not)."""
        out = object.__new__(DispatchCurve)
        out.width, out._flat = self.width, self._flat
        out._cw, out._cwp = self._cw * factor, self._cwp * factor
        out.total_all, out.total_all_cost = self.total_all * factor, self.total_all_cost * factor
        return out

    def run(self, cal_month: np.ndarray, revenue_usd_per_mwh: np.ndarray, strict: bool = True
            ) -> tuple[np.ndarray, np.ndarray]:
        """(MWh run, their market cost $) per model month for the revenue per MWh of each month."""
        r = np.clip(np.asarray(revenue_usd_per_mwh, float), _LOWEST + 1, _SENTINEL - 1)
        k = np.searchsorted(self._flat, cal_month * _ROW + r, side="left" if strict else "right") - cal_month * self.width
        return self._cw[cal_month, k], self._cwp[cal_month, k]


@dataclass(frozen=True)
class _Ctx:
    """Everything about one site and one set of assumptions that every path reads."""

    a: Assumptions
    years: int
    n: int
    cal: np.ndarray                 # calendar month (0-11) of each model month
    hp: np.ndarray                  # hashprice $/PH/day by model month
    frontier_j: np.ndarray          # J/TH of new machines by model month
    asic_usd_per_th: np.ndarray     # new-machine price by model month
    price: float                    # site all-in $/MWh
    basis: str
    contract: float | None
    rate: float
    lease_rate: float
    hours_per_month: np.ndarray

    def revenue_per_mwh(self, j: np.ndarray) -> np.ndarray:
        """Hash revenue per MWh at the meter for machines of ``j`` J/TH (the breakeven power price)."""
        a = self.a
        return self.hp / 1000.0 * (1.0 - a.pool_fee) * 1e6 / (24.0 * j * a.pue_mining)

    def fleet_usd_per_mw(self, month: int) -> float:
        """Price of new machines for 1 MW at the meter bought in ``month``: TH/MW x $/TH then."""
        m = min(max(int(month), 0), self.n - 1)
        return th_s_per_mw(float(self.frontier_j[m])) / self.a.pue_mining * float(self.asic_usd_per_th[m])

    def resale_usd_per_mw(self, j: float, month: int) -> float:
        """Used-machine value of 1 MW of ``j`` J/TH machines in ``month`` (resale $/TH tracks hashprice)."""
        m = min(max(int(month), 0), self.n - 1)
        return th_s_per_mw(j) / self.a.pue_mining * self.a.asic_resale_usd_per_th * float(self.hp[m] / self.hp[0])


def _mining_month(ctx: _Ctx, curve: DispatchCurve, j: np.ndarray, strict_ok: bool = True) -> dict[str, np.ndarray]:
    """Monthly streams of 1 MW of fleet (scaled by the curve's block) with efficiency ``j`` by month."""
    r = ctx.revenue_per_mwh(j)
    if ctx.contract is None:
        mwh, market = curve.run(ctx.cal, r, strict=True)
        if ctx.basis == "net_of_curtailment":
            on = r > ctx.price
            mwh = np.where(on, mwh, 0.0)
            cost = ctx.price * mwh
        else:
            cost = market
        return {"mwh": mwh, "revenue": r * mwh, "cost": cost, "resale": np.zeros_like(mwh)}
    mwh, market = curve.run(ctx.cal, r, strict=False)
    total, total_cost = curve.total_all[ctx.cal], curve.total_all_cost[ctx.cal]
    return {"mwh": mwh, "revenue": r * mwh, "cost": ctx.contract * total, "resale": total_cost - market}


@dataclass
class _Block:
    """Mining block results (years 0..H): operating cash, MWh, refresh capex, resale, active share."""

    op: np.ndarray
    mwh: np.ndarray
    refresh: np.ndarray
    resale: np.ndarray
    active_mw: np.ndarray
    streams: dict[str, float]
    notes: list[str]
    net_m: np.ndarray = field(default_factory=lambda: np.zeros(0))      # monthly operating cash
    value_m: np.ndarray = field(default_factory=lambda: np.zeros(0))    # resale value of the running fleet
    events: list[tuple[int, float]] = field(default_factory=list)       # (month, +resale / -refresh net)

    @property
    def cash(self) -> np.ndarray:
        return np.asarray(self.op - self.refresh + self.resale)

    def until(self, end_month: int, years: int) -> np.ndarray:
        """Annual cash (years 0..H) of running this plan until ``end_month`` and selling the fleet then."""
        n = self.net_m.size
        end = max(0, min(int(end_month), n))
        cash = _annual(np.where(np.arange(n) < end, self.net_m, 0.0), years)
        for month, amount in self.events:
            if month < end:
                cash[_year_at(month)] += amount
        if end < n:
            cash[_year_at(end)] += float(self.value_m[end])
        return cash


def _run_block(ctx: _Ctx, curve_for: Any, cohorts: Sequence[tuple[str, float, float, int]], *,
               end_month: int | None = None, dr_mw: float = 0.0, fourcp_load_mw: float = 0.0) -> _Block:
    """Run fleet cohorts ``(label, mw, j_per_th, first_refresh_year)`` on a block, month by month.

    ``curve_for(month_mask)`` returns the streams of 1 MW with a J/TH series (see :func:`_mining_month`).
    Each cohort is reviewed at its refresh years: it is refreshed with frontier machines (J/TH and
    $/TH of that month), kept as it is, or retired and sold, whichever has the highest value over
    the next interval at the discount rate. Mining stops at ``end_month`` (the bridge converts):
    cohorts still running are sold then. Non-power opex, demand-response pay and the 4CP memo
    accrue only in months a cohort is active.
    """
    a, n, years = ctx.a, ctx.n, ctx.years
    stop = n if end_month is None else max(0, min(int(end_month), n))
    interval = int(a.fleet_refresh_years)
    disc_m = (1.0 + ctx.rate) ** (-np.arange(n) / 12.0)
    opex_m = a.mining_opex_usd_per_mw_year / 12.0
    total_mw = sum(max(0.0, c[1]) for c in cohorts)
    out_net = np.zeros(n)
    out_mwh = np.zeros(n)
    active_mw_m = np.zeros(n)
    refresh = np.zeros(years + 1)
    resale = np.zeros(years + 1)
    sums = {"mining_revenue": 0.0, "power_cost": 0.0, "resale_revenue": 0.0, "mining_opex": 0.0, "dr_pay": 0.0}
    notes: list[str] = []
    value_m = np.zeros(n)
    events: list[tuple[int, float]] = []
    for label, mw, j0, first in cohorts:
        if mw <= 0:
            continue
        j = np.full(n, float(j0))
        active = np.zeros(n, bool)
        active[:stop] = True
        refresh_at = int(first) * 12
        decision = 0 if refresh_at > 0 else refresh_at  # today: keep running or sell; then at each refresh age
        refreshed_at: list[int] = []
        while decision < stop:
            can_refresh = decision >= refresh_at
            window = slice(decision, min((decision + interval * 12) if can_refresh else refresh_at, stop))
            keep = curve_for(j)
            v_keep = float(((keep["revenue"] + keep["resale"] - keep["cost"])[window] - opex_m) @ disc_m[window])
            sale_mw = ctx.resale_usd_per_mw(float(j[decision]), decision)
            v_new = -math.inf
            if can_refresh:
                j_new = j.copy()
                j_new[decision:] = ctx.frontier_j[decision]
                new = curve_for(j_new)
                capex_mw = ctx.fleet_usd_per_mw(decision)
                v_new = float(((new["revenue"] + new["resale"] - new["cost"])[window] - opex_m) @ disc_m[window]) \
                    - (capex_mw - sale_mw) * disc_m[decision]
            v_retire = sale_mw * disc_m[decision]
            if max(v_new, v_keep) < v_retire:
                active[decision:] = False
                resale[_year_at(decision)] += sale_mw * mw
                events.append((decision, sale_mw * mw))
                notes.append(f"{label} fleet ({mw:,.0f} MW) retired and sold in year {_year_at(decision)}: "
                             "neither a refresh nor running on pays over the next interval")
                break
            if v_new > v_keep:
                refresh[_year_at(decision)] += (capex_mw - sale_mw) * mw
                events.append((decision, -(capex_mw - sale_mw) * mw))
                j = j_new
                refreshed_at.append(_year_at(decision))
            decision = window.stop if not can_refresh else decision + interval * 12
        if active[:stop].any() and stop < n and active[stop - 1]:
            resale[_year_at(stop)] += ctx.resale_usd_per_mw(float(j[stop - 1]), stop) * mw
        s = curve_for(j)
        on = active.astype(float)
        value_m += on * mw * th_s_per_mw(1.0) / j / a.pue_mining * a.asic_resale_usd_per_th * ctx.hp / ctx.hp[0]
        net = (s["revenue"] + s["resale"] - s["cost"] - opex_m) * on * mw
        out_net += net
        out_mwh += s["mwh"] * on * mw
        active_mw_m += on * mw
        sums["mining_revenue"] += float((s["revenue"] * on).sum() * mw)
        sums["power_cost"] += float((s["cost"] * on).sum() * mw)
        sums["resale_revenue"] += float((s["resale"] * on).sum() * mw)
        sums["mining_opex"] += float(opex_m * on.sum() * mw)
        if refreshed_at:
            notes.append(f"{label} fleet refreshed with frontier machines in year(s) "
                         + ", ".join(str(y) for y in refreshed_at))
    if total_mw > 0 and dr_mw > 0:
        dr = min(dr_mw, total_mw) * a.dr_pay_usd_per_mw_h * ctx.hours_per_month * active_mw_m / total_mw
        out_net += dr
        sums["dr_pay"] = float(dr.sum())
    years_active = _annual(active_mw_m, years) / 12.0
    disc_y = (1.0 + ctx.rate) ** (-np.arange(years + 1))
    share = years_active / total_mw if total_mw > 0 else years_active * 0
    sums["fourcp_avoided_pv"] = float(a.fourcp_tariff_usd_per_mw_year * fourcp_load_mw * (share * disc_y).sum())
    return _Block(_annual(out_net, years), _annual(out_mwh, years), refresh, resale, years_active, sums, notes,
                  out_net, value_m, events)


class _Lease:
    """Monthly lease of ``it_mw`` on a timeline that starts at signing: capex spread over the build, then rent.

    Rent ``lease_rate * 1000 * it_mw`` a month, escalated each lease year; NOI = rent x margin.
    At each term end the non-renewed share (1 - p) pays no rent for ``lease_downtime_months`` and
    costs ``relet_capex_usd_per_mw_it``; prepaid months are received at signing and credited
    against the first months of rent. :meth:`at` places the lease at a signing month of the horizon
    (the bridge path signs in year N: the same lease, shifted).
    """

    def __init__(self, ctx: _Ctx, it_mw: float, build_months: float, capex_usd: float):
        a, n = ctx.a, ctx.n
        self.ctx = ctx
        self.b = b = max(1, int(round(build_months)))
        self.capex_m = np.zeros(n)
        self.capex_m[: min(b, n)] = capex_usd / b
        k = np.arange(n) - b
        live = k >= 0
        self.rent0 = rent0 = ctx.lease_rate * 1000.0 * it_mw
        rent = np.where(live, rent0 * (1.0 + a.lease_escalator_per_year) ** np.where(live, k // 12, 0), 0.0)
        term = int(a.lease_term_years) * 12
        p = float(a.lease_renewal_probability)
        occ = np.where(live & (k >= term) & (np.where(live, k % term, 0) < a.lease_downtime_months), p, 1.0)
        self.rent_occ = rent * occ
        self.rent, self.occ, self.term, self.p = rent, occ, term, p
        self.relet_usd = (1.0 - p) * a.relet_capex_usd_per_mw_it * it_mw
        self.noi_m = a.noi_margin * self.rent_occ
        self.live_share = np.where(live, occ, 0.0)
        self.relets = [(int(e), (1.0 - p) * a.relet_capex_usd_per_mw_it * it_mw) for e in range(b + term, n, term)]
        pm = int(a.lease_prepayment_months)
        self.prepay = float(sum(rent0 * (1.0 + a.lease_escalator_per_year) ** (i // 12) for i in range(pm)))
        if pm:
            credited = live & (k < pm)
            self.noi_m = self.noi_m - np.where(credited, rent, 0.0)

    def _exit_noi(self, last: int) -> float:
        """NOI the exit multiple applies to, ``last`` months after signing (0 while still building).

        The let run rate (12 x the month's escalated rent x margin) less what a buyer expects to lose
        at the next term end after the horizon, valued at the horizon: the non-renewed share's downtime
        rent and re-fit capex, discounted at the lease rate; if the horizon falls inside a downtime
        window, the rest of that window's lost rent instead. So the exit never rewards a shorter lease.
        """
        a = self.ctx.a
        if last < self.b:
            return 0.0
        k = last - self.b
        rent = float(self.rent[last])
        run_rate = 12.0 * rent * a.noi_margin
        down = int(a.lease_downtime_months)
        pos = k % self.term
        lost = 0.0
        if k >= self.term and pos < down:            # inside a downtime window: its remaining months
            lost = (1.0 - self.p) * rent * a.noi_margin * (down - pos - 1)
        else:                                        # the next term end after the horizon
            months_to_end = self.term - pos
            rate = self.ctx.rate + _spread(a)
            lost = ((1.0 - self.p) * rent * a.noi_margin * down + self.relet_usd) / (1.0 + rate) ** (months_to_end / 12.0)
        mult = a.ai_exit_multiple_noi
        return max(0.0, run_rate - (lost / mult if mult > 0 else 0.0))

    def exit_usd(self, last: int) -> float:
        """Exit value at the horizon, ``last`` months after signing: the exit multiple x :meth:`_exit_noi`.

        A conversion still being built at the horizon is not worthless: a buyer pays the let value at
        the first live month (the multiple x that month's run-rate NOI, net of the next term end as in
        :meth:`_exit_noi`) less the fit-out still to spend, both discounted to the horizon at the lease
        rate. The capex after the horizon is outside the cash flows, so it is netted here; floored at
        zero (the holder can leave an unfinished fit-out unfinished instead of paying to complete it).
        """
        mult = float(self.ctx.a.ai_exit_multiple_noi)
        if last >= self.b:
            return mult * self._exit_noi(last)
        rate = self.ctx.rate + _spread(self.ctx.a)
        months = np.arange(last + 1, self.b)
        to_spend = float((self.capex_m[months] / (1.0 + rate) ** ((months - last) / 12.0)).sum())
        at_live = mult * self._exit_noi(self.b) / (1.0 + rate) ** ((self.b - last) / 12.0)
        return max(0.0, float(at_live) - to_spend)

    def cash_at_year(self, n_years: int) -> tuple[np.ndarray, float, int]:
        """(NOI - capex - re-fit by year, exit value, first live month) of the lease signed at the end of year N.

        Signing 12N months later shifts every annual array by exactly N years (the bridge path), so the
        arrays of the lease signed today are shifted instead of rebuilt.
        """
        base = getattr(self, "_base", None)
        if base is None:
            b0 = self.at(0)
            base = self._base = b0["noi"] - b0["capex"] - b0["relet"]
        years = self.ctx.years
        out = np.zeros(years + 1)
        if n_years <= years:
            out[n_years:] = base[: years + 1 - n_years]
        return out, self.exit_usd(self.ctx.n - 1 - 12 * n_years), 12 * n_years + self.b

    def at(self, sign_month: int) -> dict[str, Any]:
        """Annual arrays (years 0..H) of this lease signed at ``sign_month`` and its exit value at the horizon (:meth:`exit_usd`)."""
        ctx = self.ctx
        n, years, s = ctx.n, ctx.years, max(0, int(sign_month))

        def shift(x: np.ndarray) -> np.ndarray:
            out = np.zeros(n)
            if s < n:
                out[s:] = x[: n - s]
            return out

        noi = shift(self.noi_m)
        noi_y = _annual(noi, years)
        relet = np.zeros(years + 1)
        for off, amount in self.relets:
            if s + off < n:
                relet[_year_at(s + off)] += amount
        if self.prepay and s < n:
            noi_y[_year_at(s)] += self.prepay
        return {"capex": _annual(shift(self.capex_m), years), "noi": noi_y, "relet": relet,
                "exit_usd": self.exit_usd(n - 1 - s),
                "prepay": self.prepay if s < n else 0.0, "lease_revenue": float(shift(self.rent_occ).sum()),
                "lease_noi": float(noi.sum() + (self.prepay if s < n else 0.0)),
                "live_share": shift(self.live_share), "start_month": s + self.b}


def _lease_schedule(ctx: _Ctx, it_mw: float, sign_month: int, build_months: float, capex_usd: float,
                    ) -> dict[str, Any]:
    """:class:`_Lease` signed at ``sign_month``."""
    return _Lease(ctx, it_mw, build_months, capex_usd).at(sign_month)


def finance_path(cash_usd: np.ndarray, capex_by_year: np.ndarray, a: Assumptions, equity_rate: float | None = None,
                 *, project_irr: float | None = None) -> Financing:
    """Debt = ``debt_share`` x the initial capex of each year; interest is capitalised until the year after
    the last draw, then the balance is repaid over ``debt_tenor_years`` (annuity or straight principal);
    a balance left at the horizon is repaid in year H. Equity cash = path cash + draws - debt service.
    Minimum DSCR = min over the regular service years of (path cash + that year's capex) / debt service.
    """
    cash = np.asarray(cash_usd, float)
    h = cash.size - 1
    draws = float(a.debt_share) * np.asarray(capex_by_year, float)
    service = np.zeros(h + 1)
    debt = float(draws.sum())
    if debt <= 0:
        rate = float(a.cost_of_equity if equity_rate is None else equity_rate)
        return Financing(0.0, service, cash.copy(), npv(rate, cash), irr(cash) if project_irr is None else project_irr,
                         None)
    i = float(a.debt_rate)
    last = int(np.nonzero(draws)[0].max())
    s = min(last + 1, h)
    balance = float(sum(d * (1.0 + i) ** (s - 1 - y) for y, d in enumerate(draws) if y < s))
    tenor = int(a.debt_tenor_years)
    regular = np.zeros(h + 1, bool)
    for k in range(tenor):
        y = s + k
        if y > h or balance <= 1e-9:
            break
        interest = balance * i
        if a.debt_amortisation == "annuity":
            left = tenor - k
            pay = balance * i / (1.0 - (1.0 + i) ** -left) if i > 1e-9 else balance / left + interest
            principal = pay - interest
        else:
            principal = balance / (tenor - k)
            pay = interest + principal
        if y == h:
            pay = interest + balance
            principal = balance
        service[y] += pay
        regular[y] = True
        balance -= principal
    if balance > 1e-6 and s <= h:
        service[h] += balance
    equity = cash + draws - service
    cfads = cash + np.asarray(capex_by_year, float)
    dscr = [cfads[y] / service[y] for y in range(h + 1) if regular[y] and service[y] > 0]
    rate = float(a.cost_of_equity if equity_rate is None else equity_rate)
    return Financing(debt, service, equity, npv(rate, equity), irr(equity), min(dscr) if dscr else None)


def _path(name: str, ctx: _Ctx, gross_mw: float, *, mining_cash: np.ndarray | None = None,
          lease_cash: np.ndarray | None = None, tv_mining: float = 0.0, tv_lease: float = 0.0,
          capex_by_year: np.ndarray, operating_usd: float, mwh: np.ndarray, streams: dict[str, float],
          notes: Sequence[str] = (), option: str = "") -> PathResult:
    """Assemble a :class:`PathResult` from its mining and lease parts (lease part at the credit-spread rate)."""
    years = ctx.years
    z = np.zeros(years + 1)
    m = z if mining_cash is None else np.where(np.abs(mining_cash) < 1e-6, 0.0, mining_cash)
    lz = z if lease_cash is None else np.where(np.abs(lease_cash) < 1e-6, 0.0, lease_cash)
    lease_rate = ctx.rate + _spread(ctx.a) if lease_cash is not None else None
    lr = ctx.rate if lease_rate is None else lease_rate
    excl = npv(ctx.rate, m) + npv(lr, lz)
    tv_pv = tv_mining / (1.0 + ctx.rate) ** years + tv_lease / (1.0 + lr) ** years
    total = m + lz
    with_tv = total.copy()
    with_tv[-1] += tv_mining + tv_lease
    v = excl + tv_pv
    total_mwh = float(mwh[1:].sum())
    electron = operating_usd / total_mwh if total_mwh > 1e-9 else None
    streams = dict(streams)
    streams["terminal_value"] = float(tv_mining + tv_lease)
    capex = float(capex_by_year.sum())
    project_irr = irr(with_tv)
    fin = finance_path(with_tv, capex_by_year, ctx.a, project_irr=project_irr)
    return PathResult(name, PATH_LABELS[name], with_tv, capex, v, project_irr, payback_year(total), mwh, electron,
                      v / gross_mw, operating_usd / max(1, years) / gross_mw, streams, tuple(notes),
                      terminal_value_usd=float(tv_mining + tv_lease), terminal_value_pv_usd=float(tv_pv),
                      npv_excl_terminal_usd=float(excl), capex_by_year_usd=capex_by_year.copy(),
                      lease_discount_rate=lease_rate, financing=fin, option=option)


def _spread(a: Assumptions) -> float:
    return float(a[f"spread_{a.tenant_class}"])


def _unavailable(name: str, reason: str, years: int) -> PathResult:
    z = np.zeros(years + 1)
    return PathResult(name, PATH_LABELS[name], z, 0.0, 0.0, None, None, z, None, 0.0, 0.0, {}, (), reason,
                      capex_by_year_usd=z)


# ------------------------------------------------------------------------------------------------
# Site resolution: fleet, conversion capex, build time
# ------------------------------------------------------------------------------------------------
def _fleet(site: Site, a: Assumptions, energized: float | None) -> tuple[float, float, float, str, list[str]]:
    """(fleet MW at the meter, J/TH, age, source, notes) of the installed fleet; only energized MW carry one."""
    notes: list[str] = []
    if site.fleet_j_per_th is not None:
        j, src = float(site.fleet_j_per_th), "site fleet_j_per_th"
    elif site.asic_model is not None and site.asic_model in a.catalogue:
        j, src = a.asic(site.asic_model).j_per_th, f"site asic_model {site.asic_model}"
    else:
        j, src = float(a.default_fleet_j_per_th), "public-miner average (assumption 'Installed fleet efficiency (default)')"
        if site.asic_model is not None:
            notes.append(f"asic_model {site.asic_model!r} is not in the ASIC catalogue: installed fleet taken at "
                         f"{j:g} J/TH")
    age = float(site.fleet_age_years) if site.fleet_age_years is not None else float(a.existing_fleet_age_years)
    if energized is None or energized <= 0:
        return 0.0, j, age, src, notes
    if site.fleet_mw is not None:
        mw = float(site.fleet_mw)
    elif site.fleet_hashrate_ph_s is not None:
        mw = float(site.fleet_hashrate_ph_s) * 1000.0 * j / 1e6 * a.pue_mining
    else:
        mw = float(energized)
    if mw > energized + 1e-9:
        notes.append(f"installed fleet {mw:,.1f} MW exceeds the {energized:g} energized MW: capped at the energized MW")
        mw = float(energized)
    return mw, j, age, src, notes


def _readiness_settings(a: Assumptions) -> dict[str, Any]:
    """The settings readiness needs to find a site's upgrades: unit costs, thresholds, critical-IT share."""
    return {"unit_costs": a.unit_costs, "readiness_thresholds": a.readiness_thresholds,
            "assumptions": {"critical_it_ratio": a.critical_it_ratio}}


def conversion_plan(site: Site, a: Assumptions, it_mw: float, readiness: Any = None
                    ) -> tuple[tuple[CapexItem, ...], float, str, list[str]]:
    """The site's AI conversion capex items, build months and what set them.

    Capex = fit-out (``conversion_capex_usd_per_mw_it`` x IT MW; tenant's when the fit-out is
    tenant-funded) + the readiness upgrades of this site (:func:`planner.model.readiness.score_site`,
    unit costs from the assumptions); hall upgrades are the tenant's too when tenant-funded.
    Build months = max(``build_months``, the site's readiness time to power).
    """
    from planner.model.readiness import score_site

    if readiness is None:
        readiness = score_site(site, _readiness_settings(a),
                               as_of=parse_utc("market_data_date", a.market_data_date).date())
    notes: list[str] = []
    tenant = a.fitout_funded_by == "tenant"
    share = 1.0 - float(a.tenant_funded_capex_share) if tenant else 1.0   # landlord's share of hall items
    tag = f" (landlord {share:.0%}, tenant-funded)" if tenant else ""

    def hall(key: str, label: str, usd: float | None, detail: str) -> CapexItem:
        return CapexItem(key, label + tag, None if usd is None else usd * share,
                         detail + (f"; the tenant pays {1 - share:.0%}" if tenant else ""))

    items = [hall("fitout", "AI fit-out", a.conversion_capex_usd_per_mw_it * it_mw,
                  f"{fmt_mw(it_mw)} IT x ${a.conversion_capex_usd_per_mw_it / 1e6:,.2f}M/MW")]
    unknown = []
    for u in readiness.upgrades:
        if u.capex_usd is None:
            unknown.append(u.label)
        usd = None if u.capex_usd is None else float(u.capex_usd)
        items.append(hall(u.key, u.label, usd, u.detail) if u.key in HALL_UPGRADES
                     else CapexItem(u.key, u.label, usd, u.detail))
    costs = a.unit_costs
    keys = {u.key for u in readiness.upgrades}
    assumed_months = 0.0
    assumed = []
    # Unknown facts are not free: where readiness could not tell (rack density or DLC path unknown),
    # price the upgrade a mining site typically needs and say so.
    if site.max_rack_kw is None and not keys & {"hall_buildout", "rack_density"}:
        if site.hall_type == "rack_mount_halls":
            assumed.append(("rack_density", "Rack density upgrade (assumed: rack density unknown)",
                            costs["rack_density_upgrade_usd_per_mw_it"], costs["hall_buildout_months"]))
        else:
            why = "hall type unknown" if site.hall_type is None else f"{site.hall_type} halls, rack density unknown"
            assumed.append(("hall_buildout", f"Rack hall build-out (assumed: {why})",
                            costs["hall_buildout_usd_per_mw_it"], costs["hall_buildout_months"]))
    if site.cooling_current != "direct_to_chip" and site.dlc_path is None and "dlc_retrofit" not in keys:
        why = "cooling unknown" if site.cooling_current is None else f"{site.cooling_current} cooling, DLC path unknown"
        assumed.append(("dlc_retrofit", f"Direct-to-chip cooling retrofit (assumed: {why})",
                        costs["dlc_retrofit_usd_per_mw_it"], costs["dlc_retrofit_months"]))
    for key, label, unit, months_needed in assumed:
        items.append(hall(key, label, unit * it_mw, f"{fmt_mw(it_mw)} IT x ${unit / 1e6:,.2f}M/MW"))
        assumed_months = max(assumed_months, months_needed)
    if assumed:
        notes.append("conversion capex assumes " + " and ".join(x[1].split(" (")[0].lower() for x in assumed)
                     + ": enter the site's hall type, rack density and DLC path to price its own upgrades")
    if unknown:
        notes.append("conversion capex is a lower bound: unknown cost of " + ", ".join(unknown))
    site_ttp = readiness.time_to_power_months
    ttp = site_ttp
    if ttp is not None or assumed_months:
        ttp = max(ttp or 0.0, assumed_months)
    # the basis names where the months come from: the readiness' time to power (upgrades and
    # energization) and the conversion works assumed above can differ (QA: a report said "time to
    # power >= 9 months" and "site time to power 15 months", the 15 being an assumed DLC retrofit)
    site_txt = "unknown" if site_ttp is None else f"{site_ttp:g} months"
    if ttp is None:
        months, basis = float(a.build_months), (f"minimum fit-out {a.build_months} months (time to power unknown: "
                                                "enter the interconnection status or energization date)")
    elif ttp > a.build_months and (site_ttp is None or assumed_months > site_ttp):  # ttp is the assumed months
        months, basis = float(ttp), (f"assumed conversion works {ttp:g} months (site time to power {site_txt}: "
                                     "readiness upgrades and energization)")
    elif ttp > a.build_months:
        months, basis = float(ttp), f"site time to power {ttp:g} months (readiness upgrades and energization)"
    else:
        months, basis = float(a.build_months), (f"minimum fit-out {a.build_months} months (site time to power "
                                                f"{site_txt})")
    return tuple(items), months, basis, notes


# ------------------------------------------------------------------------------------------------
# The comparison
# ------------------------------------------------------------------------------------------------
def site_paths(site: Site, assumptions: Assumptions, years: int | None = None, *, readiness: Any = None,
               _energized_override: float | None = None, _with_range: bool = True) -> PathComparison:
    """Annual cash flows, NPV (with and without terminal value), IRR, financing of mining, AI lease, hybrid
    and selling for one site, plus the bridge path (mine, convert in year N).

    ``readiness`` is the site's :class:`~planner.model.readiness.ReadinessResult` (computed with the
    assumptions' unit costs as of ``market_data_date`` when not given): its upgrades price the
    conversion and its time to power sets the build. See docs/economics.md for every rule.
    """
    from planner.model import hybrid as hy
    from planner.model.outlook import build_outlook

    a = assumptions
    sid = str(site.site_id)
    h_years = int(a.horizon_years if years is None else years)
    if isinstance(years, bool) or not 1 <= h_years <= 50 or (years is not None and years != h_years):
        raise AssumptionError(f"{sid}: years = {years!r} must be a whole number from 1 to 50")
    gross = site_gross_mw(site)
    if gross is None:
        return PathComparison(sid, h_years, unavailable_reason=(
            f"{sid}: Power capacity (gross) and Energized MW are both unknown. Enter the site's MW (either "
            "field) to compare mining, AI lease, hybrid and selling"))
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
    price = float(price)
    energized = site.energized_mw if _energized_override is None else _energized_override
    energized = None if energized is None else min(float(energized), gross)
    n = h_years * 12
    out = build_outlook(a, n)
    ms = mining_state(a)
    cal = (ms.start.month - 1 + np.arange(n)) % 12
    hour_cal = hy.hour_calendar()
    hours_per_month = np.bincount(hour_cal.month, minlength=12)[cal].astype(float)
    contract = price if a.power_contract == "fixed" else None
    ctx = _Ctx(a, h_years, n, cal, out.hashprice_usd_per_ph_day, out.frontier_j_per_th, out.asic_usd_per_th, price,
               a.power_price_basis, contract, float(a.discount_rate),
               float(a.tenant_funded_lease_rate_usd_per_kw_month if a.fitout_funded_by == "tenant"
                     else a.lease_rate_usd_per_kw_month),
               hours_per_month)

    # -- fleet as it stands: only energized MW carry one; status never decides ---------------------
    fleet_mw, fleet_j, fleet_age, fleet_src, fleet_notes = _fleet(site, a, energized)
    notes += fleet_notes
    if energized is None:
        notes.append("Energized MW unknown: mining and selling are n/a until they are entered; the AI lease and "
                     "hybrid assume nothing is energized (no installed fleet), and each NPV is also given with all "
                     "gross MW energized (the range)")
    be_today = breakeven_usd_per_mwh(ms.usd_per_th_day, fleet_j, a.pue_mining, a.pool_fee)
    site_cost = float(hashcost_usd_per_ph_day(fleet_j, price) * a.pue_mining / (1.0 - a.pool_fee))
    first_existing = max(0, int(a.fleet_refresh_years) - int(round(fleet_age)))
    new_j = float(out.frontier_j_per_th[0])
    refresh = int(a.fleet_refresh_years)

    # -- hourly year: prices, AI load, headroom, event hours (shared by all paths) ------------------
    params = hy.HybridParams.from_site(site, a, breakeven_usd_per_mwh=be_today, power_price_usd_per_mwh=price,
                                       gross_mw=gross)
    prices, order = _hourly_prices(price, int(a.price_series_seed))
    sim = hy.simulate_hybrid(params, seed=a.price_series_seed, prices=prices)
    events = sim.event
    ones = np.full(hy.HOURS_PER_YEAR, a.uptime)
    site_curve = DispatchCurve(sim.price, np.where(events, 0.0, ones), ones, hour_cal.month, order)

    def mine_1mw(j: np.ndarray) -> dict[str, np.ndarray]:
        return _mining_month(ctx, site_curve, j)

    fourcp = gross * a.uptime if params.fourcp else 0.0
    committed = min(a.dr_committed_mw, gross)

    # -- mining: installed fleet on energized MW (default), or the pipeline built too when it pays --
    empty_energized = max(0.0, (energized or 0.0) - fleet_mw)
    pipeline_mw = gross - (energized or 0.0)
    build_mw = empty_energized + pipeline_mw
    build_capex = ctx.fleet_usd_per_mw(0) * build_mw + a.mining_capex_usd_per_mw * pipeline_mw

    installed_blocks: list[_Block] = []

    def mining_variant(build: bool) -> tuple[PathResult, float]:
        cohorts = [("installed", fleet_mw, fleet_j, first_existing)]
        if build:
            cohorts.append(("new", build_mw, new_j, refresh))
        total = fleet_mw + (build_mw if build else 0.0)
        blk = _run_block(ctx, mine_1mw, cohorts, dr_mw=min(committed, total),
                         fourcp_load_mw=fourcp * (total / gross))
        if not build:
            installed_blocks.append(blk)
        capex_y = np.zeros(h_years + 1)
        if build:
            capex_y[0] = build_capex
        cash = blk.cash - capex_y
        option = "installed fleet + pipeline built" if build else "installed fleet only"
        nts = list(blk.notes)
        if not build and pipeline_mw > 0:
            nts.append(f"{pipeline_mw:,.0f} MW not energized are left unbuilt (Mining: pipeline MW = "
                       f"{ASSUMPTIONS['mining_pipeline'].choice_label(a.mining_pipeline)})")
        if total <= 0:
            nts.append("no installed fleet: nothing energized to mine (set 'Mining: pipeline MW' to 'also build the "
                       "pipeline when it pays' to price a new build)")
        tv = a.mining_exit_multiple * max(0.0, float(blk.op[-1]))
        return _path("mining", ctx, gross, mining_cash=cash, tv_mining=tv, capex_by_year=capex_y,
                     operating_usd=float(blk.op[1:].sum()), mwh=blk.mwh,
                     streams={**blk.streams, "fleet_refresh_capex": float(blk.refresh.sum()),
                              "fleet_resale": float(blk.resale.sum()), "mining_build_capex": float(capex_y.sum())},
                     notes=nts, option=option), float(blk.op[1])

    mining, mining_ebitda = mining_variant(False)
    if build_mw > 0 and a.mining_pipeline != "energized_only":
        built, built_ebitda = mining_variant(True)
        if a.mining_pipeline == "always_build" or built.npv_usd > mining.npv_usd:
            mining, mining_ebitda = built, built_ebitda
        else:
            mining = dataclasses.replace(mining, notes=mining.notes + (
                f"building the {build_mw:,.0f} MW not yet mining would lower the NPV to {built.npv_usd / 1e6:,.1f} $M",))

    # -- AI lease: sign now; the installed fleet mines through the build and is sold at first AI capacity --
    it_ai = min(gross * a.critical_it_ratio, gross / a.pue_ai)
    if it_ai < gross * a.critical_it_ratio:
        notes.append(f"critical IT capped at {it_ai:g} MW so that IT * PUE fits the {gross:g} MW interconnect")
    items, build_months, build_basis, cap_notes = conversion_plan(site, a, it_ai, readiness)
    notes += cap_notes
    upgrades_usd = float(sum(i.usd for i in items if i.usd is not None and i.key != "fitout"))
    fitout_usd = float(sum(i.usd for i in items if i.usd is not None and i.key == "fitout"))
    ai_capex = fitout_usd + upgrades_usd
    ai_draw_ratio = float(sim.ai_mw.mean() / params.it_mw) if params.it_mw > 0 else a.pue_ai
    bridge_lease = _Lease(ctx, it_ai, build_months, ai_capex)
    lease = bridge_lease.at(0)
    lease_cash = lease["noi"] - lease["capex"] - lease["relet"]
    # Converting now = the bridge path converting in year 0 (one rule for both; docs/economics.md "Bridge"):
    # the energized MW keep mining until the halls go live, when the machines are sold.
    ai_mining_cash = installed_blocks[0].until(lease["start_month"], h_years)
    ai_mwh = _annual(lease["live_share"] * it_ai * ai_draw_ratio * hours_per_month, h_years)
    ai_notes = [f"first capacity after {build_months:g} months: {build_basis}"]
    if fleet_mw > 0:
        ai_notes.append(f"installed fleet ({fleet_mw:,.0f} MW) mines through the build and is sold at first AI "
                        f"capacity (month {lease['start_month']})")
    ai = _path("ai_lease", ctx, gross, mining_cash=ai_mining_cash, lease_cash=lease_cash,
               tv_lease=lease["exit_usd"],
               capex_by_year=lease["capex"], operating_usd=float(lease["noi"][1:].sum()), mwh=ai_mwh,
               streams={"lease_revenue": lease["lease_revenue"], "lease_noi": lease["lease_noi"],
                        "fitout_capex": fitout_usd, "upgrades_capex": upgrades_usd,
                        "relet_capex": float(lease["relet"].sum()), "prepayment": lease["prepay"],
                        "mining_until_conversion": float(ai_mining_cash.sum())},
               notes=ai_notes, option=f"{a.lease_term_years}-yr lease, {a.fitout_funded_by}-funded")

    # -- hybrid: AI tenant plus a mining block in the headroom -----------------------------------------
    if params.it_mw <= 0 and params.mining_capacity_mw <= 0:
        hybrid_res = _unavailable("hybrid", "no room for AI or mining below the interconnect reserve", h_years)
    else:
        cap = params.mining_capacity_mw
        hb_installed = min(cap, fleet_mw)
        hb_new = cap - hb_installed
        hb_lease = _lease_schedule(ctx, params.it_mw, 0, build_months,
                                   ai_capex * (params.it_mw / it_ai if it_ai > 0 else 0.0))
        live_m = hb_lease["live_share"] > 0
        if cap > 0:
            live_w = np.where(events, 0.0, a.uptime * sim.headroom_mw / cap)
            pre_curve = site_curve.scaled(min(cap, params.interconnect_mw - params.reserve_mw) / cap)
            live_curve = DispatchCurve(sim.price, live_w, a.uptime * sim.headroom_mw / cap, hour_cal.month, order)

            def hb_1mw(j: np.ndarray) -> dict[str, np.ndarray]:
                pre, live = _mining_month(ctx, pre_curve, j), _mining_month(ctx, live_curve, j)
                return {k: np.where(live_m, live[k], pre[k]) for k in pre}

            hb = _run_block(ctx, hb_1mw, [("installed", hb_installed, fleet_j, first_existing),
                                          ("new", hb_new, new_j, refresh)],
                            dr_mw=min(committed, cap), fourcp_load_mw=cap * a.uptime if params.fourcp else 0.0)
        else:
            z = np.zeros(h_years + 1)
            hb = _Block(z, z, z, z, z, {}, [])
        hb_capex_mine = (ctx.fleet_usd_per_mw(0) + a.mining_capex_usd_per_mw) * hb_new
        surplus = fleet_mw - hb_installed  # machines the hybrid does not keep: mine until the halls go live, then sold
        if surplus > 1e-9 and committed <= 0:  # no demand response: the installed plan scales with its MW
            surplus_cash = installed_blocks[0].until(hb_lease["start_month"], h_years) * (surplus / fleet_mw)
        elif surplus > 1e-9:
            sblk = _run_block(ctx, mine_1mw, [("installed", surplus, fleet_j, first_existing)])
            surplus_cash = sblk.until(hb_lease["start_month"], h_years)
        else:
            surplus_cash = np.zeros(h_years + 1)
        m_cash = hb.cash + surplus_cash
        m_cash[0] -= hb_capex_mine
        l_cash = hb_lease["noi"] - hb_lease["capex"] - hb_lease["relet"]
        capex_y = hb_lease["capex"].copy()
        capex_y[0] += hb_capex_mine
        hb_mwh = hb.mwh + _annual(hb_lease["live_share"] * params.it_mw * ai_draw_ratio * hours_per_month, h_years)
        hybrid_res = _path(
            "hybrid", ctx, gross, mining_cash=m_cash, lease_cash=l_cash,
            tv_mining=a.mining_exit_multiple * max(0.0, float(hb.op[-1])),
            tv_lease=hb_lease["exit_usd"], capex_by_year=capex_y,
            operating_usd=float(hb.op[1:].sum() + hb_lease["noi"][1:].sum()), mwh=hb_mwh,
            streams={**hb.streams, "fleet_refresh_capex": float(hb.refresh.sum()),
                     "fleet_resale": float(hb.resale.sum()), "surplus_fleet_until_conversion": float(surplus_cash.sum()),
                     "lease_revenue": hb_lease["lease_revenue"],
                     "lease_noi": hb_lease["lease_noi"], "relet_capex": float(hb_lease["relet"].sum())},
            notes=[f"mining: {x}" for x in hb.notes],
            option=f"{params.it_mw:,.0f} MW IT + {cap:,.0f} MW mining")

    # -- sell the site: the baseline ------------------------------------------------------------------
    sale = float(a.sell_usd_per_mw_energized) * (energized or 0.0)
    sell_cash = np.zeros(h_years + 1)
    sell_cash[0] = sale
    sell = _path("sell", ctx, gross, mining_cash=sell_cash, capex_by_year=np.zeros(h_years + 1),
                 operating_usd=0.0, mwh=np.zeros(h_years + 1), streams={"sale_proceeds": sale},
                 notes=[f"{fmt_number(energized or 0)} energized MW x ${a.sell_usd_per_mw_energized / 1e6:,.2f}M/MW "
                        "(Riot-Block Mining, July 2024)"], option="sale today")

    # -- bridge: keep mining, sign in year N, mine through the build -----------------------------------
    bridge = np.zeros(h_years + 1)
    bridge_capex_year = np.zeros(h_years + 1)
    bridge_cash = np.zeros((h_years + 1, h_years + 1))
    for nconv in range(h_years + 1):
        if nconv == h_years:
            bridge[nconv] = mining.npv_usd
            bridge_capex_year[nconv] = -1
            bridge_cash[nconv] = mining.cash_flows_usd
            continue
        sign = nconv * 12
        l_cash, tv, start_month = bridge_lease.cash_at_year(nconv)
        m_cash = installed_blocks[0].until(start_month, h_years)
        lr = ctx.rate + _spread(a)
        bridge[nconv] = npv(ctx.rate, m_cash) + npv(lr, l_cash) + tv / (1.0 + lr) ** h_years
        bridge_capex_year[nconv] = int(_year_of_month(sign))  # first year with conversion capex
        bridge_cash[nconv] = m_cash + l_cash
        bridge_cash[nconv, -1] += tv
    best_n = int(np.argmax(bridge))
    bridge_res: PathResult | None = None
    if 0 < best_n < h_years and fleet_mw > 0:  # mining N more years, then converting, is a path of its own
        at = bridge_lease.at(12 * best_n)
        b_mining = installed_blocks[0].until(at["start_month"], h_years)
        bridge_res = _path(
            "bridge", ctx, gross, mining_cash=b_mining, lease_cash=at["noi"] - at["capex"] - at["relet"],
            tv_lease=at["exit_usd"], capex_by_year=at["capex"],
            operating_usd=float(at["noi"][1:].sum()),
            mwh=_annual(at["live_share"] * it_ai * ai_draw_ratio * hours_per_month, h_years),
            streams={"lease_revenue": at["lease_revenue"], "lease_noi": at["lease_noi"],
                     "mining_until_conversion": float(b_mining.sum())},
            notes=[f"keep mining the installed fleet, sign the lease at the end of year {best_n}, sell the "
                   f"machines at first AI capacity (month {at['start_month']})"],
            option=f"mine {best_n} yr, then {a.lease_term_years}-yr lease")

    valuation: ValuationEstimate | None = None
    stab = int(math.ceil(lease["start_month"] / 12.0)) + 1  # first year the halls are live all 12 months
    if energized and energized > 0 and it_ai > 0 and stab <= h_years:
        lr = ctx.rate + _spread(a)
        ai_ebitda = float(lease["noi"][stab])
        capex_pv = npv(lr, lease["capex"])
        ev_ai = (a.ev_ebitda_datacenter * ai_ebitda / (1.0 + lr) ** (stab - 1) - capex_pv
                 + npv(ctx.rate, ai_mining_cash))
        ev_m = a.ev_ebitda_miner * max(0.0, mining_ebitda)
        valuation = ValuationEstimate(
            f"Market-multiple view, secondary to the NPVs (not a valuation): AI at {a.ev_ebitda_datacenter:g}x its "
            f"year-{stab} NOI (first full year live) discounted to today, less the conversion capex (present value), "
            f"vs mining at {a.ev_ebitda_miner:g}x its first-year EBITDA; multiples are editable estimates",
            mining_ebitda, ai_ebitda, a.ev_ebitda_miner, a.ev_ebitda_datacenter, ev_m, ev_ai, ev_ai - ev_m,
            (ev_ai - ev_m) / gross, ai_capex, stab, capex_pv)
    energized_range: dict[str, tuple[float, float]] = {}
    if energized is None and _with_range:
        full = site_paths(site, a, years, readiness=readiness, _energized_override=gross, _with_range=False)
        for name, p in (("mining", mining), ("ai_lease", ai), ("hybrid", hybrid_res), ("sell", sell)):
            q = full.all_paths.get(name)
            if p.unavailable_reason is None and q is not None:
                energized_range[name] = (p.npv_usd, q.npv_usd)
    if energized is None:  # mining and selling depend on the unknown: n/a with the range, never $0
        def _needs_energized(name: str) -> PathResult:
            lo_hi = energized_range.get(name)
            rng = "" if lo_hi is None else (f": NPV ${lo_hi[0] / 1e6:,.1f}M with nothing energized to "
                                            f"${lo_hi[1] / 1e6:,.1f}M with all {gross:g} MW energized")
            return _unavailable(name, f"{NEEDS_ENERGIZED}{rng}", h_years)
        mining, sell = _needs_energized("mining"), _needs_energized("sell")
    comp = PathComparison(
        sid, h_years, gross, it_ai, price, site.asic_model if site.asic_model in a.catalogue else f"{fleet_j:g} J/TH",
        mining, ai, hybrid_res, bridge, best_n, valuation, tuple(notes), None, sell,
        energized_mw=energized,
        fleet_mw=fleet_mw, fleet_j_per_th=fleet_j, fleet_age_years=fleet_age, fleet_source=fleet_src,
        build_months=build_months, build_basis=build_basis, capex_items=items, breakeven_usd_per_mwh=be_today,
        site_cost_usd_per_ph_day=site_cost, energized_range=energized_range, bridge_capex_year=bridge_capex_year,
        bridge_cash_flows_usd=bridge_cash, bridge=bridge_res)
    _check_finite(comp)
    return comp


@lru_cache(maxsize=256)
def _hourly_prices(mean_usd_per_mwh: float, seed: int) -> tuple[np.ndarray, PriceOrder]:
    """The site's hourly price year (planner.model.hybrid.synthetic_prices) and its per-month sort order."""
    from planner.model import hybrid as hy

    prices = hy.synthetic_prices(mean_usd_per_mwh, seed=seed)
    prices.setflags(write=False)
    return prices, month_price_order(prices, hy.hour_calendar().month)


def portfolio_paths(sites: Sequence[Site], assumptions: Assumptions, years: int | None = None
                    ) -> dict[str, PathComparison]:
    """:func:`site_paths` of many sites with the per-portfolio work done once.

    Shared: the outlook (one per set of assumptions), the readiness context (settings parsed once,
    :func:`planner.model.readiness.score_portfolio`), hourly price years and their sort order (one per
    distinct power price) and the AI load shape (one per set of hybrid inputs).
    """
    from planner.model.portfolio import Portfolio
    from planner.model.readiness import score_portfolio

    a = assumptions
    sites = list(sites)
    ready = score_portfolio(Portfolio(sites, _readiness_settings(a)),
                            as_of=parse_utc("market_data_date", a.market_data_date).date())
    return {s.site_id: site_paths(s, a, years, readiness=ready[s.site_id]) for s in sites}


def _check_finite(comp: PathComparison) -> None:
    for p in (comp.mining, comp.ai_lease, comp.hybrid, comp.sell):
        if p is None:
            continue
        vals: list[Any] = [p.npv_usd, p.npv_usd_per_mw, p.annual_net_usd_per_mw, p.irr, p.usd_per_mwh,
                           p.terminal_value_usd, p.npv_excl_terminal_usd, p.payback_years, *p.streams_usd.values()]
        if not (np.all(np.isfinite(p.cash_flows_usd)) and all(v is None or math.isfinite(v) for v in vals)):
            raise EconomicsError(f"{comp.site_id}: the {p.name} path produced a non-finite number; "
                                 "check the assumptions for extreme values")
    if not np.all(np.isfinite(comp.bridge_npv_usd)):
        raise EconomicsError(f"{comp.site_id}: the bridge path produced a non-finite number; "
                             "check the assumptions for extreme values")


def _positive(name: str, value: float) -> None:
    v = real_number(value)
    if v is None or v <= 0:
        raise EconomicsError(f"{name} = {value!r} must be a finite number > 0")
