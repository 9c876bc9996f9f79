"""Mining and AI-lease formulas (DOMAIN sections 3-4) against hand-computed values, and site_paths."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from planner.model import economics as e
from planner.model.assumptions import (ASIC_CATALOGUE, ASSUMPTIONS, AssumptionError, assumptions_from_settings,
                                       default_assumptions)
from planner.model.market import LEASE_DEALS
from planner.model.site import PlannerError, Site

S21_J_PER_TH = 17.5


# -- protocol -------------------------------------------------------------------------------------
@pytest.mark.parametrize("height, btc", [(0, 50.0), (209_999, 50.0), (210_000, 25.0), (839_999, 6.25),
                                         (840_000, 3.125), (1_049_999, 3.125), (1_050_000, 1.5625)])
def test_block_subsidy(height, btc):
    assert e.block_subsidy_btc(height) == btc


def test_subsidy_is_zero_after_64_halvings_and_integer_satoshi_before():
    assert e.block_subsidy_sat(63 * 210_000) == 0  # 5e9 >> 63 rounds down to 0 satoshi already
    assert e.block_subsidy_sat(32 * 210_000) == (50 * 100_000_000) >> 32 == 1
    assert e.block_subsidy_sat(64 * 210_000) == 0
    assert e.block_subsidy_sat(10**9) == 0
    with pytest.raises(PlannerError):
        e.block_subsidy_sat(-1)


def test_next_halving_and_projected_dates():
    assert e.next_halving(840_000) == 1_050_000
    assert e.next_halving(839_999) == 840_000
    (h1, t1), (h2, _t2) = e.projected_halving_dates(840_000, "2024-04-20T00:09:27+00:00", 10.0, n=2)
    assert (h1, h2) == (1_050_000, 1_260_000)
    # 210,000 blocks * 10 min = 1,458 d 8 h after 2024-04-20 00:09 UTC
    assert t1 == dt.datetime(2028, 4, 17, 8, 9, 27, tzinfo=dt.timezone.utc)


def test_hashprice_difficulty_and_hashrate_forms_agree():
    d = 152e12
    reward = e.reward_btc(3.125, 0.01)
    assert reward == pytest.approx(3.125 / 0.99)
    via_d = e.hashprice_usd_per_ph_day(d, reward, 90_000)
    via_h = e.hashprice_from_hashrate_usd_per_ph_day(e.hashrate_hs(d) / 1e15, reward, 90_000)
    assert via_d == pytest.approx(via_h, rel=1e-12)
    # 8.64e19 H per PH-day / (152e12 * 2**32) blocks * 3.1566 BTC * $90k = $37.60 (late-2025 level)
    assert via_d == pytest.approx(37.598, abs=0.01)
    assert e.hashrate_hs(d) == pytest.approx(152e12 * 2**32 / 600)
    assert e.difficulty_from_hashrate(e.hashrate_hs(d)) == pytest.approx(d)


def test_s21_hand_example():
    """S21 at 17.5 J/TH, $50/PH/day, PUE 1.05, uptime 0.95, pool fee 2 %, $40/MWh, $15/TH."""
    usd_per_th_day = 0.05
    assert e.th_s_per_mw(S21_J_PER_TH) == pytest.approx(57_142.857, rel=1e-6)
    # 57,142.857 / 1.05 * 0.05 * 0.95 * 0.98 = 2,533.33 $/MW-day
    assert e.revenue_usd_per_mw_day(usd_per_th_day, S21_J_PER_TH, 1.05, 0.95, 0.02) == pytest.approx(2533.3333, rel=1e-6)
    # 0.05 * 0.98 * 1e6 / (24 * 17.5 * 1.05) = 49,000 / 441 = 111.11 $/MWh
    assert e.breakeven_usd_per_mwh(usd_per_th_day, S21_J_PER_TH, 1.05, 0.02) == pytest.approx(111.1111, rel=1e-6)
    # 17.5 * 0.024 * 40 = 16.8 $/PH-day
    assert e.hashcost_usd_per_ph_day(S21_J_PER_TH, 40.0) == pytest.approx(16.8)
    # margin (0.049 - 0.0168) * 0.95 = 0.03059 $/TH-day -> 15 / 0.03059 / 30.4375 = 16.11 months
    assert e.payback_months_static(15.0, usd_per_th_day, S21_J_PER_TH, 40.0, 0.02, 0.95) == pytest.approx(16.110, abs=1e-3)
    assert e.payback_months_static(15.0, usd_per_th_day, S21_J_PER_TH, 120.0, 0.02, 0.95) is None
    assert ASIC_CATALOGUE["Antminer S21"].j_per_th == pytest.approx(S21_J_PER_TH)


def test_dynamic_payback_matches_static_without_growth_and_halving():
    static = e.payback_months_static(15.0, 0.05, S21_J_PER_TH, 40.0, 0.02, 0.95)
    dyn = e.payback_dynamic(15.0, 0.05, S21_J_PER_TH, 40.0, pool_fee=0.02, uptime=0.95, price_growth_per_year=0.0,
                            difficulty_growth_per_year=0.0, fee_share=0.01)
    assert dyn.months == pytest.approx(static, rel=1e-9)


def test_dynamic_payback_halving_slows_it_and_negative_margin_never_pays_back():
    kw = dict(pool_fee=0.02, uptime=0.95, price_growth_per_year=0.0, difficulty_growth_per_year=0.1, fee_share=0.01)
    base = e.payback_dynamic(15.0, 0.05, S21_J_PER_TH, 40.0, **kw)
    halved = e.payback_dynamic(15.0, 0.05, S21_J_PER_TH, 40.0, halving_months=(15,), **kw)
    assert base.months is not None and halved.months is not None and halved.months > base.months
    # After the halving the hashprice drops by (1 - f)/2 + f = 0.505
    f = e.hashprice_factors(12, 0.0, 0.0, 0.01, (6,))
    assert f[5] == 1.0 and f[6] == pytest.approx(0.505)
    # Power above breakeven from the start: switched off every month, never pays back
    never = e.payback_dynamic(15.0, 0.05, S21_J_PER_TH, 150.0, **kw)
    assert never.months is None
    assert not never.running.any() and never.cumulative_usd_per_th[-1] == 0.0
    # Margin that turns negative later: the curve flattens (switch-off) instead of falling
    fading = e.payback_dynamic(50.0, 0.05, S21_J_PER_TH, 80.0, max_months=60, **kw)
    assert fading.months is None
    assert np.all(np.diff(fading.cumulative_usd_per_th) >= 0) and not fading.running[-1]


def test_curtailment_fixed_price_with_resale_beats_index_on_spiky_prices():
    prices = np.array([20.0, 30.0, 500.0, -10.0])
    index = e.curtailment(prices, 60.0, mw=1.0)
    assert index.running.tolist() == [True, True, False, True]
    assert (index.mining_revenue_usd, index.power_cost_usd, index.net_usd) == (180.0, 40.0, 140.0)
    fixed = e.curtailment(prices, 60.0, mw=1.0, contract_price_usd_per_mwh=40.0)
    # runs 3 h (180), resells the spike hour (500), pays 4 h * $40 (160)
    assert (fixed.mining_revenue_usd, fixed.resale_revenue_usd, fixed.power_cost_usd) == (180.0, 500.0, 160.0)
    assert fixed.net_usd == 520.0 > index.net_usd
    # Forced-off hours (DR / 4CP) never run
    forced = e.curtailment(prices, 60.0, forced_off=np.array([True, False, False, False]))
    assert forced.hours_run == 2


def test_demand_response_and_4cp():
    assert e.demand_response_pay_usd(10.0, 8.0) == 10 * 8 * 8760
    assert e.fourcp_charge_usd([100, 100, 0, 0], 60_000) == 3_000_000
    assert e.fourcp_charge_usd([0, 0, 0, 0], 60_000) == 0


def test_default_lease_rate_is_the_median_of_the_public_deals():
    a = default_assumptions()
    rates = sorted(d.usd_m_per_mw_year for d in LEASE_DEALS)
    assert len(rates) == 6
    median_usd_m = (rates[2] + rates[3]) / 2                          # (1.83 + 1.85) / 2 = 1.84
    assert median_usd_m == pytest.approx(1.84)
    assert a.lease_rate_usd_per_kw_month == pytest.approx(median_usd_m * 1e6 / 1000 / 12)   # ~153.3
    assert a.lease_rate_usd_per_kw_month == pytest.approx(153.33, abs=0.01)
    # the single lowest deal stays in the table and in the source note
    assert LEASE_DEALS[0].usd_per_kw_month == pytest.approx(120.8, abs=0.05)
    source = ASSUMPTIONS["lease_rate_usd_per_kw_month"].source
    assert "Median" in source and all(d.landlord in source for d in LEASE_DEALS)


def test_growth_defaults_state_the_implied_hashprice_decline():
    a = default_assumptions()
    decline = 1 - (1 + a.btc_price_growth_per_year) / (1 + a.difficulty_growth_per_year)
    assert decline == pytest.approx(0.2308, abs=1e-4)
    assert "~23%/yr" in ASSUMPTIONS["difficulty_growth_per_year"].source
    for key in ("difficulty_growth_per_year", "btc_price_growth_per_year", "existing_fleet_age_years",
                "asic_resale_usd_per_th", "ai_exit_multiple_noi", "mining_exit_multiple"):
        assert "Assumption" in ASSUMPTIONS[key].source, key


def test_npv_irr_numpy_financial_reference_values():
    cf = [-100, 39, 59, 55, 20]
    assert e.irr(cf) == pytest.approx(0.28095, abs=1e-5)      # numpy-financial docs
    assert e.npv(0.281, cf) == pytest.approx(-0.0084782, abs=1e-6)
    assert e.npv(0.0, cf) == 73
    assert e.irr([-1.0, 1.1]) == pytest.approx(0.1)
    assert e.irr([-100, 230, -132]) == pytest.approx(0.10)    # roots 10 % and 20 %: closest to zero
    assert e.irr([100, 10, 10]) is None and e.irr([-100, -10]) is None
    assert e.irr([0, -100, 0, 121]) == pytest.approx(0.10)
    assert e.payback_year([-100, 50, 50, 50]) == 2.0
    assert e.payback_year([-100, 40, 40]) is None


# -- site paths -----------------------------------------------------------------------------------
def _site(**kw):
    base = dict(site_id="T1", name="Test", power_capacity_mw=100.0, energized_mw=100.0, power_price_usd_per_mwh=40.0,
                admin1="ND", country="US")
    base.update(kw)
    return Site.create(**base)


S21XP_TH_PER_SITE_MW = 1e6 / (3645 / 270) / 1.05          # TH/s per MW at the meter (PUE 1.05)


def test_site_paths_ai_lease_cash_flows_follow_the_lease():
    a = default_assumptions().replace(horizon_years=5, build_months=18, ai_exit_multiple_noi=0.0)
    c = e.site_paths(_site(), a)
    ai = c.ai_lease
    it_mw = 100 * 0.70
    assert c.it_mw == pytest.approx(it_mw)
    # conversion capex, less the installed 100 MW fleet sold at $3/TH
    resale = 3.0 * S21XP_TH_PER_SITE_MW * 100
    assert ai.cash_flows_usd[0] == pytest.approx(-10.5e6 * it_mw + resale)
    assert ai.capex_usd == pytest.approx(10.5e6 * it_mw) and ai.streams_usd["fleet_resale"] == pytest.approx(resale)
    noi = a.lease_rate_usd_per_kw_month * 1000 * 12 * 0.85 * it_mw
    assert ai.cash_flows_usd[1] == 0.0                      # building, no revenue
    assert ai.cash_flows_usd[2] == pytest.approx(noi / 2)    # live from month 18
    assert ai.cash_flows_usd[3] == pytest.approx(noi)
    assert ai.terminal_value_usd == 0.0 and ai.cash_flows_usd[5] == pytest.approx(noi)
    assert ai.npv_usd == pytest.approx(e.npv(0.10, ai.cash_flows_usd))
    assert ai.irr is not None and abs(e.npv(ai.irr, ai.cash_flows_usd)) < 1e-3 * abs(ai.capex_usd)


def test_terminal_value_is_the_multiple_of_final_year_noi_discounted():
    base = default_assumptions().replace(horizon_years=10)
    none = e.site_paths(_site(), base.replace(ai_exit_multiple_noi=0.0))
    tv = e.site_paths(_site(), base.replace(ai_exit_multiple_noi=12.0))
    noi_final = none.ai_lease.cash_flows_usd[10]
    assert noi_final == pytest.approx(base.lease_rate_usd_per_kw_month * 12_000 * 0.85 * 70)
    assert tv.ai_lease.terminal_value_usd == pytest.approx(12.0 * noi_final)
    assert tv.ai_lease.terminal_value_pv_usd == pytest.approx(12.0 * noi_final / 1.1**10)
    assert tv.ai_lease.npv_usd - none.ai_lease.npv_usd == pytest.approx(12.0 * noi_final / 1.1**10)
    assert tv.ai_lease.streams_usd["terminal_value"] == pytest.approx(12.0 * noi_final)
    np.testing.assert_allclose(tv.ai_lease.cash_flows_ex_terminal_usd, none.ai_lease.cash_flows_usd)
    assert tv.ai_lease.payback_years == none.ai_lease.payback_years      # payback ignores the exit value
    assert tv.ai_lease.usd_per_mwh == pytest.approx(none.ai_lease.usd_per_mwh)
    # hybrid: the AI part gets the same multiple; the mining part 0 by default
    # (the hybrid's AI tenant has the same 70 MW IT here: 70 * 1.2 fits under 100 - 2 MW reserve)
    assert tv.hybrid.terminal_value_usd == pytest.approx(12.0 * noi_final)
    assert none.mining.terminal_value_usd == 0.0 and tv.mining.terminal_value_usd == 0.0
    # a bridge converted early enough to lease in year 10 carries it (N = 0..8 with an 18-month build);
    # N = 9 is still building at the horizon and N = 10 (never converted) is the mining path
    gain = (tv.bridge_npv_usd - none.bridge_npv_usd)[:9]
    np.testing.assert_allclose(gain, 12.0 * noi_final / 1.1**10, rtol=1e-9)
    assert tv.bridge_npv_usd[9:] == pytest.approx(none.bridge_npv_usd[9:])


def test_mining_exit_multiple_applies_to_final_year_mining_cash():
    a = default_assumptions().replace(horizon_years=3, fleet_refresh_years=4, existing_fleet_age_years=0)
    none = e.site_paths(_site(), a)
    tv = e.site_paths(_site(), a.replace(mining_exit_multiple=2.0))
    final = none.mining.cash_flows_usd[3]
    assert final > 0
    assert tv.mining.terminal_value_usd == pytest.approx(2.0 * final)
    assert tv.mining.npv_usd - none.mining.npv_usd == pytest.approx(2.0 * final / 1.1**3)


def test_energized_mw_have_no_year0_fleet_capex():
    a = default_assumptions().replace(horizon_years=6)
    fleet_per_mw = S21XP_TH_PER_SITE_MW * 25.70
    full = e.site_paths(_site(), a)
    assert full.mining.capex_usd == 0.0 and full.mining.cash_flows_usd[0] == 0.0
    # 60 of 100 MW energized: only the 40 new MW need a fleet and mining infrastructure
    part = e.site_paths(_site(energized_mw=60.0), a)
    assert part.mining.capex_usd == pytest.approx(40 * (fleet_per_mw + 400_000.0))
    assert part.mining.cash_flows_usd[0] == pytest.approx(-part.mining.capex_usd)
    pipeline = e.site_paths(_site(energized_mw=0.0, status="pipeline"), a)
    assert pipeline.mining.capex_usd == pytest.approx(100 * (fleet_per_mw + 400_000.0))
    # hybrid: its 25 MW mining block runs on installed machines, the other 75 MW of them are sold
    assert full.hybrid.capex_usd == pytest.approx(10.5e6 * full.it_mw)
    assert full.hybrid.cash_flows_usd[0] == pytest.approx(-full.hybrid.capex_usd + 3.0 * S21XP_TH_PER_SITE_MW * 75)
    # without energized MW the hybrid buys its 25 MW block: fleet plus mining infrastructure
    assert pipeline.hybrid.capex_usd == pytest.approx(10.5e6 * full.it_mw + 25 * (fleet_per_mw + 400_000.0))


def test_installed_fleet_is_first_refreshed_when_it_reaches_the_refresh_age():
    # a rising hashprice so that every refresh pays back and no cohort retires
    a = default_assumptions().replace(horizon_years=6, btc_price_growth_per_year=0.5, difficulty_growth_per_year=0.0,
                                      asic_resale_usd_per_th=0.0)
    fleet_per_mw = S21XP_TH_PER_SITE_MW * 25.70
    age2 = e.site_paths(_site(energized_mw=60.0), a.replace(existing_fleet_age_years=2)).mining
    age0 = e.site_paths(_site(energized_mw=60.0), a.replace(existing_fleet_age_years=0)).mining
    assert not age2.notes and not age0.notes
    diff = age2.cash_flows_usd - age0.cash_flows_usd
    expected = np.zeros(7)
    expected[2] = -60 * fleet_per_mw          # installed fleet (2 yr old) refreshed in year 4 - 2
    expected[4] = +60 * fleet_per_mw          # ... instead of year 4 when bought new
    np.testing.assert_allclose(diff, expected, atol=1e-3)
    # new 40 MW refreshed in year 4, installed 60 MW in year 2: all 100 MW once within 6 years
    assert age2.streams_usd["fleet_refresh_capex"] == pytest.approx(100 * fleet_per_mw)


def test_site_paths_mining_and_bridge_consistency():
    a = default_assumptions()
    c = e.site_paths(_site(), a)
    h = a.horizon_years
    for p in (c.mining, c.ai_lease, c.hybrid):
        assert p.cash_flows_usd.shape == (h + 1,)
        assert np.all(np.isfinite(p.cash_flows_usd)) and p.usd_per_mwh is not None
        assert p.npv_usd_per_mw == pytest.approx(p.npv_usd / 100.0)
        assert p.npv_usd == pytest.approx(e.npv(a.discount_rate, p.cash_flows_usd))
    assert c.ai_lease.cash_flows_usd[0] < 0 and c.hybrid.cash_flows_usd[0] < 0
    # mining on a fully energized site: the installed fleet is sunk, nothing to spend in year 0
    assert c.mining.capex_usd == 0.0 and c.mining.cash_flows_usd[0] == 0.0
    assert c.mining.cash_flows_usd[1] > 0                  # mining earns in year 1 at $40/MWh
    assert c.bridge_npv_usd.shape == (h + 1,)
    assert c.bridge_npv_usd[0] == pytest.approx(c.ai_lease.npv_usd)
    assert c.bridge_npv_usd[h] == pytest.approx(c.mining.npv_usd)
    assert c.best_bridge_year == int(np.argmax(c.bridge_npv_usd))
    assert "estimate" in c.valuation.label.lower()
    assert c.best_path in ("mining", "ai_lease", "hybrid")


def test_site_paths_unknown_mw_is_unavailable_not_zero():
    c = e.site_paths(_site(power_capacity_mw=None, energized_mw=None), default_assumptions())
    assert c.unavailable_reason and "unknown" in c.unavailable_reason
    assert c.mining is None and c.paths == {} and c.best_path is None
    c0 = e.site_paths(_site(power_capacity_mw=0.0, energized_mw=0.0), default_assumptions())
    assert c0.unavailable_reason and "0 MW" in c0.unavailable_reason


def test_site_paths_defaults_for_unknown_price_and_asic():
    c = e.site_paths(_site(power_price_usd_per_mwh=None, asic_model="Mystery 9000"), default_assumptions())
    assert c.power_price_usd_per_mwh == 45.0 and c.asic_model == "Antminer S21 XP"
    assert any("power price unknown" in n for n in c.notes) and any("Mystery 9000" in n for n in c.notes)


def test_higher_power_price_lowers_mining_npv_and_electron_value():
    a = default_assumptions()
    cheap, dear = e.site_paths(_site(power_price_usd_per_mwh=30), a), e.site_paths(_site(power_price_usd_per_mwh=70), a)
    assert cheap.mining.npv_usd > dear.mining.npv_usd
    assert cheap.mining.usd_per_mwh > dear.mining.usd_per_mwh


# -- assumptions ----------------------------------------------------------------------------------
def test_every_assumption_has_unit_range_source_and_valid_default():
    for key, spec in ASSUMPTIONS.items():
        assert spec.source and spec.label and spec.group, key
        if spec.kind in ("float", "int"):
            assert spec.minimum <= spec.default <= spec.maximum, key
    default_assumptions()  # defaults validate


def test_settings_merge_order_and_validation():
    s = {"scenario": "bull", "assumptions": {"btc_price_usd": 123_456}}
    a = assumptions_from_settings(s)
    assert a.btc_price_usd == 123_456                        # user beats scenario
    assert a.fee_share == 0.03 and a.scenario == "bull"      # scenario beats default
    custom = {"scenario": "mine", "scenarios": {"mine": {"pool_fee": 0.01}}}
    assert assumptions_from_settings(custom).pool_fee == 0.01
    with pytest.raises(AssumptionError, match=r"pool_fee = 0.1 is outside the range 0 to 0.04"):
        assumptions_from_settings({"assumptions": {"pool_fee": 0.1}})
    with pytest.raises(AssumptionError, match="unknown"):
        assumptions_from_settings({"assumptions": {"btc_prise": 1}})
    with pytest.raises(AssumptionError, match="scenario 'moon' is unknown"):
        assumptions_from_settings({"scenario": "moon"})
    with pytest.raises(AssumptionError, match="not in the ASIC catalogue"):
        assumptions_from_settings({"assumptions": {"asic_model": "Nope"}})
    with pytest.raises(AttributeError):
        a.btc_price_usd = 1


def test_asic_catalogue_is_editable_and_efficiency_is_derived():
    s = {"asic_catalogue": {"Rack ASIC R1": {"th_s": 300, "watts": 3000}}, "assumptions": {"asic_model": "Rack ASIC R1"}}
    a = assumptions_from_settings(s)
    assert a.asic().j_per_th == 10.0
    with pytest.raises(AssumptionError, match="watts"):
        assumptions_from_settings({"asic_catalogue": {"Bad": {"th_s": 100, "watts": -1}}})


def test_fixed_contract_with_resale_in_site_paths():
    a = default_assumptions().replace(horizon_years=3)
    index = e.site_paths(_site(), a)
    fixed = e.site_paths(_site(), a.replace(power_contract="fixed"))
    assert index.mining.streams_usd["resale_revenue"] == 0.0
    assert fixed.mining.streams_usd["resale_revenue"] > 0.0
    # fixed pays the contract for every hour of the block; index pays only the hours it runs
    assert fixed.mining.streams_usd["power_cost"] > index.mining.streams_usd["power_cost"]
