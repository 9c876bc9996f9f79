"""``planner export-map PROJECT.gpkg --out map.html``: the interactive map as one offline HTML file."""
from __future__ import annotations

import argparse
import os
from typing import Any

from planner.cmd.report import check_out, load_project

HELP = "write the interactive map (all layers, legend, popups) as one self-contained HTML file"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``export-map``."""
    p = subparsers.add_parser("export-map", help=HELP, description=HELP)
    p.add_argument("project", help="project GeoPackage (.gpkg)")
    p.add_argument("--out", required=True, help="HTML file to write")
    p.add_argument("--no-proximity", action="store_true", help="do not compute missing distances first")
    return p


def run(args: argparse.Namespace) -> int:
    """Build the map page (no Qt needed) and print the file written."""
    out = check_out(args.out, (".html", ".htm"), "HTML")
    project = load_project(args.project, proximity=not args.no_proximity)
    from planner.reports.snapshot import export_map_html

    path = export_map_html(project, out)
    print(f"wrote {path} ({os.path.getsize(path):,} bytes; opens offline in any browser)")
    return 0
