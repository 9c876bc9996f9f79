"""Derived economics of a site, cached per (site, assumptions).

Both keys are immutable and compare by value, so an edit that changes nothing a result depends
on costs a dictionary lookup. Views (panels, reports) ask here rather than calling the engine
directly, so a number shown twice is computed once.
"""
from __future__ import annotations

from functools import lru_cache

from planner.model.assumptions import Assumptions
from planner.model.chart_data import MiningData, mining_data
from planner.model.economics import PathComparison, site_paths
from planner.model.hybrid import HybridParams, HybridResult, simulate_hybrid
from planner.model.scenarios import TornadoBar, tornado
from planner.model.site import Site


@lru_cache(maxsize=64)
def cached_paths(site: Site, assumptions: Assumptions) -> PathComparison:
    """:func:`planner.model.economics.site_paths`, cached per (site, assumptions)."""
    return site_paths(site, assumptions)


def cached_hybrid(site: Site, assumptions: Assumptions) -> HybridResult:
    """One simulated hybrid year for the site (vectorised, 8,760 h), cached per model inputs.

    Keyed by the :class:`HybridParams` the site and assumptions give, so an edit that does not
    change them (e.g. energized MW) returns the very same result object and the charts skip it.
    """
    return _simulate(HybridParams.from_site(site, assumptions), int(assumptions.price_series_seed))


@lru_cache(maxsize=64)
def _simulate(params: HybridParams, seed: int) -> HybridResult:
    return simulate_hybrid(params, seed=seed)


@lru_cache(maxsize=64)
def cached_mining(site: Site, assumptions: Assumptions) -> MiningData:
    """:func:`planner.model.chart_data.mining_data`, cached per (site, assumptions)."""
    return mining_data(site, assumptions)


@lru_cache(maxsize=32)
def cached_tornado(site: Site, assumptions: Assumptions) -> dict[str, list[TornadoBar]]:
    """:func:`planner.model.scenarios.tornado` (about 30 path comparisons), cached per (site, assumptions)."""
    return tornado(site, assumptions)


def clear_caches() -> None:
    """Drop every cached result (benchmarks measure cold recomputes with this)."""
    for f in (cached_paths, cached_mining, _simulate, cached_tornado):
        f.cache_clear()
