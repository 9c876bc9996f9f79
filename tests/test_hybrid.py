"""Hourly hybrid model (DOMAIN section 5): physics limits, determinism, steadiness, price series."""
from __future__ import annotations

import numpy as np
import pytest

from planner.model.assumptions import default_assumptions
from planner.model.hybrid import (HOURS_PER_YEAR, HybridError, HybridParams, hour_calendar, simulate_hybrid,
                                  synthetic_prices)
from planner.model.site import Site


def _params(**kw):
    base = dict(interconnect_mw=100.0, reserve_mw=2.0, it_mw=70.0, pue_ai=1.2, mining_capacity_mw=25.0,
                breakeven_usd_per_mwh=100.0, power_price_usd_per_mwh=45.0)
    base.update(kw)
    return HybridParams(**base)


def test_deterministic_for_a_seed():
    a, b, c = simulate_hybrid(_params(), seed=3), simulate_hybrid(_params(), seed=3), simulate_hybrid(_params(), seed=4)
    assert np.array_equal(a.total_mw, b.total_mw) and np.array_equal(a.price, b.price)
    assert not np.array_equal(a.total_mw, c.total_mw)


@pytest.mark.parametrize("cap", [0.0, 25.0, 100.0])
def test_total_never_exceeds_interconnect_minus_reserve(cap):
    r = simulate_hybrid(_params(mining_capacity_mw=cap, it_mw=98.0 / 1.2), seed=1)
    assert r.total_mw.shape == (HOURS_PER_YEAR,)
    assert np.all(r.total_mw <= 100.0 - 2.0 + 1e-9)
    assert np.all(r.mining_mw >= 0) and np.all(r.mining_mw <= cap + 1e-12)
    assert 0.0 <= r.mining_capacity_factor <= 1.0
    assert 0.0 < r.site_load_factor <= 1.0


def test_mining_follows_price_and_events():
    r = simulate_hybrid(_params(dr_committed_mw=10.0, dr_event_hours=30, fourcp=True), seed=2)
    assert np.all(r.mining_mw[r.price >= 100.0] == 0)
    assert r.dr_event.sum() == 30 and np.all(r.mining_mw[r.dr_event] == 0)
    assert r.fourcp_peak_hours.size == 4 and np.all(r.mining_mw[r.fourcp_peak_hours] == 0)
    assert r.fourcp_alert.sum() == 4 * 6
    cal = hour_calendar()
    assert set(cal.month[r.fourcp_peak_hours]) == {5, 6, 7, 8}  # June-September


def test_combined_load_steadier_than_ai_alone():
    r = simulate_hybrid(_params(), seed=0)
    s = r.steadiness
    assert s["cv_total"] < s["cv_ai"]
    assert s["cv_reduction_pct"] > 0
    ldc = r.load_duration_curve()
    assert ldc.shape == (HOURS_PER_YEAR,) and np.all(np.diff(ldc) <= 0)
    assert ldc.sum() == pytest.approx(r.total_mw.sum())
    with pytest.raises(HybridError):
        r.load_duration_curve("gpu")


def test_ai_draw_matches_the_power_formula_bounds():
    p = _params(inference_share=0.0, checkpoint_min_per_hour=0.0, interruptions_per_day=0.0, training_util=1.0)
    r = simulate_hybrid(p, seed=0)
    assert np.allclose(r.ai_mw, 1.2 * 70.0)  # training at full load: P(1) = 1
    idle = simulate_hybrid(_params(inference_share=0.0, training_util=0.0), seed=0)
    assert np.allclose(idle.ai_mw, 1.2 * 70.0 * 0.35)  # P(0) = idle fraction


def test_revenue_streams():
    r = simulate_hybrid(_params(dr_committed_mw=10.0, dr_pay_usd_per_mw_h=8.0), seed=0)
    rev = r.revenue_by_stream_usd
    assert rev["lease_revenue"] == pytest.approx(121 * 1000 * 12 * 70.0)
    assert rev["mining_revenue"] == pytest.approx(100.0 * r.mining_mw.sum())
    assert rev["dr_pay"] == 10 * 8 * 8760
    assert rev["mining_net"] > 0


def test_synthetic_prices_shape():
    p = synthetic_prices(45.0, seed=0)
    cal = hour_calendar()
    assert p.shape == (HOURS_PER_YEAR,) and p.mean() == pytest.approx(45.0)
    assert 0.02 < (p < 0).mean() < 0.15                       # wind-driven negative hours
    summer = np.isin(cal.month, (5, 6, 7, 8))
    assert p[summer].max() > 10 * 45.0 and p[~summer].max() < 10 * 45.0  # scarcity spikes in summer only
    assert np.array_equal(p, synthetic_prices(45.0, seed=0))
    assert synthetic_prices(-5.0).mean() == pytest.approx(-5.0)


def test_invalid_params_raise_planner_errors():
    with pytest.raises(HybridError, match="exceeds interconnect minus reserve"):
        _params(it_mw=90.0)
    with pytest.raises(HybridError, match="reserve_mw"):
        _params(reserve_mw=150.0)
    with pytest.raises(HybridError, match="8760 finite"):
        simulate_hybrid(_params(), prices=np.ones(10))


def test_params_from_site_and_assumptions():
    a = default_assumptions()
    site = Site.create(site_id="H1", name="H", power_capacity_mw=200.0, admin1="TX", country="US")
    p = HybridParams.from_site(site, a)
    assert p.interconnect_mw == 200.0 and p.it_mw == pytest.approx(140.0)
    assert p.mining_capacity_mw == pytest.approx(50.0) and p.fourcp and p.power_price_usd_per_mwh == 45.0
    assert p.breakeven_usd_per_mwh > 0
    with pytest.raises(HybridError, match="unknown"):
        HybridParams.from_site(Site.create(site_id="H2", name="H"), a)
