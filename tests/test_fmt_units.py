"""One formatter by unit (planner.fmt.quantity_parts): CLI, report tables and the assumptions editor agree."""
from __future__ import annotations

import re

import pytest

from planner.fmt import fmt_quantity, quantity_parts
from planner.model.assumptions import ASSUMPTIONS, assumptions_from_settings

# What a reader must never see as a value: model units, raw exponents, long digit runs, choice keys.
RAW = re.compile(r"\b1/yr\b(?! per ln)|\bfraction\b|e\+\d|\d{1,3}(,\d{3}){3,}|\b[a-z]+_[a-z_]+\b")


@pytest.mark.parametrize("value, unit, text", [
    (0.025, "1/yr", "2.5 %/yr"), (0.0, "1/yr", "0 %/yr"), (0.1, "1/yr", "10 %/yr"), (-0.05, "1/yr", "-5 %/yr"),
    (0.6, "fraction", "60 %"), (0.25, "fraction of gross MW", "25 % of gross MW"),
    (152e12, "", "152.0 T"), (1.5e6, "$/MW IT", "$1.50M/MW IT"), (1.54e6, "$/MW energized", "$1.54M/MW energized"),
    (60_000.0, "$/MW-yr", "$60,000/MW-yr"), (45.0, "$/MWh", "$45/MWh"), (10.0, "x final-year NOI", "10x final-year NOI"),
    (12, "yr", "12 yr"), (840_000, "block", "840,000 block"), (None, "1/yr", "unknown"), (float("nan"), "MW", "unknown"),
])
def test_quantity_by_unit(value, unit, text):
    assert fmt_quantity(value, unit) == text


def test_choices_read_by_their_label():
    spec = ASSUMPTIONS["mining_pipeline"]
    assert spec.display("energized_only") == "mine the energized MW only"
    assert ASSUMPTIONS["power_price_basis"].display("net_of_curtailment") == "all-in, net of curtailment credits"
    for key, s in ASSUMPTIONS.items():
        for c in s.choices:
            assert "_" not in s.display(c), (key, c)


def test_every_assumption_reads_without_model_units_in_cli_and_report():
    from planner.model.drivers import assumption_drivers
    from planner.reports.content import assumption_rows

    a = assumptions_from_settings({})
    for d in assumption_drivers(a):
        assert not RAW.search(d.text), (d.label, d.text)
        assert d.text.startswith(d.value) or d.text.startswith("$" + d.value), d
    rows = {r.key: r for r in assumption_rows(a)}
    for key, spec in ASSUMPTIONS.items():
        r = rows[key]
        assert not RAW.search(f"{r.value} {r.unit}") or spec.kind in ("str", "datetime") and not spec.choices, \
            (key, r.value, r.unit)
        if spec.kind in ("float", "int"):
            assert (r.value, r.unit) == quantity_parts(a[key], spec.unit)
    assert (rows["lease_escalator_per_year"].value, rows["lease_escalator_per_year"].unit) == ("2.5", "%/yr")
    assert (rows["difficulty"].value, rows["difficulty"].unit) == ("152.0", "T")


def test_cli_compare_prints_drivers_in_reader_units(capsys):
    from planner.cmd.compare import format_comparison
    from planner.model.economics import site_paths
    from planner.model.site import Site

    a = assumptions_from_settings({})
    site = Site({"site_id": "T1", "name": "t", "power_capacity_mw": 100.0, "energized_mw": 100.0})
    text = format_comparison(site_paths(site, a), a)
    drivers = text[text.index("drivers -"):]
    values = [ln.split(": ", 1)[1].split("  [")[0] for ln in drivers.splitlines() if ln.startswith("    ")]
    assert values and not [v for v in values if RAW.search(v)]
    for expected in ("Lease escalator: 2.5 %/yr", "Renewal probability at term end: 60 %",
                     "Network difficulty: 152.0 T", "Re-fit capex if not renewed: $1.50M/MW IT",
                     "Mining: pipeline MW: mine the energized MW only"):
        assert expected in drivers, expected


def test_driver_sources_name_choices_by_label_not_key():
    from planner.model.drivers import assumption_drivers

    a = assumptions_from_settings({})
    text = " ".join(d.source for d in assumption_drivers(a))
    assert "settings[" not in text
    for spec in ASSUMPTIONS.values():
        for c in spec.choices:
            if "_" in c:
                assert f"{c}:" not in text, c
