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
}
