"""All economics paths plus the 8,760-hour hybrid year for N sites: portfolio batch vs per-site loop.

    python benchmarks/bench_economics.py [--sites 1000] [--seed 3] [--prices 40]

Builds a seeded synthetic portfolio (20-1,000 MW sites, 0-100 % energized, 10 % with energized MW
unknown, half in Texas with ERCOT 4CP, fleets of 13.5-29.5 J/TH, ``--prices`` distinct all-in power
prices between $25 and $80/MWh) and times, in the same process and on the same data:

- the per-site loop: ``site_paths(site, assumptions)`` for each site with every cache emptied first
  (each site parses the readiness settings and builds its hourly price year, sort order and AI
  load shape itself), i.e. what one panel refresh per site costs;
- the batch: ``portfolio_paths(sites, assumptions)``: the readiness context once, one hourly price
  year and sort order per distinct price, one AI load shape, the outlook once.

Every site gets the mining, AI lease, hybrid (its mining block dispatched against the hourly
year), sell and bridge paths (bridge: 16 conversion years), NPV with and without the terminal
value, IRR, financing. The two runs must agree to the dollar; the script checks it.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def make_sites(n: int, seed: int, n_prices: int) -> list:
    import numpy as np

    from planner.model.site import Site

    rng = np.random.default_rng(seed)
    prices = np.round(rng.uniform(25.0, 80.0, max(1, n_prices)), 1)
    models = [None, "Antminer S19j Pro", "Antminer S19 XP", "Antminer S21", "Antminer S21 XP"]
    halls = [None, "rack_mount_halls", "containers", "greenfield", "mixed"]
    out = []
    for i in range(n):
        gross = float(np.round(rng.uniform(20.0, 1000.0), 1))
        energized = None if rng.random() < 0.1 else float(np.round(gross * rng.uniform(0.0, 1.0), 1))
        out.append(Site.create(
            site_id=f"B{i:05d}", name=f"Bench {i}", power_capacity_mw=gross, energized_mw=energized,
            power_price_usd_per_mwh=float(rng.choice(prices)), admin1="TX" if rng.random() < 0.5 else "ND",
            country="US", asic_model=models[int(rng.integers(len(models)))],
            hall_type=halls[int(rng.integers(len(halls)))], interconnection_status="energized" if energized else
            "in_queue", status="operating"))
    return out


def clear_caches() -> None:
    from planner.model import economics, hybrid, outlook

    for fn in (economics._hourly_prices, hybrid._ai_shape, hybrid._sorted_prices, outlook._build):
        fn.cache_clear()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--prices", type=int, default=40, help="distinct power prices in the portfolio")
    args = ap.parse_args(argv)

    from planner.model.assumptions import default_assumptions
    from planner.model.economics import portfolio_paths, site_paths

    a = default_assumptions()
    sites = make_sites(args.sites, args.seed, args.prices)
    site_paths(sites[0], a)  # imports and first-call costs out of both timings

    t0, c0 = time.perf_counter(), time.process_time()
    loop = {}
    for s in sites:
        clear_caches()
        loop[s.site_id] = site_paths(s, a)
    t_loop, c_loop = time.perf_counter() - t0, time.process_time() - c0

    clear_caches()
    t0, c0 = time.perf_counter(), time.process_time()
    batch = portfolio_paths(sites, a)
    t_batch, c_batch = time.perf_counter() - t0, time.process_time() - c0

    worst = 0.0
    for sid, c in loop.items():
        for name, p in c.all_paths.items():
            worst = max(worst, abs(p.npv_usd - batch[sid].all_paths[name].npv_usd))
    if worst > 1.0:
        print(f"MISMATCH: batch and loop NPVs differ by up to ${worst:,.2f}")
        return 1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{args.sites} sites, {args.prices} distinct power prices, horizon {a.horizon_years} yr, "
          f"load average {load:.1f} on {os.cpu_count()} cores")
    print("  (wall time; CPU time of this process in brackets: on a shared machine the CPU time is what an")
    print("  unloaded run would take)")
    print(f"  per-site loop (cold caches per site): {t_loop:7.2f} s [{c_loop:6.2f} s CPU]  "
          f"({1000 * t_loop / args.sites:.2f} ms/site)")
    print(f"  portfolio batch:                      {t_batch:7.2f} s [{c_batch:6.2f} s CPU]  "
          f"({1000 * t_batch / args.sites:.2f} ms/site)")
    print(f"  speed-up {t_loop / t_batch:.1f}x; NPVs agree within ${worst:.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
