"""The File > Export menu: map snapshot, interactive HTML map, site report, portfolio report, data export.

Pure exports (HTML map, data) run in a worker through ``MainWindow.run_task`` (progress dialog
with Cancel; the written path comes back by signal). Reports and snapshots need Qt WebEngine, which lives in the GUI thread: they run
there, drawing through local event loops, with a window-modal progress dialog whose Cancel is
checked at every step, so the window stays responsive and a cancelled batch writes nothing.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QFileDialog, QProgressDialog, QWidget

from planner.model.site import PlannerError, first_line
from planner.ui import dialogs
from planner.ui.workers import Task, TaskCancelled

_SCALE = 1000


class ExportActions(QObject):
    """Owns the Export menu actions of a MainWindow and runs the exports."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.last_written: Path | None = None
        self._build_actions()

    # -- construction ---------------------------------------------------------------------
    def _build_actions(self) -> None:
        w = self.window

        def act(text: str, slot: Callable[[], Any], tip: str) -> QAction:
            a = QAction(text, w)
            a.setStatusTip(tip)
            a.triggered.connect(lambda _checked=False: slot())
            w.export_menu.addAction(a)
            return a

        self.snapshot_action = act("Map &snapshot (PNG)…", self._on_snapshot_triggered,
                                   "PNG of the portfolio map, or of the current site when one is selected")
        self.html_map_action = act("Interactive &map (HTML)…", self._on_html_map_triggered,
                                   "One self-contained HTML file that works offline")
        w.export_menu.addSeparator()
        self.site_report_action = act("Site &report (PDF)…", self._on_site_report_triggered,
                                      "PDF report of the current site")
        self.portfolio_report_action = act("&Portfolio report (PDF)…", self._on_portfolio_report_triggered,
                                           "PDF report of the portfolio, optionally with one section per site")
        w.export_menu.addSeparator()
        self.data_action = act("Sites &data (CSV, GeoJSON, GeoPackage)…", self._on_data_triggered,
                               "Sites with computed fields, readiness and economics")

    # -- helpers ------------------------------------------------------------------------------
    def _ask_path(self, title: str, name: str, filters: str) -> Path | None:
        start = str(Path(self.window.save_path).parent / name) if self.window.save_path else name
        path, _ = QFileDialog.getSaveFileName(self.window, title, start, filters)
        return Path(path) if path else None

    def _done(self, path: Path) -> Path:
        self.last_written = path
        self.window.show_status(f"Wrote {path}")
        return path

    def _fail(self, what: str, e: BaseException) -> None:
        if isinstance(e, TaskCancelled):
            self.window.show_status(f"{what} cancelled; nothing was written")
            return
        if not isinstance(e, (PlannerError, OSError)):
            raise e
        self.window.show_error(what, first_line(e))

    def _in_gui_thread(self, label: str, fn: Callable[..., Path], *args: Any, **kwargs: Any) -> Path:
        """Run a WebEngine job in the GUI thread under a progress dialog whose Cancel stops it."""
        dialog = QProgressDialog(label, "Cancel", 0, _SCALE, self.window)
        dialog.setWindowTitle(label)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(300)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setValue(0)

        def progress(fraction: float) -> None:
            QApplication.processEvents()
            if dialog.wasCanceled():
                raise TaskCancelled("cancelled by the user; nothing was written")
            dialog.setValue(max(0, min(_SCALE, int(fraction * _SCALE))))

        try:
            return fn(*args, progress=progress, **kwargs)
        finally:
            dialog.close()
            dialog.deleteLater()

    # -- exports (callable from tests and scripts with explicit paths) -----------------------
    def export_snapshot(self, path: str | os.PathLike[str], site_id: str | None = None, width: int = 1600,
                        height: int = 1000, scale: float = 2.0) -> Path:
        """PNG of the portfolio map (or of ``site_id``) at width*scale x height*scale px, with the layers
        the Layers panel shows (QA: it drew a fixed set, substations unticked included, flares ticked left out)."""
        from planner.reports.snapshot import shown_kinds, snapshot_png

        def job(progress: Callable[[float], None]) -> Path:
            progress(0.1)
            out = snapshot_png(self.window.project, path, site_id=site_id, width=width, height=height, scale=scale,
                               kinds=shown_kinds(self.window.project))
            progress(1.0)
            return out

        return self._done(self._in_gui_thread("Map snapshot", job))

    def export_html_map(self, path: str | os.PathLike[str]) -> Task:
        """The interactive offline map as one HTML file (built in a worker; ``last_written`` when done)."""
        from planner.reports.snapshot import export_map_html

        return self.window.run_task("Export interactive map", export_map_html, self.window.project, path,
                                    on_done=self._done, on_error=lambda e: self._fail("Interactive map", e))

    def export_site_report(self, path: str | os.PathLike[str], site_id: str, paper: str = "a4") -> Path:
        """PDF report of ``site_id``."""
        from planner.reports.render_qt import site_report_pdf

        return self._done(self._in_gui_thread("Site report", site_report_pdf, self.window.project, site_id, path,
                                              paper=paper))

    def export_portfolio_report(self, path: str | os.PathLike[str], atlas: bool = False,
                                paper: str = "a4") -> Path:
        """PDF report of the portfolio (``atlas``: one section per site), with progress and Cancel."""
        from planner.reports.render_qt import portfolio_report_pdf

        return self._done(self._in_gui_thread("Portfolio report", portfolio_report_pdf, self.window.project, path,
                                              paper=paper, atlas=atlas))

    def export_data(self, path: str | os.PathLike[str], fmt: str | None = None) -> Task:
        """Sites with computed fields and scores as CSV, GeoJSON or GeoPackage (worker; ``last_written`` when done)."""
        from planner.reports.export import export_sites

        return self.window.run_task("Export sites data", export_sites, self.window.project, path, fmt,
                                    on_done=self._done, on_error=lambda e: self._fail("Sites data", e))

    # -- menu slots ---------------------------------------------------------------------------
    def _on_snapshot_triggered(self) -> None:
        sid = self.window.current_site or None
        path = self._ask_path("Export map snapshot", f"{sid or 'portfolio'}_map.png", "PNG image (*.png)")
        if path:
            try:
                self.export_snapshot(path, site_id=sid)
            except BaseException as e:  # noqa: BLE001 - shown to the user, unexpected ones re-raised
                self._fail("Map snapshot", e)

    def _on_html_map_triggered(self) -> None:
        path = self._ask_path("Export interactive map", "map.html", "HTML page (*.html)")
        if path:
            self.export_html_map(path)

    def _on_site_report_triggered(self) -> None:
        # one dialog for the options (the site too when none is selected), then the file
        sid = self.window.current_site or None
        sites = None if sid else [(s.site_id, s.name) for s in self.window.project.portfolio]
        if not sid and not sites:
            self.window.show_status("No site to report on")
            return
        title = "Site report"
        if sid:  # the dialog names the selected site it reports on
            title = f"Site report: {self.window.project.portfolio.get(sid).name} ({sid})"
        options = dialogs.ask_report_options(self.window, title, sites=sites)
        if options is None:
            return
        sid = sid or options[0]
        path = self._ask_path("Export site report", f"{sid}_report.pdf", "PDF (*.pdf)")
        if path and sid:
            try:
                self.export_site_report(path, sid, options[1])
            except BaseException as e:  # noqa: BLE001
                self._fail("Site report", e)

    def _on_portfolio_report_triggered(self) -> None:
        options = dialogs.ask_report_options(self.window, "Portfolio report", atlas=True)
        path = self._ask_path("Export portfolio report", "portfolio_report.pdf", "PDF (*.pdf)") if options else None
        if path and options:
            try:
                self.export_portfolio_report(path, atlas=options[2], paper=options[1])
            except BaseException as e:  # noqa: BLE001
                self._fail("Portfolio report", e)

    def _on_data_triggered(self) -> None:
        path = self._ask_path("Export sites data", "sites.gpkg",
                              "GeoPackage (*.gpkg);;GeoJSON (*.geojson);;CSV (*.csv)")
        if path:
            self.export_data(path)


def install_export_actions(window: QWidget) -> ExportActions:
    """Fill ``window.export_menu`` with the export actions; returns the owner (kept on the window)."""
    actions = ExportActions(window)
    window.export_actions = actions  # type: ignore[attr-defined]
    return actions
