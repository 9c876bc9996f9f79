"""``planner proximity PROJECT.gpkg [--json] [--site ID] [--save]``: distances to grid, fibre and stranded energy.

Computes the proximity fields for the project's sites from the project's own layers and
prints a table (or all computed fields as JSON). ``--save`` writes them into the project.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from planner.cmd import open_project_arg
from planner.gis.project import record_fresh, save_project
from planner.gis.proximity import (
    ProximityConfig,
    apply_proximity,
    compute_proximity,
    line_class_fields,
    project_coverage,
    project_layers,
    sites_frame,
)
from planner.model.fields import COMPUTED_FIELDS, VOLTAGE_CLASSES_KV

HELP = "distances from sites to lines, substations, fibre, PoPs, stranded regions and flares"
_HEADLINE_SLOT_KV = 345  # the slot shown in the table; DOMAIN: >= 345 kV is the AI-campus grid class


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``proximity`` subcommand."""
    p = subparsers.add_parser("proximity", help=HELP, description=HELP)
    p.add_argument("project", help="project GeoPackage (.gpkg)")
    p.add_argument("--json", action="store_true", help="print all computed fields as JSON")
    p.add_argument("--site", action="append", metavar="ID", help="only this site (repeatable)")
    p.add_argument("--save", action="store_true", help="store the computed fields in the project")
    return p


def _km(value: Any) -> str:
    return "-" if value is None else f"{value:,.1f} km"


def _text(value: Any, width: int) -> str:
    text = "-" if value is None else str(value)
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def format_table(rows: list[dict[str, Any]], config: ProximityConfig) -> str:
    """Fixed-width table of the headline proximity figures, one line per site."""
    slot = VOLTAGE_CLASSES_KV.index(_HEADLINE_SLOT_KV)
    d_col, v_col, _, _ = line_class_fields(_HEADLINE_SLOT_KV)
    kv_label = (f">={config.voltage_classes_kv[slot]:g} kV line" if slot < len(config.voltage_classes_kv)
                else ">=345 kV line")
    head = (f"{'site_id':<12} {'name':<28} {kv_label:>22} {'substation':>12} {'fibre':>11} {'PoP':>11} "
            f"{'stranded region':<26} {'flares':>16}")
    lines = [head, "-" * len(head)]
    for r in rows:
        line_kv = "" if r.get(v_col) is None else f" ({r[v_col]:g} kV)"
        flares = ("-" if r.get("flare_count") is None else
                  f"{r['flare_count']} / {r['flare_volume_bcm']:.3f} bcm" if r.get("flare_volume_bcm") is not None
                  else f"{r['flare_count']}")
        region = r.get("stranded_region")
        if region is None and r.get("dist_stranded_km") is not None:
            region = f"outside ({_km(r['dist_stranded_km'])})"
        lines.append(f"{_text(r['site_id'], 12):<12} {_text(r.get('name'), 28):<28} "
                     f"{_km(r.get(d_col)) + line_kv:>22} {_km(r.get('dist_substation_km')):>12} "
                     f"{_km(r.get('dist_fibre_km')):>11} {_km(r.get('dist_pop_km')):>11} "
                     f"{_text(region, 26):<26} {flares:>16}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Compute and print proximity for the project's sites; 0 on success. ``--save`` reads, measures and
    saves while holding the project's lock (see :mod:`planner.gis.lock`)."""
    if args.save:
        from planner.gis.lock import write_lock

        with write_lock(args.project, program="planner proximity", wait_s=120.0, purpose="save distances into it"):
            return _run(args)
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    project = open_project_arg(args.project)
    portfolio = project.portfolio
    ids = list(dict.fromkeys(args.site)) if args.site else portfolio.ids()
    sites = [portfolio.get(i) for i in ids]  # unknown id -> PortfolioError (one line)
    config = ProximityConfig.from_settings(portfolio.settings.get("proximity"))
    if args.save:
        apply_proximity(project, ids)
        record_fresh(project, ids)  # measured from the current positions and layers
        save_project(project)
        sites = [portfolio.get(i) for i in ids]
        table = {s.site_id: {k: s.to_dict()[k] for k in COMPUTED_FIELDS} for s in sites}
    else:
        frame = compute_proximity(sites_frame(sites), project_layers(project), config,
                                  coverage=project_coverage(project))
        table = {sid: frame.loc[sid].to_dict() for sid in ids}
    if args.json:
        json.dump(table, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    rows = [{"site_id": s.site_id, "name": s.name, **table[s.site_id]} for s in sites]
    print(format_table(rows, config))
    if not any(project_layers(project).values()):
        print("note: the project has no transmission/substation/fibre/PoP/stranded/flare layers; "
              "all values are unknown", file=sys.stderr)
    return 0

