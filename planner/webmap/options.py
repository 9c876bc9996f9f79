"""Map options, modes and the online tile provider: what the map widget needs before any page is built.

Light on purpose (no pandas, numpy or Jinja): the app's map widget is created, and a cached page
starts loading, before :mod:`planner.webmap.builder` is imported (see :mod:`planner.lazy`).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from planner.model.site import PlannerError

#: The most decimals a coordinate is written with (1e-6 degree ~ 0.1 m).
MAX_DECIMALS = 6

MODES = ("browse", "add", "move", "measure")
DEFAULT_ONLINE_PROVIDER = "OpenStreetMap.Mapnik"


class WebMapError(PlannerError, ValueError):
    """A project layer or map option the web map cannot draw (says which and how to fix it)."""


@dataclass(frozen=True)
class MapOptions:
    """How the map is built. Distances/sizes carry their unit in the name."""

    title: str = "Site Conversion Planner"
    online_tiles: bool | str = False  # False: offline vector basemap only; True or an xyzservices name
    center_lat_lon: tuple[float, float] | None = None  # None: fit the sites
    zoom: int | None = None
    mode: str = "browse"
    coord_decimals: int = 5  # 1e-5 deg ~ 1.1 m
    simplify_tolerance_deg: float = 0.0005  # ~50 m
    max_vertices_per_layer: int = 250_000
    merge_threshold_features: int = 20_000
    # graduated (color_by) point layers above this many points are aggregated onto a coarser grid
    max_graduated_points: int = 250_000
    # graduated point layers up to this size keep one Leaflet marker (with tooltip) per point
    max_graduated_markers: int = 5_000
    cluster_flares: bool = True
    # Leaflet's own layer switch (exported pages); the app's map leaves it out: the Layers panel switches
    layer_control: bool = True
    # kind -> shown at start; overrides each layer's style["visible"] (set by MapView.set_layer_visible)
    layer_visibility: Mapping[str, bool] = field(default_factory=dict)
    # the popup of an undecided site names the fact to collect next (readiness.next_facts: ~5 ms a
    # site); the exported page has it, the app shows it in the site form and the Readiness panel instead
    popup_next_fact: bool = False

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise WebMapError(f"map option mode = {self.mode!r}: not a map mode. Use one of {', '.join(MODES)}")
        if not 0 <= self.coord_decimals <= MAX_DECIMALS:
            raise WebMapError(f"map option coord_decimals = {self.coord_decimals}: must be 0-{MAX_DECIMALS}. "
                              "Use 5 (about 1 m)")
        if not (math.isfinite(self.simplify_tolerance_deg) and self.simplify_tolerance_deg >= 0):
            raise WebMapError(f"map option simplify_tolerance_deg = {self.simplify_tolerance_deg}: "
                              "must be a finite number >= 0. Use 0.0005")
        if self.max_graduated_points < 1000:
            raise WebMapError(f"map option max_graduated_points = {self.max_graduated_points}: "
                              "must be at least 1000")
        if self.max_vertices_per_layer < 1000:
            raise WebMapError(f"map option max_vertices_per_layer = {self.max_vertices_per_layer}: "
                              "must be at least 1000")
        if self.center_lat_lon is not None:
            lat, lon = self.center_lat_lon
            if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
                raise WebMapError(f"map option center_lat_lon = {self.center_lat_lon}: latitude must be "
                                  "-90..90 and longitude -180..180")
        if self.zoom is not None and not 0 <= self.zoom <= 20:
            raise WebMapError(f"map option zoom = {self.zoom}: must be 0-20")
        tile_provider(self)  # validates the provider name


def tile_provider(options: MapOptions) -> Any | None:
    """The xyzservices provider for online tiles, or None when the map is offline."""
    if not options.online_tiles:
        return None
    import xyzservices.providers as xyz

    name = DEFAULT_ONLINE_PROVIDER if options.online_tiles is True else str(options.online_tiles)
    try:
        provider = xyz.query_name(name)
    except ValueError:
        raise WebMapError(f"map option online_tiles = {name!r}: unknown tile provider. "
                          f"Use an xyzservices name such as {DEFAULT_ONLINE_PROVIDER!r}") from None
    if provider.requires_token() or "{apikey}" in provider.url or "{accessToken}" in provider.url:
        raise WebMapError(f"map option online_tiles = {name!r}: provider needs an API key. "
                          "Choose a keyless provider such as 'OpenStreetMap.Mapnik'")
    return provider


def tile_url_template(options: MapOptions) -> str | None:
    """The Leaflet tile URL template of the online provider (None when offline)."""
    provider = tile_provider(options)
    return None if provider is None else str(provider.url)


def app_options() -> MapOptions:
    """The options of the app's map widget: the Layers panel is its layer switch (none inside the page)."""
    return MapOptions(layer_control=False)
