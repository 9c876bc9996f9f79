"""Report map pictures drawn without a browser (planner.reports.map_scene + render_qt.paint_scene):
the view arithmetic, what the legend lists, where the highlighted site lands, literal text."""
from __future__ import annotations

import math

import numpy as np
import pytest

from _report_fixtures import XSS, XSS_ID, full_project, small_project

W, H = 900, 580


def _site_scene(project, site_id, scores=None):
    from planner.model.readiness import score_portfolio
    from planner.reports.map_scene import LEGEND_WIDTH_PX, MapSource, View, site_scene
    from planner.reports.snapshot import SITE_LAYERS, site_radius_km, site_subtitle, zoom_for_radius

    site = project.portfolio.get(site_id)
    source = MapSource(project, SITE_LAYERS, scores or score_portfolio(project.portfolio))
    map_w = W - LEGEND_WIDTH_PX
    view = View(float(site.lat), float(site.lon), zoom_for_radius(float(site.lat), site_radius_km(site), map_w, H),
                map_w, H)
    return source, site_scene(source, site, view, site_subtitle(site))


def _rgb(image, x, y):
    c = image.pixelColor(int(x), int(y))
    return c.red(), c.green(), c.blue()


# -- pure: view arithmetic -------------------------------------------------------------------------
def test_view_projects_the_centre_to_the_middle_and_back():
    from planner.reports.map_scene import View

    v = View(30.5, -97.0, 9.25, 688, 580)
    x, y = v.project(-97.0, 30.5)
    assert (float(x), float(y)) == pytest.approx((344.0, 290.0))
    lon, lat = v.unproject(*v.project(np.array([-97.3, -96.6]), np.array([30.1, 30.9])))
    assert np.allclose(lon, [-97.3, -96.6]) and np.allclose(lat, [30.1, 30.9])
    # Leaflet: 256 px tiles, metres per px halve with each zoom step
    assert v.metres_per_px() == pytest.approx(156_543.034 * math.cos(math.radians(30.5)) / 2 ** 9.25, rel=1e-6)


def test_scale_bar_follows_leaflets_rounding():
    from planner.reports.map_scene import View, scale_bar

    v = View(0.0, 0.0, 10.0, 600, 400)  # ~152.9 m/px at the equator: 100 px ~ 15.3 km
    (mpx, mlabel), (ipx, ilabel) = scale_bar(v)
    assert mlabel == "10 km" and mpx == pytest.approx(10_000 / v.metres_per_px())
    assert ilabel == "5 mi" and ipx == pytest.approx(5 * 1609.344 / v.metres_per_px(), rel=1e-6)
    assert mpx <= 100 and ipx <= 100


def test_fitted_view_keeps_the_box_inside_the_padding():
    from planner.reports.map_scene import fitted_view

    box = (29.0, -104.0, 36.0, -94.0)  # south, west, north, east
    v = fitted_view(box, 688, 580, pad=(30, 80, 30, 200))
    xs, ys = v.project(np.array([box[1], box[3]]), np.array([box[2], box[0]]))
    assert xs[0] >= 30 - 1e-6 and xs[1] <= 688 - 30 + 1e-6
    assert ys[0] >= 80 - 1e-6 and ys[1] <= 580 - 200 + 1e-6
    assert v.zoom * 4 == int(v.zoom * 4)  # quarter steps, as the interactive map


# -- pure: what the scene holds ---------------------------------------------------------------------
def test_site_scene_highlights_the_site_in_the_middle_with_its_literal_name():
    project = small_project()
    _, scene = _site_scene(project, XSS_ID)
    hl = [m for m in scene.sites if m.highlighted]
    assert len(hl) == 1 and hl[0].site_id == XSS_ID
    assert (hl[0].x, hl[0].y) == pytest.approx((scene.view.width / 2, scene.view.height / 2))
    assert scene.title == XSS  # plain text for QPainter: not HTML-escaped, never parsed
    assert hl[0].label.startswith(XSS + " \u00b7 ")


def test_legend_lists_exactly_the_layers_drawn_in_the_view():
    from planner.webmap.styles import VOLTAGE_CLASSES

    project = full_project()
    for site_id in ("RIOT-RKD", "GLXY-HEL", "IREN-PG"):
        source, scene = _site_scene(project, site_id)
        drawn = scene.kinds_drawn
        titles = {lay.kind: lay.title for lay in source.layers}
        layer_rows = {r.label for s in scene.legend if s.title == "Layers" for r in s.rows}
        assert layer_rows == {titles[k] for k in drawn if k != "transmission"}, site_id
        tx = [s for s in scene.legend if s.title == titles["transmission"]]
        colours = {g.colour for g in scene.paths if g.kind == "transmission"}
        assert [r.colour for r in tx[0].rows] == [c for _, _, c in VOLTAGE_CLASSES if c in colours], site_id
        assert "stranded" not in drawn or any("Stranded" in r for r in layer_rows)
    # Helios sits in a stranded-energy region, Rockdale does not: the legend says so
    assert "stranded" in _site_scene(project, "GLXY-HEL")[1].kinds_drawn
    assert "stranded" not in _site_scene(project, "RIOT-RKD")[1].kinds_drawn


def test_overview_insets_the_far_sites_and_hides_substations_at_continental_zoom():
    from planner.model.readiness import score_portfolio
    from planner.reports.map_scene import MapSource, overview_scene
    from planner.reports.snapshot import PORTFOLIO_LAYERS, SITE_LAYERS, site_clusters

    project = full_project()
    clusters = site_clusters(project.portfolio)
    scene = overview_scene(MapSource(project, SITE_LAYERS | PORTFOLIO_LAYERS, score_portfolio(project.portfolio)),
                           clusters, W, H, "Overview")
    assert scene.view.zoom < 7 and "substations" not in scene.kinds_drawn  # hidden below zoom 7, as in the app
    assert len(scene.insets) == min(4, len(clusters) - 1) >= 2
    assert [i.label for i in scene.insets] == [c.label for c in clusters[1:5]]
    # no site of the main group under an inset or the title box
    boxes = [(i.x, i.y, i.scene.view.width, i.scene.view.height) for i in scene.insets] + [(10, 10, 480, 50)]
    main = {s.site_id for s in clusters[0].sites}
    marks = [m for m in scene.sites if m.site_id in main]
    assert len(marks) == len(main)
    for m in marks:
        for x, y, w, h in boxes:
            assert not (x <= m.x <= x + w and y <= m.y <= y + h), m.site_id
    counted = sum(int(r.label.rsplit("(", 1)[1].rstrip(")")) for r in scene.legend[0].rows if "(" in r.label)
    assert counted == sum(len(c.sites) for c in clusters[:5])  # main view and insets


# -- Qt: pixels --------------------------------------------------------------------------------------
@pytest.mark.gui
def test_painted_site_map_puts_the_highlight_at_the_site_and_the_legend_beside_the_map(qapp):
    from planner.reports.map_scene import HIGHLIGHT_COLOUR, LEGEND_WIDTH_PX
    from planner.reports.render_qt import is_blank, paint_scene

    project = small_project()
    _, scene = _site_scene(project, XSS_ID)
    image = paint_scene(scene, 2.0)
    assert (image.width(), image.height()) == (2 * W, 2 * H)
    assert not is_blank(image)
    hl = next(m for m in scene.sites if m.highlighted)
    cx, cy = 2 * hl.x, 2 * hl.y
    ring = _rgb(image, cx + 2 * (hl.radius + 1), cy)  # the 4 px outline just outside the marker
    want = tuple(int(HIGHLIGHT_COLOUR[i:i + 2], 16) for i in (1, 3, 5))
    assert all(abs(a - b) <= 40 for a, b in zip(ring, want)), ring
    fill = _rgb(image, cx, cy)
    r, g, b = (int(hl.fill[i:i + 2], 16) for i in (1, 3, 5))
    assert sum(abs(a - b_) for a, b_ in zip(fill, (r, g, b))) < 90, (fill, hl.fill)  # 0.85 opaque fill
    # the legend panel is right of the map: plain white with dark text, the map is not covered
    x0 = 2 * (W - LEGEND_WIDTH_PX) + 4
    panel = np.array([[sum(_rgb(image, x, y)) / 3 for x in range(x0, 2 * W, 6)] for y in range(0, 2 * H, 6)])
    assert (panel > 250).mean() > 0.7 and (panel < 120).any()


@pytest.mark.gui
def test_markup_in_a_site_name_is_drawn_as_text(qapp):
    """The title box of a name with markup is as wide as its literal text (a rich-text renderer
    would drop the tags and draw a much narrower box)."""
    import dataclasses

    from PySide6.QtGui import QFont, QFontMetricsF

    from planner.reports.render_qt import MAP_FONT, paint_scene

    project = small_project()
    _, scene = _site_scene(project, XSS_ID)
    widths = {}
    for title in (XSS, "x"):
        image = paint_scene(dataclasses.replace(scene, title=title, subtitle=""), 1.0)
        row = [sum(_rgb(image, x, 12)) / 3 for x in range(0, int(scene.view.width))]
        # above the text the box is white (~254) from x = 10; the map right of it is darker
        end = next(x for x in range(12, len(row)) if all(v < 248 for v in row[x:x + 3]))
        widths[title] = end
    f = QFont(MAP_FONT)
    f.setPixelSize(14)
    f.setBold(True)
    expected = QFontMetricsF(f).horizontalAdvance(XSS) - QFontMetricsF(f).horizontalAdvance("x")
    assert widths[XSS] - widths["x"] == pytest.approx(expected, abs=6)


@pytest.mark.gui
def test_render_site_maps_encodes_every_located_site_and_the_overview(qapp):
    from PySide6.QtGui import QImage

    from planner.reports.snapshot import render_site_maps

    project = small_project((XSS_ID, "CORZ-PEC", "IREN-CHI"))
    ids = [s.site_id for s in project.portfolio]
    maps = render_site_maps(project, ids, 700, 450, 1.0, portfolio_view=True, mime="image/jpeg")
    assert set(maps) == set(ids) | {"__portfolio__"}
    for key, data in maps.items():
        image = QImage.fromData(data, "JPEG")
        assert (image.width(), image.height()) == (700, 450), key


@pytest.mark.gui
def test_sites_without_layers_at_the_edges_of_the_world_still_draw(qapp):
    """No layers at all, a site on the antimeridian and one near the pole: a picture, no error."""
    from planner.gis.project import Project
    from planner.model.portfolio import Portfolio
    from planner.reports.render_qt import is_blank, paint_scene

    base = full_project().portfolio.get("RIOT-RKD")
    sites = [base.replace(site_id="EDGE-E", lon=179.95, lat=-16.5), base.replace(site_id="EDGE-N", lat=84.9, lon=10.0),
             base.replace(site_id="EDGE-W", lon=-179.99, lat=51.0, power_capacity_mw=None, energized_mw=None)]
    project = Project(None, Portfolio(sites, dict(full_project().portfolio.settings), "Edges"), {})
    for sid in ("EDGE-E", "EDGE-N", "EDGE-W"):
        _, scene = _site_scene(project, sid)
        assert scene.paths == () and [m.site_id for m in scene.sites if m.highlighted] == [sid]
        assert [s.title for s in scene.legend] == ["Sites by readiness"]
        assert not is_blank(paint_scene(scene, 1.0))


def test_a_value_coloured_layer_gets_its_class_colours_and_legend_rows():
    import geopandas as gpd
    import shapely as sh

    from planner.gis.project import MapLayer, Project
    from planner.webmap.styles import ramp_colours

    base = full_project()
    site = base.portfolio.get("RIOT-RKD")
    lons = float(site.lon) + np.linspace(-0.1, 0.1, 9)
    gdf = gpd.GeoDataFrame({"cost": [1.0, 2, 3, 4, 5, 6, 7, 8, float("nan")]},
                           geometry=list(sh.points(lons, np.full(9, float(site.lat) + 0.05))), crs=4326)
    layer = MapLayer("costs", "other", "Land cost <i>per acre</i>", gdf,
                     style={"color_by": "cost", "classes": 4, "ramp": "ylorrd", "unit": "$k"})
    project = Project(None, base.portfolio, {"costs": layer})
    _, scene = _site_scene(project, "RIOT-RKD")
    pts = next(g for g in scene.points if g.kind == "other")
    colours = ramp_colours("ylorrd", 4)
    assert set(pts.fills) <= set(colours) | {"#bdbdbd"} and len(set(pts.fills)) >= 4
    sec = next(s for s in scene.legend if s.title == "Land cost <i>per acre</i>")  # literal, drawn as text
    assert [r.colour for r in sec.rows] == colours + ["#bdbdbd"] and sec.rows[0].label.endswith("$k")
    assert sec.rows[-1].label == "no cost value"


def test_transmission_is_drawn_lowest_voltage_first():
    from planner.webmap.styles import VOLTAGE_CLASSES

    _, scene = _site_scene(full_project(), "GLXY-HEL")
    drawn = [g.colour for g in scene.paths if g.kind == "transmission"]
    order = [VOLTAGE_CLASSES[-1][2]] + [c for _, _, c in VOLTAGE_CLASSES[:-1]]  # unknown, 69-138 ... 500+
    assert len(drawn) >= 2 and drawn == [c for c in order if c in drawn]


def test_credits_name_only_the_layers_in_the_picture():
    project = full_project()
    source, scene = _site_scene(project, "HIVE-YGZ")  # Paraguay: no US states, no US fibre in view
    drawn = scene.kinds_drawn
    assert "states" not in drawn and "fibre" not in drawn
    assert not any("Census" in c or "Topology Zoo" in c for c in scene.credits), scene.credits
    assert any("OpenStreetMap" in c for c in scene.credits) and any("Natural Earth" in c for c in scene.credits)


def test_odd_layers_draw_without_error():
    """An empty layer, a self-crossing polygon, a geometry collection and 3D lines around the site."""
    import geopandas as gpd
    import shapely as sh

    from planner.gis.project import MapLayer, Project

    base = full_project()
    site = base.portfolio.get("RIOT-RKD")
    x, y = float(site.lon), float(site.lat)
    bowtie = sh.Polygon([(x - .1, y - .1), (x + .1, y + .1), (x + .1, y - .1), (x - .1, y + .1)])
    mixed = sh.GeometryCollection([sh.Point(x, y + .02), sh.LineString([(x - .05, y), (x + .05, y + .01)])])
    line3d = sh.LineString([(x - .2, y - .03, 100.0), (x + .2, y - .03, 120.0)])
    layers = {
        "empty": MapLayer("empty", "fibre", "Nothing here", gpd.GeoDataFrame(geometry=[], crs=4326)),
        "odd": MapLayer("odd", "other", "Odd shapes", gpd.GeoDataFrame(geometry=[bowtie, mixed, line3d], crs=4326)),
    }
    _, scene = _site_scene(Project(None, base.portfolio, layers), "RIOT-RKD")
    assert scene.kinds_drawn == {"other"}
    assert {r.label for s in scene.legend if s.title == "Layers" for r in s.rows} == {"Odd shapes"}
    assert any(g.closed for g in scene.paths) and any(not g.closed for g in scene.paths)
