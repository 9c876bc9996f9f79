"""Main window on the bundled sample: open, edit with undo, selection sync, save/reopen, docks.

A light map widget with MapView's API stands in for the QtWebEngine map in most tests
(speed on a 2-core CI box); ``test_real_map_view_is_used_by_default`` runs the real one.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QWidget

from planner.assets import sample_project
from planner.model.readiness import counts_text
from planner.settings import AppSettings, load_settings
from planner.ui import dialogs
from planner.ui.main_window import MainWindow

pytestmark = pytest.mark.gui
SID = "CORZ-DEN"  # Denton, Texas: gross, energized and pipeline MW all known in the sample


class FakeMap(QWidget):
    """MapView's public API without QtWebEngine; records what the window asked for."""

    site_clicked = Signal(str)
    map_clicked = Signal(float, float)
    site_moved = Signal(str, float, float)
    load_finished = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.project = None
        self.selected = ""
        self.mode = "browse"
        self.refreshes = 0
        self.reloads = 0
        self.zoomed_to_sites = 0
        self.visible_kinds: dict[str, bool] = {}
        self.visible_names: dict[str, bool] = {}

    def set_project(self, project, scores=None, options=None):
        self.project = project

    def refresh(self, scores=None):
        self.refreshes += 1

    def reload(self, scores=None):
        self.reloads += 1

    def select_site(self, site_id, pan=True):
        self.selected = site_id
        self.panned = pan

    def zoom_to_sites(self):
        self.zoomed_to_sites += 1

    def set_layer_visible_by_name(self, name, visible):
        self.visible_names[name] = visible

    def set_mode(self, mode):
        self.mode = mode

    def set_layer_visible(self, kind, visible):
        self.visible_kinds[kind] = visible


@pytest.fixture
def errors(monkeypatch):
    seen: list[str] = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, message: seen.append(message))
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, name: "discard")
    return seen


@pytest.fixture(scope="session")
def _sample_once():
    from planner.gis.project import open_project
    return open_project(sample_project())


@pytest.fixture
def fast_sample(monkeypatch, _sample_once):
    """Open the sample once per session; each window gets its own portfolio (layers are read-only)."""
    import copy
    from planner.gis.project import Project, open_project
    from planner.model.portfolio import Portfolio
    from planner.ui import project_files

    src = _sample_once

    def opener(path):
        if Path(path).resolve() != sample_project().resolve():
            return open_project(path)
        pf = Portfolio(list(src.portfolio), copy.deepcopy(src.portfolio.settings), src.portfolio.name)
        return Project(path=src.path, portfolio=pf, layers=dict(src.layers), warnings=list(src.warnings))

    monkeypatch.setattr(project_files, "gis_open_project", opener)


@pytest.fixture
def make_window(qtbot, errors, fast_sample):
    def make() -> MainWindow:
        w = MainWindow(AppSettings(), map_factory=FakeMap)
        qtbot.addWidget(w)
        return w
    return make


@pytest.fixture
def window(make_window) -> MainWindow:
    w = make_window()
    assert w.open_project(sample_project())
    return w


def _wait(qtbot, task):
    """Wait until a window task's result (or error) was delivered to its callbacks."""
    qtbot.waitUntil(lambda: task.delivered, timeout=60_000)


def _cell(w: MainWindow, sid: str, key: str):
    m = w.table_model
    return m.index(m.row_of(sid), m.column_of(key))


def test_sample_opens_read_only_copy(qtbot, errors):
    window = MainWindow(AppSettings(), map_factory=FakeMap)  # the real reader, no session cache
    qtbot.addWidget(window)
    assert window.open_project(sample_project())
    p = window.project.portfolio
    assert len(p) == window.table_model.rowCount() == window.proxy.rowCount() > 10
    assert window.windowTitle() == "sample_portfolio.gpkg (read-only copy) - Site Conversion Planner"
    assert window.save_path is None and window.project.path is None  # Save must ask for a new file
    assert window.map_view.project is window.project
    assert set(window.scores) == set(p.ids())
    assert f"{len(p)} sites" in window.count_label.text()
    # decided classes, then the undecided sites with what they lean to (no "0 ready now")
    # (the whole line; while the read-only notice shows, a narrow bar shows "40 sites" with it as tooltip)
    assert f" \u00b7 {counts_text(window.scores.values())} \u00b7 " in window.count_label.full_text()
    assert re.search(r"\d+ undecided \(\d+ lean convertible", window.count_label.full_text())
    assert errors == []


def test_edit_energized_changes_value_and_score_and_undo_restores(window, qtbot):
    before_total = window.scores[SID].total
    before_mw = window.project.portfolio.get(SID).energized_mw
    assert before_mw is not None and before_mw != 60.0
    score_cell = _cell(window, SID, "score:total")
    shown_before = score_cell.data()
    with qtbot.waitSignal(window.scores_changed):
        assert window.table_model.setData(_cell(window, SID, "energized_mw"), 60.0)
    assert window.project.portfolio.get(SID).energized_mw == 60.0
    assert window.scores[SID].total != before_total
    assert score_cell.data() != shown_before
    assert window.windowTitle().startswith("sample_portfolio.gpkg (read-only copy)* - ")
    window.undo_stack.undo()
    assert window.project.portfolio.get(SID).energized_mw == before_mw
    assert window.scores[SID].total == before_total
    assert score_cell.data() == shown_before
    assert "*" not in window.windowTitle()


@pytest.mark.parametrize("value, needle", [(-5, "Energized (MW) of CORZ-DEN: -5 MW is below the minimum 0 MW"),
                                          (400, "exceeds power capacity (gross)")])
def test_invalid_edit_refused_with_message_and_nothing_stored(window, value, needle):
    site = window.project.portfolio.get(SID)
    assert site.power_capacity_mw < 400  # the sample's gross capacity, so 400 MW energized is too much
    assert not window.table_model.setData(_cell(window, SID, "energized_mw"), value)
    assert needle in window.last_message and SID in window.last_message
    assert window.statusBar().currentMessage() == window.last_message
    assert window.project.portfolio.get(SID) == site
    assert window.undo_stack.count() == 0 and "*" not in window.windowTitle()


def test_form_edits_use_commands_and_show_refusal_inline(window):
    window.set_current_site(SID)
    form = window.site_form
    assert form.site_id == SID and "CORZ-DEN" in form.title_label.text()
    assert not form.commit_value("energized_mw", -5)
    assert "below the minimum" in form.error_text
    assert window.undo_stack.count() == 0
    before = window.project.portfolio.get(SID).land_acres
    assert form.commit_value("land_acres", 250)
    assert window.project.portfolio.get(SID).land_acres == 250
    assert form.error_text == ""
    from planner.ui.delegates import editor_value
    from planner.model.readiness import next_facts
    from planner.model.fields import FIELDS
    assert editor_value(form.editors["land_acres"], FIELDS["land_acres"]) == 250
    window.undo_stack.undo()
    assert window.project.portfolio.get(SID).land_acres == before != 250
    assert editor_value(form.editors["land_acres"], FIELDS["land_acres"]) == before  # form followed the store
    assert "(computed)" in form.score_label.text()
    r = window.scores[SID]  # the band and the one fact to collect next
    facts = next_facts(window.project.portfolio.get(SID), window.project.portfolio.settings, result=r)
    assert f"{r.band_text} / 100" in form.score_label.text()
    assert f"Next fact: {facts[0].sentence}" in form.score_label.text()


def test_selection_syncs_map_table_and_form(window, qtbot):
    with qtbot.waitSignal(window.current_site_changed) as sig:
        window.map_view.site_clicked.emit("IREN-CHI")
    assert sig.args == ["IREN-CHI"]
    current = window.table.currentIndex()
    assert window.proxy.mapToSource(current).row() == window.table_model.row_of("IREN-CHI")
    assert window.site_form.site_id == "IREN-CHI"
    # clicking a row in the table selects the site on the map
    row = window.proxy.mapFromSource(window.table_model.index(window.table_model.row_of("CORZ-MAR"), 1))
    window.table.setCurrentIndex(row)
    assert window.map_view.selected == "CORZ-MAR" and window.current_site == "CORZ-MAR"


def test_bulk_edit_and_undo(window):
    ids = ["CORZ-DEN", "IREN-CHI", "CORZ-MAR"]
    before = {s: window.project.portfolio.get(s) for s in ids}
    assert window.bulk_edit(ids, "water_source", "municipal")
    assert all(window.project.portfolio.get(s).water_source == "municipal" for s in ids)
    assert window.undo_stack.count() == 1
    window.undo_stack.undo()
    assert all(window.project.portfolio.get(s) == before[s] for s in ids)
    # 100 MW gross is below CORZ-DEN's energized MW: refused for all, nothing stored
    assert before["CORZ-DEN"].energized_mw > 100
    assert not window.bulk_edit(ids, "power_capacity_mw", 100)
    assert "exceeds power capacity (gross)" in window.last_message and "_mw" not in window.last_message
    assert all(window.project.portfolio.get(s) == before[s] for s in ids)


def test_add_by_map_click_delete_duplicate_with_undo(window, qtbot):
    p = window.project.portfolio
    n = len(p)
    window.set_map_mode("add")
    assert window.map_view.mode == "add"
    window.map_view.map_clicked.emit(-101.9, 33.6)  # Lubbock, TX: near the Texas grid layer
    assert len(p) == n + 1 and window.map_view.mode == "browse"
    new = p.get(window.current_site)
    assert (new.lon, new.lat) == (-101.9, 33.6)
    assert new.dist_line_345kv_km is not None and new.dist_substation_km is not None  # proximity ran
    assert new.site_id in window.scores and window.table_model.rowCount() == n + 1
    window.undo_stack.undo()
    assert len(p) == n and new.site_id not in window.scores

    window.delete_sites(["CORZ-DEN", "CORZ-MAR"])
    assert "CORZ-DEN" not in p and window.table_model.rowCount() == n - 2
    window.undo_stack.undo()
    assert p.ids()[0] == "CORZ-DEN" and len(p) == n

    new_id = window.duplicate_site("CORZ-DEN")
    assert new_id == "CORZ-DEN-copy" and p.index_of(new_id) == 1 and window.current_site == new_id
    window.undo_stack.undo()
    assert new_id not in p and window.current_site != new_id
    assert window.site_form.site_id == window.current_site


def test_drag_move_recomputes_proximity_then_score_then_map(window, qtbot):
    p = window.project.portfolio
    window.map_view.site_moved.emit(SID, -97.2, 33.2)
    d0 = p.get(SID).dist_substation_km
    assert d0 is not None
    refreshes = window.map_view.refreshes
    window.map_view.site_moved.emit(SID, -99.5, 31.0)
    s = p.get(SID)
    assert (s.lon, s.lat) == (-99.5, 31.0)
    assert s.dist_substation_km != d0
    assert window.scores[SID].criterion("grid_proximity").reason != ""
    qtbot.waitUntil(lambda: window.map_view.refreshes > refreshes, timeout=2000)
    assert window.undo_stack.count() == 1  # the two moves of one drag merged into one step
    window.undo_stack.undo()
    assert (p.get(SID).lon, p.get(SID).lat) == (-97.13307, 33.21484)
    assert not window.move_site(SID, 250.0, 31.0)  # outside WGS84: refused
    assert "Longitude (deg) of CORZ-DEN: 250 is above the maximum 180" in window.last_message


def test_save_as_and_reopen_keeps_edit_and_never_touches_sample(window, make_window, tmp_path, monkeypatch):
    sample = sample_project()
    digest = hashlib.sha256(sample.read_bytes()).hexdigest()
    window.table_model.setData(_cell(window, SID, "energized_mw"), 100.0)
    # Save on the read-only sample asks for a new path
    target = tmp_path / "mine.gpkg"
    asked: list[str] = []
    monkeypatch.setattr(dialogs, "ask_save_path", lambda parent, suggested: asked.append(suggested) or target)
    assert window.save()
    assert asked and window.save_path == target.absolute()
    assert window.windowTitle() == "mine.gpkg - Site Conversion Planner"
    assert (tmp_path / "mine.gpkg.lock").is_file()
    assert hashlib.sha256(sample.read_bytes()).hexdigest() == digest
    assert load_settings().recent_files[0] == str(target.resolve())
    # a second edit, plain Save goes to the same file without asking
    window.table_model.setData(_cell(window, SID, "land_acres"), 320)
    asked.clear()
    assert window.save() and not asked
    other = make_window()
    assert other.open_project(target)
    site = other.project.portfolio.get(SID)
    assert site.energized_mw == 100.0 and site.land_acres == 320
    assert other.save_path == target.absolute() and "*" not in other.windowTitle()
    window.close()
    assert not (tmp_path / "mine.gpkg.lock").exists() or other.files.lock is not None


def test_close_with_unsaved_edits_asks(window, monkeypatch, qtbot):
    window.show()
    window.table_model.setData(_cell(window, SID, "land_acres"), 10)
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, name: "cancel")
    assert not window.close()
    assert window.isVisible() and window.is_dirty()
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, name: "discard")
    assert window.close()


def test_open_failure_keeps_current_project(window, errors, tmp_path):
    bad = tmp_path / "broken.gpkg"
    bad.write_text("not a geopackage")
    before = window.project
    assert not window.open_project(bad)
    assert window.project is before
    assert len(errors) == 1 and "broken.gpkg" in errors[0] and "\n" not in errors[0]


def test_import_layer_and_sites_with_undo_and_errors(window, errors, shared_data, tmp_path, qtbot):
    n_layers = len(window.project.layers)
    _wait(qtbot, window.import_layer_from(shared_data / "tx_osm2017_hv_nodes.geojson", "substations"))
    name = "tx_osm2017_hv_nodes"
    assert name in window.project.layers and len(window.project.layers) == n_layers + 1
    assert window.layers_panel.list.count() == n_layers + 1
    window.undo_stack.undo()
    assert name not in window.project.layers and window.layers_panel.list.count() == n_layers
    # a sites file whose IDs already exist: imported under new IDs, one undo step
    n = len(window.project.portfolio)
    _wait(qtbot, window.import_sites_from(shared_data / "mining_sites_public.csv"))
    assert len(window.project.portfolio) == n + 40 and window.undo_stack.count() == 1
    assert "CORZ-DEN-2" in window.project.portfolio
    window.undo_stack.undo()
    assert len(window.project.portfolio) == n
    bad = tmp_path / "bad.csv"
    bad.write_text("site_id,name,energized_mw\nX1,Bad,-5\n")
    _wait(qtbot, window.import_sites_from(bad))
    assert errors and "bad.csv" in errors[-1] and "\n" not in errors[-1]
    assert len(window.project.portfolio) == n and window.undo_stack.index() == 0


def test_layers_panel_toggles_map_visibility(window):
    name = next(n for n, lyr in window.project.layers.items() if lyr.kind == "fibre")
    window.layers_panel.set_visible(name, False)
    assert window.map_view.visible_names == {name: False}
    assert window.project.layers[name].style["visible"] is False  # the one switch, saved with the project
    window.layers_panel.set_visible(name, True)
    assert window.map_view.visible_names == {name: True} and window.project.layers[name].style["visible"] is True


def test_filters_in_the_sites_dock(window):
    window.filter_edit.setText("IREN")
    assert 0 < window.proxy.rowCount() < window.table_model.rowCount()
    assert "shown" in window.count_label.text()
    window.filter_edit.clear()
    assert window.proxy.rowCount() == window.table_model.rowCount()


def test_dock_layout_and_panel_docks_restored(make_window, qtbot):
    w1 = make_window()
    w1.show()
    w1.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, w1.form_dock)
    w1.layers_dock.hide()
    panel = w1.add_panel_dock("Economics", QLabel("economics"), Qt.DockWidgetArea.BottomDockWidgetArea)
    assert panel.objectName() == "panel_economics" and panel.toggleViewAction() in w1.docks_menu.actions()
    panel.hide()
    w1.close()  # saves the layout
    w2 = make_window()
    w2.show()
    assert w2.dockWidgetArea(w2.form_dock) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert w2.layers_dock.isHidden() and not w2.sites_dock.isHidden()
    panel2 = w2.add_panel_dock("Economics", QLabel("economics"), Qt.DockWidgetArea.RightDockWidgetArea)
    assert panel2.isHidden()


def test_menus_and_export_extension_point(window):
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles == ["&File", "&Edit", "&View", "&Tools", "&Help"]
    tools = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Tools")
    assert any("Screen" in a.text() for a in tools.actions())  # site screening dialog
    assert window.export_menu.title() == "&Export" and window.export_menu.menuAction() in window.file_menu.actions()
    assert window.undo_action in window.edit_menu.actions()
    assert "Data attribution" in dialogs.about_text(window.attribution_text())
    assert "<script>" not in dialogs.about_text("<script>x</script>")


def test_real_map_view_is_used_by_default(qtbot, errors):
    from PySide6.QtCore import QCoreApplication, QEvent
    from planner.ui.map_view import MapView
    w = MainWindow(AppSettings())
    try:
        assert isinstance(w.map_view, MapView)
    finally:
        assert w.close()  # releases the web page
        w.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        QCoreApplication.processEvents()


def test_a_long_site_name_does_not_widen_the_form(window):
    """Selecting RIOT-RKD ("Rockdale (ex-Whinstone, ex-Alcoa smelter area)") widened the right dock
    and narrowed the map from ~730 to ~555 px: the form's title wraps."""
    form = window.site_form
    window.set_current_site(SID)
    short = form.minimumSizeHint().width()
    window.set_current_site("RIOT-RKD")
    assert len(form.title_label.text()) > 40
    assert form.minimumSizeHint().width() <= max(short, 360)


def test_form_fits_a_laptop_dock_without_a_side_scroll(window):
    """The form was 413 px wide at least (long field labels on one line) in a ~260 px laptop dock:
    labels wrap and long rows put the label above its field."""
    window.set_current_site("RIOT-RKD")
    assert window.site_form.scroll.widget().minimumSizeHint().width() <= 250


def test_a_refusal_banner_leaves_when_the_site_changes(window):
    """After a refused 99,999,999 MW and an undo the red banner stayed, even on re-selecting the site."""
    window.set_current_site(SID)
    form = window.site_form
    assert not form.commit_value("energized_mw", 99_999_999)
    assert "99,999,999" in form.error_text
    assert form.commit_value("energized_mw", 100)
    window.undo_stack.undo()
    assert form.error_text == ""
    assert not form.commit_value("energized_mw", -5)
    window.undo_stack.redo()  # any change of the shown site clears it
    assert form.error_text == ""


def test_a_form_refusal_shows_no_tooltip_over_the_field(window, monkeypatch):
    """A refused form value popped a tooltip at the cursor, over the field being edited, on top of the
    form's own banner; a table refusal (no banner) keeps its tooltip."""
    from planner.ui import main_window as mw
    shown: list[str] = []
    monkeypatch.setattr(mw.QToolTip, "showText", lambda pos, text, *a: shown.append(text))
    window.set_current_site(SID)
    assert not window.site_form.commit_value("energized_mw", -5)
    assert shown == [] and "-5" in window.statusBar().currentMessage()
    assert not window.table_model.setData(_cell(window, SID, "energized_mw"), -5)
    assert len(shown) == 1
