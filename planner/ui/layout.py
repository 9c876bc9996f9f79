"""Window layout for laptop screens: docks that scroll instead of forcing a tall window, and a
first layout chosen from the screen size.

A dock's minimum height is its content's; the assumptions editor (505 px) above the site form and
the market chart (429 px) in the bottom docks made the window at least 1033 px tall, so on a
1366x768 laptop the bottom tabs and the status bar were off-screen. Panels now sit in a
:class:`QScrollArea` (their own size when there is room, scroll bars when there is not).
"""
from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFrame, QMainWindow, QScrollArea, QWidget

#: The window must fit a 1024x700 work area (1280x720 screens minus panels and title bars).
MIN_WINDOW = (1024, 700)
DEFAULT_SIZE = (1400, 900)


def scrollable(widget: QWidget) -> QScrollArea:
    """``widget`` in a frameless scroll area that resizes it (scroll bars only below its minimum size)."""
    area = QScrollArea()
    area.setObjectName(f"{widget.objectName() or type(widget).__name__}_scroll")
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    area.setWidget(widget)
    return area


def first_layout(window: QMainWindow) -> None:
    """Size and dock proportions for a first run (no saved layout), from the screen's work area.

    Up to 1400x900 and centred; on a work area lower than 860 px (1366x768, 1280x800, 1280x720)
    the window opens maximised. The map keeps at least half the height and most of the width:
    the bottom docks get ~38 % of the height, the right docks ~30 % of the width (260-460 px),
    the layers list ~16 % (180-280 px).
    """
    screen = window.screen() or QGuiApplication.primaryScreen()
    avail = screen.availableGeometry() if screen is not None else QRect(0, 0, *DEFAULT_SIZE)
    w, h = min(DEFAULT_SIZE[0], avail.width() - 40), min(DEFAULT_SIZE[1], avail.height() - 40)
    window.resize(max(MIN_WINDOW[0], w), max(MIN_WINDOW[1], h))
    window.move(avail.x() + max(0, (avail.width() - window.width()) // 2),
                avail.y() + max(0, (avail.height() - window.height()) // 2))
    if avail.height() < 860 or avail.width() < 1300:
        window.setWindowState(window.windowState() | Qt.WindowState.WindowMaximized)
        w, h = avail.width(), avail.height()
    docks = {name: getattr(window, name, None) for name in ("sites_dock", "form_dock", "layers_dock")}
    if docks["sites_dock"] is not None and w < 1600:
        # below 1600 px every bottom dock shares the sites' tabs: side by side they left each chart a sliver
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        tabbed = set(window.tabifiedDockWidgets(docks["sites_dock"]))
        for dock in getattr(window, "panel_docks", []):
            if dock not in tabbed and window.dockWidgetArea(dock) == bottom and not dock.isFloating():
                window.tabifyDockWidget(docks["sites_dock"], dock)
        docks["sites_dock"].raise_()
    if docks["sites_dock"] is not None:
        window.resizeDocks([docks["sites_dock"]], [int(h * 0.38)], Qt.Orientation.Vertical)
    horizontal = [(d, size) for d, size in ((docks["form_dock"], min(460, max(260, int(w * 0.30)))),
                                            (docks["layers_dock"], min(280, max(180, int(w * 0.16)))))
                  if d is not None]
    if horizontal:
        window.resizeDocks([d for d, _ in horizontal], [s for _, s in horizontal], Qt.Orientation.Horizontal)
