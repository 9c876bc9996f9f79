"""``planner --selftest``: prove that an installation (wheel, checkout or frozen folder) really works.

Opens the main window offscreen on the bundled sample, waits for the map to draw, exports a
PNG snapshot of the portfolio map and the PDF report of the first located site into a temp
folder, and checks them. Prints one line per check and a summary; the exit code is 0 only
when every check passed. Nothing outside the temp folder is written: the planner's config,
data and cache folders are pointed into it for the run.

Environment:
``PLANNER_SELFTEST_DIR``  write the files there and keep them (default: a temp folder, kept on failure)
``PLANNER_SELFTEST_TIMEOUT_S``  per-step timeout for the map and the report (default 120 s)
``PLANNER_DEBUG=1``  print tracebacks of failed checks
"""
from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import time
import traceback
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DIST_NAME = "site-conversion-planner"
DEFAULT_TIMEOUT_S = 120.0
MIN_PNG_BYTES = 10_000
MIN_PIXEL_STD = 8.0  # grey-level standard deviation (0-255): a drawn map is far above, a blank page ~0
MIN_MAP_VIEW_PX = (400, 250)  # the map area of the main window at its self-test size
WINDOW_SIZE_PX = (1600, 1000)
SNAPSHOT_SIZE_PX = (1000, 650)
_PREFIX = "selftest:"


class SelftestFailure(Exception):
    """A self-test check did not hold (the message says what was expected and what was found)."""


@dataclass
class CheckResult:
    """Outcome of one self-test check."""

    name: str
    status: str  # "ok" | "FAIL" | "skip"
    detail: str
    seconds: float

    def line(self) -> str:
        """The printed summary line of this check."""
        return f"{_PREFIX} [{self.status:^4}] {self.name:<12} {self.detail} ({self.seconds:.1f} s)"


# -- environment ------------------------------------------------------------------------------
def prepare_environment(env: dict[str, str] | None = None, *, is_root: bool | None = None,
                        platform: str | None = None) -> dict[str, str]:
    """Set what headless Qt WebEngine needs in ``env`` (default ``os.environ``); returns ``env``.

    ``QT_QPA_PLATFORM=offscreen`` on Linux when there is no X11/Wayland display,
    ``QTWEBENGINE_DISABLE_SANDBOX=1`` when running as root (Chromium refuses its sandbox then).
    Values the user set are kept.
    """
    env = os.environ if env is None else env  # type: ignore[assignment]
    platform = sys.platform if platform is None else platform
    if is_root is None:
        is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if platform.startswith("linux") and not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    if env.get("QT_QPA_PLATFORM") == "offscreen":
        env.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu --disable-logging")
        env.setdefault("QT_LOGGING_RULES", "qt.webenginecontext.debug=false;js.debug=false;qt.qpa.*=false")
    if is_root:
        env.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    env.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
    return env  # type: ignore[return-value]


# -- file checks (pure enough to unit-test) ------------------------------------------------------
def check_png(path: str | os.PathLike[str], min_size_px: tuple[int, int] = (200, 200),
              min_std: float = MIN_PIXEL_STD, min_bytes: int = MIN_PNG_BYTES) -> str:
    """Check that ``path`` is a PNG of at least ``min_size_px`` that is not blank; returns a summary.

    Blank means a grey-level standard deviation below ``min_std`` (a white or grey page).
    Raises :class:`SelftestFailure` otherwise.
    """
    import numpy as np
    from PySide6.QtGui import QImage

    p = Path(path)
    if not p.is_file():
        raise SelftestFailure(f"{p.name} was not written")
    size_b = p.stat().st_size
    if p.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
        raise SelftestFailure(f"{p.name} is not a PNG file (bad signature)")
    if size_b < min_bytes:
        raise SelftestFailure(f"{p.name} is only {size_b} bytes (expected >= {min_bytes})")
    image = QImage(str(p))
    if image.isNull():
        raise SelftestFailure(f"{p.name} could not be decoded as an image")
    w, h = image.width(), image.height()
    if w < min_size_px[0] or h < min_size_px[1]:
        raise SelftestFailure(f"{p.name} is {w}x{h} px (expected at least {min_size_px[0]}x{min_size_px[1]})")
    grey = image.convertToFormat(QImage.Format.Format_Grayscale8)
    bpl = grey.bytesPerLine()
    arr = np.frombuffer(bytes(grey.constBits()), dtype=np.uint8)[: bpl * h].reshape(h, bpl)[:, :w]
    std = float(arr.std())
    if std < min_std:
        raise SelftestFailure(f"{p.name} looks blank: pixel std {std:.1f} < {min_std} ({w}x{h} px)")
    # a page painted into only part of the picture (e.g. grabbed before a resize reached the
    # compositor) leaves a flat quadrant even when the whole picture varies enough
    for name, q in (("top-left", arr[: h // 2, : w // 2]), ("top-right", arr[: h // 2, w // 2:]),
                    ("bottom-left", arr[h // 2:, : w // 2]), ("bottom-right", arr[h // 2:, w // 2:])):
        q_std = float(q.std())
        if q_std < min_std / 4:
            raise SelftestFailure(f"{p.name}: the {name} quarter is flat (pixel std {q_std:.1f}): "
                                  "only part of the picture was drawn")
    distinct = len(np.unique(arr[:: max(1, h // 200), :: max(1, w // 200)]))
    return f"{p.name} {w}x{h} px, {size_b / 1024:.0f} KiB, pixel std {std:.1f}, {distinct} grey levels"


def _normalise(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().casefold()


def check_pdf(path: str | os.PathLike[str], must_contain: str, min_pages: int = 1) -> str:
    """Check that ``path`` is a PDF with >= ``min_pages`` pages whose text contains ``must_contain``.

    Text comes from pypdf; whitespace and Unicode forms are normalised (PDF text extraction
    splits lines where the layout does). Raises :class:`SelftestFailure` otherwise.
    """
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    p = Path(path)
    if not p.is_file():
        raise SelftestFailure(f"{p.name} was not written")
    with p.open("rb") as f:
        head = f.read(5)
    if head != b"%PDF-":
        raise SelftestFailure(f"{p.name} does not start with %PDF- (found {head!r})")
    try:
        reader = PdfReader(str(p))
        pages = len(reader.pages)
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
    except (PyPdfError, ValueError, KeyError) as e:
        raise SelftestFailure(f"{p.name} could not be read by pypdf: {e}") from e
    if pages < min_pages:
        raise SelftestFailure(f"{p.name} has {pages} pages (expected >= {min_pages})")
    want = _normalise(must_contain)
    found = want in _normalise(text) or want.replace(" ", "") in _normalise(text).replace(" ", "")
    if not found:
        raise SelftestFailure(f"{p.name}: text of its {pages} pages does not contain {must_contain!r}")
    return f"{p.name} {pages} pages, {p.stat().st_size / 1024:.0f} KiB, contains {must_contain!r}"


# -- the run ---------------------------------------------------------------------------------------
class _Run:
    """State shared by the checks of one self-test run."""

    def __init__(self, out_dir: Path, timeout_s: float) -> None:
        self.out_dir = out_dir
        self.timeout_ms = int(timeout_s * 1000)
        self.app: Any = None
        self.window: Any = None
        self.errors: list[str] = []  # error boxes the window tried to show
        self.results: list[CheckResult] = []

    def check(self, name: str, fn: Callable[[], str], needs: tuple[str, ...] = ()) -> None:
        """Run one check, record and print its line; skipped when a check it needs did not pass."""
        failed = [r.name for r in self.results if r.name in needs and r.status != "ok"]
        t = time.perf_counter()
        if failed:
            res = CheckResult(name, "skip", f"needs {', '.join(failed)}", 0.0)
        else:
            try:
                res = CheckResult(name, "ok", fn(), time.perf_counter() - t)
            except Exception as e:  # a self-test reports every failure, it never crashes
                if os.environ.get("PLANNER_DEBUG"):
                    traceback.print_exc()
                first = (str(e).strip().splitlines() or [""])[0]
                detail = first if isinstance(e, SelftestFailure) else f"{type(e).__name__}: {first}"
                res = CheckResult(name, "FAIL", detail, time.perf_counter() - t)
        self.results.append(res)
        print(res.line(), flush=True)

    # -- checks --------------------------------------------------------------------------------
    def runtime(self) -> str:
        from importlib.metadata import PackageNotFoundError, version

        import PySide6
        from PySide6.QtCore import qVersion
        from PySide6.QtGui import QGuiApplication, QImageReader

        from planner.app import app_icon
        from planner.reports.render_qt import ensure_app

        try:
            ver = version(DIST_NAME)
        except PackageNotFoundError as e:
            raise SelftestFailure(f"no package metadata for {DIST_NAME}: the version cannot be shown "
                                  "(frozen build: add copy_metadata to the spec)") from e
        self.app = ensure_app()
        from planner import APP_NAME

        self.app.setApplicationName(APP_NAME)
        self.app.setApplicationVersion(ver)
        self.app.setOrganizationName("planner")
        icon = app_icon()
        if icon.isNull() or icon.pixmap(64, 64).isNull():
            raise SelftestFailure("the app icon (resources/icons/app.svg) did not load; is the Qt SVG plugin there?")
        self.app.setWindowIcon(icon)
        if b"svg" not in [bytes(f.data()) for f in QImageReader.supportedImageFormats()]:
            raise SelftestFailure("Qt has no SVG image format plugin")
        frozen = "yes" if getattr(sys, "frozen", False) else "no"
        return (f"planner {ver}, Python {sys.version.split()[0]}, PySide6 {PySide6.__version__} "
                f"(Qt {qVersion()}), platform {QGuiApplication.platformName()}, frozen: {frozen}")

    def data_files(self) -> str:
        import pyogrio
        import pyproj
        from pyproj import Geod, Transformer

        from planner.assets import asset_dir, sample_project

        proj_dir = Path(pyproj.datadir.get_data_dir())
        if not (proj_dir / "proj.db").is_file():
            raise SelftestFailure(f"pyproj data: proj.db not found in {proj_dir}")
        x, y = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True).transform(-100.0, 31.0)
        if not (abs(x + 11_131_949.08) < 1.0 and abs(y - 3_632_749.14) < 1.0):
            raise SelftestFailure(f"EPSG:4326 -> EPSG:3857 gave ({x:.1f}, {y:.1f}); PROJ data is wrong")
        # Austin to Dallas, WGS84 geodesic (sanity check of pyproj.Geod, independent of proj.db)
        dist_km = Geod(ellps="WGS84").inv(-97.7431, 30.2672, -96.7970, 32.7767)[2] / 1000
        if not 290 < dist_km < 300:
            raise SelftestFailure(f"geodesic Austin-Dallas distance {dist_km:.1f} km is not ~295 km")
        gdal_data = pyogrio.get_gdal_data_path()
        if not gdal_data or not Path(gdal_data).is_dir() or not any(Path(gdal_data).iterdir()):
            raise SelftestFailure(f"GDAL data folder not found (pyogrio.get_gdal_data_path() = {gdal_data!r})")
        sample = sample_project()
        layers = pyogrio.list_layers(sample)
        templates = asset_dir("resources") / "templates"
        if not templates.is_dir() or not any(templates.glob("*.j2")):
            raise SelftestFailure(f"report templates missing in {templates}")
        return (f"proj.db in {proj_dir.name}/, GDAL data {Path(gdal_data).name}/, "
                f"sample {sample.name} with {len(layers)} layers, templates ok")

    def main_window(self) -> str:
        from planner.assets import sample_project
        from planner.settings import load_settings
        from planner.ui.main_window import MainWindow

        sample = sample_project()  # before any widget: a broken install fails here, fast
        window = MainWindow(load_settings())
        # a self-test never waits for a person: error boxes become failures instead of modal dialogs
        window.show_error = lambda title, message: (self.errors.append(f"{title}: {message}"),  # type: ignore[method-assign]
                                                    window.show_status(message))
        self.window = window
        window.show()
        # the first layout maximises on a small screen (offscreen's is 800x600): the self-test
        # checks the map at its own, fixed window size instead
        from PySide6.QtCore import Qt
        window.setWindowState(Qt.WindowState.WindowNoState)
        window.resize(*WINDOW_SIZE_PX)
        if not window.open_project(sample):
            raise SelftestFailure(f"the sample did not open: {'; '.join(self.errors) or 'no error shown'}")
        n = len(window.portfolio)
        located = [s for s in window.portfolio if s.has_location]
        if n == 0 or not located:
            raise SelftestFailure(f"the sample has {n} sites, {len(located)} with a location (expected > 0)")
        if self.errors:
            raise SelftestFailure("; ".join(self.errors))
        return f"{window.windowTitle()!r}: {n} sites ({len(located)} located), {len(window.project.layers)} layers"

    def map_drawn(self) -> str:
        import json

        view = self.window.map_view
        t = time.perf_counter()
        if not view.wait_ready(self.timeout_ms):
            raise SelftestFailure(f"the map did not report ready within {self.timeout_ms / 1000:.0f} s "
                                  f"(JS errors: {view.js_errors[:3] or 'none'})")
        ready_s = time.perf_counter() - t
        counts = json.loads(view.eval_js("plannerMap.countFeatures()", self.timeout_ms))
        n_located = sum(1 for s in self.window.portfolio if s.has_location)
        if int(counts.get("sites", 0)) != n_located:
            raise SelftestFailure(f"the map drew {counts.get('sites', 0)} sites, expected {n_located}: {counts}")
        bridge = False
        deadline = time.monotonic() + 10
        while not bridge and time.monotonic() < deadline:  # QWebChannel connects asynchronously
            bridge = view.eval_js("!!(window.plannerMap && plannerMap.bridgeReady)", self.timeout_ms) is True
        if not bridge:
            raise SelftestFailure("the page has no QWebChannel bridge to Python (qwebchannel.js missing?)")
        if view.js_errors:
            raise SelftestFailure(f"JavaScript errors on the map page: {view.js_errors[:3]}")
        # grab the map at the size the window gives it: what the analyst sees
        size = (view.view.width(), view.view.height())
        out = self.out_dir / "map_view.png"
        view.grab_png(out, *size, timeout_ms=self.timeout_ms)
        summary = check_png(out, MIN_MAP_VIEW_PX)
        layers = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if v)
        return f"ready in {ready_s:.1f} s; {layers}; bridge ok; {summary}"

    def snapshot_png(self) -> str:
        from planner.reports.snapshot import snapshot_png

        out = self.out_dir / "snapshot.png"
        snapshot_png(self.window.project, out, width=SNAPSHOT_SIZE_PX[0], height=SNAPSHOT_SIZE_PX[1],
                     scale=1.0, timeout_ms=self.timeout_ms)
        return check_png(out, SNAPSHOT_SIZE_PX)

    def site_pdf(self) -> str:
        from planner.reports.render_qt import site_report_pdf

        site = next(s for s in self.window.portfolio if s.has_location)
        out = self.out_dir / "site_report.pdf"
        site_report_pdf(self.window.project, site.site_id, out)
        return f"{site.site_id}: " + check_pdf(out, str(site.name))

    def close(self) -> None:
        """Close the window without questions (the self-test never edits the project)."""
        w, self.window = self.window, None
        if w is None:
            return
        try:
            w.undo_stack.setClean()
            w.map_view.release()
            w.close()
            w.deleteLater()
            from PySide6.QtCore import QCoreApplication, QEvent

            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            QCoreApplication.processEvents()
        except Exception as e:  # cleanup must not turn a pass into a crash
            print(f"{_PREFIX} note: window cleanup: {type(e).__name__}: {e}", file=sys.stderr)


_ENV_DIRS = ("PLANNER_CONFIG_DIR", "PLANNER_DATA_DIR", "PLANNER_CACHE_DIR")


def run_selftest() -> int:
    """Run every check, print one line per check and a summary; return 0 when all passed, else 1."""
    t0 = time.perf_counter()
    prepare_environment()
    keep_dir = os.environ.get("PLANNER_SELFTEST_DIR")
    if keep_dir:
        out_dir = Path(keep_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
    else:
        out_dir = Path(tempfile.mkdtemp(prefix="planner-selftest-"))
    try:
        timeout_s = float(os.environ.get("PLANNER_SELFTEST_TIMEOUT_S", DEFAULT_TIMEOUT_S))
    except ValueError:
        print(f"{_PREFIX} PLANNER_SELFTEST_TIMEOUT_S must be a number of seconds", file=sys.stderr)
        return 2
    saved = {k: os.environ.get(k) for k in _ENV_DIRS}
    for k in _ENV_DIRS:  # never touch the analyst's settings, recent files or autosaves
        os.environ[k] = str(out_dir / "home" / k.split("_")[1].lower())
    print(f"{_PREFIX} writing into {out_dir}", flush=True)
    run = _Run(out_dir, timeout_s)
    try:
        run.check("runtime", run.runtime)
        run.check("data-files", run.data_files)
        run.check("main-window", run.main_window, needs=("runtime",))
        run.check("map-drawn", run.map_drawn, needs=("main-window",))
        run.check("snapshot-png", run.snapshot_png, needs=("main-window",))
        run.check("site-pdf", run.site_pdf, needs=("main-window",))
    finally:
        run.close()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    passed = [r for r in run.results if r.status == "ok"]
    bad = [r.name for r in run.results if r.status != "ok"]
    elapsed = time.perf_counter() - t0
    if not bad:
        if not keep_dir:
            shutil.rmtree(out_dir, ignore_errors=True)
        print(f"{_PREFIX} PASSED {len(passed)}/{len(run.results)} checks in {elapsed:.1f} s", flush=True)
        return 0
    print(f"{_PREFIX} FAILED {len(bad)}/{len(run.results)} checks ({', '.join(bad)}) in {elapsed:.1f} s; "
          f"files kept in {out_dir}", flush=True)
    return 1
