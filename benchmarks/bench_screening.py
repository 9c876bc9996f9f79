"""Benchmark: national screening, 100,000 line segments x ~1,000,000 cells, local vs dask vs baselines.

Run on demand (not part of the tests)::

    python benchmarks/bench_screening.py [--cells 1000000] [--segments 100000] [--seed 7]
                                         [--modes local,dask,dask1,dask2,sjoin,exact] [--texas] [--conus]
                                         [--repeat N]

Synthetic national case over the CONUS box (lon -124.5..-67, lat 25..49): the 100,000 seeded
line segments of ``bench_proximity.synthetic`` (69-765 kV), 5,000 substations, 3,000 fibre
links, 2,000 PoPs, 3 stranded-energy polygons and 5,000 flares; the region is the CONUS box and
the cell size is chosen to give ``--cells`` cells. Each mode runs in its own child process so
its peak memory (max RSS) is its own:

- ``local``: :func:`planner.gis.screening.screen` with ``engine="local"`` (``cells="pool"``, as
  the CLI);
- ``dask``: the same with ``engine="dask"`` on the default LocalCluster (in-process, 2 threads);
- ``daskN`` (``dask1``, ``dask2``, ...): the same on a LocalCluster of N worker processes
  (``workers=N``); the table adds each worker's peak memory and the CPU seconds of the bands
  each process ran (the work it did, independent of the machine's load);
- ``sjoin``: the usual geopandas recipe, measured in the same run: the same cell centres in
  EPSG:5070, ``sjoin_nearest`` to each of the 5 line classes, substations, fibre and PoPs
  (distances only, no stranded/flares, no scoring, no exclusions); above 20,000 cells it is
  timed on a random 20,000-cell sample and extrapolated linearly;
- ``exact``: ``compute_proximity`` (exact geodesic) on a 5,000-cell sample, extrapolated to all
  cells: the cost of scoring every cell exactly, which the two-stage screen avoids.

``--texas`` also times the bundled sample project, Texas at 2 km cells; ``--conus`` the bundled
sample over CONUS at 1 km (what ``planner screen P --region CONUS --cell-km 1`` runs), locally and
on 1 and 2 dask worker processes. ``--repeat N`` runs the modes N times, alternating.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # this checkout's planner, not the installed one
from bench_proximity import CONUS_LAT, CONUS_LON, synthetic  # noqa: E402

from planner.gis.project import MapLayer  # noqa: E402
from planner.model.portfolio import Portfolio  # noqa: E402


SJOIN_SAMPLE = 20_000
SAMPLE_MODES = ("texas", "conus1", "conus1-dask1", "conus1-dask2")


def _points(rng: np.random.Generator, n: int) -> np.ndarray:
    return shapely.points(rng.uniform(*CONUS_LON, n), rng.uniform(*CONUS_LAT, n))


def national_project(segments: int, seed: int) -> SimpleNamespace:
    """A project-like object with seeded synthetic national layers (EPSG:4326)."""
    rng = np.random.default_rng(seed + 1)
    _, lines = synthetic(1, segments, seed)
    subs = gpd.GeoDataFrame({"name": [f"Sub{i}" for i in range(5000)],
                             "voltage_kv": rng.choice([138.0, 230.0, 345.0, 500.0], 5000)},
                            geometry=_points(rng, 5000), crs=4326)
    a, b = _points(rng, 3000), _points(rng, 3000)
    fibre = gpd.GeoDataFrame({"network": rng.choice(["Level3", "Zayo", "Lumen"], 3000)},
                             geometry=shapely.linestrings(np.stack([shapely.get_coordinates(a),
                                                                    shapely.get_coordinates(b)], axis=1)), crs=4326)
    pops = gpd.GeoDataFrame({"node": [f"PoP{i}" for i in range(2000)]}, geometry=_points(rng, 2000), crs=4326)
    stranded = gpd.GeoDataFrame({"region": ["Basin A", "Basin B", "Wind zone C"]},
                                geometry=[shapely.box(-104, 31, -101, 33.5), shapely.box(-104.5, 46.5, -102, 48.5),
                                          shapely.box(-102, 33.5, -99.5, 36.5)], crs=4326)
    flares = gpd.GeoDataFrame({"flr_volume_bcm": rng.exponential(0.003, 5000)},
                              geometry=shapely.points(rng.uniform(-104, -101, 5000), rng.uniform(31, 33.5, 5000)),
                              crs=4326)
    layers = {}
    for name, kind, gdf in (("transmission", "transmission", lines), ("substations", "substations", subs),
                            ("fibre", "fibre", fibre), ("pops", "pops", pops), ("stranded", "stranded", stranded),
                            ("flares", "flares", flares)):
        layers[name] = MapLayer(name=name, kind=kind, title=name, gdf=gdf)
    return SimpleNamespace(portfolio=Portfolio(), layers=layers)


def cell_km_for(cells: int) -> float:
    """Cell size giving about ``cells`` cells over the CONUS box."""
    area = shapely.area(gpd.GeoSeries([shapely.box(CONUS_LON[0], CONUS_LAT[0], CONUS_LON[1], CONUS_LAT[1])],
                                      crs=4326).to_crs(5070).iloc[0]) / 1e6
    return round(math.sqrt(area / cells), 3)


def _workers(mode: str) -> int | None:
    """``daskN`` -> N worker processes (None for other modes)."""
    return int(mode[4:]) if mode.startswith("dask") and mode[4:].isdigit() else None


def run_mode(mode: str, cells: int, segments: int, seed: int) -> dict[str, object]:
    """Run one mode in this process; returns seconds, cells and max RSS."""
    from planner.gis.screening import screen

    project = national_project(segments, seed)
    box = (CONUS_LON[0], CONUS_LAT[0], CONUS_LON[1], CONUS_LAT[1])
    cell_km = cell_km_for(cells)
    out: dict[str, object] = {"mode": mode, "cell_km": cell_km}
    t = time.perf_counter()
    if mode in ("local", "dask") or _workers(mode):
        kw = {"engine": "dask", "workers": _workers(mode)} if _workers(mode) else {"engine": mode}
        res = screen(project, box, cell_km, top=50, cells="pool", **kw)
        out.update(n_cells=res.n_cells, n_refined=res.n_refined, timing=res.timing_s,
                   workers_mb=res.worker_memory_mb, band_cpu_s=getattr(res, "worker_cpu_s", {}),
                   bands=getattr(res, "worker_bands", {}),
                   top=[(c.cell_id, c.score) for c in res.top], top1=res.top[0].reason if res.top else None)
    elif mode == "sjoin":
        from planner.gis.screening import StrandedRules, _bands, _prepare, _raster_band, resolve_region, \
            screening_weights
        plan, _ = _prepare(project, resolve_region(project, box), cell_km, [], screening_weights(None),
                           StrandedRules())
        cells = [_raster_band(plan, b) for b in _bands(plan, None)]
        gx = np.concatenate([b.gx for b in cells])
        gy = np.concatenate([b.gy for b in cells])
        n_all = len(gx)
        rng = np.random.default_rng(seed)
        pick = rng.choice(n_all, min(n_all, SJOIN_SAMPLE), replace=False)  # ~20x slower: time a sample
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy((gx[pick] + 0.5) * plan.cell_m,
                                                           (gy[pick] + 0.5) * plan.cell_m), crs=5070)
        t = time.perf_counter()  # the grid above is the screen's; time only the baseline itself
        lines = project.layers["transmission"].gdf.to_crs(5070)
        for kv in (69, 138, 230, 345, 500):
            gpd.sjoin_nearest(pts, lines[lines["voltage_kv"] >= kv][["geometry"]], distance_col="d")
        for name in ("substations", "fibre", "pops"):
            gpd.sjoin_nearest(pts, project.layers[name].gdf.to_crs(5070)[["geometry"]], distance_col="d")
        per_cell = (time.perf_counter() - t) / len(pts)
        out.update(n_cells=n_all, sample=len(pts), per_cell_ms=per_cell * 1e3, extrapolated_s=per_cell * n_all)
    elif mode == "exact":
        from planner.gis.proximity import compute_proximity, project_layers
        rng = np.random.default_rng(seed)
        sample = 5000
        pts = gpd.GeoDataFrame({"site_id": [f"C{i}" for i in range(sample)]},
                               geometry=_points(rng, sample), crs=4326)
        compute_proximity(pts, project_layers(project))
        per_cell = (time.perf_counter() - t) / sample
        out.update(sample=sample, per_cell_ms=per_cell * 1e3, extrapolated_s=per_cell * cells)
    out["seconds"] = time.perf_counter() - t
    out["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def run_sample(mode: str) -> dict[str, object]:
    """The bundled sample project: ``texas`` (Texas at 2 km) or ``conus1`` / ``conus1-daskN`` (CONUS at 1 km)."""
    from planner.assets import sample_project
    from planner.gis.project import open_project
    from planner.gis.screening import screen

    project = open_project(sample_project())
    t = time.perf_counter()
    if mode == "texas":
        res = screen(project, "TX", 2.0, top=50)
    else:   # what `planner screen P --region CONUS --cell-km 1` runs
        n = _workers(mode.removeprefix("conus1-"))
        kw = {"engine": "dask", "workers": n} if n else {}
        res = screen(project, "CONUS", 1.0, top=50, cells="pool", **kw)
    return {"mode": mode, "seconds": time.perf_counter() - t, "n_cells": res.n_cells,
            "n_refined": res.n_refined, "timing": res.timing_s, "workers_mb": res.worker_memory_mb,
            "band_cpu_s": getattr(res, "worker_cpu_s", {}), "bands": getattr(res, "worker_bands", {}), "top": [(c.cell_id, c.score) for c in res.top],
            "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cells", type=int, default=1_000_000)
    p.add_argument("--segments", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--modes", default="local,dask,dask2,sjoin,exact")
    p.add_argument("--texas", action="store_true", help="also time Texas at 2 km on the bundled sample")
    p.add_argument("--conus", action="store_true",
                   help="also time the bundled sample over CONUS at 1 km (local, and dask with 2 worker processes)")
    p.add_argument("--repeat", type=int, default=1, help="run the modes this many times, alternating")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        result = (run_sample(args.child) if args.child in SAMPLE_MODES
                  else run_mode(args.child, args.cells, args.segments, args.seed))
        print("RESULT " + json.dumps(result))
        return 0
    modes = ([m for m in args.modes.split(",") if m] + (["texas"] if args.texas else [])
             + (["conus1", "conus1-dask1", "conus1-dask2"] if args.conus else [])) * args.repeat
    print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")
    rows = []
    for mode in modes:
        cmd = [sys.executable, __file__, "--child", mode, "--cells", str(args.cells),
               "--segments", str(args.segments), "--seed", str(args.seed)]
        load = os.getloadavg()[0]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
        if proc.returncode or not line:
            print(f"{mode}: failed\n{proc.stderr[-2000:]}")
            continue
        r = json.loads(line[0][7:])
        r["load_before"] = load
        rows.append(r)
        print(json.dumps(r))
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    tops = {json.dumps(r["top"]) for r in rows if "top" in r}
    if tops:
        print(f"top N identical across the screening runs: {len(tops) == 1}")
    print("\n| mode | cells | time | pre-screen (band CPU s per process) | max RSS (client; workers) | load before |"
          "\n|---|---|---|---|---|---|")
    for r in rows:
        if "extrapolated_s" in r:
            t = (f"{r['extrapolated_s']:.0f} s extrapolated ({r['sample']:,}-cell sample, "
                 f"{r['per_cell_ms']:.3f} ms/cell)")
        else:
            t = f"{r['seconds']:.1f} s"
        n = r.get("n_cells") or args.cells
        workers = "; ".join(f"{mb:.0f}" for mb in (r.get("workers_mb") or {}).values())
        mem = f"{r['max_rss_mb']:.0f} MB" + (f" ({workers} MB)" if workers and len(r["workers_mb"]) > 1 else "")
        cpu = r.get("band_cpu_s") or {}
        pre = (f"{r['timing']['prescreen']:.1f} s ({' + '.join(f'{v:.1f}' for v in cpu.values())}, "
               f"{sum((r.get('bands') or {}).values())} bands)" if cpu else "")
        print(f"| {r['mode']} | {n:,} | {t} | {pre} | {mem} | {r['load_before']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
