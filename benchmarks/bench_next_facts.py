"""readiness.next_facts per site: the trial scorer (parts a trial can change) against full scoring.

    python benchmarks/bench_next_facts.py [--rounds 5]

On the 40 sites of the bundled sample, alternates in one process the current
``readiness._next_facts`` (``_TrialScorer``: a criterion, the gates or the upgrades are rescored
only when they read the fact being tried) and the same function with every trial site scored in full
by ``readiness._score`` (the implementation before), so both see the same machine load. The memo of
``next_facts`` is bypassed (each call computes). Prints the median over rounds of the mean ms per
site of each, their ratio, the 1-minute load average before and after, and checks that both give
identical facts.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()

    from planner.assets import sample_project
    from planner.gis.project import open_project
    from planner.model import readiness as R

    portfolio = open_project(sample_project()).portfolio
    p = R._prepare(portfolio.settings, None)
    cases = [(s, R._score(s, p)) for s in portfolio]

    def full(trial, _changed):
        r = R._score(trial, p)
        return r.total, r.klass

    def run(outcome) -> tuple[float, list]:
        t0 = time.perf_counter()
        out = [R._next_facts(s, p, base, outcome) for s, base in cases]
        return (time.perf_counter() - t0) * 1000 / len(cases), out

    load0 = os.getloadavg()[0]
    fast_ms, full_ms = [], []
    for _ in range(args.rounds):
        ms, fast_out = run(None)
        fast_ms.append(ms)
        ms, full_out = run(full)
        full_ms.append(ms)
        if fast_out != full_out:
            print("MISMATCH between the trial scorer and full scoring")
            return 1
    load1 = os.getloadavg()[0]
    a, b = statistics.median(full_ms), statistics.median(fast_ms)
    print(f"sites: {len(cases)}, facts: {sum(len(f) for f in fast_out)}, rounds: {args.rounds} (alternating)")
    print(f"full scoring of every trial (before): {a:.1f} ms/site (rounds {', '.join(f'{x:.1f}' for x in full_ms)})")
    print(f"trial scorer (now):                   {b:.1f} ms/site (rounds {', '.join(f'{x:.1f}' for x in fast_ms)})")
    print(f"speed-up {a / b:.1f}x; identical facts: yes")
    print(f"machine load (1 min): {load0:.2f} before, {load1:.2f} after, on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
