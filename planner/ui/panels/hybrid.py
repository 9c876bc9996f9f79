"""Hybrid load panel: one week of AI, mining and total load against the interconnect, duration curve, figures."""
from __future__ import annotations

import html

from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QSpinBox, QWidget

from planner.model.chart_data import WEEKS_PER_YEAR, HybridWeek, hybrid_caption, hybrid_figures
from planner.model.hybrid import HybridResult
from planner.plots import hybrid_week_chart, load_duration_chart
from planner.ui.panels.base import ChartPanel, cached_hybrid, run_standalone

DEFAULT_WEEK = 30  # a late-July week: summer prices, ERCOT 4CP alert hours


class HybridPanel(ChartPanel):
    """AI tenant plus miners as the flexible load, simulated hour by hour over a year."""

    panel_title = "Hybrid load"

    def _build_ui(self) -> None:
        header = QWidget(self)
        h = QHBoxLayout(header)
        h.setContentsMargins(0, 0, 0, 0)
        h.addWidget(QLabel("Week of the year:", header))
        self.week_spin = QSpinBox(header)
        self.week_spin.setObjectName("weekSpin")
        self.week_spin.setRange(1, WEEKS_PER_YEAR)
        self.week_spin.setValue(DEFAULT_WEEK)
        self.week_spin.setToolTip("Week (1-52) of the representative year shown in the load chart")
        h.addWidget(self.week_spin)
        h.addStretch(1)
        self.figures = QLabel(self)
        self.figures.setObjectName("figures")
        self.figures.setWordWrap(True)
        self.figures.setStyleSheet("font-size: 8pt;")
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.add_plot("week", min_height=240), 0, 0)
        grid.addWidget(self.add_plot("duration", min_height=240), 0, 1)
        grid.addWidget(self.figures, 0, 2)
        grid.setColumnStretch(0, 5)
        grid.setColumnStretch(1, 3)
        grid.setColumnStretch(2, 2)
        self.result: HybridResult | None = None
        self.week_spin.valueChanged.connect(self._on_week_spin_value_changed)
        self._layout(grid, header)

    def _refresh(self) -> None:
        site = self.site
        self.result = None
        self.figures.setText("")  # never the last site's figures beside this site's message
        if site is None:
            self.show_problem("Select a site to see its hybrid load")
            return
        a = self.assumptions()
        self.result = cached_hybrid(site, a)
        self._draw_week()
        self.draw("duration", load_duration_chart, self.result)
        rows = "".join(f"<tr><td>{html.escape(k)}</td><td align='right'><b>{html.escape(v)}</b></td></tr>"
                       for k, v in hybrid_figures(self.result))
        self.figures.setText(f"<b>{html.escape(site.site_id)}: key figures (one year)</b>"
                             f"<table cellspacing='3'>{rows}</table>")
        self.set_caption(hybrid_caption(self.result, a))

    def _draw_week(self) -> None:
        if self.result is not None:
            self.draw("week", hybrid_week_chart, HybridWeek(self.result, self.week_spin.value(), self.site_id))

    def _on_week_spin_value_changed(self, _week: int) -> None:
        self._draw_week()  # the year is cached: only the week chart changes


def main(argv: list[str] | None = None) -> int:
    """Open the hybrid load panel alone on the sample portfolio."""
    return run_standalone(HybridPanel, argv)


if __name__ == "__main__":
    raise SystemExit(main())
