"""Tools > Screen region…: the menu action; the dialog (and the screening engine) load on first use.

Kept apart from :mod:`planner.ui.screening_dialog` so that building the main window does not
import the screening engine (``planner.gis.screening``) at start-up.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu


def install_screening_action(window: Any) -> QAction:
    """Add Tools > Screen region… to ``window`` (creating the Tools menu if needed); returns the action."""
    menu = getattr(window, "tools_menu", None)
    if menu is None:
        menu = QMenu("&Tools", window)
        help_menu = getattr(window, "help_menu", None)
        if help_menu is not None:  # File Edit View Tools Help
            window.menuBar().insertMenu(help_menu.menuAction(), menu)
        else:
            window.menuBar().addMenu(menu)
        window.tools_menu = menu
    action = QAction("&Screen region…", window)
    action.setStatusTip("Find candidate cells for new sites near grid, fibre and stranded energy")

    def open_dialog() -> None:
        dialog = getattr(window, "screening_dialog", None)
        if dialog is None:
            from planner.ui.screening_dialog import ScreeningDialog

            dialog = ScreeningDialog(window)
            window.screening_dialog = dialog
        else:
            dialog.refresh_inputs()
        dialog.show()
        dialog.raise_()

    action.triggered.connect(lambda _checked=False: open_dialog())
    menu.addAction(action)
    window.screen_region_action = action
    return action
