"""Colours, classes and sizes of the map symbols (one place, shared by the legend and the layers)."""
from __future__ import annotations

import math
import re
from typing import Any

from planner.model.fields import VOLTAGE_CLASSES_KV

# Readiness classes of planner.model.readiness, plus "not_scored" for sites without a result.
READINESS_COLOURS: dict[str, str] = {
    "ready_now": "#1a9850",
    "convertible_with_upgrades": "#f39c12",
    "mining_only": "#d73027",
    "insufficient_data": "#8c8c8c",
    "not_scored": "#3b6fb6",
}
READINESS_LABELS: dict[str, str] = {
    "ready_now": "Ready now",
    "convertible_with_upgrades": "Convertible with upgrades",
    "mining_only": "Mining only",
    "insufficient_data": "Insufficient data",
    "not_scored": "Not scored",
}

# Transmission voltage classes of DOMAIN section 6; the bounds come from VOLTAGE_CLASSES_KV.
_V69, _V138, _V230, _V345, _V500 = VOLTAGE_CLASSES_KV
VOLTAGE_CLASSES: tuple[tuple[str, str, str], ...] = (
    # key, legend label, colour
    ("kv_69_138", f"{_V69}-{_V138} kV", "#2c7bb6"),
    ("kv_230", f"{_V230} kV", "#1a9641"),
    ("kv_345", f"{_V345} kV", "#fd8d3c"),
    ("kv_500", f"{_V500}+ kV", "#b2182b"),
    ("kv_unknown", "Voltage unknown / below 69 kV", "#969696"),
)
VOLTAGE_COLOURS: dict[str, str] = {k: c for k, _, c in VOLTAGE_CLASSES}


def voltage_class(voltage_kv: float | None) -> str:
    """Voltage class key of a line: 69-138, 230, 345, 500+ kV or unknown (None, NaN, < 69 kV)."""
    if voltage_kv is None or not isinstance(voltage_kv, (int, float)) or math.isnan(voltage_kv):
        return "kv_unknown"
    v = float(voltage_kv)
    # class bounds sit halfway between the nominal levels: 161 kV -> 69-138, 287 kV -> 345
    if v >= _V500:
        return "kv_500"
    if v >= (_V230 + _V345) / 2:
        return "kv_345"
    if v >= (_V138 + _V230) / 2:
        return "kv_230"
    if v >= _V69:
        return "kv_69_138"
    return "kv_unknown"


def site_radius_px(mw: float | None, max_mw: float | None = None) -> float:
    """Circle radius in pixels on a square-root scale of MW (area ~ MW); unknown MW -> 5 px."""
    if mw is None or not math.isfinite(mw) or mw <= 0:
        return 5.0
    top = max(max_mw or 0.0, mw, 1.0)
    return round(5.0 + 19.0 * math.sqrt(mw / top), 1)


def flare_radius_px(volume_bcm: float | None) -> float:
    """Flare radius in pixels on a square-root scale of flared volume (0.5 bcm -> ~14 px)."""
    if volume_bcm is None or not math.isfinite(volume_bcm) or volume_bcm <= 0:
        return 2.0
    return round(min(18.0, 2.0 + 17.0 * math.sqrt(volume_bcm / 0.5)), 1)


# Default vector styles per layer kind (Leaflet path options).
KIND_STYLES: dict[str, dict[str, Any]] = {
    "countries": {"color": "#9aa5b1", "weight": 0.8, "fillColor": "#f4f1ea", "fillOpacity": 1.0},
    "states": {"color": "#b4bcc6", "weight": 0.7, "fill": False},
    "stranded": {"color": "#e08214", "weight": 1.2, "fillColor": "#fdb863", "fillOpacity": 0.25, "dashArray": "4 3"},
    "basins": {"color": "#8c6d31", "weight": 0.8, "fillColor": "#d8b365", "fillOpacity": 0.18},
    "transmission": {"weight": 1.6, "opacity": 0.85},
    "substations": {"color": "#4d4d4d", "weight": 1, "fillColor": "#ffffff", "fillOpacity": 1.0, "radius": 3},
    "fibre": {"color": "#7b3294", "weight": 1.0, "opacity": 0.55, "dashArray": "3 3"},
    "pops": {"color": "#7b3294", "weight": 1, "fillColor": "#c2a5cf", "fillOpacity": 0.9, "radius": 3},
    "flares": {"color": "#d7301f", "weight": 0.5, "fillColor": "#fc8d59", "fillOpacity": 0.7},
    "other": {"color": "#555555", "weight": 1.2, "fillColor": "#999999", "fillOpacity": 0.2, "radius": 4},
}

_COLOUR = re.compile(r"^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20})$")
_DASH = re.compile(r"^[0-9 ,.]{1,40}$")
# planner.gis.project stores styles with snake_case keys
_ALIASES = {"fill_opacity": "fillOpacity", "fill_color": "fillColor", "dash": "dashArray", "dash_array": "dashArray"}
_NUMERIC_KEYS = {"weight": (0, 20), "opacity": (0, 1), "fillOpacity": (0, 1), "radius": (0, 40)}


def merged_style(kind: str, overrides: dict[str, Any] | None) -> dict[str, Any]:
    """Kind default style with the layer's own ``style`` overrides, keeping only safe, valid keys."""
    out = dict(KIND_STYLES.get(kind, KIND_STYLES["other"]))
    for key, value in (overrides or {}).items():
        key = _ALIASES.get(key, key)
        if key == "color" and kind == "transmission":
            continue  # coloured by voltage class
        if key in ("color", "fillColor") and isinstance(value, str) and _COLOUR.match(value):
            out[key] = value
        elif key in _NUMERIC_KEYS and isinstance(value, (int, float)) and not isinstance(value, bool):
            lo, hi = _NUMERIC_KEYS[key]
            if math.isfinite(value):
                out[key] = min(hi, max(lo, float(value)))
        elif key == "fill" and isinstance(value, bool):
            out[key] = value
        elif key == "dashArray" and isinstance(value, str) and _DASH.match(value):
            out[key] = value
    return out
