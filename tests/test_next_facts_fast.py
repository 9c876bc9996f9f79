"""next_facts scores each trial site from the parts a trial can change (readiness._TrialScorer):
its facts must be identical, to the last bit, to scoring every trial site in full with _score
(the implementation before), on every sample site and on random sites and settings."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from planner.model import readiness as R
from planner.model.readiness_rules import DEFAULT_THRESHOLDS
from planner.model.site import Site

from test_readiness_fuzz import _costs, _weights, sites

AS_OF = dt.date(2026, 11, 30)


def _full(p):
    def outcome(trial: Site, _changed: frozenset[str]) -> tuple[float, str]:
        r = R._score(trial, p)  # every criterion, gate and upgrade of the trial site
        return r.total, r.klass
    return outcome


def _both(site: Site, settings_: dict, as_of: dt.date = AS_OF) -> tuple[list[R.Fact], list[R.Fact]]:
    p = R._prepare(settings_, as_of)
    base = R._score(site, p)
    return R._next_facts(site, p, base), R._next_facts(site, p, base, outcome=_full(p))


@pytest.fixture(scope="module")
def sample():
    from planner.assets import sample_project
    from planner.gis.project import open_project
    return open_project(sample_project()).portfolio  # stored with its proximity fields


@pytest.mark.parametrize("profile", ["default", "training_campus", "inference_latency"])
def test_identical_on_every_sample_site(sample, profile):
    st_ = {**sample.settings, "weights_profile": profile}
    checked = 0
    for site in sample:
        fast, full = _both(site, st_)
        assert fast == full, site.site_id  # Fact equality: keys, sentences and float totals exact
        checked += len(fast)
    assert checked > 200  # most sample sites have many unknown facts


_thresholds = st.dictionaries(st.sampled_from(["ready_now_min_total", "convertible_min_total", "gate_min_power_mw",
                                               "gate_max_line_distance_km", "target_rack_kw"]),
                              st.floats(0, 200, allow_nan=False), max_size=3)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(site=sites(), weights=_weights, costs=_costs, thresholds=_thresholds,
       gates=st.none() | st.lists(st.sampled_from(sorted(R.GATES)), unique=True),
       as_of=st.dates(dt.date(2000, 1, 1), dt.date(2060, 1, 1)))
def test_identical_on_random_sites_and_settings(site, weights, costs, thresholds, gates, as_of):
    assert set(thresholds) <= set(DEFAULT_THRESHOLDS)
    settings_: dict = {"unit_costs": costs, "readiness_thresholds": thresholds}
    if gates is not None:
        settings_["gates"] = gates
    if sum(weights.values()) > 0 or not weights:
        settings_ |= {"weights_profile": "fz", "weights_profiles": {"fz": weights}}
    fast, full = _both(site, settings_, as_of)
    assert fast == full


def test_a_part_that_reads_everything_is_always_rescored():
    """The read log counts iteration as reading every field, so such a part is never reused."""
    site = Site.create(site_id="X", name="x", energized_mw=50.0)
    _v, reads = R._read_by(lambda s: s.to_dict(), site)
    assert reads is None
    _v, reads = R._read_by(lambda s: (s.energized_mw, s.get("land_acres")), site)
    assert reads == {"energized_mw", "land_acres"}
