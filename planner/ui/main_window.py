"""The main window: map in the centre, sites table / site form / layers as docks, menus, undo.

Wiring only. The open project, the selection, readiness scores, the proximity queue and every
edit live in ``window.session`` (a Qt-free :class:`planner.session.Session`); edits are plain
commands pushed onto ``window.undo_stack`` through :class:`planner.ui.commands.QtUndoAdapter`.
The window subscribes to the session and updates the views; long work runs on
``window.tasks`` (:class:`planner.ui.workers.TaskRunner`) and comes back by signal. Panels
plug in with :meth:`MainWindow.add_panel_dock` and subscribe to the session themselves.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QCursor, QUndoStack
from PySide6.QtWidgets import QDockWidget, QMainWindow, QToolTip, QWidget

from planner import APP_NAME
from planner.assets import attribution_text
from planner.gis.project import Project
from planner.model.readiness import ReadinessResult, counts_text
from planner.model.site import PlannerError, first_line
from planner.session import Session
from planner.settings import AppSettings, load_settings
from planner.ui import dialogs
from planner.ui.autosave import Autosaver, RecoveryInfo
from planner.ui.commands import QtUndoAdapter
from planner.ui.imports import ImportActions
from planner.ui.input_guard import guard_wheel_in
from planner.ui.layout import scrollable
from planner.ui.layers_panel import LayersPanel
from planner.ui.map_controller import MapController
from planner.ui.menus import build_actions, build_menus
from planner.ui.project_files import ProjectFiles
from planner.ui.proximity_runner import ProximityRunner
from planner.ui.site_form import SiteForm
from planner.ui.sites_dock import SitesDock
from planner.ui.status_counts import StatusCounts
from planner.ui.text import user_message
from planner.ui.window_state import restore_window_state, save_window_state
from planner.ui.workers import Task, TaskCancelled, TaskRunner

STATUS_TIMEOUT_MS = 8000


def _default_map_factory(parent: QWidget) -> QWidget:
    from planner.ui.map_view import MapView  # QtWebEngine: imported only when a window is built
    return MapView(parent)


class MainWindow(QMainWindow):
    """Site Conversion Planner main window."""

    current_site_changed = Signal(str)
    scores_changed = Signal(object)
    project_changed = Signal(object)

    def __init__(self, settings: AppSettings | None = None,
                 map_factory: Callable[[QWidget], QWidget] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.settings = settings if settings is not None else load_settings()
        self.undo_stack = QUndoStack(self)
        self.session = Session(stack=QtUndoAdapter(self.undo_stack))
        self.tasks = TaskRunner(self)
        self.proximity = ProximityRunner(self.session, self.tasks, lambda m: self.show_status(m),
                                         lambda t, m: self.show_error(t, m), self)
        self.files = ProjectFiles(self)
        self.last_message = ""
        self._refusal = ""  # the status-bar refusal of the last rejected edit (cleared by the next edit)
        self._opening: str | None = None  # the status message while the start file is read (set_opening)
        self._map_factory = map_factory or _default_map_factory
        self.panel_docks: list[QDockWidget] = []
        self.panels: Mapping[str, QWidget] = {}  # chart panels and the assumptions editor, built when first shown
        self.autosave = Autosaver(lambda: self.project, self.is_dirty, self.settings.autosave_interval_s, parent=self)
        self._build_ui()
        self.imports = ImportActions(self)
        build_actions(self)
        build_menus(self)
        self._connect()
        from planner.ui.panels import install_panels  # pyqtgraph panels + assumptions editor (docks)
        install_panels(self)
        from planner.ui.export_actions import install_export_actions  # File > Export (snapshot, HTML, PDF, data)
        install_export_actions(self)
        from planner.ui.screening_action import install_screening_action  # Tools > Screen region… (dialog on use)
        install_screening_action(self)
        from planner.ui.problems_panel import install_problems_panel  # View > Panels > Problems
        self.problems_panel = install_problems_panel(self)
        guard_wheel_in(self)  # spin boxes and combos take the wheel only with focus
        restore_window_state(self)
        self.set_project(Project(), None, "Untitled")  # empty until run_gui opens one (File > New: basemap)
        self.autosave.start()

    # == construction ========================================================================
    def _build_ui(self) -> None:
        self.map_view = self._map_factory(self)
        self.setCentralWidget(self.map_view)
        self.sites = SitesDock(self.undo_stack, self)
        for name in ("table_model", "proxy", "table", "filter_edit", "class_combo", "status_combo",
                     "min_score_spin", "max_score_spin", "place_combo"):
            setattr(self, name, getattr(self.sites, name))  # the widgets tests and scripts reach
        self.sites_dock = self._make_dock("Sites", self.sites, "sitesDock", Qt.DockWidgetArea.BottomDockWidgetArea)
        self.site_form = SiteForm(self)
        self.form_dock = self._make_dock("Site", self.site_form, "formDock", Qt.DockWidgetArea.RightDockWidgetArea)
        self.layers_panel = LayersPanel(self)
        self.layers_dock = self._make_dock("Layers", self.layers_panel, "layersDock",
                                           Qt.DockWidgetArea.LeftDockWidgetArea)
        self.count_label = StatusCounts(self.statusBar())  # gives way to a refusal on the left

    def _make_dock(self, title: str, widget: QWidget, name: str, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _connect(self) -> None:
        s = self.session
        s.project_changed.connect(self._on_session_project_changed)
        s.current_site_changed.connect(self._on_session_current_site_changed)
        s.scores_changed.connect(self._on_session_scores_changed)
        s.site_added.connect(self._on_session_site_added)
        s.layers_changed.connect(self._on_session_layers_changed)
        s.message.connect(self.show_status)
        self.undo_stack.cleanChanged.connect(self._on_undo_stack_clean_changed)
        self.undo_stack.indexChanged.connect(self._on_undo_stack_index_changed)
        self.recent_menu.aboutToShow.connect(self.files.on_recent_menu_about_to_show)
        self.sites.table_model.edit_rejected.connect(self._on_edit_rejected)
        self.site_form.edit_rejected.connect(self._on_form_edit_rejected)
        self.sites.current_site_changed.connect(self.set_current_site)
        self.sites.shown_changed.connect(self._update_counts)
        self.layers_panel.import_requested.connect(self.imports.ask_import_layer)
        self.layers_panel.remove_requested.connect(self.remove_layer)
        self.autosave.failed.connect(self.show_status)
        self.map = MapController(self)

    # bound methods, not lambdas: Qt drops them with the window, so a child's last signal
    # during teardown never reaches a deleted window
    def _on_undo_stack_clean_changed(self, _clean: bool) -> None:
        self.update_title()

    def _on_undo_stack_index_changed(self, _index: int) -> None:
        self._update_counts()
        if self._refusal and self.statusBar().currentMessage() == self._refusal:
            self.statusBar().clearMessage()  # an edit went through: the last refusal no longer applies
            QToolTip.hideText()
        self._refusal = ""

    def add_panel_dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea,
                       name: str | None = None) -> QDockWidget:
        """Add a panel as a dock (layout restored between runs) with a toggle in View > Panels."""
        object_name = name or "panel_" + (re.sub(r"[^A-Za-z0-9]+", "_", title).strip("_").lower() or "panel")
        dock = self._make_dock(title, scrollable(widget), object_name, area)
        guard_wheel_in(widget)
        self.restoreDockWidget(dock)  # takes the place saved by restoreState() if there is one
        self.docks_menu.addAction(dock.toggleViewAction())
        self.panel_docks.append(dock)
        return dock

    @property
    def assumptions_editor(self) -> QWidget:
        """The Assumptions panel (built on first use, like every panel: ``self.panels``)."""
        return self.panels["assumptions"]

    # == state (held by the session) ============================================================
    @property
    def project(self) -> Project:
        return self.session.project

    @property
    def portfolio(self) -> Any:
        return self.session.portfolio

    @property
    def scores(self) -> dict[str, ReadinessResult]:
        return self.session.scores

    @property
    def current_site(self) -> str:
        return self.session.current_site

    @property
    def save_path(self) -> Path | None:
        """Where Save writes (None: Save asks for a path, e.g. for the bundled sample)."""
        return self.files.save_path

    def is_dirty(self) -> bool:
        return not self.undo_stack.isClean()

    def set_project(self, project: Project, save_path: Path | None, display_name: str) -> None:
        """Show ``project``; edits go to a fresh undo stack. No file is read or written."""
        self.files.save_path, self.files.display_name = save_path, display_name
        self.undo_stack.clear()
        self.session.set_project(project)
        self.undo_stack.setClean()
        self.update_title()
        for w in project.warnings:
            self.show_status(str(w))

    def set_current_site(self, site_id: str) -> None:
        """Select ``site_id`` ("" for none) in the table, the form and the map."""
        self.session.set_current_site(site_id)

    def selected_site_ids(self) -> list[str]:
        """Selected rows in table order, or the current site when nothing is selected."""
        return self.sites.selected_site_ids() or ([self.current_site] if self.current_site else [])

    # == files (planner.ui.project_files) =======================================================
    def open_project(self, path: str | os.PathLike[str], project: Project | None = None) -> bool:
        """Open the project file ``path`` (``project``: its content, already read on a worker)."""
        return self.files.open(path, project)

    def new_project(self) -> None:
        self.files.new()

    def save(self) -> bool:
        return self.files.save()

    def save_as(self, path: str | os.PathLike[str]) -> bool:
        return self.files.save_as(path)

    def recover(self, info: RecoveryInfo | None = None) -> bool:
        return self.files.recover(info)

    def maybe_save(self) -> bool:
        return self.files.maybe_save()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.maybe_save():
            event.ignore()
            return
        self.tasks.cancel_all()
        self.autosave.stop()
        self.proximity.stop()
        self.map.stop()
        self.autosave.clear()
        self.files.close()
        save_window_state(self)
        release = getattr(self.map_view, "release", None)
        if callable(release):  # free the web page before the QApplication ends
            release()
        event.accept()

    # == session signals -> views ================================================================
    def _on_session_project_changed(self, project: Project) -> None:
        self.sites.set_portfolio(project.portfolio, self.scores)
        self.site_form.set_portfolio(project.portfolio, self.undo_stack)
        self.layers_panel.set_layers(project.layers)
        self.map.show_project()
        self._update_counts()
        self.project_changed.emit(project)

    def _on_session_current_site_changed(self, site_id: str) -> None:
        self.sites.select(site_id)
        self.site_form.set_site(site_id, self.scores.get(site_id))
        self.map.select(site_id)  # the selection drives the map's highlight and popup
        self.current_site_changed.emit(site_id)

    def zoom_to_sites(self) -> None:
        """View > Zoom to all sites."""
        self.map.zoom_to_sites()

    def _on_session_scores_changed(self, scores: dict[str, ReadinessResult]) -> None:
        self.sites.set_scores(scores)
        self.site_form.set_score(scores.get(self.current_site))
        self._update_counts()
        self.map.scores_changed(scores)
        self.scores_changed.emit(scores)

    def _on_session_site_added(self, _site_id: str) -> None:
        self.sites.refresh_place_filter()

    def _on_session_layers_changed(self, _name: str) -> None:
        self.layers_panel.set_layers(self.project.layers)
        self._update_counts()
        self.map.reload_timer.start()

    # == title, status ============================================================================
    def update_title(self) -> None:
        star = "*" if self.is_dirty() else ""
        self.setWindowTitle(f"{self.files.display_name}{star} - {APP_NAME}")
        self.setWindowModified(self.is_dirty())

    def set_opening(self, path: Path | None) -> None:
        """Say that ``path`` is being read (title, status bar; no counts beside a map that may already
        show its sites); ``None``: the read ended, whether or not the file opened."""
        if path is not None:
            self._opening = f"Opening {path.name}\u2026"
            self.show_status(self._opening, 0)  # until the project shows (its own messages follow)
            self.setWindowTitle(f"{path.name} (opening\u2026) - {APP_NAME}")
            self.count_label.set_counts("", "")  # through the label's state: a later message must not bring "0 sites" back
            return
        if self.statusBar().currentMessage() == self._opening:
            self.statusBar().clearMessage()
        self._opening = None
        self.update_title()
        self._update_counts()

    def show_status(self, message: str, timeout_ms: int = STATUS_TIMEOUT_MS) -> None:
        self.last_message = message
        self.statusBar().showMessage(message, timeout_ms)

    def show_error(self, title: str, message: str) -> None:
        """Status bar plus a message box with the one-line error."""
        self.show_status(message)
        dialogs.show_error(self, title, message)

    def _update_counts(self) -> None:
        n, shown = len(self.portfolio), self.sites.shown
        text = f"{n} sites" + (f" · {shown} shown" if shown != n else "")
        self.count_label.set_counts(f"{text} · {counts_text(self.scores.values())} · {len(self.project.layers)} layers",
                                    text)

    def _on_edit_rejected(self, message: str) -> None:
        self._on_form_edit_rejected(message)
        QToolTip.showText(QCursor.pos(), message, self.table.viewport())  # a table cell has no banner

    def _on_form_edit_rejected(self, message: str) -> None:
        # the form shows its own banner: no tooltip at the cursor, which covered the field being edited
        self.show_status(message)
        self._refusal = message

    # == edits (validated by the session's commands; a refusal shows its one line) ===============
    def _try(self, title: str, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except PlannerError as e:
            self.show_error(title, user_message(e))
            return None

    def set_map_mode(self, mode: str) -> None:
        """Switch the map between browse, add, move and measure."""
        self.map.set_mode(mode)

    def add_site(self, lon: float | None = None, lat: float | None = None) -> str:
        """Add a new site (optionally at lon/lat) as one undo step; returns its ID ("" if refused)."""
        return self._try("Cannot add site", self.session.add_site, lon, lat) or ""

    def delete_sites(self, site_ids: Iterable[str]) -> None:
        self.session.delete_sites(site_ids)

    def duplicate_site(self, site_id: str) -> str:
        """Copy a site under a new ID; returns the new ID ("" if refused)."""
        if not site_id:
            return ""
        return self._try("Cannot duplicate site", self.session.duplicate_site, site_id) or ""

    def bulk_edit(self, site_ids: Iterable[str], field: str, value: Any) -> bool:
        """Set ``field`` on all ``site_ids`` as one undo step; refused entirely on any invalid site."""
        return self._try("Bulk edit refused", lambda: self.session.bulk_edit(site_ids, field, value) or True) is True

    def move_site(self, site_id: str, lon: float, lat: float) -> bool:
        """Move a site (undoable); proximity and readiness follow."""
        if self._try("Cannot move site", lambda: self.session.move_site(site_id, lon, lat) or True) is None:
            self.map.refresh_timer.start()  # put the marker back where the store says
            return False
        return True

    def import_sites_from(self, path: str | os.PathLike[str]) -> Task:
        """Import sites from a file (worker; one undo step); see :class:`planner.ui.imports.ImportActions`."""
        return self.imports.import_sites(path)

    def import_layer_from(self, path: str | os.PathLike[str], kind: str) -> Task | None:
        """Import a map layer of ``kind`` (worker; one undo step)."""
        return self.imports.import_layer(path, kind)

    def remove_layer(self, name: str) -> None:
        self.session.remove_layer(name)

    # == long tasks (worker thread; results come back by signal) ==================================
    def run_task(self, label: str, fn: Callable[..., Any], *args: Any, on_done: Callable[[Any], None],
                 on_error: Callable[[BaseException], None] | None = None, **kwargs: Any) -> Task:
        """Run ``fn(*args, progress=..., **kwargs)`` on a worker; ``on_done(result)`` follows later.

        Errors go to ``on_error`` or, by default, to the status bar (Cancel) or an error box.
        """
        def failed(e: BaseException) -> None:
            if on_error is not None:
                on_error(e)
            elif isinstance(e, TaskCancelled):
                self.show_status(f"{label}: cancelled; nothing was changed")
            elif isinstance(e, (PlannerError, OSError)):
                self.show_error(f"{label} failed", first_line(e))
            else:
                raise e
        return self.tasks.start(label, fn, *args, on_done=on_done, on_error=failed, **kwargs)

    def attribution_text(self) -> str:
        """DATA_ATTRIBUTION.md when bundled, plus the sources of the open project's layers."""
        return attribution_text(self.project.layers.values())
