"""Benchmark: proximity to transmission lines for 10,000 sites x 100,000 line segments over CONUS.

Run on demand (not part of the tests)::

    python benchmarks/bench_proximity.py [--sites 10000] [--segments 100000] [--seed 7] [--repeat 3]

Times :func:`planner.gis.proximity.compute_proximity` for the five line classes (geodesic, exact
within the documented tolerance) and, in the same run on the same data, the planar baseline
``geopandas.sjoin_nearest`` in EPSG:5070 (CONUS Albers) once per class. Prints both times, the
ratio, the largest geodesic-vs-Albers difference, and memory: the tracemalloc peak of one
``compute_proximity`` call (measured in a separate, untimed call because tracing slows Python)
and the process max RSS.
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from planner.gis.proximity import ProximityConfig, compute_proximity, line_class_fields
from planner.model.fields import VOLTAGE_CLASSES_KV

CONUS_LON = (-124.5, -67.0)
CONUS_LAT = (25.0, 49.0)
KV_CHOICES = np.array([69, 115, 138, 230, 345, 500, 765], dtype=float)
KV_WEIGHTS = np.array([0.20, 0.15, 0.25, 0.15, 0.15, 0.08, 0.02])


def synthetic(n_sites: int, n_segments: int, seed: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Seeded random sites and 2-vertex line segments (0.5-40 km, random bearing) over the CONUS box."""
    rng = np.random.default_rng(seed)
    sites = gpd.GeoDataFrame(
        {"site_id": [f"S{i:05d}" for i in range(n_sites)]},
        geometry=shapely.points(rng.uniform(*CONUS_LON, n_sites), rng.uniform(*CONUS_LAT, n_sites)),
        crs="EPSG:4326")
    lon0, lat0 = rng.uniform(*CONUS_LON, n_segments), rng.uniform(*CONUS_LAT, n_segments)
    length_km, bearing = rng.uniform(0.5, 40.0, n_segments), rng.uniform(0, 2 * np.pi, n_segments)
    lat1 = lat0 + length_km * np.cos(bearing) / 110.6
    lon1 = lon0 + length_km * np.sin(bearing) / (111.3 * np.cos(np.radians(lat0)))
    coords = np.stack([np.column_stack([lon0, lat0]), np.column_stack([lon1, lat1])], axis=1)
    lines = gpd.GeoDataFrame(
        {"voltage_kv": rng.choice(KV_CHOICES, n_segments, p=KV_WEIGHTS),
         "operator": rng.choice(["Oncor", "AEP", "PG&E", "Xcel", None], n_segments),
         "name": [f"L{i}" for i in range(n_segments)]},
        geometry=shapely.linestrings(coords), crs="EPSG:4326")
    return sites, lines


def bench_ours(sites: gpd.GeoDataFrame, lines: gpd.GeoDataFrame, repeat: int) -> tuple[float, pd.DataFrame]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = compute_proximity(sites, {"transmission": lines}, ProximityConfig())
        best = min(best, time.perf_counter() - t0)
    assert out is not None
    return best, out


def bench_sjoin(sites: gpd.GeoDataFrame, lines: gpd.GeoDataFrame, repeat: int) -> tuple[float, dict[int, np.ndarray]]:
    best, result = float("inf"), {}
    for _ in range(repeat):
        t0 = time.perf_counter()
        s5070, l5070 = sites.to_crs(5070), lines.to_crs(5070)
        res = {}
        for kv in VOLTAGE_CLASSES_KV:
            sub = l5070[l5070["voltage_kv"] >= kv]
            j = gpd.sjoin_nearest(s5070, sub[["voltage_kv", "geometry"]], how="left", distance_col="d_m")
            j = j[~j.index.duplicated()].reindex(s5070.index)  # ties give several rows per site
            res[kv] = j["d_m"].to_numpy() / 1000.0
        best = min(best, time.perf_counter() - t0)
        result = res
    return best, result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sites", type=int, default=10_000)
    p.add_argument("--segments", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--repeat", type=int, default=3, help="best of N timings")
    a = p.parse_args(argv)
    sites, lines = synthetic(a.sites, a.segments, a.seed)
    print(f"{a.sites:,} sites, {a.segments:,} line segments over CONUS (seed {a.seed}), "
          f"{len(VOLTAGE_CLASSES_KV)} voltage classes, best of {a.repeat}")

    compute_proximity(sites.iloc[:10], {"transmission": lines})  # warm imports/caches, untimed
    t_ours, ours = bench_ours(sites, lines, a.repeat)
    t_sj, sj = bench_sjoin(sites, lines, a.repeat)

    rel, near_m = [], []
    for kv in VOLTAGE_CLASSES_KV:
        g = ours[line_class_fields(kv)[0]].to_numpy(dtype=float)
        far = g >= 1.0
        rel.append(np.max(np.abs(g[far] - sj[kv][far]) / g[far]) if far.any() else 0.0)
        near_m.append(np.max(np.abs(g[~far] - sj[kv][~far])) * 1000 if (~far).any() else 0.0)
    tracemalloc.start()
    compute_proximity(sites, {"transmission": lines})
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_mb = rss / 1024 / 1024 if sys.platform == "darwin" else rss / 1024

    print(f"compute_proximity (geodesic, 5 classes): {t_ours:7.3f} s")
    print(f"sjoin_nearest EPSG:5070 (planar, 5 classes, incl. reprojection): {t_sj:7.3f} s")
    print(f"ratio ours / sjoin_nearest: {t_ours / t_sj:5.2f}")
    print(f"geodesic vs Albers planar distance: max {max(rel):.2%} where >= 1 km, "
          f"max {max(near_m):.0f} m where < 1 km (Albers scale error, not ours)")
    print(f"tracemalloc peak of one compute_proximity call: {peak / 1e6:.1f} MB; process max RSS: {rss_mb:.0f} MB")
    print(f"target < 2 s for lines: {'met' if t_ours < 2.0 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
