"""The map layer kinds: one registry for what each kind is, feeds and looks like.

Every module that needs a layer kind asks here: the project file (kinds it accepts, geometry of
an empty layer, the default style saved with a new layer), proximity (the kinds it measures
to), imports (kinds a file may hold), the web map (how a kind is drawn) and the reports (which
layers a computed field comes from).

Styles use the saved (snake_case) keys: ``color``, ``weight``, ``opacity``, ``fill_color``,
``fill_opacity``, ``fill``, ``dash``, ``radius``, ``visible``, plus ``color_by`` / ``size_by``.
A layer's saved style overrides these key by key; ``planner.webmap.styles`` turns them into
Leaflet's option names. Colours are from Tableau 10 and its light companions.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class LayerKind:
    """One kind of map layer."""

    key: str
    label: str
    #: GeoPackage geometry type written for an empty layer of this kind (GDAL needs one)
    geometry: str
    #: group of computed site fields measured from this kind (``grid``, ``fibre``, ``stranded``), or ""
    feeds: str = ""
    #: bundled basemap (countries, states): not imported by users, not measured to
    basemap: bool = False
    #: features carry a voltage to normalise on import (``voltage_kv``)
    has_voltage: bool = False
    style: dict[str, Any] = field(default_factory=dict)


_KINDS: tuple[LayerKind, ...] = (
    LayerKind("transmission", "Transmission lines", "MultiLineString", "grid", has_voltage=True,
              style={"color": "#d62728", "weight": 2, "opacity": 0.8, "color_by": "voltage_kv", "visible": True}),
    LayerKind("substations", "Substations", "Point", "grid", has_voltage=True,
              style={"color": "#9467bd", "weight": 1, "radius": 4, "opacity": 0.9, "fill_color": "#ffffff",
                     "fill_opacity": 1.0, "visible": True}),
    LayerKind("fibre", "Long-haul fibre", "MultiLineString", "fibre",
              style={"color": "#7b3294", "weight": 0.8, "opacity": 0.35, "dash": "3 3", "visible": True}),
    LayerKind("pops", "Fibre PoPs / IXPs", "Point", "fibre",
              style={"color": "#17becf", "weight": 1, "radius": 3, "opacity": 0.9, "fill_color": "#9edae5",
                     "fill_opacity": 0.9, "visible": False}),
    LayerKind("stranded", "Stranded energy regions", "MultiPolygon", "stranded",
              style={"color": "#2ca02c", "weight": 1, "fill_color": "#98df8a", "fill_opacity": 0.15, "dash": "4 3",
                     "visible": True}),
    LayerKind("basins", "Oil and gas basins", "MultiPolygon",
              style={"color": "#8c564b", "weight": 1, "fill_color": "#c49c94", "fill_opacity": 0.08, "visible": False}),
    LayerKind("flares", "Gas flares", "Point", "stranded",
              style={"color": "#ff7f0e", "weight": 0.5, "radius": 2, "opacity": 0.7, "fill_color": "#fc8d59",
                     "fill_opacity": 0.7, "size_by": "flr_volume_bcm", "visible": False}),
    LayerKind("countries", "Countries", "MultiPolygon", basemap=True,
              style={"color": "#888888", "weight": 0.6, "fill_color": "#f4f1ea", "fill_opacity": 1.0, "visible": True}),
    LayerKind("states", "States and provinces", "MultiPolygon", basemap=True,
              style={"color": "#aaaaaa", "weight": 0.5, "fill": False, "fill_opacity": 0.0, "visible": True}),
    LayerKind("other", "Other", "Unknown",
              style={"color": "#555555", "weight": 1, "radius": 3, "opacity": 0.8, "fill_color": "#999999",
                     "fill_opacity": 0.2, "visible": True}),
)

#: Drawing order on the map, bottom to top (areas under lines under points).
DRAW_ORDER: tuple[str, ...] = ("countries", "states", "stranded", "basins", "fibre", "transmission", "other",
                               "substations", "pops", "flares")

#: Every kind by key, in display order.
KINDS: dict[str, LayerKind] = {k.key: k for k in _KINDS}
#: Keys of every kind a project layer may have.
LAYER_KINDS: tuple[str, ...] = tuple(KINDS)
#: The bundled basemap kinds.
BASEMAP_KINDS: tuple[str, ...] = tuple(k.key for k in _KINDS if k.basemap)
#: The kinds proximity measures to (a change to one of these layers makes distances stale).
PROXIMITY_KINDS: tuple[str, ...] = tuple(k.key for k in _KINDS if k.feeds)
#: What ``planner import --kind`` accepts: sites, or a layer of any kind but the basemap.
IMPORT_KINDS: tuple[str, ...] = ("sites",) + tuple(k.key for k in _KINDS if not k.basemap)


def kinds_feeding(group: str) -> tuple[str, ...]:
    """Kinds whose layers the computed fields of ``group`` (``grid``, ``fibre``, ``stranded``) come from."""
    return tuple(k.key for k in _KINDS if k.feeds == group)


def default_style(kind: str) -> dict[str, Any]:
    """A fresh copy of the default style of ``kind`` (``other`` for an unknown kind)."""
    return copy.deepcopy(KINDS.get(kind, KINDS["other"]).style)


if set(DRAW_ORDER) != set(KINDS):  # pragma: no cover - a kind added without a place on the map
    raise RuntimeError(f"DRAW_ORDER must list every layer kind: {sorted(set(KINDS) ^ set(DRAW_ORDER))}")
