"""``planner info FILE``: what a GIS file or project holds (layers, kinds, geometry, CRS, counts)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import pyogrio

from planner.gis.crs import describe_crs
from planner.gis.io import LayerImportError, _gdal_source, layer_types, MAX_ZIP_UNCOMPRESSED_BYTES, read_layer
from planner.gis.project import METADATA_TABLE, SITES_TABLE, open_project


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``info``."""
    p = subparsers.add_parser("info", help="describe a GIS file or a project (.gpkg)",
                              description="List the layers of a GIS file or project with kind, geometry type, "
                                          "CRS and feature counts.")
    p.add_argument("file", type=Path, help="GeoPackage project or any readable GIS file")
    p.add_argument("--json", action="store_true", help="print the description as JSON")
    return p


def _is_project(path: Path, layers: list[tuple[str, str | None]]) -> bool:
    names = {n for n, _ in layers}
    return path.suffix.lower() == ".gpkg" and (METADATA_TABLE in names or SITES_TABLE in names)


def inspect(path: Path) -> dict[str, Any]:
    """What ``path`` holds as plain data (the ``--json`` output); raises a PlannerError for unreadable files."""
    layers = layer_types(path)
    if _is_project(path, layers):
        project = open_project(path)
        sites = list(project.portfolio)
        return {"file": path.name, "kind": "project", "name": project.portfolio.name, "sites": len(sites),
                "sites_located": sum(1 for s in sites if s.has_location),
                "layers": [{"name": lyr.name, "kind": lyr.kind, "geometry": sorted(set(lyr.gdf.geom_type.dropna())),
                            "crs": "EPSG:4326", "features": len(lyr.gdf), "title": lyr.title}
                           for lyr in project.layers.values()],
                "warnings": list(project.warnings),
                "problems": [{"row": pr.row, "site_id": pr.site_id, "field": pr.field, "value": repr(pr.value),
                              "rule": pr.rule, "fix": pr.fix, "text": pr.describe()} for pr in project.open_problems()],
                "kept_not_ours": list(project.kept)}
    if path.suffix.lower() in (".csv", ".txt", ".tsv"):
        gdf, report = read_layer(path)
        return {"file": path.name, "kind": "csv", "crs": "EPSG:4326", "rows": report.rows_read,
                "rows_with_coordinates": report.rows_imported,
                "columns": [c for c in gdf.columns if c != "geometry"]}
    src, _ = _gdal_source(path, None, MAX_ZIP_UNCOMPRESSED_BYTES)
    out: list[dict[str, Any]] = []
    for name, gtype in layers:
        try:
            info = pyogrio.read_info(src, layer=name)
        except Exception as e:
            raise LayerImportError(f"{path.name}: cannot read layer {name!r} ({str(e).splitlines()[0]})") from None
        out.append({"name": name, "geometry": gtype, "crs": describe_crs(info.get("crs")) if info.get("crs")
                    else "no CRS", "features": int(info.get("features") or 0),
                    "fields": [str(f) for f in info.get("fields", [])]})
    return {"file": path.name, "kind": "gis", "layers": out}


def describe(path: Path) -> list[str]:
    """Lines describing ``path``; raises a PlannerError for unreadable files."""
    d = inspect(path)
    if d["kind"] == "project":
        lines = [f"{d['file']}: project {d['name']!r}",
                 f"  sites: {d['sites']} ({d['sites_located']} with a location, "
                 f"{d['sites'] - d['sites_located']} without)"]
        for lyr in d["layers"]:
            lines.append(f"  layer {lyr['name']}: kind {lyr['kind']}, {'/'.join(lyr['geometry']) or 'empty'}, "
                         f"{lyr['crs']}, {lyr['features']} features - {lyr['title']}")
        lines += [f"  warning: {w}" for w in d["warnings"]]
        if d["problems"]:
            lines.append(f"  problems: {len(d['problems'])} (the project opens; fix them in the planner or in QGIS)")
            lines += [f"    {pr['text']}" for pr in d["problems"]]
        return lines + [f"  kept, not ours: {k}" for k in d["kept_not_ours"]]
    if d["kind"] == "csv":
        return [f"{d['file']}: CSV points from lon/lat columns, EPSG:4326, {d['rows']} rows "
                f"({d['rows_with_coordinates']} with valid coordinates), columns: " + ", ".join(d["columns"])]
    n = len(d["layers"])
    lines = [f"{d['file']}: {n} layer{'s' if n != 1 else ''}"]
    for lyr in d["layers"]:
        lines.append(f"  layer {lyr['name']}: {lyr['geometry'] or 'table'}, {lyr['crs']}, {lyr['features']} "
                     f"features, fields: {', '.join(lyr['fields'])}")
    return lines


def run(args: argparse.Namespace) -> int:
    """Print the description; errors propagate to the CLI as one line."""
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps(inspect(Path(args.file)), indent=2, ensure_ascii=False) + "\n")
        return 0
    for line in describe(Path(args.file)):
        print(line)
    return 0
