"""``planner import FILE --into PROJECT.gpkg --kind KIND``: add a layer or sites to a project.

Sites follow one import policy (:mod:`planner.gis.import_policy`, shared with the app):
``--on-duplicate merge`` (default) updates an existing site field by field with the file's
*known* values (an empty cell never erases what the project knows; computed fields are not
touched); ``rename`` adds it under a new ID; ``reject`` leaves it out. Invalid rows are left
out and listed by row number with the reason while the good rows import; ``--strict`` makes
it all or nothing. A file without a site_id column gets IDs made from the names.

Map layers are added under ``--name`` (default: the file name); an existing layer of that
name is replaced in place.

The project is read, changed and saved while holding its lock: a second import waits for the
first (``--wait``), a project open in the app is refused with one line naming who has it.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from planner.gis.import_policy import POLICIES, apply_site_import, plan_site_import
from planner.gis.io import SiteImportError, import_sites, read_layer
from planner.gis.kinds import IMPORT_KINDS
from planner.gis.lock import write_lock
from planner.gis.project import (MapLayer, Project, ProjectError, check_save_target, default_style, new_project,
                                 open_project, safe_layer_name, save_project)
from planner.model.site import Site



def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``import``."""
    p = subparsers.add_parser("import", help="import sites or a map layer into a project",
                              description=__doc__.splitlines()[0])
    p.add_argument("file", type=Path, help="GIS file: GeoJSON, Shapefile (.shp/.zip), GeoPackage, CSV, KML, "
                                           ".gdb folder, FlatGeobuf")
    p.add_argument("--into", type=Path, required=True, metavar="PROJECT.gpkg",
                   help="project to import into (created when missing)")
    p.add_argument("--kind", choices=IMPORT_KINDS, required=True, help="what the file holds")
    p.add_argument("--layer", help="layer inside the file when it holds several")
    p.add_argument("--crs", help="CRS of the coordinates when the file has none, e.g. EPSG:32614")
    p.add_argument("--name", help="layer name in the project (sites: the portfolio name)")
    p.add_argument("--strict", action="store_true",
                   help="sites: all or nothing (any invalid row refuses the whole file)")
    p.add_argument("--on-duplicate", choices=POLICIES, default="merge",
                   help="sites whose site_id is already in the project: merge their known values (default), "
                        "add them under a new ID, or reject them")
    p.add_argument("--wait", type=float, default=120.0, metavar="SECONDS",
                   help="how long to wait while another import holds the project (default 120)")


def merge_sites(project: Project, sites: list[Site]) -> tuple[int, int, int]:
    """Merge by site_id (see module doc); returns (added, updated, unchanged). All-or-nothing."""
    plan = plan_site_import({s.site_id: s for s in project.portfolio}, sites, "merge")
    if plan.rejected:
        sid, why = plan.rejected[0]
        raise ProjectError(f"{project.path.name if project.path else 'project'}: {sid}: {why}; "
                           "fix the file or the project site")
    apply_site_import(project.portfolio, plan)
    return len(plan.additions), len(plan.updates), plan.unchanged


def run(args: argparse.Namespace) -> int:
    """Import, print the report, save while holding the project's lock."""
    target = Path(args.into)
    check_save_target(target)
    with write_lock(target, program="planner import", wait_s=args.wait, purpose="import into it"):
        return _import(args, target)


def _import(args: argparse.Namespace, target: Path) -> int:
    if target.exists():
        project = open_project(target)
        created = False
    else:
        project = new_project(name=target.stem)
        project.path = target
        created = True
    if args.kind == "sites":
        try:
            sites, report = import_sites(args.file, layer=args.layer, crs=args.crs, strict=args.strict)
        except SiteImportError as e:
            for line in e.errors:
                print(f"  {line}", file=sys.stderr)
            raise
        plan = plan_site_import({s.site_id: s for s in project.portfolio}, sites, args.on_duplicate)
        if sites and not plan.additions and not plan.updates and plan.rejected and not plan.unchanged:
            sid, why = plan.rejected[0]
            raise ProjectError(f"{Path(args.file).name}: nothing imported; {sid}: {why}")
        apply_site_import(project.portfolio, plan)
        if args.name:
            project.portfolio.name = args.name
        print(report.summary())
        print(plan.summary())
        for row, why in report.dropped:
            print(f"  not imported: row {row}: {why}", file=sys.stderr)
        for sid, why in plan.rejected:
            print(f"  not imported: {sid}: {why}", file=sys.stderr)
    else:
        gdf, report = read_layer(args.file, layer=args.layer, crs=args.crs, kind=args.kind)
        base = args.name or (args.layer or Path(args.file).stem)
        name = safe_layer_name(base, taken=[n for n in project.layers if n != safe_layer_name(base)])
        replaced = name in project.layers
        project.add_layer(MapLayer(name=name, kind=args.kind, title=args.name or base, gdf=gdf,
                                   source=Path(args.file).name, style=default_style(args.kind)), replace=replaced)
        print(report.summary())
        print(f"Layer {name!r} ({args.kind}): {'replaced' if replaced else 'added'}, {len(gdf)} features.")
    saved = save_project(project, target)
    print(f"{'Created' if created else 'Saved'} {saved}")
    return 0
