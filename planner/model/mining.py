"""Mining view of one site for panels and reports: outlook series, fleet breakevens, new-fleet payback.

Everything a mining chart draws comes from here (charts compute nothing):

* the monthly outlook (:func:`planner.model.outlook.build_outlook`): hashprice, the marginal fleet's
  cash cost, difficulty and hashrate;
* each catalogue model's breakeven today: hashprice at which it pays the site's power
  (:func:`~planner.model.economics.breakeven_hashprice_usd_per_ph_day`), power price at which it pays
  at today's hashprice (:func:`~planner.model.economics.breakeven_usd_per_mwh`) and revenue per MW-day;
* the installed fleet (J/TH, MW, where the figure comes from) and its cost per PH/s-day at the site;
* the dynamic payback of a new fleet of the new-machine model on the site's gross MW, bought today
  at ``asic_price_usd_per_th`` plus mining infrastructure for MW not yet energized (all MW when
  energized MW are unknown), earning the outlook's hashprice at the site's power price with the
  mining PUE on the power bill, switched off in loss-making months.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import numpy as np

from planner.model.assumptions import Assumptions
from planner.model.economics import (PaybackResult, breakeven_hashprice_usd_per_ph_day, breakeven_usd_per_mwh,
                                     mining_state, payback_dynamic, revenue_usd_per_mw_day, site_gross_mw,
                                     th_s_per_mw)
from planner.model.outlook import Outlook, build_outlook
from planner.model.site import Site


@dataclass(frozen=True)
class FleetBreakeven:
    """One ASIC model at today's hashprice and the site's power price."""

    model: str
    j_per_th: float
    breakeven_hashprice_usd_per_ph_day: float
    breakeven_power_usd_per_mwh: float
    revenue_usd_per_mw_day: float


@dataclass(frozen=True, eq=False)
class MiningView:
    """The mining economics of one site as drawn by panels and reports (monthly arrays from the start)."""

    site_id: str
    outlook: Outlook
    power_price_usd_per_mwh: float
    power_price_source: str
    fleets: tuple[FleetBreakeven, ...]
    installed_j_per_th: float
    installed_source: str
    site_cost_usd_per_ph_day: float
    new_model: str
    new_j_per_th: float
    gross_mw: float | None
    new_fleet_th_s: float | None
    new_fleet_capex_usd: float | None
    capex_usd_per_th: float
    capex_definition: str
    payback: PaybackResult
    cumulative_net_usd: np.ndarray
    per_th: bool

    @property
    def start(self) -> _dt.datetime:
        """Model start (market data date)."""
        return self.outlook.start

    @property
    def payback_months(self) -> float | None:
        """Months until the new fleet's capex is recovered (None = never within the horizon)."""
        return self.payback.months


def mining_view(site: Site, assumptions: Assumptions) -> MiningView:
    """The :class:`MiningView` of ``site`` under ``assumptions`` (see the module docstring)."""
    a = assumptions
    ms = mining_state(a)
    o = build_outlook(a)
    if site.power_price_usd_per_mwh is not None:
        price, src = float(site.power_price_usd_per_mwh), "site power_price_usd_per_mwh"
    else:
        price, src = float(a.power_price_usd_per_mwh), "portfolio default (site price unknown)"
    fleets = tuple(FleetBreakeven(
        name, spec.j_per_th, breakeven_hashprice_usd_per_ph_day(spec.j_per_th, price, a.pue_mining, a.pool_fee),
        breakeven_usd_per_mwh(ms.usd_per_th_day, spec.j_per_th, a.pue_mining, a.pool_fee),
        revenue_usd_per_mw_day(ms.usd_per_th_day, spec.j_per_th, a.pue_mining, a.uptime, a.pool_fee))
        for name, spec in a.catalogue.items())
    if site.fleet_j_per_th is not None:
        j_inst, inst_src = float(site.fleet_j_per_th), "site fleet_j_per_th"
    elif site.asic_model in a.catalogue:
        j_inst, inst_src = a.asic(site.asic_model).j_per_th, f"site asic_model {site.asic_model}"
    else:
        j_inst, inst_src = float(a.default_fleet_j_per_th), "public-miner average (default_fleet_j_per_th)"
    new = a.asic(None)
    gross = site_gross_mw(site)
    if gross is not None and gross > 0:
        th = th_s_per_mw(new.j_per_th) * gross / a.pue_mining
        unbuilt = gross - min(gross, float(site.energized_mw)) if site.energized_mw is not None else gross
        capex = th * a.asic_price_usd_per_th + a.mining_capex_usd_per_mw * unbuilt
        per_th, capex_per_th = False, capex / th
        definition = (f"new {new.model} fleet on {gross:,.0f} MW ({th / 1e6:,.2f} EH/s at ${a.asic_price_usd_per_th:,.2f}/TH)"
                      f" + mining infrastructure on {unbuilt:,.0f} MW not energized "
                      f"(${a.mining_capex_usd_per_mw / 1e6:,.2f}M/MW)")
    else:
        th, capex, per_th, capex_per_th = None, None, True, float(a.asic_price_usd_per_th)
        definition = f"one TH/s of {new.model} at ${a.asic_price_usd_per_th:,.2f}/TH (site MW unknown)"
    pb = payback_dynamic(capex_per_th, ms.usd_per_th_day, new.j_per_th, price, pool_fee=a.pool_fee, uptime=a.uptime,
                         price_growth_per_year=0.0, difficulty_growth_per_year=0.0, fee_share=a.fee_share,
                         max_months=o.months, pue_mining=a.pue_mining, hashprice_path_usd_per_th_day=o.usd_per_th_day)
    cum = pb.cumulative_usd_per_th - capex_per_th
    return MiningView(str(site.site_id), o, price, src, fleets, j_inst, inst_src,
                      breakeven_hashprice_usd_per_ph_day(j_inst, price, a.pue_mining, a.pool_fee), new.model,
                      new.j_per_th, gross, th, capex, capex_per_th, definition, pb,
                      cum if per_th else cum * float(th), per_th)  # type: ignore[arg-type]
