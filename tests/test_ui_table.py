"""Sites table model, filter proxy, delegates and undo commands (no main window, no map)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QComboBox, QDateEdit, QDoubleSpinBox, QLineEdit, QSpinBox

from planner.model.fields import FIELDS
from planner.model.portfolio import Portfolio
from planner.model.site import Site, SiteError
from planner.session import commands
from planner.ui.commands import (AddSiteCommand, BulkEditCommand, DeleteSitesCommand, DuplicateSiteCommand,
                                 EditSiteCommand, MoveSiteCommand, SetSettingCommand)
from planner.ui.delegates import create_editor, editor_value, format_value, set_editor_value
from planner.ui.site_table import SORT_ROLE, SiteFilterProxy, SiteTableModel

pytestmark = pytest.mark.gui


def _portfolio() -> Portfolio:
    return Portfolio([
        Site.create(site_id="A", name="Alpha", status="operating", admin1="TX", country="US",
                    power_capacity_mw=300, energized_mw=200, lon=-101.5, lat=31.9),
        Site.create(site_id="B", name="Bravo", status="pipeline", admin1="ND", country="US",
                    power_capacity_mw=100, energized_mw=None, lon=-103.2, lat=47.8),
        Site.create(site_id="C", name="Charlie", status="operating", country="PY",
                    power_capacity_mw=None, energized_mw=50, lon=-54.6, lat=-25.4),
    ], name="test")


def _scores(**totals: float | None) -> dict[str, SimpleNamespace]:
    klass = {None: "insufficient_data"}
    return {sid: SimpleNamespace(total=t, klass=klass.get(t, "ready_now" if t and t >= 70 else "mining_only"),
                                 class_label="Ready now" if t and t >= 70 else "Mining only",
                                 completeness_pct=50.0) for sid, t in totals.items()}


@pytest.fixture
def model(qtbot):
    m = SiteTableModel(_portfolio(), QUndoStack())
    m.set_scores(_scores(A=80.0, B=None, C=40.0))
    return m


def test_model_passes_qtmodeltester(qtmodeltester, model):
    qtmodeltester.check(model, force_py=True)


def test_proxy_passes_qtmodeltester(qtmodeltester, model):
    proxy = SiteFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(model.column_of("energized_mw"))
    proxy.set_text("a")
    qtmodeltester.check(proxy, force_py=True)


def test_display_has_units_and_unknown_is_not_zero(model):
    c = model.column_of("energized_mw")
    assert model.index(0, c).data() == "200 MW"
    assert model.index(1, c).data() == "\u2014"
    assert model.index(1, c).data(Qt.ItemDataRole.EditRole) is None
    assert "unknown" in model.index(1, c).data(Qt.ItemDataRole.ToolTipRole)


def test_computed_columns_are_read_only_and_marked(model):
    for key in ("score:total", "score:class_label", "dist_line_345kv_km"):
        c = model.column_of(key)
        assert not model.flags(model.index(0, c)) & Qt.ItemFlag.ItemIsEditable
        assert "(computed)" in model.headerData(c, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
        assert model.index(0, c).data(Qt.ItemDataRole.BackgroundRole) is not None
    c = model.column_of("energized_mw")
    assert model.flags(model.index(0, c)) & Qt.ItemFlag.ItemIsEditable
    assert model.index(0, c).data(Qt.ItemDataRole.BackgroundRole) is None
    assert model.index(0, model.column_of("score:total")).data() == "80"


def test_score_column_shows_the_band_and_sorts_by_expected_total(qtbot):
    from planner.model.readiness import score_portfolio
    p = _portfolio()
    m = SiteTableModel(p, QUndoStack())
    scores = score_portfolio(p)
    m.set_scores(scores)
    c = m.column_of("score:total")
    for row, sid in enumerate(p.ids()):
        r = scores[sid]
        assert r.total_low < r.total_high  # these sites have unknowns: "72 (60-85)"
        assert m.index(row, c).data() == r.band_text == f"{r.total:.0f} ({round(r.total_low)}-{round(r.total_high)})"
        assert m.index(row, c).data(SORT_ROLE) == r.total
    proxy = SiteFilterProxy()
    proxy.setSourceModel(m)
    proxy.sort(c, Qt.SortOrder.DescendingOrder)
    shown = [scores[proxy.index(i, 0).data()].total for i in range(proxy.rowCount())]
    assert shown == sorted(shown, reverse=True)


def test_scores_empty_keeps_columns_working(qtbot):
    m = SiteTableModel(_portfolio(), QUndoStack())
    assert m.index(0, m.column_of("score:total")).data() == "\u2014"
    assert m.index(0, m.column_of("score:total")).data(Qt.ItemDataRole.EditRole) is None


def test_setdata_pushes_command_and_undo_restores(model, qtbot):
    c = model.column_of("energized_mw")
    with qtbot.waitSignal(model.dataChanged):
        assert model.setData(model.index(0, c), "250")
    assert model.portfolio.get("A").energized_mw == 250.0
    assert model.undo_stack.count() == 1
    model.undo_stack.undo()
    assert model.portfolio.get("A").energized_mw == 200.0


@pytest.mark.parametrize("raw, needle", [(-5, "-5 MW is below the minimum 0 MW"),
                                         (301, "Energized (301 MW) exceeds power capacity (gross) (300 MW)"),
                                         ("abc", "\u201cabc\u201d is not a number")])
def test_invalid_edit_refused_with_message(model, qtbot, raw, needle):
    c = model.column_of("energized_mw")
    with qtbot.waitSignal(model.edit_rejected) as sig:
        assert model.setData(model.index(0, c), raw) is False
    assert needle in sig.args[0] and sig.args[0].startswith("Energized (MW) of A: ")
    assert model.portfolio.get("A").energized_mw == 200.0
    assert model.undo_stack.count() == 0


def test_computed_cell_edit_refused(model, qtbot):
    with qtbot.waitSignal(model.edit_rejected):
        assert not model.setData(model.index(0, model.column_of("dist_fibre_km")), 3.0)


def test_edit_bursts_merge_and_later_edits_do_not(model, monkeypatch):
    c = model.column_of("energized_mw")
    clock = iter([0.0, 0.5, 1.0, 10.0])
    monkeypatch.setattr(commands.time, "monotonic", lambda: next(clock))
    for v in (210, 220, 230):
        model.setData(model.index(0, c), v)
    assert model.undo_stack.count() == 1
    model.setData(model.index(0, c), 240)
    assert model.undo_stack.count() == 2
    model.undo_stack.undo()
    assert model.portfolio.get("A").energized_mw == 230
    model.undo_stack.undo()
    assert model.portfolio.get("A").energized_mw == 200


def test_rows_follow_portfolio_signals(model, qtbot):
    p, stack = model.portfolio, model.undo_stack
    new = Site.create(site_id="D", name="Delta")
    with qtbot.waitSignal(model.rowsInserted):
        stack.push(AddSiteCommand(p, new, index=1))
    assert [model.site_id_at(r) for r in range(4)] == ["A", "D", "B", "C"]
    with qtbot.waitSignal(model.rowsRemoved):
        stack.push(DeleteSitesCommand(p, ["A", "C"]))
    assert p.ids() == ["D", "B"] and model.rowCount() == 2
    stack.undo()
    assert p.ids() == ["A", "D", "B", "C"]
    assert [model.site_id_at(r) for r in range(4)] == p.ids()
    stack.undo()
    assert p.ids() == ["A", "B", "C"] and model.rowCount() == 3


def test_duplicate_and_undo(model):
    p, stack = model.portfolio, model.undo_stack
    cmd = DuplicateSiteCommand(p, "A")
    stack.push(cmd)
    assert p.ids() == ["A", "A-copy", "B", "C"]
    assert p.get("A-copy").energized_mw == 200 and p.get("A-copy").name == "Alpha (copy)"
    stack.push(DuplicateSiteCommand(p, "A"))
    assert "A-copy-2" in p
    stack.undo()
    stack.undo()
    assert p.ids() == ["A", "B", "C"]


def test_bulk_edit_all_or_nothing_and_undo(model):
    p, stack = model.portfolio, model.undo_stack
    stack.push(BulkEditCommand.create(p, ["A", "B"], "power_capacity_mw", 500))
    assert p.get("A").power_capacity_mw == 500 and p.get("B").power_capacity_mw == 500
    stack.undo()
    assert p.get("A").power_capacity_mw == 300 and p.get("B").power_capacity_mw == 100
    with pytest.raises(SiteError, match="exceeds power_capacity_mw"):  # A has 200 MW energized
        BulkEditCommand.create(p, ["B", "A"], "power_capacity_mw", 150)
    assert p.get("B").power_capacity_mw == 100


def test_move_and_setting_commands(model):
    p, stack = model.portfolio, model.undo_stack
    stack.push(MoveSiteCommand(p, "A", -100.0, 32.0))
    assert (p.get("A").lon, p.get("A").lat) == (-100.0, 32.0)
    stack.undo()
    assert p.get("A").lon == -101.5
    with pytest.raises(SiteError):
        MoveSiteCommand(p, "A", 200.0, 32.0)
    seen = []
    p.settings_changed.connect(seen.append)
    stack.push(SetSettingCommand(p, "scenario", "bull"))
    assert p.settings["scenario"] == "bull"
    stack.undo()
    assert "scenario" not in p.settings and seen == ["scenario", "scenario"]


def test_drag_moves_merge_per_site_only(model, monkeypatch):
    monkeypatch.setattr(commands.time, "monotonic", lambda: 50.0)  # one instant: only the site decides
    p, stack = model.portfolio, model.undo_stack
    a0, b0 = p.get("A"), p.get("B")
    stack.push(MoveSiteCommand(p, "A", -100.0, 32.0))
    stack.push(MoveSiteCommand(p, "A", -100.5, 32.5))  # the same drag
    assert stack.count() == 1
    stack.push(MoveSiteCommand(p, "B", -99.0, 31.0))   # another site: its own step
    assert stack.count() == 2
    stack.undo()
    assert p.get("B") == b0 and (p.get("A").lon, p.get("A").lat) == (-100.5, 32.5)
    stack.undo()
    assert p.get("A") == a0


def test_edit_command_refuses_site_id_and_unknown_site(model):
    with pytest.raises(SiteError, match="cannot be changed"):
        EditSiteCommand.create(model.portfolio, "A", "site_id", "Z")
    with pytest.raises(KeyError):
        EditSiteCommand.create(model.portfolio, "nope", "name", "x")


def test_proxy_filters_and_sorts_unknown_last(model):
    proxy = SiteFilterProxy()
    proxy.setSourceModel(model)
    ids = lambda: [proxy.index(r, 0).data(Qt.ItemDataRole.EditRole) for r in range(proxy.rowCount())]
    c = model.column_of("energized_mw")
    proxy.sort(c, Qt.SortOrder.AscendingOrder)
    assert ids() == ["C", "A", "B"]
    proxy.sort(c, Qt.SortOrder.DescendingOrder)
    assert ids() == ["A", "C", "B"]
    proxy.set_text("brav")
    assert ids() == ["B"]
    proxy.clear_filters()
    proxy.set_score_range(50, 100)
    assert ids() == ["A"]
    proxy.set_score_range(None, None)
    proxy.set_classes({"mining_only"})
    assert ids() == ["C"]
    proxy.clear_filters()
    proxy.set_statuses({"pipeline"})
    assert ids() == ["B"]
    proxy.clear_filters()
    proxy.set_countries({"py"})
    assert ids() == ["C"]
    proxy.clear_filters()
    proxy.set_admin1({"tx", "nd"})
    assert sorted(ids()) == ["A", "B"]
    assert proxy.is_filtered


@pytest.mark.parametrize("name, value, widget", [
    ("energized_mw", 12.5, QDoubleSpinBox), ("energized_mw", None, QDoubleSpinBox),
    ("transformer_count", 3, QSpinBox), ("transformer_count", None, QSpinBox),
    ("status", "pipeline", QComboBox), ("substation_owned", False, QComboBox),
    ("substation_owned", None, QComboBox), ("expected_energization_date", "2027-03-01", QDateEdit),
    ("expected_energization_date", None, QDateEdit), ("name", "Plant", QLineEdit), ("notes", None, QLineEdit),
])
def test_editors_round_trip_values_and_unknown(qtbot, name, value, widget):
    fs = FIELDS[name]
    ed = create_editor(fs, None)
    qtbot.addWidget(ed)
    assert isinstance(ed, widget)
    set_editor_value(ed, fs, value)
    assert editor_value(ed, fs) == value


def test_editor_ranges_and_units_come_from_fieldspec(qtbot):
    ed = create_editor(FIELDS["energized_mw"], None)
    qtbot.addWidget(ed)
    assert ed.maximum() == 10_000 and ed.suffix() == " MW" and ed.minimum() < 0
    ed.setValue(ed.minimum())
    assert ed.text() == "unknown"
    combo = create_editor(FIELDS["water_stress"], None)
    qtbot.addWidget(combo)
    assert [combo.itemText(i) for i in range(combo.count())][0] == "unknown"
    assert combo.count() == 1 + len(FIELDS["water_stress"].choices)
    d = create_editor(FIELDS["expected_energization_date"], None)
    qtbot.addWidget(d)
    d.setDate(QDate(2030, 1, 2))
    assert editor_value(d, FIELDS["expected_energization_date"]) == "2030-01-02"


def test_format_value():
    assert format_value(FIELDS["power_price_usd_per_mwh"], 42.0) == "$42/MWh"  # as the report and map say it
    assert format_value(FIELDS["dist_substation_km"], 7.8) == "7.8 km"  # not "7.80 km"
    assert format_value(FIELDS["land_acres"], 1500.0) == "1,500 acres"
    assert format_value(FIELDS["dark_fibre_on_site"], True) == "yes"
    assert format_value(FIELDS["energized_mw"], None) == ""
    assert format_value(FIELDS["lat"], 31.9) == "31.90000°"


def test_sort_role_is_raw_value(model):
    c = model.column_of("power_capacity_mw")
    assert model.index(0, c).data(SORT_ROLE) == 300.0
    assert model.index(2, c).data(SORT_ROLE) is None


def test_window_place_and_score_range_filters(qtbot, tmp_path):
    """The filter bar narrows the table by country/state and by a score range, through the proxy."""
    from planner.assets import sample_project
    from planner.ui.main_window import MainWindow
    from planner.settings import AppSettings
    from tests.test_ui_main_window import FakeMap  # stand-in map, same as the window tests

    w = MainWindow(AppSettings(), map_factory=FakeMap)
    qtbot.addWidget(w)
    w.open_project(sample_project())
    total = w.proxy.rowCount()
    assert total == len(w.project.portfolio)
    i = w.place_combo.findData("admin1:TX")
    assert i > 0
    w.place_combo.setCurrentIndex(i)
    tx = {w.proxy.index(r, 0).data() for r in range(w.proxy.rowCount())}
    assert tx and all(w.project.portfolio.get(sid).admin1 == "TX" for sid in tx)
    w.place_combo.setCurrentIndex(w.place_combo.findData("country:CA"))
    assert {w.project.portfolio.get(w.proxy.index(r, 0).data()).country for r in range(w.proxy.rowCount())} == {"CA"}
    w.place_combo.setCurrentIndex(0)
    w.min_score_spin.setValue(55)  # expected totals of the sample run ~44-66 (band scoring)
    w.max_score_spin.setValue(60)
    shown = [w.proxy.index(r, 0).data() for r in range(w.proxy.rowCount())]
    assert shown and all(55 <= w.scores[sid].total <= 60 for sid in shown)
    assert len(shown) < total
