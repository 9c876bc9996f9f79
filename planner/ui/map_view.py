"""The map widget: the planner.webmap page in a QWebEngineView, locked down and wired to Qt signals.

* The page is written to a temp file and loaded with ``load(QUrl.fromLocalFile())``
  (``setHtml`` fails silently above 2 MB); its Leaflet code, CSS and images are inlined.
* :func:`planner.reports.render_qt.lock_down_page`: the page may not read other files
  (``LocalContentCanAccessFileUrls`` off) nor remote URLs (``LocalContentCanAccessRemoteUrls``
  off unless online tiles are on, then the request interceptor narrows it to the tile host);
  the interceptor blocks every request but the page's own file and data:/blob: URLs; WebRTC
  gets no UDP without a proxy (Chromium flag added at import, before WebEngine starts).
* The page refuses navigation away from the map file.
* The page calls Python only through a :class:`planner.ui.map_bridge.BridgeProxy` (QWebChannel
  object ``planner``: the four slots only, ``deleteLater`` refused) that forwards to the
  validating :class:`planner.ui.map_bridge.MapBridge`; ``qwebchannel.js`` is injected from
  Qt's resources.
"""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import html
import json
import logging
import os
import re
import shutil
import tempfile
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from PySide6.QtCore import QElapsedTimer, QEventLoop, QFile, QIODevice, QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtWebChannel import QWebChannel
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineScript, QWebEngineSettings
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from planner import __version__
from planner.reports.render_qt import add_chromium_security_flags, lock_down_page
from planner.settings import cache_dir
from planner.ui.map_bridge import BridgeProxy, MapBridge
from planner.lazy import lazy_module
from planner.webmap.options import MODES, MapOptions, app_options, tile_url_template
from planner.webmap.page_cache import scores_digest, seed_page

if TYPE_CHECKING:
    from planner.webmap import builder
else:  # pandas, shapely, Jinja: imported at the first page build, after a cached page has started loading
    builder = lazy_module("planner.webmap.builder", globals(), "builder")

log = logging.getLogger(__name__)

#: Map pages kept in the cache folder (most recently used first); each is a few MB.
PAGE_CACHE_SIZE = 8

#: What the map shows until its page has drawn (WebEngine starts on it while the project loads).
PLACEHOLDER_HTML = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Map</title><style>
html, body {{ margin: 0; height: 100%; background: #e8edf1; }}
body {{ display: flex; align-items: center; justify-content: center;
       font: 15px system-ui, "Segoe UI", "DejaVu Sans", sans-serif; color: #3d4b57; }}
</style></head><body><div id="pm-placeholder">{text}</div></body></html>
"""
LOADING_TEXT = "Loading map\u2026"

add_chromium_security_flags()  # read by Chromium when WebEngine starts (the first page), not later


def _host_pattern(template: str) -> re.Pattern[str]:
    """Regex of the host(s) of a Leaflet tile URL template (``{s}`` = any subdomain label)."""
    host = urlsplit(template.replace("{s}", "SUBDOMAIN")).hostname or ""
    return re.compile("^" + re.escape(host).replace("SUBDOMAIN", "[a-z0-9-]{1,20}") + "$", re.IGNORECASE)


def _webmap_stamp() -> str:
    """Names and change times of the page builder's files: a cached page dies with any change to them."""
    import planner.webmap as webmap

    root = Path(webmap.__file__).parent
    parts = []
    for f in sorted(root.rglob("*")):
        if f.is_file() and f.suffix in (".py", ".js", ".css", ".html"):
            st = f.stat()
            parts.append(f"{f.relative_to(root)}:{st.st_size}:{st.st_mtime_ns}")
    return ";".join(parts)


def _cached_page(cache_key: str, options: MapOptions) -> Path:
    """Where the page of this project version (file identity), map options and builder is cached.

    The key needs only the file's identity, so the page can be loaded before the file is read
    (:meth:`MapView.preload`); the scores it was built with are checked from its meta file.
    """
    digest = hashlib.sha256("\n".join([__version__, cache_key, repr(options), _webmap_stamp()])
                            .encode("utf-8")).hexdigest()[:32]
    return cache_dir() / "map-pages" / f"{digest}.html"


def _copy(src: Path, dst: Path) -> bool:
    try:
        shutil.copyfile(src, dst)
        os.utime(src)  # most recently used
        return True
    except OSError:
        return False


def _cached_meta(page: Path, scores_digest: str | None = None) -> dict[str, Any] | None:
    """What :func:`build_map` reported about a cached page (None: not cached, unreadable, or other scores)."""
    try:
        meta = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or not page.is_file():
        return None
    return meta if scores_digest is None or meta.get("scores") == scores_digest else None


def _store_page(page: Path, target: Path, meta: dict[str, Any]) -> None:
    """Keep ``page`` as ``target`` with its build ``meta`` (atomic); drop the least recently used beyond the size."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(page, tmp)
        tmp.replace(target)
        tmp.write_text(json.dumps(meta), encoding="utf-8")
        tmp.replace(target.with_suffix(".json"))  # written last: a page counts as cached once its meta exists
        pages = sorted(target.parent.glob("*.html"), key=lambda f: f.stat().st_mtime, reverse=True)
        for old in pages[PAGE_CACHE_SIZE:]:
            old.unlink(missing_ok=True)
            old.with_suffix(".json").unlink(missing_ok=True)
    except OSError as e:   # a cache: never a reason to fail showing the map
        log.info("map: page not cached (%s)", e)


class MapPage(QWebEnginePage):
    """Page that stays on the map file and collects JS console messages."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.allowed_url: QUrl | None = None
        self.refused: list[str] = []
        self.console: list[tuple[str, str, int, str]] = []  # (level, message, line, source)

    def acceptNavigationRequest(self, url: QUrl | str, nav_type: QWebEnginePage.NavigationType,  # noqa: N802
                                is_main_frame: bool) -> bool:
        url = QUrl(url)
        if self.allowed_url is not None and url.toString().split("#", 1)[0] == self.allowed_url.toString():
            return True
        if not is_main_frame and url.scheme() in ("about", "data"):
            return True
        self.refused.append(url.toString())
        del self.refused[:-100]
        log.info("map: refused navigation to %s", url.toString())
        return False

    def javaScriptConsoleMessage(self, level: QWebEnginePage.JavaScriptConsoleMessageLevel,  # noqa: N802
                                 message: str, line: int, source: str) -> None:
        name = {QWebEnginePage.JavaScriptConsoleMessageLevel.InfoMessageLevel: "info",
                QWebEnginePage.JavaScriptConsoleMessageLevel.WarningMessageLevel: "warning",
                QWebEnginePage.JavaScriptConsoleMessageLevel.ErrorMessageLevel: "error"}.get(level, "info")
        self.console.append((name, message, line, source))
        del self.console[:-500]
        (log.warning if name == "error" else log.debug)("map js %s: %s (line %s)", name, message, line)


def _qwebchannel_script() -> QWebEngineScript:
    f = QFile(":/qtwebchannel/qwebchannel.js")
    if not f.open(QIODevice.OpenModeFlag.ReadOnly):  # pragma: no cover - part of QtWebChannel
        raise RuntimeError("qwebchannel.js not found in Qt resources")
    source = bytes(f.readAll().data()).decode("utf-8")
    f.close()
    script = QWebEngineScript()
    script.setName("qwebchannel")
    script.setSourceCode(source)
    script.setInjectionPoint(QWebEngineScript.InjectionPoint.DocumentCreation)
    script.setWorldId(QWebEngineScript.ScriptWorldId.MainWorld)
    script.setRunsOnSubFrames(False)
    return script


class MapView(QWidget):
    """The planner map: build with :func:`planner.webmap.build_map`, show, and relay page events."""

    site_clicked = Signal(str)
    map_clicked = Signal(float, float)  # lon, lat
    site_moved = Signal(str, float, float)  # site_id, lon, lat
    measure_finished = Signal(float)  # km
    load_finished = Signal(bool)
    #: :meth:`set_project` takes a ``cache_key`` (the main window passes one for unedited files)
    caches_pages = True

    def __init__(self, parent: QWidget | None = None, options: MapOptions | None = None) -> None:
        super().__init__(parent)
        # the Layers panel is the map's layer switch: no second one inside the page
        self.options = options or app_options()
        self._legend_layers: list[dict[str, Any]] | None = None
        self._selected = ""
        self._project: Any = None
        self._scores: Any = None
        self._loaded = False
        self._pending_js: list[tuple[str, Callable[[Any], None] | None]] = []
        self._tmpdir = Path(tempfile.mkdtemp(prefix="planner-map-"))
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self._tmpdir), True)
        self._builds = 0
        self._html_path: Path | None = None
        self._pending_build: tuple[MapOptions, str | None] | None = None
        self._site_filter: frozenset[str] | None = None  # the sites table's filtered rows (None: all)
        self._released = False
        # a cached page loaded before the project was read: (cache file, its meta, page file)
        self._preloaded: tuple[Path, dict[str, Any], Path] | None = None
        self._finished: tuple[Path | None, bool] | None = None  # (page file, ok) of the last loadFinished
        self._build_ui()
        self._connect()

    # -- construction -----------------------------------------------------------------
    def _build_ui(self) -> None:
        self.view = QWebEngineView(self)
        self.page = MapPage(self.view)
        self.interceptor = lock_down_page(self.page, javascript=True)
        self.page.scripts().insert(_qwebchannel_script())
        self.bridge = MapBridge(self)
        self.bridge_proxy = BridgeProxy(self.bridge, self)
        self.channel = QWebChannel(self.page)
        self.channel.registerObject("planner", self.bridge_proxy)
        self.page.setWebChannel(self.channel)
        self.view.setPage(self.page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        # over the view until a map page has loaded: Chromium shows white while it loads a page
        # (a few seconds for a national grid), this says what is happening instead
        self.overlay = QLabel(LOADING_TEXT, self)
        self.overlay.setObjectName("mapOverlay")
        self.overlay.setTextFormat(Qt.TextFormat.PlainText)
        self.overlay.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.overlay.setWordWrap(True)
        self.overlay.setStyleSheet("QLabel#mapOverlay { background: #e8edf1; color: #3d4b57; font-size: 11pt; }")
        self.overlay.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.overlay.raise_()
        # warm-up: a small "Loading map…" page starts WebEngine's processes now, while the caller
        # loads the project (and says what is happening instead of a white rectangle)
        self.set_placeholder(LOADING_TEXT)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.overlay.setGeometry(self.rect())

    @property
    def overlay_text(self) -> str:
        """What the map says instead of a map ("" while a map page is shown)."""
        return self.overlay.text() if not self.overlay.isHidden() else ""

    def _cover(self, text: str) -> None:
        self.overlay.setText(text)
        self.overlay.setGeometry(self.rect())
        self.overlay.show()
        self.overlay.raise_()

    def set_placeholder(self, text: str) -> None:
        """Show ``text`` on a plain page instead of a map (start-up, no project).

        A ``data:`` URL: the interceptor lets it through whatever page file it expects next (the
        map page may be requested while this one is still on its way).
        """
        page = PLACEHOLDER_HTML.format(text=html.escape(text)).encode("utf-8")
        url = QUrl("data:text/html;charset=utf-8;base64," + base64.b64encode(page).decode("ascii"))
        self.page.allowed_url = url
        self._loaded = False  # JavaScript waits for this page (a script sent to the last one may never answer)
        self.view.load(url)
        self._cover(text)

    def _connect(self) -> None:
        self.page.loadFinished.connect(self._on_page_load_finished)
        self.bridge.site_clicked.connect(self.site_clicked)
        self.bridge.map_clicked.connect(self.map_clicked)
        self.bridge.site_moved.connect(self.site_moved)
        self.bridge.measure_finished.connect(self.measure_finished)

    # -- building -----------------------------------------------------------------------
    @property
    def html_path(self) -> Path | None:
        """The file of the current page (None before the first build)."""
        return self._html_path

    @property
    def scores(self) -> Any:
        """The readiness scores the current page is coloured by."""
        return self._scores

    def set_project(self, project: Any, scores: Any = None, options: MapOptions | None = None,
                    cache_key: str | None = None) -> None:
        """Build the map of ``project`` (coloured by ``scores``) and load it.

        ``cache_key`` names an unmodified project version (e.g. the file's path, size and
        modification time): the page built for it, these scores, options and this planner
        version is kept in the cache folder and reused on the next start instead of rebuilt.
        """
        self._project = project
        self._scores = scores
        self._selected = ""
        if options is not None:
            self.options = options
        self._schedule(self.options, cache_key)

    def preload(self, cache_key: str, source: str | Path | None = None) -> bool:
        """Load the kept page of ``cache_key`` now, before the project is read; True when there is one.

        The page comes from the cache folder, else (``source`` being the bundled sample's file)
        from the page shipped with the sample (:mod:`planner.webmap.page_cache`).
        :meth:`set_project` with the same key and the scores the page was built with keeps
        this page (no second load; a shipped page is then cached for the key); other scores or
        another key build and load as usual.
        """
        if self._released or self._html_path is not None:
            return False
        cached = _cached_page(cache_key, self.options)
        src, meta = cached, _cached_meta(cached)
        if meta is None and source is not None:
            src, meta = seed_page(source, self.options) or (cached, None)
        if meta is None:
            return False
        self._builds += 1
        path = self._tmpdir / f"map-{self._builds}.html"
        tmp = path.with_suffix(".tmp")
        if not _copy(src, tmp):
            return False
        tmp.replace(path)
        log.debug("map: page preloaded from %s", src)
        self._preloaded = (cached, meta, path)
        self._show_page(path, self.options)
        return True

    def _schedule(self, options: MapOptions, cache_key: str | None = None) -> None:
        """Build the page on the next turn of the event loop (what else changed paints first); last request wins."""
        first = self._pending_build is None
        self._pending_build = (options, cache_key)
        self._loaded = False  # JavaScript waits for the new page
        if first:
            QTimer.singleShot(0, self._build_pending)

    def _build_pending(self) -> None:
        if self._pending_build is None or self._released:
            return
        options, cache_key = self._pending_build
        self._pending_build = None
        project = self._project
        if project is not None and not getattr(project, "layers", None) and not len(project.portfolio):
            # an empty project (the window's own, before the first open): no page to build; the page
            # shown (the placeholder, or a kept page of the file being opened) keeps taking JavaScript
            if self._html_path is not None and self._finished == (self._html_path, True):
                self._on_page_load_finished(True)
            return
        self._rebuild(options, cache_key)

    def refresh(self, scores: Any = None) -> None:
        """Show the current sites (new ``scores`` when given) without rebuilding the page.

        Markers, popups, the legend's counts and the subtitle are updated in place through
        ``plannerMap.updateSites``: view, selection, legend state and layer visibility stay.
        Before the page has loaded (or without a build) the page is built instead.
        """
        if scores is not None:
            self._scores = scores
        if self._project is None or self._pending_build is not None:
            return  # the page about to be built shows the latest scores
        if self._legend_layers is None:  # never built
            self._schedule(self.options)
            return
        update = builder.sites_update(self._project, self._scores, self._legend_layers, only=self._site_filter)
        self.bridge.set_site_ids(e["id"] for e in update["sites"])
        self.run_js(f"window.plannerMap && plannerMap.updateSites({json.dumps(update)})")
        self._send_popup()  # updateSites replaced the selected site's popup

    def set_site_filter(self, site_ids: Any) -> None:
        """Show only ``site_ids`` (the sites table's filtered rows; None shows every site), in place."""
        ids = None if site_ids is None else frozenset(str(s) for s in site_ids)
        if ids == self._site_filter:
            return
        self._site_filter = ids
        self.refresh()

    def reload(self, scores: Any = None) -> None:
        """Rebuild the page (layers changed) keeping centre, zoom, selection and the legend's state."""
        if scores is not None:
            self._scores = scores
        if self._project is None:
            return
        if not self._loaded:
            self._schedule(self.options)
            return

        def _with_view(result: Any) -> None:
            opts = self.options
            collapsed: bool | None = None
            try:
                v = json.loads(result) if isinstance(result, str) else None
                opts = dataclasses.replace(opts, center_lat_lon=(float(v["lat"]), float(v["lon"])),
                                           zoom=int(v["zoom"]))
                collapsed = bool(v.get("legend_collapsed"))
            except (TypeError, ValueError, KeyError, AttributeError):
                log.debug("map: could not read the current view (%r); rebuilding with defaults", result)
            self._rebuild(opts)
            if collapsed is not None:  # as the user left it (a small map starts folded)
                self.run_js(f"window.plannerMap && plannerMap.setLegendCollapsed({'true' if collapsed else 'false'})")
            if self._selected:
                self.select_site(self._selected, pan=False)

        self.run_js("window.plannerMap ? plannerMap.getView() : null", _with_view)

    def _rebuild(self, options: MapOptions, cache_key: str | None = None) -> None:
        cached = _cached_page(cache_key, options) if cache_key else None
        digest = scores_digest(self._scores)
        pre, self._preloaded = self._preloaded, None
        if pre is not None and pre[0] == cached and pre[1].get("scores") == digest and self._html_path == pre[2]:
            if not cached.exists():  # the page shipped with the sample: cached for this file from now on
                _store_page(pre[2], cached, pre[1])
            self._adopt_preloaded(pre[1], options)  # the page already loading (or loaded) is this one
            return
        self._builds += 1
        path = self._tmpdir / f"map-{self._builds}.html"
        tmp = path.with_suffix(".tmp")
        meta = _cached_meta(cached, digest) if cached is not None else None
        if meta is not None and _copy(cached, tmp):  # type: ignore[arg-type]
            log.debug("map: page from the cache (%s)", cached.name)  # type: ignore[union-attr]
        else:
            top = self.window()
            if top is not self and top.isVisible():
                top.repaint()  # what changed with the project (the sites table) is on screen before the build
            meta = {}
            html_text = builder.build_map(self._project, self._scores, options, meta=meta)
            tmp.write_text(html_text, encoding="utf-8")
            if cached is not None:
                _store_page(tmp, cached, {**meta, "scores": digest})
        self._legend_layers = meta.get("legend_layers", [])
        tmp.replace(path)
        self._set_bridge_sites()
        self._show_page(path, options)

    def _set_bridge_sites(self) -> None:
        self.bridge.set_site_ids(s.site_id for s in self._project.portfolio
                                 if s.lat is not None and s.lon is not None)

    def _adopt_preloaded(self, meta: dict[str, Any], options: MapOptions) -> None:
        """The project arrived for the preloaded page: wire it up; JavaScript runs once it has loaded."""
        self._legend_layers = meta.get("legend_layers", [])
        self._set_bridge_sites()
        self.bridge.mode = options.mode
        if self._finished == (self._html_path, True):
            self._on_page_load_finished(True)

    def _show_page(self, path: Path, options: MapOptions) -> None:
        """Load the page file ``path`` (built with ``options``) in place of the current one."""
        old, self._html_path = self._html_path, path
        template = tile_url_template(options)
        self.interceptor.tile_host = _host_pattern(template) if template else None
        # a file:// page may reach remote URLs only for online tiles; the interceptor then
        # narrows that to the tile host
        self.page.settings().setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls,
                                          template is not None)
        self.interceptor.page_url = QUrl.fromLocalFile(str(path)).toString()
        self.bridge.mode = options.mode
        self._loaded = False
        url = QUrl.fromLocalFile(str(path))
        self.page.allowed_url = url
        self.view.load(url)
        if old is None:
            self._cover(LOADING_TEXT)  # the first map; a rebuilt page replaces the last one in place
        if old is not None and old != path:
            old.unlink(missing_ok=True)

    def _on_page_load_finished(self, ok: bool) -> None:
        if self._finished != (self._html_path, True):  # a refused navigation later never undoes a success
            self._finished = (self._html_path, bool(ok))
        if ok and self._html_path is not None and self.page.url() == QUrl.fromLocalFile(str(self._html_path)):
            self.overlay.hide()  # the map page has run its script: the map draws in the next frame
        if self._pending_build is not None:
            return  # an older page finished loading; queued JavaScript waits for the page being built
        if self._loaded and not ok:
            # a refused navigation away from the map also ends in loadFinished(False);
            # the map page itself is still there and working
            log.debug("map: ignored loadFinished(False) of a refused navigation")
            return
        self._loaded = bool(ok)
        if ok:
            self.bridge.mode = self.options.mode
            pending, self._pending_js = self._pending_js, []
            for code, cb in pending:
                self.run_js(code, cb)
            if self._site_filter is not None:
                self.refresh()  # a new page draws every site: the table's filter applies again
        self.load_finished.emit(bool(ok))

    # -- talking to the page ----------------------------------------------------------------
    def run_js(self, code: str, callback: Callable[[Any], None] | None = None) -> None:
        """Run ``code`` in the page (queued until the page has loaded); ``callback`` gets the result."""
        if not self._loaded:
            self._pending_js.append((code, callback))
            return
        if callback is None:
            self.page.runJavaScript(code, 0)
        else:
            self.page.runJavaScript(code, 0, callback)

    def select_site(self, site_id: str, pan: bool = True) -> None:
        """Highlight ``site_id`` ("" clears) and open its popup; ``pan`` brings it into view.

        The popup always shows the selected site (the selection drives it, not the click).
        """
        self._selected = str(site_id or "")
        self._send_popup()
        self.run_js(f"window.plannerMap && plannerMap.selectSite({json.dumps(self._selected)}, "
                    f"{'true' if pan else 'false'})")

    def _send_popup(self) -> None:
        """The selected undecided site's popup gains its next fact (readiness.next_facts, one site)."""
        sid, project = self._selected, self._project
        score = (self._scores or {}).get(sid) if sid else None
        if project is None or getattr(score, "leans", None) is None or sid not in project.portfolio:
            return
        site = project.portfolio.get(sid)
        if site.lat is None or site.lon is None:
            return
        self.run_js(f"window.plannerMap && plannerMap.setPopup({json.dumps(sid)}, "
                    f"{json.dumps(builder.site_popup(project, site, score))})")

    def zoom_to_sites(self) -> None:
        """Fit the view to every located site (View > Zoom to all sites)."""
        self.run_js("window.plannerMap && plannerMap.zoomToSites()")

    def set_layer_visible_by_name(self, name: str, visible: bool) -> None:
        """Show or hide the project layer ``name`` (the Layers panel's switch) without a rebuild."""
        self.run_js(f"window.plannerMap && plannerMap.setLayerVisibleByName({json.dumps(str(name))}, "
                    f"{'true' if visible else 'false'})")

    def set_mode(self, mode: str) -> None:
        """Switch the interaction mode: "browse", "add" (map clicks), "move" (drag sites), "measure"."""
        if mode not in MODES:
            raise ValueError(f"map mode {mode!r} is not one of {', '.join(MODES)}")
        self.options = dataclasses.replace(self.options, mode=mode)
        self.bridge.mode = mode
        self.run_js(f"window.plannerMap && plannerMap.setMode({json.dumps(mode)})")

    def set_layer_visible(self, kind: str, visible: bool) -> None:
        """Show or hide every layer of ``kind`` ("sites", "transmission", ...) without a rebuild."""
        shown = dict(self.options.layer_visibility)
        shown[str(kind)] = bool(visible)
        self.options = dataclasses.replace(self.options, layer_visibility=shown)
        self.run_js(f"window.plannerMap && plannerMap.setLayerVisible({json.dumps(str(kind))}, "
                    f"{'true' if visible else 'false'})")

    def release(self) -> None:
        """Delete the page now (before the QApplication ends) so its profile is freed cleanly."""
        self._released = True
        self._pending_build = None
        page = self.page
        self.view.setPage(None)  # type: ignore[arg-type]
        page.deleteLater()

    # -- diagnostics / export ------------------------------------------------------------------
    @property
    def console_messages(self) -> list[tuple[str, str, int, str]]:
        """JS console messages of the page as (level, message, line, source)."""
        return list(self.page.console)

    @property
    def js_errors(self) -> list[str]:
        """JS console errors of the page."""
        return [m for lvl, m, _, _ in self.page.console if lvl == "error"]

    def eval_js(self, code: str, timeout_ms: int = 20_000) -> Any:
        """Run ``code`` and wait for its result (spins a local event loop; for tests and exports)."""
        loop = QEventLoop()
        box: dict[str, Any] = {}

        def done(result: Any) -> None:
            box["r"] = result
            loop.quit()

        QTimer.singleShot(timeout_ms, loop.quit)
        self.run_js(code, done)
        if "r" not in box:
            loop.exec()
        if "r" not in box:
            raise TimeoutError(f"map: no result from JavaScript within {timeout_ms} ms")
        return box["r"]

    def wait_ready(self, timeout_ms: int = 20_000) -> bool:
        """Wait until the page reports that its layers have drawn (``plannerMap.ready``)."""
        timer = QElapsedTimer()
        timer.start()
        while timer.elapsed() < timeout_ms:
            if self._loaded:
                try:
                    if self.eval_js("!!(window.plannerMap && plannerMap.ready)",
                                    max(100, timeout_ms - int(timer.elapsed()))) is True:
                        return True
                except TimeoutError:
                    return False
            loop = QEventLoop()
            QTimer.singleShot(50, loop.quit)
            loop.exec()
        return False

    def grab_png(self, path: str | Path, width: int = 1200, height: int = 800, timeout_ms: int = 20_000) -> Path:
        """Render the map at ``width`` x ``height`` px to a PNG once the page reports ready."""
        self.view.resize(width, height)
        if self.isHidden():
            self.resize(width, height)
        if not self.wait_ready(timeout_ms):
            raise TimeoutError(f"map: page not ready within {timeout_ms} ms; PNG not written")
        self.run_js("window.plannerMap && plannerMap.invalidate && plannerMap.invalidate()")
        loop = QEventLoop()
        QTimer.singleShot(300, loop.quit)  # let the compositor paint the resized page
        loop.exec()
        out = Path(path)
        if not self.view.grab().save(str(out), "PNG"):
            raise OSError(f"map: could not write {out}; check the folder exists and is writable")
        return out
