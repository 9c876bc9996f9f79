"""Composition root of the desktop app: QApplication, icon, settings, main window.

Opening order: the file given on the command line, else the last project, else the
bundled sample (opened as a read-only copy so Save asks for a new file). A recovery copy
left by a crashed session is offered first.
"""
from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
import threading
import time
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any, cast

from PySide6.QtCore import QEvent, QEventLoop, QObject, QRect, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QGuiApplication, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QLabel

from planner import APP_NAME, __version__
from planner.assets import AssetError, asset_path, sample_project
from planner.settings import AppSettings, SettingsWarning, load_settings, save_settings


def app_icon() -> QIcon:
    """The application icon (empty icon when the asset is missing, never an error)."""
    try:
        return QIcon(str(asset_path("resources", "icons/app.svg")))
    except AssetError:
        return QIcon()


def _load_settings_with_notice() -> tuple[AppSettings, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SettingsWarning)
        settings = load_settings()
    return settings, [str(w.message) for w in caught if issubclass(w.category, SettingsWarning)]


def choose_start_path(project_path: str | os.PathLike[str] | None, settings: AppSettings) -> Path | None:
    """The project to open at start: explicit path, else the last project if it exists, else the sample."""
    if project_path:
        return Path(project_path)
    if settings.last_project and Path(settings.last_project).is_file():
        return Path(settings.last_project)
    try:
        return sample_project()
    except AssetError:
        return None


def trace_phase(event: str) -> None:
    """Append a start-up phase (``PLANNER_STARTUP_TRACE``) for the benchmark's breakdown of where time goes."""
    path = os.environ.get("PLANNER_STARTUP_TRACE")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"event": event, "t": time.time()}) + "\n")


class StartupTrace(QObject):
    """``PLANNER_STARTUP_TRACE=FILE``: append when the window, its table and the map page are ready.

    ``window`` and ``table`` are the first paint of the sites table's viewport, empty and then filled.

    One JSON line per event (``{"event": "window"|"table"|"map", "t": <time.time()>}``), for
    ``benchmarks/bench_startup.py``; ``PLANNER_STARTUP_EXIT=1`` quits once the map is ready.
    ``map``: the page reports ``plannerMap.ready`` with every site of its data drawn (a cached page
    preloaded before the file is read counts: its sites are on screen); the app quits once the
    project has opened and the page shows all of its located sites.
    """

    def __init__(self, path: str, app: QApplication, window: Any):
        super().__init__(window)
        self.path, self.app, self.window = path, app, window
        self.done: set[str] = set()
        self.n_sites = 0
        self.opened = False

    def mark(self, event: str) -> None:
        if event in self.done:
            return
        self.done.add(event)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"event": event, "t": time.time()}) + "\n")

    def watch_table(self) -> None:
        """Mark ``table`` when the sites table, reset with a non-empty portfolio, paints."""
        model = self.window.sites.table_model
        viewport = self.window.sites.table.viewport()
        self._filled = False

        def reset() -> None:
            if model.rowCount() > 0:
                self._filled = True
        model.modelReset.connect(reset)
        viewport.installEventFilter(self)

    def eventFilter(self, obj: Any, event: Any) -> bool:  # the table's viewport
        if event.type() == QEvent.Type.Paint:
            if "window" not in self.done:
                self.mark("window")  # the window's first paint (the empty table is in it)
            elif self._filled:
                self.mark("table")
        return False

    def watch_map(self) -> None:
        """Poll the page until it is ready with every site it holds drawn (a preloaded page counts:
        its sites are on screen) and, once the project has opened, with all of its sites."""
        self._poll()

    _JS = ("(function () { if (!(window.plannerMap && plannerMap.ready)) { return ''; }"
           " var c = JSON.parse(plannerMap.countFeatures());"
           " if (window.__plannerTraceSites === undefined) { var d = document.getElementById('planner-data');"
           " window.__plannerTraceSites = d ? JSON.parse(d.textContent).sites.length : -1; }"
           " c.expected = window.__plannerTraceSites; return JSON.stringify(c); })()")

    def _poll(self) -> None:
        self.window.map_view.run_js(self._JS, self._on_counts)

    def _on_counts(self, result: Any) -> None:
        try:
            counts = json.loads(result) if isinstance(result, str) and result else None
        except ValueError:
            counts = None
        if counts is not None and 0 < int(counts.get("expected", -1)) <= int(counts.get("sites", 0)) \
                and int(counts.get("sites", 0)) >= self.n_sites:
            self.mark("map")
            if os.environ.get("PLANNER_STARTUP_EXIT") == "1" and self.opened:
                QTimer.singleShot(0, self.app.quit)
                return
        if os.environ.get("PLANNER_STARTUP_EXIT") == "1" or "map" not in self.done:
            QTimer.singleShot(25, self._poll)


def _splash() -> QLabel:
    """A small 'starting' card, shown while Python imports the planner (~1 s; several under load)."""
    pixmap = QPixmap(460, 150)
    pixmap.fill(QColor("#e8edf1"))
    painter = QPainter(pixmap)
    app_icon().paint(painter, QRect(24, 43, 64, 64))
    font = QFont(painter.font())
    font.setPointSize(15)
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(QColor("#1b3a5c"))
    painter.drawText(QRect(108, 40, 340, 36), int(Qt.AlignmentFlag.AlignVCenter), APP_NAME)
    font.setPointSize(10)
    font.setBold(False)
    painter.setFont(font)
    painter.setPen(QColor("#3d4b57"))
    painter.drawText(QRect(108, 78, 340, 30), int(Qt.AlignmentFlag.AlignVCenter), f"Starting\u2026  (version {__version__})")
    painter.end()
    # a plain label with the splash-screen window type: QSplashScreen.show() blocks up to 1 s
    # waiting for the window to be exposed (every time offscreen, often on a loaded X display)
    splash = QLabel()
    splash.setWindowFlags(Qt.WindowType.SplashScreen | Qt.WindowType.FramelessWindowHint)
    splash.setPixmap(pixmap)
    splash.setFixedSize(pixmap.size())
    screen = QGuiApplication.primaryScreen()
    if screen is not None:
        splash.move(screen.availableGeometry().center() - splash.rect().center())
    splash.show()
    # painted only once the window system has mapped it: wait for that (briefly), or it stays
    # blank through the imports that follow
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:
        QApplication.processEvents()
        handle = splash.windowHandle()
        if handle is not None and handle.isExposed():
            break
        time.sleep(0.005)
    splash.repaint()
    QApplication.processEvents()
    return splash


def _import_pumping(name: str) -> ModuleType:
    """Import ``name`` on a thread while this (GUI) thread keeps Qt's event loop turning.

    Chromium's browser side runs on the GUI thread: a page load started just before makes no
    progress while Python imports here, and goes on (its renderer in its own process) while
    the import runs on another thread.
    """
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["module"] = importlib.import_module(name)
        except BaseException as e:  # re-raised here, in the GUI thread
            box["error"] = e

    thread = threading.Thread(target=run, name="planner-import", daemon=True)
    thread.start()
    while thread.is_alive():
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
        thread.join(0.004)
    if "error" in box:
        raise box["error"]
    return cast(ModuleType, box["module"])


def run_gui(project_path: str | os.PathLike[str] | None = None) -> int:
    """Start the desktop application and return its exit code.

    Order (``benchmarks/bench_startup.py`` measures it, docs/architecture.md): Qt; the map
    widget with the start file's kept page loading (:meth:`MapView.preload`); the rest of the
    window imported on a thread while Chromium works on the page; the window built and shown;
    then the file's read on a worker (numpy, pandas and geopandas load there: :mod:`planner.lazy`).
    The map draws from the kept page while the file is still read.
    """
    import PySide6.QtWebEngineWidgets  # noqa: F401  (before the QApplication exists)

    from planner.reports.render_qt import add_chromium_security_flags

    add_chromium_security_flags()  # WebRTC without non-proxied UDP; Chromium reads it once, at start
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setDesktopFileName("site-conversion-planner")  # matches packaging/*.desktop (Wayland app id)
    app.setApplicationVersion(__version__)
    app.setOrganizationName("planner")
    app.setWindowIcon(app_icon())
    trace_phase("qt")
    splash = _splash()  # on screen while the rest of the planner loads
    trace_phase("splash")
    settings, notices = _load_settings_with_notice()
    start = choose_start_path(project_path, settings)
    if project_path is None and settings.last_project:
        # forget the last project until it has opened: a file that breaks opening never blocks the next start
        settings.last_project = None
        with contextlib.suppress(OSError):
            save_settings(settings)
    from planner.ui.map_controller import file_key
    from planner.ui.map_view import MapView

    map_view = MapView()
    key = file_key(start) if start is not None else None
    if key is not None:
        map_view.preload(key, start)  # the file's kept map page starts loading now
    trace_phase("page load started")
    main_window = _import_pumping("planner.ui.main_window")
    trace_phase("window imported")
    from planner.logs import setup_logging

    setup_logging()  # library warnings go to the log file, not to the terminal
    window = main_window.MainWindow(settings, map_factory=lambda _parent: map_view)
    trace_phase("window built")
    window.setWindowIcon(app_icon())
    window.show()
    splash.close()
    trace_path = os.environ.get("PLANNER_STARTUP_TRACE")
    trace = StartupTrace(trace_path, app, window) if trace_path else None
    if trace is not None:
        trace.watch_table()
        trace.watch_map()
    for n in notices:
        window.show_status(n)

    # the file is read once the window has painted: a worker importing numpy, pandas and geopandas
    # holds the GIL, which slowed building the window and Chromium's first view of the kept page
    # (A/B in docs/performance.md); it also keeps two threads from importing the same packages at once
    app.processEvents()
    QTimer.singleShot(0, lambda: _open_start(window, project_path, start, trace))
    return int(app.exec())


def _open_start(window: Any, project_path: str | os.PathLike[str] | None, start: Path | None,
                trace: StartupTrace | None) -> None:
    """Recover autosaved work or open the start project (see :func:`choose_start_path`).

    ``start`` is read on a worker thread (numpy, pandas and geopandas load there) while WebEngine
    shows the file's kept map page (keyed by the file's identity); the event loop keeps running.
    """
    from planner.ui import dialogs
    from planner.ui.workers import start_task

    found = window.autosave.find_recovery()
    if found:
        if dialogs.ask_recover(window, [i.describe() for i in found]):
            if window.recover(found[0]):
                _started(window, trace)
                return
        else:
            for info in found:
                window.autosave.discard(info)
    if start is None:
        _started(window, trace)
        return
    window.map.preload(start)  # the page of the file's last start (if the early one did not load it)
    window.set_opening(start)  # title and status say so; the map may show the file's sites already
    initial = window.project

    def opened(project: Any) -> None:
        trace_phase("read done")
        _finish_open(window, initial, start, project, project_path, trace)

    def failed(_error: BaseException) -> None:
        _finish_open(window, initial, start, None, project_path, trace)  # read again there: the usual message

    window.start_task = start_task(window.files.read, start, on_success=opened, on_error=failed)


def _finish_open(window: Any, initial: Any, start: Path, project: Any, project_path: str | os.PathLike[str] | None,
                 trace: StartupTrace | None) -> None:
    import shiboken6

    if not shiboken6.isValid(window) or window.project is not initial:
        return  # closed, or the analyst opened something else meanwhile
    window.set_opening(None)  # whatever happens next: the title and counts are the window's own again
    if not window.open_project(start, project) and project_path is None and start != _safe_sample():
        window.open_project(sample_project())  # a broken last project: fall back to the sample
    _started(window, trace)


def _started(window: Any, trace: StartupTrace | None) -> None:
    project = window.project
    if not len(project.portfolio) and not project.layers and hasattr(window.map_view, "set_placeholder"):
        window.map_view.set_placeholder("No project open: File > Open or File > New")
    if trace is not None:  # the map counts once it shows all the opened project's sites too
        trace.n_sites = sum(1 for site in window.portfolio if site.lat is not None and site.lon is not None)
        trace.opened = True


def _safe_sample() -> Path | None:
    try:
        return sample_project()
    except AssetError:
        return None
