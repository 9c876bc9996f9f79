"""``planner economics [PROJECT.gpkg] [--json] [overrides]``: portfolio-wide path economics.

With a project: one line per site (best path; NPV of mining, AI lease with and without its
terminal value, hybrid and selling; AI IRR and equity IRR). Without one: the market outlook
(hashprice, marginal fleet cost, hashrate by year) and each catalogue model's breakeven. Every
assumption can be overridden on the command line (``--lease-term-years 15``, ``--set KEY=VALUE``);
``--forward-curve FILE.csv`` imports a dated $/PH/day hashprice curve and uses it as the outlook.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from typing import Any

from planner.fmt import fmt_fraction_pct
from planner.model.assumptions import ASSUMPTIONS, AssumptionError, Assumptions, assumptions_from_settings
from planner.model.site import PlannerError, Site

HELP = "NPV, IRR and best path per site (mining, AI lease, hybrid, sell) with assumption overrides"

#: Command-line flags that override one assumption each: flag -> (assumption key, type, help).
OVERRIDE_FLAGS: dict[str, tuple[str, Any, str]] = {
    "--lease-term-years": ("lease_term_years", int, "AI lease term (years)"),
    "--exit-multiple": ("ai_exit_multiple_noi", float, "AI exit multiple (x final-year NOI; 0 = no terminal value)"),
    "--lease-rate": ("lease_rate_usd_per_kw_month", float, "lease rate ($/kW-month of critical IT)"),
    "--tenant-class": ("tenant_class", str, "hyperscaler, neocloud_backstop or unrated"),
    "--fitout-funded-by": ("fitout_funded_by", str, "landlord or tenant"),
    "--discount-rate": ("discount_rate", float, "discount rate (fraction, e.g. 0.10)"),
    "--horizon-years": ("horizon_years", int, "horizon (years)"),
    "--btc-price": ("btc_price_usd", float, "BTC price ($)"),
    "--debt-share": ("debt_share", float, "debt share of initial capex (fraction)"),
    "--outlook": ("outlook_model", str, "cost_floor, forward_curve or constant_growth"),
    "--mining-pipeline": ("mining_pipeline", str, "energized_only, build_if_it_pays or always_build"),
}


class EconomicsCommandError(PlannerError):
    """A user error in the ``economics`` / ``compare`` commands."""


def add_override_arguments(p: argparse.ArgumentParser) -> None:
    """Flags shared by ``economics`` and ``compare``: scenario, power price, assumption overrides."""
    p.add_argument("--scenario", help="named scenario: base, bull, bear or one in the project settings")
    p.add_argument("--power-usd-mwh", type=float, metavar="X", help="all-in power price for every site ($/MWh)")
    for flag, (key, typ, text) in OVERRIDE_FLAGS.items():
        p.add_argument(flag, type=typ, metavar="X" if typ is not str else "NAME", dest=key, help=text)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override any assumption (repeatable), e.g. --set lease_escalator_per_year=0.03")
    p.add_argument("--forward-curve", metavar="CSV",
                   help="hashprice forward curve (date,usd_per_ph_day rows) used as the outlook")
    p.add_argument("--json", action="store_true", help="print the results as JSON")


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``economics`` subcommand."""
    p = subparsers.add_parser("economics", help=HELP, description=HELP)
    p.add_argument("project", nargs="?", help="project GeoPackage (.gpkg); without one, the market outlook")
    add_override_arguments(p)
    return p


def _parse_set(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise EconomicsCommandError(f"--set {item!r}: write KEY=VALUE, e.g. --set lease_term_years=15")
        if key not in ASSUMPTIONS:
            raise EconomicsCommandError(f"--set {key}: unknown assumption; see docs/economics.md for the keys")
        out[key] = value.strip() if ASSUMPTIONS[key].kind in ("str", "datetime") else _number(key, value)
    return out


def _number(key: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise EconomicsCommandError(f"--set {key}={text!r}: not a number") from None


def assumptions_from_args(args: argparse.Namespace, settings: Mapping[str, Any] | None) -> Assumptions:
    """Project settings < scenario < ``--set`` < named flags; ``--forward-curve`` adds the curve."""
    from planner.model.outlook import read_forward_curve_csv

    settings = dict(settings or {})
    user = dict(settings.get("assumptions") or {})
    user.update(_parse_set(getattr(args, "set", []) or []))
    for key, _typ, _text in OVERRIDE_FLAGS.values():
        value = getattr(args, key, None)
        if value is not None:
            user[key] = value
    curve = getattr(args, "forward_curve", None)
    if curve:
        settings["hashprice_forward_curve"] = [list(p) for p in read_forward_curve_csv(curve)]
        user.setdefault("outlook_model", "forward_curve")
    settings["assumptions"] = user
    try:
        return assumptions_from_settings(settings, scenario=getattr(args, "scenario", None))
    except AssumptionError as e:
        raise EconomicsCommandError(str(e)) from None


def site_with_price(site: Site, price: float | None) -> Site:
    """``site`` with ``--power-usd-mwh`` applied (validated like a typed value)."""
    return site if price is None else site.replace(power_price_usd_per_mwh=price)


def _m(usd: float | None) -> str:
    return "-" if usd is None else f"{usd / 1e6:,.1f}"


def _npv(p: Any) -> str:
    """A path's NPV in $M, or n/a when the path is not available (e.g. energized MW unknown), never 0."""
    return "n/a" if p is None or p.unavailable_reason else _m(p.npv_usd)


def _pct(x: float | None) -> str:
    return "-" if x is None else fmt_fraction_pct(x)


def market_summary(a: Assumptions) -> dict[str, Any]:
    """Outlook by year and each catalogue model's breakeven today (no project needed)."""
    from planner.model.economics import breakeven_usd_per_mwh, mining_state
    from planner.model.outlook import build_outlook

    ms = mining_state(a)
    o = build_outlook(a)
    models = []
    for name, spec in a.catalogue.items():
        models.append({"model": name, "j_per_th": round(spec.j_per_th, 3),
                       "breakeven_usd_per_mwh": round(breakeven_usd_per_mwh(ms.usd_per_th_day, spec.j_per_th,
                                                                           a.pue_mining, a.pool_fee), 2)})
    return {"scenario": a.scenario, "market_data_date": a.market_data_date,
            "hashprice_usd_per_ph_day": round(ms.usd_per_ph_day, 3), "outlook": o.to_dict(step=12),
            "models": models}


def run(args: argparse.Namespace) -> int:
    """Compute and print portfolio economics (or the market outlook without a project)."""
    from planner.cmd import open_project_arg
    from planner.model.drivers import assumption_drivers
    from planner.model.economics import portfolio_paths

    if args.project is None:
        a = assumptions_from_args(args, None)
        summary = market_summary(a)
        if args.json:
            sys.stdout.write(json.dumps(summary, indent=2) + "\n")
            return 0
        o = summary["outlook"]
        print(f"Market on {a.market_data_date[:10]} ({a.scenario} scenario): hashprice "
              f"{summary['hashprice_usd_per_ph_day']:,.2f} $/PH/day; outlook {o['description']}")
        print(f"{'year':<12}{'hashprice $/PH/day':>20}{'marginal cost $/PH/day':>24}{'hashrate EH/s':>15}"
              f"{'ASIC $/TH':>11}")
        for d, hp, c, h, asic in zip(o["dates"], o["hashprice_usd_per_ph_day"], o["marginal_cost_usd_per_ph_day"],
                                     o["hashrate_eh_s"], o["asic_usd_per_th"]):
            print(f"{d:<12}{hp:>20,.2f}{c:>24,.2f}{h:>15,.0f}{asic:>11,.2f}")
        print("Breakeven power price today (hash revenue per MWh at the meter):")
        for m in summary["models"]:
            print(f"  {m['model']:<22} {m['j_per_th']:>6.1f} J/TH  {m['breakeven_usd_per_mwh']:>8,.1f} $/MWh")
        print_drivers([d for d in assumption_drivers(a) if d.group == "Market and outlook"])
        return 0
    project = open_project_arg(args.project)
    a = assumptions_from_args(args, project.portfolio.settings)
    comps = list(portfolio_paths([site_with_price(s, args.power_usd_mwh) for s in project.portfolio], a).values())
    if args.json:
        out = {"project": str(args.project), "scenario": a.scenario, "horizon_years": a.horizon_years,
               "assumptions": a.to_dict(), "sites": [c.to_dict() for c in comps]}
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
        return 0
    print(f"{args.project}: {len(comps)} sites, {a.scenario} scenario, {a.horizon_years} years at "
          f"{a.discount_rate:.1%} (+{a[f'spread_{a.tenant_class}']:.1%} {a.tenant_class} spread on leases); "
          f"NPV in $M")
    head = (f"{'site_id':<10} {'best':<9} {'mining':>9} {'AI lease':>9} {'AI ex-TV':>9} {'TV share':>8} "
            f"{'hybrid':>9} {'sell':>8} {'AI IRR':>7} {'AI eqIRR':>8}")
    print(head)
    print("-" * len(head))
    for c in comps:
        if c.unavailable_reason:
            print(f"{c.site_id:<10} n/a       {c.unavailable_reason}")
            continue
        ai = c.ai_lease
        share = ai.terminal_share
        print(f"{c.site_id:<10} {c.best_path or '-':<9} {_npv(c.mining):>9} {_m(ai.npv_usd):>9} "
              f"{_m(ai.npv_excl_terminal_usd):>9} {_pct(share) if share is not None else 'n/a':>8} "
              f"{_m(c.hybrid.npv_usd) if c.hybrid.unavailable_reason is None else 'n/a':>9} "
              f"{_npv(c.sell):>8} {_pct(ai.irr):>7} {_pct(ai.equity_irr):>8}")
    print("AI ex-TV: NPV without the terminal (exit) value; TV share: that value's share of the NPV; n/a: energized MW "
          "unknown (enter them; `compare` prints the range). "
          "`planner compare PROJECT --site ID` prints one site's drivers with units and sources.")
    print_drivers(assumption_drivers(a))
    return 0


def print_drivers(drivers: list[Any]) -> None:
    """Drivers grouped, one line each: label, value, unit and (shortened) source."""
    import textwrap

    group = None
    for d in drivers:
        if d.group != group:
            group = d.group
            print(f"drivers - {group}:")
        print(f"  {d.label}: {d.text}  [{textwrap.shorten(d.source, width=150, placeholder=' ...')}]")
