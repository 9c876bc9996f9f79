"""Command line: ``planner`` opens the GUI; subcommands do headless work.

Every failure ends with a non-zero exit and one line on stderr, never a traceback
(set PLANNER_DEBUG=1 to see it).
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from planner import __version__
from planner.cmd import SUBCOMMANDS


def _available_subcommands() -> dict[str, object]:
    mods = {}
    for name, modname in SUBCOMMANDS.items():
        try:
            mods[name] = importlib.import_module(modname)
        except ModuleNotFoundError as e:
            if e.name == modname:  # subcommand not implemented in this build
                continue
            raise
    return mods


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, object]]:
    mods = _available_subcommands()
    p = argparse.ArgumentParser(
        prog="planner", usage="%(prog)s [-h] [--version] [--selftest] [PROJECT.gpkg]\n       %(prog)s COMMAND ...",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Site Conversion Planner: without a command, opens the desktop app (GUI) on PROJECT "
                    "(default: the last project or the sample).",
        epilog=_commands_epilog(mods))
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument("--selftest", action="store_true",
                   help="open the main window offscreen on the sample, export a snapshot and a report, check them")
    p.add_argument("project", nargs="?", help="project (.gpkg) to open in the GUI; default: last or sample")
    return p, mods


def subcommand_help(mods: dict[str, object]) -> dict[str, str]:
    """One-line description of each headless command (the ``help`` its module registers)."""
    sub = argparse.ArgumentParser(prog="planner")
    subs = sub.add_subparsers(dest="command")
    for m in mods.values():
        m.add_parser(subs)  # type: ignore[attr-defined]
    return {a.dest: str(a.help or "") for a in subs._choices_actions}


def _commands_epilog(mods: dict[str, object]) -> str:
    helps = subcommand_help(mods)
    width = max((len(n) for n in helps), default=0)
    lines = ["headless commands (planner COMMAND --help for the options of one):"]
    lines += [f"  {name:<{width}}  {text}" for name, text in helps.items()]
    return "\n".join(lines)


def _one_line(e: BaseException) -> str:
    """The message on one line: a short multi-line message (e.g. a file name with a newline) keeps
    its text with the breaks shown as \\n; a long one (library detail) keeps its first line."""
    text = str(e).strip()
    if not text:
        return type(e).__name__
    if "\n" in text and len(text) <= 400:
        return text.replace("\r", "\\r").replace("\n", "\\n")
    return text.splitlines()[0]


def _opens_gui(argv: list[str]) -> bool:
    """No arguments, or one project file: the desktop app (no subcommand modules to import first)."""
    if not argv:
        return True
    arg = argv[0]
    return len(argv) == 1 and arg not in SUBCOMMANDS and not arg.startswith("-") \
        and (arg.lower().endswith(".gpkg") or os.path.exists(arg))


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from planner.logs import setup_logging

    setup_logging()  # library warnings go to the log file, not to the terminal
    if _opens_gui(argv):
        # straight to the window: the parser's help imports every subcommand (pandas, geopandas,
        # pyogrio: 1-2 s before the app showed anything)
        from planner.app import run_gui
        return run_gui(argv[0] if argv else None)
    parser, mods = build_parser()
    if argv and argv[0] in mods:
        sub = argparse.ArgumentParser(prog="planner")
        subs = sub.add_subparsers(dest="command", required=True)
        for m in mods.values():
            m.add_parser(subs)  # type: ignore[attr-defined]
        args = sub.parse_args(argv)
        try:
            return int(mods[args.command].run(args) or 0)  # type: ignore[attr-defined]
        except KeyboardInterrupt:
            print("planner: interrupted", file=sys.stderr)
            return 130
        except Exception as e:  # one line for users; traceback only on request
            if os.environ.get("PLANNER_DEBUG"):
                raise
            logging.getLogger("planner.cli").info("planner %s failed", args.command, exc_info=True)
            print(f"planner {args.command}: error: {_one_line(e)}", file=sys.stderr)
            return 1
    if argv and not argv[0].startswith("-") and not argv[0].lower().endswith(".gpkg") and not os.path.exists(argv[0]):
        names = ", ".join(sorted(mods))
        print(f"planner: unknown command or file {argv[0]!r} (commands: {names})", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    if args.selftest:
        from planner.selftest import run_selftest
        return run_selftest()
    from planner.app import run_gui
    return run_gui(args.project)
