"""``planner export PROJECT.gpkg --format {csv,geojson,gpkg} --out FILE``: sites with computed fields and scores."""
from __future__ import annotations

import argparse
from typing import Any

from planner.cmd.report import check_out, load_project

HELP = "export the sites with computed fields, readiness and economics to CSV, GeoJSON or GeoPackage"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``export``."""
    p = subparsers.add_parser("export", help=HELP, description=HELP)
    p.add_argument("project", help="project GeoPackage (.gpkg)")
    p.add_argument("--format", type=str.lower, choices=("csv", "geojson", "gpkg"),
                   help="output format (default: from the --out suffix)")
    p.add_argument("--out", required=True, help="file to write")
    p.add_argument("--no-economics", action="store_true", help="leave out the path NPV/IRR columns (faster)")
    p.add_argument("--no-proximity", action="store_true", help="do not compute missing distances first")
    return p


def run(args: argparse.Namespace) -> int:
    """Write the table and print the file written."""
    from planner.reports.export import FORMATS, check_format, export_sites

    fmt = check_format(args.format, args.out)
    suffixes = (FORMATS[fmt][0], ".json") if fmt == "geojson" else (FORMATS[fmt][0],)
    out = check_out(args.out, suffixes, fmt.upper() if fmt != "geojson" else "GeoJSON")
    project = load_project(args.project, proximity=not args.no_proximity)
    path = export_sites(project, out, fmt, economics=not args.no_economics)
    print(f"wrote {path} ({len(project.portfolio)} sites, {fmt})")
    return 0
