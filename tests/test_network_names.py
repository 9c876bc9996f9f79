"""Fibre networks by name, not by their Topology Zoo file code ("Tw" -> "TW Telecom"), with the same
text in the site report, the map popup, the map's fibre-route hover text and the site form."""
from __future__ import annotations

import html

import pytest

from planner.model.topology_zoo import TOPOLOGY_ZOO_NETWORKS, network_text, pop_text

from _report_fixtures import full_project, small_project
from test_ui_main_window import errors, fast_sample, _sample_once, make_window, window  # noqa: F401 - fixtures

SID = "IREN-SWT"  # Sweetwater, Texas: nearest fibre network "Tw", nearest PoP "Wichita Falls (Kdl)"
TW = "TW Telecom (Topology Zoo code Tw)"
POP = "Wichita Falls (Kentucky Datalink)"


def test_every_network_of_the_bundled_fibre_and_pop_layers_has_a_name():
    project = full_project()
    codes = set()
    for layer in project.layers.values():
        if layer.kind in ("fibre", "pops"):
            codes |= set(layer.gdf["network"].dropna().astype(str))
    assert codes and codes <= set(TOPOLOGY_ZOO_NETWORKS)
    stored = {s.fibre_network for s in project.portfolio if s.fibre_network}
    assert stored and stored <= set(TOPOLOGY_ZOO_NETWORKS)


def test_names_and_unknown_values():
    assert network_text("Tw") == TW
    assert network_text("Agis") == "AGIS"  # differs in case only: the name alone
    assert network_text("Lumen") == "Lumen"  # a user layer's own name is left alone
    assert pop_text("MIDnet, Lincoln, NE (Nsfnet)") == "MIDnet, Lincoln, NE (NSF)"
    assert pop_text("Somewhere (Not a code)") == "Somewhere (Not a code)"


def test_site_report_shows_the_network_name(tmp_path):
    from planner.reports import content as c
    from planner.reports.html import render_site_html

    project = small_project((SID,))
    assert project.portfolio.get(SID).fibre_network == "Tw"  # the stored value stays the data's code
    rep = c.build_site_report(project, SID)
    attrs = {a.label: a.value for a in rep.site.attributes}
    assert attrs["Nearest fibre network"] == TW and attrs["Nearest PoP name"] == POP
    page = render_site_html(rep)
    assert html.escape(TW) in page and html.escape(POP) in page
    assert ">Tw<" not in page and "(Kdl)" not in page
    # megawatts in the economics notes and drivers with separators and no stray ".0"
    assert "1,400 energized MW x $1.54M/MW" in page and "1400 energized" not in page
    assert "1,400 MW IT x $5.00M/MW" in page and "1,400.0 MW" not in page


def test_map_popup_and_fibre_route_hover_show_the_network_name():
    from planner.model.readiness import score_site
    from planner.webmap.builder import MapOptions, _encode_layer, site_popup

    project = full_project()
    site = project.portfolio.get(SID)
    popup = site_popup(project, site, score_site(site, project.portfolio.settings))
    assert f"<th>Nearest fibre network</th><td>{html.escape(TW)}</td>" in popup
    fibre = next(layer for layer in project.layers.values() if layer.kind == "fibre")
    tips = {t[2] for t in _encode_layer("fibre", fibre, MapOptions())["lines"] if t[2]}
    assert html.escape(TW) in tips and "Tw" not in tips
    pops = next(layer for layer in project.layers.values() if layer.kind == "pops")
    tips = {p[2] for p in _encode_layer("pops", pops, MapOptions())["points"] if p[2]}
    assert "Denton (Kentucky Datalink)" in tips and not any(t.endswith("(Kdl)") for t in tips)


@pytest.mark.gui
def test_site_form_shows_the_same_text(qtbot, window):  # noqa: F811
    window.set_current_site(SID)
    labels = window.site_form.computed_labels
    assert labels["fibre_network"].text() == TW and labels["pop_name"].text() == POP
