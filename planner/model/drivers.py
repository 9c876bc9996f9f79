"""The drivers behind one site's economics: every number an analyst needs to defend the answer.

:func:`site_drivers` lists, for a :class:`~planner.model.economics.PathComparison`, the site facts the
engine used (MW, fleet, power price, breakeven against the network's marginal cost, conversion capex
and build time) and the assumptions that move the paths (lease contract, tenant class, financing,
terminal value, outlook), each with its value, unit and source. The CLI, panels and reports print
these; nothing here recomputes economics.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from planner.model.assumptions import ASSUMPTIONS, Assumptions
from planner.model.economics import PathComparison
from planner.model.outlook import build_outlook

#: Assumptions shown as drivers of a comparison, by group, in print order.
DRIVER_KEYS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Market and outlook", ("btc_price_usd", "btc_price_growth_per_year", "difficulty", "outlook_model",
                            "marginal_fleet_j_per_th", "efficiency_gain_per_year", "marginal_power_usd_per_mwh",
                            "asic_price_usd_per_th")),
    ("Mining", ("mining_pipeline", "mining_opex_usd_per_mw_year", "fleet_refresh_years", "asic_resale_usd_per_th",
                "power_price_basis", "power_contract")),
    ("AI lease contract", ("lease_rate_usd_per_kw_month", "lease_term_years", "lease_escalator_per_year",
                           "lease_renewal_probability", "lease_downtime_months", "relet_capex_usd_per_mw_it",
                           "lease_prepayment_months", "tenant_class", "noi_margin", "critical_it_ratio",
                           "conversion_capex_usd_per_mw_it", "fitout_funded_by")),
    ("Finance", ("discount_rate", "horizon_years", "ai_exit_multiple_noi", "mining_exit_multiple", "debt_share",
                 "debt_rate", "debt_tenor_years", "cost_of_equity", "sell_usd_per_mw_energized")),
)


@dataclass(frozen=True)
class Driver:
    """One driver: group, label, value (formatted), unit, source."""

    group: str
    label: str
    value: str
    unit: str
    source: str

    def to_dict(self) -> dict[str, str]:
        """JSON-safe dict."""
        return {"group": self.group, "label": self.label, "value": self.value, "unit": self.unit,
                "source": self.source}


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,d}"
    if isinstance(value, float):
        if abs(value) >= 1e9 or (value != 0 and abs(value) < 1e-3):
            return f"{value:.4g}"
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def assumption_drivers(a: Assumptions) -> list[Driver]:
    """The assumptions of :data:`DRIVER_KEYS` with value, unit and source (tenant spread included)."""
    out: list[Driver] = []
    for group, keys in DRIVER_KEYS:
        for k in keys:
            spec = ASSUMPTIONS[k]
            out.append(Driver(group, spec.label, _fmt(a[k]), spec.unit, spec.source))
            if k == "tenant_class":
                s = ASSUMPTIONS[f"spread_{a.tenant_class}"]
                out.append(Driver(group, s.label, _fmt(a[s.key]), s.unit, s.source))
    return out


def site_drivers(comp: PathComparison, a: Assumptions) -> list[Driver]:
    """Site facts used by the engine, then :func:`assumption_drivers`."""
    if comp.unavailable_reason:
        return assumption_drivers(a)
    g = "Site"
    o = build_outlook(a, comp.years * 12)
    hp0, c0 = float(o.hashprice_usd_per_ph_day[0]), float(o.marginal_cost_usd_per_ph_day[0])
    yr5 = min(o.months - 1, 60)
    out = [
        Driver(g, "Gross site power", _fmt(comp.gross_mw), "MW", "site power_capacity_mw (else energized_mw)"),
        Driver(g, "Critical IT power", _fmt(round(comp.it_mw or 0.0, 1)), "MW",
               "gross MW x critical_it_ratio, capped so IT x PUE fits the interconnect"),
        Driver(g, "Energized", "unknown" if comp.energized_mw is None else _fmt(comp.energized_mw), "MW",
               "site energized_mw; only energized MW carry an installed fleet and a sale value"),
        Driver(g, "Installed fleet", f"{comp.fleet_mw:,.1f} MW at {comp.fleet_j_per_th:g} J/TH, "
               f"{comp.fleet_age_years:g} yr old", "", comp.fleet_source),
        Driver(g, "Power price", _fmt(comp.power_price_usd_per_mwh), "$/MWh",
               "site power_price_usd_per_mwh (else the default), basis " + a.power_price_basis),
        Driver(g, "Fleet breakeven power price today", _fmt(round(comp.breakeven_usd_per_mwh or 0.0, 1)), "$/MWh",
               "hash revenue per MWh: hashprice x (1 - pool fee) x 1e6 / (24 x J/TH x PUE), DOMAIN section 3"),
        Driver(g, "Site power cost per PH/s-day", _fmt(round(comp.site_cost_usd_per_ph_day or 0.0, 2)), "$/PH/day",
               "J/TH x 0.024 x price x PUE / (1 - pool fee); compare with the network's marginal cost"),
        Driver(g, "Hashprice today / in 5 years", f"{hp0:,.2f} / {float(o.hashprice_usd_per_ph_day[yr5]):,.2f}",
               "$/PH/day", "outlook: " + o.description),
        Driver(g, "Marginal fleet cash cost today / in 5 years",
               f"{c0:,.2f} / {float(o.marginal_cost_usd_per_ph_day[yr5]):,.2f}", "$/PH/day",
               "marginal J/TH x 0.024 x PUE x (marginal power + opex/8760) / (1 - pool fee)"),
        Driver(g, "AI conversion capex (landlord)", f"{comp.conversion_capex_usd / 1e6:,.1f}", "$M",
               "; ".join(f"{i.label} {('unknown' if i.usd is None else f'{i.usd / 1e6:,.1f}')} $M ({i.detail})"
                         for i in comp.capex_items)),
        Driver(g, "Build to first AI capacity", _fmt(comp.build_months), "months", comp.build_basis),
    ]
    return out + assumption_drivers(a)
