"""Composition root of the desktop app: QApplication, icon, settings, main window.

Opening order: the file given on the command line, else the last project, else the
bundled sample (opened as a read-only copy so Save asks for a new file). A recovery copy
left by a crashed session is offered first.
"""
from __future__ import annotations

import contextlib
import os
import sys
import warnings
from pathlib import Path

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from planner import APP_NAME, __version__
from planner.assets import AssetError, asset_path, sample_project
from planner.settings import AppSettings, SettingsWarning, load_settings, save_settings


def app_icon() -> QIcon:
    """The application icon (empty icon when the asset is missing, never an error)."""
    try:
        return QIcon(str(asset_path("resources", "icons/app.svg")))
    except AssetError:
        return QIcon()


def _load_settings_with_notice() -> tuple[AppSettings, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SettingsWarning)
        settings = load_settings()
    return settings, [str(w.message) for w in caught if issubclass(w.category, SettingsWarning)]


def choose_start_path(project_path: str | os.PathLike[str] | None, settings: AppSettings) -> Path | None:
    """The project to open at start: explicit path, else the last project if it exists, else the sample."""
    if project_path:
        return Path(project_path)
    if settings.last_project and Path(settings.last_project).is_file():
        return Path(settings.last_project)
    try:
        return sample_project()
    except AssetError:
        return None


def run_gui(project_path: str | os.PathLike[str] | None = None) -> int:
    """Start the desktop application and return its exit code."""
    from planner.ui import dialogs
    from planner.ui.main_window import MainWindow

    from planner.reports.render_qt import add_chromium_security_flags

    add_chromium_security_flags()  # WebRTC without non-proxied UDP; Chromium reads it once, at start
    from planner.logs import setup_logging

    setup_logging()  # library warnings go to the log file, not to the terminal
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setDesktopFileName("site-conversion-planner")  # matches packaging/*.desktop (Wayland app id)
    app.setApplicationVersion(__version__)
    app.setOrganizationName("planner")
    app.setWindowIcon(app_icon())

    settings, notices = _load_settings_with_notice()
    window = MainWindow(settings)
    window.setWindowIcon(app_icon())
    window.show()
    for n in notices:
        window.show_status(n)

    recovered = False
    found = window.autosave.find_recovery()
    if found:
        if dialogs.ask_recover(window, [i.describe() for i in found]):
            recovered = window.recover(found[0])
        else:
            for info in found:
                window.autosave.discard(info)
    if not recovered:
        start = choose_start_path(project_path, settings)
        if project_path is None and settings.last_project:
            # forget the last project until it has opened: a file that breaks opening never blocks the next start
            settings.last_project = None
            with contextlib.suppress(OSError):
                save_settings(settings)
        if start is not None and not window.open_project(start) and project_path is None \
                and start != _safe_sample():
            window.open_project(sample_project())  # a broken last project: fall back to the sample
    return int(app.exec())


def _safe_sample() -> Path | None:
    try:
        return sample_project()
    except AssetError:
        return None
