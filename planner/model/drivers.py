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

from planner.fmt import fmt_mw, fmt_quantity, fmt_usd, quantity_parts
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
    """One driver: group, label, value (formatted), unit (as people read it), source; ``text`` is the
    value with its unit for lines of text (``2.5 %/yr``, ``$1.50M/MW IT``)."""

    group: str
    label: str
    value: str
    unit: str
    source: str
    text: str = ""

    def __post_init__(self) -> None:
        if not self.text:
            object.__setattr__(self, "text", f"{self.value} {self.unit}".rstrip())

    def to_dict(self) -> dict[str, str]:
        """JSON-safe dict."""
        return {"group": self.group, "label": self.label, "value": self.value, "unit": self.unit,
                "text": self.text, "source": self.source}


def _fmt(value: Any) -> str:
    """A value as stored and typed (model unit: ``0.025``, ``152000000000000``): the key table of
    docs/economics.md for ``--set KEY=VALUE`` and settings files. People-facing text uses
    :meth:`~planner.model.assumptions.AssumptionSpec.display` instead."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,d}"
    if isinstance(value, float):
        if abs(value) >= 1e9 or (value != 0 and abs(value) < 1e-3):
            return f"{value:.4g}"
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def _q(group: str, label: str, value: Any, unit: str, source: str) -> Driver:
    """A driver whose value is a number in ``unit`` (formatted by planner.fmt, the one rule)."""
    text, shown = quantity_parts(value, unit)
    return Driver(group, label, text, shown, source, fmt_quantity(value, unit))


def assumption_driver(group: str, key: str, a: Assumptions) -> Driver:
    """One assumption as a driver, formatted as in the assumptions editor and the report tables."""
    spec = ASSUMPTIONS[key]
    text, shown = spec.display_parts(a[key])
    return Driver(group, spec.label, text, shown, spec.display_source, spec.display(a[key]))


def assumption_drivers(a: Assumptions) -> list[Driver]:
    """The assumptions of :data:`DRIVER_KEYS` with value, unit and source (tenant spread included)."""
    out: list[Driver] = []
    for group, keys in DRIVER_KEYS:
        for k in keys:
            out.append(assumption_driver(group, k, a))
            if k == "tenant_class":
                out.append(assumption_driver(group, f"spread_{a.tenant_class}", a))
    return out


def site_drivers(comp: PathComparison, a: Assumptions) -> list[Driver]:
    """Site facts used by the engine, then :func:`assumption_drivers`."""
    if comp.unavailable_reason:
        return assumption_drivers(a)
    g = "Site"
    o = build_outlook(a, comp.years * 12)
    hp0, c0 = float(o.hashprice_usd_per_ph_day[0]), float(o.marginal_cost_usd_per_ph_day[0])
    yr5 = min(o.months - 1, 60)
    basis = ASSUMPTIONS["power_price_basis"].choice_label(a.power_price_basis)
    out = [
        _q(g, "Gross site power", comp.gross_mw, "MW", "site Power capacity (gross), else Energized"),
        _q(g, "Critical IT power", round(comp.it_mw or 0.0, 1), "MW",
           "gross MW x critical IT share, capped so IT x PUE fits the interconnect"),
        _q(g, "Energized", comp.energized_mw, "MW",
           "site Energized; only energized MW carry an installed fleet and a sale value"
           + ("" if comp.energized_mw is not None else " (unknown: enter it; the paths assume none)")),
        Driver(g, "Installed fleet", f"{fmt_mw(comp.fleet_mw)} at {comp.fleet_j_per_th:g} J/TH, "
               f"{comp.fleet_age_years:g} yr old", "", comp.fleet_source),
        _q(g, "Power price", comp.power_price_usd_per_mwh, "$/MWh",
           "site Power price (else the default), basis: " + basis),
        _q(g, "Fleet breakeven power price today", round(comp.breakeven_usd_per_mwh or 0.0, 1), "$/MWh",
           "hash revenue per MWh: hashprice x (1 - pool fee) x 1e6 / (24 x J/TH x PUE), DOMAIN section 3"),
        _q(g, "Site power cost per PH/s-day", round(comp.site_cost_usd_per_ph_day or 0.0, 2), "$/PH/day",
           "J/TH x 0.024 x price x PUE / (1 - pool fee); compare with the network's marginal cost"),
        Driver(g, "Hashprice today / in 5 years", f"${hp0:,.2f} / ${float(o.hashprice_usd_per_ph_day[yr5]):,.2f}",
               "per PH/s-day", "outlook: " + o.description),
        Driver(g, "Marginal fleet cash cost today / in 5 years",
               f"${c0:,.2f} / ${float(o.marginal_cost_usd_per_ph_day[yr5]):,.2f}", "per PH/s-day",
               "marginal J/TH x 0.024 x PUE x (marginal power + opex/8760) / (1 - pool fee)"),
        Driver(g, "AI conversion capex (landlord)", fmt_usd(comp.conversion_capex_usd), "",
               "; ".join(f"{i.label} {fmt_usd(i.usd)} ({i.detail})" for i in comp.capex_items)),
        _q(g, "Build to first AI capacity", comp.build_months, "months", comp.build_basis),
    ]
    return out + assumption_drivers(a)
