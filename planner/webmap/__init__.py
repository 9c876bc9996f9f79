"""Web map: (project, readiness scores, options) -> one self-contained, offline Leaflet HTML page.

Qt-free. ``planner.ui.map_view`` loads the page and talks to it through a QWebChannel.
The options are light (:mod:`planner.webmap.options`); the builder (pandas, shapely, Jinja)
is imported when :func:`build_map` is first asked for, so the app's map widget can start
loading a cached page before it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from planner.webmap.options import MapOptions, WebMapError, tile_provider, tile_url_template

if TYPE_CHECKING:
    from planner.webmap.builder import build_map

__all__ = ["MapOptions", "WebMapError", "build_map", "tile_provider", "tile_url_template"]


def __getattr__(name: str) -> Any:
    if name == "build_map":
        from planner.webmap.builder import build_map
        return build_map
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
