"""``planner screen PROJECT.gpkg --region TX --cell-km 2 --top 50``: where should the next sites go?

Lays a grid of ``--cell-km`` cells over the region, measures each against the project's grid,
fibre and stranded-energy layers, drops cells touching ``--exclude`` polygon layers and prints the
top candidates, one line each, at least ``--min-spacing-km`` apart (default max(10 km, 5 cells);
0 lists neighbouring cells of one hot spot). ``--out`` writes them (``.gpkg`` or ``.csv``); ``--engine dask``
runs on a dask cluster (a local one, ``--workers N`` processes, or ``--scheduler tcp://host:8786``).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from planner.cmd import open_project_arg
from planner.gis.screening import (
    ENGINES,
    SCREEN_CRITERIA,
    ScreeningError,
    ScreeningResult,
    check_inputs,
    check_spacing,
    screen,
)

HELP = "find candidate cells for new sites in a region (grid, fibre, stranded energy, exclusions)"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``screen`` subcommand."""
    p = subparsers.add_parser("screen", help=HELP, description=HELP)
    p.add_argument("project", help="project GeoPackage (.gpkg)")
    p.add_argument("--region", required=True,
                   help="state code (TX), CONUS, or a bbox minlon,minlat,maxlon,maxlat")
    p.add_argument("--cell-km", type=float, default=2.0, help="cell size in km (default 2)")
    p.add_argument("--top", type=int, default=50, help="number of candidates (default 50)")
    p.add_argument("--min-spacing-km", type=float, default=None, metavar="KM",
                   help="minimum distance between candidates, so they are distinct places "
                        "(default max(10, 5 x cell size); 0 = none)")
    p.add_argument("--exclude", action="append", default=[], metavar="LAYER",
                   help="project polygon layer whose cells are excluded (repeatable)")
    p.add_argument("--weight", action="append", default=[], metavar="CRITERION=W",
                   help=f"override a weight ({', '.join(SCREEN_CRITERIA)}), e.g. stranded_energy=20")
    p.add_argument("--engine", choices=ENGINES, default="local", help="local (default) or dask")
    p.add_argument("--scheduler", help="dask scheduler address, e.g. tcp://host:8786 (implies --engine dask)")
    p.add_argument("--workers", type=int, help="dask worker processes for a local cluster (implies --engine dask)")
    p.add_argument("--partitions", type=int, help="row bands the grid is split into")
    p.add_argument("--out", help="write the candidates to this .gpkg or .csv")
    p.add_argument("--json", action="store_true", help="print the run summary and the candidates as JSON")
    return p


def _weights(items: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        key, sep, value = item.partition("=")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            raise ScreeningError(f"--weight {item!r}: write CRITERION=NUMBER, e.g. stranded_energy=20") from None
        if not sep:
            raise ScreeningError(f"--weight {item!r}: write CRITERION=NUMBER, e.g. stranded_energy=20")
    return out


def _plain(value: Any) -> Any:
    """Candidate data as strict JSON: numpy scalars as numbers, NaN/inf as null, other objects as text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if isinstance(value, (int, float, str, bool)) or value is None else str(value)


def write_candidates(result: ScreeningResult, path: str | Path) -> Path:
    """Write the top candidates to a GeoPackage (layer ``candidates``) or CSV (lon/lat columns)."""
    out = Path(path)
    frame = result.top_frame()
    suffix = out.suffix.lower()
    if suffix == ".csv":
        frame.drop(columns="geometry").to_csv(out, index=False)
    elif suffix == ".gpkg":
        frame.to_file(out, layer="candidates", driver="GPKG", engine="pyogrio")
    else:
        raise ScreeningError(f"--out {out.name}: unknown format; use a .gpkg or .csv file name")
    return out


def run(args: argparse.Namespace) -> int:
    """Screen the region and print the candidates; 0 on success."""
    path = Path(args.project)
    check_inputs(args.cell_km, args.top)
    check_spacing(args.min_spacing_km, args.cell_km)
    weights = _weights(args.weight)
    project = open_project_arg(str(path))
    if args.out and Path(args.out).suffix.lower() not in (".gpkg", ".csv"):
        raise ScreeningError(f"--out {args.out}: unknown format; use a .gpkg or .csv file name")
    engine = "dask" if args.scheduler or args.workers else args.engine
    if args.scheduler and args.workers:
        raise ScreeningError("--workers starts a local cluster; with --scheduler the cluster's own workers run")
    # only the candidates are printed: the cell table stays in compact columns (national runs)
    result = screen(project, args.region, args.cell_km, top=args.top, exclusions=args.exclude,
                    weights=weights, engine=engine, scheduler=args.scheduler, workers=args.workers,
                    partitions=args.partitions, min_spacing_km=args.min_spacing_km, cells="pool")
    t = result.timing_s
    if getattr(args, "json", False):
        written = write_candidates(result, args.out) if args.out else None
        summary = {"region": result.region.label, "cell_km": result.cell_km, "grid_crs": result.grid_crs,
                   "engine": engine, "n_cells": result.n_cells, "n_excluded": result.n_excluded,
                   "n_refined": result.n_refined, "min_spacing_km": result.min_spacing_km,
                   "weights": result.weights, "timing_s": t, "worker_memory_mb": result.worker_memory_mb,
                   "notes": list(result.notes),
                   "out": None if written is None else str(written),
                   "candidates": [c.to_dict() for c in result.top]}
        sys.stdout.write(json.dumps(_plain(summary), indent=2, allow_nan=False) + "\n")
        return 0
    print(f"{result.region.label}: {result.n_cells:,} cells of {result.cell_km:g} km ({result.grid_crs}), "
          f"{result.n_excluded:,} excluded, {result.n_refined:,} refined exactly; candidates "
          + (f">= {result.min_spacing_km:g} km apart" if result.min_spacing_km > 0 else "not spaced")
          + f"; {engine} engine, {t['total']:.1f} s")
    if engine == "dask" and result.worker_memory_mb:
        print("dask workers' peak memory (max RSS): "
              + ", ".join(f"{w} {mb:,.0f} MB" for w, mb in sorted(result.worker_memory_mb.items())))
    for c in result.top:
        print(f"{c.rank:>3}. {c.cell_id:<12} {c.lat:9.4f} {c.lon:10.4f}  {c.reason}")
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.out:
        written = write_candidates(result, args.out)
        print(f"wrote {len(result.top)} candidates to {written}")
    return 0
