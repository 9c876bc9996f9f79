"""Entry script of the frozen app (PyInstaller needs a file, not a console-script entry point)."""
import multiprocessing
import sys

from planner.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # harmless unless a dependency spawns worker processes
    sys.exit(main())
