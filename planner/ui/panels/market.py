"""Market context panel: US data-center demand, lease deals, rack density, time to power, capex (sourced)."""
from __future__ import annotations

from PySide6.QtWidgets import QGridLayout

from planner.model.assumptions import Assumptions
from planner.model.chart_data import (capex_data, demand_data, lease_deals_data, market_caption, rack_density_data,
                                      time_to_power_data)
from planner.plots import capex_chart, demand_chart, lease_deals_chart, rack_density_chart, time_to_power_chart
from planner.ui.panels.base import ChartPanel, run_standalone


class MarketPanel(ChartPanel):
    """Sourced market figures of docs/DOMAIN.md; the lease chart also marks the model's lease rate."""

    panel_title = "Market context"

    def _build_ui(self) -> None:
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.add_plot("demand", min_height=200), 0, 0)
        grid.addWidget(self.add_plot("leases", min_height=200), 0, 1)
        grid.addWidget(self.add_plot("capex", min_height=200), 0, 2)
        grid.addWidget(self.add_plot("racks", min_height=170), 1, 0)
        grid.addWidget(self.add_plot("time_to_power", min_height=170), 1, 1, 1, 2)
        # sourced figures: built once, so an unchanged chart is skipped by identity
        self._demand, self._capex = demand_data(), capex_data()
        self._racks, self._time_to_power = rack_density_data(), time_to_power_data()
        self._layout(grid)

    def _on_session_current_site_changed(self, _site_id: str) -> None:
        pass  # portfolio-wide figures: the selected site does not change them

    def _refresh(self) -> None:
        a: Assumptions | None = self.assumptions()
        self.draw("demand", demand_chart, self._demand)
        self.draw("leases", lease_deals_chart, lease_deals_data(a))
        self.draw("capex", capex_chart, self._capex)
        self.draw("racks", rack_density_chart, self._racks)
        self.draw("time_to_power", time_to_power_chart, self._time_to_power)
        self.set_caption(market_caption())


def main(argv: list[str] | None = None) -> int:
    """Open the market context panel alone."""
    return run_standalone(MarketPanel, argv)


if __name__ == "__main__":
    raise SystemExit(main())
