"""pyqtgraph chart panels and the assumptions editor, installed into the main window as docks.

``install_panels(window)`` adds: Readiness and Assumptions (right, tabbed with the site form),
Paths, Mining economics, Hybrid load and Market context (bottom, tabbed with the sites table).
Each panel also runs alone: ``python -m planner.ui.panels.mining``.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget

from planner.ui.panels.base import ChartPanel, PanelHost
from planner.ui.panels.hybrid import HybridPanel
from planner.ui.panels.market import MarketPanel
from planner.ui.panels.mining import MiningPanel
from planner.ui.panels.paths import PathsPanel
from planner.ui.panels.readiness import ReadinessPanel

__all__ = ["ChartPanel", "HybridPanel", "MarketPanel", "MiningPanel", "PanelHost", "PathsPanel", "ReadinessPanel",
           "install_panels"]

RIGHT = Qt.DockWidgetArea.RightDockWidgetArea
BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea

# (attribute/key, title, class, area, dock object name)
PANELS: tuple[tuple[str, str, Any, Qt.DockWidgetArea, str], ...] = (
    ("readiness", "Readiness", ReadinessPanel, RIGHT, "panel_readiness"),
    ("paths", "Paths", PathsPanel, BOTTOM, "panel_paths"),
    ("mining", "Mining economics", MiningPanel, BOTTOM, "panel_mining"),
    ("hybrid", "Hybrid load", HybridPanel, BOTTOM, "panel_hybrid"),
    ("market", "Market context", MarketPanel, BOTTOM, "panel_market"),
)


def install_panels(window: Any) -> dict[str, QDockWidget]:
    """Add every chart panel and the assumptions editor to ``window`` as docks; returns them by key.

    Right: Readiness and Assumptions tabbed with the site form; bottom: Paths, Mining, Hybrid
    and Market tabbed with the sites table. The form and the table stay on top.
    """
    from planner.ui.assumptions_editor import AssumptionsEditor

    docks: dict[str, QDockWidget] = {}
    window.panels = {}
    for key, title, cls, area, name in PANELS:
        panel = cls(window)
        window.panels[key] = panel
        docks[key] = window.add_panel_dock(title, panel, area, name)
    editor = AssumptionsEditor(window)
    window.assumptions_editor = editor
    docks["assumptions"] = window.add_panel_dock("Assumptions", editor, RIGHT, "panel_assumptions")
    form, sites = getattr(window, "form_dock", None), getattr(window, "sites_dock", None)
    right = [d for d in (form, docks["readiness"], docks["assumptions"]) if d is not None]
    bottom = [d for d in (sites, docks["paths"], docks["mining"], docks["hybrid"], docks["market"]) if d is not None]
    for group in (right, bottom):
        for other in group[1:]:
            window.tabifyDockWidget(group[0], other)
        group[0].raise_()
    if bottom and hasattr(window, "resizeDocks"):
        # charts need height: give the bottom docks about 45 % of the window (the user can drag it)
        window.resizeDocks([bottom[0]], [max(380, int(window.height() * 0.45))], Qt.Orientation.Vertical)
    return docks
