"""Injection: HTML/JS in attribute values and layer titles reaches every surface as literal text.

Complements tests/test_webmap.py (map JSON/legend escaping), tests/test_map_view.py (popups in
WebEngine, bridge validation, navigation lock) and tests/test_reports_*.py (a hostile site *name*).
Here: every site text field in the reports and the HTML export, and the Qt layers panel and table.
"""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from planner.model.portfolio import Portfolio
from planner.model.site import Site

XSS = "<img src=x onerror=alert(1)>"
TEXT_FIELDS = ("name", "operator", "notes", "sources", "ai_partner", "locality", "admin1", "asic_model")


def _payload(field: str) -> str:
    # one distinct payload per field so each can be traced; a quote and an ampersand test attribute escaping
    return f'{XSS}"&{field}</script><script>window.__{field}=1</script>'


@pytest.fixture(scope="module")
def hostile_project():
    from _report_fixtures import _sample

    from planner.gis.project import Project

    sample = _sample()
    base = sample.portfolio.get("RIOT-RKD")
    evil = base.replace(**{f: _payload(f) for f in TEXT_FIELDS})
    portfolio = Portfolio([evil, sample.portfolio.get("CORZ-PEC")], dict(sample.portfolio.settings),
                          f"Portfolio {XSS}")
    layers = {n: lyr for n, lyr in sample.layers.items() if lyr.kind in ("states", "transmission")}
    return Project(None, portfolio, layers)


def _assert_no_raw_payload(text: str) -> None:
    assert XSS not in text
    for f in TEXT_FIELDS:
        assert f"<script>window.__{f}=1</script>" not in text, f


def test_site_report_escapes_every_text_field(hostile_project):
    from planner.reports.content import build_site_report
    from planner.reports.html import render_site_html

    page = render_site_html(build_site_report(hostile_project, "RIOT-RKD"))
    _assert_no_raw_payload(page)
    assert len(re.findall(r"<script\b", page, re.IGNORECASE)) == 0
    for f in ("name", "operator", "notes", "ai_partner", "locality"):
        assert f"&lt;script&gt;window.__{f}=1&lt;/script&gt;" in page, f  # shown, as text


def test_portfolio_report_escapes_every_text_field(hostile_project):
    from planner.reports.content import build_portfolio_report
    from planner.reports.html import render_portfolio_html

    page = render_portfolio_html(build_portfolio_report(hostile_project))
    _assert_no_raw_payload(page)
    assert "<script" not in page.lower()
    assert "Portfolio &lt;img src=x onerror=alert(1)&gt;" in page


def test_html_export_escapes_every_text_field(hostile_project, tmp_path):
    from planner.reports.snapshot import export_map_html

    page = export_map_html(hostile_project, tmp_path / "map.html").read_text(encoding="utf-8")
    _assert_no_raw_payload(page)
    data = re.search(r'<script type="application/json" id="planner-data">(.*?)</script>', page, re.DOTALL).group(1)
    assert "<" not in data and ">" not in data  # nothing inside the data block can close it
    # the page title is the portfolio name, escaped
    title = re.search(r"<title>(.*?)</title>", page, re.DOTALL)
    assert title is None or XSS not in title.group(1)


def test_csv_and_geojson_export_keep_literal_text(hostile_project, tmp_path):
    import geopandas as gpd
    import pandas as pd

    from planner.reports.export import export_sites

    out = export_sites(hostile_project, tmp_path / "sites.csv", economics=False)
    row = pd.read_csv(out, dtype=str).set_index("site_id").loc["RIOT-RKD"]
    for f in TEXT_FIELDS:
        assert row[f] == _payload(f), f  # data exports are data: the literal value, not HTML
    gj = gpd.read_file(export_sites(hostile_project, tmp_path / "sites.geojson", economics=False))
    assert gj.set_index("site_id").loc["RIOT-RKD", "notes"] == _payload("notes")


# -- Qt surfaces ----------------------------------------------------------------------------------
def _as_user_sees(text: str) -> str:
    """What a Qt label/tooltip shows for ``text``: Qt renders it as HTML when it looks like rich text."""
    from PySide6.QtGui import Qt as QtGuiQt
    from PySide6.QtGui import QTextDocument

    if not QtGuiQt.mightBeRichText(text):
        return text
    doc = QTextDocument()
    doc.setHtml(text)
    return doc.toPlainText()


@pytest.mark.gui
def test_layers_panel_shows_hostile_title_as_plain_text(qtbot):
    import geopandas as gpd
    import shapely

    from planner.ui.layers_panel import LayersPanel

    gdf = gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.Point(-97, 30)], crs=4326)
    title = f"Lines {XSS} <b>bold</b>"
    layer = SimpleNamespace(name="lines", kind="transmission", title=title, gdf=gdf, source=f"src {XSS}", style={})
    panel = LayersPanel()
    qtbot.addWidget(panel)
    panel.set_layers({"lines": layer})
    item = panel.list.item(0)
    assert item.text() == f"{title}  [transmission]"  # QListWidgetItem text is never HTML
    shown = _as_user_sees(item.toolTip())
    assert title in shown and f"src {XSS}" in shown  # the tooltip is rich text, escaped: shows the literal


@pytest.fixture
def hostile_table(qtbot):
    from PySide6.QtGui import QUndoStack

    from planner.ui.site_table import SiteTableModel

    site = Site.create(site_id="EVIL-1", name=f"{XSS} <b>bold</b>", operator=_payload("operator"),
                       lon=-97.0, lat=30.6, power_capacity_mw=100)
    return SiteTableModel(Portfolio([site]), QUndoStack())


@pytest.mark.gui
def test_table_model_returns_the_literal_string(hostile_table):
    from PySide6.QtCore import Qt

    m = hostile_table
    name = m.index(0, m.column_of("name"))
    assert m.data(name, Qt.ItemDataRole.DisplayRole) == f"{XSS} <b>bold</b>"
    assert m.data(name, Qt.ItemDataRole.EditRole) == f"{XSS} <b>bold</b>"
    assert m.data(m.index(0, m.column_of("operator")), Qt.ItemDataRole.DisplayRole) == _payload("operator")


@pytest.mark.gui
def test_table_tooltip_shows_the_literal_string(hostile_table):
    from PySide6.QtCore import Qt

    m = hostile_table
    tip = m.data(m.index(0, m.column_of("name")), Qt.ItemDataRole.ToolTipRole)
    assert f"{XSS} <b>bold</b>" in _as_user_sees(tip)


def test_csv_export_defuses_spreadsheet_formulas(hostile_project, tmp_path):
    """A value that a spreadsheet would evaluate is written with a leading apostrophe (CSV injection)."""
    import pandas as pd

    from planner.reports.export import export_sites

    sid = hostile_project.portfolio.ids()[0]
    site = hostile_project.portfolio.get(sid)
    hostile_project.portfolio.replace_sites([site.replace(notes='=HYPERLINK("http://evil.example","x")',
                                                          operator="@SUM(A1:A9)")])
    out = export_sites(hostile_project, tmp_path / "sites.csv", economics=False)
    row = pd.read_csv(out, dtype=str).set_index("site_id").loc[sid]
    assert row["notes"] == '\'=HYPERLINK("http://evil.example","x")'
    assert row["operator"] == "'@SUM(A1:A9)"
    assert float(pd.read_csv(out).set_index("site_id").loc[sid, "lon"]) == site.lon  # numbers untouched
