"""Hashprice outlook: a market with a cost floor, a dated forward curve, or constant growth (DOMAIN section 3).

Monthly path over the horizon from ``market_data_date`` (month t = 0 .. n-1), one per set of
assumptions (shared by every site):

* BTC price ``P(t) = btc_price_usd * (1 + btc_price_growth_per_year) ** (t / 12)``.
* Reward per block ``R(t) = subsidy / (1 - fee_share)`` today, times ``(1 - f) / 2 + f`` for each
  halving passed (the halving factor of DOMAIN section 3).
* Marginal fleet ``J_m(t) = marginal_fleet_j_per_th * (1 - efficiency_gain_per_year) ** (t / 12)``; its
  cash cost per PH/s-day ``c(t) = J_m * 0.024 * pue_mining * (marginal_power + opex / 8760) / (1 - pool_fee)``
  (power at the marginal miner's price plus non-power opex, grossed up for the pool fee).
* ``cost_floor`` (default): hashrate ``H`` starts at ``difficulty * 2**32 / 600`` and each month grows at
  the annual rate ``clip(hashrate_response_per_year * ln(hashprice / c), -decline cap, growth cap)``:
  it grows while the marginal fleet earns more than its cash cost and shrinks when it does not, so
  hashprice ``144 * R * P / H`` is pulled back towards ``c(t)`` after every shock (halvings, price).
* ``forward_curve``: hashprice is the dated $/PH/day points of ``settings["hashprice_forward_curve"]``,
  interpolated linearly in time and held flat before the first and after the last point; the
  hashrate shown is the one those prices imply at the BTC price path.
* ``constant_growth``: difficulty grows ``difficulty_growth_per_year`` with no floor (the old model).

New machines follow the efficiency frontier (``asic_model``'s J/TH improving by the same rate) and
cost ``asic_price_usd_per_th * hashprice(t) / hashprice(0)``: ASIC prices track hashprice.
"""
from __future__ import annotations

import csv
import datetime as _dt
import io
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from planner.fmt import HOURS_PER_YEAR
from planner.model.assumptions import AssumptionError, Assumptions, parse_forward_curve, parse_utc

DAYS_PER_MONTH = 30.4375
TWO_32 = 2**32
MWH_PER_PH_DAY_PER_J_PER_TH = 0.024  # 1 J/TH x 1,000 TH x 86,400 s = 8.64e7 J = 0.024 MWh


@dataclass(frozen=True, eq=False)
class Outlook:
    """Monthly market path (arrays of length ``months``) with the model and sources that made it."""

    model: str
    start: _dt.datetime
    btc_usd: np.ndarray
    reward_btc: np.ndarray
    hashrate_eh_s: np.ndarray
    difficulty: np.ndarray
    hashprice_usd_per_ph_day: np.ndarray
    marginal_j_per_th: np.ndarray
    marginal_cost_usd_per_ph_day: np.ndarray
    frontier_j_per_th: np.ndarray
    asic_usd_per_th: np.ndarray
    halving_months: tuple[float, ...]
    description: str

    @property
    def months(self) -> int:
        """Number of months in the path."""
        return int(self.hashprice_usd_per_ph_day.size)

    @property
    def usd_per_th_day(self) -> np.ndarray:
        """Hashprice per TH/s per day."""
        return self.hashprice_usd_per_ph_day / 1000.0

    @property
    def margin_ratio(self) -> np.ndarray:
        """Hashprice over the marginal fleet's cash cost (1 = the marginal fleet breaks even)."""
        return np.asarray(self.hashprice_usd_per_ph_day / self.marginal_cost_usd_per_ph_day)

    def year_average(self, values: np.ndarray) -> np.ndarray:
        """Average of a monthly series per model year (years 1..H)."""
        n = self.months // 12
        return np.asarray(np.asarray(values[: n * 12], float).reshape(n, 12).mean(axis=1))

    def month_dates(self) -> list[_dt.date]:
        """First day of each model month (for charts and exports)."""
        out = []
        y, m = self.start.year, self.start.month
        for _ in range(self.months):
            out.append(_dt.date(y, m, 1))
            m += 1
            if m > 12:
                y, m = y + 1, 1
        return out

    def to_dict(self, step: int = 12) -> dict[str, list[float] | list[str] | str]:
        """Every ``step``-th month of each series (JSON-safe) with the model description."""
        idx = slice(0, None, max(1, int(step)))
        return {"model": self.model, "description": self.description,
                "dates": [d.isoformat() for d in self.month_dates()[idx]],
                "hashprice_usd_per_ph_day": [round(float(v), 3) for v in self.hashprice_usd_per_ph_day[idx]],
                "marginal_cost_usd_per_ph_day": [round(float(v), 3) for v in self.marginal_cost_usd_per_ph_day[idx]],
                "hashrate_eh_s": [round(float(v), 1) for v in self.hashrate_eh_s[idx]],
                "difficulty": [float(v) for v in self.difficulty[idx]],
                "btc_usd": [round(float(v), 2) for v in self.btc_usd[idx]],
                "asic_usd_per_th": [round(float(v), 3) for v in self.asic_usd_per_th[idx]]}


def marginal_cost_usd_per_ph_day(j_per_th: float | np.ndarray, power_usd_per_mwh: float, opex_usd_per_mw_year: float,
                                 pue: float, pool_fee: float) -> float | np.ndarray:
    """Cash cost of one PH/s for a day: ``J * 0.024 * pue * (power + opex / 8760) / (1 - pool_fee)``."""
    return (np.asarray(j_per_th, float) * MWH_PER_PH_DAY_PER_J_PER_TH * pue
            * (power_usd_per_mwh + opex_usd_per_mw_year / HOURS_PER_YEAR) / (1.0 - pool_fee))


def build_outlook(assumptions: Assumptions, months: int | None = None) -> Outlook:
    """The monthly outlook of ``assumptions`` (cached: one per set of assumptions)."""
    n = int(assumptions.horizon_years * 12 if months is None else months)
    if n < 1:
        raise AssumptionError(f"outlook months = {n}: must be at least 1")
    return _build(assumptions, n)


@lru_cache(maxsize=64)
def _build(a: Assumptions, n: int) -> Outlook:
    from planner.model.economics import hashprice_from_hashrate_usd_per_ph_day, hashrate_hs, mining_state

    ms = mining_state(a)
    t = np.arange(n, dtype=float)
    btc = a.btc_price_usd * (1.0 + a.btc_price_growth_per_year) ** (t / 12.0)
    halving_factor = (1.0 - a.fee_share) / 2.0 + a.fee_share
    passed = np.zeros(n)
    for hm in ms.halving_months:
        passed += t >= hm
    reward = ms.reward_btc * halving_factor ** passed
    shrink = (1.0 - a.efficiency_gain_per_year) ** (t / 12.0)
    j_marginal = a.marginal_fleet_j_per_th * shrink
    j_frontier = a.asic(None).j_per_th * shrink
    cost = np.asarray(marginal_cost_usd_per_ph_day(j_marginal, a.marginal_power_usd_per_mwh,
                                                   a.mining_opex_usd_per_mw_year, a.pue_mining, a.pool_fee), dtype=float)
    h0_ph = hashrate_hs(a.difficulty) / 1e15
    model = a.outlook_model
    if model == "constant_growth":
        h_ph = h0_ph * (1.0 + a.difficulty_growth_per_year) ** (t / 12.0)
        hp = 144.0 * reward * btc / h_ph
        desc = (f"constant difficulty growth {a.difficulty_growth_per_year:.0%}/yr, BTC "
                f"{a.btc_price_growth_per_year:+.0%}/yr, halving factor {halving_factor:.3f}: no cost floor")
    elif model == "forward_curve":
        points = parse_forward_curve(a.forward_curve)
        if not points:
            raise AssumptionError("assumption outlook_model = 'forward_curve' needs a hashprice forward curve: "
                                  "import one (planner economics --forward-curve FILE.csv) or choose cost_floor")
        days = np.array([(parse_utc("curve", d) - ms.start).total_seconds() / 86_400.0 for d, _ in points])
        vals = np.array([v for _, v in points])
        hp = np.interp(t * DAYS_PER_MONTH, days, vals)
        h_ph = 144.0 * reward * btc / hp
        desc = (f"hashprice forward curve, {len(points)} points {points[0][0]} to {points[-1][0]} "
                "(linear between points, flat outside)")
    else:
        h_ph = np.empty(n)
        hp = np.empty(n)
        h = h0_ph
        k, up, down = a.hashrate_response_per_year, a.hashrate_max_growth_per_year, a.hashrate_max_decline_per_year
        for i in range(n):  # 12 x horizon steps, once per set of assumptions
            h_ph[i] = h
            hp[i] = hashprice_from_hashrate_usd_per_ph_day(h, reward[i], btc[i])
            g = min(up, max(-down, k * math.log(hp[i] / cost[i])))
            h *= (1.0 + g) ** (1.0 / 12.0)
        desc = (f"cost floor: hashrate grows {k:g} x ln(hashprice / marginal cash cost) a year "
                f"(between -{down:.0%} and +{up:.0%}); marginal fleet {a.marginal_fleet_j_per_th:g} J/TH improving "
                f"{a.efficiency_gain_per_year:.0%}/yr at {a.marginal_power_usd_per_mwh:g} $/MWh + "
                f"{a.mining_opex_usd_per_mw_year:,.0f} $/MW-yr opex")
    hp0 = ms.usd_per_ph_day
    asic = a.asic_price_usd_per_th * hp / hp0
    difficulty = h_ph * 1e15 * 600.0 / TWO_32
    arrays = (btc, reward, h_ph / 1000.0, difficulty, hp, j_marginal, cost, j_frontier, asic)
    for arr in arrays:
        arr.setflags(write=False)
    return Outlook(model, ms.start, *arrays, ms.halving_months, desc)


def read_forward_curve_csv(path: str | Path) -> tuple[tuple[str, float], ...]:
    """Read a hashprice forward curve from a CSV file (see :func:`parse_forward_curve_text`)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise AssumptionError(f"{p}: cannot read the forward curve ({e.strerror or e})") from None
    return parse_forward_curve_text(text, str(p))


def parse_forward_curve_text(text: str, origin: str = "forward curve") -> tuple[tuple[str, float], ...]:
    """Parse pasted or CSV forward-curve text: one ``date,usd_per_ph_day`` row per point (header optional).

    Tabs, semicolons and ``$`` / thousands commas inside quoted values are accepted, so a table
    copied from a spreadsheet or a web page pastes as is. Raises :class:`AssumptionError` naming the
    row that is not a date and a number.
    """
    lines = [ln for ln in text.replace("\t", ",").replace(";", ",").splitlines() if ln.strip()]
    rows = list(csv.reader(io.StringIO("\n".join(lines))))
    if not rows:
        raise AssumptionError(f"{origin}: no rows; write one 'date,usd_per_ph_day' line per point")
    points = []
    for i, row in enumerate(rows, start=1):
        cells = [c.strip() for c in row]
        try:
            _dt.date.fromisoformat(cells[0][:10])
        except ValueError:
            if i == 1:  # header
                continue
            raise AssumptionError(f"{origin} row {i}: {cells[0]!r} is not a date (YYYY-MM-DD)") from None
        if len(cells) < 2 or not cells[1]:
            raise AssumptionError(f"{origin} row {i}: missing the $/PH/day value after the date")
        try:
            points.append((cells[0][:10], float(cells[1].replace("$", "").replace(",", ""))))
        except ValueError:
            raise AssumptionError(f"{origin} row {i}: {cells[1]!r} is not a number of $/PH/day") from None
    if not points:
        raise AssumptionError(f"{origin}: no dated points; write one 'date,usd_per_ph_day' line per point")
    return parse_forward_curve(points)
