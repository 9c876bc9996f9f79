"""The main window: map in the centre, sites table / site form / layers as docks, menus, undo.

State lives in ``window.project`` (a :class:`planner.gis.project.Project`) and changes only
through undo commands on ``window.undo_stack``. The window subscribes to the portfolio's
signals: a moved or added site gets its proximity recomputed, changed sites are re-scored,
and ``scores_changed`` tells every panel. Panels from other modules plug in with
:meth:`MainWindow.add_panel_dock` and listen to ``current_site_changed`` / ``scores_changed``.
"""
from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QCursor, QKeySequence, QUndoStack
from PySide6.QtWidgets import (QComboBox, QDockWidget, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QMainWindow, QMenu, QSpinBox, QTableView, QToolTip, QVBoxLayout, QWidget)

from planner import APP_NAME
from planner.assets import AssetError, asset_dir, sample_project
from planner.gis import io as gis_io
from planner.gis.project import (LAYER_KINDS, MapLayer, Project, ProjectChangedError, changed_on_disk,
                                 default_style, new_project, open_project as gis_open_project, safe_layer_name,
                                 save_project)
from planner.gis.proximity import LAYER_KINDS_USED, apply_proximity
from planner.model.fields import COMPUTED_FIELDS
from planner.model.portfolio import Portfolio
from planner.model.readiness import READINESS_CLASSES, score_portfolio, score_site
from planner.model.site import PlannerError, Site, SiteError
from planner.settings import AppSettings, config_dir, load_settings, save_settings
from planner.ui import dialogs
from planner.ui.autosave import Autosaver, ProjectLock, RecoveryInfo
from planner.ui.commands import (AddLayerCommand, AddSiteCommand, BulkEditCommand, DeleteSitesCommand,
                                 DuplicateSiteCommand, MoveSiteCommand, RemoveLayerCommand)
from planner.ui.delegates import FieldDelegate
from planner.ui.layers_panel import LayersPanel
from planner.ui.site_form import SiteForm
from planner.ui.site_table import SITE_ID_ROLE, SiteFilterProxy, SiteTableModel
from planner.ui.workers import TaskCancelled, run_with_progress
from planner.ui.text import plain_tooltip

MAP_MODES: tuple[tuple[str, str], ...] = (("browse", "Browse"), ("add", "Add site by clicking"),
                                          ("move", "Move sites by dragging"), ("measure", "Measure"))
WINDOW_STATE_VERSION = 1
STATUS_TIMEOUT_MS = 8000


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _is_bundled_sample(path: Path) -> bool:
    try:
        return path.resolve() == sample_project().resolve()
    except AssetError:
        return False


def _window_settings() -> QSettings:
    """Window geometry/dock layout (QSettings, INI file next to the TOML settings)."""
    return QSettings(str(config_dir() / "window.ini"), QSettings.Format.IniFormat)


def _default_map_factory(parent: QWidget) -> QWidget:
    from planner.ui.map_view import MapView  # QtWebEngine: imported only when a window is built
    return MapView(parent)


class TaskBusy(PlannerError):
    """A long task was started while another one runs."""


class MainWindow(QMainWindow):
    """Site Conversion Planner main window."""

    current_site_changed = Signal(str)
    scores_changed = Signal(object)
    project_changed = Signal(object)

    def __init__(self, settings: AppSettings | None = None,
                 map_factory: Callable[[QWidget], QWidget] | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.settings = settings if settings is not None else load_settings()
        self.undo_stack = QUndoStack(self)
        self.project: Project = Project()
        self.scores: dict[str, Any] = {}
        self.last_message = ""
        self._save_path: Path | None = None
        self._display_name = "Untitled"
        self._lock: ProjectLock | None = None
        self._current_site = ""
        self._locations: dict[str, tuple[Any, Any]] = {}
        self._in_proximity = False
        self._task_running = False  # one worker at a time: GEOS/pyproj state is shared between tasks
        self._pending_proximity: set[str] | None = set()  # None = all sites
        self._map_factory = map_factory or _default_map_factory
        self.panel_docks: list[QDockWidget] = []
        self.autosave = Autosaver(lambda: self.project, self.is_dirty, self.settings.autosave_interval_s,
                                  parent=self)
        self._build_ui()
        self._build_actions()
        self._build_menus()
        self._connect()
        from planner.ui.panels import install_panels  # pyqtgraph panels + assumptions editor (docks)
        install_panels(self)
        from planner.ui.export_actions import install_export_actions  # File > Export (snapshot, HTML, PDF, data)
        install_export_actions(self)
        from planner.ui.screening_dialog import install_screening_action  # Tools > Screen region…
        install_screening_action(self)
        from planner.ui.problems_panel import install_problems_panel  # View > Panels > Problems
        self.problems_panel = install_problems_panel(self)
        self.restore_window_state()
        # an empty project until run_gui opens one (File > New adds the basemap layers)
        self.set_project(Project(), None, "Untitled")
        self.autosave.start()

    # == construction ========================================================================
    def _fit_table_columns(self) -> None:
        """Size columns to header and contents once per project (capped), so no header is cut."""
        if self.table_model.rowCount() and not getattr(self, "_columns_fitted", False):
            self.table.resizeColumnsToContents()
            self._columns_fitted = True

    def _build_ui(self) -> None:
        self.map_view = self._map_factory(self)
        self.setCentralWidget(self.map_view)

        self.table_model = SiteTableModel(None, self.undo_stack, self)
        self.proxy = SiteFilterProxy(self)
        self.proxy.setSourceModel(self.table_model)
        self.table = QTableView(self)
        self.table.setObjectName("sitesTable")
        self.table.setModel(self.proxy)
        self.table.setItemDelegate(FieldDelegate(self.table))
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # portfolio order until a header is clicked
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setDefaultSectionSize(110)
        self.table.horizontalHeader().setMaximumSectionSize(260)
        self.table_model.modelReset.connect(self._fit_table_columns)
        self.table.verticalHeader().setDefaultSectionSize(22)

        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText("Filter: ID, name, operator, place…")
        self.filter_edit.setClearButtonEnabled(True)
        self.class_combo = QComboBox(self)
        self.class_combo.addItem("All classes", "")
        for key, label in READINESS_CLASSES.items():
            self.class_combo.addItem(label, key)
        self.status_combo = QComboBox(self)
        self.status_combo.addItem("All statuses", "")
        from planner.model.fields import STATUS_CHOICES
        for s in STATUS_CHOICES:
            self.status_combo.addItem(s.replace("_", " "), s)
        self.min_score_spin = QSpinBox(self)
        self.min_score_spin.setRange(0, 100)
        self.min_score_spin.setPrefix("score ≥ ")
        self.min_score_spin.setToolTip("Show only sites whose readiness total is at least this (0 = no filter)")
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.filter_edit, 2)
        bar.addWidget(self.class_combo, 1)
        bar.addWidget(self.status_combo, 1)
        bar.addWidget(self.min_score_spin)
        self.max_score_spin = QSpinBox(self)
        self.max_score_spin.setRange(0, 100)
        self.max_score_spin.setValue(100)
        self.max_score_spin.setPrefix("≤ ")
        self.max_score_spin.setToolTip("Show only sites whose readiness total is at most this (100 = no filter)")
        bar.addWidget(self.max_score_spin)
        self.place_combo = QComboBox(self)
        self.place_combo.setToolTip("Filter by country or state/province")
        self.place_combo.addItem("All places", "")
        bar.addWidget(self.place_combo, 1)
        sites_widget = QWidget(self)
        v = QVBoxLayout(sites_widget)
        v.setContentsMargins(2, 2, 2, 2)
        v.addLayout(bar)
        v.addWidget(self.table, 1)
        self.sites_dock = self._make_dock("Sites", sites_widget, "sitesDock",
                                          Qt.DockWidgetArea.BottomDockWidgetArea)

        self.site_form = SiteForm(self)
        self.form_dock = self._make_dock("Site", self.site_form, "formDock", Qt.DockWidgetArea.RightDockWidgetArea)

        self.layers_panel = LayersPanel(self)
        self.layers_dock = self._make_dock("Layers", self.layers_panel, "layersDock",
                                           Qt.DockWidgetArea.LeftDockWidgetArea)

        self.count_label = QLabel(self)
        self.statusBar().addPermanentWidget(self.count_label)

    def _make_dock(self, title: str, widget: QWidget, name: str, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_actions(self) -> None:
        def act(text: str, slot: Callable[..., Any], shortcut: QKeySequence | str | None = None,
                tip: str = "") -> QAction:
            a = QAction(text, self)
            if shortcut is not None:
                a.setShortcut(QKeySequence(shortcut))
            if tip:
                a.setStatusTip(tip)
            a.triggered.connect(lambda _checked=False: slot())
            return a

        K = QKeySequence.StandardKey
        self.new_action = act("&New", self._on_new_triggered, K.New, "Start an empty project")
        self.open_action = act("&Open…", self._on_open_triggered, K.Open, "Open a project (.gpkg)")
        self.save_action = act("&Save", self.save, K.Save, "Save the project")
        self.save_as_action = act("Save &As…", self._on_save_as_triggered, K.SaveAs, "Save under a new name")
        self.import_sites_action = act("Import &sites…", self._on_import_sites_triggered, None,
                                       "Add sites from a GIS or CSV file")
        self.import_layer_action = act("Import &layer…", self._on_import_layer_triggered, None,
                                       "Add a map layer (lines, substations, fibre…)")
        self.quit_action = act("&Quit", self.close, K.Quit)
        self.undo_action = self.undo_stack.createUndoAction(self, "&Undo")
        self.undo_action.setShortcut(K.Undo)
        self.redo_action = self.undo_stack.createRedoAction(self, "&Redo")
        self.redo_action.setShortcut(K.Redo)
        self.add_site_action = act("&Add site", self._on_add_site_triggered, "Ctrl+Shift+A",
                                   "Click on the map to place a new site")
        self.delete_action = act("&Delete sites", self._on_delete_triggered, K.Delete, "Delete the selected sites")
        self.duplicate_action = act("D&uplicate site", self._on_duplicate_triggered, "Ctrl+D",
                                    "Copy the current site under a new ID")
        self.bulk_edit_action = act("&Bulk edit…", self._on_bulk_edit_triggered, "Ctrl+B",
                                    "Set one field on all selected sites")
        self.about_action = act("&About", self._on_about_triggered)
        self.mode_group = QActionGroup(self)
        self.mode_group.setExclusive(True)
        self.mode_actions: dict[str, QAction] = {}
        for mode, label in MAP_MODES:
            a = QAction(label, self)
            a.setCheckable(True)
            a.setData(mode)
            self.mode_group.addAction(a)
            self.mode_actions[mode] = a
        self.mode_actions["browse"].setChecked(True)

    def _build_menus(self) -> None:
        mb = self.menuBar()
        self.file_menu = mb.addMenu("&File")
        self.file_menu.addActions([self.new_action, self.open_action])
        self.recent_menu = self.file_menu.addMenu("Open &Recent")
        self.file_menu.addActions([self.save_action, self.save_as_action])
        self.file_menu.addSeparator()
        self.file_menu.addActions([self.import_sites_action, self.import_layer_action])
        self.export_menu: QMenu = self.file_menu.addMenu("&Export")  # filled by the export module
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.quit_action)

        self.edit_menu = mb.addMenu("&Edit")
        self.edit_menu.addActions([self.undo_action, self.redo_action])
        self.edit_menu.addSeparator()
        self.edit_menu.addActions([self.add_site_action, self.delete_action, self.duplicate_action,
                                   self.bulk_edit_action])

        self.view_menu = mb.addMenu("&View")
        self.docks_menu = self.view_menu.addMenu("&Panels")
        for dock in (self.sites_dock, self.form_dock, self.layers_dock):
            self.docks_menu.addAction(dock.toggleViewAction())
        self.map_mode_menu = self.view_menu.addMenu("&Map mode")
        self.map_mode_menu.addActions(list(self.mode_actions.values()))

        self.help_menu = mb.addMenu("&Help")
        self.help_menu.addAction(self.about_action)

    def _connect(self) -> None:
        self.undo_stack.cleanChanged.connect(self._on_undo_stack_clean_changed)
        self.undo_stack.indexChanged.connect(lambda _i: self._update_counts())
        self.recent_menu.aboutToShow.connect(self._on_recent_menu_about_to_show)
        self.table_model.edit_rejected.connect(self._on_edit_rejected)
        self.site_form.edit_rejected.connect(self._on_edit_rejected)
        self.table.selectionModel().currentRowChanged.connect(self._on_table_current_row_changed)
        self.proxy.rowsInserted.connect(lambda *_: self._update_counts())
        self.proxy.rowsRemoved.connect(lambda *_: self._update_counts())
        self.proxy.layoutChanged.connect(lambda *_: self._update_counts())
        self.filter_edit.textChanged.connect(self._on_filters_changed)
        self.class_combo.currentIndexChanged.connect(self._on_filters_changed)
        self.status_combo.currentIndexChanged.connect(self._on_filters_changed)
        self.min_score_spin.valueChanged.connect(self._on_filters_changed)
        self.max_score_spin.valueChanged.connect(self._on_filters_changed)
        self.place_combo.currentIndexChanged.connect(self._on_filters_changed)
        self.layers_panel.layer_visibility_changed.connect(self._on_layers_visibility_changed)
        self.layers_panel.import_requested.connect(self._on_import_layer_triggered)
        self.layers_panel.remove_requested.connect(self.remove_layer)
        self.mode_group.triggered.connect(lambda a: self.set_map_mode(a.data()))
        self.autosave.failed.connect(lambda msg: self.show_status(msg))
        for name in ("site_clicked", "map_clicked", "site_moved"):
            if not hasattr(self.map_view, name):
                raise TypeError(f"map widget {type(self.map_view).__name__} lacks the {name} signal")
        self.map_view.site_clicked.connect(self._on_map_site_clicked)
        self.map_view.map_clicked.connect(self._on_map_map_clicked)
        self.map_view.site_moved.connect(self._on_map_site_moved)
        self._map_timer = QTimer(self)
        self._map_timer.setSingleShot(True)
        self._map_timer.setInterval(50)
        self._map_timer.timeout.connect(self._refresh_map)
        self._proximity_timer = QTimer(self)
        self._proximity_timer.setSingleShot(True)
        self._proximity_timer.setInterval(0)
        self._proximity_timer.timeout.connect(self._on_proximity_timer_timeout)

    # == panels extension point ===============================================================
    def add_panel_dock(self, title: str, widget: QWidget,
                       area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea,
                       name: str | None = None) -> QDockWidget:
        """Add a panel as a dock (layout restored between runs) with a toggle in View > Panels."""
        object_name = name or "panel_" + (re.sub(r"[^A-Za-z0-9]+", "_", title).strip("_").lower() or "panel")
        dock = self._make_dock(title, widget, object_name, area)
        self.restoreDockWidget(dock)  # takes the place saved by restoreState() if there is one
        self.docks_menu.addAction(dock.toggleViewAction())
        self.panel_docks.append(dock)
        return dock

    # == project lifecycle ====================================================================
    @property
    def portfolio(self) -> Portfolio:
        return self.project.portfolio

    @property
    def save_path(self) -> Path | None:
        """Where Save writes (None: Save asks for a path, e.g. for the bundled sample)."""
        return self._save_path

    def is_dirty(self) -> bool:
        return not self.undo_stack.isClean()

    def set_project(self, project: Project, save_path: Path | None, display_name: str) -> None:
        """Show ``project``; edits go to a fresh undo stack. No file is read or written."""
        old = self.project.portfolio
        for sig, slot in ((old.sites_changed, self._on_portfolio_sites_changed),
                          (old.site_added, self._on_portfolio_site_added),
                          (old.site_removed, self._on_portfolio_site_removed),
                          (old.settings_changed, self._on_portfolio_settings_changed)):
            try:
                sig.disconnect(slot)
            except (ValueError, RuntimeError):
                pass
        self.undo_stack.clear()
        self.project = project
        self._save_path = save_path
        self._display_name = display_name
        self._current_site = ""
        p = project.portfolio
        self._locations = {s.site_id: (s.lon, s.lat) for s in p}
        p.sites_changed.connect(self._on_portfolio_sites_changed)
        p.site_added.connect(self._on_portfolio_site_added)
        p.site_removed.connect(self._on_portfolio_site_removed)
        p.settings_changed.connect(self._on_portfolio_settings_changed)
        self.scores = self._score_all()
        self.table_model.set_portfolio(p, self.scores)
        self._refresh_place_filter()
        self.site_form.set_portfolio(p, self.undo_stack)
        self.layers_panel.set_layers(project.layers)
        self.map_view.set_project(project, self.scores)
        self.undo_stack.setClean()
        self._update_title()
        self._update_counts()
        for w in getattr(project, "warnings", []) or []:
            self.show_status(str(w))
        self.project_changed.emit(project)
        self.scores_changed.emit(self.scores)
        self.current_site_changed.emit("")

    def _switch_lock(self, path: Path | None) -> bool:
        """Hold the lock of ``path`` (releasing the previous one); False when it cannot be taken."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        if path is not None:
            lock = ProjectLock(path)
            if not lock.acquire():
                return False
            self._lock = lock
        return True

    def open_project(self, path: str | os.PathLike[str]) -> bool:
        """Open a project file; on failure show the one-line error and keep the current project."""
        p = Path(path)
        try:
            project = gis_open_project(p)
        except PlannerError as e:
            self.show_error("Cannot open project", _first_line(e))
            return False
        except OSError as e:
            self.show_error("Cannot open project", f"{p.name}: {_first_line(e)}")
            return False
        except Exception as e:  # noqa: BLE001 - a damaged file must never take the app down
            import logging
            logging.getLogger(__name__).exception("opening %s failed", p)
            self.show_error("Cannot open project", f"{p.name}: {_first_line(e)}")
            return False
        real = Path(os.path.realpath(p))
        read_only = _is_bundled_sample(p) or not os.access(real, os.W_OK) or not os.access(real.parent, os.W_OK)
        why = "is read-only"
        if not read_only:
            owner = ProjectLock(p).other_owner()
            if owner is not None:
                if not dialogs.ask_yes_no(
                        self, "Project in use",
                        f"{p.name} is open in {ProjectLock.describe(owner)}. Open a copy? "
                        "(Save will ask for a new file, so nobody's edits are lost.)"):
                    return False
                read_only, why = True, "is open elsewhere"
        if read_only or not self._switch_lock(p):
            # never let any code path overwrite the installed sample, a read-only or a locked file
            project.path = None
            self._switch_lock(None)
            name = f"{p.name} (read-only copy)"
            self.set_project(project, None, name)
            self.show_status(f"{p.name} {why}: opened as a copy, Save asks for a new file")
        else:
            self.set_project(project, p.absolute(), p.name)
        self.settings.add_recent(p)
        self._save_settings()
        return True

    def new_project(self) -> None:
        """Replace the project with an empty one (basemap only); the caller confirms unsaved edits."""
        self._switch_lock(None)
        self.autosave.clear()
        self.set_project(new_project(), None, "Untitled")

    def save(self) -> bool:
        """Save to the current file, or ask for one (new or read-only projects)."""
        if self._save_path is None:
            return self._on_save_as_triggered()
        return self.save_as(self._save_path)

    def save_as(self, path: str | os.PathLike[str]) -> bool:
        """Save the project to ``path`` (atomic); the window then edits that file."""
        p = Path(path)
        if p.suffix.lower() != ".gpkg":
            p = p.with_name(p.name + ".gpkg")
        if _is_bundled_sample(p):
            self.show_error("Cannot save", f"{p.name} is the bundled sample; save your work under another name")
            return False
        same = self._save_path is not None and Path(p).absolute() == Path(self._save_path).absolute()
        try:
            try:
                written = save_project(self.project, p, expected_stamp=self.project.disk_stamp if same else None)
            except ProjectChangedError as e:
                if not dialogs.ask_yes_no(self, "Project changed on disk",
                                          f"{_first_line(e)}.\n\nReplace it with your version? Layers and tables "
                                          "added there are kept; sites are saved as you have them."):
                    return False
                written = save_project(self.project, p)
        except PlannerError as e:
            self.show_error("Cannot save project", _first_line(e))
            return False
        if self._save_path is None or written.resolve() != Path(self._save_path).resolve():
            self._switch_lock(written)
        self._save_path = written
        self._display_name = written.name
        self.undo_stack.setClean()
        self.autosave.clear()
        self.settings.add_recent(written)
        self._save_settings()
        self._update_title()
        self.show_status(f"Saved {written}")
        return True

    def recover(self, info: RecoveryInfo | None = None) -> bool:
        """Open an autosaved recovery copy; it shows as modified until saved."""
        try:
            project = self.autosave.recover(info)
        except PlannerError as e:
            self.show_error("Cannot recover", _first_line(e))
            return False
        original = Path(project.path) if project.path else None
        writable = original is not None and not _is_bundled_sample(original) \
            and os.access(original.parent, os.W_OK)
        if writable and original is not None and original.exists() and changed_on_disk(project):
            # someone saved the original after the autosave: never overwrite it unasked
            from planner.gis.project import compare_projects, open_project as _open
            try:
                lines = compare_projects(project, _open(original))
            except PlannerError as e:
                lines = [f"the file on disk cannot be read ({_first_line(e)})"]
            dialogs.show_error(self, "Project changed on disk",
                               f"{original.name} changed on disk after your work was autosaved (QGIS or a "
                               "colleague). Your recovered work opens as a copy: Save asks for a new name.\n\n"
                               "Recovered work compared with the file on disk:\n" + "\n".join(lines[:15]))
            writable = False
        if not writable:
            project.path = None
        self._switch_lock(original if writable else None)
        self.set_project(project, original if writable else None,
                         (original.name if writable and original else "Recovered project"))
        self.undo_stack.resetClean()  # unsaved until the user saves
        self._update_title()
        self.show_status("Recovered autosaved work; save it to keep it")
        return True

    def maybe_save(self) -> bool:
        """Ask Save/Discard/Cancel when there are unsaved edits; True means go ahead."""
        if not self.is_dirty():
            return True
        choice = dialogs.ask_save_changes(self, self._display_name)
        if choice == "save":
            return self.save()
        return choice == "discard"

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.maybe_save():
            event.ignore()
            return
        self.autosave.stop()
        self._proximity_timer.stop()
        self._map_timer.stop()
        self.autosave.clear()
        self._switch_lock(None)
        self.save_window_state()
        self._save_settings()
        release = getattr(self.map_view, "release", None)
        if callable(release):  # free the web page before the QApplication ends
            release()
        event.accept()

    def _save_settings(self) -> None:
        try:
            save_settings(self.settings)
        except OSError as e:
            self.show_status(f"Settings not saved: {_first_line(e)}")

    # == window state ========================================================================
    def save_window_state(self) -> None:
        """Store geometry and dock layout (QSettings)."""
        s = _window_settings()
        s.setValue("geometry", self.saveGeometry())
        s.setValue("state", self.saveState(WINDOW_STATE_VERSION))
        s.sync()

    def restore_window_state(self) -> bool:
        """Restore geometry and dock layout saved by a previous run; False when none."""
        s = _window_settings()
        geometry, state = s.value("geometry"), s.value("state")
        ok = False
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            ok = self.restoreGeometry(geometry)
        else:
            self.resize(1400, 900)
        if isinstance(state, QByteArray) and not state.isEmpty():
            ok = self.restoreState(state, WINDOW_STATE_VERSION) and ok
        return ok

    # == title, status =======================================================================
    def _update_title(self) -> None:
        star = "*" if self.is_dirty() else ""
        self.setWindowTitle(f"{self._display_name}{star} - {APP_NAME}")
        self.setWindowModified(self.is_dirty())

    def _on_undo_stack_clean_changed(self, _clean: bool) -> None:
        self._update_title()

    def show_status(self, message: str, timeout_ms: int = STATUS_TIMEOUT_MS) -> None:
        self.last_message = message
        self.statusBar().showMessage(message, timeout_ms)

    def show_error(self, title: str, message: str) -> None:
        """Status bar plus a message box with the one-line error."""
        self.show_status(message)
        dialogs.show_error(self, title, message)

    def _update_counts(self) -> None:
        n = len(self.project.portfolio)
        shown = self.proxy.rowCount()
        ready = sum(1 for r in self.scores.values() if getattr(r, "klass", None) == "ready_now")
        text = f"{n} sites"
        if shown != n:
            text += f" · {shown} shown"
        text += f" · {ready} ready now · {len(self.project.layers)} layers"
        self.count_label.setText(text)

    def _on_edit_rejected(self, message: str) -> None:
        self.show_status(message)
        QToolTip.showText(QCursor.pos(), message, self.table.viewport())

    # == scores and proximity =================================================================
    def _score_all(self) -> dict[str, Any]:
        try:
            return dict(score_portfolio(self.project.portfolio))
        except PlannerError as e:
            self.show_status(f"Readiness not scored: {_first_line(e)}")
            return {}

    def rescore(self, site_ids: Iterable[str] | None = None) -> None:
        """Recompute readiness (all sites, or ``site_ids``) and announce ``scores_changed``."""
        p = self.project.portfolio
        if site_ids is None:
            scores = self._score_all()
        else:
            scores = {k: v for k, v in self.scores.items() if k in p}
            try:
                for sid in site_ids:
                    if sid in p:
                        scores[sid] = score_site(p.get(sid), p.settings)
            except PlannerError as e:
                self.show_status(f"Readiness not scored: {_first_line(e)}")
                return
        self.scores = scores
        self.table_model.set_scores(scores)
        self.site_form.set_score(scores.get(self._current_site))
        self._update_counts()
        self._map_timer.start()
        self.scores_changed.emit(scores)

    def _refresh_map(self) -> None:
        self.map_view.refresh(self.scores)

    def run_task(self, label: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run ``fn(*args, progress=..., **kwargs)`` in a worker with a progress dialog (one at a time)."""
        if self._task_running:
            raise TaskBusy("another long task is still running; wait for it to finish and try again")
        self._task_running = True
        try:
            return run_with_progress(self, label, fn, *args, **kwargs)
        finally:
            self._task_running = False

    def schedule_proximity(self, site_ids: Iterable[str] | None = None) -> None:
        """Recompute proximity soon (coalesced; waits for a running task to finish)."""
        if site_ids is None or self._pending_proximity is None:
            self._pending_proximity = None
        else:
            self._pending_proximity |= set(site_ids)
        self._proximity_timer.start(0)

    def _on_proximity_timer_timeout(self) -> None:
        if self._task_running:
            self._proximity_timer.start(200)
            return
        pending, self._pending_proximity = self._pending_proximity, set()
        if pending is None:
            self.recompute_proximity()
        elif pending:
            self.recompute_proximity([s for s in pending if s in self.project.portfolio])

    def _apply_proximity_now(self, site_ids: list[str]) -> None:
        """Recompute proximity of a few sites in the GUI thread (a drag, an added site)."""
        if self._task_running:  # never measure while a worker uses the same layers
            self.schedule_proximity(site_ids)
            return
        self._in_proximity = True
        try:
            apply_proximity(self.project, site_ids)
        except PlannerError as e:
            self.show_status(f"Proximity not updated: {_first_line(e)}")
        finally:
            self._in_proximity = False

    def recompute_proximity(self, site_ids: Iterable[str] | None = None) -> bool:
        """Recompute proximity in a worker with a progress dialog (e.g. after a layer changed)."""
        p = self.project.portfolio
        ids = list(p.ids() if site_ids is None else site_ids)
        located = [sid for sid in ids if p.get(sid).has_location]
        if not located:
            return True
        shadow = SimpleNamespace(portfolio=Portfolio([p.get(s) for s in located], copy.deepcopy(p.settings)),
                                 layers=dict(self.project.layers))

        def job(progress: Callable[[float], None]) -> Portfolio:
            apply_proximity(shadow, None, progress)
            return shadow.portfolio

        try:
            result = self.run_task("Measuring distances to grid, fibre and stranded energy", job)
        except TaskCancelled:
            self.show_status("Proximity cancelled; distances may be out of date")
            return False
        except PlannerError as e:
            self.show_error("Proximity failed", _first_line(e))
            return False
        updated = []
        for sid in located:
            if sid in p and sid in result:
                cur = p.get(sid)
                new = cur.with_computed({k: result.get(sid).get(k) for k in COMPUTED_FIELDS})
                if new != cur:
                    updated.append(new)
        if updated:
            self._in_proximity = True
            try:
                p.replace_sites(updated)
            finally:
                self._in_proximity = False
            self.rescore([s.site_id for s in updated])
        return True

    # == portfolio signals =====================================================================
    def _on_portfolio_sites_changed(self, ids: list[str]) -> None:
        p = self.project.portfolio
        moved = []
        for sid in ids:
            if sid not in p:
                continue
            s = p.get(sid)
            loc = (s.lon, s.lat)
            if self._locations.get(sid) != loc:
                self._locations[sid] = loc
                if s.has_location:
                    moved.append(sid)
        if self._in_proximity:
            return  # the caller re-scores once proximity is stored
        if moved:
            self._apply_proximity_now(moved)
        self.rescore(ids)

    def _on_portfolio_site_added(self, site_id: str) -> None:
        site = self.project.portfolio.get(site_id)
        self._refresh_place_filter()
        self._locations[site_id] = (site.lon, site.lat)
        if site.has_location and all(site.get(k) is None for k in COMPUTED_FIELDS):
            self._apply_proximity_now([site_id])
        self.rescore([site_id])

    def _on_portfolio_site_removed(self, site_id: str) -> None:
        self._locations.pop(site_id, None)
        if site_id == self._current_site:
            self.set_current_site("")
        self.rescore([])

    def _on_portfolio_settings_changed(self, key: str) -> None:
        if key == "proximity":
            self.schedule_proximity()
        self.rescore()

    # == selection ==============================================================================
    @property
    def current_site(self) -> str:
        return self._current_site

    def set_current_site(self, site_id: str) -> None:
        """Select ``site_id`` ("" for none) in the table, the form and the map."""
        if site_id and site_id not in self.project.portfolio:
            site_id = ""
        if site_id == self._current_site:
            return
        self._current_site = site_id
        row = self.table_model.row_of(site_id) if site_id else -1
        if row >= 0:
            proxy_index = self.proxy.mapFromSource(self.table_model.index(row, 0))
            if proxy_index.isValid():
                sm = self.table.selectionModel()
                sm.blockSignals(True)
                try:
                    sm.setCurrentIndex(proxy_index, sm.SelectionFlag.ClearAndSelect | sm.SelectionFlag.Rows)
                finally:
                    sm.blockSignals(False)
                self.table.viewport().update()
                self.table.scrollTo(proxy_index)
        else:
            self.table.selectionModel().clearSelection()
        self.site_form.set_site(site_id, self.scores.get(site_id))
        if site_id:
            self.map_view.select_site(site_id)
        self.current_site_changed.emit(site_id)

    def selected_site_ids(self) -> list[str]:
        """Selected rows in table order, or the current site when nothing is selected."""
        rows = sorted({self.proxy.mapToSource(i).row() for i in self.table.selectionModel().selectedRows()})
        ids = [sid for r in rows if (sid := self.table_model.site_id_at(r))]
        return ids or ([self._current_site] if self._current_site else [])

    def _on_table_current_row_changed(self, current: Any, _previous: Any) -> None:
        sid = current.data(SITE_ID_ROLE) if current.isValid() else ""
        self.set_current_site(sid or "")

    def _on_map_site_clicked(self, site_id: str) -> None:
        self.set_current_site(site_id)

    def _on_map_map_clicked(self, lon: float, lat: float) -> None:
        if self.mode_actions["add"].isChecked():
            self.add_site(lon, lat)
            self.set_map_mode("browse")

    def _on_map_site_moved(self, site_id: str, lon: float, lat: float) -> None:
        self.move_site(site_id, lon, lat)

    def _on_filters_changed(self, *_: Any) -> None:
        self.proxy.set_text(self.filter_edit.text())
        cls = self.class_combo.currentData()
        self.proxy.set_classes({cls} if cls else set())
        st = self.status_combo.currentData()
        self.proxy.set_statuses({st} if st else set())
        low, high = self.min_score_spin.value(), self.max_score_spin.value()
        self.proxy.set_score_range(low if low > 0 else None, high if high < 100 else None)
        kind, _, value = (self.place_combo.currentData() or "").partition(":")
        self.proxy.set_countries({value} if kind == "country" else set())
        self.proxy.set_admin1({value} if kind == "admin1" else set())
        self._update_counts()

    def _refresh_place_filter(self) -> None:
        """Countries and states/provinces of the current sites, for the place filter."""
        current = self.place_combo.currentData()
        countries = sorted({s.country for s in self.project.portfolio if s.country})
        states = sorted({(s.country or "", s.admin1) for s in self.project.portfolio if s.admin1})
        self.place_combo.blockSignals(True)
        self.place_combo.clear()
        self.place_combo.addItem("All places", "")
        for c in countries:
            self.place_combo.addItem(f"Country: {c}", f"country:{c}")
        for c, a in states:
            self.place_combo.addItem(f"State: {a} ({c})" if c else f"State: {a}", f"admin1:{a}")
        index = self.place_combo.findData(current) if current else 0
        self.place_combo.setCurrentIndex(max(index, 0))
        self.place_combo.blockSignals(False)

    # == edits ==================================================================================
    def set_map_mode(self, mode: str) -> None:
        """Switch the map between browse, add, move and measure."""
        if mode not in self.mode_actions:
            raise ValueError(f"unknown map mode {mode!r}; use one of {', '.join(self.mode_actions)}")
        self.mode_actions[mode].setChecked(True)
        self.map_view.set_mode(mode)
        hints = {"add": "Click on the map to place the new site (Esc: View > Map mode > Browse)",
                 "move": "Drag a site to move it; distances and scores update after the drop"}
        if mode in hints:
            self.show_status(hints[mode], 0)

    def add_site(self, lon: float | None = None, lat: float | None = None) -> str:
        """Add a new site (optionally at lon/lat) as one undo step; returns its ID."""
        p = self.project.portfolio
        sid = p.unique_id("NEW-SITE")
        try:
            site = Site.create(site_id=sid, name="New site", status="pipeline",
                               lon=lon, lat=lat, location_precision="exact" if lon is not None else None)
        except SiteError as e:
            self.show_error("Cannot add site", _first_line(e))
            return ""
        self.undo_stack.push(AddSiteCommand(p, site))
        self.set_current_site(sid)
        return sid

    def delete_sites(self, site_ids: Iterable[str]) -> None:
        ids = [s for s in site_ids if s in self.project.portfolio]
        if ids:
            self.undo_stack.push(DeleteSitesCommand(self.project.portfolio, ids))

    def duplicate_site(self, site_id: str) -> str:
        """Copy a site under a new ID; returns the new ID."""
        try:
            cmd = DuplicateSiteCommand(self.project.portfolio, site_id)
        except PlannerError as e:
            self.show_error("Cannot duplicate site", _first_line(e))
            return ""
        self.undo_stack.push(cmd)
        self.set_current_site(cmd.new_id)
        return cmd.new_id

    def bulk_edit(self, site_ids: Iterable[str], field: str, value: Any) -> bool:
        """Set ``field`` on all ``site_ids`` as one undo step; refused entirely on any invalid site."""
        try:
            cmd = BulkEditCommand.create(self.project.portfolio, list(site_ids), field, value)
        except PlannerError as e:
            self.show_error("Bulk edit refused", _first_line(e))
            return False
        self.undo_stack.push(cmd)
        return True

    def move_site(self, site_id: str, lon: float, lat: float) -> bool:
        """Move a site (undoable); proximity and readiness follow."""
        try:
            cmd = MoveSiteCommand(self.project.portfolio, site_id, lon, lat)
        except PlannerError as e:
            self.show_error("Cannot move site", _first_line(e))
            self._map_timer.start()  # put the marker back where the store says
            return False
        self.undo_stack.push(cmd)
        return True

    def import_sites_from(self, path: str | os.PathLike[str]) -> int:
        """Import sites from a file as one undo step; returns how many were added (0 on failure)."""
        p = Path(path)
        layers = dict(self.project.layers)
        settings = copy.deepcopy(self.project.portfolio.settings)
        taken = set(self.project.portfolio.ids())

        def job(progress: Callable[[float], None]) -> tuple[list[Site], Any, list[str]]:
            sites, report = gis_io.import_sites(p, progress=lambda f: progress(0.7 * f))
            renamed = []
            out = []
            for s in sites:
                if s.site_id in taken:
                    new_id = s.site_id
                    n = 2
                    while new_id in taken:
                        new_id, n = f"{s.site_id}-{n}", n + 1
                    renamed.append(f"{s.site_id} -> {new_id}")
                    s = s.replace(site_id=new_id)
                taken.add(s.site_id)
                out.append(s)
            shadow = SimpleNamespace(portfolio=Portfolio(out, settings), layers=layers)
            located = [s.site_id for s in out if s.has_location]
            if located:
                apply_proximity(shadow, located, lambda f: progress(0.7 + 0.3 * f))
            return list(shadow.portfolio), report, renamed

        try:
            sites, report, renamed = self.run_task(f"Importing sites from {p.name}", job)
        except TaskCancelled:
            self.show_status("Import cancelled; nothing was changed")
            return 0
        except PlannerError as e:
            self.show_error("Import failed", _first_line(e))
            return 0
        except OSError as e:
            self.show_error("Import failed", f"{p.name}: {_first_line(e)}")
            return 0
        if not sites:
            self.show_status(f"{p.name}: no sites found")
            return 0
        self.undo_stack.push(AddSiteCommand(self.project.portfolio, sites,
                                            text=f"Import {len(sites)} sites from {p.name}"))
        msg = report.summary() if hasattr(report, "summary") else f"Imported {len(sites)} sites"
        if renamed:
            msg += f" Renamed duplicate IDs: {', '.join(renamed[:5])}{' …' if len(renamed) > 5 else ''}."
        self.show_status(msg, 0)
        return len(sites)

    def import_layer_from(self, path: str | os.PathLike[str], kind: str) -> str:
        """Import a map layer of ``kind`` as one undo step; returns the layer name ("" on failure)."""
        p = Path(path)
        if kind not in LAYER_KINDS:
            self.show_error("Import failed", f"unknown layer kind {kind!r}; use one of {', '.join(LAYER_KINDS)}")
            return ""
        try:
            gdf, report = self.run_task(f"Importing layer {p.name}", gis_io.read_layer, p, kind=kind)
        except TaskCancelled:
            self.show_status("Import cancelled; nothing was changed")
            return ""
        except PlannerError as e:
            self.show_error("Import failed", _first_line(e))
            return ""
        except OSError as e:
            self.show_error("Import failed", f"{p.name}: {_first_line(e)}")
            return ""
        name = safe_layer_name(p.stem, self.project.layers)
        try:
            layer = MapLayer(name=name, kind=kind, title=p.stem, gdf=gdf, source=str(p), style=default_style(kind))
        except PlannerError as e:
            self.show_error("Import failed", _first_line(e))
            return ""
        self.undo_stack.push(AddLayerCommand(self.project, layer, self._on_project_layers_changed))
        self.show_status(report.summary() if hasattr(report, "summary") else f"Imported layer {name}", 0)
        return name

    def remove_layer(self, name: str) -> None:
        if name in self.project.layers:
            self.undo_stack.push(RemoveLayerCommand(self.project, name, self._on_project_layers_changed))

    def _on_project_layers_changed(self, name: str) -> None:
        self.layers_panel.set_layers(self.project.layers)
        self.map_view.set_project(self.project, self.scores)
        self._update_counts()
        layer = self.project.layers.get(name)
        kinds = {getattr(layer, "kind", None)} if layer is not None else set(LAYER_KINDS_USED)
        if kinds & set(LAYER_KINDS_USED):
            # deferred: never open a progress loop from inside QUndoStack.push()/undo()
            self.schedule_proximity()

    def _on_layers_visibility_changed(self, name: str, kind: str, visible: bool) -> None:
        self.map_view.set_layer_visible(kind, visible)

    # == menu handlers ===========================================================================
    def _on_new_triggered(self) -> None:
        if self.maybe_save():
            self.new_project()

    def _on_open_triggered(self) -> None:
        if not self.maybe_save():
            return
        start = str(Path(self.settings.recent_files[0]).parent) if self.settings.recent_files else ""
        path = dialogs.ask_open_path(self, start)
        if path is not None:
            self.open_project(path)

    def _on_recent_menu_about_to_show(self) -> None:
        self.recent_menu.clear()
        if not self.settings.recent_files:
            a = self.recent_menu.addAction("(none)")
            a.setEnabled(False)
            return
        for path in self.settings.recent_files:
            a = self.recent_menu.addAction(Path(path).name)
            a.setToolTip(plain_tooltip(path))
            a.setStatusTip(path)
            a.triggered.connect(lambda _c=False, p=path: self._on_recent_triggered(p))
        self.recent_menu.addSeparator()
        clear = self.recent_menu.addAction("Clear list")
        clear.triggered.connect(self._on_clear_recent_triggered)

    def _on_recent_triggered(self, path: str) -> None:
        if not Path(path).exists():
            self.settings.remove_recent(path)
            self._save_settings()
            self.show_error("Cannot open project", f"{Path(path).name}: file not found at {path}; removed from the list")
            return
        if self.maybe_save():
            self.open_project(path)

    def _on_clear_recent_triggered(self) -> None:
        self.settings.recent_files = []
        self._save_settings()

    def _on_save_as_triggered(self) -> bool:
        suggested = str(self._save_path) if self._save_path else \
            str(Path.home() / (re.sub(r"[^\w.-]+", "_", self.project.portfolio.name or "portfolio") + ".gpkg"))
        path = dialogs.ask_save_path(self, suggested)
        return self.save_as(path) if path is not None else False

    def _on_import_sites_triggered(self) -> None:
        path = dialogs.ask_import_path(self, "Import sites")
        if path is not None:
            self.import_sites_from(path)

    def _on_import_layer_triggered(self) -> None:
        path = dialogs.ask_import_path(self, "Import layer")
        if path is None:
            return
        kind = dialogs.ask_layer_kind(self, list(LAYER_KINDS), "other")
        if kind is not None:
            self.import_layer_from(path, kind)

    def _on_add_site_triggered(self) -> None:
        self.set_map_mode("add")

    def _on_delete_triggered(self) -> None:
        self.delete_sites(self.selected_site_ids())

    def _on_duplicate_triggered(self) -> None:
        if self._current_site:
            self.duplicate_site(self._current_site)

    def _on_bulk_edit_triggered(self) -> None:
        ids = self.selected_site_ids()
        if not ids:
            self.show_status("Select one or more sites in the table first")
            return
        answer = dialogs.ask_bulk_edit(self, len(ids))
        if answer is not None:
            self.bulk_edit(ids, *answer)

    def _on_about_triggered(self) -> None:
        dialogs.show_about(self, self.attribution_text())

    def attribution_text(self) -> str:
        """DATA_ATTRIBUTION.md when bundled, plus the sources of the open project's layers."""
        text = ""
        candidates = [Path(__file__).resolve().parents[2] / "DATA_ATTRIBUTION.md"]
        for kind in ("resources", "maps"):
            try:
                candidates.append(asset_dir(kind) / "DATA_ATTRIBUTION.md")
            except AssetError:
                pass
        for c in candidates:
            if c.is_file():
                text = c.read_text(encoding="utf-8")
                break
        sources = sorted({f"{lyr.title}: {lyr.source}" for lyr in self.project.layers.values() if lyr.source})
        if sources:
            text += ("\n\n" if text else "") + "Layers in this project:\n" + "\n".join(sources)
        return text or "No attribution file is bundled and the project has no layers."
