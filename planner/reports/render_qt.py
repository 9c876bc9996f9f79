"""The Qt step of the reports: HTML -> PDF (``QWebEnginePage.printToPdf``) and map HTML -> PNG.

The only module of :mod:`planner.reports` that uses Qt WebEngine. Works headless: call
:func:`prepare_environment` (the CLI does) before the first QApplication so that Qt uses the
``offscreen`` platform when there is no display and Chromium runs without its sandbox as root.

Map pictures are taken only after the page says it has drawn (``plannerMap.ready``), the view
was moved, two animation frames have passed and the grabbed image is not blank.
"""
from __future__ import annotations

import json
import logging
import math
import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from planner.fileio import atomic_path, atomic_write
from planner.model.site import PlannerError

log = logging.getLogger(__name__)

PAPERS = ("a4", "letter")


class RenderError(PlannerError, RuntimeError):
    """The Qt renderer could not produce a file (timeout, page error, unwritable path)."""


def prepare_environment() -> None:
    """Set the Qt/Chromium environment for headless use; call before the first QApplication.

    ``QT_QPA_PLATFORM=offscreen`` when there is no X11/Wayland display, and
    ``QTWEBENGINE_DISABLE_SANDBOX=1`` when running as root (Chromium refuses its sandbox then).
    Values already set by the user are kept.
    """
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu --disable-logging --log-level=3")
        os.environ.setdefault("QT_LOGGING_RULES", "qt.webenginecontext.debug=false;js.debug=false;qt.qpa.*=false")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
    add_chromium_security_flags()


#: Chromium switch: WebRTC may use UDP only through a proxy (no STUN/TURN around the request interceptor).
WEBRTC_POLICY_FLAG = "--force-webrtc-ip-handling-policy=disable_non_proxied_udp"


def add_chromium_security_flags() -> None:
    """Add :data:`WEBRTC_POLICY_FLAG` to ``QTWEBENGINE_CHROMIUM_FLAGS`` (before WebEngine starts)."""
    flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
    if "--force-webrtc-ip-handling-policy" not in flags:
        os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = f"{flags} {WEBRTC_POLICY_FLAG}".strip()


@lru_cache(maxsize=1)
def _interceptor_class() -> type:
    import re

    from PySide6.QtCore import QObject
    from PySide6.QtWebEngineCore import QWebEngineUrlRequestInfo, QWebEngineUrlRequestInterceptor

    class LocalRequestInterceptor(QWebEngineUrlRequestInterceptor):
        """Blocks every request but the page's own file, ``data:``/``blob:``/``about:`` and one tile host."""

        def __init__(self, parent: QObject | None = None) -> None:
            super().__init__(parent)
            self.page_url: str | None = None  # file:// URL of the page itself (set before each load)
            self.tile_host: re.Pattern[str] | None = None
            self.blocked: list[str] = []

        def interceptRequest(self, info: QWebEngineUrlRequestInfo) -> None:  # noqa: N802 - Qt override
            url = info.requestUrl()
            scheme = url.scheme().lower()
            if scheme in ("data", "blob", "about"):
                return
            if scheme == "file" and self.page_url is not None \
                    and url.toString().split("#", 1)[0] == self.page_url:
                return
            if scheme == "https" and self.tile_host is not None and self.tile_host.match(url.host()):
                return
            info.block(True)
            self.blocked.append(url.toString())
            del self.blocked[:-200]
            log.info("web page: blocked request to %s", url.toString())

    return LocalRequestInterceptor


def lock_down_page(page: Any, *, javascript: bool, remote: bool = False) -> Any:
    """Lock a QWebEnginePage down and give it a :class:`LocalRequestInterceptor`; returns the interceptor.

    No access from the local page to other files or remote URLs (``remote`` only for online map
    tiles, which the interceptor narrows to the tile host), no windows, clipboard or plugins,
    WebRTC on public interfaces only (with :data:`WEBRTC_POLICY_FLAG`: no UDP without a proxy),
    and JavaScript only when the page needs it (the map does, printed reports do not).
    """
    from PySide6.QtWebEngineCore import QWebEngineSettings

    a = QWebEngineSettings.WebAttribute
    settings = page.settings()
    for attr, on in ((a.JavascriptEnabled, javascript), (a.LocalContentCanAccessFileUrls, False),
                     (a.LocalContentCanAccessRemoteUrls, remote), (a.JavascriptCanOpenWindows, False),
                     (a.JavascriptCanAccessClipboard, False), (a.PluginsEnabled, False),
                     (a.WebRTCPublicInterfacesOnly, True), (a.AllowRunningInsecureContent, False),
                     (a.NavigateOnDropEnabled, False), (a.AllowWindowActivationFromJavaScript, False)):
        settings.setAttribute(attr, on)
    interceptor = _interceptor_class()(page)
    page.setUrlRequestInterceptor(interceptor)
    page._planner_interceptor = interceptor  # kept alive with the page; _load points it at the page file
    return interceptor


def ensure_app() -> Any:
    """The running QApplication, or a new one set up for WebEngine (headless when needed)."""
    prepare_environment()
    import PySide6.QtWebEngineWidgets  # noqa: F401  (must be imported before the QApplication exists)
    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts, True)
        app = QApplication(["planner"])
    return app


def _wait(condition: Callable[[], bool], timeout_ms: int, step_ms: int = 25) -> bool:
    """Spin the event loop until ``condition()`` is true or ``timeout_ms`` passed."""
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer

    timer = QElapsedTimer()
    timer.start()
    while not condition():
        if timer.elapsed() > timeout_ms:
            return False
        loop = QEventLoop()
        QTimer.singleShot(step_ms, loop.quit)
        loop.exec()
    return True


def _sleep(ms: int) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def page_layout(paper: str) -> Any:
    """A portrait QPageLayout of ``paper`` (a4 or letter) with 12 mm margins."""
    from PySide6.QtCore import QMarginsF
    from PySide6.QtGui import QPageLayout, QPageSize

    p = paper.lower()
    if p not in PAPERS:
        raise RenderError(f"paper {paper!r} is not supported; use a4 or letter")
    size = QPageSize(QPageSize.PageSizeId.A4 if p == "a4" else QPageSize.PageSizeId.Letter)
    return QPageLayout(size, QPageLayout.Orientation.Portrait, QMarginsF(12, 12, 12, 12), QPageLayout.Unit.Millimeter)


def _load(page: Any, html: str, folder: Path, name: str, timeout_ms: int) -> None:
    from PySide6.QtCore import QUrl

    path = folder / name
    path.write_text(html, encoding="utf-8")  # setHtml fails silently above 2 MB: load a file instead
    interceptor = getattr(page, "_planner_interceptor", None)
    if interceptor is not None:
        interceptor.page_url = QUrl.fromLocalFile(str(path)).toString()
    state: dict[str, bool] = {}
    page.loadFinished.connect(lambda ok: state.setdefault("ok", bool(ok)))
    page.load(QUrl.fromLocalFile(str(path)))
    if not _wait(lambda: "ok" in state, timeout_ms):
        raise RenderError(f"page did not load within {timeout_ms / 1000:.0f} s")
    if not state["ok"]:
        raise RenderError("page failed to load")


def html_to_pdf(html: str, out: str | os.PathLike[str], paper: str = "a4", timeout_ms: int = 120_000,
                title: str = "", subject: str = "") -> Path:
    """Print ``html`` to the PDF ``out`` on A4 or Letter paper (document ``title`` and ``subject`` set
    when given); returns the path written."""
    ensure_app()
    from PySide6.QtWebEngineCore import QWebEnginePage

    out_path = Path(out).resolve()
    if not out_path.parent.is_dir():
        raise RenderError(f"{out_path}: folder does not exist; create it or choose another output path")
    layout = page_layout(paper)
    page = QWebEnginePage()
    lock_down_page(page, javascript=False)  # a printed report is HTML and images only
    try:
        with tempfile.TemporaryDirectory(prefix="planner-report-") as tmp:
            _load(page, html, Path(tmp), "report.html", timeout_ms)
            with atomic_path(out_path) as part:
                state: dict[str, Any] = {}
                page.pdfPrintingFinished.connect(lambda path, ok: state.setdefault("ok", bool(ok)))
                page.printToPdf(str(part), layout)
                if not _wait(lambda: "ok" in state, timeout_ms):
                    raise RenderError(f"{out_path}: PDF printing did not finish within {timeout_ms / 1000:.0f} s")
                if not state["ok"] or not part.is_file():
                    raise RenderError(f"{out_path}: PDF printing failed; check the folder is writable")
                if title:
                    from planner.reports.pdf_meta import set_pdf_metadata
                    set_pdf_metadata(part, title, subject)
    finally:
        from PySide6.QtCore import QCoreApplication, QEvent

        page.deleteLater()
        # deleted now: a CLI run that exits right after left it to the profile's teardown
        # ("Release of profile requested but WebEnginePage still not deleted" on stderr)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return out_path


# Page CSS for snapshots: no interactive controls, legend at full height, attribution kept small.
SNAPSHOT_CSS = """
.leaflet-control-zoom, .leaflet-control-layers, .pm-modebar, .pm-measure-out { display: none !important; }
.pm-legend { max-height: none !important; overflow: visible !important; max-width: 46%;
              font-size: 10px !important; padding: 4px 7px !important; }
/* the legend in two columns: about a fifth of the picture instead of half of it */
.pm-legend .pm-legend-body { column-count: 2; column-gap: 14px; }
.pm-legend h2 { font-size: 10.5px !important; margin: 3px 0 1px 0 !important; break-after: avoid; }
.pm-legend .pm-row { break-inside: avoid; }
/* a heading stays with its rows (Chromium ignores break-after on the heading alone) */
.pm-legend .pm-sec { break-inside: avoid; }
.pm-legend-toggle { display: none !important; }
/* a picture shows no popup (a half-faded copy was caught over the site; the attributes are in the
   report's table) and no legend row of a layer that is switched off */
.leaflet-popup { display: none !important; }
.pm-legend .pm-off { display: none !important; }
/* while an inset of the overview is taken: the map only */
.pm-inset .pm-legend, .pm-inset .pm-title, .pm-inset .leaflet-control-scale,
.pm-inset .leaflet-control-attribution { visibility: hidden !important; }
.leaflet-control-attribution { max-width: 62%; font-size: 9px !important; line-height: 1.3;
                               background: rgba(255,255,255,0.85) !important; }
.leaflet-control-scale-line { font-size: 11px; background: rgba(255,255,255,0.85); }
"""


class MapRenderer:
    """A hidden map page of ``width`` x ``height`` CSS px drawn at ``scale`` device pixels per px.

    Load once, then move the view and :meth:`grab` as often as needed (one page serves a whole
    atlas). Use as a context manager or call :meth:`close`.
    """

    def __init__(self, html: str, width: int = 1600, height: int = 1000, scale: float = 2.0,
                 timeout_ms: int = 60_000) -> None:
        if not (200 <= width <= 8000 and 200 <= height <= 8000):
            raise RenderError(f"map size {width}x{height} px: width and height must be 200-8000 px")
        if not 0.5 <= scale <= 4:
            raise RenderError(f"map scale {scale}: must be 0.5-4 (device pixels per CSS pixel)")
        if round(width * scale) * round(height * scale) > 64_000_000:
            raise RenderError(f"map {width}x{height} px at scale {scale} is over 64 megapixels; lower the size or scale")
        ensure_app()
        from PySide6.QtCore import Qt
        from PySide6.QtWebEngineWidgets import QWebEngineView

        self.width, self.height, self.scale = int(width), int(height), float(scale)
        self.timeout_ms = timeout_ms
        self._tmp = tempfile.TemporaryDirectory(prefix="planner-snapshot-")
        self.view = QWebEngineView()
        self.view.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        self.view.resize(round(width * scale), round(height * scale))
        self.view.setZoomFactor(self.scale)  # CSS px stay width x height; pixels are scaled (like a HiDPI screen)
        self.interceptor = lock_down_page(self.view.page(), javascript=True)
        self.view.show()
        self.errors: list[str] = []
        html = html.replace("</head>", f"<style>{SNAPSHOT_CSS}</style></head>", 1)
        _load(self.view.page(), html, Path(self._tmp.name), "map.html", timeout_ms)
        self.view.setZoomFactor(self.scale)
        if not _wait(lambda: self.js("!!(window.plannerMap && plannerMap.ready)") is True, timeout_ms, 50):
            raise RenderError(f"map did not finish drawing within {timeout_ms / 1000:.0f} s; no image written")
        size = self.js("window.innerWidth + 'x' + window.innerHeight")
        if size != f"{self.width}x{self.height}":
            # the zoom factor applies per page: set it again and let Leaflet re-measure
            self.view.setZoomFactor(self.scale)
            _sleep(100)
        self.js("plannerMap.invalidate(); plannerMap.map.options.zoomSnap = 0.25; true")

    # -- JavaScript ---------------------------------------------------------------------------
    def js(self, code: str) -> Any:
        """Run ``code`` in the page and return its (JSON-able) result."""
        box: dict[str, Any] = {}
        self.view.page().runJavaScript(code, 0, lambda r: box.setdefault("r", r))
        if not _wait(lambda: "r" in box, self.timeout_ms, 5):
            raise RenderError(f"map page did not answer within {self.timeout_ms / 1000:.0f} s")
        return box["r"]

    def count_features(self) -> dict[str, int]:
        """Features drawn per layer kind (``plannerMap.countFeatures()``)."""
        import json

        return dict(json.loads(self.js("plannerMap.countFeatures()")))

    # -- view ------------------------------------------------------------------------------------
    def set_title(self, title: str, subtitle: str = "") -> None:
        """Replace the map title box text (set with textContent: never parsed as HTML)."""
        import json

        self.js("(function(t, s){var h=document.querySelector('.pm-title h1'); if(h){h.textContent=t;}"
                "var d=document.querySelector('.pm-title .pm-sub'); if(d){d.textContent=s;} return true;})("
                f"{json.dumps(str(title))}, {json.dumps(str(subtitle))})")

    def set_layers(self, visible: Mapping[str, bool]) -> None:
        """Show or hide layer kinds (``{"fibre": True, "flares": False}``)."""
        import json

        for kind, on in visible.items():
            self.js(f"plannerMap.setLayerVisible({json.dumps(str(kind))}, {'true' if on else 'false'})")

    def fit_bounds(self, south: float, west: float, north: float, east: float, max_zoom: float = 9,
                   pad_bottom: float = 40) -> None:
        """Fit the view to a lon/lat box (numbers only reach the page).

        ``pad_bottom``: CSS px kept free at the bottom (the overview's insets are drawn there).
        """
        vals = [float(v) for v in (south, west, north, east, max_zoom, pad_bottom)]
        # keep the sites clear of the title box (top left), the legend (right) and the bottom strip
        self.js("(function(){var lg=document.querySelector('.pm-legend'); var w=lg?lg.offsetWidth+30:40;"
                "plannerMap.map.fitBounds([[%r,%r],[%r,%r]], {maxZoom: %r, animate: false,"
                "paddingTopLeft: [30, 80], paddingBottomRight: [w, %r]}); return true;})()" % tuple(vals))

    def set_view(self, lat: float, lon: float, zoom: float) -> None:
        """Centre the view on ``lat``/``lon`` at ``zoom``."""
        self.js("plannerMap.map.setView([%r, %r], %r, {animate: false}); true" % (float(lat), float(lon), float(zoom)))

    def highlight(self, site_id: str | None) -> bool:
        """Outline ``site_id`` and keep its label open (None clears the highlight)."""
        import json

        prev = json.dumps(getattr(self, "_highlighted", None) or "")
        sid = json.dumps(site_id if site_id is not None else "")
        self._highlighted = site_id
        return bool(self.js(
            f"(function(prev, id){{var p=plannerMap.marker(prev); if(p&&p.getTooltip()){{"
            f"p.getTooltip().options.permanent=false; p.closeTooltip();}}"
            f"var ok=plannerMap.selectSite(id,false); var m=plannerMap.marker(id);"
            f"if(m&&m.getTooltip()){{m.getTooltip().options.permanent=true; m.openTooltip();}}"
            f"return ok;}})({prev}, {sid})"))

    # -- pixels ---------------------------------------------------------------------------------
    def _frames(self) -> None:
        self.js("window.__pmFrames=0; requestAnimationFrame(function(){requestAnimationFrame(function(){"
                "window.__pmFrames=2;});}); true")
        if not _wait(lambda: self.js("window.__pmFrames") == 2, self.timeout_ms, 16):
            raise RenderError("map page stopped drawing; no image written")
        _sleep(120)  # let the compositor hand the new frame to the widget

    def grab(self) -> Any:
        """The map as a QImage of width*scale x height*scale pixels, never blank or half-drawn."""
        from PySide6.QtCore import QElapsedTimer

        if self.js("!!(window.plannerMap && plannerMap.ready)") is not True:
            raise RenderError("map is not ready; no image written")
        timer = QElapsedTimer()
        timer.start()
        while True:
            self._frames()
            image = self.view.grab().toImage()
            if image.width() != round(self.width * self.scale) or image.height() != round(self.height * self.scale):
                image = image.scaled(round(self.width * self.scale), round(self.height * self.scale))
            if not is_blank(image):
                break
            if timer.elapsed() > self.timeout_ms:
                raise RenderError("map image stayed blank; no image written")
            _sleep(200)
        dpm = round(96 * self.scale / 0.0254)
        image.setDotsPerMeterX(dpm)
        image.setDotsPerMeterY(dpm)
        return image

    def grab_overview(self, clusters: Any, max_insets: int = 4) -> Any:
        """The portfolio map fitted to the first cluster, the others drawn as labelled insets.

        ``clusters``: :func:`planner.reports.snapshot.site_clusters` (largest first). Each inset
        is a crop around its sites at a zoom that fits them, placed along the bottom left of the
        main map (above the scale bar) with a frame and the countries it shows.
        """
        from PySide6.QtCore import QRect, Qt
        from PySide6.QtGui import QColor, QFont, QPainter, QPen

        from planner.reports.snapshot import zoom_to_fit

        self.inset_rects: list[tuple[int, int, int, int]] = []  # (x, y, w, h) CSS px, for checks
        self.overview_view: tuple[float, ...] | None = None
        if not clusters:
            return self.grab()
        others = list(clusters[1:max_insets + 1])
        k = self.scale
        inset_w = int(self.width * 0.22)
        inset_h = int(self.height * 0.24)
        gap_css, bottom_css = 8, 42  # clear of the scale bar
        # the insets take a strip along the bottom: the main group is fitted above it, so no site of
        # it is drawn under an inset (a Texas-heavy portfolio has most of its sites at the bottom)
        self.fit_bounds(*clusters[0].bounds,
                        pad_bottom=(bottom_css + inset_h + 2 * gap_css) if others else 40)
        view = self.js("JSON.stringify([plannerMap.map.getCenter().lat, plannerMap.map.getCenter().lng,"
                       " plannerMap.map.getZoom()])")
        self.overview_view = tuple(json.loads(view)) if isinstance(view, str) else None  # (lat, lon, zoom)
        base = self.grab()
        if not others:
            return base
        crops = []
        self.js("document.body.classList.add('pm-inset'); true")
        for c in others:
            south, west, north, east = c.bounds
            zoom = zoom_to_fit(c.bounds, inset_w * 0.7, inset_h * 0.6, max_zoom=6.0)
            self.set_view((south + north) / 2, (west + east) / 2, zoom)
            img = self.grab()
            cx, cy = img.width() // 2, img.height() // 2
            crops.append((c, img.copy(QRect(cx - int(inset_w * k) // 2, cy - int(inset_h * k) // 2,
                                            int(inset_w * k), int(inset_h * k)))))
        self.js("document.body.classList.remove('pm-inset'); true")
        painter = QPainter(base)
        try:
            font = QFont("DejaVu Sans")
            font.setPixelSize(int(11 * k))
            painter.setFont(font)
            gap, bottom = int(gap_css * k), int(bottom_css * k)
            x = gap
            y = base.height() - bottom - int(inset_h * k)
            for c, crop in crops:
                painter.drawImage(x, y, crop)
                self.inset_rects.append((int(x / k), int(y / k), int(crop.width() / k), int(crop.height() / k)))
                painter.setPen(QPen(QColor("#333333"), max(1.0, 1.5 * k)))
                painter.drawRect(x, y, crop.width(), crop.height())
                label = QRect(x, y, crop.width(), int(16 * k))
                painter.fillRect(label, QColor(255, 255, 255, 225))
                painter.drawText(label.adjusted(int(4 * k), 0, 0, 0),
                                 int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), c.label)
                x += crop.width() + gap
        finally:
            painter.end()
        return base

    def png_bytes(self) -> bytes:
        """:meth:`grab` encoded as PNG."""
        return qimage_png(self.grab())

    def encoded(self, mime: str = "image/png", quality: int = 90, image: Any = None) -> bytes:
        """:meth:`grab` (or ``image``) encoded as PNG or JPEG (``mime``)."""
        return encode_image(self.grab() if image is None else image, mime, quality)

    def save_png(self, out: str | os.PathLike[str], image: Any = None) -> Path:
        """:meth:`grab` (or ``image``) written to ``out`` (atomically)."""
        out_path = Path(out).resolve()
        if not out_path.parent.is_dir():
            raise RenderError(f"{out_path}: folder does not exist; create it or choose another output path")
        return atomic_write(out_path, qimage_png(self.grab() if image is None else image))

    def close(self) -> None:
        """Free the page and its temporary folder."""
        from PySide6.QtCore import QCoreApplication, QEvent

        self.view.close()
        self.view.deleteLater()
        # delete the page now: a CLI run that exits right after left it to the profile's teardown
        # ("Release of profile requested but WebEnginePage still not deleted" on stderr)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        self._tmp.cleanup()

    def __enter__(self) -> "MapRenderer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def qimage_png(image: Any) -> bytes:
    """Encode a QImage as PNG bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buf, "PNG"):
        raise RenderError("could not encode the image as PNG")
    buf.close()
    return bytes(data.data())


def qimage_jpeg(image: Any, quality: int = 90) -> bytes:
    """Encode a QImage as JPEG bytes (for pictures embedded in PDFs)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buf, "JPEG", int(quality)):
        raise RenderError("could not encode the image as JPEG")
    buf.close()
    return bytes(data.data())


def encode_image(image: Any, mime: str = "image/png", quality: int = 90) -> bytes:
    """A QImage encoded as PNG or JPEG (``mime``)."""
    if mime not in ("image/png", "image/jpeg"):
        raise RenderError(f"image type {mime!r}: use image/png or image/jpeg")
    return qimage_png(image) if mime == "image/png" else qimage_jpeg(image, quality)


def is_blank(image: Any, min_std: float = 6.0) -> bool:
    """True when a QImage is (nearly) one flat colour: grey-level standard deviation below ``min_std``."""
    import numpy as np
    from PySide6.QtGui import QImage

    small = image.convertToFormat(QImage.Format.Format_Grayscale8).scaled(
        200, 125) if image.width() > 200 else image.convertToFormat(QImage.Format.Format_Grayscale8)
    w, h, bpl = small.width(), small.height(), small.bytesPerLine()
    arr = np.frombuffer(bytes(small.constBits()), dtype=np.uint8)[: bpl * h].reshape(h, bpl)[:, :w]
    return float(arr.std()) < min_std


def chart_png(builder: Callable[[Any, Any], Any], data: Any, width: int, height: int) -> bytes:
    """A pyqtgraph chart (a builder of :mod:`planner.plots`) as PNG bytes."""
    ensure_app()
    from planner.plots import render_png

    with tempfile.TemporaryDirectory(prefix="planner-chart-") as tmp:
        path = render_png(builder, data, Path(tmp) / "chart.png", width=width, height=height)
        return Path(path).read_bytes()


# ------------------------------------------------------------------------------------------------
# report map pictures without a browser: a map_scene.Scene painted with QPainter
# ------------------------------------------------------------------------------------------------
MAP_FONT = "DejaVu Sans"  # bundled with Qt's offscreen platform here and on every Linux desktop


def _font(px: int, bold: bool = False) -> Any:
    from PySide6.QtGui import QFont

    f = QFont(MAP_FONT)
    f.setPixelSize(px)
    f.setBold(bold)
    return f


def _colour(value: str, alpha: float = 1.0) -> Any:
    from PySide6.QtGui import QColor

    c = QColor(value)
    if not c.isValid():
        c = QColor("#555555")
    c.setAlphaF(max(0.0, min(1.0, float(alpha))))
    return c


def _pen(colour: str, width: float, opacity: float = 1.0, dash: tuple[float, ...] = ()) -> Any:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QPen

    pen = QPen(_colour(colour, opacity))
    pen.setWidthF(max(0.01, width))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)  # Leaflet's lineCap/lineJoin
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    if dash:
        pen.setDashPattern([d / max(width, 0.01) for d in (dash if len(dash) % 2 == 0 else dash * 2)])
    return pen


def _thin_dashed_pen(colour: str, width: float, opacity: float, dash: tuple[float, ...], scale: float) -> Any:
    """A hairline (1 device px, cosmetic) dashed pen with the ink of ``width`` CSS px at ``scale``.

    Qt strokes a dashed wide pen through its path stroker; a 1 px cosmetic pen takes the line
    rasteriser's dash path, about 7x faster (thin dashed fibre routes were half of a site view's
    painting). Used for lines up to 1.6 device px: the opacity is raised by the width lost.
    """
    from PySide6.QtGui import QPen

    dev = width * scale
    pen = QPen(_colour(colour, min(1.0, opacity * max(1.0, dev))))
    pen.setCosmetic(True)
    pen.setWidthF(1.0)
    pen.setDashPattern([d * scale for d in (dash if len(dash) % 2 == 0 else dash * 2)])
    return pen


def _polygon(ring: Any) -> Any:
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QPolygonF

    return QPolygonF([QPointF(x, y) for x, y in ring.tolist()])


def _paint_layers(p: Any, scene: Any) -> None:
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QBrush, QPainterPath

    from planner.reports.map_scene import BACKGROUND

    p.fillRect(0, 0, int(math.ceil(scene.view.width)), int(math.ceil(scene.view.height)), _colour(BACKGROUND))
    scale = p.worldTransform().m11()
    for g in scene.paths:
        if g.dash and not g.closed and g.width * scale <= 1.6:
            p.setPen(_thin_dashed_pen(g.colour, g.width, g.opacity, g.dash, scale))
        else:
            p.setPen(_pen(g.colour, g.width, g.opacity, g.dash))
        if g.closed:  # one path per polygon: overlapping polygons must not cut holes in each other
            p.setBrush(QBrush(_colour(g.fill, g.fill_opacity)) if g.fill else Qt.BrushStyle.NoBrush)
            for rings in g.parts:
                if len(rings) == 1:
                    p.drawPolygon(_polygon(rings[0]), Qt.FillRule.OddEvenFill)
                    continue
                path = QPainterPath()
                for ring in rings:
                    path.addPolygon(_polygon(ring))
                    path.closeSubpath()
                p.drawPath(path)
        else:  # one polyline each: Qt strokes one path of thousands of subpaths far slower (13 s an atlas)
            for (ring,) in g.parts:
                p.drawPolyline(_polygon(ring))
    for pts in scene.points:
        p.setPen(_pen(pts.colour, pts.width, pts.opacity))
        for (x, y), r, fill in zip(pts.xy.tolist(), pts.radius.tolist(), pts.fills):
            p.setBrush(_colour(fill, pts.fill_opacity))
            p.drawEllipse(QPointF(x, y), r, r)
    for m in scene.sites:
        p.setPen(_pen(m.outline, m.outline_width))
        p.setBrush(_colour(m.fill, 0.85))  # the app's site markers (fillOpacity 0.85)
        p.drawEllipse(QPointF(m.x, m.y), m.radius, m.radius)


def _box(p: Any, rect: Any, alpha: float = 0.94) -> None:
    """The map's control box: white, rounded, a soft shadow (``.pm-box``)."""
    from PySide6.QtCore import Qt

    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(_colour("#000000", 0.16))
    p.drawRoundedRect(rect.translated(0, 1).adjusted(-1, -1, 1, 1), 4, 4)
    p.setBrush(_colour("#ffffff", alpha))
    p.drawRoundedRect(rect, 4, 4)


def _paint_chrome(p: Any, scene: Any) -> None:
    """Title box, the highlighted site's label and the scale bar over the map area."""
    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtGui import QFontMetricsF, QPolygonF

    w, h = scene.view.width, scene.view.height
    if scene.title:
        ft, fs = _font(14, True), _font(12)
        mt, ms = QFontMetricsF(ft), QFontMetricsF(fs)
        room = w - 40
        title = mt.elidedText(scene.title, Qt.TextElideMode.ElideRight, room)
        sub = ms.elidedText(scene.subtitle, Qt.TextElideMode.ElideRight, room)
        bw = max(mt.horizontalAdvance(title), ms.horizontalAdvance(sub)) + 16
        rect = QRectF(10, 10, bw, mt.height() + (ms.height() if sub else 0) + 12)
        _box(p, rect)
        p.setPen(_colour("#222222"))
        p.setFont(ft)
        p.drawText(QRectF(18, 16, bw - 16, mt.height()), int(Qt.AlignmentFlag.AlignLeft), title)
        if sub:
            p.setPen(_colour("#555555"))
            p.setFont(fs)
            p.drawText(QRectF(18, 16 + mt.height() + 1, bw - 16, ms.height()), int(Qt.AlignmentFlag.AlignLeft), sub)
    for m in scene.sites:
        if not (m.highlighted and m.label):
            continue
        f = _font(12)
        fm = QFontMetricsF(f)
        text = fm.elidedText(m.label, Qt.TextElideMode.ElideRight, w - 30)
        bw, bh = fm.horizontalAdvance(text) + 12, fm.height() + 8
        x = min(max(6.0, m.x - bw / 2), w - bw - 6)
        y = m.y - m.radius - 8 - bh
        if y < 6:  # no room above: below the marker
            y = m.y + m.radius + 8
        rect = QRectF(x, y, bw, bh)
        _box(p, rect, 0.96)
        tip_y = rect.bottom() if y < m.y else rect.top()
        d = 6 if y < m.y else -6
        p.drawPolygon(QPolygonF([QPointF(m.x - 6, tip_y), QPointF(m.x + 6, tip_y), QPointF(m.x, tip_y + d)]))
        p.setPen(_colour("#222222"))
        p.setFont(f)
        p.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), text)
    (mpx, mlab), (ipx, ilab) = scene.scale
    f = _font(11)
    p.setFont(f)
    x0, y0, bh = 10.0, h - 10 - 2 * 17, 17.0
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(_colour("#ffffff", 0.85))
    p.drawRect(QRectF(x0, y0, mpx, bh))
    p.drawRect(QRectF(x0, y0 + bh, ipx, bh))
    p.setPen(_pen("#777777", 2))
    p.drawPolyline(QPolygonF([QPointF(x0, y0), QPointF(x0, y0 + bh), QPointF(x0 + mpx, y0 + bh),
                              QPointF(x0 + mpx, y0)]))
    p.drawPolyline(QPolygonF([QPointF(x0, y0 + 2 * bh), QPointF(x0, y0 + bh), QPointF(x0 + ipx, y0 + bh),
                              QPointF(x0 + ipx, y0 + 2 * bh)]))
    p.setPen(_colour("#333333"))
    p.drawText(QRectF(x0 + 5, y0, 200, bh), int(Qt.AlignmentFlag.AlignVCenter), mlab)
    p.drawText(QRectF(x0 + 5, y0 + bh, 200, bh), int(Qt.AlignmentFlag.AlignVCenter), ilab)


def _paint_insets(p: Any, scene: Any) -> None:
    from PySide6.QtCore import QRectF, Qt

    for inset in scene.insets:
        iw, ih = inset.scene.view.width, inset.scene.view.height
        p.save()
        p.translate(inset.x, inset.y)
        p.setClipRect(QRectF(0, 0, iw, ih))
        _paint_layers(p, inset.scene)
        p.restore()
        p.setPen(_pen("#333333", 1.5))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(QRectF(inset.x, inset.y, iw, ih))
        label = QRectF(inset.x + 0.75, inset.y + 0.75, iw - 1.5, 16)
        p.fillRect(label, _colour("#ffffff", 0.88))
        p.setPen(_colour("#222222"))
        p.setFont(_font(11))
        p.drawText(label.adjusted(4, 0, -2, 0), int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                   inset.label)


def _paint_legend_symbol(p: Any, row: Any, x: float, cy: float) -> None:
    from PySide6.QtCore import QPointF, QRectF, Qt

    if row.symbol == "dot":
        r = row.size / 2
        p.setPen(_pen(row.colour, row.width))
        p.setBrush(_colour(row.fill or "#ffffff", 0.85))
        p.drawEllipse(QPointF(x + max(8.0, r), cy), r, r)
    elif row.symbol == "line":
        p.setPen(_pen(row.colour, row.width, 1.0, row.dash))
        p.drawLine(QPointF(x, cy), QPointF(x + 18, cy))
    else:
        p.setPen(_pen(row.colour, max(1.0, row.width), 1.0, row.dash))
        p.setBrush(_colour(row.fill, 0.6) if row.fill else Qt.BrushStyle.NoBrush)
        p.drawRect(QRectF(x + 1, cy - 5, 16, 10))


def _paint_legend(p: Any, scene: Any) -> None:
    """The legend panel right of the map (never over it) with the data credits at its foot."""
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QFontMetricsF

    x0 = scene.view.width
    lw, h = scene.width - x0, scene.height
    if lw <= 0:
        return
    p.fillRect(QRectF(x0, 0, lw, h), _colour("#ffffff"))
    p.setPen(_pen("#b8b8b8", 1))
    p.drawLine(QRectF(x0, 0, 0, h).topLeft(), QRectF(x0, 0, 0, h).bottomLeft())
    wrap = int(Qt.TextFlag.TextWordWrap)
    fh, fr, fn = _font(12, True), _font(11), _font(10)
    pad, sym = 10.0, 24.0
    x, y, tw = x0 + pad, 8.0, lw - 2 * pad

    def text(font: Any, colour: str, s: str, left: float, width: float, top: float) -> float:
        p.setFont(font)
        p.setPen(_colour(colour))
        rect = QFontMetricsF(font).boundingRect(QRectF(left, top, width, 10_000), wrap, s)
        p.drawText(QRectF(left, top, width, rect.height()), wrap, s)
        return float(rect.height())

    for sec in scene.legend:
        y += 4 + text(fh, "#222222", sec.title, x, tw, y + 4)
        for row in sec.rows:
            indent = sym + (max(0.0, row.size - 16) if row.symbol == "dot" else 0)
            fm = QFontMetricsF(fr)
            th = fm.boundingRect(QRectF(0, 0, tw - indent, 10_000), wrap, row.label).height()
            big = row.symbol == "dot" and row.size > th  # a size dot: its label centred beside it
            rh = max(th, row.size if row.symbol == "dot" else 0.0) + 3
            text(fr, "#222222", row.label, x + indent, tw - indent, y + 2 + ((rh - 3 - th) / 2 if big else 0))
            _paint_legend_symbol(p, row, x, y + 2 + ((rh - 3) / 2 if big else fm.height() / 2))
            y += rh
        if sec.note:
            y += 1 + text(fn, "#666666", sec.note, x, tw, y + 1)
        y += 4
    for note in scene.notes:
        y += 2 + text(fn, "#666666", note, x, tw, y + 2)
    credits = "Data: " + "; ".join(scene.credits) if scene.credits else ""
    if credits:
        fc = _font(9)
        ch = QFontMetricsF(fc).boundingRect(QRectF(0, 0, tw, 10_000), wrap, credits).height()
        text(fc, "#777777", credits, x, tw, max(y + 6, h - 8 - ch))


def paint_scene(scene: Any, scale: float = 2.0) -> Any:
    """A :class:`~planner.reports.map_scene.Scene` as a QImage of width*scale x height*scale px."""
    ensure_app()
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QImage, QPainter

    image = QImage(round(scene.width * scale), round(scene.height * scale), QImage.Format.Format_RGB32)
    image.fill(_colour("#ffffff"))
    p = QPainter(image)
    try:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        p.scale(scale, scale)
        p.save()
        p.setClipRect(QRectF(0, 0, scene.view.width, scene.view.height))
        _paint_layers(p, scene)
        _paint_insets(p, scene)
        _paint_chrome(p, scene)
        p.restore()
        _paint_legend(p, scene)
    finally:
        p.end()
    dpm = round(96 * scale / 0.0254)
    image.setDotsPerMeterX(dpm)
    image.setDotsPerMeterY(dpm)
    return image


# ------------------------------------------------------------------------------------------------
# whole reports: content -> images -> HTML -> PDF
# ------------------------------------------------------------------------------------------------
MAP_SCALE = 2.0  # device pixels per CSS pixel of the map pictures in reports (sharp in print)
MAP_MIME = "image/jpeg"  # Chromium's PDF writer embeds JPEG as is (PNG is recompressed: slow for an atlas)


def _site_chart(key: str, section: Any) -> tuple[Callable[[Any, Any], Any], Any]:
    from planner import plots

    builders: dict[str, tuple[Callable[[Any, Any], Any], Any]] = {
        "readiness": (plots.readiness_bars, section.result),
        "paths_cash": (plots.paths_cash_chart, section.comparison),
        "paths_npv": (plots.paths_npv_chart, section.comparison),
        "bridge": (plots.bridge_chart, section.comparison),
        "mining_outlook": (plots.hashprice_chart, section.mining),
        "network_outlook": (plots.network_chart, section.mining),
    }
    if key not in builders:
        raise RenderError(f"no chart builder for {key!r}")
    return builders[key]


def fill_section_images(section: Any, map_image: bytes | None, chart_keys: Any = None) -> Any:
    """A copy of a :class:`~planner.reports.content.SiteSection` with its map (JPEG) and chart PNGs drawn.

    ``chart_keys`` limits the charts kept (None keeps all).
    """
    from dataclasses import replace

    from planner.reports.content import with_image

    charts = []
    for img in section.charts:
        if chart_keys is not None and img.key not in chart_keys:
            continue
        builder, data = _site_chart(img.key, section)
        charts.append(with_image(img, chart_png(builder, data, img.width_px, img.height_px)))
    image = with_image(section.map_image, map_image, MAP_MIME) if map_image else None
    return replace(section, map_image=image, charts=charts)


def _pdf_subject(meta: Any) -> str:
    return "; ".join(x for x in (meta.subtitle, f"project {meta.project}", f"scenario {meta.scenario}",
                                 f"{meta.date}") if x)


def site_report_pdf(project: Any, site_id: str, out: str | os.PathLike[str], *, paper: str = "a4",
                    as_of: Any = None, progress: Callable[[float], None] | None = None) -> Path:
    """Write the PDF report of ``site_id``: readiness, upgrades, economics, map, charts, assumptions."""
    from dataclasses import replace

    from planner.reports.content import build_site_report
    from planner.reports.html import render_site_html
    from planner.reports.snapshot import render_site_maps

    report = build_site_report(project, site_id, paper=paper, as_of=as_of)  # validates before Qt starts
    if progress:
        progress(0.1)
    ensure_app()
    img = report.site.map_image
    maps = render_site_maps(project, [site_id], img.width_px, img.height_px, MAP_SCALE, mime=MAP_MIME) if img else {}
    if progress:
        progress(0.5)
    section = fill_section_images(report.site, maps.get(site_id))
    if progress:
        progress(0.7)
    out_path = html_to_pdf(render_site_html(replace(report, site=section)), out, report.meta.paper,
                           title=report.meta.title, subject=_pdf_subject(report.meta))
    if progress:
        progress(1.0)
    return out_path


ATLAS_CHARTS = ("paths_npv",)  # per-site charts on atlas pages (criteria are tabled; the full set is in site reports)
ATLAS_MAP_SCALE = 1.5  # 40 maps: a little less sharp, much faster to draw and print


def portfolio_report_pdf(project: Any, out: str | os.PathLike[str], *, paper: str = "a4", atlas: bool = False,
                         as_of: Any = None, progress: Callable[[float], None] | None = None) -> Path:
    """Write the portfolio PDF: ranking, MW aggregates, map, charts and (``atlas``) one section per site.

    ``progress`` receives 0..1; when it raises (e.g. the user cancelled) nothing is written.
    """
    from dataclasses import replace

    from planner.model.chart_data import RankingData, mw_groups
    from planner.plots import mw_groups_chart, readiness_ranking
    from planner.reports.content import build_portfolio_report, with_image
    from planner.reports.html import render_portfolio_html
    from planner.reports.snapshot import render_site_maps

    def step(lo: float, hi: float) -> Callable[[float], None] | None:
        if progress is None:
            return None
        return lambda f: progress(lo + (hi - lo) * max(0.0, min(1.0, f)))

    report = build_portfolio_report(project, paper=paper, atlas=atlas, as_of=as_of, progress=step(0.0, 0.2))
    ensure_app()
    ids = [s.site_id for s in report.atlas]
    size = (report.map_image.width_px, report.map_image.height_px) if report.map_image else (900, 580)
    maps = render_site_maps(project, ids, size[0], size[1], ATLAS_MAP_SCALE if ids else MAP_SCALE, portfolio_view=True,
                            scores=report.results, progress=step(0.2, 0.6), mime=MAP_MIME)
    overview = maps.get("__portfolio__")
    pngs: dict[str, bytes] = {}
    for img in report.charts:
        if img.key == "ranking":
            pngs[img.key] = chart_png(readiness_ranking, RankingData(report.results), img.width_px, img.height_px)
        else:
            rows = report.by_class if img.key == "mw_by_class" else report.by_region
            pngs[img.key] = chart_png(mw_groups_chart, mw_groups(img.title, rows), img.width_px, img.height_px)
    sections = []
    for i, sec in enumerate(report.atlas):
        sections.append(fill_section_images(sec, maps.get(sec.site_id), ATLAS_CHARTS))
        if progress:
            progress(0.6 + 0.3 * (i + 1) / len(report.atlas))
    report = replace(report, map_image=with_image(report.map_image, overview, MAP_MIME) if overview else None,
                     atlas=sections, charts=[with_image(c, pngs.get(c.key)) for c in report.charts])
    html = render_portfolio_html(report)
    if progress:
        progress(0.92)
    out_path = html_to_pdf(html, out, report.meta.paper, title=report.meta.title, subject=_pdf_subject(report.meta))
    if progress:
        progress(1.0)
    return out_path
