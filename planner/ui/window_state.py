"""Window geometry and dock layout between runs (QSettings INI next to the TOML settings)."""
from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow

from planner.settings import config_dir
from planner.ui.layout import first_layout

WINDOW_STATE_VERSION = 2  # 2: panels in scroll areas (a layout saved by version 1 is not reused)


def _window_settings() -> QSettings:
    return QSettings(str(config_dir() / "window.ini"), QSettings.Format.IniFormat)


def save_window_state(window: QMainWindow) -> None:
    """Store geometry and dock layout."""
    s = _window_settings()
    s.setValue("geometry", window.saveGeometry())
    s.setValue("state", window.saveState(WINDOW_STATE_VERSION))
    s.sync()


def restore_window_state(window: QMainWindow) -> bool:
    """Restore geometry and dock layout saved by a previous run; False when none (default size)."""
    s = _window_settings()
    geometry, state = s.value("geometry"), s.value("state")
    ok = isinstance(geometry, QByteArray) and not geometry.isEmpty() and window.restoreGeometry(geometry)
    restored = isinstance(state, QByteArray) and not state.isEmpty() \
        and window.restoreState(state, WINDOW_STATE_VERSION)
    if not ok or not restored:
        first_layout(window)  # sized to the screen (maximised on laptops), docks in proportion
    return bool(ok and restored)
