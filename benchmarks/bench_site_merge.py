"""Site import merge at scale: plan + apply of N incoming sites against a project of N sites.

    python benchmarks/bench_site_merge.py [--sites 1000000] [--overlap 0.5] [--policy merge]

Builds N project sites and N incoming sites (``--overlap`` of them share an ID with the project and
carry one changed value, the rest are new), then times :func:`planner.gis.import_policy.plan_site_import`
and :func:`apply_site_import` into a :class:`planner.model.portfolio.Portfolio`, and reports the peak
resident memory of the process (the sites themselves included). Target from issue #13: 1,000,000
rows in under a minute and under 2 GB for the merge. Building the sites is timed separately: it is the
cost of holding a million Site objects, not of the merge.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=1_000_000)
    ap.add_argument("--overlap", type=float, default=0.5)
    ap.add_argument("--policy", default="merge", choices=("merge", "rename", "reject"))
    args = ap.parse_args()

    from planner.gis.import_policy import apply_site_import, plan_site_import
    from planner.model.portfolio import Portfolio
    from planner.model.site import Site

    n = args.sites
    start = int(n * (1 - args.overlap))
    t0 = time.perf_counter()
    existing = Portfolio(Site({"site_id": f"S{i}", "name": f"Site {i}", "status": "operating",
                               "power_capacity_mw": 100.0}) for i in range(n))
    incoming = [Site({"site_id": f"S{i}", "name": f"Site {i}", "status": "operating", "power_capacity_mw": 100.0,
                      "land_acres": 40.0}) for i in range(start, start + n)]
    build_s = time.perf_counter() - t0
    rss_before = _rss_mb()
    t0 = time.perf_counter()
    plan = plan_site_import({s.site_id: s for s in existing}, incoming, args.policy)
    plan_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    apply_site_import(existing, plan)
    apply_s = time.perf_counter() - t0
    print(f"sites: {n:,} in the project, {n:,} incoming ({args.overlap:.0%} overlap), policy {args.policy}")
    print(f"build sites: {build_s:.1f} s (RSS {rss_before:,.0f} MB)")
    print(f"plan: {plan_s:.1f} s ({len(plan.additions):,} added, {len(plan.updates):,} updated, "
          f"{len(plan.rejected):,} rejected)")
    print(f"apply: {apply_s:.1f} s; merge total {plan_s + apply_s:.1f} s; peak RSS {_rss_mb():,.0f} MB "
          f"(+{_rss_mb() - rss_before:,.0f} MB for the merge); portfolio now {len(existing):,} sites")
    print(f"machine load (1 min): {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
