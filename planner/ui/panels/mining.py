"""Mining economics panel: hashprice outlook vs marginal cost and breakevens, network difficulty, revenue per
MW-day, dynamic payback."""
from __future__ import annotations

from PySide6.QtWidgets import QGridLayout

from planner.model.chart_data import MiningData
from planner.plots import hashprice_chart, mining_revenue_chart, network_chart, payback_chart
from planner.ui.panels.base import ChartPanel, cached_mining, run_standalone


class MiningPanel(ChartPanel):
    """Stay-a-miner economics of the selected site under the assumptions in force."""

    panel_title = "Mining economics"

    def _build_ui(self) -> None:
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        # one row: the panel usually sits in the wide, low bottom dock
        grid.addWidget(self.add_plot("hashprice", min_height=240), 0, 0)
        grid.addWidget(self.add_plot("network", min_height=240), 0, 1)
        grid.addWidget(self.add_plot("revenue", min_height=240), 0, 2)
        grid.addWidget(self.add_plot("payback", min_height=240), 0, 3)
        for col, stretch in enumerate((4, 3, 3, 3)):
            grid.setColumnStretch(col, stretch)
        self.data: MiningData | None = None
        self._layout(grid)

    def _refresh(self) -> None:
        site = self.site
        if site is None:
            self.data = None
            self.show_problem("Select a site to see its mining economics")
            return
        self.data = cached_mining(site, self.assumptions())
        for key, builder in (("hashprice", hashprice_chart), ("network", network_chart),
                             ("revenue", mining_revenue_chart), ("payback", payback_chart)):
            self.draw(key, builder, self.data)
        self.set_caption(self.data.caption)


def main(argv: list[str] | None = None) -> int:
    """Open the mining economics panel alone on the sample portfolio."""
    return run_standalone(MiningPanel, argv)


if __name__ == "__main__":
    raise SystemExit(main())
