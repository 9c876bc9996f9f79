"""``planner compare PROJECT.gpkg --site ID [--json] [overrides]``: one site's paths side by side.

Prints each path's NPV with and without its terminal value (and that value's share), IRR,
equity IRR, minimum DSCR and annual cash flows, the bridge path's best conversion year, and the
drivers behind them with units and sources. ``--json`` prints an object with ``site_id``,
``best_path`` and ``paths`` (mining, ai_lease, hybrid, sell, and bridge when it is a path of its own), each with ``npv_usd``, ``irr``,
``npv_excl_terminal_usd``, ``equity_irr`` and ``cash_flows_usd`` (one number per year 0..H).
"""
from __future__ import annotations

import argparse
import json
import sys
import textwrap
from typing import Any

from planner.cmd.economics import (EconomicsCommandError, _m, _pct, add_override_arguments, assumptions_from_args,
                                   site_with_price)

HELP = "compare mining, AI lease, hybrid and selling for one site, with the drivers behind the answer"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``compare`` subcommand."""
    p = subparsers.add_parser("compare", help=HELP, description=HELP)
    p.add_argument("project", help="project GeoPackage (.gpkg)")
    p.add_argument("--site", required=True, metavar="ID", help="site_id of the site to compare")
    add_override_arguments(p)
    return p


def bridge_meaning(comp: Any) -> str:
    """What the best conversion year means next to the paths (N = 0 is the AI lease path, N = H mining)."""
    n = comp.best_bridge_year
    if n == 0:
        return "converting now: the AI lease path"
    if n is not None and n >= comp.years:
        return "never converting: the mining path"
    return "a path of its own, listed as 'bridge'"


def format_comparison(comp: Any, a: Any, name: str = "") -> str:
    """Human-readable comparison with drivers (units and sources)."""
    from planner.model.drivers import site_drivers

    lines = [f"{comp.site_id}{' - ' + name if name else ''}: {a.scenario} scenario, {comp.years} years, "
             f"discount {a.discount_rate:.1%}"]
    if comp.unavailable_reason:
        return "\n".join(lines + [f"  {comp.unavailable_reason}"])
    lines.append(f"  best path by NPV: {comp.best_path}")
    head = (f"  {'path':<9} {'NPV $M':>9} {'ex-TV $M':>9} {'TV share':>8} {'IRR':>7} {'eq. IRR':>8} "
            f"{'min DSCR':>8}  option")
    lines += [head, "  " + "-" * (len(head) - 2)]
    for key, p in comp.all_paths.items():
        f = p.financing
        dscr = "-" if f is None or f.min_dscr is None else f"{f.min_dscr:.2f}"
        share = "n/a" if p.terminal_share is None else _pct(p.terminal_share)
        lines.append(f"  {key:<9} {_m(p.npv_usd):>9} {_m(p.npv_excl_terminal_usd):>9} {share:>8} {_pct(p.irr):>7} "
                     f"{_pct(p.equity_irr):>8} {dscr:>8}  {p.option}")
    for key in ("mining", "ai_lease", "hybrid", "sell"):
        p = getattr(comp, key)
        if p is not None and p.unavailable_reason:
            lines.append(f"  {key:<9} {p.unavailable_reason}")
    lines.append("  annual cash flows, $M (year 0 .. H; year H includes the terminal value):")
    for key, p in comp.all_paths.items():
        lines.append(f"    {key:<9} " + " ".join(f"{v / 1e6:,.0f}" for v in p.cash_flows_usd))
    if comp.best_bridge_year is not None:
        lines.append(f"  bridge: keep mining, sign the lease at the end of year N; best N = {comp.best_bridge_year} "
                     f"(NPV {_m(float(comp.bridge_npv_usd[comp.best_bridge_year]))} $M; {bridge_meaning(comp)})")
    for k, (lo, hi) in comp.energized_range.items():
        lines.append(f"  energized MW unknown: {k} NPV {_m(lo)} $M (nothing energized) to {_m(hi)} $M (all energized)")
    notes = list(comp.notes) + [f"{k}: {n}" for k, p in comp.all_paths.items() for n in p.notes]
    if notes:
        lines.append("  notes:")
        lines += [f"    - {n}" for n in notes]
    group = None
    for d in site_drivers(comp, a):
        if d.group != group:
            group = d.group
            lines.append(f"  drivers - {group}:")
        src = textwrap.shorten(d.source, width=150, placeholder=" ...")
        lines.append(f"    {d.label}: {d.text}  [{src}]")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Compare one site's paths and print them (or JSON)."""
    from planner.cmd import open_project_arg
    from planner.model.economics import site_paths

    project = open_project_arg(args.project)
    portfolio = project.portfolio
    from planner.reports.content import ReportError, find_site

    try:
        site = find_site(portfolio, args.site)
    except ReportError as e:
        raise EconomicsCommandError(f"{args.project}: {e}") from None
    a = assumptions_from_args(args, portfolio.settings)
    comp = site_paths(site_with_price(site, args.power_usd_mwh), a)
    if args.json:
        out = comp.to_dict()
        out["scenario"] = a.scenario
        from planner.model.drivers import site_drivers
        out["drivers"] = [d.to_dict() for d in site_drivers(comp, a)]
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
    elif comp.unavailable_reason:  # nothing to compare: say why and how to fix it, exit non-zero
        print(f"planner compare: {comp.unavailable_reason}", file=sys.stderr)
        return 1
    else:
        sys.stdout.write(format_comparison(comp, a, site.name or "") + "\n")
    return 0
