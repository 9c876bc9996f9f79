"""Report content and HTML (pure, no Qt): formatting, unknowns, escaping, ranking and aggregates."""
from __future__ import annotations

import re

import pytest

from _report_fixtures import XSS, XSS_ID, small_project
from planner.reports import content as c
from planner.reports.html import render_portfolio_html, render_site_html


@pytest.fixture(scope="module")
def project():
    return small_project()


@pytest.fixture(scope="module")
def site_report(project):
    return c.build_site_report(project, XSS_ID)


@pytest.mark.parametrize("value, expected", [
    (12_345_678, "$12.3M"), (-752_812_632, "-$752.8M"), (5_144_999_999.9, "$5.14B"), (450_000, "$450k"),
    (950, "$950"), (0, "$0"), (None, "unknown"), (float("nan"), "unknown")])
def test_fmt_usd(value, expected):
    assert c.fmt_usd(value) == expected


def test_units_and_separators():
    assert c.fmt_kv(345.0) == "345 kV"
    assert c.fmt_km(1.234) == "1.2 km"
    assert c.fmt_km(9.1248) == "9.1 km"
    assert c.fmt_mw(1234.0) == "1,234 MW"
    assert c.fmt_mw(0.0) == "0 MW"  # a known zero stays 0 ...
    assert c.fmt_mw(None) == "unknown"  # ... and unknown is never 0
    assert c.fmt_months(1) == "1 month" and c.fmt_months(18.4) == "18 months"
    assert c.fmt_fraction_pct(0.057) == "5.7 %"
    assert c.fmt_field("substation_owned", False) == "no"
    assert c.fmt_field("interconnection_status", "in_queue") == "in queue"
    assert c.fmt_field("labour_rating", 4) == "4 of 5"


def test_site_content_figures(site_report, project):
    s = site_report.site
    site = project.portfolio.get(XSS_ID)
    assert s.name == XSS
    from planner.model.readiness import score_site
    r = score_site(site, project.portfolio.settings)
    assert s.total == f"{r.total:.0f}" and s.class_label == r.class_label
    assert len(s.criteria) == len(r.criteria)
    assert [u.label for u in s.upgrades] == [u.label for u in r.upgrades] and s.upgrades
    summary = {k.label: k.value for k in s.summary}
    assert summary["Energized"] == c.fmt_mw(site.energized_mw) and summary["Energized"].endswith(" MW")
    attrs = {a.label: a for a in s.attributes}
    assert (attrs["Substation high-side voltage"].value, attrs["Substation high-side voltage"].unit) == ("345", "kV")
    assert attrs["Water volume available"].value == "unknown" and not attrs["Water volume available"].known
    assert attrs["Nearest substation"].unit == "km" and re.fullmatch(r"[\d,.]+", attrs["Nearest substation"].value)
    assert attrs["Nearest substation"].source.startswith("computed from")
    assert all(u.startswith("https://") for u in s.sources) and s.sources
    econ = dict(s.economics.rows)
    assert set(econ) >= {"Initial capex (spread over the build)", "IRR", "Value of an electron",
                         "NPV without terminal value", "Terminal value (present value, share of NPV)", "Minimum DSCR"}
    assert all(len(v) == 4 for v in econ.values())                  # mining, AI lease, hybrid, sell
    assert s.economics.paths[-1] == "Sell the site"
    drivers = {d[1]: d for d in s.economics.drivers}
    assert drivers["Lease term"][3] == "yr" and drivers["Lease term"][4]     # unit and source
    assert "Build to first AI capacity" in drivers
    assert {a.key for a in site_report.assumptions} >= {"btc_price_usd", "lease_rate_usd_per_kw_month"}
    assert any("OpenStreetMap" in a.credit for a in site_report.attributions)


def test_attributes_table_shows_each_unit_once(site_report):
    """The printed attributes table read "345 kV | kV": the number goes in Value, its unit once in Unit."""
    html = render_site_html(site_report)
    table = html[html.index('<table class="data attrs">'):]
    table = table[:table.index("</table>")]
    rows = re.findall(r"<tr[^>]*><td>([^<]*)</td>\s*<td>([^<]*)</td><td>([^<]*)</td>", table)
    cells = {label: (value, unit) for label, value, unit in rows}
    assert cells["Substation high-side voltage"] == ("345", "kV")
    assert cells["Land"] == ("265", "acres")
    assert cells["All-in power price"] == ("38.5", "$/MWh")
    assert cells["Water volume available"] == ("unknown", "m3/yr")  # an unknown still says what unit it wants
    for label, (value, unit) in cells.items():
        assert not (unit and value.endswith(unit)), (label, value, unit)


def test_unknown_power_shows_unknown_not_zero(project):
    site = project.portfolio.get("CORZ-PEC").replace(energized_mw=None, pipeline_mw=None, power_capacity_mw=None)
    project2 = small_project(("CORZ-PEC",))
    project2.portfolio.replace_sites([site])
    rep = c.build_site_report(project2, "CORZ-PEC")
    summary = {k.label: k.value for k in rep.site.summary}
    assert summary["Energized"] == summary["Gross capacity"] == "unknown"
    assert rep.site.economics.unavailable_reason  # no MW: no economics, rather than zeros
    html = render_site_html(rep)
    assert not re.search(r"(?<![\d,.])0 MW", html)


def test_site_html_escapes_everything(site_report):
    html = render_site_html(site_report)
    assert XSS not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "Test &lt;b&gt;portfolio&lt;/b&gt;" in html
    assert "<script" not in html.lower()
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing fetched from the network
    assert "@page" in html and "unknown" in html


def test_paper_sizes(project):
    a4 = c.build_site_report(project, XSS_ID, paper="a4")
    letter = c.build_site_report(project, XSS_ID, paper="Letter")
    assert letter.meta.paper == "letter"
    assert "width: 186.0mm" in render_site_html(a4) and "width: 191.9mm" in render_site_html(letter)
    with pytest.raises(c.ReportError, match="use a4 or letter"):
        c.build_site_report(project, XSS_ID, paper="a3")


def test_unknown_site_lists_close_matches(project):
    with pytest.raises(c.ReportError, match=r"no site with site_id 'RIOT-RKX'; did you mean RIOT-RKD"):
        c.build_site_report(project, "RIOT-RKX")
    with pytest.raises(c.ReportError, match="did you mean CORZ-PEC"):
        c.find_site(project.portfolio, "corz-pec")
    with pytest.raises(c.ReportError, match="choose one of: ") as err:  # QA: NOPE was 'did you mean CORZ-PEC?'
        c.find_site(project.portfolio, "NOPE")
    assert "did you mean" not in str(err.value)


def test_portfolio_content_ranking_and_aggregates(project):
    rep = c.build_portfolio_report(project, atlas=True)
    assert [r.rank for r in rep.ranking] == [1, 2, 3]
    assert {r.site_id for r in rep.ranking} == set(project.portfolio.ids())
    assert [s.site_id for s in rep.atlas] == [r.site_id for r in rep.ranking]
    known = [s.energized_mw for s in project.portfolio if s.energized_mw is not None]
    assert sum(a.energized_mw for a in rep.by_class) == pytest.approx(sum(known))
    assert sum(a.sites for a in rep.by_region) == 3
    unknown = sum(1 for s in project.portfolio if s.energized_mw is None)
    total = {k.label: k.value for k in rep.summary}["Energized"]
    assert total.startswith(c.fmt_mw(sum(known))) and (f"+{unknown} unknown" in total) == bool(unknown)
    html = render_portfolio_html(rep)
    assert XSS not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert html.count('class="site atlas-page"') == 3
    assert "image not rendered" in html  # slots without pictures are labelled, not silently empty


def test_attribution_table_parses_bundled_file():
    rows = c.load_attributions()
    layers = {r.layer for r in rows}
    assert any("transmission" in name for name in layers) and any("fibre" in name for name in layers)
    assert c.parse_attributions("| layer | source | licence | credit |\n|---|---|---|---|\n| a | b | c | d |") == \
        [c.Attribution("a", "b", "c", "d")]


def test_site_report_shows_band_and_what_to_find_out_next(project):
    from html import escape

    from planner.model.readiness import next_facts, score_site
    sid = "CORZ-PEC"
    rep = c.build_site_report(project, sid)
    site = project.portfolio.get(sid)
    r = score_site(site, project.portfolio.settings)
    facts = next_facts(site, project.portfolio.settings, result=r)
    assert r.total_low < r.total_high and facts
    assert rep.site.band == f"band {r.total_low:.0f}-{r.total_high:.0f}"
    assert rep.site.next_facts[0] == facts[0].sentence
    html = render_site_html(rep)
    assert rep.site.band in html and "What to find out next" in html
    assert escape(facts[0].sentence, quote=False) in html
    row = next(x for x in rep.site.criteria if x.label == "Grid proximity")
    crit = r.criterion("grid_proximity")
    assert row.score == (f"{crit.score:.0f}" if crit.low == crit.high else
                         f"{crit.score:.0f} ({crit.low:.0f}-{crit.high:.0f})")
