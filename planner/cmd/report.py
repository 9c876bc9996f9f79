"""``planner report PROJECT.gpkg (--site ID | --portfolio [--atlas]) --out FILE.pdf [--paper a4|letter]``.

Writes a PDF: one site's readiness, upgrades, economics, map and charts, or the portfolio
ranking with aggregates, map and charts (``--atlas`` adds one section per site). Headless:
uses Qt's offscreen platform when there is no display.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from planner.cmd import open_project_arg
from planner.model.fields import COMPUTED_FIELDS
from planner.model.site import PlannerError

HELP = "write a site or portfolio report as PDF (A4 or Letter)"


class ReportCommandError(PlannerError):
    """A user error in the report/snapshot/export commands (bad path, bad option)."""


def load_project(path: str, *, proximity: bool = True) -> Any:
    """Open the project at ``path``; with ``proximity``, fill missing distances in memory (never saved)."""
    project = open_project_arg(path)
    if proximity:
        from planner.gis.proximity import PROXIMITY_KINDS, apply_proximity

        todo = [s.site_id for s in project.portfolio
                if s.has_location and all(s.get(f) is None for f in COMPUTED_FIELDS)]
        if todo and any(layer.kind in PROXIMITY_KINDS for layer in project.layers.values()):
            apply_proximity(project, todo)
    return project


def check_out(out: str, suffixes: tuple[str, ...], what: str) -> Path:
    """The output path, checked for suffix and an existing folder."""
    p = Path(out)
    if p.suffix.lower() not in suffixes:
        raise ReportCommandError(f"--out {out}: a {what} file name must end in {' or '.join(suffixes)}")
    if not p.parent.resolve().is_dir():
        raise ReportCommandError(f"--out {out}: folder {p.parent} does not exist; create it first")
    if p.is_dir():
        raise ReportCommandError(f"--out {out} is a folder; give a file name")
    return p


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``report``."""
    p = subparsers.add_parser("report", help=HELP, description=HELP)
    p.add_argument("project", help="project GeoPackage (.gpkg)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--site", metavar="ID", help="report on this site")
    which.add_argument("--portfolio", action="store_true", help="report on the whole portfolio")
    p.add_argument("--atlas", action="store_true", help="with --portfolio: add one section per site")
    p.add_argument("--out", required=True, help="PDF file to write")
    p.add_argument("--paper", default="a4", type=str.lower, choices=("a4", "letter"), help="paper size (default a4)")
    p.add_argument("--no-proximity", action="store_true",
                   help="do not compute missing grid/fibre distances before reporting")
    return p


def run(args: argparse.Namespace) -> int:
    """Build the report and print the file written."""
    if args.atlas and not args.portfolio:
        raise ReportCommandError("--atlas needs --portfolio (a site report already has every site detail)")
    out = check_out(args.out, (".pdf",), "PDF")
    project = load_project(args.project, proximity=not args.no_proximity)
    from planner.reports.content import find_site

    if args.site is not None:
        find_site(project.portfolio, args.site)  # fail fast with close matches, before Qt starts
    from planner.reports.render_qt import (
        ensure_app,
        portfolio_report_pdf,
        site_report_pdf,
    )

    ensure_app()
    if args.site is not None:
        path = site_report_pdf(project, args.site, out, paper=args.paper)
    else:
        path = portfolio_report_pdf(project, out, paper=args.paper, atlas=args.atlas)
    print(f"wrote {path} ({os.path.getsize(path):,} bytes)")
    return 0
