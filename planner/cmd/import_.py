"""``planner import FILE --into PROJECT.gpkg --kind KIND``: add a layer or sites to a project.

Sites merge by ``site_id``: new IDs are appended; existing sites are updated field by
field with the file's *known* values (an empty cell never erases what the project
knows; computed proximity fields are not touched). Any invalid row aborts the whole
import and the project is left unchanged. Map layers are added under ``--name``
(default: the file name); an existing layer of that name is replaced in place.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from planner.gis.io import SiteImportError, import_sites, read_layer
from planner.gis.project import (MapLayer, Project, ProjectError, default_style, new_project,
                                 open_project, safe_layer_name, save_project)
from planner.model.fields import COMPUTED_FIELDS
from planner.model.site import Site, SiteError

IMPORT_KINDS = ("sites", "transmission", "substations", "fibre", "pops", "stranded", "basins", "flares", "other")


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


def merge_sites(project: Project, sites: list[Site]) -> tuple[int, int, int]:
    """Merge by site_id (see module doc); returns (added, updated, unchanged). All-or-nothing."""
    portfolio = project.portfolio
    updates: list[Site] = []
    additions: list[Site] = []
    unchanged = 0
    for s in sites:
        if s.site_id in portfolio:
            old = portfolio.get(s.site_id)
            changes = {k: v for k, v in s.to_dict().items()
                       if v is not None and k not in COMPUTED_FIELDS and old.get(k) != v}
            if not changes:
                unchanged += 1
                continue
            try:
                updates.append(old.replace(**changes))
            except SiteError as e:
                raise ProjectError(f"{project.path.name if project.path else 'project'}: merging {s.site_id} "
                                   f"would make it invalid ({e}); fix the file or the project site") from None
        else:
            additions.append(s)
    if updates:
        portfolio.replace_sites(updates)
    for s in additions:
        portfolio.add_site(s)
    return len(additions), len(updates), unchanged


def run(args: argparse.Namespace) -> int:
    """Import, print the report, save atomically."""
    target = Path(args.into)
    if target.suffix.lower() != ".gpkg":
        raise ProjectError(f"{target.name}: projects are GeoPackages; use a name ending in .gpkg")
    if target.exists():
        project = open_project(target)
        created = False
    else:
        project = new_project(name=target.stem)
        project.path = target
        created = True
    if args.kind == "sites":
        try:
            sites, report = import_sites(args.file, layer=args.layer, crs=args.crs)
        except SiteImportError as e:
            for line in e.errors:
                print(f"  {line}", file=sys.stderr)
            raise
        added, updated, unchanged = merge_sites(project, sites)
        if args.name:
            project.portfolio.name = args.name
        print(report.summary())
        print(f"Sites: {added} added, {updated} updated, {unchanged} unchanged.")
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
