"""File > Import sites / Import layer: read on a worker, then add as one undo step.

Reading (and measuring the new sites' proximity) runs on the window's task runner over
snapshots; the result comes back by signal and the session applies it under its import
policy (:mod:`planner.session.imports`), so a failed or cancelled import changes nothing.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject

from planner.gis import io as gis_io
from planner.gis.project import LAYER_KINDS, MapLayer, default_style, safe_layer_name
from planner.model.site import PlannerError, first_line
from planner.session import ImportPlan
from planner.ui import dialogs
from planner.ui.workers import Task, TaskCancelled

if TYPE_CHECKING:
    from planner.ui.main_window import MainWindow


class ImportActions(QObject):
    """Imports of a main window (its session, task runner and status bar)."""

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window

    def import_sites(self, path: str | os.PathLike[str]) -> Task:
        """Import sites from a file as one undo step; returns the task (the result follows by signal)."""
        w, p = self.window, Path(path)

        def done(plan: ImportPlan) -> None:
            if plan.empty:
                w.show_status(f"{p.name}: no sites found")
                return
            try:
                w.session.apply_import(plan, p.name)
            except PlannerError as e:
                w.show_error("Import failed", first_line(e))
                return
            w.show_status(plan.summary(), 0)
        return w.run_task(f"Importing sites from {p.name}", w.session.import_job(p), on_done=done,
                          on_error=lambda e: self._failed(p, e))

    def import_layer(self, path: str | os.PathLike[str], kind: str) -> Task | None:
        """Import a map layer of ``kind`` as one undo step (None when ``kind`` is unknown)."""
        w, p = self.window, Path(path)
        if kind not in LAYER_KINDS:
            w.show_error("Import failed", f"unknown layer kind {kind!r}; use one of {', '.join(LAYER_KINDS)}")
            return None

        def done(result: tuple[Any, gis_io.ImportReport]) -> None:
            gdf, report = result
            name = safe_layer_name(p.stem, w.project.layers)
            try:
                layer = MapLayer(name=name, kind=kind, title=p.stem, gdf=gdf, source=str(p), style=default_style(kind))
            except PlannerError as e:
                w.show_error("Import failed", first_line(e))
                return
            w.session.add_layer(layer)
            w.show_status(report.summary(), 0)
        return w.run_task(f"Importing layer {p.name}", gis_io.read_layer, p, kind=kind, on_done=done,
                          on_error=lambda e: self._failed(p, e))

    def _failed(self, p: Path, e: BaseException) -> None:
        if isinstance(e, TaskCancelled):
            self.window.show_status("Import cancelled; nothing was changed")
        elif isinstance(e, PlannerError):
            self.window.show_error("Import failed", first_line(e))
        elif isinstance(e, OSError):
            self.window.show_error("Import failed", f"{p.name}: {first_line(e)}")
        else:
            raise e

    def ask_import_sites(self) -> None:
        if (path := dialogs.ask_import_path(self.window, "Import sites")) is not None:
            self.import_sites(path)

    def ask_import_layer(self) -> None:
        path = dialogs.ask_import_path(self.window, "Import layer")
        kind = dialogs.ask_layer_kind(self.window, list(LAYER_KINDS), "other") if path is not None else None
        if path is not None and kind is not None:
            self.import_layer(path, kind)
