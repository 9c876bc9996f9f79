"""Web map: (project, readiness scores, options) -> one self-contained, offline Leaflet HTML page.

Qt-free. ``planner.ui.map_view`` loads the page and talks to it through a QWebChannel.
"""
from planner.webmap.builder import MapOptions, WebMapError, build_map, tile_provider, tile_url_template

__all__ = ["MapOptions", "WebMapError", "build_map", "tile_provider", "tile_url_template"]
