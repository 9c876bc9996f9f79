"""Render a screenshot of the main window on the bundled sample for the README.

Usage: ``python scripts/screenshot.py [--out docs/screenshot.png] [--site CORZ-DEN] [--size 1600x1000]``.
Runs offscreen (no display needed); waits until the map page reports it has drawn.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "screenshot.png")
    ap.add_argument("--site", default="CORZ-DEN")
    ap.add_argument("--size", default="1600x1000")
    args = ap.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    tmp = Path(tempfile.mkdtemp(prefix="planner-shot-"))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    os.environ["PLANNER_CONFIG_DIR"] = str(tmp / "config")  # never touch the user's settings
    os.environ["PLANNER_DATA_DIR"] = str(tmp / "data")
    import PySide6.QtWebEngineWidgets  # noqa: F401  (before the QApplication)
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from planner.assets import sample_project
    from planner.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])

    def spin(seconds: float) -> None:
        loop = QEventLoop()
        QTimer.singleShot(int(seconds * 1000), loop.quit)
        loop.exec()

    window = MainWindow()
    from PySide6.QtCore import Qt
    window.setWindowState(Qt.WindowState.WindowNoState)  # the first layout maximises on small screens
    window.resize(width, height)
    window.open_project(sample_project())
    window.show()
    spin(1.0)
    if not window.map_view.wait_ready(60_000):
        print("screenshot: error: the map did not finish drawing within 60 s", file=sys.stderr)
        return 1
    window.set_current_site(args.site)
    from PySide6.QtWidgets import QDockWidget
    for dock in window.findChildren(QDockWidget):  # show a readiness and an economics panel
        if dock.windowTitle() in ("Readiness", "Paths"):
            dock.show()
            dock.raise_()
    spin(4.0)  # panels redraw; the map pans and zooms to the site
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(args.out), "PNG"):
        print(f"screenshot: error: could not write {args.out}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}")
    window.map_view.release()
    window.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
