"""The Qt step: site/portfolio PDFs (pypdf text, page count and size), map PNG pixels, HTML export in WebEngine.

WebEngine starts once per session; each PDF/PNG is made once (session fixtures) and checked
by several tests.
"""
from __future__ import annotations

import json

import numpy as np
import pypdf
import pytest

from _report_fixtures import XSS, XSS_ID, small_project

pytestmark = pytest.mark.gui

A4_PT = (595, 842)  # 210 x 297 mm in points
LETTER_PT = (612, 792)


def _text(path) -> tuple[list[str], list[tuple[int, int]]]:
    reader = pypdf.PdfReader(str(path))
    # one space for any whitespace run, ligatures undone: text as a reader would search it
    texts = [" ".join(p.extract_text().replace("\ufb01", "fi").replace("\ufb02", "fl").split())
             for p in reader.pages]
    sizes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages]
    return texts, sizes


def _paper(sizes: list[tuple[float, float]]) -> set[tuple[int, int]]:
    """The distinct page sizes, snapped to the paper sizes within 2 pt (Chromium rounds them down)."""
    out = set()
    for w, h in sizes:
        out |= {p for p in (A4_PT, LETTER_PT) if abs(w - p[0]) <= 2 and abs(h - p[1]) <= 2} or {(round(w), round(h))}
    return out


@pytest.fixture(scope="session")
def project():
    return small_project()


@pytest.fixture(scope="session")
def site_pdf(qapp, project, tmp_path_factory):
    from planner.reports.render_qt import site_report_pdf

    steps = []
    out = site_report_pdf(project, XSS_ID, tmp_path_factory.mktemp("pdf") / "site.pdf", progress=steps.append)
    assert steps[-1] == 1.0 and steps == sorted(steps)
    return out


@pytest.fixture(scope="session")
def atlas_project():
    return small_project((XSS_ID, "FUFU-ETH"))  # one located site, one without a location


@pytest.fixture(scope="session")
def portfolio_pdf(qapp, atlas_project, tmp_path_factory):
    from planner.reports.render_qt import portfolio_report_pdf

    return portfolio_report_pdf(atlas_project, tmp_path_factory.mktemp("pdf") / "portfolio.pdf", paper="letter",
                                atlas=True)


def test_site_pdf_text_and_pages(site_pdf, project):
    from planner.model.readiness import score_site
    from planner.reports.content import fmt_mw

    texts, sizes = _text(site_pdf)
    assert 4 <= len(texts) <= 20
    assert _paper(sizes) == {A4_PT}
    text = "\n".join(texts)
    site = project.portfolio.get(XSS_ID)
    result = score_site(site, project.portfolio.settings)
    assert XSS in text  # the payload is literal text in the PDF
    assert f"{result.total:.0f}" in texts[0] and result.class_label in texts[0]
    assert fmt_mw(site.energized_mw) in texts[0]
    for needle in ("Readiness sub-scores", "Upgrades needed", "Stay a miner", "Convert to AI/HPC lease",
                   "Assumptions used", "btc_price_usd", "Data attributions", "OpenStreetMap", "345 kV", "unknown"):
        assert needle in text, needle
    assert site.sources.split(" ; ")[0][:40] in text.replace(" ", "")


def _image_sizes(reader) -> list[tuple[int, int, str]]:
    """(width, height, filter) of every image XObject, looking inside form XObjects too (no Pillow needed)."""
    out, seen = [], set()

    def walk(resources):
        xobjects = (resources or {}).get("/XObject") or {}
        for ref in xobjects.values():
            key = getattr(ref, "idnum", id(ref))
            if key in seen:
                continue
            seen.add(key)
            obj = ref.get_object()
            if obj.get("/Subtype") == "/Image":
                out.append((int(obj["/Width"]), int(obj["/Height"]), str(obj.get("/Filter"))))
            elif obj.get("/Subtype") == "/Form":
                walk(obj.get("/Resources"))

    for page in reader.pages:
        walk(page.get("/Resources"))
    return out


def test_site_pdf_has_map_and_charts(site_pdf):
    images = _image_sizes(pypdf.PdfReader(str(site_pdf)))
    sizes = {(w, h) for w, h, _ in images}
    assert (1800, 1160) in sizes  # the site map: 900 x 580 CSS px at scale 2
    assert {(800, 420), (800, 340), (480, 330)} <= sizes  # readiness, cash flow, NPV / bridge charts


def test_portfolio_pdf_letter_with_atlas(portfolio_pdf, atlas_project):
    texts, sizes = _text(portfolio_pdf)
    assert _paper(sizes) == {LETTER_PT}
    text = "\n".join(texts)
    names = [s.name for s in atlas_project.portfolio]
    for name in names:
        assert name in text
    assert "Ranking" in text and "Aggregate power" in text and "Site atlas" in text
    # the atlas opens a page; its sections follow one another (no forced page per site: that left
    # near-empty pages, see test_reports_layout) and each site's name heads its section
    atlas_page = next(i for i, t in enumerate(texts) if t.startswith("Site atlas"))
    atlas_text = "\n".join(texts[atlas_page:])
    assert all(name in atlas_text for name in names)
    assert len(texts) >= 3 + len(names) // 2


def test_snapshot_png_size_and_pixels(qapp, project, tmp_path):
    from PySide6.QtGui import QImage

    from planner.reports.snapshot import snapshot_png
    from planner.webmap.styles import VOLTAGE_COLOURS

    out = snapshot_png(project, tmp_path / "site.png", site_id="CORZ-PEC", width=500, height=320, scale=2)
    img = QImage(str(out)).convertToFormat(QImage.Format.Format_RGB888)
    assert (img.width(), img.height()) == (1000, 640)
    arr = np.frombuffer(bytes(img.constBits()), np.uint8).reshape(img.height(), img.bytesPerLine())[:, :3000]
    rgb = arr.reshape(img.height(), img.width(), 3).astype(int)
    assert rgb.std() > 10  # not blank
    # transmission lines are drawn in their voltage-class colours
    present = []
    for key, colour in VOLTAGE_COLOURS.items():
        target = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
        if (np.abs(rgb - target).sum(axis=2) < 40).sum() > 30:
            present.append(key)
    assert present, "no transmission line colour found in the snapshot"


def test_html_export_offline_features_and_escaping(qtbot, project, tmp_path):
    from PySide6.QtCore import QUrl
    from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile, QWebEngineUrlRequestInterceptor
    from PySide6.QtWebEngineWidgets import QWebEngineView

    from planner.reports.snapshot import export_map_html

    out = export_map_html(project, tmp_path / "map.html")
    html = out.read_text(encoding="utf-8")
    assert XSS not in html and "https://unpkg" not in html and "cdn" not in html.lower().split("leaflet")[0]

    class Block(QWebEngineUrlRequestInterceptor):
        def __init__(self):
            super().__init__()
            self.remote = []

        def interceptRequest(self, info):  # noqa: N802
            if info.requestUrl().scheme() not in ("file", "data", "blob", "about", "qrc"):
                self.remote.append(info.requestUrl().toString())
                info.block(True)

    class Page(QWebEnginePage):
        alerts: list[str] = []

        def javaScriptAlert(self, origin, msg):  # noqa: N802
            Page.alerts.append(msg)

    profile = QWebEngineProfile()
    block = Block()
    profile.setUrlRequestInterceptor(block)
    view = QWebEngineView()
    page = Page(profile, view)
    view.setPage(page)
    view.resize(900, 600)
    view.show()
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.loadFinished, timeout=60_000):
        view.load(QUrl.fromLocalFile(str(out)))

    def js(code):
        box = []
        page.runJavaScript(code, 0, box.append)
        qtbot.waitUntil(lambda: bool(box), timeout=20_000)
        return box[0]

    qtbot.waitUntil(lambda: js("!!(window.plannerMap && plannerMap.ready)") is True, timeout=60_000)
    counts = json.loads(js("plannerMap.countFeatures()"))
    located = sum(1 for s in project.portfolio if s.has_location)
    layers = {layer.kind: len(layer.gdf) for layer in project.layers.values()}
    assert counts["sites"] == located
    assert counts["lines"] == layers["transmission"]
    assert counts["substations"] == layers["substations"]
    assert counts["stranded"] == layers["stranded"]
    # open the payload site's popup: its name must be text, not an element
    js(f"plannerMap.selectSite({json.dumps(XSS_ID)}, true); true")  # selection opens the one site popup
    qtbot.wait(300)
    assert js("document.querySelectorAll('img[src=\"x\"]').length") == 0
    assert XSS in js("document.querySelector('.leaflet-popup-content').textContent")
    assert Page.alerts == [] and block.remote == []
    view.close()


def test_cancelled_batch_writes_nothing(qapp, atlas_project, tmp_path):
    from planner.reports.render_qt import portfolio_report_pdf
    from planner.ui.workers import TaskCancelled

    seen = []

    def progress(f):
        seen.append(f)
        if f > 0.25:  # the user presses Cancel while the maps are drawn
            raise TaskCancelled("cancelled by the user; nothing was written")

    out = tmp_path / "cancelled.pdf"
    with pytest.raises(TaskCancelled):
        portfolio_report_pdf(atlas_project, out, atlas=True, progress=progress)
    assert not list(tmp_path.iterdir()) and max(seen) < 0.6


def test_pdfs_carry_title_and_subject(site_pdf, portfolio_pdf):
    from pypdf import PdfReader

    for pdf in (site_pdf, portfolio_pdf):
        info = PdfReader(pdf).metadata
        assert info.title and info.subject and "project" in info.subject, (pdf, info)
        assert "Site Conversion Planner" in info.creator
    assert PdfReader(site_pdf).metadata.title != PdfReader(portfolio_pdf).metadata.title
