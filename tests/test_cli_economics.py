"""``planner economics`` and ``planner compare`` on the sample project (headless, JSON and text)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from planner.cli import main

SAMPLE = str(Path(__file__).resolve().parents[1] / "maps" / "sample_portfolio.gpkg")
PATH_KEYS = {"npv_usd", "irr", "npv_excl_terminal_usd", "equity_irr", "cash_flows_usd"}
SITES = ("RIOT-RKD", "CORZ-DEN", "CIFR-BL", "WULF-LM", "IREN-CF")


@pytest.fixture(scope="module")
def econ_project(tmp_path_factory):
    """Five sample sites without the map layers: the economics commands never read layers, and the
    sample's 22,000 grid lines would be loaded on every command."""
    from planner.gis.project import Project, open_project, save_project
    from planner.model.portfolio import Portfolio

    sample = open_project(SAMPLE)
    p = sample.portfolio
    out = tmp_path_factory.mktemp("econ") / "econ.gpkg"
    save_project(Project(path=out, portfolio=Portfolio([p.get(s) for s in SITES], dict(p.settings), p.name)), out)
    return str(out)


def _json(capsys, *argv):
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_compare_json_has_every_path_with_the_required_fields(capsys, econ_project):
    d = _json(capsys, "compare", econ_project, "--site", "RIOT-RKD", "--json")
    assert d["site_id"] == "RIOT-RKD" and d["best_path"] in d["paths"]
    assert set(d["paths"]) == {"mining", "ai_lease", "hybrid", "sell"}
    for name, p in d["paths"].items():
        assert PATH_KEYS <= set(p), name
        assert len(p["cash_flows_usd"]) == d["horizon_years"] + 1
    best = max(d["paths"], key=lambda k: d["paths"][k]["npv_usd"])
    assert d["best_path"] == best
    ai = d["paths"]["ai_lease"]
    assert ai["npv_usd"] > ai["npv_excl_terminal_usd"]                       # the exit value is visible
    assert any(x["label"] == "Lease term" and x["unit"] == "yr" and x["source"] for x in d["drivers"])


def test_compare_overrides_move_the_answer_the_expected_way(capsys, econ_project):
    base = _json(capsys, "compare", econ_project, "--site", "RIOT-RKD", "--json")["paths"]
    no_tv = _json(capsys, "compare", econ_project, "--site", "RIOT-RKD", "--json", "--exit-multiple", "0")["paths"]
    assert no_tv["ai_lease"]["npv_usd"] == pytest.approx(no_tv["ai_lease"]["npv_excl_terminal_usd"])
    assert no_tv["ai_lease"]["npv_usd"] < base["ai_lease"]["npv_usd"]
    short = _json(capsys, "compare", econ_project, "--site", "RIOT-RKD", "--json", "--lease-term-years", "5")["paths"]
    assert short["ai_lease"]["npv_usd"] < base["ai_lease"]["npv_usd"]
    dear = _json(capsys, "compare", econ_project, "--site", "RIOT-RKD", "--json", "--power-usd-mwh", "90")["paths"]
    assert dear["mining"]["npv_usd"] < base["mining"]["npv_usd"]
    bear = _json(capsys, "compare", econ_project, "--site", "RIOT-RKD", "--json", "--scenario", "bear")
    assert bear["scenario"] == "bear" and bear["paths"]["ai_lease"]["npv_usd"] < base["ai_lease"]["npv_usd"]


def test_compare_text_prints_drivers_with_units_and_sources(capsys, econ_project):
    assert main(["compare", econ_project, "--site", "CORZ-DEN"]) == 0
    out = capsys.readouterr().out
    assert "best path by NPV" in out and "ex-TV $M" in out and "bridge:" in out
    assert "Lease term: 12 yr  [Public miner-AI leases run 10-15 years" in out
    assert "Installed fleet: 125 MW at 18.5 J/TH" in out
    assert "Marginal fleet cash cost today / in 5 years: $" in out and "per PH/s-day" in out


def test_economics_portfolio_json_and_text(capsys, econ_project):
    d = _json(capsys, "economics", econ_project, "--json")
    sites = {s["site_id"]: s for s in d["sites"]}
    assert len(sites) == len(SITES) and sites["IREN-CF"]["unavailable_reason"]
    assert sites["CIFR-BL"]["energized_range"]["sell"][0] == 0        # energized unknown: a range
    assert sites["WULF-LM"]["unavailable_reason"]                      # MW unknown: no numbers, not zeros
    assert main(["economics", econ_project, "--tenant-class", "hyperscaler"]) == 0
    out = capsys.readouterr().out
    assert "hyperscaler spread" in out and "RIOT-RKD" in out and "TV share" in out


def test_economics_without_project_prints_the_outlook(capsys):
    d = _json(capsys, "economics", "--json")
    assert d["outlook"]["model"] == "cost_floor" and len(d["outlook"]["hashprice_usd_per_ph_day"]) == 15
    assert {m["model"] for m in d["models"]} >= {"Antminer S21 XP", "Antminer S19j Pro"}


def test_forward_curve_flag(tmp_path, capsys):
    csv = tmp_path / "fwd.csv"
    csv.write_text("date,usd_per_ph_day\n2025-12-01,38\n2027-12-01,30\n2030-12-01,22\n")
    d = _json(capsys, "economics", "--json", "--forward-curve", str(csv))
    assert d["outlook"]["model"] == "forward_curve"
    assert d["outlook"]["hashprice_usd_per_ph_day"][-1] == pytest.approx(22.0)


@pytest.mark.parametrize("argv, message", [
    (["compare", SAMPLE, "--site", "NOPE"], "no site with site_id 'NOPE'"),
    (["compare", SAMPLE, "--site", "RIOT-RKD", "--set", "nope=1"], "unknown assumption"),
    (["compare", SAMPLE, "--site", "RIOT-RKD", "--set", "lease_term_years"], "write KEY=VALUE"),
    (["compare", SAMPLE, "--site", "RIOT-RKD", "--tenant-class", "junk"], "tenant_class = 'junk'"),
    (["economics", SAMPLE, "--lease-term-years", "99"], "lease_term_years = 99 is outside the range"),
    (["economics", "missing.gpkg"], "no such project file"),
])
def test_bad_input_is_one_clear_line(argv, message, capsys):
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_headless_commands_that_print_results_have_json(capsys):
    d = _json(capsys, "screen", SAMPLE, "--region", "TX", "--cell-km", "40", "--top", "3", "--json")
    assert [c["rank"] for c in d["candidates"]] == [1, 2, 3] and d["region"] == "Texas"
    assert all(isinstance(c["lat"], float) and c["reason"] for c in d["candidates"])
    from planner.cli import build_parser
    from planner.cmd import SUBCOMMANDS
    _, mods = build_parser()
    import argparse
    info = _json(capsys, "info", SAMPLE, "--json")
    assert info["kind"] == "project" and info["sites"] == 40 and {"transmission"} <= {x["name"] for x in info["layers"]}
    for name in ("info", "score", "proximity", "screen", "economics", "compare"):
        sub = argparse.ArgumentParser().add_subparsers()
        parser = mods[name].add_parser(sub)
        assert any("--json" in a.option_strings for a in parser._actions), name
    assert set(SUBCOMMANDS) >= {"economics", "compare"}
