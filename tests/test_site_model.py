import math
import subprocess
import sys

import pytest

from planner.model import FIELDS, Portfolio, Site, SiteError, coerce_value
from planner.model.fields import COMPUTED_FIELDS, EDITABLE_FIELDS


def make(**kw):
    base = dict(site_id="S1", name="Test site", status="operating")
    base.update(kw)
    return Site.create(**base)


def test_unknown_is_none_not_zero():
    s = make()
    assert s.energized_mw is None
    assert s.land_acres is None
    s2 = s.replace(energized_mw=0)
    assert s2.energized_mw == 0 and s.energized_mw is None


def test_negative_mw_refused_with_field_rule_and_fix():
    with pytest.raises(SiteError) as ei:
        make(energized_mw=-5)
    msg = str(ei.value)
    assert "S1" in msg and "energized_mw" in msg and "minimum" in msg and "Enter a value" in msg


def test_cross_field_energized_le_capacity():
    s = make(power_capacity_mw=100)
    with pytest.raises(SiteError, match="exceeds power_capacity_mw"):
        s.replace(energized_mw=150)
    assert s.replace(energized_mw=80).energized_mw == 80


def test_a_cross_field_refusal_names_the_field_the_user_changed():
    """Raising Energized past capacity minus pipeline is refused as Energized, not as Pipeline (QA minor 7)."""
    from planner.ui.text import user_message

    s = make(power_capacity_mw=500, energized_mw=100, pipeline_mw=300)
    with pytest.raises(SiteError) as ei:
        s.replace(energized_mw=460)
    assert ei.value.field == "energized_mw" and "pipeline" in str(ei.value)
    assert user_message(ei.value).startswith("Energized (MW) of S1")
    with pytest.raises(SiteError) as ei:
        s.replace(pipeline_mw=450)
    assert ei.value.field == "pipeline_mw"


@pytest.mark.parametrize("raw,expected", [("300 MW", 300.0), ("12,5", 12.5), (" 7 ", 7.0), ("", None),
                                          ("n/a", None), (float("nan"), None)])
def test_coerce_numbers(raw, expected):
    assert coerce_value("energized_mw", raw) == expected


@pytest.mark.parametrize("raw", ["300 acres", "abc", "inf", float("inf")])
def test_coerce_rejects(raw):
    with pytest.raises(SiteError):
        coerce_value("energized_mw", raw)


def test_enum_and_bool_and_date():
    assert coerce_value("redundancy_power", "n+1") == "N+1"
    assert coerce_value("status", "Announced conversion") == "announced_conversion"
    assert coerce_value("substation_owned", "yes") is True
    assert coerce_value("expected_energization_date", "2027-03-01") == "2027-03-01"
    with pytest.raises(SiteError, match="Choose one of"):
        coerce_value("status", "demolished")


def test_html_name_kept_literally():
    s = make(name="<img src=x onerror=alert(1)>")
    assert s.name == "<img src=x onerror=alert(1)>"


def test_every_field_has_units_in_name_when_numeric():
    for f in FIELDS.values():
        if f.kind in ("float", "int") and f.name not in ("lon", "lat"):
            assert f.unit, f.name
    assert set(COMPUTED_FIELDS).isdisjoint(EDITABLE_FIELDS)


def test_computed_cannot_be_set_via_with_computed_on_user_field():
    s = make()
    with pytest.raises(KeyError):
        s.with_computed({"energized_mw": 3})
    assert s.with_computed({"dist_line_345kv_km": 1.5}).dist_line_345kv_km == 1.5


def test_portfolio_signals_and_ids():
    p = Portfolio([make()])
    seen = []
    p.sites_changed.connect(lambda ids: seen.append(ids))
    p.replace_sites([p.get("S1").replace(energized_mw=10)])
    assert seen == [["S1"]]
    assert p.unique_id("S1") == "S1-2"


CODE = ("import sys; sys.modules['PySide6'] = None; sys.modules['pyqtgraph'] = None\n"
        "import planner.model, planner.model.site, planner.model.portfolio, planner.gis")


def test_core_runs_without_qt():
    subprocess.run([sys.executable, "-c", CODE], check=True)


def test_site_and_assumptions_copy_and_pickle_as_equal_records():
    """deepcopy and pickle used to recurse forever (__getattr__ looked up the unset ``_values``)."""
    import copy
    import pickle

    from planner.model.assumptions import default_assumptions

    a = default_assumptions().replace(discount_rate=0.12)
    site = Site.create(site_id="C1", name="<b>Copy</b>", power_capacity_mw=50.0, energized_mw=20.0)
    for rec in (a, site):
        for clone in (copy.deepcopy(rec), pickle.loads(pickle.dumps(rec)), copy.copy(rec)):
            assert clone == rec and type(clone) is type(rec)
    assert copy.deepcopy(a).discount_rate == 0.12 and copy.deepcopy(a).scenario == a.scenario
    with pytest.raises(AttributeError):
        copy.deepcopy(site).name = "x"
