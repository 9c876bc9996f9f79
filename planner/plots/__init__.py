"""pyqtgraph drawing of chart data, for the live panels and the PDF/PNG step of the reports.

Layer order: ``reports -> plots -> webmap -> gis -> model``. A builder
``builder(plot, data) -> Chart`` draws data made by :mod:`planner.model.chart_data` (or an
engine result such as :class:`~planner.model.economics.PathComparison`) and computes nothing.
The pyqtgraph workarounds (legend under the axes, item reuse, one label layer) live in
:mod:`planner.plots.workarounds`.
"""
from planner.plots.base import Builder, Chart, message_chart, new_plot_widget, render_png
from planner.plots.hybrid import hybrid_week_chart, load_duration_chart
from planner.plots.market import capex_chart, demand_chart, lease_deals_chart, rack_density_chart, time_to_power_chart
from planner.plots.mining import hashprice_chart, mining_revenue_chart, network_chart, payback_chart
from planner.plots.paths import bridge_chart, paths_cash_chart, paths_npv_chart, tornado_chart
from planner.plots.portfolio import mw_groups_chart
from planner.plots.readiness import readiness_bars, readiness_ranking
from planner.plots.style import PATH_COLOURS
from planner.plots.workarounds import finish_legend, plot_texts

__all__ = ["PATH_COLOURS", "Builder", "Chart", "bridge_chart", "capex_chart", "demand_chart", "finish_legend",
           "hashprice_chart", "hybrid_week_chart", "lease_deals_chart", "load_duration_chart", "message_chart", "mining_revenue_chart",
           "mw_groups_chart", "network_chart", "new_plot_widget", "payback_chart", "paths_cash_chart", "paths_npv_chart", "plot_texts",
           "rack_density_chart", "readiness_bars", "readiness_ranking", "render_png", "time_to_power_chart",
           "tornado_chart"]
