"""The map in QtWebEngine (offscreen): loads offline, counts features, relays clicks, stays locked down."""
from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

pytest.importorskip("PySide6.QtWebEngineWidgets")
pytestmark = pytest.mark.gui

from pyproj import Geod  # noqa: E402

from planner.model.portfolio import Portfolio  # noqa: E402
from planner.model.site import Site  # noqa: E402
from planner.ui.map_view import MapView  # noqa: E402
from planner.webmap.builder import build_map  # noqa: E402

HOSTILE = "<img src=x onerror=window.__xss=1>"
TIMEOUT_MS = 20_000


def _open(project, scores=None):
    view = MapView()
    view.resize(900, 600)
    view.show()
    loads = []
    view.load_finished.connect(loads.append)
    view.set_project(project, scores)
    assert view.wait_ready(TIMEOUT_MS), view.console_messages
    assert loads == [True]
    return view


def _close(view):
    from PySide6.QtCore import QCoreApplication, QEvent
    view.release()
    view.close()
    view.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QCoreApplication.processEvents()


@pytest.fixture(scope="module")
def sample():
    from planner.gis import project as project_mod
    from planner.assets import sample_project
    return project_mod.open_project(sample_project())


@pytest.fixture(scope="module")
def _sample_view(qapp, sample):
    view = _open(sample)
    yield view
    _close(view)


@pytest.fixture
def sample_view(qtbot, _sample_view):
    """One loaded sample map shared by the tests of this module, reset to browse mode."""
    qtbot.waitUntil(lambda: _sample_view.eval_js("!!plannerMap.bridgeReady") is True, timeout=TIMEOUT_MS)
    _sample_view.set_mode("browse")
    yield _sample_view
    _sample_view.set_mode("browse")


@pytest.fixture
def hostile_view(qtbot, shared_data):
    import geopandas as gpd
    states = gpd.read_file(shared_data / "us_states_census2016_simplified.geojson")
    sites = [Site.create(site_id="EVIL-1", name=HOSTILE, operator=HOSTILE, lat=31.9, lon=-102.1,
                         power_capacity_mw=300),
             Site.create(site_id="OK-1", name="Plain site", lat=32.4, lon=-100.3, power_capacity_mw=90)]
    layer = SimpleNamespace(name="states", kind="states", title=f"States {HOSTILE}", gdf=states,
                            source=HOSTILE, style={})
    view = _open(SimpleNamespace(portfolio=Portfolio(sites), layers={"states": layer}))
    qtbot.waitUntil(lambda: view.eval_js("!!plannerMap.bridgeReady") is True, timeout=TIMEOUT_MS)
    yield view
    _close(view)


def _spin(qtbot, ms=300):
    qtbot.wait(ms)


def test_sample_map_loads_with_all_features(sample_view, sample):
    counts = json.loads(sample_view.eval_js("plannerMap.countFeatures()"))
    located = [s for s in sample.portfolio if s.lat is not None and s.lon is not None]
    assert counts["sites"] == len(located) > 0
    # every encoded line piece is drawn (above the merge threshold the builder merges lines per voltage class)
    built = build_map(sample)
    data = json.loads(re.search(r'<script type="application/json" id="planner-data">(.*?)</script>', built, re.S)[1])
    tx = [lay for lay in data["layers"] if lay["kind"] == "transmission"]
    assert counts["lines"] == sum(len(lay["lines"]) for lay in tx) > 0
    assert sum(lay["stats"]["lines"]["features_in"] for lay in tx) == sum(
        len(lyr.gdf) for lyr in sample.layers_of_kind("transmission"))
    assert counts["substations"] == sum(len(lyr.gdf) for lyr in sample.layers_of_kind("substations"))
    assert counts["countries"] > 100
    assert sample_view.html_path.is_file()  # loaded from a file (setHtml caps at 2 MB)
    assert sample_view.interceptor.blocked == []  # the page asked for nothing remote
    assert sample_view.js_errors == []


def test_site_click_reaches_python(qtbot, sample_view, sample):
    sid = next(s.site_id for s in sample.portfolio if s.lat is not None)
    with qtbot.waitSignal(sample_view.site_clicked, timeout=TIMEOUT_MS) as sig:
        sample_view.run_js(f"var m = plannerMap.marker({json.dumps(sid)}); m.fire('click', {{latlng: m.getLatLng()}});")
    assert sig.args == [sid]
    assert sample_view.eval_js("plannerMap.selected") == sid


def test_modes_add_move_measure(qtbot, sample_view, sample):
    sid = next(s.site_id for s in sample.portfolio if s.lat is not None)
    sample_view.set_mode("add")
    with qtbot.waitSignal(sample_view.map_clicked, timeout=TIMEOUT_MS) as sig:
        sample_view.run_js("plannerMap.map.fire('click', {latlng: L.latLng(31.5, -100.25)})")
    assert sig.args == pytest.approx([-100.25, 31.5])

    sample_view.set_mode("move")
    with qtbot.waitSignal(sample_view.site_moved, timeout=TIMEOUT_MS) as sig:
        sample_view.run_js(
            f"var m = plannerMap.marker({json.dumps(sid)}); m.fire('mousedown', {{latlng: m.getLatLng()}});"
            "plannerMap.map.fire('mousemove', {latlng: L.latLng(30.5, -99.5)});"
            "plannerMap.map.fire('mouseup', {latlng: L.latLng(30.5, -99.5)});")
    assert sig.args[0] == sid and sig.args[1:] == pytest.approx([-99.5, 30.5])

    sample_view.set_mode("measure")
    with qtbot.waitSignal(sample_view.measure_finished, timeout=TIMEOUT_MS) as sig:
        sample_view.run_js("plannerMap.addMeasurePoint(30.27, -97.74); plannerMap.addMeasurePoint(32.78, -96.80);"
                           "plannerMap.finishMeasure();")
    geod_km = Geod(ellps="WGS84").inv(-97.74, 30.27, -96.80, 32.78)[2] / 1000
    assert sig.args[0] == pytest.approx(geod_km, rel=0.005)  # Leaflet's sphere vs the ellipsoid

    # in browse mode a map click is not an add-site request
    sample_view.set_mode("browse")
    with qtbot.assertNotEmitted(sample_view.map_clicked, wait=500):
        sample_view.run_js("plannerMap.map.fire('click', {latlng: L.latLng(31.5, -100.25)})")


def test_sites_take_clicks_again_after_a_measurement(qtbot, sample_view, sample):
    """QA: after one measurement, a click on a site marker no longer selected it: the measure line's
    canvas sat over the sites' pane and took the clicks (the events above are fired at the marker, so
    they never went through the browser's hit testing; this asks the browser what is under a site)."""
    sid = next(s.site_id for s in sample.portfolio if s.lat is not None)
    under = ("(function () { plannerMap.setLegendCollapsed(true); plannerMap.map.closePopup();"
             " var m = plannerMap.marker(%s); plannerMap.map.setView(m.getLatLng(), 6, {animate: false});"
             " var p = plannerMap.map.latLngToContainerPoint(m.getLatLng());"
             " var r = plannerMap.map.getContainer().getBoundingClientRect();"
             " var el = document.elementFromPoint(r.left + p.x, r.top + p.y);"
             " var pane = el && el.closest('.leaflet-pane'); return pane ? pane.className : ''; })()") % json.dumps(sid)
    assert "pm-sites" in sample_view.eval_js(under)
    sample_view.set_mode("measure")
    sample_view.run_js("plannerMap.addMeasurePoint(30.27, -97.74); plannerMap.addMeasurePoint(32.78, -96.80);"
                       "plannerMap.finishMeasure();")
    sample_view.set_mode("browse")
    try:
        assert "pm-sites" in sample_view.eval_js(under)  # the site, not the measure pane, is under the pointer
    finally:
        sample_view.run_js("plannerMap.setLegendCollapsed(false)")  # the shared page as the next tests expect it


def test_invalid_bridge_calls_are_rejected(qtbot, sample_view, sample):
    bridge = sample_view.bridge
    with qtbot.assertNotEmitted(sample_view.site_clicked, wait=800), \
            qtbot.assertNotEmitted(sample_view.map_clicked, wait=0), \
            qtbot.assertNotEmitted(sample_view.site_moved, wait=0):
        sample_view.run_js("var b = plannerMap.bridge; b.siteClicked(123); b.siteClicked('NO-SUCH-SITE');"
                           "b.siteClicked('x'.repeat(65)); b.mapClicked(1, 2);")  # browse mode: no mapClicked
        qtbot.waitUntil(lambda: len(bridge.rejected) >= 4, timeout=TIMEOUT_MS)  # calls arrive asynchronously
        sample_view.set_mode("add")
        sample_view.run_js("var b = plannerMap.bridge; b.mapClicked(200, 10); b.mapClicked('1', 2);"
                           "b.siteMoved('A', 1, 2);")
        qtbot.waitUntil(lambda: len(bridge.rejected) >= 7, timeout=TIMEOUT_MS)
        bridge.mapClicked(float("nan"), 10.0)
        bridge.mapClicked(True, 10.0)
        bridge.measureFinished(-1.0)
        sample_view.set_mode("move")
        sid = next(s.site_id for s in sample.portfolio if s.lat is not None)
        bridge.siteMoved(sid, 10.0, 95.0)
    reasons = " | ".join(r for _, r in bridge.rejected)
    for needle in ("must be a string", "unknown site_id", "1-64 characters", "only accepted in add mode",
                   "outside -180..180", "lon must be a number", "only accepted in move mode",
                   "outside -90..90", "km must be"):
        assert needle in reasons, needle


def test_navigation_and_remote_requests_are_blocked(qtbot, sample_view):
    url_before = sample_view.page.url().toString()
    sample_view.run_js("window.location.href = 'https://example.com/';")
    qtbot.waitUntil(lambda: any("example.com" in u for u in sample_view.page.refused), timeout=TIMEOUT_MS)
    # offline page: Chromium itself refuses remote loads from the local file
    sample_view.run_js("window.__imgFailed = false; var i = new Image(); i.onerror = function () {"
                       " window.__imgFailed = true; }; i.src = 'https://example.org/offline.png';")
    qtbot.waitUntil(lambda: sample_view.eval_js("window.__imgFailed") is True, timeout=TIMEOUT_MS)
    # and if remote access were allowed (as for online tiles), the interceptor still blocks non-tile hosts
    from PySide6.QtWebEngineCore import QWebEngineSettings
    sample_view.page.settings().setAttribute(
        QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, True)

    def _remote_image_blocked() -> bool:
        # the setting reaches the renderer asynchronously: ask again until the request shows up
        sample_view.run_js("var i = new Image(); i.src = 'https://example.org/pixel.png?' + Date.now();")
        return any("example.org/pixel.png" in u for u in sample_view.interceptor.blocked)

    qtbot.waitUntil(_remote_image_blocked, timeout=TIMEOUT_MS)
    sample_view.page.settings().setAttribute(
        QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, False)
    _spin(qtbot)
    assert sample_view.page.url().toString() == url_before
    assert sample_view.eval_js("!!window.plannerMap") is True


def test_layer_visibility_without_rebuild(qtbot, sample_view):
    path = sample_view.html_path
    assert sample_view.eval_js("plannerMap.layerVisible('transmission')") is True
    sample_view.set_layer_visible("transmission", False)
    qtbot.waitUntil(lambda: sample_view.eval_js("plannerMap.layerVisible('transmission')") is False,
                    timeout=TIMEOUT_MS)
    assert sample_view.html_path == path  # no rebuild
    assert sample_view.options.layer_visibility["transmission"] is False
    sample_view.set_layer_visible("transmission", True)
    qtbot.waitUntil(lambda: sample_view.eval_js("plannerMap.layerVisible('transmission')") is True,
                    timeout=TIMEOUT_MS)


def test_refresh_keeps_the_view(qtbot, sample_view):
    sample_view.run_js("plannerMap.setView(35.0, -101.0, 7)")
    _spin(qtbot)
    with qtbot.waitSignal(sample_view.load_finished, timeout=TIMEOUT_MS):
        sample_view.reload()
    assert sample_view.wait_ready(TIMEOUT_MS)
    view = json.loads(sample_view.eval_js("plannerMap.getView()"))
    assert view["zoom"] == 7
    assert view["lat"] == pytest.approx(35.0, abs=0.01) and view["lon"] == pytest.approx(-101.0, abs=0.01)


def test_legend_collapses_and_selection_zooms_to_site(qtbot, sample_view, sample):
    js_hidden = "getComputedStyle(document.querySelector('.pm-legend-body')).display === 'none'"
    assert sample_view.eval_js(js_hidden) is False
    sample_view.run_js("document.querySelector('.pm-legend-toggle').click()")
    qtbot.waitUntil(lambda: sample_view.eval_js(js_hidden) is True, timeout=TIMEOUT_MS)
    sample_view.run_js("document.querySelector('.pm-legend-toggle').click()")
    qtbot.waitUntil(lambda: sample_view.eval_js(js_hidden) is False, timeout=TIMEOUT_MS)
    # selecting from the table brings the site into view close enough to see its lines
    sample_view.run_js("plannerMap.setView(39.0, -98.0, 4)")
    _spin(qtbot)
    sample_view.select_site("CORZ-DEN")
    qtbot.waitUntil(lambda: json.loads(sample_view.eval_js("plannerMap.getView()"))["zoom"] >= 9,
                    timeout=TIMEOUT_MS)
    _spin(qtbot, 600)  # the popup's animated auto-pan settles
    view = json.loads(sample_view.eval_js("plannerMap.getView()"))
    # centred on the site, then shifted by the popup's auto-pan so that the popup above it fits
    assert view["lat"] == pytest.approx(33.21484, abs=0.5) and view["lon"] == pytest.approx(-97.13307, abs=0.15)
    assert sample_view.eval_js("plannerMap.map.getBounds().contains(plannerMap.marker('CORZ-DEN').getLatLng())")


def test_hostile_name_renders_as_text(qtbot, hostile_view, tmp_path):
    view = hostile_view
    view.select_site("EVIL-1")  # the selection opens the site's popup
    view.run_js("plannerMap.marker('EVIL-1').openTooltip();")
    qtbot.waitUntil(lambda: view.eval_js("!!document.querySelector('.leaflet-popup-content b')") is True,
                    timeout=TIMEOUT_MS)
    assert view.eval_js("document.querySelector('.leaflet-popup-content b').textContent") == HOSTILE
    assert view.eval_js("document.querySelector('.leaflet-tooltip').textContent").startswith(HOSTILE)
    assert view.eval_js("document.querySelector('.pm-legend').textContent").count(HOSTILE) == 1
    assert HOSTILE in view.eval_js("document.querySelector('.leaflet-control-attribution').textContent")
    assert view.eval_js("document.querySelectorAll('.leaflet-container img[src=x]').length") == 0
    _spin(qtbot, 300)
    assert view.eval_js("typeof window.__xss") == "undefined"
    png = view.grab_png(tmp_path / "map.png", 640, 480)
    assert png.stat().st_size > 5_000
    assert view.js_errors == []


def test_undecided_marker_outline_shows_the_lean_and_survives_selection(qtbot):
    from planner.model.readiness import READINESS_COLOURS, score_portfolio
    sites = [Site.create(site_id="U", name="Undecided", lat=31.9, lon=-101.5, power_capacity_mw=300, energized_mw=200),
             Site.create(site_id="M", name="Tiny", lat=32.4, lon=-100.3, power_capacity_mw=10)]
    project = SimpleNamespace(portfolio=Portfolio(sites), layers={})
    view = _open(project, score_portfolio(project.portfolio))
    try:
        def style(sid):
            return json.loads(view.eval_js(
                f"JSON.stringify((function (o) {{ return [o.fillColor, o.color, o.weight]; }})"
                f"(plannerMap.marker({json.dumps(sid)}).options))"))
        amber, grey = READINESS_COLOURS["convertible_with_upgrades"], READINESS_COLOURS["insufficient_data"]
        assert style("U") == [grey, amber, 3]  # grey fill (undecided), thick outline in the leaning colour
        assert style("M") == [READINESS_COLOURS["mining_only"], "#222222", 1]
        view.select_site("U")
        qtbot.waitUntil(lambda: style("U")[1] == "#00e5ff", timeout=TIMEOUT_MS)
        # the selected undecided site's popup names its next fact (only the exported page has them all)
        popup = view.eval_js("(function(){var e=document.querySelector('.leaflet-popup-content');"
                             "return e ? e.textContent : '';})()")
        assert "leans Convertible with upgrades (expected" in popup and "Next fact" in popup
        view.select_site("M")
        qtbot.waitUntil(lambda: style("U") == [grey, amber, 3], timeout=TIMEOUT_MS)  # the lean outline is back
        legend = view.eval_js("document.querySelector('.pm-legend-body').textContent")
        assert "Undecided: leans Convertible (outline) (1)" in legend
    finally:
        _close(view)


def _pixel(view, code):
    return json.loads(view.eval_js(code))


def test_substations_are_drawn_only_from_a_readable_zoom(qtbot, sample_view, sample):
    """10,538 substation circles hid the continental map: they are drawn (and hovered) only from
    zoom 7 on, the layer stays on, and the legend says from which zoom."""
    from planner.webmap.styles import MIN_ZOOM
    z = MIN_ZOOM["substations"]
    gdf = next(iter(sample.layers_of_kind("substations"))).gdf
    named = gdf[(gdf["name"].astype(str).str.len() > 3) & gdf["voltage_kv"].notna()].iloc[0]
    sub = named.geometry
    at = f"{sub.y}, {sub.x}"
    try:
        sample_view.run_js(f"plannerMap.setView({at}, 4)")
        assert sample_view.eval_js("plannerMap.map.getZoom()") == 4
        assert _pixel(sample_view, f"plannerMap.layerPixel('substations', {at})")[3] == 0
        hover = sample_view.eval_js(f"plannerMap.featureAt({at})")
        assert hover is None or json.loads(hover)["name"] != "substations"
        assert sample_view.eval_js("plannerMap.layerVisible('substations')") is True
        for zoom in (z, 10):
            sample_view.run_js(f"plannerMap.setView({at}, {zoom})")
            # a white circle with a purple outline: drawn at the substation's own place, in the shown tile too
            assert _pixel(sample_view, f"plannerMap.layerPixel('substations', {at})")[3] > 200
            assert _pixel(sample_view, f"plannerMap.tilePixel('grid', {at})")[3] > 200
            hover = json.loads(sample_view.eval_js(f"plannerMap.featureAt({at})"))
            assert hover["name"] == "substations" and named["name"] in hover["tip"] and "kV" in hover["tip"]
        # the pointer over it opens its tooltip (the hover handler, not only the hit test)
        sample_view.run_js(f"plannerMap.map.fire('mousemove', {{latlng: L.latLng({at}), "
                           "originalEvent: {target: plannerMap.map.getContainer()}})")
        qtbot.waitUntil(lambda: named["name"] in (sample_view.eval_js(
            "(function(){var t=document.querySelector('.leaflet-tooltip'); return t ? t.textContent : '';})()")
            or ""), timeout=TIMEOUT_MS)
        sample_view.run_js("plannerMap.map.fire('mouseout')")
    finally:
        sample_view.run_js("plannerMap.setView(39, -98, 4)")
    counts = json.loads(sample_view.eval_js("plannerMap.countFeatures()"))
    assert counts["substations"] == sum(len(lyr.gdf) for lyr in sample.layers_of_kind("substations"))
    legend = sample_view.eval_js("document.querySelector('.pm-legend').textContent")
    assert f"(shown from zoom {z})" in legend


def _low_voltage_line_near(sample, site_id):
    """Midpoint of the 69-138 kV line nearest to a sample site (CORZ-DEN: 3 km away)."""
    import shapely
    from planner.webmap.styles import voltage_class
    site = next(s for s in sample.portfolio if s.site_id == site_id)
    gdf = next(iter(sample.layers_of_kind("transmission"))).gdf
    low = gdf[[voltage_class(v) == "kv_69_138" for v in gdf["voltage_kv"]]]
    i = shapely.distance(low.geometry.values, shapely.Point(site.lon, site.lat)).argmin()
    mid = low.geometry.iloc[i].interpolate(0.5, normalized=True)
    return site, mid


def test_a_site_shows_the_69_kv_line_next_to_it_at_every_zoom(sample_view, sample):
    """At site zoom the analyst sees which lines are near: the 69 kV line 3 km from CORZ-DEN is
    drawn in its voltage colour (blue) in the shown tile; zoomed out it is still drawn."""
    site, mid = _low_voltage_line_near(sample, "CORZ-DEN")
    at = f"{mid.y}, {mid.x}"
    try:
        for zoom in (10, 8, 6, 4):
            sample_view.run_js(f"plannerMap.setView({site.lat}, {site.lon}, {zoom})")
            assert sample_view.eval_js(f"plannerMap.map.getBounds().contains([{at}])") is True
            r, g, b, a = _pixel(sample_view, f"plannerMap.layerPixel('transmission', {at})")
            assert a > 100, zoom
            if zoom >= 8:  # zoomed out, the 345 kV line drawn over it takes this pixel
                assert b > r + 60 and b > g + 20, (zoom, r, g, b, a)  # #2c7bb6, 69-138 kV
            assert _pixel(sample_view, f"plannerMap.tilePixel('grid', {at})")[3] > 100, zoom
            if zoom == 10:  # hovering it names its class (merged lines carry no label of their own)
                hover = json.loads(sample_view.eval_js(f"plannerMap.featureAt({at})"))
                assert hover["name"] == "transmission" and hover["tip"] == "69-138 kV line"
    finally:
        sample_view.run_js("plannerMap.setView(39, -98, 4)")


def test_layer_toggle_hides_and_shows_the_drawn_lines(qtbot, sample_view, sample):
    site, mid = _low_voltage_line_near(sample, "CORZ-DEN")
    at = f"{mid.y}, {mid.x}"
    try:
        sample_view.run_js(f"plannerMap.setView({site.lat}, {site.lon}, 10)")
        assert _pixel(sample_view, f"plannerMap.tilePixel('grid', {at})")[3] > 100
        sample_view.set_layer_visible("transmission", False)
        qtbot.waitUntil(lambda: _pixel(sample_view, f"plannerMap.layerPixel('transmission', {at})")[3] == 0,
                        timeout=TIMEOUT_MS)
        assert _pixel(sample_view, f"plannerMap.tilePixel('grid', {at})")[3] < 100  # gone from the shown tile
        assert sample_view.eval_js("plannerMap.layerVisible('transmission')") is False
        sample_view.set_layer_visible("transmission", True)
        qtbot.waitUntil(lambda: _pixel(sample_view, f"plannerMap.tilePixel('grid', {at})")[3] > 100,
                        timeout=TIMEOUT_MS)
    finally:
        sample_view.set_layer_visible("transmission", True)
        sample_view.run_js("plannerMap.setView(39, -98, 4)")


def test_tiles_are_drawn_once_and_reused(sample_view):
    """A pan draws only the tiles it exposes; panning back and zooming back to a level draw none."""
    def drawn():
        d = json.loads(sample_view.eval_js("plannerMap.tilesDrawn()"))
        return d["grid"]["tiles"] + d["base"]["tiles"]
    try:
        sample_view.run_js("plannerMap.setView(31.5, -99.0, 8)")
        first = drawn()
        sample_view.run_js("plannerMap.map.panBy([300, 0], {animate: false})")
        panned = drawn()
        assert panned - first <= 4  # at most a column of tiles (2 stacks x 2 rows at 600 px)
        sample_view.run_js("plannerMap.map.panBy([-300, 0], {animate: false})")
        sample_view.run_js("plannerMap.setView(31.5, -99.0, 9)")
        zoomed = drawn()
        assert zoomed > panned  # a new zoom level is drawn
        sample_view.run_js("plannerMap.setView(31.5, -99.0, 8)")
        assert drawn() == zoomed  # back: from the tile cache
    finally:
        sample_view.run_js("plannerMap.setView(39, -98, 4)")


def test_flares_are_counted_circles_until_zoom_9_and_a_click_zooms_in(qtbot, sample_view, sample):
    """7,539 flares as Leaflet cluster markers cost ~150 ms a frame; in the tiles they are counted
    circles below zoom 9 (hover: how many; click: zoom in) and each flare from zoom 9 on."""
    gdf = next(iter(sample.layers_of_kind("flares"))).gdf
    permian = gdf.cx[-104.5:-101.0, 31.0:33.5]
    assert len(permian) > 100
    try:
        sample_view.set_layer_visible("flares", True)
        qtbot.waitUntil(lambda: sample_view.eval_js("plannerMap.layerVisible('flares')") is True, timeout=TIMEOUT_MS)
        sample_view.run_js("plannerMap.setView(32.0, -102.5, 6)")
        hits = [json.loads(h) for p in permian.geometry.iloc[::10]
                if (h := sample_view.eval_js(f"plannerMap.featureAt({p.y}, {p.x})"))]
        cluster = next(h for h in hits if h["name"] == "flares" and h["cluster"] >= 2)
        assert cluster["tip"].startswith(f"{cluster['cluster']:,} flares here")
        at = f"{cluster['lat']}, {cluster['lon']}"
        assert _pixel(sample_view, f"plannerMap.layerPixel('flares', {at})")[3] > 200
        sample_view.run_js(f"plannerMap.map.fire('click', {{latlng: L.latLng({at})}})")
        assert sample_view.eval_js("plannerMap.map.getZoom()") == 8
        sample_view.run_js(f"plannerMap.setView({permian.geometry.iloc[0].y}, {permian.geometry.iloc[0].x}, 10)")
        one = json.loads(sample_view.eval_js(
            f"plannerMap.featureAt({permian.geometry.iloc[0].y}, {permian.geometry.iloc[0].x})"))
        assert one["name"] == "flares" and one["cluster"] == 0 and "bcm/yr" in one["tip"]
    finally:
        sample_view.set_layer_visible("flares", False)
        sample_view.run_js("plannerMap.setView(39, -98, 4)")
    counts = json.loads(sample_view.eval_js("plannerMap.countFeatures()"))
    assert counts["flares"] == len(gdf)


def test_world_copies_each_get_their_tile(sample_view):
    """Zoomed out to the world, the map shows a copy east and west: both copies of a tile are drawn
    (one cached canvas cannot sit in two places)."""
    try:
        sample_view.run_js("plannerMap.setView(40, -100, 2)")
        # 512 px tiles at zoom 2: the tile of 0-180 E shows twice, at 0-58 E and (a world west)
        # at 258-180 W; both are drawn at their own place: land at 39 N 35 E (Turkey) and 35 N 105 E (China)
        assert sample_view.eval_js("plannerMap.map.getBounds().contains([35, -255])") is True
        for lat, lon in ((39, 35), (35, 105 - 360)):
            px = sample_view.eval_js(f"plannerMap.tilePixel('base', {lat}, {lon})")
            assert px is not None and json.loads(px)[3] > 200, lon
    finally:
        sample_view.run_js("plannerMap.setView(39, -98, 4)")


@pytest.mark.parametrize("size, folded", [((1366, 700), True), ((1600, 1300), False)])
def test_a_legend_taller_than_half_the_map_opens_folded(qtbot, sample, size, folded):
    """QA: the exported page on a 1366 x 768 laptop screen opened with its legend over ~40 % of the map
    (487 px of a 700 px map); a map tall enough for it keeps it open."""
    from planner.model.readiness import score_portfolio
    from planner.webmap import MapOptions

    view = MapView(options=MapOptions())  # the exported page's options (Leaflet's own layer switch)
    try:
        view.resize(*size)
        view.show()
        view.set_project(sample, dict(score_portfolio(sample.portfolio)))
        assert view.wait_ready(TIMEOUT_MS)
        hidden = "getComputedStyle(document.querySelector('.pm-legend-body')).display === 'none'"
        assert view.eval_js(hidden) is folded
    finally:
        _close(view)
