"""``planner info FILE``: what a GIS file or project holds (layers, kinds, geometry, CRS, counts)."""
from __future__ import annotations

import argparse
from pathlib import Path

import pyogrio

from planner.gis.crs import describe_crs
from planner.gis.io import LayerImportError, _gdal_source, layer_types, MAX_ZIP_UNCOMPRESSED_BYTES, read_layer
from planner.gis.project import METADATA_TABLE, SITES_TABLE, open_project


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``info``."""
    p = subparsers.add_parser("info", help="describe a GIS file or a project (.gpkg)",
                              description="List the layers of a GIS file or project with kind, geometry type, "
                                          "CRS and feature counts.")
    p.add_argument("file", type=Path, help="GeoPackage project or any readable GIS file")


def _is_project(path: Path, layers: list[tuple[str, str | None]]) -> bool:
    names = {n for n, _ in layers}
    return path.suffix.lower() == ".gpkg" and (METADATA_TABLE in names or SITES_TABLE in names)


def describe(path: Path) -> list[str]:
    """Lines describing ``path``; raises a PlannerError for unreadable files."""
    layers = layer_types(path)
    if _is_project(path, layers):
        project = open_project(path)
        sites = list(project.portfolio)
        located = sum(1 for s in sites if s.has_location)
        lines = [f"{path.name}: project {project.portfolio.name!r}",
                 f"  sites: {len(sites)} ({located} with a location, {len(sites) - located} without)"]
        for lyr in project.layers.values():
            types = sorted(set(lyr.gdf.geom_type.dropna()))
            lines.append(f"  layer {lyr.name}: kind {lyr.kind}, {'/'.join(types) or 'empty'}, "
                         f"EPSG:4326, {len(lyr.gdf)} features - {lyr.title}")
        lines += [f"  warning: {w}" for w in project.warnings]
        problems = project.open_problems()
        if problems:
            lines.append(f"  problems: {len(problems)} (the project opens; fix them in the planner or in QGIS)")
            lines += [f"    {pr.describe()}" for pr in problems]
        lines += [f"  kept, not ours: {k}" for k in project.kept]
        return lines
    if path.suffix.lower() in (".csv", ".txt", ".tsv"):
        gdf, report = read_layer(path)
        return [f"{path.name}: CSV points from lon/lat columns, EPSG:4326, {report.rows_read} rows "
                f"({report.rows_imported} with valid coordinates), columns: "
                + ", ".join(c for c in gdf.columns if c != "geometry")]
    src, _ = _gdal_source(path, None, MAX_ZIP_UNCOMPRESSED_BYTES)
    lines = [f"{path.name}: {len(layers)} layer{'s' if len(layers) != 1 else ''}"]
    for name, gtype in layers:
        try:
            info = pyogrio.read_info(src, layer=name)
        except Exception as e:
            raise LayerImportError(f"{path.name}: cannot read layer {name!r} ({str(e).splitlines()[0]})") from None
        crs = describe_crs(info.get("crs")) if info.get("crs") else "no CRS"
        lines.append(f"  layer {name}: {gtype or 'table'}, {crs}, {info.get('features')} features, "
                     f"fields: {', '.join(map(str, info.get('fields', [])))}")
    return lines


def run(args: argparse.Namespace) -> int:
    """Print the description; errors propagate to the CLI as one line."""
    for line in describe(Path(args.file)):
        print(line)
    return 0
