"""``planner --help`` lists every headless command; ``planner score`` never reads unknown upgrades as free."""
from __future__ import annotations

import pytest

from planner.cli import main
from planner.cmd import SUBCOMMANDS


def test_help_lists_every_subcommand_with_a_description(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    for name in SUBCOMMANDS:
        row = next((ln for ln in lines if ln.split() and ln.split()[0] == name), None)
        assert row is not None, f"{name} missing from --help"
        assert len(row.split()) > 3, f"{name} has no description: {row!r}"
    assert "GUI" in out  # says what running without a command does


def test_score_prints_unknown_not_zero_for_unidentified_upgrades():
    from planner.cmd.score import format_ranking, format_site
    from planner.model.readiness import score_site
    from planner.model.site import Site

    r = score_site(Site({"site_id": "X1", "name": "sparse"}))  # almost nothing known
    assert r.completeness_pct < 100 and (r.capex_total_usd or 0) == 0
    text = format_ranking([r]) + "\n" + format_site(r)
    assert ">=$0.0M" not in text and ">=0 mo" not in text
    assert "unknown" in text.splitlines()[2]


def test_compare_on_a_site_without_mw_names_the_fields_and_fails(tmp_path, capsys):
    from pathlib import Path

    from planner.gis.project import Project, open_project, save_project
    from planner.model.portfolio import Portfolio

    sample = open_project(Path(__file__).resolve().parents[1] / "maps" / "sample_portfolio.gpkg").portfolio
    out = tmp_path / "nomw.gpkg"
    save_project(Project(path=out, portfolio=Portfolio([sample.get("CORZ-MUS"), sample.get("RIOT-RKD")],
                                                       dict(sample.settings), "t")), out)
    assert main(["compare", str(out), "--site", "CORZ-MUS"]) == 1
    err = capsys.readouterr().err
    assert "Power capacity (gross) and Energized MW" in err and "power_capacity_mw" not in err
    assert main(["compare", str(out), "--site", "riot-rkd"]) == 1  # suggests like `report`, not a list of IDs
    assert "did you mean RIOT-RKD?" in capsys.readouterr().err
