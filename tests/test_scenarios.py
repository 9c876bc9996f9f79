"""Named scenarios, tornado sensitivity, network diversion and the market dataset."""
from __future__ import annotations

import pytest

from planner.model import market
from planner.model.assumptions import AssumptionError, default_assumptions
from planner.model.economics import hashprice_usd_per_ph_day, hashrate_hs
from planner.model.scenarios import DiversionError, compare_scenarios, network_diversion, tornado
from planner.model.site import Site


@pytest.fixture(scope="module")
def site():
    return Site.create(site_id="S1", name="Scenario site", power_capacity_mw=150.0, energized_mw=150.0,
                       power_price_usd_per_mwh=40.0, admin1="TX", country="US")


def test_bull_beats_base_beats_bear_for_mining(site):
    comps = compare_scenarios(site)
    assert list(comps) == ["base", "bull", "bear"]
    m = {k: c.mining.npv_usd for k, c in comps.items()}
    assert m["bull"] > m["base"] > m["bear"]
    ai = {k: c.ai_lease.npv_usd for k, c in comps.items()}
    assert ai["bull"] > ai["base"] > ai["bear"]


def test_bull_and_bear_lease_rates_are_the_highest_and_lowest_landlord_funded_public_deals():
    from planner.model.assumptions import SCENARIOS
    rates = [d.usd_per_kw_month for d in market.LEASE_DEALS]
    landlord = [d.usd_per_kw_month for d in market.LEASE_DEALS if d.fitout_funded_by == "landlord"]
    assert SCENARIOS["bull"]["lease_rate_usd_per_kw_month"] == pytest.approx(max(rates), abs=0.01)   # ~188
    # the bear keeps landlord-funded fit-out, so its rent is the lowest landlord-funded deal (Cipher ~149),
    # not Core Scientific's tenant-funded ~121
    assert SCENARIOS["bear"]["lease_rate_usd_per_kw_month"] == pytest.approx(min(landlord), abs=0.01)
    assert SCENARIOS["bear"]["lease_rate_usd_per_kw_month"] == pytest.approx(1.79e6 / 12_000, abs=0.01)
    assert SCENARIOS["bear"].get("fitout_funded_by", "landlord") == "landlord"
    assert min(rates) < default_assumptions().lease_rate_usd_per_kw_month < max(rates)


def test_custom_scenario_in_settings(site):
    s = {"scenarios": {"cheap power": {"power_price_usd_per_mwh": 20.0}}}
    # the scenario's power price is the portfolio default: it reaches a site without its own price ...
    no_price = site.replace(power_price_usd_per_mwh=None)
    comps = compare_scenarios(no_price, s, names=["base", "cheap power"])
    assert set(comps) == {"base", "cheap power"}
    base, cheap = comps["base"], comps["cheap power"]
    assert base.power_price_usd_per_mwh != 20.0 and cheap.power_price_usd_per_mwh == 20.0
    assert cheap.mining.npv_usd > base.mining.npv_usd  # cheaper power, more mining value
    # ... while a site's own contract price wins over it
    own = compare_scenarios(site, s, names=["base", "cheap power"])
    assert own["cheap power"].power_price_usd_per_mwh == own["base"].power_price_usd_per_mwh == 40.0


def test_tornado_bars_per_path(site):
    a = default_assumptions().replace(horizon_years=8)
    keys = ["btc_price_usd", "lease_rate_usd_per_kw_month", "power_price_usd_per_mwh",
            "btc_price_growth_per_year", "ai_exit_multiple_noi"]
    bars = tornado(site, a, keys=keys, swing=0.2)
    assert set(bars) == {"mining", "ai_lease", "hybrid"}
    mining = {b.key: b for b in bars["mining"]}
    assert mining["btc_price_usd"].npv_high > mining["btc_price_usd"].npv_low
    assert mining["btc_price_usd"].value_low == pytest.approx(72_000)
    assert mining["power_price_usd_per_mwh"].npv_high < mining["power_price_usd_per_mwh"].npv_low
    assert mining["power_price_usd_per_mwh"].label == "Site all-in power price"
    assert mining["lease_rate_usd_per_kw_month"].swing_usd == 0       # the lease does not touch mining
    ai = {b.key: b for b in bars["ai_lease"]}
    assert ai["lease_rate_usd_per_kw_month"].npv_high > ai["lease_rate_usd_per_kw_month"].npv_low
    # the exit multiple (10 +- 20 %) moves the AI lease, live by year 8, but never mining
    assert ai["ai_exit_multiple_noi"].npv_high > ai["ai_exit_multiple_noi"].npv_low
    assert (ai["ai_exit_multiple_noi"].value_low, ai["ai_exit_multiple_noi"].value_high) == (8.0, 12.0)
    assert mining["ai_exit_multiple_noi"].swing_usd == 0
    # zero-valued growth moves by a share of its range instead of +-20 % of zero
    assert mining["btc_price_growth_per_year"].value_low < 0 < mining["btc_price_growth_per_year"].value_high
    widths = [b.swing_usd for b in bars["mining"]]
    assert widths == sorted(widths, reverse=True)
    with pytest.raises(AssumptionError):
        tornado(site, a, keys=["asic_model"])


def test_network_diversion_formulas():
    a = default_assumptions()
    r = network_diversion(2.0, a)
    h0 = hashrate_hs(a.difficulty)
    removed = 2e9 / a.pue_mining / a.network_avg_j_per_th * 1e12
    assert r.hashrate_removed_eh_s == pytest.approx(removed / 1e18)
    assert r.difficulty_after == pytest.approx(a.difficulty * (h0 - removed) / h0)
    assert r.hashprice_after_usd_per_ph_day == pytest.approx(r.hashprice_before_usd_per_ph_day * h0 / (h0 - removed))
    assert r.hashprice_uplift_pct > 0
    assert r.difficulty_growth_after_per_year < r.difficulty_growth_before_per_year
    assert network_diversion(0.0, a).hashprice_uplift_pct == 0
    with pytest.raises(DiversionError, match="whole network"):
        network_diversion(1000.0, a)
    with pytest.raises(DiversionError):
        network_diversion(-1.0, a)
    assert hashprice_usd_per_ph_day(r.difficulty_before, 1.0, 1.0) < hashprice_usd_per_ph_day(r.difficulty_after, 1.0, 1.0)


def test_market_dataset_is_sourced():
    assert market.demand_path_gw()[1] == (2024, 21.0) and market.demand_path_gw()[-1] == (2030, 45.0)
    assert market.demand_cagr() == pytest.approx(0.1354, abs=1e-4)
    assert all(f.source for f in market.FIGURES.values())
    assert all(d.source for d in market.LEASE_DEALS) and all(c.source for c in market.CAPEX_RANGES)
    assert market.FIGURES["equinix_xscale_mw"].value == 292
    assert max(d.usd_m_per_mw_year for d in market.LEASE_DEALS) == 2.26


def test_tornado_moves_rates_and_zeros_by_a_stated_absolute_step():
    from planner.model.assumptions import default_assumptions
    from planner.model.chart_data import TornadoData
    from planner.model.scenarios import tornado
    from planner.model.site import Site

    site = Site.create(site_id="TS", name="t", power_capacity_mw=100.0, energized_mw=100.0,
                       power_price_usd_per_mwh=40.0, country="US", admin1="TX")
    a = default_assumptions()
    assert a.btc_price_growth_per_year == 0
    bars = {b.key: b for b in tornado(site, a, keys=["btc_price_growth_per_year", "discount_rate", "btc_price_usd"])
            ["mining"]}
    g = bars["btc_price_growth_per_year"]   # +-20 % of 0 is nothing; the old rule moved it by 40 points a year
    assert (g.value_low, g.value_high, g.step) == (pytest.approx(-0.05), pytest.approx(0.05), "\u00b15 pp")
    assert g.row_label == "BTC price growth (-5 to 5 %/yr)"
    d = bars["discount_rate"]
    assert (d.value_low, d.value_high, d.step) == (pytest.approx(0.08), pytest.approx(0.12), "\u00b12 pp")
    p = bars["btc_price_usd"]
    assert p.step == "\u00b120 %" and p.row_label == "BTC price ($72,000 to $108,000/BTC)"
    steps = TornadoData("mining", list(bars.values()), 0.0).steps
    assert "\u00b120 %" in steps and "\u00b15 pp" in steps and "\u00b12 pp" in steps
