"""Shared machinery of the chart panels: the host interface, live refresh and hover.

A panel talks to a *host*: the :class:`~planner.ui.main_window.MainWindow`, or a
:class:`PanelHost` when a panel runs alone (``python -m planner.ui.panels.mining``) or in tests.
The host offers ``session`` (a :class:`planner.session.Session`: project, selection, scores,
signals), ``undo_stack`` and ``show_status``. Panels subscribe to the session's signals; the
session, not the panel, keeps scores and proximity right.

Refresh policy: every change (site selected, site edited, setting changed, scores re-computed)
marks the panel dirty and starts a 0 ms single-shot timer, so a burst of signals from one undo
step costs one recompute. A hidden panel (a tab behind another: still ``isVisible()`` in Qt 6,
but with no visible region) only recomputes when it is shown or its tab raised (:meth:`resume`).
Economics come from the session's per-(site, assumptions) caches (:mod:`planner.session.derived`).
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QShowEvent, QUndoStack
from PySide6.QtWidgets import QApplication, QLabel, QSizePolicy, QVBoxLayout, QWidget

from planner.gis.project import Project
from planner.model.assumptions import Assumptions
from planner.model.portfolio import Portfolio
from planner.model.readiness import ReadinessResult
from planner.model.site import PlannerError, Site, first_line
from planner.plots import Builder, Chart, finish_legend, message_chart, new_plot_widget
from planner.session import Session
from planner.session.derived import cached_hybrid, cached_mining, cached_paths, cached_tornado, clear_caches
from planner.ui.commands import QtUndoAdapter
from planner.ui.text import plain_tooltip

__all__ = ["ECONOMICS_KEYS", "ChartPanel", "PanelHost", "cached_hybrid", "cached_mining", "cached_paths",
           "cached_tornado", "clear_caches", "first_line", "run_standalone"]

#: Settings keys that change the economics (assumptions, scenario, ASIC catalogue, upgrade unit costs that price
#: the conversion, the hashprice forward curve).
ECONOMICS_KEYS = frozenset({"assumptions", "scenario", "scenarios", "asic_catalogue", "unit_costs",
                            "hashprice_forward_curve", "readiness_thresholds"})


def _same(a: Any, b: Any) -> bool:
    """True when ``a`` and ``b`` are the same object or compare equal (dataclasses of plain values)."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    try:
        return bool(a == b)
    except (ValueError, TypeError):  # numpy arrays inside: no cheap equality, redraw
        return False


# -- host ------------------------------------------------------------------------------------------
class PanelHost(QObject):
    """What a panel needs from the main window, for running panels alone and in tests.

    A :class:`~planner.session.Session` on ``project`` with a ``QUndoStack``; the session
    re-scores when sites or settings change, exactly as in the main window.
    """

    def __init__(self, project: Project, parent: QObject | None = None):
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.last_message = ""
        self.session = Session(project, QtUndoAdapter(self.undo_stack))
        self.session.message.connect(self.show_status)

    @property
    def project(self) -> Project:
        return self.session.project

    @property
    def scores(self) -> dict[str, ReadinessResult]:
        return self.session.scores

    @property
    def current_site(self) -> str:
        """ID of the selected site ("" for none)."""
        return self.session.current_site

    def set_current_site(self, site_id: str) -> None:
        """Select ``site_id`` ("" for none) and announce it."""
        self.session.set_current_site(site_id)

    def show_status(self, message: str, _timeout_ms: int = 0) -> None:
        """Keep the last status message (the main window shows it in its status bar)."""
        self.last_message = message


# -- panel base -----------------------------------------------------------------------------------
class ChartPanel(QWidget):
    """Base of the chart panels: host wiring, coalesced live refresh, hover read-out and caption."""

    panel_title = "Panel"
    #: settings keys whose change requires a redraw (``None`` = every key)
    settings_keys: frozenset[str] | None = ECONOMICS_KEYS
    #: redraw when readiness scores change (readiness panel)
    follows_scores = False

    def __init__(self, host: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(type(self).__name__)
        self.host = host
        self.plots: dict[str, pg.PlotWidget] = {}
        self.charts: dict[str, Chart] = {}
        self._drawn: dict[str, tuple[Any, Any]] = {}
        self.last_refresh_ms: float | None = None
        self.refresh_count = 0
        self._dirty = True
        self._proxies: list[pg.SignalProxy] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self.caption = QLabel(self)
        self.caption.setObjectName("caption")
        self.caption.setTextFormat(Qt.TextFormat.PlainText)  # captions and read-outs quote site names
        self.caption.setWordWrap(True)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.caption.setStyleSheet("color: #444; font-size: 8pt;")
        self.caption.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.readout = QLabel(self)
        self.readout.setObjectName("readout")
        self.readout.setTextFormat(Qt.TextFormat.PlainText)
        self.readout.setWordWrap(True)
        self.readout.setStyleSheet("color: #1b3a5c; font-size: 8pt;")
        self.readout.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.readout.setText("Hover over a chart for values")
        self._build_ui()
        self._connect()

    # -- construction (subclasses override _build_ui and call _layout) ---------------------------
    def _build_ui(self) -> None:  # pragma: no cover - every panel overrides it
        raise NotImplementedError

    def _layout(self, body: QWidget | Any, header: QWidget | None = None) -> None:
        """Stack header (optional), body, hover read-out and caption."""
        v = QVBoxLayout(self)
        v.setContentsMargins(4, 4, 4, 4)
        v.setSpacing(3)
        if header is not None:
            v.addWidget(header)
        if isinstance(body, QWidget):
            v.addWidget(body, 1)
        else:
            v.addLayout(body, 1)
        v.addWidget(self.readout)
        v.addWidget(self.caption)

    def add_plot(self, key: str, min_height: int = 200) -> pg.PlotWidget:
        """Create the plot widget ``key`` with a mouse-move read-out (rate-limited SignalProxy)."""
        w = new_plot_widget(self)
        w.setObjectName(f"plot_{key}")
        w.setMinimumHeight(min_height)
        self.plots[key] = w
        proxy = pg.SignalProxy(w.scene().sigMouseMoved, rateLimit=30,
                               slot=lambda evt, k=key: self._on_plot_mouse_moved(k, evt))
        self._proxies.append(proxy)
        return w

    def _connect(self) -> None:
        self._timer.timeout.connect(self._on_timer_timeout)
        s: Session = self.host.session
        self._subscriptions = ((s.current_site_changed, self._on_session_current_site_changed),
                               (s.scores_changed, self._on_session_scores_changed),
                               (s.project_changed, self._on_session_project_changed),
                               (s.sites_changed, self._on_session_sites_changed),
                               (s.site_added, self._on_session_site_added),
                               (s.site_removed, self._on_session_site_removed),
                               (s.settings_changed, self._on_session_settings_changed))
        for sig, slot in self._subscriptions:
            sig.connect(slot)

    def _disconnect(self) -> None:
        for sig, slot in self._subscriptions:
            sig.disconnect(slot, missing_ok=True)
        self._subscriptions = ()

    # -- state ---------------------------------------------------------------------------------
    @property
    def portfolio(self) -> Portfolio:
        """The open portfolio."""
        return self.host.session.portfolio

    @property
    def site_id(self) -> str:
        """The selected site ("" when none)."""
        return self.host.session.current_site

    @property
    def site(self) -> Site | None:
        """The current :class:`Site`, or None."""
        sid = self.site_id
        return self.portfolio.get(sid) if sid else None

    def assumptions(self) -> Assumptions:
        """Assumptions in force (defaults < scenario < user overrides); raises AssumptionError."""
        return self.host.session.assumptions()

    # -- refresh -------------------------------------------------------------------------------
    def _on_screen(self) -> bool:
        # a dock tab behind another stays isVisible() in Qt 6; it has no visible region
        return self.isVisible() and not self.visibleRegion().isEmpty()

    def schedule_refresh(self) -> None:
        """Mark the panel out of date; it redraws at the next event-loop turn when on screen."""
        self._dirty = True
        if self._on_screen():
            self._timer.start()

    def resume(self) -> None:
        """Redraw at the next event-loop turn if out of date (its dock tab was raised)."""
        if self._dirty:
            self._timer.start()

    @property
    def is_dirty(self) -> bool:
        """True when the panel waits for a redraw."""
        return self._dirty

    def flush(self) -> None:
        """Redraw now if out of date (also when hidden: tests, benchmarks, report grabs)."""
        self._timer.stop()
        if self._dirty:
            self.refresh()

    def refresh(self) -> None:
        """Recompute and redraw; a user error shows as the caption instead of a traceback."""
        t0 = time.perf_counter()
        self._dirty = False
        try:
            self._refresh()
        except PlannerError as e:
            self.show_problem(first_line(e))
        self.refresh_count += 1
        self.last_refresh_ms = (time.perf_counter() - t0) * 1000.0

    def _refresh(self) -> None:  # pragma: no cover - every panel overrides it
        raise NotImplementedError

    def wait_for_background(self, timeout_s: float = 30.0) -> bool:
        """Block until work the panel started in the background was drawn (report grabs); True when done."""
        return True

    def show_problem(self, message: str) -> None:
        """Say why nothing can be drawn: each chart keeps its title and says it in place of empty
        axes (the caption repeats it in red)."""
        self.charts.clear()
        self._drawn.clear()
        for key, w in self.plots.items():
            item = w.getPlotItem()
            self.charts[key] = message_chart(item, str(getattr(item, "_planner_title", "") or ""), message)
            finish_legend(item)  # drops the previous drawing's bars, curves and legend entries
        self.caption.setText(message)
        self.caption.setStyleSheet("color: #b2182b; font-size: 8pt;")

    def set_caption(self, text: str) -> None:
        """Show the assumptions/scenario statement under the charts."""
        self.caption.setStyleSheet("color: #444; font-size: 8pt;")
        self.caption.setText(text)

    def draw(self, key: str, builder: Builder, data: Any) -> Chart:
        """Run ``builder`` on plot ``key`` (skipped when it already shows equal data); keep its :class:`Chart`."""
        prev = self._drawn.get(key)
        if prev is not None and key in self.charts and prev[0] is builder and _same(prev[1], data):
            return self.charts[key]
        chart = builder(self.plots[key].getPlotItem(), data)
        finish_legend(self.plots[key].getPlotItem())
        self.charts[key] = chart
        self._drawn[key] = (builder, data)
        return chart

    def hover_text(self, key: str, x: float, y: float) -> str | None:
        """Read-out of chart ``key`` at view coordinates (x, y)."""
        chart = self.charts.get(key)
        return chart.hover(x, y) if chart is not None else None

    def _on_plot_mouse_moved(self, key: str, evt: tuple[Any, ...]) -> None:
        pos = evt[0]
        w = self.plots.get(key)
        if w is None:
            return
        vb = w.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(pos):
            return
        p = vb.mapSceneToView(pos)
        text = self.hover_text(key, p.x(), p.y())
        if text:
            self.readout.setText(text)
        w.setToolTip(plain_tooltip(text))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._dirty:
            self._timer.start()

    def _on_timer_timeout(self) -> None:
        if self._dirty and self._on_screen():
            self.refresh()

    # -- session signals -------------------------------------------------------------------------
    def _on_session_current_site_changed(self, _site_id: str) -> None:
        self.schedule_refresh()

    def _on_session_scores_changed(self, _scores: Any) -> None:
        if self.follows_scores:
            self.schedule_refresh()

    def _on_session_project_changed(self, _project: Any) -> None:
        self.schedule_refresh()

    def _on_session_sites_changed(self, ids: list[str]) -> None:
        if self.follows_scores or self.site_id in ids:
            self.schedule_refresh()

    def _on_session_site_added(self, _site_id: str) -> None:
        if self.follows_scores:
            self.schedule_refresh()

    def _on_session_site_removed(self, _site_id: str) -> None:
        self.schedule_refresh()

    def _on_session_settings_changed(self, key: str) -> None:
        if self.settings_keys is None or key in self.settings_keys:
            self.schedule_refresh()

    def closeEvent(self, event: Any) -> None:
        self._disconnect()
        super().closeEvent(event)


# -- running one panel alone -----------------------------------------------------------------------
def run_standalone(panel_cls: Callable[[Any], ChartPanel], argv: Iterable[str] | None = None) -> int:
    """Open ``panel_cls`` on the sample portfolio (or ``--project``) with the first site selected.

    ``--png PATH`` grabs the panel to a PNG and exits instead of entering the event loop.
    """
    from planner.assets import sample_project
    from planner.gis.project import open_project

    ap = argparse.ArgumentParser(prog=f"python -m {getattr(panel_cls, '__module__', 'panel')}")
    ap.add_argument("--project", help="project .gpkg (default: the bundled sample portfolio)")
    ap.add_argument("--site", help="site_id to select (default: the first site)")
    ap.add_argument("--png", help="write a screenshot of the panel to this PNG and exit")
    ap.add_argument("--size", default="1100x750", help="window size WxH (default 1100x750)")
    args = ap.parse_args(list(argv) if argv is not None else sys.argv[1:])
    app = QApplication.instance() or QApplication(sys.argv[:1])
    try:
        project = open_project(args.project or sample_project())
    except PlannerError as e:
        print(f"error: {first_line(e)}", file=sys.stderr)
        return 1
    host = PanelHost(project)
    panel = panel_cls(host)
    w, _, h = args.size.partition("x")
    panel.resize(int(w), int(h or 750))
    panel.setWindowTitle(f"{panel.panel_title} \u2014 {project.portfolio.name}")
    ids = project.portfolio.ids()
    host.set_current_site(args.site if args.site in ids else (ids[0] if ids else ""))
    if args.png:
        panel.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        panel.show()
        app.processEvents()
        panel.flush()
        panel.wait_for_background()
        app.processEvents()
        if not panel.grab().save(args.png):
            print(f"error: could not write {args.png}", file=sys.stderr)
            return 1
        print(f"{panel.panel_title}: refreshed in {panel.last_refresh_ms:.1f} ms; wrote {args.png}")
        return 0
    panel.show()
    return int(app.exec())
