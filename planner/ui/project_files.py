"""Project files for the main window: open, new, save, save as, recover, lock, recent files.

The window shows one project at a time (:meth:`MainWindow.set_project`); this object decides
which file it edits and how: the bundled sample and read-only files open as copies (Save asks
for a new file), a file open in another planner asks first, and a lock file marks ours.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMenu

from planner.gis.project import (Project, ProjectChangedError, changed_on_disk, compare_projects, new_project,
                                 open_project as gis_open_project, save_project)
from planner.model.site import PlannerError, first_line
from planner.session import is_bundled_sample, writable_project
from planner.settings import save_settings
from planner.ui import dialogs
from planner.ui.autosave import ProjectLock, RecoveryInfo
from planner.ui.text import plain_tooltip

if TYPE_CHECKING:
    from planner.ui.main_window import MainWindow


class ProjectFiles(QObject):
    """Which file the window edits (``save_path``, ``display_name``) and its lock."""

    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.save_path: Path | None = None
        self.display_name = "Untitled"
        self.lock: ProjectLock | None = None
        #: the file the unedited project was read from or last saved to (None for new projects)
        self.opened_from: Path | None = None

    def _switch_lock(self, path: Path | None) -> bool:
        """Hold the lock of ``path`` (releasing the previous one); False when it cannot be taken."""
        if self.lock is not None:
            self.lock.release()
            self.lock = None
        if path is not None:
            lock = ProjectLock(path)
            if not lock.acquire():
                return False
            self.lock = lock
        return True

    def _show(self, project: Project, save_path: Path | None, name: str) -> None:
        self.window.set_project(project, save_path, name)

    @staticmethod
    def read(path: str | os.PathLike[str], progress: object = None) -> Project:
        """Read a project file (no window state touched: safe on a worker thread, see ``planner.app``)."""
        return gis_open_project(Path(path))

    def open(self, path: str | os.PathLike[str], project: Project | None = None) -> bool:
        """Open a project file (``project``: already read by :meth:`read`); on failure show the
        one-line error and keep the current project."""
        w = self.window
        p = Path(path)
        try:
            if project is None:
                project = gis_open_project(p)
        except PlannerError as e:
            w.show_error("Cannot open project", first_line(e))
            return False
        except OSError as e:
            w.show_error("Cannot open project", f"{p.name}: {first_line(e)}")
            return False
        except Exception as e:  # noqa: BLE001 - a damaged file must never take the app down
            import logging
            logging.getLogger(__name__).exception("opening %s failed", p)
            w.show_error("Cannot open project", f"{p.name}: {first_line(e)}")
            return False
        read_only, why = not writable_project(p), "is read-only"
        if not read_only:
            owner = ProjectLock(p).other_owner()
            if owner is not None:
                if not dialogs.ask_yes_no(
                        w, "Project in use",
                        f"{p.name} is open in {ProjectLock.describe(owner)}. Open a copy? "
                        "(Save will ask for a new file, so nobody's edits are lost.)"):
                    return False
                read_only, why = True, "is open elsewhere"
        if read_only or not self._switch_lock(p):
            # never let any code path overwrite the installed sample, a read-only or a locked file
            project.path = None
            self._switch_lock(None)
            self.opened_from = p
            self._show(project, None, f"{p.name} (read-only copy)")
            w.show_status(f"{p.name} {why}: opened as a copy, Save asks for a new file")
        else:
            self.opened_from = p  # unedited: its map page may come from the cache (was set for copies only)
            self._show(project, p.absolute(), p.name)
        w.settings.add_recent(p)
        self.save_settings()
        return True

    def new(self) -> None:
        """Replace the project with an empty one (basemap only); the caller confirms unsaved edits."""
        self._switch_lock(None)
        self.window.autosave.clear()
        self.opened_from = None
        self._show(new_project(), None, "Untitled")

    def save(self) -> bool:
        """Save to the current file, or ask for one (new or read-only projects)."""
        if self.save_path is None:
            return self.ask_save_as()
        return self.save_as(self.save_path)

    def ask_save_as(self) -> bool:
        w = self.window
        suggested = str(self.save_path) if self.save_path else \
            str(Path.home() / (re.sub(r"[^\w.-]+", "_", w.session.portfolio.name or "portfolio") + ".gpkg"))
        path = dialogs.ask_save_path(w, suggested)
        return self.save_as(path) if path is not None else False

    def save_as(self, path: str | os.PathLike[str]) -> bool:
        """Save the project to ``path`` (atomic); the window then edits that file."""
        w = self.window
        p = Path(path)
        if p.suffix.lower() != ".gpkg":
            p = p.with_name(p.name + ".gpkg")
        if is_bundled_sample(p):
            w.show_error("Cannot save", f"{p.name} is the bundled sample; save your work under another name")
            return False
        project = w.session.project
        same = self.save_path is not None and p.absolute() == Path(self.save_path).absolute()
        try:
            try:
                written = save_project(project, p, expected_stamp=project.disk_stamp if same else None)
            except ProjectChangedError as e:
                if not dialogs.ask_yes_no(w, "Project changed on disk",
                                          f"{first_line(e)}.\n\nReplace it with your version? Layers and tables "
                                          "added there are kept; sites are saved as you have them."):
                    return False
                written = save_project(project, p)
        except PlannerError as e:
            w.show_error("Cannot save project", first_line(e))
            return False
        if self.save_path is None or written.resolve() != Path(self.save_path).resolve():
            self._switch_lock(written)
        self.save_path = written
        self.opened_from = written
        self.display_name = written.name
        w.undo_stack.setClean()
        w.autosave.clear()
        w.settings.add_recent(written)
        self.save_settings()
        w.update_title()
        w.show_status(f"Saved {written}")
        return True

    def recover(self, info: RecoveryInfo | None = None) -> bool:
        """Open an autosaved recovery copy; it shows as modified until saved."""
        w = self.window
        try:
            project = w.autosave.recover(info)
        except PlannerError as e:
            w.show_error("Cannot recover", first_line(e))
            return False
        original = Path(project.path) if project.path else None
        writable = original is not None and not is_bundled_sample(original) and os.access(original.parent, os.W_OK)
        if writable and original is not None and original.exists() and changed_on_disk(project):
            # someone saved the original after the autosave: never overwrite it unasked
            try:
                lines = compare_projects(project, gis_open_project(original))
            except PlannerError as e:
                lines = [f"the file on disk cannot be read ({first_line(e)})"]
            dialogs.show_error(w, "Project changed on disk",
                               f"{original.name} changed on disk after your work was autosaved (QGIS or a "
                               "colleague). Your recovered work opens as a copy: Save asks for a new name.\n\n"
                               "Recovered work compared with the file on disk:\n" + "\n".join(lines[:15]))
            writable = False
        if not writable:
            project.path = None
        self._switch_lock(original if writable else None)
        self.opened_from = None  # recovered edits are not the file's content
        self._show(project, original if writable else None,
                   original.name if writable and original else "Recovered project")
        w.undo_stack.resetClean()  # unsaved until the user saves
        w.update_title()
        w.show_status("Recovered autosaved work; save it to keep it")
        return True

    def maybe_save(self) -> bool:
        """Ask Save/Discard/Cancel when there are unsaved edits; True means go ahead."""
        if not self.window.is_dirty():
            return True
        choice = dialogs.ask_save_changes(self.window, self.display_name)
        if choice == "save":
            return self.save()
        return choice == "discard"

    def close(self) -> None:
        """The window closes: drop the lock and keep the settings."""
        self._switch_lock(None)
        self.save_settings()

    def save_settings(self) -> None:
        try:
            save_settings(self.window.settings)
        except OSError as e:
            self.window.show_status(f"Settings not saved: {first_line(e)}")

    # -- recent files menu ---------------------------------------------------------------------
    def on_recent_menu_about_to_show(self) -> None:
        """Fill File > Open Recent from the settings."""
        menu: QMenu = self.window.recent_menu
        menu.clear()
        recent = self.window.settings.recent_files
        if not recent:
            menu.addAction("(none)").setEnabled(False)
            return
        for path in recent:
            a = menu.addAction(Path(path).name)
            a.setToolTip(plain_tooltip(path))
            a.setStatusTip(path)
            a.triggered.connect(lambda _c=False, p=path: self._on_recent_triggered(p))
        menu.addSeparator()
        menu.addAction("Clear list").triggered.connect(self._on_clear_recent_triggered)

    def _on_recent_triggered(self, path: str) -> None:
        w = self.window
        if not Path(path).exists():
            w.settings.remove_recent(path)
            self.save_settings()
            w.show_error("Cannot open project", f"{Path(path).name}: file not found at {path}; removed from the list")
            return
        if self.maybe_save():
            self.open(path)

    def _on_clear_recent_triggered(self) -> None:
        self.window.settings.recent_files = []
        self.save_settings()
