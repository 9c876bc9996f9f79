"""Chart data (pure, no Qt): every number a chart draws is the engine's, with units and sources.

The oracles here are independent derivations (unit arithmetic written out), not the code under test.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from planner.model import chart_data as cd
from planner.model.assumptions import assumptions_from_settings
from planner.model.market import FIGURES, LEASE_DEALS
from planner.model.outlook import build_outlook
from planner.model.site import Site

SITE = Site.create(site_id="T1", name="Test", status="operating", power_capacity_mw=100, energized_mw=100,
                   power_price_usd_per_mwh=40.0)


def _breakeven_oracle(j_per_th: float, usd_per_mwh: float, pue: float, pool_fee: float) -> float:
    # 1 PH/s for a day: j J/TH x 1,000 TH x 86,400 s = j x 8.64e7 J = j x 0.024 MWh at the chip, x PUE at the
    # meter; the pool keeps its fee, so the gross hashprice must cover the bill divided by (1 - fee)
    mwh = j_per_th * 1_000 * 86_400 / 3.6e9 * pue
    return mwh * usd_per_mwh / (1.0 - pool_fee)


def test_fleet_breakevens_are_the_engines_and_count_the_pool_fee():
    a = assumptions_from_settings({})
    data = cd.mining_data(SITE, a)
    for f in data.fleets:
        assert f.breakeven_hashprice_usd_per_ph_day == pytest.approx(
            _breakeven_oracle(f.j_per_th, 40.0, a.pue_mining, a.pool_fee), rel=1e-12)
    dearer_pool = cd.mining_data(SITE, assumptions_from_settings({"assumptions": {"pool_fee": 0.04}}))
    assert all(g.breakeven_hashprice_usd_per_ph_day > f.breakeven_hashprice_usd_per_ph_day
               for f, g in zip(data.fleets, dearer_pool.fleets))


def test_mining_series_come_from_the_outlook():
    a = assumptions_from_settings({})
    out = build_outlook(a)
    data = cd.mining_data(SITE, a)
    assert np.array_equal(data.hashprice_usd_per_ph_day, out.hashprice_usd_per_ph_day)
    assert np.array_equal(data.marginal_cost_usd_per_ph_day, out.marginal_cost_usd_per_ph_day)
    assert data.capex_usd_per_th == out.asic_usd_per_th[0]
    # the power cost line: 1 MW for 24 h at the uptime, at each price
    assert np.allclose(data.power_cost_usd_per_mw_day, data.power_prices_usd_per_mwh * 24 * a.uptime)
    # cumulative cash per TH starts at minus the machine's price plus the first month's net
    assert data.cumulative_net_usd_per_th[0] == pytest.approx(data.payback.margin_usd_per_th_month[0]
                                                              - data.capex_usd_per_th)


def test_site_without_price_uses_the_portfolio_default_and_says_so():
    a = assumptions_from_settings({})
    data = cd.mining_data(Site.create(site_id="T2", name="No price"), a)
    assert data.power_price_usd_per_mwh == a.power_price_usd_per_mwh
    assert data.power_price_basis == "portfolio default" and "portfolio default" in data.caption


def test_lease_deals_in_musd_per_mw_year_with_the_model_rate():
    a = assumptions_from_settings({"assumptions": {"lease_rate_usd_per_kw_month": 150.0}})
    d = cd.lease_deals_data(a)
    assert list(d.usd_m_per_mw_year) == sorted(x.usd_m_per_mw_year for x in LEASE_DEALS)
    # $/kW-month x 12 months x 1,000 kW per MW = $ per MW-year
    assert d.model_usd_m_per_mw_year == pytest.approx(150.0 * 12 * 1000 / 1e6)
    cbre = FIGURES["cbre_colo_rate_usd_per_kw_month"].value
    assert d.cbre_usd_m_per_mw_year == pytest.approx(cbre * 12 * 1000 / 1e6)
    assert cd.lease_deals_data(None).model_usd_m_per_mw_year is None


def test_ranges_keep_their_sources():
    for data in (cd.rack_density_data(), cd.time_to_power_data(), cd.capex_data()):
        assert len(data.labels) == len(data.low) == len(data.high) == len(data.sources) == len(data.kinds)
        assert all(s for s in data.sources)
        finite = np.isfinite(data.high)
        assert np.all(data.high[finite] >= data.low[finite])
    ttp = cd.time_to_power_data()
    wait = FIGURES["interconnection_wait_years"]
    assert ttp.low[0] == wait.value * 12  # years -> months


def test_mw_groups_count_the_larger_unknown():
    row = dataclasses.make_dataclass("Row", ["label", "energized_mw", "pipeline_mw", "unknown_energized",
                                             "unknown_pipeline"])
    g = cd.mw_groups("MW", [row("TX", 100.0, 50.0, 1, 3), row("ND", 20.0, 0.0, 2, 0)])
    assert list(g.labels) == ["TX", "ND"] and list(g.unknown_sites) == [3, 2]


def test_paths_captions_write_negative_money_with_the_sign_first():
    """QA: the Paths summary read '(without exit $-442M)'; everywhere else it is '-$442M'."""
    from planner.assets import sample_project
    from planner.gis.project import open_project
    from planner.model.assumptions import assumptions_from_settings
    from planner.model.chart_data import paths_caption
    from planner.session.derived import cached_paths

    project = open_project(sample_project())
    a = assumptions_from_settings(project.portfolio.settings)
    captions = [paths_caption(cached_paths(s, a), a) for s in project.portfolio]
    assert any("-$" in c for c in captions)  # the sample has negative NPVs without exit value
    assert not any("$-" in c for c in captions)
