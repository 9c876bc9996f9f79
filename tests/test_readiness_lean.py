"""Undecided sites show which way they lean: model (class at the expected total, texts, filter keys),
map markers, legend and popup (builder output), sites table text and class filter, status bar text."""
from __future__ import annotations

import html
import json
import re
from types import SimpleNamespace

import pytest

from planner.model.portfolio import Portfolio
from planner.model.readiness import (LEANING_FILTERS, READINESS_COLOURS, class_keys, counts_text, next_facts,
                                     score_portfolio, score_site)
from planner.model.site import Site
from planner.webmap import MapOptions, build_map
from planner.webmap.builder import SITE_OUTLINE, UNDECIDED_OUTLINE_PX, marker_style, sites_update


def _sites():
    # U: big energized campus, almost nothing else known -> band crosses 40, expected above 40
    # C: fully convertible on the low end; M: fails the 20 MW gate -> mining only (decided)
    return [
        Site.create(site_id="U", name="Undecided campus", power_capacity_mw=300, energized_mw=200,
                    lon=-101.5, lat=31.9),
        Site.create(site_id="M", name="Tiny", power_capacity_mw=10, lon=-100.0, lat=32.0),
        Site.create(site_id="N", name="No place", power_capacity_mw=50),
    ]


@pytest.fixture(scope="module")
def project():
    return SimpleNamespace(portfolio=Portfolio(_sites()), layers={})


@pytest.fixture(scope="module")
def scores(project):
    return score_portfolio(project.portfolio)


def _data(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="planner-data">(.*?)</script>', html, re.S)[1])


def test_undecided_site_leans_to_the_class_at_its_expected_total(scores):
    u, m = scores["U"], scores["M"]
    assert u.klass == "insufficient_data" and u.total_low < 40 <= u.total < u.total_high
    assert u.class_expected == "convertible_with_upgrades" and u.leans == "convertible_with_upgrades"
    assert u.class_text == "Insufficient data (leans Convertible)"
    assert m.klass == "mining_only" and m.leans is None and m.class_text == "Mining only"  # decided: no lean
    assert class_keys(u) == {"insufficient_data", "insufficient_data:convertible_with_upgrades"}
    assert class_keys(m) == {"mining_only"} and class_keys(None) == set()
    assert "insufficient_data:convertible_with_upgrades" in LEANING_FILTERS
    assert u.to_dict()["class_expected"] == "convertible_with_upgrades"  # planner score --json carries it


def test_a_decided_site_has_no_lean_even_when_its_expected_class_differs():
    strong = Site.create(site_id="S", name="S", power_capacity_mw=10, energized_mw=10)
    r = score_site(strong)
    assert r.klass == "mining_only" and r.leans is None


def test_status_counts_text(scores):
    # N (no location, 50 MW) is undecided too; no class with 0 sites is listed ("0 ready now" is gone)
    assert counts_text(scores.values()) == "1 mining only (decided) \u00b7 2 undecided (2 lean convertible)"
    assert counts_text([]) == "no readiness scores"


def test_marker_style_keeps_the_decided_class_as_fill_and_shows_the_lean_as_outline():
    grey, amber = READINESS_COLOURS["insufficient_data"], READINESS_COLOURS["convertible_with_upgrades"]
    assert marker_style("insufficient_data", "convertible_with_upgrades") == \
        {"c": grey, "o": amber, "w": UNDECIDED_OUTLINE_PX, "d": False}
    assert marker_style("convertible_with_upgrades") == {"c": amber, "o": SITE_OUTLINE, "w": 1, "d": False}
    assert marker_style(None)["c"] == READINESS_COLOURS["not_scored"]


def test_map_markers_legend_and_popup(project, scores):
    html = build_map(project, scores)
    data = _data(html)
    sites = {e["id"]: e for e in data["sites"]}
    u = scores["U"]
    assert sites["U"]["c"] == READINESS_COLOURS["insufficient_data"]
    assert sites["U"]["o"] == READINESS_COLOURS["convertible_with_upgrades"] and sites["U"]["w"] == UNDECIDED_OUTLINE_PX
    assert sites["U"]["lean"] == "convertible_with_upgrades" and "leans Convertible" in sites["U"]["tip"]
    assert sites["M"]["o"] == SITE_OUTLINE and sites["M"]["lean"] is None
    assert (f"Insufficient data \u2014 leans Convertible with upgrades (expected {u.total:.0f}, "
            f"band {round(u.total_low)}-{round(u.total_high)})") in sites["U"]["pop"]
    assert "Next fact" not in sites["U"]["pop"]  # the app's map: the form and panel show it
    legend = data["legend_html"]
    assert "Undecided: leans Convertible (outline) (1)" in legend
    assert "the score band crosses the keep-mining line (40)" in legend
    assert "Insufficient data (" not in legend  # every undecided site is counted under its lean


def test_exported_map_popup_names_the_next_fact(project, scores):
    data = _data(build_map(project, scores, MapOptions(popup_next_fact=True)))
    pop = next(e["pop"] for e in data["sites"] if e["id"] == "U")
    first = next_facts(project.portfolio.get("U"), project.portfolio.settings, result=scores["U"])[0]
    assert f"<th>Next fact</th><td>{html.escape(first.sentence, quote=False)}</td>" in pop


def test_sites_update_carries_the_style_and_legend(project, scores):
    upd = sites_update(project, scores, [])
    assert {e["id"]: e["o"] for e in upd["sites"]}["U"] == READINESS_COLOURS["convertible_with_upgrades"]
    assert "Undecided: leans Convertible (outline)" in upd["legend_html"]


@pytest.mark.gui
def test_sites_table_text_and_lean_filter(qapp, project, scores):
    from planner.ui.site_table import SiteFilterProxy, SiteTableModel
    model = SiteTableModel(project.portfolio)
    model.set_scores(scores)
    col = model.column_of("score:class_label")
    texts = {model.site_id_at(r): model.index(r, col).data() for r in range(model.rowCount())}
    assert texts["U"] == "Insufficient data (leans Convertible)" and texts["M"] == "Mining only"
    proxy = SiteFilterProxy()
    proxy.setSourceModel(model)
    proxy.set_classes({"insufficient_data:convertible_with_upgrades"})
    ids = {model.site_id_at(proxy.mapToSource(proxy.index(r, 0)).row()) for r in range(proxy.rowCount())}
    assert ids == {"U", "N"}
    proxy.set_classes({"insufficient_data"})
    ids = {model.site_id_at(proxy.mapToSource(proxy.index(r, 0)).row()) for r in range(proxy.rowCount())}
    assert ids == {"U", "N"}
    proxy.set_classes({"insufficient_data:mining_only"})
    assert proxy.rowCount() == 0


def test_decision_gaps():
    from planner.model.readiness import decision_gaps
    gaps = decision_gaps(_sites()[2])  # N: 50 MW, no location
    assert len(gaps) == 1 and gaps[0].startswith("no location")
    assert decision_gaps(Site.create(site_id="X", name="X"))[1].startswith("no MW")
    assert decision_gaps(_sites()[0]) == []


@pytest.mark.gui
def test_problems_panel_lists_data_gaps_with_the_next_fact(qtbot):
    from planner.gis.project import Project
    from planner.session import Session
    from planner.ui.problems_panel import GAPS_HEADER, ProblemsPanel
    sites = _sites() + [Site.create(site_id="Z", name="No MW", lon=-99.0, lat=33.0)]
    session = Session(Project(portfolio=Portfolio(sites)))
    panel = ProblemsPanel(session)
    qtbot.addWidget(panel)
    texts = [panel.list.item(i).text() for i in range(panel.list.count())]
    assert texts[0] == f"{GAPS_HEADER} (2 sites)"
    assert "0 problems to fix; 2 sites with data gaps that block decisions" == panel.summary.text()
    want = {"N": next_facts(session.portfolio.get("N"), session.portfolio.settings)[0].sentence,
            "Z": next_facts(session.portfolio.get("Z"), session.portfolio.settings)[0].sentence}

    def item(sid):
        return next(panel.list.item(i) for i in range(panel.list.count()) if panel.list.item(i).text().startswith(sid))
    # a hidden list (a tab behind the sites at start-up) computes no next facts; shown, it fills them in
    qtbot.wait(50)
    assert panel.facts_pending and "next:" not in item("N").text()
    panel.show()
    qtbot.waitUntil(lambda: "next:" in item("N").text() and "next:" in item("Z").text(), timeout=5000)
    assert not panel.facts_pending
    assert item("N").text() == ("N No place: no location: not on the map, and its grid, fibre and metro distances "
                                f"cannot be measured (enter lon/lat, then run proximity) \u2014 next: {want['N']}")
    assert "Z No MW: no MW (gross, energized and pipeline unknown)" in item("Z").text()
    assert want["Z"] in item("Z").text()
    activated = []
    panel.site_activated.connect(activated.append)
    panel.list.itemClicked.emit(item("Z"))
    assert activated == ["Z"]
    # entering the MW closes the gap: the site leaves the section
    session.portfolio.replace_sites([Site.create(site_id="Z", name="No MW", lon=-99.0, lat=33.0, power_capacity_mw=80)])
    texts = [panel.list.item(i).text() for i in range(panel.list.count())]
    assert texts[0] == f"{GAPS_HEADER} (1 site)" and not any(t.startswith("Z ") for t in texts)


def test_next_facts_are_remembered_by_site_content_never_stale():
    u = _sites()[0]
    first = next_facts(u)
    assert next_facts(u) == first and next_facts(u) is not first  # a copy: callers may change their list
    known = Site.create(**{**u.to_dict(), "cooling_current": "direct_to_chip"})
    assert all(f.key != "cooling_current" for f in next_facts(known))
    assert any(f.key == "cooling_current" for f in next_facts(u))


def test_cli_ranking_and_site_detail_say_which_way_an_undecided_site_leans(scores):
    from planner.cmd.score import format_ranking, format_site
    text = format_ranking(list(scores.values()))
    row = next(line for line in text.splitlines() if " U " in line)
    assert "Insufficient data (leans Convertible)" in row
    assert text.splitlines()[0].index("known") == row.index("%") - 4  # the wider class column stays aligned
    assert "Insufficient data (leans Convertible), data completeness" in format_site(scores["U"])
