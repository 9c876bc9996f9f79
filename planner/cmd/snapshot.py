"""``planner snapshot PROJECT.gpkg [--site ID] --out map.png [--width W --height H --scale S]``.

PNG of the portfolio map, or of one site and its surroundings, with title, legend, scale bar
and attribution. The image is W*S x H*S pixels (W x H CSS pixels at S device pixels each).
"""
from __future__ import annotations

import argparse
from typing import Any

from planner.cmd.report import ReportCommandError, check_out, load_project

HELP = "write a PNG snapshot of the portfolio map or of one site"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``snapshot``."""
    p = subparsers.add_parser("snapshot", help=HELP, description=HELP)
    p.add_argument("project", help="project GeoPackage (.gpkg)")
    p.add_argument("--site", metavar="ID", help="centre on this site (default: the whole portfolio)")
    p.add_argument("--out", required=True, help="PNG file to write")
    p.add_argument("--width", type=int, default=1600, help="width in CSS pixels (default 1600)")
    p.add_argument("--height", type=int, default=1000, help="height in CSS pixels (default 1000)")
    p.add_argument("--scale", type=float, default=2.0, help="device pixels per CSS pixel (default 2)")
    p.add_argument("--no-proximity", action="store_true", help="do not compute missing distances first")
    return p


def run(args: argparse.Namespace) -> int:
    """Render the snapshot and print the file written."""
    if not (200 <= args.width <= 8000 and 200 <= args.height <= 8000):
        raise ReportCommandError(f"--width {args.width} --height {args.height}: each must be 200-8000 px")
    if not 0.5 <= args.scale <= 4:
        raise ReportCommandError(f"--scale {args.scale}: must be 0.5-4")
    out = check_out(args.out, (".png",), "PNG")
    project = load_project(args.project, proximity=not args.no_proximity)
    from planner.reports.content import find_site

    if args.site is not None:
        site = find_site(project.portfolio, args.site)
        if not site.has_location:
            raise ReportCommandError(f"site {args.site!r} has no location (lon/lat unknown); enter its coordinates")
    from planner.reports.render_qt import ensure_app
    from planner.reports.snapshot import snapshot_png

    ensure_app()
    path = snapshot_png(project, out, site_id=args.site, width=args.width, height=args.height, scale=args.scale)
    print(f"wrote {path} ({round(args.width * args.scale)}x{round(args.height * args.scale)} px)")
    return 0
