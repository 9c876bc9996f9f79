"""Headless subcommands. Each module defines ``add_parser(subparsers)`` and ``run(args) -> int``.

Modules are listed in :data:`SUBCOMMANDS` (name -> module) and imported lazily so that
``planner info`` never loads Qt.
"""
SUBCOMMANDS: dict[str, str] = {
    "info": "planner.cmd.info",
    "import": "planner.cmd.import_",
    "proximity": "planner.cmd.proximity",
    "score": "planner.cmd.score",
    "report": "planner.cmd.report",
    "snapshot": "planner.cmd.snapshot",
    "export-map": "planner.cmd.export_map",
    "export": "planner.cmd.export",
    "screen": "planner.cmd.screen",
    "economics": "planner.cmd.economics",
    "compare": "planner.cmd.compare",
}


def open_project_arg(path: str):  # -> planner.gis.project.Project (imported lazily: no GIS at CLI start)
    """Open the project named on the command line; a missing file is one clear line, not a traceback."""
    from pathlib import Path

    from planner.gis.project import ProjectError, open_project

    if not Path(path).is_file():
        raise ProjectError(f"{path}: no such project file; give the path of a planner .gpkg project")
    return open_project(path)
