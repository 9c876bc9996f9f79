"""pyqtgraph chart panels and the assumptions editor, installed into the main window as docks.

``install_panels(window)`` adds: Readiness and Assumptions (right, tabbed with the site form),
Paths, Mining economics, Hybrid load and Market context (bottom, tabbed with the sites table).
Each panel also runs alone: ``python -m planner.ui.panels.mining``.

The docks are there from the start (View > Panels, saved layouts), but a panel is built the
first time its dock shows (its tab raised, its View > Panels action checked) or the code asks
for ``window.panels[key]``: at start-up the sites table and the form are on top, and pyqtgraph
(~0.5 s to import) and the panels (~0.4 s to build) wait until an analyst opens one.
"""
from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QScrollArea, QWidget

if TYPE_CHECKING:  # imported on first use at run time (pyqtgraph)
    from planner.ui.panels.base import ChartPanel, PanelHost
    from planner.ui.panels.hybrid import HybridPanel
    from planner.ui.panels.market import MarketPanel
    from planner.ui.panels.mining import MiningPanel
    from planner.ui.panels.paths import PathsPanel
    from planner.ui.panels.readiness import ReadinessPanel

__all__ = ["ChartPanel", "HybridPanel", "LazyPanels", "MarketPanel", "MiningPanel", "PanelHost", "PathsPanel",
           "ReadinessPanel", "install_panels"]

RIGHT = Qt.DockWidgetArea.RightDockWidgetArea
BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea

# (attribute/key, title, "module:class", area, dock object name)
PANELS: tuple[tuple[str, str, str, Qt.DockWidgetArea, str], ...] = (
    ("readiness", "Readiness", "planner.ui.panels.readiness:ReadinessPanel", RIGHT, "panel_readiness"),
    ("paths", "Paths", "planner.ui.panels.paths:PathsPanel", BOTTOM, "panel_paths"),
    ("mining", "Mining economics", "planner.ui.panels.mining:MiningPanel", BOTTOM, "panel_mining"),
    ("hybrid", "Hybrid load", "planner.ui.panels.hybrid:HybridPanel", BOTTOM, "panel_hybrid"),
    ("market", "Market context", "planner.ui.panels.market:MarketPanel", BOTTOM, "panel_market"),
    ("assumptions", "Assumptions", "planner.ui.assumptions_editor:AssumptionsEditor", RIGHT, "panel_assumptions"),
)

# the panel classes, imported on first use (``from planner.ui.panels import MiningPanel`` still works)
_LAZY = {"ChartPanel": "planner.ui.panels.base", "PanelHost": "planner.ui.panels.base",
         **{spec.partition(":")[2]: spec.partition(":")[0] for _, _, spec, _, _ in PANELS[:-1]}}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _class(spec: str) -> Any:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


class LazyPanels(Mapping[str, QWidget]):
    """The window's panels by key; each is built when its dock first shows or when it is looked up.

    ``docks[key]`` exists from the start with an empty scroll area; :meth:`build` puts the
    panel in it (a panel reads the session when it is built, so it shows the current state).
    """

    def __init__(self, window: Any):
        self._window = window
        self._specs = {key: spec for key, _, spec, _, _ in PANELS}
        self._built: dict[str, QWidget] = {}
        self.docks: dict[str, QDockWidget] = {}

    def add(self, key: str, title: str, area: Qt.DockWidgetArea, name: str) -> QDockWidget:
        placeholder = QWidget()
        placeholder.setObjectName(self._specs[key].partition(":")[2])
        dock: QDockWidget = self._window.add_panel_dock(title, placeholder, area, name)
        self.docks[key] = dock
        dock.visibilityChanged.connect(lambda visible, k=key: self._on_visibility_changed(k, visible))
        return dock

    def _on_visibility_changed(self, key: str, visible: bool) -> None:
        if visible:
            panel = self.build(key)
            resume = getattr(panel, "resume", None)  # a chart panel behind a tab waited: redraw now
            if callable(resume):
                QTimer.singleShot(0, panel, resume)

    def is_built(self, key: str) -> bool:
        return key in self._built

    def build(self, key: str) -> QWidget:
        """The panel ``key``, built now (into its dock) if it was not yet."""
        panel = self._built.get(key)
        if panel is not None:
            return panel
        from planner.ui.input_guard import guard_wheel_in

        panel = _class(self._specs[key])(self._window)
        self._built[key] = panel
        area = self.docks[key].widget()
        if isinstance(area, QScrollArea):
            area.setWidget(panel)  # replaces (and deletes) the placeholder
        guard_wheel_in(panel)  # spin boxes and combos take the wheel only with focus
        return panel

    def __getitem__(self, key: str) -> QWidget:
        if key not in self._specs:
            raise KeyError(key)
        return self.build(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)


def install_panels(window: Any) -> dict[str, QDockWidget]:
    """Add every chart panel and the assumptions editor to ``window`` as docks; returns them by key.

    Right: Readiness and Assumptions tabbed with the site form; bottom: Paths, Mining, Hybrid
    and Market tabbed with the sites table. The form and the table stay on top. The panels
    themselves are built when first shown (``window.panels``: :class:`LazyPanels`).
    """
    panels = LazyPanels(window)
    window.panels = panels
    docks = {key: panels.add(key, title, area, name) for key, title, _, area, name in PANELS}
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
