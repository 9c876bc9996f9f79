"""One site's fields read the same in the site form, the sites table, the report and the map popup
(QA: the form showed "7.80 km" where the report and the map showed "7.8 km" for the same distance)."""
from __future__ import annotations

import re
from html import unescape

import pytest

from _report_fixtures import XSS_ID, small_project

pytestmark = pytest.mark.gui


def _popup_rows(html: str) -> dict[str, str]:
    return {unescape(k): unescape(v) for k, v in re.findall(r"<tr><th>(.*?)</th><td>(.*?)</td></tr>", html)}


def test_same_site_same_text_in_form_table_report_and_popup(qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QUndoStack
    from planner.model.fields import COMPUTED_FIELDS, FIELDS
    from planner.reports.content import build_site_report
    from planner.ui.site_form import SiteForm
    from planner.ui.site_table import SiteTableModel
    from planner.webmap.builder import site_popup

    project = small_project()
    site = project.portfolio.get(XSS_ID)
    stack = QUndoStack()
    form = SiteForm()
    qtbot.addWidget(form)
    form.set_portfolio(project.portfolio, stack)
    form.set_site(XSS_ID)
    table = SiteTableModel(project.portfolio, stack)
    row = project.portfolio.ids().index(XSS_ID)

    in_table = {c.spec.name for c in table.columns if c.spec is not None}

    def table_text(name: str) -> str | None:
        if name not in in_table:  # the table shows a selection of the computed fields
            return None
        return table.data(table.index(row, table.column_of(name)), Qt.ItemDataRole.DisplayRole)

    report = {a.label: f"{a.value} {a.unit}".rstrip() if a.known else a.value
              for a in build_site_report(project, XSS_ID).site.attributes}
    popup = _popup_rows(site_popup(project, site, None))

    known = [n for n in COMPUTED_FIELDS if site.get(n) is not None and FIELDS[n].label in report]
    assert {"dist_substation_km", "dist_fibre_km", "dist_line_69kv_km", "line_69kv_voltage_kv",
            "flare_volume_bcm"} <= set(known)
    # a distance of 1-10 km: the form gave it two decimals ("7.80 km"), the report and the map one
    assert [n for n in known if FIELDS[n].unit == "km" and 1 <= site.get(n) < 10], "pick another site"
    for name in known:
        label = FIELDS[name].label
        shown = form.computed_labels[name].text()
        assert shown == report[label], (name, shown, report[label])
        assert table_text(name) in (None, shown), (name, table_text(name), shown)
        if label in popup:
            assert popup[label] == shown, (name, popup[label], shown)
    # the popup's measures and the table's editable ones follow the same rule
    assert {"dist_substation_km", "dist_fibre_km"} <= in_table
    for name in ("power_capacity_mw", "energized_mw", "dist_substation_km", "dist_fibre_km"):
        label = FIELDS[name].label
        assert popup[label] == table_text(name) == report[label], name
