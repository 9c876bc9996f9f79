"""Property tests: any valid site (any subset of fields, within FieldSpec ranges) scores cleanly."""
from __future__ import annotations

import datetime as dt
import json
import math

from hypothesis import HealthCheck, given, settings, strategies as st

from planner.model.costs import DEFAULT_UNIT_COSTS
from planner.model.fields import FIELD_LIST, FieldSpec
from planner.model.readiness import CRITERIA, READINESS_CLASSES, score_site
from planner.model.site import Site

_SKIP = {"site_id", "name", "status", "lon", "lat"}
_SCORED = {f for c in CRITERIA for f in c.fields} | {"dist_line_69kv_km", "dist_fibre_km", "dist_pop_km"}


def _value(fs: FieldSpec) -> st.SearchStrategy:
    if fs.kind == "float":
        return st.floats(fs.minimum, fs.maximum, allow_nan=False, allow_infinity=False)
    if fs.kind == "int":
        return st.integers(int(fs.minimum), int(fs.maximum))
    if fs.kind == "bool":
        return st.booleans()
    if fs.kind == "enum":
        return st.sampled_from(fs.choices)
    if fs.kind == "date":
        return st.dates(dt.date(1990, 1, 1), dt.date(2100, 12, 31)).map(dt.date.isoformat)
    return st.text(max_size=20)


# Fields the rules read, plus a few others, each present or not.
_FIELDS = [f for f in FIELD_LIST if f.name not in _SKIP and (f.name in _SCORED or f.kind != "str")]


@st.composite
def sites(draw: st.DrawFn) -> Site:
    values = {}
    for fs in _FIELDS:
        if draw(st.booleans()):
            values[fs.name] = draw(_value(fs))
    editable = {k: v for k, v in values.items() if k not in _COMPUTED}
    computed = {k: v for k, v in values.items() if k in _COMPUTED}
    # cross-field inconsistencies (energized > gross) are allowed here: scoring must not crash on them
    return Site.create(strict=False, site_id="FZ", name="fuzz", **editable).with_computed(computed)


_COMPUTED = {f.name for f in FIELD_LIST if f.computed}

_weights = st.dictionaries(st.sampled_from([c.key for c in CRITERIA]),
                           st.floats(0, 1e6, allow_nan=False, allow_infinity=False), max_size=13)
_costs = st.dictionaries(st.sampled_from(sorted(k for k in DEFAULT_UNIT_COSTS if k != "power_factor")),
                         st.floats(0, 1e9, allow_nan=False, allow_infinity=False), max_size=5)


def _finite_or_none(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isfinite(x))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(site=sites(), weights=_weights, costs=_costs, as_of=st.dates(dt.date(2000, 1, 1), dt.date(2060, 1, 1)))
def test_random_sites_never_raise_and_stay_in_range(site, weights, costs, as_of):
    settings_ = {"unit_costs": costs}
    if sum(weights.values()) > 0 or not weights:
        settings_ |= {"weights_profile": "fz", "weights_profiles": {"fz": weights}}
    r = score_site(site, settings_, as_of=as_of)
    assert r.klass in READINESS_CLASSES
    assert 0.0 <= r.total_low <= r.total <= r.total_high <= 100.0
    assert 0.0 <= r.completeness_pct <= 100.0
    assert math.isfinite(r.total) and _finite_or_none(r.capex_total_usd)
    assert _finite_or_none(r.time_to_power_months)
    assert r.time_to_power_months is None or r.time_to_power_months >= 0
    for c in r.criteria:
        assert c.missing == (c.known_pct == 0.0)
        assert 0.0 <= c.low <= c.score <= c.high <= 100.0
        assert c.reason and "\n" not in c.reason
    for u in r.upgrades:
        assert _finite_or_none(u.capex_usd) and (u.capex_usd is None or u.capex_usd >= 0)
        assert u.months is None or (math.isfinite(u.months) and u.months >= 0)
    if all(c.known_pct == 100.0 for c in r.criteria):
        assert r.total_low == r.total == r.total_high
    json.dumps(r.to_dict(), allow_nan=False)
