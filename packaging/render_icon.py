"""Render the app icon (resources/icons/app.svg) to PNG with Qt's SVG renderer.

Used at build time only: by ``planner.spec`` (Windows/macOS want a bitmap icon, which
PyInstaller converts to .ico/.icns with Pillow) and by ``build.sh`` (256 px PNG for the
Linux desktop entry). Runs headless (``QT_QPA_PLATFORM=offscreen``).

    python packaging/render_icon.py resources/icons/app.svg out.png 256
"""
from __future__ import annotations

import os
import sys
from pathlib import Path


def render_png(svg: str | os.PathLike[str], out: str | os.PathLike[str], size_px: int = 256) -> Path:
    """Render ``svg`` to a square ``size_px`` PNG at ``out`` (transparent background); returns ``out``."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(["render_icon"])  # noqa: F841 - keeps Qt alive
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"render_icon: {svg} is not a valid SVG file")
    image = QImage(size_px, size_px, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    out_path = Path(out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(out_path), "PNG"):
        raise SystemExit(f"render_icon: could not write {out_path}")
    return out_path


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        raise SystemExit("usage: render_icon.py ICON.svg OUT.png [SIZE_PX]")
    render_png(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) == 4 else 256)
