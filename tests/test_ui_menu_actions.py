"""Every File > Export action, Import, Save As and Tools > Screen region, driven from the menu.

Each action is fired with ``QAction.trigger()`` as a click would; the file dialogs' static
getters and the option pickers are answered by monkeypatching, and the test checks that the
file is really written (and readable), so a broken slot (an exception on stderr only) fails.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QInputDialog

from planner.assets import sample_project
from planner.settings import AppSettings
from planner.ui.main_window import MainWindow

from test_ui_main_window import FakeMap, errors, fast_sample, _sample_once  # noqa: F401 - fixtures

pytestmark = pytest.mark.gui
SID = "CORZ-DEN"


@pytest.fixture
def win(qtbot, errors, fast_sample):  # noqa: F811 - fixtures imported above
    w = MainWindow(AppSettings(), map_factory=FakeMap)
    qtbot.addWidget(w)
    assert w.open_project(sample_project())
    return w


class Answers:
    """Answers for QFileDialog / QInputDialog static getters; records what was asked."""

    def __init__(self, monkeypatch, save: Path | None = None, open_: Path | None = None,
                 items: dict[str, str] | None = None, report: tuple[str | None, str, bool] = (None, "a4", False)):
        from planner.ui import dialogs
        self.asked: list[str] = []
        self.save, self.open_, self.items, self.report = save, open_, items or {}, report
        monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(self._save))
        monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(self._open))
        monkeypatch.setattr(QInputDialog, "getItem", staticmethod(self._item))
        monkeypatch.setattr(dialogs, "ask_report_options", self._report)

    def _report(self, parent, title, sites=None, atlas=False):
        self.asked.append(f"options:{title}" + (":sites" if sites else "") + (":atlas" if atlas else ""))
        return self.report

    def _save(self, parent, title, start="", filters="", *a, **k):
        self.asked.append(f"save:{title}")
        return (str(self.save) if self.save else "", "")

    def _open(self, parent, title, start="", filters="", *a, **k):
        self.asked.append(f"open:{title}")
        return (str(self.open_) if self.open_ else "", "")

    def _item(self, parent, title, label, items, current=0, editable=False, *a, **k):
        self.asked.append(f"item:{title}")
        for key, answer in self.items.items():
            if key in title or key in label:
                return (next(i for i in items if answer in i), True)
        return (items[current], True)


def _export_action(win, needle: str):
    acts = [a for a in win.export_menu.actions() if needle in a.text()]
    assert len(acts) == 1, [a.text() for a in win.export_menu.actions()]
    return acts[0]


def test_every_export_menu_action_is_covered(win):
    texts = [a.text() for a in win.export_menu.actions() if not a.isSeparator()]
    assert texts == ["Map &snapshot (PNG)…", "Interactive &map (HTML)…", "Site &report (PDF)…",
                     "&Portfolio report (PDF)…", "Sites &data (CSV, GeoJSON, GeoPackage)…"]


def test_map_snapshot_of_the_current_site_from_the_menu(win, tmp_path, monkeypatch, errors):
    out = tmp_path / "snap.png"
    answers = Answers(monkeypatch, save=out)
    win.set_current_site(SID)
    _export_action(win, "snapshot").trigger()
    assert answers.asked == ["save:Export map snapshot"]
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
    assert errors == [] and win.export_actions.last_written == out


def test_map_snapshot_draws_the_layers_the_layers_panel_shows(win, tmp_path, monkeypatch, errors):
    """QA: with Substations unticked and Gas flares ticked, the snapshot drew substations and no flares."""
    from planner.reports import snapshot

    drawn: list[set[str]] = []
    real = snapshot.map_project
    monkeypatch.setattr(snapshot, "map_project",
                        lambda project, kinds, bbox=None: drawn.append({k for k, v in kinds.items() if v})
                        or real(project, kinds, bbox))
    by_kind = {layer.kind: name for name, layer in win.project.layers.items()}
    win.layers_panel.set_visible(by_kind["substations"], False)  # what unticking it in the Layers panel does
    win.layers_panel.set_visible(by_kind["flares"], True)
    Answers(monkeypatch, save=tmp_path / "snap.png")
    win.set_current_site(SID)
    _export_action(win, "snapshot").trigger()
    assert drawn and "substations" not in drawn[-1] and {"flares", "transmission"} <= drawn[-1]
    assert errors == []


def test_interactive_map_from_the_menu(win, tmp_path, monkeypatch, errors, qtbot):
    out = tmp_path / "map.html"
    Answers(monkeypatch, save=out)
    _export_action(win, "Interactive").trigger()
    qtbot.waitUntil(out.is_file, timeout=30_000)
    text = out.read_text(encoding="utf-8")
    assert "<html" in text.lower() and SID in text and errors == []


def test_site_report_from_the_menu(win, tmp_path, monkeypatch, errors):
    out = tmp_path / "site.pdf"
    answers = Answers(monkeypatch, save=out, report=(None, "letter", False))
    win.set_current_site(SID)
    _export_action(win, "Site &report").trigger()
    name = win.project.portfolio.get(SID).name  # the dialog names the site
    assert answers.asked == [f"options:Site report: {name} ({SID})", "save:Export site report"]  # one options dialog, one file
    from pypdf import PdfReader
    reader = PdfReader(str(out))
    assert len(reader.pages) >= 1 and SID in "".join(p.extract_text() for p in reader.pages)
    assert round(float(reader.pages[0].mediabox.width)) == 612  # Letter, as answered
    from PySide6.QtWidgets import QApplication
    QApplication.processEvents()
    assert win.statusBar().currentMessage() == f"Wrote {out}"  # the export says where it went
    assert errors == []


def test_site_report_without_a_current_site_asks_which(win, tmp_path, monkeypatch, errors):
    out = tmp_path / "site.pdf"
    win.set_current_site("")
    answers = Answers(monkeypatch, save=out, report=("IREN-CHI", "a4", False))
    _export_action(win, "Site &report").trigger()
    assert answers.asked[0] == "options:Site report:sites"  # the site is chosen in the same dialog
    from pypdf import PdfReader
    assert "IREN-CHI" in PdfReader(str(out)).pages[0].extract_text() and errors == []


def test_portfolio_report_from_the_menu(win, tmp_path, monkeypatch, errors):
    out = tmp_path / "portfolio.pdf"
    answers = Answers(monkeypatch, save=out)
    _export_action(win, "Portfolio").trigger()
    assert answers.asked == ["options:Portfolio report:atlas", "save:Export portfolio report"]
    from pypdf import PdfReader
    text = "".join(p.extract_text() for p in PdfReader(str(out)).pages)
    assert "Portfolio" in text and errors == []


@pytest.mark.parametrize("name", ["sites.csv", "sites.geojson", "sites.gpkg"])
def test_sites_data_from_the_menu(win, tmp_path, monkeypatch, errors, qtbot, name):
    out = tmp_path / name
    Answers(monkeypatch, save=out)
    _export_action(win, "Sites &data").trigger()
    qtbot.waitUntil(out.is_file, timeout=30_000)
    if name.endswith(".gpkg"):
        with sqlite3.connect(out) as con:
            assert con.execute("select count(*) from gpkg_contents").fetchone()[0] >= 1
    else:
        assert SID in out.read_text(encoding="utf-8")
    assert errors == []


def test_report_options_dialog_offers_paper_site_and_atlas(win, qtbot):
    from planner.ui import dialogs
    dlg = dialogs.ReportOptionsDialog("Portfolio report", win, sites=[("A", "Alpha")], atlas=True)
    qtbot.addWidget(dlg)
    dlg.paper_combo.setCurrentIndex(1)
    dlg.atlas_check.setChecked(True)
    assert dlg.choices() == ("A", "letter", True)


def test_report_options_dialog_is_wide_enough_for_its_title(win, qtbot):
    """QA: 'Site report: Rockdale (ex-Whinstone, ex-Alcoa smelter area) (RIOT-RKD)' showed as 'Site rep…OT-RKD)'."""
    from planner.ui import dialogs
    title = "Site report: Rockdale (ex-Whinstone, ex-Alcoa smelter area) (RIOT-RKD)"
    dlg = dialogs.ReportOptionsDialog(title, win)
    qtbot.addWidget(dlg)
    dlg.show()
    assert dlg.width() >= dlg.fontMetrics().horizontalAdvance(title) + 100


def test_cancelled_file_dialog_writes_nothing(win, tmp_path, monkeypatch, errors):
    Answers(monkeypatch, save=None)
    for a in win.export_menu.actions():
        if not a.isSeparator():
            a.trigger()
    assert list(tmp_path.iterdir()) == [] and errors == []


def test_save_as_from_the_menu(win, tmp_path, monkeypatch, errors):
    out = tmp_path / "review"  # no suffix typed: .gpkg added
    Answers(monkeypatch, save=out)
    win.save_as_action.trigger()
    saved = tmp_path / "review.gpkg"
    assert saved.is_file() and win.save_path == saved.absolute()
    with sqlite3.connect(saved) as con:
        assert con.execute("select count(*) from gpkg_contents").fetchone()[0] >= 1
    assert errors == []


def test_import_sites_and_layer_from_the_menu(win, tmp_path, monkeypatch, errors, shared_data, qtbot):
    n = len(win.project.portfolio)
    Answers(monkeypatch, open_=shared_data / "mining_sites_public.csv")
    win.import_sites_action.trigger()
    qtbot.waitUntil(lambda: len(win.project.portfolio) == n + 40, timeout=30_000)  # read on a worker
    layers = len(win.project.layers)
    Answers(monkeypatch, open_=shared_data / "tx_osm2017_hv_nodes.geojson", items={"Import layer": "substations"})
    win.import_layer_action.trigger()
    qtbot.waitUntil(lambda: len(win.project.layers) == layers + 1, timeout=30_000)
    assert win.project.layers["tx_osm2017_hv_nodes"].kind == "substations" and errors == []


def test_screen_region_from_the_menu(win, qtbot, monkeypatch):
    win.screen_region_action.trigger()
    dialog = win.screening_dialog
    assert dialog.isVisible()
    dialog.region_combo.setCurrentText("-100,31,-99,32")  # a 1x1 degree box: fast
    dialog.cell_spin.setValue(20.0)
    dialog.top_spin.setValue(3)
    dialog.run_button.click()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=60_000)  # screened on a worker
    assert dialog.candidate_list.count() >= 1
    n = len(win.project.portfolio)
    dialog.add_site_button.click()
    assert len(win.project.portfolio) == n + 1 and win.current_site.startswith("CAND-")
    dialog.close()


def test_delete_asks_first_and_says_how_to_undo(win, monkeypatch):
    from planner.ui import dialogs
    asked: list[str] = []
    answer = {"yes": False}
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, q: asked.append(q) or answer["yes"])
    n = len(win.portfolio)
    win.set_current_site(SID)
    win.delete_action.trigger()
    assert len(win.portfolio) == n and "Delete 1 site: " in asked[0] and SID in asked[0]  # refused: kept
    answer["yes"] = True
    win.delete_action.trigger()
    assert len(win.portfolio) == n - 1 and "Undo" in win.last_message
    win.undo_stack.undo()
    assert len(win.portfolio) == n


def test_f1_help_ctrl_f_filter_and_a_scrollable_about(win, qtbot, monkeypatch):
    from PySide6.QtGui import QKeySequence
    from planner.ui import dialogs
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(dialogs, "show_markdown", lambda parent, title, md: shown.append((title, md)))
    assert win.help_action.shortcut() == QKeySequence(QKeySequence.StandardKey.HelpContents)
    win.help_action.trigger()
    assert "help" in shown[-1][0] and "Ctrl+F" in shown[-1][1]
    win.about_action.trigger()
    assert shown[-1][0].startswith("About") and "| layer | source |" in shown[-1][1]  # Markdown tables
    dlg = dialogs.MarkdownDialog("About", shown[-1][1], win)
    qtbot.addWidget(dlg)
    text = dlg.browser.document().toPlainText()
    assert "Data attribution" in text and "| layer |" not in text  # rendered, not raw Markdown
    assert dlg.height() <= 700 and dlg.browser.verticalScrollBar() is not None
    dlg.show()  # it opens at the top (product name, version), not scrolled to the end
    qtbot.waitExposed(dlg)
    qtbot.wait(50)
    bar = dlg.browser.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == 0
    dlg.close()
    win.show()
    win.activateWindow()
    qtbot.waitExposed(win)
    win.find_action.trigger()
    qtbot.waitUntil(win.filter_edit.hasFocus)


def test_add_site_hint_is_cleared_after_placing(win):
    win.set_map_mode("add")
    assert "Click on the map" in win.statusBar().currentMessage()
    win.set_map_mode("browse")  # what placing the site (or Esc via the menu) does
    assert win.statusBar().currentMessage() == ""
    win.set_map_mode("add")
    win.map_view.map_clicked.emit(-101.9, 33.6)
    assert "Click on the map" not in win.statusBar().currentMessage() and win.map_view.mode == "browse"


def test_chart_labels_fit(qapp):
    """Lease-deal values sit inside their bars (clear of the reference lines), long messages wrap."""
    import pyqtgraph as pg
    from planner.model.assumptions import assumptions_from_settings
    from planner.model.chart_data import lease_deals_data
    from planner.plots import lease_deals_chart
    from planner.plots.base import MESSAGE_CHARS_PER_LINE, message_chart
    from planner.plots.workarounds import label_layer
    plot = pg.PlotItem()
    data = lease_deals_data(assumptions_from_settings({}))
    lease_deals_chart(plot, data)
    labels = [lab for lab in label_layer(plot).labels if lab[2].startswith("$")]
    assert len(labels) == len(data.labels)  # every bar, the top one included
    assert all(0 < x < v for (x, _, _, _, _, _), v in zip(labels, data.usd_m_per_mw_year))
    message = "Power capacity unknown: enter the site's gross MW (Power capacity) to compare the paths"
    message_chart(plot, "Paths", message)
    shown = label_layer(plot).labels[-1][2]
    assert shown.replace("\n", " ") == message and max(map(len, shown.split("\n"))) <= MESSAGE_CHARS_PER_LINE


def test_every_menu_action_runs_without_an_error(win, monkeypatch, qtbot):
    """Each action of every menu, fired as a click would, with every dialog answered 'Cancel'.

    pytest-qt fails the test on any exception raised in a slot (the broken snapshot action only
    printed a TypeError to stderr).
    """
    from PySide6.QtWidgets import QMenu
    from planner.ui import dialogs
    Answers(monkeypatch, save=None, report=None)
    monkeypatch.setattr(dialogs, "ask_report_options", lambda *a, **k: None)
    for name in ("ask_open_path", "ask_save_path", "ask_import_path", "ask_layer_kind", "ask_choice", "ask_bulk_edit"):
        monkeypatch.setattr(dialogs, name, lambda *a, **k: None)
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda *a, **k: False)
    shown: list[str] = []
    monkeypatch.setattr(dialogs, "show_markdown", lambda parent, title, md: shown.append(title))
    win.set_current_site(SID)
    last = {win.quit_action, win.new_action}  # they end or replace the project: fired at the end
    fired: list[str] = []

    def walk(menu: QMenu):
        for a in menu.actions():
            if a.menu() is not None:
                yield from walk(a.menu())
            elif not a.isSeparator() and a.isEnabled() and a not in last:
                yield a

    for menu_action in win.menuBar().actions():
        for a in walk(menu_action.menu()):
            a.trigger()
            fired.append(a.text())
    qtbot.wait(200)
    for a in (win.new_action, win.quit_action):
        a.trigger()
        fired.append(a.text())
    assert len(fired) >= 25 and {"&Help", "&About"} <= set(fired) and len(shown) == 2
    screening = getattr(win, "screening_dialog", None)
    if screening is not None:
        screening.close()
