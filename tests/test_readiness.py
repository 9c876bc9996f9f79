"""Readiness score engine: rules, gates, weights, upgrades and the ``planner score`` command."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from planner.model import FIELDS, PlannerError, Portfolio, Site
from planner.model.costs import DEFAULT_UNIT_COSTS, UNIT_COSTS
from planner.model.readiness import (
    CRITERIA, DEFAULT_THRESHOLDS, DEFAULT_WEIGHTS, GATES, READINESS_CLASSES, ReadinessError, WeightsProfile,
    rank_results, score_portfolio, score_site, weights_from_settings, weights_profiles,
)

AS_OF = dt.date(2025, 1, 1)

STRONG = dict(
    site_id="STRONG", name="Strong campus", power_capacity_mw=300, energized_mw=300,
    interconnection_status="energized", substation_owned=True, substation_voltage_kv=345, transformer_count=4,
    transformers_n_plus_1=True, land_acres=250, land_expandable=True, water_source="rights_secured",
    water_stress="low", water_volume_m3_per_year=5e6, dark_fibre_on_site=True, latency_to_metro_ms=6,
    power_permit="granted", zoning="industrial_approved", moratorium_risk="low", cooling_current="direct_to_chip",
    dlc_path="dlc_ready", redundancy_power="2N", redundancy_cooling="N+1", redundancy_network="2N",
    max_rack_kw=140, hall_type="rack_mount_halls", labour_rating=5, equipment_status="owned",
)
STRONG_GRID = dict(dist_line_69kv_km=0.5, dist_line_138kv_km=0.5, dist_line_230kv_km=1.0, dist_line_345kv_km=1.0,
                   dist_substation_km=0.3, dist_fibre_km=0.2, dist_pop_km=5.0)


def strong(**changes):
    site = Site.create(**STRONG).with_computed(STRONG_GRID)
    return site.replace(**changes) if changes else site


WEAK = dict(site_id="WEAK", name="Air-cooled mine", power_capacity_mw=100, energized_mw=60,
            interconnection_status="energized", cooling_current="air", dlc_path="retrofit_possible",
            transformer_count=1, transformers_n_plus_1=False, substation_owned=False, dark_fibre_on_site=False,
            power_permit="pending", zoning="industrial_approved", water_source="none", max_rack_kw=10,
            hall_type="containers", labour_rating=3)


def weak():
    return Site.create(**WEAK).with_computed({"dist_line_138kv_km": 12.5, "dist_fibre_km": 20.0})


# -- registry ---------------------------------------------------------------------------
def test_criteria_cover_domain_and_use_real_fields():
    assert len(CRITERIA) == 13
    assert len({c.key for c in CRITERIA}) == 13
    for c in CRITERIA:
        assert c.fields and all(f in FIELDS for f in c.fields), c.key
        assert c.default_weight > 0 and c.rule
    assert sum(DEFAULT_WEIGHTS.values()) == pytest.approx(100.0)
    assert set(READINESS_CLASSES) == {"ready_now", "convertible_with_upgrades", "mining_only", "insufficient_data"}
    for u in UNIT_COSTS.values():
        assert u.note and u.unit and u.value >= 0


def test_none_enum_choice_is_a_value_not_unknown():
    s = Site.create(site_id="X", name="x", interconnection_status="none", water_source="none", dlc_path="None")
    assert (s.interconnection_status, s.water_source, s.dlc_path) == ("none", "none", "none")
    assert Site.create(site_id="X", name="x", power_capacity_mw="none").power_capacity_mw is None


# -- strong site and unknowns -----------------------------------------------------------
def test_strong_site_is_ready_now_with_high_score():
    r = score_site(strong(), as_of=AS_OF)
    assert r.klass == "ready_now" and r.class_label == "Ready now"
    assert r.total is not None and r.total >= 95
    assert r.completeness_pct == 100.0
    assert not r.gates_failed and r.upgrades == [] and r.capex_total_usd == 0.0
    assert r.time_to_power_months == 0.0
    assert all(c.score is not None and not c.missing for c in r.criteria)
    assert "300 MW gross capacity" in r.criterion("power_scale").reason


def test_unknowns_widen_the_band_and_lower_completeness_without_renormalising():
    full = score_site(strong(), as_of=AS_OF)
    s = strong(labour_rating=None, land_acres=None, land_expandable=None, latency_to_metro_ms=None)
    r = score_site(s, as_of=AS_OF)
    for key in ("skilled_labour", "land"):
        c = r.criterion(key)
        assert c.missing and (c.low, c.high) == (0.0, 100.0) and c.score == 50.0, key  # neutral prior
        assert "unknown" in c.reason
    # land (5) + labour (4) + the latency part of fibre (0.35 x 8) of 100 weight unknown
    assert r.completeness_pct == pytest.approx(100 - 5 - 4 - 0.35 * 8)
    fib = r.criterion("fibre_latency")
    assert not fib.missing and "latency_to_metro_ms" in fib.reason and fib.low < fib.score < fib.high
    # unknowns are neither dropped (renormalised) nor 0: each takes its prior, the band spans worst..best
    lat = 0.35 * 8
    assert r.total == pytest.approx(full.total - (5 * 100 + 4 * 100 + lat * 100) / 100 + (5 * 50 + 4 * 50 + lat * 50) / 100,
                                    abs=0.02)
    assert r.total_low == pytest.approx(full.total - (5 + 4 + lat), abs=0.02)
    assert r.total_high == pytest.approx(full.total, abs=0.02)
    assert r.klass == "ready_now"  # the low end still clears 70


def test_only_scale_known_is_insufficient_data_with_a_wide_band():
    s = Site.create(site_id="P", name="p", power_capacity_mw=400)
    r = score_site(s, as_of=AS_OF)
    assert r.klass == "insufficient_data"
    assert r.class_low == "mining_only" and r.class_high == "ready_now"
    assert r.completeness_pct == pytest.approx(0.3 * 15)  # the gross-MW part of power scale
    assert r.total_low < 40 <= 70 < r.total_high
    assert r.time_to_power_months is None


# -- gates ----------------------------------------------------------------------------------
def test_ten_mw_site_fails_gate_and_is_mining_only():
    s = strong(power_capacity_mw=10, energized_mw=10)
    r = score_site(s, as_of=AS_OF)
    assert r.klass == "mining_only"
    assert len(r.gates_failed) == 1 and "10 MW" in r.gates_failed[0] and "20 MW" in r.gates_failed[0]
    assert r.criterion("power_scale").gate_failed
    assert r.total is not None and r.total > 70  # a high total does not rescue a failed gate


def test_gate_uses_energized_when_capacity_unknown_and_skips_when_unknown():
    assert score_site(Site.create(site_id="E", name="e", energized_mw=12), as_of=AS_OF).gates_failed
    assert not score_site(Site.create(site_id="E", name="e", energized_mw=25), as_of=AS_OF).gates_failed
    assert not score_site(Site.create(site_id="U", name="u"), as_of=AS_OF).gates_failed


def test_gate_list_is_configurable():
    s = strong(power_capacity_mw=10, energized_mw=10)
    r = score_site(s, {"gates": ["path_to_power"]}, as_of=AS_OF)
    assert not r.gates_failed and r.klass != "mining_only"
    r = score_site(s, {"readiness_thresholds": {"gate_min_power_mw": 5}}, as_of=AS_OF)
    assert not r.gates_failed
    with pytest.raises(PlannerError, match="unknown gate 'nope'"):
        score_site(s, {"gates": ["nope"]})


def test_no_path_to_power_gate():
    base = dict(site_id="G", name="g", power_capacity_mw=300, interconnection_status="none")
    far = Site.create(**base).with_computed({"dist_line_69kv_km": 80.0})
    r = score_site(far, as_of=AS_OF)
    assert r.klass == "mining_only" and any("no path to power" in g and "80 km" in g for g in r.gates_failed)
    assert r.criterion("time_to_power").gate_failed
    near = Site.create(**base).with_computed({"dist_line_69kv_km": 30.0})
    assert not score_site(near, as_of=AS_OF).gates_failed
    unknown = Site.create(**base)
    assert not score_site(unknown, as_of=AS_OF).gates_failed


# -- grid proximity --------------------------------------------------------------------------
def test_moving_away_from_345kv_line_lowers_grid_score_and_reason_shows_km():
    near = score_site(strong(), as_of=AS_OF).criterion("grid_proximity")
    far_site = strong().with_computed({**STRONG_GRID, "dist_line_230kv_km": 40.0, "dist_line_345kv_km": 40.0,
                                       "dist_line_138kv_km": 40.0, "dist_line_69kv_km": 40.0})
    far = score_site(far_site, as_of=AS_OF).criterion("grid_proximity")
    assert near.score == pytest.approx(100.0)
    # line part: 25 - 25 * (40 - 30) / (60 - 30) = 16.667; substation 0.3 km -> 100; 0.7 / 0.3 mix
    assert far.score == pytest.approx(0.7 * (25 - 25 * 10 / 30) + 0.3 * 100, abs=0.01)
    assert "345 kV+ line 40 km" in far.reason and "345 kV+ line 1 km" in near.reason


# -- weights -----------------------------------------------------------------------------------
def test_weights_change_total_as_hand_computed():
    s = strong(labour_rating=3)
    r = score_site(s, as_of=AS_OF)
    assert r.criterion("skilled_labour").score == pytest.approx(50.0)  # rating 3 of 1-5
    assert r.total_low == r.total == r.total_high  # fully known
    others = sum(c.weight * c.score for c in r.criteria if c.key != "skilled_labour")
    assert r.total == pytest.approx((others + 4 * 50) / 100, abs=0.01)
    settings = {"weights_profile": "mine", "weights_profiles": {"mine": {"skilled_labour": 40}}}
    r2 = score_site(s, settings, as_of=AS_OF)
    assert r2.total == pytest.approx((others + 40 * 50) / 136, abs=0.01)
    assert r2.weights_profile == "mine"
    # a zero weight switches a criterion off entirely
    off = {"weights_profile": "x", "weights_profiles": {"x": {"skilled_labour": 0}}}
    assert score_site(s, off, as_of=AS_OF).total == pytest.approx(others / 96, abs=0.01)


def test_weights_profiles_validation():
    assert weights_from_settings(None) == ("default", DEFAULT_WEIGHTS)
    assert {"default", "training_campus", "inference_latency"} <= set(weights_profiles({}))
    name, w = weights_from_settings({"weights_profile": "p", "weights_profiles": {"p": {"land": 12}}})
    assert name == "p" and w["land"] == 12 and w["power_scale"] == DEFAULT_WEIGHTS["power_scale"]
    with pytest.raises(ReadinessError, match="unknown criterion 'lnd'.*Use one of"):
        weights_from_settings({"weights_profile": "p", "weights_profiles": {"p": {"lnd": 1}}})
    with pytest.raises(PlannerError, match="negative.*>= 0"):
        WeightsProfile.from_mapping("p", {"land": -1})
    with pytest.raises(PlannerError, match="no such weights profile.*Choose one of"):
        weights_from_settings({"weights_profile": "nope"})
    with pytest.raises(PlannerError, match="all weights are 0"):
        WeightsProfile.from_mapping("z", {k: 0 for k in DEFAULT_WEIGHTS})
    with pytest.raises(PlannerError, match="not a finite"):
        WeightsProfile.from_mapping("p", {"land": float("nan")})
    with pytest.raises(PlannerError, match="readiness_thresholds: unknown key"):
        score_site(strong(), {"readiness_thresholds": {"ready_now": 80}})


# -- upgrades and capex ------------------------------------------------------------------------
def test_upgrades_and_capex_follow_unit_costs():
    r = score_site(weak(), as_of=AS_OF)
    ups = {u.key: u for u in r.upgrades}
    assert set(ups) == {"dlc_retrofit", "hall_buildout", "n1_transformer", "substation_build", "hv_line",
                        "fibre_build", "water_rights", "permitting"}
    it_mw = 100 * 0.70
    c = DEFAULT_UNIT_COSTS
    assert ups["dlc_retrofit"].capex_usd == pytest.approx(it_mw * c["dlc_retrofit_usd_per_mw_it"])
    assert ups["hall_buildout"].capex_usd == pytest.approx(it_mw * c["hall_buildout_usd_per_mw_it"])
    assert ups["n1_transformer"].capex_usd == pytest.approx(
        c["transformer_fixed_usd"] + 100 / 1 / c["power_factor"] * c["transformer_usd_per_mva"])
    assert ups["substation_build"].capex_usd == pytest.approx(100 * c["substation_usd_per_mw"])
    assert ups["hv_line"].capex_usd == pytest.approx(12.5 * c["hv_line_usd_per_km"])
    assert "12.5 km" in ups["hv_line"].detail
    assert ups["fibre_build"].capex_usd == pytest.approx(20.0 * c["fibre_build_usd_per_km"])
    assert r.capex_total_usd == pytest.approx(sum(u.capex_usd for u in r.upgrades), abs=0.01)
    # energized now: time to power is the longest upgrade on the power path (HV line 36 months)
    assert r.time_to_power_months == c["hv_line_months"]
    assert r.klass != "ready_now"  # critical upgrades (HV line, substation, N+1) block "ready now"

    r2 = score_site(weak(), {"unit_costs": {"dlc_retrofit_usd_per_mw_it": 3_000_000}}, as_of=AS_OF)
    assert r2.capex_total_usd - r.capex_total_usd == pytest.approx(it_mw * 1_000_000, abs=0.01)
    r3 = score_site(weak(), {"assumptions": {"critical_it_ratio": 0.8}}, as_of=AS_OF)
    dlc3 = next(u for u in r3.upgrades if u.key == "dlc_retrofit")
    assert dlc3.capex_usd == pytest.approx(80 * c["dlc_retrofit_usd_per_mw_it"])
    with pytest.raises(PlannerError, match="unknown key 'dlc'"):
        score_site(weak(), {"unit_costs": {"dlc": 1}})
    with pytest.raises(PlannerError, match="must not be negative"):
        score_site(weak(), {"unit_costs": {"hv_line_usd_per_km": -5}})


def test_substation_expansion_for_pipeline_is_not_on_the_power_path():
    s = strong(energized_mw=150)
    r = score_site(s, as_of=AS_OF)
    (u,) = r.upgrades
    assert u.key == "substation_expansion" and not u.critical
    assert u.capex_usd == pytest.approx(150 * DEFAULT_UNIT_COSTS["substation_usd_per_mw"])
    assert r.time_to_power_months == 0.0 and r.klass == "ready_now"


def test_unknown_capex_makes_total_unknown_not_zero():
    s = Site.create(site_id="F", name="f", power_capacity_mw=100, dark_fibre_on_site=False)
    r = score_site(s, as_of=AS_OF)
    (u,) = r.upgrades
    assert u.key == "fibre_build" and u.capex_usd is None and "unknown" in u.detail
    assert r.capex_total_usd is None


def test_time_to_power_when_not_energized():
    base = dict(site_id="Q", name="q", power_capacity_mw=300, energized_mw=0, substation_owned=True,
                substation_voltage_kv=345)
    queued = Site.create(**base, interconnection_status="in_queue")
    r = score_site(queued, as_of=AS_OF)
    assert r.time_to_power_months == 36.0   # DOMAIN: 2-4 years for new interconnections
    tp = r.criterion("time_to_power")
    assert tp.score is not None and tp.score < 30 and "in queue" in tp.reason
    dated = Site.create(**base, interconnection_status="approved", expected_energization_date="2026-07-01")
    r = score_site(dated, as_of=AS_OF)
    # substation expansion (24 months) is longer than the 18 months to the expected date
    assert r.time_to_power_months == DEFAULT_UNIT_COSTS["substation_months"]
    assert "2026-07-01" in r.criterion("time_to_power").reason
    energized = score_site(strong(), as_of=AS_OF).criterion("time_to_power").score
    assert energized > score_site(dated, as_of=AS_OF).criterion("time_to_power").score


# -- portfolio, serialisation, ranking ----------------------------------------------------------
def test_score_portfolio_uses_settings_and_to_dict_is_json_safe():
    p = Portfolio([strong(), weak(), Site.create(site_id="TINY", name="tiny", power_capacity_mw=5)],
                  settings={"unit_costs": {"fibre_build_usd_per_km": 100_000}})
    res = score_portfolio(p, as_of=AS_OF)
    assert list(res) == ["STRONG", "WEAK", "TINY"]
    fib = next(u for u in res["WEAK"].upgrades if u.key == "fibre_build")
    assert fib.capex_usd == pytest.approx(20 * 100_000)
    text = json.dumps([r.to_dict() for r in res.values()], allow_nan=False)
    back = json.loads(text)
    assert back[0]["klass"] == "ready_now" and back[0]["criteria"][0]["key"] == "power_scale"
    ranked = [r.site_id for r in rank_results(res.values())]
    assert ranked[0] == "STRONG" and ranked[-1] == "TINY"


def test_thresholds_are_overridable():
    r = score_site(strong(), {"readiness_thresholds": {"ready_now_min_total": 99.9}}, as_of=AS_OF)
    assert r.klass == "convertible_with_upgrades"
    assert DEFAULT_THRESHOLDS["ready_now_min_total"] == 70.0
    assert set(GATES) == {"min_power", "path_to_power"}


# -- CLI -------------------------------------------------------------------------------------------
@pytest.fixture
def fake_project(monkeypatch):
    import planner.cmd.score as score_cmd
    p = Portfolio([weak(), strong()])
    monkeypatch.setattr(score_cmd, "load_portfolio", lambda path: p)
    return p


def test_cli_ranks_sites(fake_project, capsys):
    from planner.cli import main
    assert main(["score", "x.gpkg", "--as-of", "2025-01-01"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "total" in out[0] and "to power" in out[0]
    assert out[2].split()[1] == "STRONG" and "Ready now" in out[2]
    assert out[3].split()[1] == "WEAK" and "36 mo" in out[3]


def test_cli_site_detail_and_json(fake_project, capsys):
    from planner.cli import main
    assert main(["score", "x.gpkg", "--site", "WEAK"]) == 0
    out = capsys.readouterr().out
    assert "HV line / tap" in out and "[critical]" in out and "12.5 km" in out and "Grid proximity" in out
    assert main(["score", "x.gpkg", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["site_id"] for d in data] == ["STRONG", "WEAK"]
    assert main(["score", "x.gpkg", "--site", "NOPE"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("planner score: error:") and "NOPE" in err and "\n" not in err


def test_cli_missing_file_is_one_line_error(capsys, tmp_path):
    from planner.cli import main
    assert main(["score", str(tmp_path / "absent.gpkg")]) == 1
    assert "no such project file" in capsys.readouterr().err


def test_readiness_runs_without_qt():
    code = ("import sys; sys.modules['PySide6'] = None; sys.modules['pyqtgraph'] = None\n"
            "import planner.model.readiness, planner.cmd.score")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
