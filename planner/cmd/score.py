"""``planner score PROJECT.gpkg [--site ID] [--json]``: rank sites by conversion readiness.

Prints one line per site (best first): total, class, completeness, upgrade capex and time
to power. ``--site ID`` prints that site's criteria, gates and upgrades instead; ``--json``
prints the full :class:`planner.model.readiness.ReadinessResult` dicts.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from planner.cmd import open_project_arg
from planner.model.portfolio import Portfolio
from planner.model.readiness import ReadinessResult, rank_results, score_portfolio
from planner.model.site import PlannerError

HELP = "rank sites by AI/HPC conversion readiness (score, class, completeness, capex, time to power)"


class ScoreCommandError(PlannerError):
    """A user error in the ``score`` command (missing file, unknown site)."""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``score`` subcommand."""
    p = subparsers.add_parser("score", help=HELP, description=HELP)
    p.add_argument("project", help="project GeoPackage (.gpkg)")
    p.add_argument("--site", metavar="ID", help="show the criteria, gates and upgrades of this site")
    p.add_argument("--json", action="store_true", help="print results as JSON")
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="date months to energization count from (default today)")
    return p


def load_portfolio(path: str) -> Portfolio:
    """Open the project at ``path`` and return its portfolio (via planner.gis.project.open_project)."""
    return open_project_arg(path).portfolio  # type: ignore[no-any-return]


def _money(usd: float | None) -> str:
    return "unknown" if usd is None else f"${usd / 1e6:,.1f}M"


def _months(m: float | None) -> str:
    return "unknown" if m is None else f"{m:.0f} mo"


def _bound(text: str, result: ReadinessResult) -> str:
    # With unknown fields some upgrades may not be identified yet: the figure is a lower bound.
    return text if result.completeness_pct >= 100 or text == "unknown" else ">=" + text


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def format_ranking(results: Sequence[ReadinessResult], names: Mapping[str, str] | None = None) -> str:
    """Fixed-width ranking table, best first (see :func:`rank_results`).

    Capex and time to power of sites with unknown fields are shown as lower bounds (``>=``).
    """
    names = names or {}
    head = (f"{'#':>3} {'site_id':<12} {'name':<26} {'total':>6} {'class':<26} {'complete':>8} "
            f"{'capex':>11} {'to power':>10}")
    lines = [head, "-" * len(head)]
    for i, r in enumerate(rank_results(results), start=1):
        total = "-" if r.total is None else f"{r.total:.0f}"
        label = r.class_label + (" (gate)" if r.gates_failed else "")
        lines.append(f"{i:>3} {_clip(r.site_id, 12):<12} {_clip(names.get(r.site_id, ''), 26):<26} {total:>6} "
                     f"{_clip(label, 26):<26} {r.completeness_pct:>7.0f}% {_bound(_money(r.capex_total_usd), r):>11} "
                     f"{_bound(_months(r.time_to_power_months), r):>10}")
    return "\n".join(lines)


def format_site(result: ReadinessResult, name: str = "") -> str:
    """Detail of one site: every criterion with score, weight and reason; gates; upgrades."""
    r = result
    total = "-" if r.total is None else f"{r.total:.1f}"
    out = [f"{r.site_id}{' - ' + name if name else ''}",
           f"  total {total} / 100, {r.class_label}, data completeness {r.completeness_pct:.0f} % "
           f"(weights profile {r.weights_profile!r})",
           f"  upgrade capex {_bound(_money(r.capex_total_usd), r)}, "
           f"time to power {_bound(_months(r.time_to_power_months), r)}"
           + ("" if r.completeness_pct >= 100 else " (lower bounds: upgrades are found from known fields only)"),
           "", "  criteria:"]
    for c in r.criteria:
        score = "missing" if c.score is None else f"{c.score:5.1f}"
        flag = "  GATE" if c.gate_failed else ""
        out.append(f"    {c.label:<28} {score:>7}  w={c.weight:<4g}{flag}  {c.reason}")
    if r.gates_failed:
        out += ["", "  gates failed:"] + [f"    - {g}" for g in r.gates_failed]
    out += ["", "  upgrades:" if r.upgrades else "  upgrades: none needed on the known data"]
    for u in r.upgrades:
        crit = " [critical]" if u.critical else ""
        out.append(f"    - {u.label}{crit}: {_money(u.capex_usd)}, {_months(u.months)} ({u.detail})")
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    """Score the project's sites and print the ranking, one site's detail, or JSON."""
    as_of = None
    if getattr(args, "as_of", None):
        try:
            as_of = _dt.date.fromisoformat(args.as_of)
        except ValueError:
            raise ScoreCommandError(f"--as-of {args.as_of!r} is not a date; use YYYY-MM-DD") from None
    portfolio = load_portfolio(args.project)
    results = score_portfolio(portfolio, as_of=as_of)
    names = {s.site_id: s.name or "" for s in portfolio}
    if args.site is not None:
        if args.site not in results:
            raise ScoreCommandError(f"{args.project}: no site with site_id {args.site!r}; "
                                    f"choose one of: {', '.join(results) or '(none)'}")
        result = results[args.site]
        text = json.dumps(result.to_dict(), indent=2) if args.json else format_site(result, names[args.site])
    elif args.json:
        text = json.dumps([r.to_dict() for r in rank_results(results.values())], indent=2)
    else:
        text = format_ranking(list(results.values()), names) if results else "no sites in this project"
    sys.stdout.write(text + "\n")
    return 0
