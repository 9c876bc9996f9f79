"""Colours, classes and sizes of the map symbols (one place, shared by the legend and the layers)."""
from __future__ import annotations

import math
import re
from typing import Any

from planner.fmt import real_number
from planner.gis.kinds import default_style
from planner.model.fields import VOLTAGE_CLASSES_KV


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
    if mw is None or real_number(mw) is None or mw <= 0:
        return 5.0
    top = max(max_mw or 0.0, mw, 1.0)
    return round(5.0 + 19.0 * math.sqrt(mw / top), 1)


def flare_radius_px(volume_bcm: float | None) -> float:
    """Flare radius in pixels on a square-root scale of flared volume (0.5 bcm -> ~14 px)."""
    if volume_bcm is None or real_number(volume_bcm) is None or volume_bcm <= 0:
        return 2.0
    return round(min(18.0, 2.0 + 17.0 * math.sqrt(volume_bcm / 0.5)), 1)


_COLOUR = re.compile(r"^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20})$")
_DASH = re.compile(r"^[0-9 ,.]{1,40}$")
# Point layers too dense to read at continental scale: drawn (and clickable) only from this zoom on
# (10,538 substations as circles hid the whole sample map at zoom 4-5). Zoom 7 is about a state.
MIN_ZOOM: dict[str, int] = {"substations": 7}

# saved styles use snake_case keys (planner.gis.kinds); Leaflet's path options are camelCase
_ALIASES = {"fill_opacity": "fillOpacity", "fill_color": "fillColor", "dash": "dashArray", "dash_array": "dashArray"}
_NUMERIC_KEYS = {"weight": (0, 20), "opacity": (0, 1), "fillOpacity": (0, 1), "radius": (0, 40)}


def _apply_style(out: dict[str, Any], kind: str, style: dict[str, Any]) -> None:
    for key, value in style.items():
        key = _ALIASES.get(key, key)
        if key in ("color", "color_by") and kind == "transmission":
            continue  # coloured by voltage class
        if _graduated_key(key, value, out):
            continue
        if key in ("color", "fillColor") and isinstance(value, str) and _COLOUR.match(value):
            out[key] = value
        elif key in _NUMERIC_KEYS and (number := real_number(value)) is not None:
            lo, hi = _NUMERIC_KEYS[key]
            out[key] = min(hi, max(lo, number))
        elif key in ("fill", "on_top") and isinstance(value, bool):
            out[key] = value
        elif key == "dashArray" and isinstance(value, str) and _DASH.match(value):
            out[key] = value


def merged_style(kind: str, overrides: dict[str, Any] | None) -> dict[str, Any]:
    """Leaflet options of a layer: its kind's default style (:mod:`planner.gis.kinds`) with the layer's
    own ``style`` overrides on top, keeping only safe, valid keys (an invalid override keeps the default)."""
    out: dict[str, Any] = {}
    for style in (default_style(kind), overrides or {}):
        _apply_style(out, kind, style)
    if "color_by" in out and not any(_ALIASES.get(k, k) == "fillOpacity" for k in (overrides or {})):
        out["fillOpacity"] = 0.75  # value colours must read clearly; the kind default is a faint tint
    return out


# --------------------------------------------------------------------------- graduated colours
# Colour ramps, low -> high value (7 anchors each; fewer classes sample them evenly).
RAMPS: dict[str, tuple[str, ...]] = {
    # matplotlib viridis (CC0): perceptually uniform, colour-blind safe, high values bright yellow
    "viridis": ("#440154", "#443983", "#31688e", "#21918c", "#35b779", "#90d743", "#fde725"),
    # ColorBrewer YlOrRd-7 (Apache 2.0, Cynthia Brewer): high values dark red
    "ylorrd": ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"),
}
BREAK_METHODS = ("quantile", "equal_interval")
MIN_CLASSES, MAX_CLASSES = 3, 7
DEFAULT_CLASSES = 6
NO_VALUE_COLOUR = "#bdbdbd"
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_ .-]{0,62}$")


def ramp_colours(ramp: str, n: int) -> list[str]:
    """``n`` colours sampled evenly (linear RGB interpolation) along the named ramp, low to high."""
    anchors = RAMPS[ramp]
    if n <= 1:
        return [anchors[-1]]
    rgb = [tuple(int(a[i:i + 2], 16) for i in (1, 3, 5)) for a in anchors]
    out = []
    for k in range(n):
        t = k * (len(rgb) - 1) / (n - 1)
        i = min(int(t), len(rgb) - 2)
        f = t - i
        c = [round(rgb[i][j] + (rgb[i + 1][j] - rgb[i][j]) * f) for j in range(3)]
        out.append("#" + "".join(f"{v:02x}" for v in c))
    return out


def class_breaks(values: Any, n_classes: int, method: str = "quantile") -> list[float]:
    """Class edges ``[min, b1, ..., max]`` of the finite ``values`` (ties collapse classes).

    ``quantile`` puts about the same number of values in each class; ``equal_interval``
    splits the value range evenly. Empty input gives ``[]``; one distinct value ``[v, v]``.
    """
    import numpy as np

    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not len(v):
        return []
    lo, hi = float(v.min()), float(v.max())
    if lo == hi:
        return [lo, hi]
    if method == "quantile":
        edges = np.quantile(v, np.linspace(0.0, 1.0, n_classes + 1))
    else:
        edges = np.linspace(lo, hi, n_classes + 1)
    edges[0], edges[-1] = lo, hi
    return [float(e) for e in np.unique(edges)]


def class_index(values: Any, breaks: list[float]) -> Any:
    """Class of each value for ``breaks`` (class i holds ``[b_i, b_i+1)``, the last one is closed); -1 = no value."""
    import numpy as np

    v = np.asarray(values, dtype=float)
    out = np.full(len(v), -1, dtype=np.int64)
    ok = np.isfinite(v)
    if len(breaks) >= 2:
        out[ok] = np.searchsorted(np.asarray(breaks[1:-1], dtype=float), v[ok], side="right")
    return out


def graduated_spec(style: dict[str, Any]) -> dict[str, Any] | None:
    """The validated graduated-colour part of a merged style, or None when the layer has one colour."""
    column = style.get("color_by")
    if not isinstance(column, str):
        return None
    return {"column": column, "ramp": style.get("ramp", "viridis"), "classes": style.get("classes", DEFAULT_CLASSES),
            "breaks": style.get("breaks", "quantile"), "unit": style.get("unit", ""),
            "cell_km": style.get("cell_km")}


def _graduated_key(key: str, value: Any, out: dict[str, Any]) -> bool:
    """Validate one graduated-style key into ``out``; True when ``key`` is a graduated key."""
    if key == "color_by":
        if isinstance(value, str) and _COLUMN.match(value):
            out[key] = value
    elif key == "ramp":
        if isinstance(value, str) and value.lower() in RAMPS:
            out[key] = value.lower()
    elif key == "classes":
        if isinstance(value, int) and not isinstance(value, bool):
            out[key] = min(MAX_CLASSES, max(MIN_CLASSES, value))
    elif key == "breaks":
        if value in BREAK_METHODS:
            out[key] = value
    elif key == "unit":
        if isinstance(value, str) and len(value) <= 24:
            out[key] = value
    elif key == "cell_km":
        number = real_number(value)
        if number is not None and 0 < number <= 500:
            out[key] = number
    else:
        return False
    return True
