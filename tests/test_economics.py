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
    # a fleet sold at signing (year 0 positive) is not a payback: cumulative -400, -500, -200, +200
    assert e.payback_year([100, -500, -100, 300, 400]) == pytest.approx(3.5)


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


def test_irr_is_the_real_root_closest_to_zero_like_numpy_roots():
    """Fast paths (Descartes-unique Newton, bracketing grid) agree with the companion-matrix roots."""
    rng = np.random.default_rng(7)
    checked = 0
    for i in range(400):
        cf = rng.normal(0, 1, 16) * rng.choice([1, 10, 100], 16)
        if i % 2:
            cf[0] = -abs(cf[0]) * 20
        cf_n = cf / np.abs(cf).max()
        roots = [1 / x.real - 1 for x in np.roots(cf_n[::-1]) if abs(x.imag) < 1e-9 and x.real > 1e-9]
        if any(r < -0.5 or r > 100 for r in roots):
            continue  # x = 1 / (1 + r) > 2: x**15 amplifies round-off, the reference itself is unreliable there
        got = e.irr(cf)
        if roots:
            checked += 1
            assert got == pytest.approx(min(roots, key=abs), rel=1e-6, abs=1e-9), cf
    assert checked > 100
    # two IRRs, one negative: the cumulative cash changes sign once, yet the root closest to zero is -25 %
    two = np.polymul([1, -1 / 0.75], [1, -1 / 1.5])[::-1]   # roots x = 1/0.75 (r = -25 %) and 1/1.5 (r = +50 %)
    assert e.irr(two) == pytest.approx(-0.25)
