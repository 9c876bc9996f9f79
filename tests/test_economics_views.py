"""The economics drivers in chart data, the Mining and Paths panels and the site report come from the engine."""
from __future__ import annotations

from planner.fmt import fmt_usd_m

import copy

import numpy as np
import pytest

from planner.assets import sample_project
from planner.model import chart_data as cd
from planner.model.assumptions import assumptions_from_settings
from planner.model.economics import site_paths
from planner.model.mining import mining_view
from planner.model.outlook import build_outlook
from planner.model.portfolio import Portfolio

SID = "RIOT-RKD"


@pytest.fixture(scope="module")
def project():
    from planner.gis.project import open_project
    return open_project(sample_project())


def test_mining_chart_data_carries_the_outlook_and_the_installed_fleet(project):
    site = project.portfolio.get(SID)
    a = assumptions_from_settings(project.portfolio.settings)
    d = cd.mining_data(site, a)
    o = build_outlook(a)
    np.testing.assert_array_equal(d.difficulty_t, o.difficulty / 1e12)
    np.testing.assert_array_equal(d.hashrate_eh_s, o.hashrate_eh_s)
    np.testing.assert_allclose(d.hashrate_eh_s * 1e18, d.difficulty_t * 1e12 * 2**32 / 600)
    v = mining_view(site, a)
    assert d.installed_j_per_th == v.installed_j_per_th == 18.5
    # 18.5 J/TH x 0.024 MWh x $45/MWh x PUE 1.05 / (1 - 2 % pool fee)
    assert d.installed_cost_usd_per_ph_day == pytest.approx(18.5 * 0.024 * 45 * 1.05 / 0.98)


def test_paths_caption_states_the_site_capex_lease_and_exit_share(project):
    site = project.portfolio.get(SID)
    a = assumptions_from_settings(project.portfolio.settings)
    comp = site_paths(site, a)
    text = cd.paths_caption(comp, a)
    capex = comp.conversion_capex_usd / comp.it_mw / 1e6
    assert f"site conversion ${capex:,.1f}M/MW IT" in text and f"{comp.build_months:,.0f} months" in text
    assert "12-yr term" in text and "neocloud with a hyperscaler backstop tenant" in text
    assert f"without exit {fmt_usd_m(comp.ai_lease.npv_excl_terminal_usd)}" in text  # "-$362M", not "$-362M"
    assert "min DSCR" in text and "equity IRR" in text


@pytest.mark.gui
def test_mining_panel_draws_the_network_outlook(qtbot, project):
    from planner.gis.project import Project
    from planner.ui.panels import MiningPanel, PanelHost

    p = project.portfolio
    host = PanelHost(Project(path=None, portfolio=Portfolio(list(p), copy.deepcopy(p.settings), p.name),
                             layers=project.layers))
    host.set_current_site(SID)
    panel = MiningPanel(host)
    qtbot.addWidget(panel)
    panel.resize(1200, 600)
    panel.flush()
    np.testing.assert_array_equal(panel.charts["network"].values["difficulty_t"], panel.data.difficulty_t)
    names = [i.name() for i in panel.plots["hashprice"].getPlotItem().listDataItems()]
    assert "Network marginal cost" in names and any((n or "").startswith("Installed fleet (18.5 J/TH)") for n in names)
    assert "hashrate" in (panel.charts["network"].hover(float(panel.data.years[12]), 0.0) or "")


def test_site_report_has_the_outlook_charts_and_drivers(project):
    from planner.reports.content import build_site_report

    rep = build_site_report(project, SID)
    keys = [c.key for c in rep.site.charts]
    assert {"mining_outlook", "network_outlook"} <= set(keys)
    assert rep.site.mining is not None and rep.site.mining.site_id == SID
    labels = {d[1] for d in rep.site.economics.drivers}
    assert {"Lease term", "Debt share of initial capex", "AI exit multiple",
            "Marginal fleet cash cost today / in 5 years"} <= labels


@pytest.mark.gui
def test_forward_curve_pasted_in_the_editor_becomes_the_outlook_and_undoes(qtbot):
    from planner.model.site import Site
    from planner.ui.assumptions_editor import AssumptionsEditor
    from planner.ui.panels import PanelHost

    class _Project:
        def __init__(self, portfolio):
            self.portfolio, self.layers = portfolio, {}

    p = Portfolio([Site.create(site_id="A", name="Alpha", power_capacity_mw=100, energized_mw=100)])
    host = PanelHost(_Project(p))
    editor = AssumptionsEditor(host)
    qtbot.addWidget(editor)
    assert editor.set_forward_curve("Date\tUSD/PH/day\n2025-12-01\t38\n2027-12-01\t$30.5\n")
    assert p.settings["hashprice_forward_curve"] == [["2025-12-01", 38.0], ["2027-12-01", 30.5]]
    a = assumptions_from_settings(p.settings)
    assert a.outlook_model == "forward_curve"
    assert build_outlook(a).hashprice_usd_per_ph_day[-1] == pytest.approx(30.5)
    assert not editor.set_forward_curve("2025-12-01,abc")
    assert "not a number" in editor.message.text()
    host.undo_stack.undo()
    assert not p.settings.get("hashprice_forward_curve")
    assert assumptions_from_settings(p.settings).outlook_model == "cost_floor"


def test_build_basis_says_where_its_months_come_from(project):
    """QA: RIOT-RKD's report said 'time to power >= 9 months' (readiness) and 'site time to power 15
    months (readiness upgrades and energization)' (economics): the 15 months were an assumed DLC retrofit."""
    from planner.model.readiness import score_site

    site = project.portfolio.get("RIOT-RKD")
    a = assumptions_from_settings(project.portfolio.settings)
    comp = site_paths(site, a)
    ttp = score_site(site, project.portfolio.settings).time_to_power_months
    assert ttp is not None and comp.build_months > ttp  # the case QA saw
    assert comp.build_basis.startswith(f"assumed conversion works {comp.build_months:g} months")
    assert f"site time to power {ttp:g} months" in comp.build_basis
