"""Print the tables of docs/economics.md as Markdown: the sample-project results, or the assumptions.

    python scripts/economics_sample_tables.py [PROJECT.gpkg]     # outlook, sites, Rockdale sensitivities
    python scripts/economics_sample_tables.py --assumptions      # every assumption: unit, default, range, source

Run it after the sample, the engine or an assumption changes and paste the output into the doc
(tests/test_economics_doc.py fails when an assumption or its unit/default is missing there).
"""
from __future__ import annotations

import os
import sys
from collections import Counter

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

SITES = ("RIOT-RKD", "CORZ-DEN", "CIFR-BL", "WULF-LM", "IREN-CHI", "IREN-PG", "BTCM-ETH")


def assumption_tables() -> str:
    """The assumption registry as one Markdown table per group."""
    from planner.model.assumptions import ASSUMPTIONS, GROUP_LABELS
    from planner.model.drivers import _fmt

    groups: dict[str, list] = {}
    for spec in ASSUMPTIONS.values():
        groups.setdefault(spec.group, []).append(spec)
    lines: list[str] = []
    for group in ["market", "outlook", "mining", "power", "ai", "finance", "hybrid", "network"] + \
            [g for g in groups if g not in ("market", "outlook", "mining", "power", "ai", "finance", "hybrid",
                                            "network")]:
        lines += [f"\n### {GROUP_LABELS.get(group, group)}\n", "| key | meaning | unit | default | range | source |",
                  "|---|---|---|---|---|---|"]
        for s in groups.get(group, []):
            rng = "/".join(s.choices) if s.choices else (
                "" if s.minimum is None else f"{_fmt(s.minimum)} to {_fmt(s.maximum)}")
            lines.append(f"| `{s.key}` | {s.label} | {s.unit} | {_fmt(s.default)} | {rng} | "
                         f"{s.source.replace('|', '/')} |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--assumptions"]:
        print(assumption_tables())
        return 0
    from planner.gis.project import open_project
    from planner.model.assumptions import assumptions_from_settings
    from planner.model.economics import portfolio_paths, site_paths
    from planner.model.outlook import build_outlook

    path = argv[0] if argv else os.path.join(os.path.dirname(__file__), "..", "maps", "sample_portfolio.gpkg")
    project = open_project(path)
    a = assumptions_from_settings(project.portfolio.settings)
    o = build_outlook(a)
    print("| year | hashprice $/PH/day | marginal cash cost $/PH/day | hashrate EH/s | ASIC $/TH |")
    print("|---|---|---|---|---|")
    dates = o.month_dates()
    for i in range(0, o.months, 12):
        print(f"| {dates[i]:%b %Y} | {o.hashprice_usd_per_ph_day[i]:.1f} | {o.marginal_cost_usd_per_ph_day[i]:.1f} | "
              f"{o.hashrate_eh_s[i]:,.0f} | {o.asic_usd_per_th[i]:.1f} |")
    sites = {s.site_id: s for s in project.portfolio}
    comps = portfolio_paths(list(project.portfolio), a)
    print()
    print("| site | gross / energized MW | mining | AI lease | AI without exit value | AI IRR / equity IRR | "
          "hybrid | sell | best | build (months) | AI capex $M/MW IT |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")

    def pm(p: object) -> str:  # a path's NPV, n/a when it is not available (energized MW unknown: never 0)
        return "n/a" if getattr(p, "unavailable_reason", None) else m(p.npv_usd)  # type: ignore[attr-defined]

    def m(x: float) -> str:
        return f"{x / 1e6:,.0f}"

    for sid in SITES:
        if sid not in comps:
            continue
        c, name = comps[sid], sites[sid].name.split(" (")[0]
        if c.unavailable_reason:
            print(f"| {sid} {name} | unknown | - | - | - | - | - | - | n/a | - | - |")
            continue
        ai = c.ai_lease
        en = "unknown" if c.energized_mw is None else f"{c.energized_mw:,.0f}"
        print(f"| {sid} {name} | {c.gross_mw:,.0f} / {en} | {pm(c.mining)} | {m(ai.npv_usd)} | "
              f"{m(ai.npv_excl_terminal_usd)} | {ai.irr * 100:.1f} % / {ai.equity_irr * 100:.1f} % | "
              f"{pm(c.hybrid)} | {pm(c.sell)} | {c.best_path} | {c.build_months:.0f} | "
              f"{c.conversion_capex_usd / 1e6 / c.it_mw:.1f} |")
    known = [c for c in comps.values() if not c.unavailable_reason]
    no_exit = a.replace(ai_exit_multiple_noi=0.0)
    print()
    print(f"best paths ({len(known)} sites with MW): {dict(Counter(c.best_path for c in known))}; "
          f"exit multiple 0: {dict(Counter(site_paths(sites[c.site_id], no_exit).best_path for c in known))}")
    rkd = sites.get("RIOT-RKD")
    if rkd is None:
        return 0
    from planner.model.assumptions import assumptions_from_settings as afs
    cases = [("base", a, rkd), ("exit multiple 0", no_exit, rkd),
             ("lease term 15 yr", a.replace(lease_term_years=15), rkd),
             ("lease term 5 yr", a.replace(lease_term_years=5), rkd),
             ("hyperscaler tenant", a.replace(tenant_class="hyperscaler"), rkd),
             ("unrated tenant", a.replace(tenant_class="unrated"), rkd),
             ("lease rate $184 (CBRE asking)", a.replace(lease_rate_usd_per_kw_month=184.0), rkd),
             ("power $30/MWh", a, rkd.replace(power_price_usd_per_mwh=30.0)),
             ("bear scenario", afs(project.portfolio.settings, scenario="bear"), rkd),
             ("bull scenario", afs(project.portfolio.settings, scenario="bull"), rkd)]
    print()
    print("| Rockdale case | mining | AI lease | AI without exit | hybrid | sell | best |")
    print("|---|---|---|---|---|---|---|")
    for label, aa, site in cases:
        c = site_paths(site, aa)
        print(f"| {label} | {m(c.mining.npv_usd)} | {m(c.ai_lease.npv_usd)} | {m(c.ai_lease.npv_excl_terminal_usd)} | "
              f"{m(c.hybrid.npv_usd)} | {m(c.sell.npv_usd)} | {c.best_path} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
