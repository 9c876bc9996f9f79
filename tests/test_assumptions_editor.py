"""Assumptions and weights editor: every assumption editable in range, all changes undoable and saved."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox

from planner.model.assumptions import ASSUMPTIONS, SCENARIOS, assumptions_from_settings
from planner.model.portfolio import Portfolio
from planner.model.readiness import CRITERIA, DEFAULT_WEIGHTS, score_site
from planner.model.site import Site
from planner.ui.assumptions_editor import AssumptionsEditor
from planner.ui.panels import PanelHost

pytestmark = pytest.mark.gui


class _Project:
    def __init__(self, portfolio):
        self.portfolio = portfolio
        self.layers = {}


@pytest.fixture
def host(qtbot):
    p = Portfolio([Site.create(site_id="A", name="Alpha", status="operating", power_capacity_mw=300,
                               energized_mw=200, interconnection_status="energized", land_acres=150)])
    return PanelHost(_Project(p))


@pytest.fixture
def editor(qtbot, host):
    e = AssumptionsEditor(host)
    qtbot.addWidget(e)
    return e


def test_rates_read_as_percent_and_difficulty_in_t(editor):
    # the stored value keeps its unit; the text is what an analyst reads and types
    growth = editor.editors["difficulty_growth_per_year"]
    assert growth.value() == pytest.approx(0.3) and growth.text() == "30.00 %/yr"
    assert editor.editors["uptime"].text() == "95.00 %"
    difficulty = editor.editors["difficulty"]
    assert difficulty.value() == pytest.approx(152e12) and difficulty.text() == "152.0 T"
    growth.lineEdit().setText("45 %/yr")
    growth.interpretText()
    assert growth.value() == pytest.approx(0.45)
    assert editor.settings["assumptions"]["difficulty_growth_per_year"] == pytest.approx(0.45)


def test_every_assumption_has_a_ranged_editor_with_unit_default_and_source(editor):
    assert set(editor.editors) == set(ASSUMPTIONS)
    for key, spec in ASSUMPTIONS.items():
        w = editor.editors[key]
        assert spec.display_source in w.toolTip()
        unit_label = editor.findChild(type(editor.name_labels[key]), f"unit_{key}").text()
        shown_unit = {"1/yr": "%/yr", "fraction": "%"}.get(spec.unit, "T" if key == "difficulty" else spec.unit)
        beside = unit_label + (w.suffix() if hasattr(w, "suffix") else "")  # the unit in the box or beside it
        assert shown_unit.split(" ")[-1] in beside and f"default {spec.display(spec.default)}" in unit_label
        if type(w).__name__ in ("QDoubleSpinBox", "QSpinBox") and spec.unit:  # scaled boxes show % or T
            assert w.suffix() == f" {spec.unit}"  # QA: the unit column was off the edge of a laptop's dock
        if spec.kind == "float":
            assert isinstance(w, QDoubleSpinBox)
            assert (w.minimum(), w.maximum()) == (spec.minimum, spec.maximum)
            assert abs(w.value() - spec.default) <= 10 ** -w.decimals()  # shown to the box's precision
        elif spec.kind == "int":
            assert isinstance(w, QSpinBox) and w.minimum() == spec.minimum
            assert w.value() == spec.default
        elif spec.kind == "str":
            assert isinstance(w, QComboBox) and w.currentData() == spec.default
            if spec.choices:  # shown by its label, as in the CLI and the reports
                assert w.currentText() == spec.display(spec.default)
        else:
            assert isinstance(w, QLineEdit)
    w = editor.editors["btc_price_usd"]
    assert "90,000" in w.text()  # thousands separators, as in the CLI and the reports
    w.setValue(5e9)  # the spin box enforces the range
    assert w.value() == ASSUMPTIONS["btc_price_usd"].maximum


def test_edit_is_undoable_saved_in_settings_and_merges_bursts(editor, host):
    stack, p = host.undo_stack, host.project.portfolio
    editor.editors["pool_fee"].setValue(0.03)
    editor.editors["pool_fee"].setValue(0.035)  # same assumption within the merge window: one step
    assert stack.count() == 1 and p.settings["assumptions"] == {"pool_fee": 0.035}
    editor.editors["uptime"].setValue(0.9)
    assert stack.count() == 2
    assert editor.name_labels["uptime"].font().bold() and editor.reset_buttons["uptime"].isEnabled()
    stack.undo()
    assert p.settings["assumptions"] == {"pool_fee": 0.035}
    assert editor.editors["uptime"].value() == pytest.approx(0.95)
    stack.undo()
    assert "assumptions" not in p.settings
    assert editor.editors["pool_fee"].value() == pytest.approx(0.02)


def test_refused_value_names_the_rule_and_pushes_nothing(editor, host):
    assert not editor.set_assumption("asic_model", "Antminer S99")
    assert "not in the ASIC catalogue" in editor.message.text()
    assert not editor.set_assumption("pool_fee", 0.5)
    assert "outside the range" in editor.message.text()
    assert host.undo_stack.count() == 0


def test_reset_row_and_reset_all(editor, host):
    p = host.project.portfolio
    editor.set_assumption("btc_price_usd", 100_000.0)
    editor.set_assumption("difficulty", 160e12)
    assert editor.reset_assumption("btc_price_usd")
    assert p.settings["assumptions"] == {"difficulty": 160e12}
    assert editor.editors["btc_price_usd"].value() == 90_000.0
    assert editor.reset_all()
    assert p.settings["assumptions"] == {}
    host.undo_stack.undo()
    assert p.settings["assumptions"] == {"difficulty": 160e12}


def test_scenario_switch_and_custom_scenario(editor, host):
    p = host.project.portfolio
    assert editor.set_scenario("bull")
    assert editor.editors["btc_price_usd"].value() == SCENARIOS["bull"]["btc_price_usd"]
    assert not editor.reset_buttons["btc_price_usd"].isEnabled()  # scenario value, not a user override
    editor.set_assumption("lease_rate_usd_per_kw_month", 170.0)
    assert editor.save_scenario("my case")
    assert p.settings["scenario"] == "my case" and p.settings["assumptions"] == {}
    a = assumptions_from_settings(p.settings)
    assert (a.btc_price_usd, a.lease_rate_usd_per_kw_month) == (150_000.0, 170.0)
    assert "my case (custom)" in [editor.scenario_combo.itemText(i) for i in range(editor.scenario_combo.count())]
    host.undo_stack.undo()  # the whole save is one step
    assert p.settings["scenario"] == "bull" and "my case" not in (p.settings.get("scenarios") or {})
    assert not editor.save_scenario("bear")  # built-in names are refused
    host.undo_stack.undo()
    host.undo_stack.undo()
    assert assumptions_from_settings(p.settings).btc_price_usd == 90_000.0


def test_weights_edit_rescores_and_profiles(editor, host):
    p = host.project.portfolio
    before = host.scores["A"].total
    assert editor.set_weight("power_scale", 60.0)
    assert p.settings["weights_profiles"]["default"]["power_scale"] == 60.0
    assert host.scores["A"].criterion("power_scale").weight == 60.0
    assert host.scores["A"].total == score_site(p.get("A"), p.settings).total != before
    host.undo_stack.undo()
    assert host.scores["A"].total == before
    assert editor.new_profile("campus")
    assert p.settings["weights_profile"] == "campus"
    editor.weight_spins["land"].setValue(20.0)
    assert p.settings["weights_profiles"]["campus"]["land"] == 20.0
    assert editor.rename_profile("campus", "big campus")
    assert p.settings["weights_profile"] == "big campus" and "campus" not in p.settings["weights_profiles"]
    assert not editor.rename_profile("default", "x")
    assert "built in" in editor.message.text()
    assert editor.set_profile("training_campus")
    assert host.scores["A"].weights_profile == "training_campus"
    assert editor.set_profile("big campus")
    assert editor.reset_weights()
    assert p.settings["weights_profiles"]["big campus"] == DEFAULT_WEIGHTS


def test_all_zero_weights_refused(editor, host):
    for c in CRITERIA[:-1]:
        assert editor.set_weight(c.key, 0.0)
    n = host.undo_stack.count()
    assert not editor.set_weight(CRITERIA[-1].key, 0.0)
    assert "all weights are 0" in editor.message.text()
    assert host.undo_stack.count() == n
    assert editor.weight_spins[CRITERIA[-1].key].value() == CRITERIA[-1].default_weight


def test_a_long_date_time_shows_its_start(editor):
    """QA: 'Reference block time' read '-04-20T00:09:27+00:00' (its start cut off in the narrow box)."""
    from PySide6.QtWidgets import QLineEdit

    boxes = [w for w in editor.editors.values() if isinstance(w, QLineEdit) and len(w.text()) > 12]
    assert boxes
    for w in boxes:
        assert w.cursorPosition() == 0, w.text()
