"""Where the planner's log goes: warnings raised inside libraries (GDAL through pyogrio, pandas,
shapely) and errors kept for support are written to ``<data dir>/planner.log``, never printed with
their source lines. stderr stays for the one-line messages meant for people (``PLANNER_DEBUG=1``
also shows the log there).
"""
from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

LOG_NAME = "planner.log"
_configured: list[Path | None] = []


def setup_logging() -> Path | None:
    """Route Python warnings and log records to the log file (once per process); returns its path."""
    if _configured:
        return _configured[0]
    from planner.settings import data_dir

    logging.captureWarnings(True)
    root = logging.getLogger()
    path: Path | None = data_dir() / LOG_NAME
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=2,
                                                                        encoding="utf-8", delay=True)
    except OSError:  # no writable data folder: keep stderr quiet all the same
        path, handler = None, logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    if os.environ.get("PLANNER_DEBUG"):
        root.addHandler(logging.StreamHandler())
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    _configured.append(path)
    return path
