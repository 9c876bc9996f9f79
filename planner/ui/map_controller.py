"""The main window's map: modes, clicks and drags, selection, layer visibility, coalesced redraws.

Everything the window does with ``window.map_view`` goes through here, so the window only wires.
The map widget is :class:`planner.ui.map_view.MapView` (or a test double with its signals).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction

if TYPE_CHECKING:
    from planner.ui.main_window import MainWindow

MODE_HINTS = {"add": "Click on the map to place the new site (Esc: View > Map mode > Browse)",
              "move": "Drag a site to move it; distances and scores update after the drop"}


def file_key(path: str | Path) -> str | None:
    """A project file's identity for the map page cache: resolved path, size and modification time."""
    try:
        st = Path(path).stat()
        return f"{Path(path).resolve()}|{st.st_size}|{st.st_mtime_ns}"
    except OSError:
        return None


class MapController(QObject):
    """Connects the map widget to the window's session and widgets."""

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.w = window
        self.view = window.map_view
        self._from_map = False  # the selection came from a click on the map: do not move the view
        self.refresh_timer = self._single_shot(50)  # coalesces marker refreshes after score bursts
        self.reload_timer = self._single_shot(0)    # one page rebuild for a step adding several layers
        for name in ("site_clicked", "map_clicked", "site_moved"):
            if not hasattr(self.view, name):
                raise TypeError(f"map widget {type(self.view).__name__} lacks the {name} signal")
        self.view.site_clicked.connect(self._on_view_site_clicked)
        self.view.map_clicked.connect(self._on_view_map_clicked)
        self.view.site_moved.connect(window.move_site)
        self.refresh_timer.timeout.connect(self._on_refresh_timer_timeout)
        self.reload_timer.timeout.connect(self._on_reload_timer_timeout)
        window.mode_group.triggered.connect(self._on_mode_group_triggered)
        window.layers_panel.layer_visibility_changed.connect(self._on_layers_visibility_changed)
        window.sites.shown_changed.connect(self._on_sites_shown_changed)

    def _single_shot(self, interval_ms: int) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(interval_ms)
        return timer

    def _on_sites_shown_changed(self) -> None:
        """The map shows what the sites table shows: its filters limit the markers and legend counts."""
        if hasattr(self.view, "set_site_filter"):
            self.view.set_site_filter(self.w.sites.shown_site_ids())

    def stop(self) -> None:
        self.refresh_timer.stop()
        self.reload_timer.stop()

    # -- what the window asks for ----------------------------------------------------------------
    def show_project(self) -> None:
        """Draw the session's project (a page from the cache while the opened file is unedited)."""
        w = self.w
        key = self.cache_key()
        if key is not None and getattr(self.view, "caches_pages", False):
            self.view.set_project(w.project, w.scores, cache_key=key)
        else:
            self.view.set_project(w.project, w.scores)

    def cache_key(self) -> str | None:
        """The opened file's identity while the project is unedited (its map page may come from the cache)."""
        src = getattr(self.w.files, "opened_from", None)
        if src is None or not self.w.undo_stack.isClean():
            return None
        return file_key(src)

    def preload(self, path: str | Path) -> bool:
        """Start loading the cached map page of the file ``path`` before it is read (start-up); True if cached."""
        key = file_key(path)
        preload = getattr(self.view, "preload", None)
        return bool(key is not None and callable(preload) and preload(key, path))

    def select(self, site_id: str) -> None:
        """Highlight ``site_id`` and open its popup; pans to it unless the click came from the map."""
        self.view.select_site(site_id, pan=not self._from_map)

    def scores_changed(self, scores: object) -> None:
        if scores is not getattr(self.view, "scores", None):  # a new project's page has them already
            self.refresh_timer.start()

    def set_mode(self, mode: str) -> None:
        """Switch the map between browse, add, move and measure."""
        w = self.w
        if mode not in w.mode_actions:
            raise ValueError(f"unknown map mode {mode!r}; use one of {', '.join(w.mode_actions)}")
        w.mode_actions[mode].setChecked(True)
        self.view.set_mode(mode)
        if mode in MODE_HINTS:
            w.show_status(MODE_HINTS[mode], 0)
        elif w.statusBar().currentMessage() in MODE_HINTS.values():
            w.statusBar().clearMessage()  # the hint of the mode just left (it had no timeout)

    def zoom_to_sites(self) -> None:
        zoom = getattr(self.view, "zoom_to_sites", None)
        if callable(zoom):
            zoom()

    # -- map widget and panel signals --------------------------------------------------------------
    # bound methods, not lambdas: Qt drops them with the window, so a last signal during teardown
    # never reaches a deleted window
    def _on_view_site_clicked(self, site_id: str) -> None:
        self._from_map = True
        try:
            self.w.set_current_site(site_id)
        finally:
            self._from_map = False

    def _on_view_map_clicked(self, lon: float, lat: float) -> None:
        if self.w.mode_actions["add"].isChecked():
            self.w.add_site(lon, lat)
            self.set_mode("browse")

    def _on_mode_group_triggered(self, action: QAction) -> None:
        self.set_mode(action.data())

    def _on_layers_visibility_changed(self, name: str, kind: str, visible: bool) -> None:
        self.w.session.set_layer_visible(name, visible)
        by_name = getattr(self.view, "set_layer_visible_by_name", None)
        if callable(by_name):
            by_name(name, visible)
        else:
            self.view.set_layer_visible(kind, visible)

    def _on_refresh_timer_timeout(self) -> None:
        self.view.refresh(self.w.scores)

    def _on_reload_timer_timeout(self) -> None:
        reload = getattr(self.view, "reload", None)  # keeps view, selection and legend state
        if callable(reload):
            reload(self.w.scores)
        else:
            self.view.set_project(self.w.project, self.w.scores)
