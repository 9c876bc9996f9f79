"""Time planner.webmap.build_map on the sample project and on a synthetic 100,000-segment grid.

Run: ``python benchmarks/bench_webmap.py`` (prints seconds and HTML size; no Qt needed).
"""
from __future__ import annotations

import time
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import shapely

from planner.model.portfolio import Portfolio
from planner.webmap import MapOptions, build_map


def synthetic_grid(n_chains: int = 1000, segments_per_chain: int = 100, seed: int = 7) -> gpd.GeoDataFrame:
    """``n_chains * segments_per_chain`` two-vertex segments forming random-walk lines over CONUS."""
    rng = np.random.default_rng(seed)
    starts = np.c_[rng.uniform(-120, -75, n_chains), rng.uniform(28, 48, n_chains)]
    walk = starts[:, None, :] + np.cumsum(rng.normal(0, 0.02, (n_chains, segments_per_chain, 2)), axis=1)
    chains = np.concatenate([starts[:, None, :], walk], axis=1)
    a, b = chains[:, :-1].reshape(-1, 2), chains[:, 1:].reshape(-1, 2)
    kv = np.repeat(rng.choice([138.0, 230.0, 345.0, 500.0], n_chains), segments_per_chain)
    return gpd.GeoDataFrame({"voltage_kv": kv}, geometry=shapely.linestrings(np.stack([a, b], axis=1)), crs=4326)


def _time(label: str, project: object, options: MapOptions = MapOptions(), repeat: int = 3) -> None:
    best, size = float("inf"), 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        html = build_map(project, options=options)
        best = min(best, time.perf_counter() - t0)
        size = len(html.encode("utf-8"))
    print(f"{label:<45} {best:7.2f} s  {size / 1e6:6.2f} MB")


def main() -> None:
    grid = synthetic_grid()
    layer = SimpleNamespace(name="grid", kind="transmission", title="Synthetic grid", gdf=grid, source="synthetic",
                            style={})
    project = SimpleNamespace(portfolio=Portfolio([]), layers={"grid": layer})
    _time("100,000 segments, default budget", project)
    _time("100,000 segments, 60,000-vertex budget", project, MapOptions(max_vertices_per_layer=60_000))
    try:
        from planner.assets import sample_project
        from planner.gis.project import open_project
        _time("sample_portfolio.gpkg", open_project(sample_project()))
    except Exception as e:  # noqa: BLE001 - the sample is optional for this benchmark
        print(f"sample project skipped: {e}")


if __name__ == "__main__":
    main()
