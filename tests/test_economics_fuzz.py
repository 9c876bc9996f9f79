"""Property test: any assumptions within their ranges and any site give finite numbers or a PlannerError."""
from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.model.assumptions import ASIC_CATALOGUE, ASSUMPTIONS, Assumptions
from planner.model.economics import site_paths
from planner.model.scenarios import network_diversion
from planner.model.site import PlannerError, Site

_SKIP = {"market_data_date", "reference_block_time", "reference_block_height"}


def _value(spec):
    if spec.kind == "int":
        return st.integers(int(spec.minimum), int(spec.maximum))
    if spec.kind == "float":
        return st.floats(spec.minimum, spec.maximum, allow_nan=False, allow_infinity=False)
    if spec.key == "asic_model":
        return st.sampled_from(sorted(ASIC_CATALOGUE))
    if spec.choices:
        return st.sampled_from(spec.choices)
    return st.just(spec.default)


assumption_values = st.fixed_dictionaries({k: _value(s) for k, s in ASSUMPTIONS.items() if k not in _SKIP})
mw = st.one_of(st.none(), st.just(0.0), st.floats(0.01, 5000.0))


@st.composite
def sites(draw):
    cap = draw(mw)
    en = draw(mw)
    if cap is not None and en is not None and en > cap:
        en = cap
    return Site.create(site_id="F1", name="Fuzz", power_capacity_mw=cap, energized_mw=en,
                       power_price_usd_per_mwh=draw(st.one_of(st.none(), st.floats(-500.0, 2000.0))),
                       admin1=draw(st.sampled_from(["TX", "ND", None])),
                       status=draw(st.sampled_from(["operating", "pipeline"])),
                       asic_model=draw(st.one_of(st.none(), st.sampled_from(sorted(ASIC_CATALOGUE)), st.just("X1"))))


def _finite(v):
    return v is None or (isinstance(v, (int, float)) and math.isfinite(v))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=assumption_values, site=sites())
def test_site_paths_never_crash_or_return_nan(values, site):
    a = Assumptions(values)
    try:
        comp = site_paths(site, a)
    except PlannerError:
        return
    if comp.unavailable_reason:
        assert comp.mining is None
        return
    for p in (comp.mining, comp.ai_lease, comp.hybrid):
        assert np.all(np.isfinite(p.cash_flows_usd)) and np.all(np.isfinite(p.mwh_per_year))
        for v in (p.npv_usd, p.irr, p.payback_years, p.usd_per_mwh, p.npv_usd_per_mw, p.annual_net_usd_per_mw,
                  *p.streams_usd.values()):
            assert _finite(v), (p.name, v)
    assert np.all(np.isfinite(comp.bridge_npv_usd))
    assert comp.valuation is None or _finite(comp.valuation.uplift_usd)
    assert comp.valuation is None or (comp.energized_mw or 0) > 0


@settings(max_examples=40, deadline=None)
@given(values=assumption_values, gw=st.floats(0.0, 1e4, allow_nan=False))
def test_network_diversion_never_crashes(values, gw):
    try:
        r = network_diversion(gw, Assumptions(values))
    except PlannerError:
        return
    assert all(_finite(v) for v in (r.hashprice_after_usd_per_ph_day, r.difficulty_after, r.hashprice_uplift_pct,
                                    r.difficulty_growth_after_per_year))
