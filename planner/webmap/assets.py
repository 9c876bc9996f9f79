"""Vendored Leaflet files (resources/web) inlined into the page: no CDN, no files.

``url(images/x.png)`` references in the CSS become ``data:`` URIs and the
``sourceMappingURL`` comments are dropped so the page never asks for another file.
"""
from __future__ import annotations

import base64
import re
from functools import lru_cache
from pathlib import Path

from planner.assets import asset_path

LEAFLET_DIR = "web/leaflet-1.9.4"
_JS_DIR = Path(__file__).resolve().parent / "js"

_URL = re.compile(r"url\((['\"]?)(images/[A-Za-z0-9_.-]+\.png)\1\)")
_SOURCEMAP = re.compile(r"^\s*//# sourceMappingURL=.*$", re.MULTILINE)


def _read(rel: str) -> str:
    return asset_path("resources", rel).read_text(encoding="utf-8")


def _inline_images(css: str, base: str) -> str:
    def repl(m: re.Match[str]) -> str:
        data = asset_path("resources", f"{base}/{m.group(2)}").read_bytes()
        return "url(data:image/png;base64," + base64.b64encode(data).decode("ascii") + ")"
    return _URL.sub(repl, css)


def _safe_for_element(text: str, tag: str) -> str:
    """Guard against a literal ``</script`` / ``</style`` inside vendored code."""
    return re.sub(rf"</(?={tag})", r"<\\/", text, flags=re.IGNORECASE)


@lru_cache(maxsize=1)
def vendored_js() -> str:
    """Leaflet, ready to inline in ``<script>`` (flares are counted in the map's own tiles, so the
    markercluster plugin is no longer shipped)."""
    return _safe_for_element(_SOURCEMAP.sub("", _read(f"{LEAFLET_DIR}/leaflet.js")), "script")


@lru_cache(maxsize=1)
def vendored_css() -> str:
    """Leaflet's CSS with images as data: URIs."""
    return _safe_for_element(_SOURCEMAP.sub("", _inline_images(_read(f"{LEAFLET_DIR}/leaflet.css"), LEAFLET_DIR)),
                             "style")


@lru_cache(maxsize=1)
def planner_js() -> str:
    """The page-side planner code (layers, modes, measuring, the Qt bridge)."""
    return _safe_for_element((_JS_DIR / "planner_map.js").read_text(encoding="utf-8"), "script")


@lru_cache(maxsize=1)
def planner_css() -> str:
    """Styles of the planner's own controls (title, legend, measure box)."""
    return _safe_for_element((_JS_DIR / "planner_map.css").read_text(encoding="utf-8"), "style")
