"""Site paths (mining, AI lease, hybrid, sell, bridge) against independent hand derivations and properties.

Hand cases use a site with every readiness fact known and nothing to upgrade, so the conversion
capex is the fit-out alone, and a flat-hashprice outlook (constant growth 0 % before the 2028
halving) so mining revenue per MWh is one number computed from DOMAIN's formulas.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.model import economics as e
from planner.model.assumptions import AssumptionError, default_assumptions
from planner.model.hybrid import hour_calendar, synthetic_prices
from planner.model.outlook import build_outlook, read_forward_curve_csv
from planner.model.site import Site

READY = dict(hall_type="rack_mount_halls", cooling_current="direct_to_chip", dlc_path="dlc_ready", max_rack_kw=150,
             substation_owned=True, substation_voltage_kv=345, transformer_count=2, transformers_n_plus_1=True,
             dark_fibre_on_site=True, water_source="rights_secured", power_permit="granted",
             zoning="industrial_approved", interconnection_status="energized")


def _site(**kw):
    base = dict(site_id="T1", name="Test", power_capacity_mw=100.0, energized_mw=100.0, power_price_usd_per_mwh=40.0,
                admin1="ND", country="US", **READY)
    base.update(kw)
    return Site.create(**base)


def _flat(**kw):
    """Flat hashprice (no growth; the first halving is in month ~29) and no financing unless asked."""
    base = dict(outlook_model="constant_growth", difficulty_growth_per_year=0.0, btc_price_growth_per_year=0.0,
                debt_share=0.0, ai_exit_multiple_noi=0.0)
    base.update(kw)
    return default_assumptions().replace(**base)


def _hashprice0(a) -> float:
    reward = 3.125 / (1 - a.fee_share)
    return 86_400e15 / (a.difficulty * 2**32) * reward * a.btc_price_usd


# -- dispatch ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1])
def test_dispatch_curve_equals_the_hour_by_hour_loop(seed):
    rng = np.random.default_rng(seed)
    cal = hour_calendar()
    prices = synthetic_prices(45.0, seed=seed)
    block = rng.uniform(0, 2, prices.size)
    off = rng.random(prices.size) < 0.05
    curve = e.DispatchCurve(prices, np.where(off, 0.0, block), block, cal.month)
    months = np.arange(24) % 12
    revenue = rng.uniform(0, 120, 24)
    mwh, cost = curve.run(months, revenue, strict=True)
    mwh_f, cost_f = curve.run(months, revenue, strict=False)
    for i, (m, r) in enumerate(zip(months, revenue)):
        exp_mwh = exp_cost = exp_mwh_f = 0.0
        for h in np.nonzero(cal.month == m)[0]:  # the hour-by-hour rule of DOMAIN section 3
            if off[h]:
                continue
            if prices[h] < r:
                exp_mwh += block[h]
                exp_cost += block[h] * prices[h]
            if prices[h] <= r:
                exp_mwh_f += block[h]
        assert mwh[i] == pytest.approx(exp_mwh) and cost[i] == pytest.approx(exp_cost)
        assert mwh_f[i] == pytest.approx(exp_mwh_f)


def test_price_shift_is_additive_within_floor_and_cap():
    lo, hi = synthetic_prices(40.0), synthetic_prices(60.0)
    inside = (lo > -250) & (hi < 5000) & (lo < 5000) & (hi > -250)
    np.testing.assert_allclose((hi - lo)[inside], (hi - lo)[inside][0])       # every hour moves by the same $
    assert (hi - lo)[inside][0] == pytest.approx(20.0, abs=0.5)
    assert np.all(hi >= lo)                                                   # never cheaper when the mean rises
    for p in (synthetic_prices(-200.0), synthetic_prices(2000.0)):
        assert p.min() >= -250 and p.max() <= 5000


# -- hand-computed paths --------------------------------------------------------------------------
def test_ai_lease_cash_flows_by_hand():
    a = _flat(horizon_years=5, build_months=6, lease_term_years=3, lease_escalator_per_year=0.03,
              lease_renewal_probability=0.5, lease_downtime_months=6, relet_capex_usd_per_mw_it=1e6,
              ai_exit_multiple_noi=2.0, tenant_class="neocloud_backstop")
    c = e.site_paths(_site(), a)
    assert [i.key for i in c.capex_items] == ["fitout"] and c.build_months == 6
    it = 70.0
    rent0 = a.lease_rate_usd_per_kw_month * 1000 * it                          # $ per month
    exp = np.zeros(6)
    # the installed fleet (18.5 J/TH, 100 MW, $40/MWh) mines through the 6-month build, then is sold (year 1)
    r = _hashprice0(a) / 1000 * 0.98 * 1e6 / (24 * 18.5 * 1.05)              # revenue per MWh = breakeven
    prices, cal = synthetic_prices(40.0), hour_calendar()
    for t in range(6):
        run_mwh = 0.95 * 100 * np.count_nonzero((cal.month == (10 + t) % 12) & (prices < r))
        exp[1] += (r - 40.0) * run_mwh - 60_000 / 12 * 100
    exp[1] += 3.0 * 1e6 / 18.5 / 1.05 * 100                                    # fleet sold at first capacity
    mining_part = exp.copy()
    exp[1] -= 5e6 * it                                                         # fit-out spread over months 0-5
    for month in range(6, 60):                                                 # lease live from month 6
        k = month - 6
        occupancy = 0.5 if k >= 36 and k % 36 < 6 else 1.0                    # non-renewed half vacant 6 months
        exp[month // 12 + 1] += 0.85 * rent0 * 1.03 ** (k // 12) * occupancy
    exp[4] -= 0.5 * 1e6 * it                                                   # re-fit at the term end (month 42)
    rate = 0.10 + 0.015                                                        # credit spread on the lease
    # exit: 2x the let run rate at month 59, less the buyer's expected cost of the next term end (month 78,
    # 19 months later): half the rent lost for 6 months and half the re-fit, discounted at the lease rate
    rent_end = rent0 * 1.03 ** 4
    next_renewal = (0.5 * 0.85 * rent_end * 6 + 0.5 * 1e6 * it) / (1 + rate) ** (19 / 12)
    tv = 2.0 * 12 * 0.85 * rent_end - next_renewal
    ai = c.ai_lease
    np.testing.assert_allclose(ai.cash_flows_ex_terminal_usd, exp, rtol=1e-9)
    assert ai.terminal_value_usd == pytest.approx(tv)
    assert ai.lease_discount_rate == pytest.approx(rate)
    lease_part = exp - mining_part                                             # mining at 10 %, the lease at 11.5 %
    assert ai.npv_excl_terminal_usd == pytest.approx(sum(m / 1.1 ** t + x / (1 + rate) ** t
                                                         for t, (m, x) in enumerate(zip(mining_part, lease_part))))
    assert ai.npv_usd == pytest.approx(ai.npv_excl_terminal_usd + tv / (1 + rate) ** 5)
    assert ai.terminal_share == pytest.approx((tv / (1 + rate) ** 5) / ai.npv_usd)
    assert ai.financing.debt_usd == 0 and ai.equity_irr == pytest.approx(ai.irr)


def test_prepayment_and_tenant_funded_fitout():
    base = _flat(horizon_years=4, build_months=6)
    pre = e.site_paths(_site(), base.replace(lease_prepayment_months=6)).ai_lease
    none = e.site_paths(_site(), base).ai_lease
    rent0 = base.lease_rate_usd_per_kw_month * 1000 * 70
    assert pre.cash_flows_usd[0] - none.cash_flows_usd[0] == pytest.approx(6 * rent0)    # received at signing
    assert none.cash_flows_usd[1] - pre.cash_flows_usd[1] == pytest.approx(6 * rent0)    # credited months 6-11
    tenant_c = e.site_paths(_site(), base.replace(fitout_funded_by="tenant", tenant_funded_capex_share=0.6))
    tenant = tenant_c.ai_lease
    assert none.capex_usd == pytest.approx(5e6 * 70) and tenant.capex_usd == pytest.approx(0.4 * 5e6 * 70)
    # a tenant-funded deal pays the tenant-funded rent (Core Scientific-CoreWeave ~$121/kW-month), not the median
    assert tenant.streams_usd["lease_revenue"] / none.streams_usd["lease_revenue"] == pytest.approx(
        base.tenant_funded_lease_rate_usd_per_kw_month / base.lease_rate_usd_per_kw_month)
    assert base.tenant_funded_lease_rate_usd_per_kw_month == pytest.approx(1.45e6 / 12_000, abs=0.01)


def test_mining_cash_flows_by_hand():
    a = _flat(horizon_years=2, existing_fleet_age_years=0, fleet_refresh_years=4)
    site = _site(fleet_j_per_th=20.0, power_price_usd_per_mwh=40.0)
    c = e.site_paths(site, a)
    r = _hashprice0(a) / 1000 * 0.98 * 1e6 / (24 * 20.0 * 1.05)                 # breakeven = revenue per MWh
    assert c.breakeven_usd_per_mwh == pytest.approx(r)
    prices, cal = synthetic_prices(40.0), hour_calendar()
    exp = np.zeros(3)
    for t in range(24):                                                        # model months from Nov 2025
        m = (10 + t) % 12
        run_mwh = 0.95 * 100 * np.count_nonzero((cal.month == m) & (prices < r))
        exp[t // 12 + 1] += (r - 40.0) * run_mwh - 60_000 / 12 * 100          # net-of-curtailment basis, opex
    np.testing.assert_allclose(c.mining.cash_flows_usd, exp, rtol=1e-9)
    assert c.mining.capex_usd == 0 and c.mining.npv_usd == pytest.approx(exp[1] / 1.1 + exp[2] / 1.21)


def test_hybrid_is_its_lease_plus_its_mining_block():
    a = _flat(horizon_years=3, build_months=6, hybrid_mining_share=0.0, interconnect_reserve_mw=0.0)
    c = e.site_paths(_site(), a)
    # no mining block: the hybrid is the AI lease on 70 MW IT (the whole installed fleet mines until then, then sold)
    np.testing.assert_allclose(c.hybrid.cash_flows_usd, c.ai_lease.cash_flows_usd, rtol=1e-9)
    with_block = e.site_paths(_site(), a.replace(hybrid_mining_share=0.25))
    assert with_block.hybrid.streams_usd["mining_revenue"] > 0


def test_sell_baseline_and_unknown_energized_range():
    a = default_assumptions()
    c = e.site_paths(_site(energized_mw=60.0), a)
    assert c.sell.npv_usd == pytest.approx(60 * 1_540_000) and c.sell.cash_flows_usd[0] == c.sell.npv_usd
    unknown = e.site_paths(_site(energized_mw=None, status="operating"), a)
    assert unknown.sell.unavailable_reason and unknown.fleet_mw == 0 and unknown.energized_mw is None
    lo, hi = unknown.energized_range["sell"]
    assert (lo, hi) == (0.0, pytest.approx(100 * 1_540_000))
    assert unknown.energized_range["mining"][0] <= unknown.energized_range["mining"][1]
    assert any("Energized MW unknown" in n for n in unknown.notes)
    # the best path is chosen among all four, selling included
    assert c.best_path == max(c.all_paths, key=lambda k: c.all_paths[k].npv_usd)


def test_status_alone_never_decides_the_fleet():
    a = default_assumptions().replace(horizon_years=6)
    for en in (None, 50.0):
        npvs = {status: {k: p.npv_usd for k, p in e.site_paths(_site(energized_mw=en, status=status), a).all_paths.items()}
                for status in ("operating", "pipeline", "announced_conversion")}
        assert npvs["operating"] == npvs["pipeline"] == npvs["announced_conversion"]


def test_pipeline_is_built_only_when_it_pays():
    a = _flat(horizon_years=6, btc_price_growth_per_year=0.3)
    only = e.site_paths(_site(energized_mw=40.0), a)
    assert only.mining.capex_usd == 0 and only.mining.option == "installed fleet only"
    build = e.site_paths(_site(energized_mw=40.0), a.replace(mining_pipeline="build_if_it_pays"))
    assert build.mining.npv_usd >= only.mining.npv_usd
    forced = e.site_paths(_site(energized_mw=40.0), a.replace(mining_pipeline="always_build"))
    fleet_usd_per_mw = 1e6 / 13.5 / 1.05 * 25.70
    assert forced.mining.capex_usd == pytest.approx(60 * (fleet_usd_per_mw + 400_000))


def test_bridge_conversion_year_and_capex_timing():
    a = _flat(horizon_years=6, build_months=6)
    c = e.site_paths(_site(), a)
    h = 6
    assert c.bridge_npv_usd[h] == pytest.approx(c.mining.npv_usd)
    np.testing.assert_allclose(c.bridge_cash_flows_usd[h], c.mining.cash_flows_usd)
    # signing at the end of year N puts the first conversion capex in year N + 1
    assert list(c.bridge_capex_year[:h]) == [n + 1 for n in range(h)] and c.bridge_capex_year[h] == -1
    fitout = 5e6 * 70
    noi_month = a.lease_rate_usd_per_kw_month * 1000 * 70 * 0.85
    for n in range(3):                          # before the 2028 halving mining earns every year
        cf = c.bridge_cash_flows_usd[n]
        assert np.all(cf[1:n + 1] > 0)          # mined in years 1..N, no capex yet
        # year N + 1: the whole fit-out (6-month build), 6 months of rent, 6 months of mining and the fleet sale
        rest = cf[n + 1] + fitout - 6 * noi_month
        assert 0 < rest < 0.15 * fitout
        assert np.all(cf[n + 2:] > 0)           # lease income afterwards
    # N = 0 is converting now: the AI lease path (which mines through the build too), to the cent
    assert c.bridge_npv_usd[0] == pytest.approx(c.ai_lease.npv_usd, rel=1e-12)
    np.testing.assert_allclose(c.bridge_cash_flows_usd[0], c.ai_lease.cash_flows_usd, rtol=1e-12)
    assert c.best_bridge_year == int(np.argmax(c.bridge_npv_usd))


def test_a_conversion_still_being_built_at_the_horizon_keeps_its_exit_value():
    # 18-month build: signing at the end of year 5 of a 6-year horizon is live in month 78, after the
    # horizon (month 72). A buyer pays the let value at the first live month less the fit-out still
    # to spend (months 12-17 after signing), both discounted to the horizon at the lease rate.
    a = _flat(horizon_years=6, build_months=18, ai_exit_multiple_noi=10.0, lease_renewal_probability=1.0)
    c = e.site_paths(_site(), a)
    no_exit = e.site_paths(_site(), a.replace(ai_exit_multiple_noi=0.0))
    lr = c.ai_lease.lease_discount_rate
    assert lr == pytest.approx(a.discount_rate + a[f"spread_{a.tenant_class}"])
    it_mw, fitout = 70.0, 5e6 * 70
    run_rate = 12 * a.lease_rate_usd_per_kw_month * 1000 * it_mw * a.noi_margin
    last = 71 - 60                                  # horizon month, counted from signing
    to_spend = sum(fitout / 18 / (1 + lr) ** ((j - last) / 12) for j in range(last + 1, 18))
    exit_usd = 10.0 * run_rate / (1 + lr) ** ((18 - last) / 12) - to_spend
    assert exit_usd > 0
    tv = c.bridge_cash_flows_usd[5][-1] - no_exit.bridge_cash_flows_usd[5][-1]
    assert tv == pytest.approx(exit_usd, rel=1e-9)
    assert c.bridge_npv_usd[5] - no_exit.bridge_npv_usd[5] == pytest.approx(exit_usd / (1 + lr) ** 6, rel=1e-9)
    # so the curve does not fall off a cliff in the last years: converting in year 5 is worth more than
    # never converting, as converting in year 4 is (the old code valued the unfinished fit-out at 0)
    assert c.bridge_npv_usd[4] > c.bridge_npv_usd[6] and c.bridge_npv_usd[5] > c.bridge_npv_usd[6]


def test_bridge_is_a_best_path_candidate_only_when_it_is_a_path_of_its_own():
    # cheap power and a low lease rate: mining 5 more years before converting beats every other path
    a = _flat(horizon_years=10, lease_rate_usd_per_kw_month=60.0, ai_exit_multiple_noi=10.0)
    c = e.site_paths(_site(power_price_usd_per_mwh=10.0), a)
    n = c.best_bridge_year
    assert 0 < n < 10 and c.bridge is not None
    assert c.bridge.npv_usd == pytest.approx(c.bridge_npv_usd[n], rel=1e-12)
    np.testing.assert_allclose(c.bridge.cash_flows_usd, c.bridge_cash_flows_usd[n], rtol=1e-12)
    assert c.best_path == "bridge" and c.to_dict()["best_path"] == "bridge"
    assert max(p.npv_usd for p in c.all_paths.values()) == c.bridge.npv_usd
    # the default case converts now: no separate bridge path, and no "best" figure above the best path
    d = e.site_paths(_site(), default_assumptions())
    assert d.best_bridge_year == 0 and d.bridge is None
    assert max(d.bridge_npv_usd) <= max(p.npv_usd for p in d.all_paths.values()) + 1e-6


def test_financing_by_hand():
    a = default_assumptions().replace(debt_share=0.5, debt_rate=0.08, debt_tenor_years=2, cost_of_equity=0.15)
    cash = np.array([-100.0, 60.0, 60.0, 60.0])
    capex = np.array([100.0, 0, 0, 0])
    f = e.finance_path(cash, capex, a)
    pay = 50 * 0.08 / (1 - 1.08 ** -2)                                         # 28.04 a year, years 1-2
    np.testing.assert_allclose(f.debt_service_usd, [0, pay, pay, 0])
    np.testing.assert_allclose(f.equity_cash_flows_usd, [-50, 60 - pay, 60 - pay, 60])
    assert f.min_dscr == pytest.approx(60 / pay)
    assert f.equity_npv_usd == pytest.approx(-50 + (60 - pay) / 1.15 + (60 - pay) / 1.15**2 + 60 / 1.15**3)
    straight = e.finance_path(cash, capex, a.replace(debt_amortisation="straight"))
    np.testing.assert_allclose(straight.debt_service_usd, [0, 25 + 4, 25 + 2, 0])


def test_payback_counts_the_mining_pue_and_valuation_is_net_of_capex():
    # margin (0.049 - 17.5 * 24e-6 * 40 * 1.05) * 0.95 = 0.029792 -> 15 / 0.029792 / 30.4375 = 16.54 months
    assert e.payback_months_static(15.0, 0.05, 17.5, 40.0, 0.02, 0.95, pue_mining=1.05) == pytest.approx(16.542, abs=1e-3)
    a = default_assumptions()
    c = e.site_paths(_site(), a)
    v = c.valuation
    # each path's own EBITDA: mining's first year; the AI lease's first full year live (6-month... build -> year 2)
    assert v.mining_ebitda_usd == pytest.approx(c.mining.cash_flows_usd[1])
    k = v.ai_stabilised_year
    assert k == math.ceil(c.build_months / 12) + 1
    lr = a.discount_rate + a.spread_neocloud_backstop
    capex_pv = sum(x / (1 + lr) ** t for t, x in enumerate(c.ai_lease.capex_by_year_usd))
    assert v.conversion_capex_pv_usd == pytest.approx(capex_pv)
    assert v.ev_mining_usd == pytest.approx(a.ev_ebitda_miner * max(0.0, v.mining_ebitda_usd))
    assert v.ev_ai_usd < a.ev_ebitda_datacenter * v.ai_ebitda_usd - capex_pv + 1  # discounted, net of capex
    assert v.uplift_usd == pytest.approx(v.ev_ai_usd - v.ev_mining_usd)
    # no energized MW (unknown or zero): no operating EBITDA, no multiple view
    assert e.site_paths(_site(energized_mw=None), a).valuation is None
    assert e.site_paths(_site(energized_mw=0.0, interconnection_status="in_queue"), a).valuation is None


def test_s19j_pro_is_29_5_j_per_th_and_default_fleet_is_the_public_miner_average():
    a = default_assumptions()
    assert a.asic("Antminer S19j Pro").j_per_th == pytest.approx(29.5, abs=0.01)
    c = e.site_paths(_site(), a)
    assert c.fleet_j_per_th == 18.5 and 16 <= a.default_fleet_j_per_th <= 21
    assert e.site_paths(_site(asic_model="Antminer S19j Pro"), a).fleet_j_per_th == pytest.approx(29.5, abs=0.01)


# -- outlook --------------------------------------------------------------------------------------
def test_outlook_stays_near_the_marginal_fleet_cost_under_defaults():
    o = build_outlook(default_assumptions(), 25 * 12)
    gap = np.abs(np.log(o.margin_ratio))
    run = longest = 0
    for far in gap > 0.3:                      # hashprice more than ~35 % above or ~26 % below the cost
        run = run + 1 if far else 0
        longest = max(longest, run)
    assert longest <= 18                       # halvings push it away; the floor brings it back
    assert np.median(gap) < 0.1
    # a price shock is absorbed: with BTC doubling hashrate grows and hashprice returns to the cost
    shock = build_outlook(default_assumptions().replace(btc_price_usd=180_000.0), 36)
    assert shock.hashrate_eh_s[-1] > shock.hashrate_eh_s[0]
    assert abs(math.log(shock.margin_ratio[-1])) < abs(math.log(shock.margin_ratio[0]))


def test_constant_growth_outlook_matches_the_domain_factors():
    a = default_assumptions().replace(outlook_model="constant_growth")
    o = build_outlook(a, 60)
    ms = e.mining_state(a)
    f = e.hashprice_factors(60, 0.0, 0.30, a.fee_share, ms.halving_months)
    np.testing.assert_allclose(o.hashprice_usd_per_ph_day, ms.usd_per_ph_day * f, rtol=1e-9)
    np.testing.assert_allclose(o.asic_usd_per_th, 25.70 * f, rtol=1e-9)      # ASIC $/TH tracks hashprice


def test_forward_curve_csv_and_interpolation(tmp_path):
    path = tmp_path / "fwd.csv"
    path.write_text("date,usd_per_ph_day\n2025-11-30,40\n2026-11-30,30\n")
    points = read_forward_curve_csv(path)
    assert points == (("2025-11-30", 40.0), ("2026-11-30", 30.0))
    a = default_assumptions().replace(outlook_model="forward_curve").with_forward_curve(points)
    o = build_outlook(a, 24)
    assert o.hashprice_usd_per_ph_day[0] == pytest.approx(40.0)
    assert o.hashprice_usd_per_ph_day[6] == pytest.approx(40 - 10 * 6 * 30.4375 / 365, abs=0.05)
    assert o.hashprice_usd_per_ph_day[-1] == pytest.approx(30.0)               # flat after the last point
    bad = tmp_path / "bad.csv"
    bad.write_text("date,v\n2026-01-01,-3\n")
    with pytest.raises(AssumptionError, match="must be a number > 0"):
        read_forward_curve_csv(bad)
    with pytest.raises(AssumptionError, match="needs a hashprice forward curve"):
        build_outlook(default_assumptions().replace(outlook_model="forward_curve"))


# -- properties -----------------------------------------------------------------------------------
_FAST = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_A = default_assumptions().replace(horizon_years=8)


@_FAST
@given(p1=st.floats(-50.0, 400.0), p2=st.floats(-50.0, 400.0), j=st.floats(12.0, 30.0),
       contract=st.sampled_from(["index", "fixed"]), basis=st.sampled_from(["net_of_curtailment", "market_mean"]))
def test_mining_npv_never_rises_with_power_price(p1, p2, j, contract, basis):
    lo, hi = sorted((p1, p2))
    a = _A.replace(power_contract=contract, power_price_basis=basis)
    cheap = e.site_paths(_site(power_price_usd_per_mwh=lo, fleet_j_per_th=j, admin1="TX"), a).mining.npv_usd
    dear = e.site_paths(_site(power_price_usd_per_mwh=hi, fleet_j_per_th=j, admin1="TX"), a).mining.npv_usd
    assert dear <= cheap + 1e-6 * max(1.0, abs(cheap))


@_FAST
@given(t1=st.integers(3, 20), t2=st.integers(3, 20), renew=st.floats(0.0, 1.0), exit_mult=st.floats(0.0, 15.0))
def test_ai_npv_never_rises_with_a_shorter_lease(t1, t2, renew, exit_mult):
    short, long_ = sorted((t1, t2))
    a = _A.replace(lease_renewal_probability=renew, ai_exit_multiple_noi=exit_mult)
    s = e.site_paths(_site(), a.replace(lease_term_years=short)).ai_lease.npv_usd
    lg = e.site_paths(_site(), a.replace(lease_term_years=long_)).ai_lease.npv_usd
    assert s <= lg + 1e-6 * abs(lg)


@_FAST
@given(s1=st.floats(0.0, 0.15), s2=st.floats(0.0, 0.15), exit_mult=st.floats(0.0, 15.0))
def test_ai_npv_never_rises_with_a_higher_credit_spread(s1, s2, exit_mult):
    lo, hi = sorted((s1, s2))
    a = _A.replace(tenant_class="unrated", ai_exit_multiple_noi=exit_mult)
    safe = e.site_paths(_site(), a.replace(spread_unrated=lo)).ai_lease.npv_usd
    risky = e.site_paths(_site(), a.replace(spread_unrated=hi)).ai_lease.npv_usd
    assert risky <= safe + 1e-6 * abs(safe)


@_FAST
@given(status=st.sampled_from(["pipeline", "announced_conversion", "ai_new_build"]),
       energized=st.one_of(st.none(), st.floats(0.0, 100.0)))
def test_a_status_change_alone_never_changes_any_npv(status, energized):
    # a site with 0 MW energized cannot say its interconnection is energized (a cross-field rule)
    grid = {"interconnection_status": "approved"} if energized == 0 else {}
    base = e.site_paths(_site(energized_mw=energized, status="operating", **grid), _A)
    other = e.site_paths(_site(energized_mw=energized, status=status, **grid), _A)
    for k, p in base.all_paths.items():
        assert other.all_paths[k].npv_usd == p.npv_usd
    np.testing.assert_array_equal(base.bridge_npv_usd, other.bridge_npv_usd)


def test_mining_view_takes_every_number_from_the_engine():
    from planner.model.mining import mining_view

    a = default_assumptions()
    v = mining_view(_site(energized_mw=60.0, power_price_usd_per_mwh=45.0), a)
    s21 = next(f for f in v.fleets if f.model == "Antminer S21")
    assert s21.breakeven_hashprice_usd_per_ph_day == pytest.approx(17.5 * 0.024 * 45 * 1.05 / 0.98)
    assert s21.breakeven_power_usd_per_mwh == pytest.approx(e.mining_state(a).breakeven_usd_per_mwh * 13.5 / 17.5)
    assert v.installed_j_per_th == 18.5 and "public-miner" in v.installed_source
    assert v.site_cost_usd_per_ph_day == pytest.approx(18.5 * 0.024 * 45 * 1.05 / 0.98)
    named = mining_view(_site(asic_model="Antminer S19j Pro"), a)
    assert named.installed_j_per_th == pytest.approx(29.5, abs=0.01) and "asic_model" in named.installed_source
    # status never decides anything here either
    other = mining_view(_site(energized_mw=60.0, power_price_usd_per_mwh=45.0, status="pipeline"), a)
    assert other == mining_view(_site(energized_mw=60.0, power_price_usd_per_mwh=45.0), a)


def test_conversion_upgrades_follow_the_project_readiness_thresholds():
    from planner.model.assumptions import assumptions_from_settings

    site = _site(max_rack_kw=100.0)   # rack-mount halls at 100 kW/rack
    base = assumptions_from_settings({})
    strict = assumptions_from_settings({"readiness_thresholds": {"target_rack_kw": 130}})
    relaxed = assumptions_from_settings({"readiness_thresholds": {"target_rack_kw": 80}})
    keys = lambda a: [i.key for i in e.site_paths(site, a).capex_items]  # noqa: E731
    assert "rack_density" in keys(strict) and "rack_density" not in keys(relaxed)
    assert keys(base) == keys(strict)   # 130 kW/rack is the default target


def test_hybrid_surplus_fleet_mines_until_the_halls_go_live():
    a = default_assumptions()
    c = e.site_paths(_site(), a)
    assert c.hybrid.streams_usd["surplus_fleet_until_conversion"] > 0   # mined and sold, not sold at signing
    # the scaled installed plan (no demand response) equals running the surplus as its own block
    tiny_dr = e.site_paths(_site(), a.replace(dr_committed_mw=1e-9))
    assert tiny_dr.hybrid.npv_usd == pytest.approx(c.hybrid.npv_usd, rel=1e-9)
