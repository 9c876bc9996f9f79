"""Mining view of one site for panels and reports: fleet breakevens and the installed fleet against the network.

Everything a mining chart draws about the site's fleets comes from here (charts compute nothing):

* each catalogue model's breakeven today: hashprice at which it pays the site's power
  (:func:`~planner.model.economics.breakeven_hashprice_usd_per_ph_day`), power price at which it pays
  at today's hashprice (:func:`~planner.model.economics.breakeven_usd_per_mwh`) and revenue per MW-day;
* the installed fleet (J/TH and where the figure comes from: the site's ``fleet_j_per_th``, its
  ``asic_model``, else the public-miner default) and its power cost per PH/s-day at the site, to set
  against the outlook's marginal cost (:func:`planner.model.outlook.build_outlook`).
"""
from __future__ import annotations

from dataclasses import dataclass

from planner.model.assumptions import Assumptions
from planner.model.economics import (breakeven_hashprice_usd_per_ph_day, breakeven_usd_per_mwh, mining_state,
                                     revenue_usd_per_mw_day)
from planner.model.site import Site


@dataclass(frozen=True)
class FleetBreakeven:
    """One ASIC model at today's hashprice and the site's power price."""

    model: str
    j_per_th: float
    breakeven_hashprice_usd_per_ph_day: float
    breakeven_power_usd_per_mwh: float
    revenue_usd_per_mw_day: float


@dataclass(frozen=True)
class MiningView:
    """The site's fleets at its power price (see the module docstring)."""

    site_id: str
    power_price_usd_per_mwh: float
    power_price_source: str
    fleets: tuple[FleetBreakeven, ...]
    installed_j_per_th: float
    installed_source: str
    site_cost_usd_per_ph_day: float


def mining_view(site: Site, assumptions: Assumptions) -> MiningView:
    """The :class:`MiningView` of ``site`` under ``assumptions``."""
    a = assumptions
    ms = mining_state(a)
    if site.power_price_usd_per_mwh is not None:
        price, src = float(site.power_price_usd_per_mwh), "site"
    else:
        price, src = float(a.power_price_usd_per_mwh), "portfolio default"
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
    return MiningView(str(site.site_id), price, src, fleets, j_inst, inst_src,
                      breakeven_hashprice_usd_per_ph_day(j_inst, price, a.pue_mining, a.pool_fee))
