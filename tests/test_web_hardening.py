"""Page probes: the web pages (in-app map, snapshot renderer, PDF renderer) are walled in.

Each probe runs the attack in the page and checks it fails: deleting or reaching past the
channel object, reading local files, gathering WebRTC (UDP) candidates, running script in a
printed report. Every probe succeeded before the lock-down (see the issue #14 notes).
"""
from __future__ import annotations

import json

import pytest

pytest.importorskip("PySide6.QtWebEngineWidgets")
pytestmark = pytest.mark.gui

from planner.reports import render_qt  # noqa: E402
from planner.ui.map_view import MapView  # noqa: E402

TIMEOUT_MS = 20_000
SLOTS = {"siteClicked", "mapClicked", "siteMoved", "measureFinished"}


@pytest.fixture(scope="module")
def sample():
    from planner.assets import sample_project
    from planner.gis.project import open_project
    return open_project(sample_project())


@pytest.fixture(scope="module")
def view(qapp, sample):
    from PySide6.QtCore import QCoreApplication, QEvent
    v = MapView()
    v.resize(800, 500)
    v.show()
    v.set_project(sample)
    assert v.wait_ready(TIMEOUT_MS), v.console_messages
    yield v
    v.release()
    v.close()
    v.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QCoreApplication.processEvents()


@pytest.fixture
def page(qtbot, view):
    qtbot.waitUntil(lambda: view.eval_js("!!plannerMap.bridgeReady") is True, timeout=TIMEOUT_MS)
    return view


def _async(qtbot, view, code: str, timeout_ms: int = TIMEOUT_MS):
    """Run ``code`` (which sets window.__probe when done) and return window.__probe."""
    view.run_js("window.__probe = undefined; " + code)
    qtbot.waitUntil(lambda: view.eval_js("window.__probe !== undefined") is True, timeout=timeout_ms)
    return view.eval_js("window.__probe")


def test_channel_object_has_only_the_four_slots_and_cannot_be_deleted(qtbot, page, sample):
    names = json.loads(page.eval_js(
        "JSON.stringify(Object.keys(plannerMap.bridge).filter(function (k) {"
        " return typeof plannerMap.bridge[k] === 'function' && k.indexOf('(') < 0; }))"))
    internal = {"unwrapQObject", "unwrapProperties", "propertyUpdate", "signalEmitted"}  # qwebchannel.js helpers
    assert set(names) - internal == SLOTS | {"deleteLater"}
    # no Qt signal of the validating bridge is visible (they could be connected to or spoofed)
    assert page.eval_js("typeof plannerMap.bridge.site_clicked") == "undefined"
    page.run_js("plannerMap.bridge.deleteLater();")
    qtbot.waitUntil(lambda: ("deleteLater", "the page may not delete the bridge") in page.bridge.rejected,
                    timeout=TIMEOUT_MS)
    # the same through raw channel messages: deleteLater and the QObject signals by method index
    mo = page.bridge_proxy.metaObject()
    for signature in ("deleteLater()", "destroyed()", "destroyed(QObject*)", "objectNameChanged(QString)"):
        page.run_js("qt.webChannelTransport.send(JSON.stringify({type: 6, object: 'planner', method: %d,"
                    " args: [], id: 90001}))" % mo.indexOfMethod(signature))
    qtbot.wait(500)  # Qt posts one deferred delete per object at most: the first one was already dropped
    sid = next(s.site_id for s in sample.portfolio if s.lat is not None)
    with qtbot.waitSignal(page.site_clicked, timeout=TIMEOUT_MS) as sig:  # the channel still works
        page.run_js(f"plannerMap.bridge.siteClicked({json.dumps(sid)})")
    assert sig.args == [sid]
    assert page.bridge_proxy.objectName() is not None and page.bridge.objectName() is not None


def test_map_page_cannot_read_local_files(qtbot, page, sample):
    from PySide6.QtWebEngineCore import QWebEngineSettings
    a = QWebEngineSettings.WebAttribute
    settings = page.page.settings()
    assert not settings.testAttribute(a.LocalContentCanAccessFileUrls)
    assert not settings.testAttribute(a.LocalContentCanAccessRemoteUrls)  # offline map (no tiles)
    for target in ("file:///etc/passwd", page.html_path.as_uri(), page.html_path.parent.as_uri() + "/"):
        got = _async(qtbot, page, f"fetch({json.dumps(target)}).then(function (r) {{ return r.text(); }})"
                                  ".then(function (t) { window.__probe = 'READ ' + t.slice(0, 40); })"
                                  ".catch(function (e) { window.__probe = 'blocked'; });")
        assert got == "blocked", (target, got)
    got = page.eval_js("(function () { var x = new XMLHttpRequest(); try { x.open('GET', 'file:///etc/hostname',"
                       " false); x.send(); return 'READ ' + x.responseText; } catch (e) { return 'blocked'; } })()")
    assert got == "blocked"
    # nor can an <img> show a local file (the page's own folder included)
    png = page.html_path.parent / "probe.png"
    from PySide6.QtGui import QImage
    img = QImage(4, 4, QImage.Format.Format_RGB32)
    img.fill(0xFF0000)
    assert img.save(str(png))
    got = _async(qtbot, page, "var i = new Image(); i.onload = function () { window.__probe = 'loaded'; };"
                              " i.onerror = function () { window.__probe = 'blocked'; };"
                              f" i.src = {json.dumps(png.as_uri())};")
    png.unlink()
    assert got == "blocked"
    assert page.eval_js("!!window.plannerMap && plannerMap.ready") is True  # the map itself still works


def test_webrtc_gathers_no_udp_candidates(qtbot, page):
    got = _async(qtbot, page, """
        var found = [];
        try {
          var pc = new RTCPeerConnection({iceServers: [{urls: 'stun:127.0.0.1:3478'}]});
          pc.onicecandidate = function (e) { if (e.candidate && e.candidate.candidate) {
            found.push(e.candidate.candidate); } };
          pc.onicegatheringstatechange = function () {
            if (pc.iceGatheringState === 'complete') { window.__probe = JSON.stringify(found); } };
          pc.createDataChannel('probe');
          pc.createOffer().then(function (o) { return pc.setLocalDescription(o); });
          setTimeout(function () { if (window.__probe === undefined) { window.__probe = JSON.stringify(found); } },
                     4000);
        } catch (e) { window.__probe = '[]'; }
    """)
    assert json.loads(got) == []  # without the policy: "udp ... typ host" candidates



def test_snapshot_renderer_cannot_read_files(qapp, sample):
    from planner.webmap import MapOptions, build_map
    html = build_map(sample, None, MapOptions())
    with render_qt.MapRenderer(html, 400, 300, 1.0) as r:
        r.js("window.__probe = undefined; fetch('file:///etc/passwd').then(function () { window.__probe = 'READ'; })"
             ".catch(function () { window.__probe = 'blocked'; }); true")
        assert render_qt._wait(lambda: r.js("window.__probe !== undefined") is True, TIMEOUT_MS)
        assert r.js("window.__probe") == "blocked"
        assert r.interceptor.blocked == [] or all("passwd" in u for u in r.interceptor.blocked)


def test_printed_report_runs_no_script_and_loads_no_file(qapp, tmp_path):
    from pypdf import PdfReader
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET CONTENT")
    html = ("<html><body><p id='p'>static text</p>"
            "<script>document.getElementById('p').textContent = 'SCRIPT RAN';</script>"
            f"<iframe src='{secret.as_uri()}'></iframe></body></html>")
    out = render_qt.html_to_pdf(html, tmp_path / "r.pdf")
    text = "".join(p.extract_text() for p in PdfReader(str(out)).pages)
    assert "static text" in text and "SCRIPT RAN" not in text and "TOP SECRET" not in text
