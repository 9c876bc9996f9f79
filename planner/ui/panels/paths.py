"""Paths panel: mining vs AI lease vs hybrid for the selected site (cash flows, NPV, tornado, bridge).

The tornado needs about thirty path comparisons (about a second), so it runs on the thread pool
after the other charts are drawn; a newer request supersedes an older one and only the latest
result is drawn.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QWidget

from planner.model.assumptions import Assumptions
from planner.model.economics import PathComparison
from planner.model.site import PlannerError, Site
from planner.model.chart_data import PATH_SHORT, TornadoData, paths_caption
from planner.plots import bridge_chart, paths_cash_chart, paths_npv_chart, tornado_chart
from planner.ui.panels.base import ChartPanel, cached_paths, cached_tornado, first_line, run_standalone
from planner.ui.workers import Task, start_task

TORNADO_DELAY_MS = 150  # let a burst of edits settle before starting the slow sensitivity run


def _tornado_job(site: Site, assumptions: Assumptions, progress: Any = None) -> Any:
    return cached_tornado(site, assumptions)


class PathsPanel(ChartPanel):
    """Value per site of staying a miner, converting to an AI lease, or running both."""

    panel_title = "Paths: mining vs AI vs hybrid"

    def _build_ui(self) -> None:
        header = QWidget(self)
        h = QHBoxLayout(header)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(QLabel("Sensitivity of:", header))
        self.path_combo = QComboBox(header)
        self.path_combo.setObjectName("tornadoPath")
        for key, label in PATH_SHORT.items():
            self.path_combo.addItem(label, key)
        self.path_combo.setToolTip("Path whose NPV the tornado chart varies")
        h.addWidget(self.path_combo)
        self.tornado_status = QLabel("", header)
        self.tornado_status.setObjectName("tornadoStatus")
        self.tornado_status.setStyleSheet("color: #666; font-size: 8pt;")
        h.addWidget(self.tornado_status, 1)
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        for col, key in enumerate(("cash", "npv", "tornado", "bridge")):
            grid.addWidget(self.add_plot(key, min_height=240), 0, col)
        # at 2/12 of a 1366 px dock the NPV chart's four bars were ~37 px apart, narrower
        # than their value labels
        for col, stretch in enumerate((3, 3, 5, 3)):
            grid.setColumnStretch(col, stretch)
        self.comparison: PathComparison | None = None
        self.tornado: dict[str, list[Any]] | None = None
        self._tornado_key: tuple[Site, Assumptions] | None = None
        self._task: Task | None = None
        self._task_key: tuple[Site, Assumptions] | None = None
        self._pending = False
        self._tornado_timer = QTimer(self)
        self._tornado_timer.setSingleShot(True)
        self._tornado_timer.setInterval(TORNADO_DELAY_MS)
        self._tornado_timer.timeout.connect(self._start_tornado)
        self.path_combo.currentIndexChanged.connect(lambda _i: self._draw_tornado())
        self._layout(grid, header)

    def _refresh(self) -> None:
        site = self.site
        if site is None:
            self.comparison = None
            self.show_problem("Select a site to compare its paths")
            return
        a = self.assumptions()
        comp = cached_paths(site, a)
        self.comparison = comp
        self.draw("cash", paths_cash_chart, comp)
        self.draw("npv", paths_npv_chart, comp)
        self.draw("bridge", bridge_chart, comp)
        self.set_caption(paths_caption(comp, a))
        key = (site, a)
        if key != self._tornado_key:
            self._tornado_key = key
            self.tornado = None
            self._draw_tornado()
            if comp.unavailable_reason is None:
                self._tornado_timer.start()

    # -- tornado (background) ------------------------------------------------------------------------
    @property
    def tornado_busy(self) -> bool:
        """True while a sensitivity run is queued or running."""
        return self._task is not None or self._tornado_timer.isActive() or self._pending

    def _start_tornado(self) -> None:
        if self._tornado_key is None:
            return
        if self._task is not None:
            self._pending = True  # the running one finishes first, then the latest key runs
            return
        self._pending = False
        site, a = self._tornado_key
        self.tornado_status.setText("computing sensitivity\u2026")
        self._task_key = (site, a)
        # bound methods of this QObject: Qt drops the connection if the panel is deleted first
        self._task = start_task(_tornado_job, site, a, on_success=self._on_tornado_done,
                                on_error=self._on_tornado_failed)

    def _on_tornado_done(self, result: Any) -> None:
        key, self._task, self._task_key = self._task_key, None, None
        if key == self._tornado_key:
            self.tornado = result
            self.tornado_status.setText("")
            self._draw_tornado()
        if self._pending:
            self._start_tornado()

    def _on_tornado_failed(self, error: BaseException) -> None:
        key, self._task, self._task_key = self._task_key, None, None
        if key == self._tornado_key:
            msg = first_line(error) if isinstance(error, PlannerError) else f"{type(error).__name__}: {error}"
            self.tornado_status.setText(f"sensitivity failed: {msg}")
        if self._pending:
            self._start_tornado()

    def _draw_tornado(self) -> None:
        path = self.path_combo.currentData()
        comp = self.comparison
        if comp is None or comp.unavailable_reason:
            self.draw("tornado", tornado_chart, TornadoData(path, [], 0.0))
            return
        p = comp.paths.get(path)
        if self.tornado is None:
            bars: list[Any] = []
        else:
            bars = self.tornado.get(path, [])
        whole = getattr(comp, path, None)  # why a path has no bars (e.g. energized MW unknown)
        reason = "" if p is not None or whole is None else f"{PATH_SHORT[path]}: {whole.unavailable_reason}"
        self.draw("tornado", tornado_chart, TornadoData(path, bars, p.npv_usd if p is not None else 0.0,
                                                        empty_reason=reason))
        if self.tornado is None:
            self.tornado_status.setText("computing sensitivity\u2026")
        elif p is None:
            self.tornado_status.setText(f"{PATH_SHORT[path]} is not available for this site")

    def closeEvent(self, event: Any) -> None:
        self._tornado_timer.stop()
        self._pending = False
        super().closeEvent(event)

    def wait_for_background(self, timeout_s: float = 30.0) -> bool:
        """The sensitivity run (see :meth:`wait_for_tornado`)."""
        return self.wait_for_tornado(timeout_s)

    def wait_for_tornado(self, timeout_s: float = 30.0) -> bool:
        """Block until the sensitivity run finished and was drawn (tests, report grabs)."""
        import time

        from PySide6.QtWidgets import QApplication

        end = time.monotonic() + timeout_s
        if self._tornado_timer.isActive():
            self._tornado_timer.stop()
            self._start_tornado()
        while time.monotonic() < end:
            QApplication.processEvents()
            if self._task is None and not self._pending and not self._tornado_timer.isActive():
                return self.tornado is not None
            time.sleep(0.01)
        return False


def main(argv: list[str] | None = None) -> int:
    """Open the paths panel alone on the sample portfolio."""
    return run_standalone(PathsPanel, argv)


if __name__ == "__main__":
    raise SystemExit(main())
