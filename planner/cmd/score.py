"""``planner score PROJECT.gpkg [--site ID] [--json]``: rank sites by conversion readiness.

Prints one line per site (best first): expected total with its band (unknowns at worst - at
best), class, completeness, upgrade capex, time to power and the next fact to find out.
``--site ID`` prints that site's criteria, gates, upgrades and every unknown fact ranked by how far
it can move the class or total; ``--json`` prints the full
:class:`planner.model.readiness.ReadinessResult` dicts (``total``, ``total_low``, ``total_high``,
``class``, ``completeness``, ...) with their ``next_facts``.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from planner.cmd import open_project_arg
from planner.fmt import fmt_months, fmt_usd
from planner.model.portfolio import Portfolio
from planner.model.readiness import Fact, ReadinessResult, next_facts, rank_results, score_portfolio
from planner.model.readiness_rules import READINESS_CLASSES
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


def _bound(value: float | None, text: str, result: ReadinessResult) -> str:
    """Upgrade capex / time to power as a reader should take them.

    With unknown fields some upgrades may not be identified yet: a found figure is a lower bound
    (``>=$12.0M``) and nothing found is "unknown", never a free, immediate ``>=$0.0M``.
    """
    if value is None or result.completeness_pct >= 100:
        return text
    if value <= 0:
        return "none" if result.klass == "ready_now" else "unknown"
    return ">=" + text


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def format_ranking(results: Sequence[ReadinessResult], names: Mapping[str, str] | None = None,
                   facts: Mapping[str, Sequence[Fact]] | None = None) -> str:
    """Fixed-width ranking table, best first (see :func:`rank_results`), with the next fact per site.

    ``total`` is the expected total with its band in brackets (unknowns at worst - at best). Capex
    and time to power of sites with unknown fields are shown as lower bounds (``>=``).
    """
    names, facts = names or {}, facts or {}
    head = (f"{'#':>3} {'site_id':<10} {'name':<24} {'total (band)':>13} {'class':<37} {'known':>5} "
            f"{'capex':>10} {'to power':>9}  next fact")
    lines = [head, "-" * len(head)]
    for i, r in enumerate(rank_results(results), start=1):
        label = r.class_text + (" (gate)" if r.gates_failed else "")  # "Insufficient data (leans Convertible)"
        nxt = facts.get(r.site_id) or ()
        lines.append(f"{i:>3} {_clip(r.site_id, 10):<10} {_clip(names.get(r.site_id, ''), 24):<24} "
                     f"{r.band_text:>13} {_clip(label, 37):<37} {r.completeness_pct:>4.0f}% "
                     f"{_bound(r.capex_total_usd, fmt_usd(r.capex_total_usd), r):>10} "
                     f"{_bound(r.time_to_power_months, fmt_months(r.time_to_power_months), r):>9}  "
                     f"{nxt[0].sentence if nxt else '-'}")
    return "\n".join(lines)


def format_site(result: ReadinessResult, name: str = "", facts: Sequence[Fact] = ()) -> str:
    """Detail of one site: every criterion with score, weight and reason; gates; upgrades."""
    r = result
    out = [f"{r.site_id}{' - ' + name if name else ''}",
           f"  total {r.total:.1f} / 100 (band {r.total_low:.1f}-{r.total_high:.1f}: unknowns at worst - at best), "
           f"{r.class_text}, data completeness {r.completeness_pct:.0f} % (weights profile {r.weights_profile!r})",
           f"  class at the low end {READINESS_CLASSES[r.class_low]}, at the high end "
           f"{READINESS_CLASSES[r.class_high]}",
           f"  upgrade capex {_bound(r.capex_total_usd, fmt_usd(r.capex_total_usd), r)}, "
           f"time to power {_bound(r.time_to_power_months, fmt_months(r.time_to_power_months), r)}"
           + ("" if r.completeness_pct >= 100 else " (lower bounds: upgrades are found from known fields only)"),
           "", "  criteria:"]
    for c in r.criteria:
        score = f"{c.score:5.1f}" if c.low == c.high else f"{c.score:5.1f} ({c.low:.0f}-{c.high:.0f})"
        flag = "  GATE" if c.gate_failed else ""
        out.append(f"    {c.label:<28} {score:>15}  w={c.weight:<4g}{flag}  {c.reason}")
    if r.gates_failed:
        out += ["", "  gates failed:"] + [f"    - {g}" for g in r.gates_failed]
    if r.gates_open:
        out += ["", "  gates that unknown data could still fail:"] + [f"    - {g}" for g in r.gates_open]
    out += ["", "  what to find out next:" if facts else "  what to find out next: nothing, every fact is known"]
    out += [f"    {i}. {f.sentence}" for i, f in enumerate(facts, start=1)]
    out += ["", "  upgrades:" if r.upgrades else "  upgrades: none needed on the known data"]
    for u in r.upgrades:
        crit = " [critical]" if u.critical else ""
        out.append(f"    - {u.label}{crit}: {fmt_usd(u.capex_usd)}, {fmt_months(u.months)} ({u.detail})")
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

    def facts(sid: str) -> list[Fact]:
        return next_facts(portfolio.get(sid), portfolio.settings, as_of=as_of, result=results[sid])

    def as_json(r: ReadinessResult) -> dict[str, Any]:
        return {**r.to_dict(), "next_facts": [f.to_dict() for f in facts(r.site_id)]}

    if args.site is not None:
        if args.site not in results:
            raise ScoreCommandError(f"{args.project}: no site with site_id {args.site!r}; "
                                    f"choose one of: {', '.join(results) or '(none)'}")
        result = results[args.site]
        text = json.dumps(as_json(result), indent=2) if args.json else \
            format_site(result, names[args.site], facts(args.site))
    elif args.json:
        text = json.dumps([as_json(r) for r in rank_results(results.values())], indent=2)
    else:
        text = format_ranking(list(results.values()), names, {sid: facts(sid)[:1] for sid in results}) \
            if results else "no sites in this project"
    sys.stdout.write(text + "\n")
    return 0
