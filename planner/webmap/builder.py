"""Build the planner's web map: (project, readiness scores, options) -> one self-contained HTML string.

folium gives the page skeleton (``L.map`` with ``preferCanvas`` and a metric+imperial
scale bar); its CDN links are removed and the vendored Leaflet code
(resources/web) is inlined. All layers are drawn by ``js/planner_map.js`` from one
JSON block embedded with :func:`planner.webmap.escape.json_for_script`; every string in
it that becomes HTML was escaped here (Jinja2 autoescape or ``html.escape``).
"""
from __future__ import annotations

import functools
import itertools
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from typing import Any

import jinja2
import numpy as np
import pandas as pd
import shapely
from jinja2 import Template

from planner.fmt import finite, fmt_number
from planner.gis.kinds import DRAW_ORDER
from planner.model.fields import FIELDS, field_text
from planner.model.readiness import (READINESS_COLOURS, READINESS_LABELS, READINESS_SHORT_LABELS, next_facts,
                                      thresholds_from_settings)
from planner.model.site import PlannerError
from planner.model.topology_zoo import network_name, network_text
from planner.webmap import assets
from planner.webmap.escape import esc, json_for_script
from planner.webmap.geometry import encode_lines, encode_points, encode_polygons
from planner.webmap.options import MapOptions, WebMapError, tile_provider
from planner.webmap.styles import (MIN_ZOOM, NO_VALUE_COLOUR, VOLTAGE_CLASSES, VOLTAGE_COLOURS, class_breaks, class_index,
                                   flare_radius_px, graduated_spec, merged_style, ramp_colours, site_radius_px,
                                   voltage_class)

_LABEL_COLUMNS = ("name", "NAME", "region", "basin", "node", "title", "label", "network")


# --------------------------------------------------------------------------- HTML fragments
_ENV = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)

_POPUP = _ENV.from_string(
    '<div class="pm-popup"><b>{{ name }}</b> <span class="pm-id">{{ site_id }}</span>'
    "<table>{% for label, value in rows %}<tr><th>{{ label }}</th><td>{{ value }}</td></tr>{% endfor %}"
    "</table></div>")
_TITLE = _ENV.from_string(
    "<h1>{{ title }}</h1><div class=\"pm-sub\">{{ subtitle }}</div>")
_LEGEND = _ENV.from_string(
    "<div class=\"pm-sec\"><h2>Sites by readiness</h2>"
    "{% for m, label, n in classes %}<div class=\"pm-row pm-site-class\"><span class=\"pm-dot\" "
    "style=\"width:{{ 12 - 2 * m.w }}px;height:{{ 12 - 2 * m.w }}px;background:{{ m.c }};"
    "border:{{ m.w }}px {{ 'dashed' if m.d else 'solid' }} {{ m.o }}\"></span>{{ label }} ({{ n }})</div>"
    "{% endfor %}{% if undecided_note %}<div class=\"pm-note\">{{ undecided_note }}</div>{% endif %}</div>"
    "{% if sizes %}<div class=\"pm-sec\"><h2>Site size (sqrt of MW)</h2>{% for px, label in sizes %}<div class=\"pm-row\">"
    "<span class=\"pm-dot\" style=\"width:{{ px }}px;height:{{ px }}px;background:#ddd\"></span>{{ label }}</div>"
    "{% endfor %}</div>{% endif %}"
    "{% for g in graduated %}<div class=\"pm-sec\"><h2>{{ g.title }}</h2>{% for colour, label, n in g.rows %}<div class=\"pm-row\">"
    "<span class=\"pm-swatch pm-class\" style=\"border-color:{{ colour }};background:{{ colour }}\"></span>"
    "{{ label }} ({{ n }})</div>{% endfor %}<div class=\"pm-note\">{{ g.note }}</div></div>{% endfor %}"
    "{% if voltage %}<div class=\"pm-sec\"><h2>{{ tx_title }}</h2>{% for colour, label in voltage %}<div class=\"pm-row\">"
    "<span class=\"pm-line\" style=\"border-color:{{ colour }}\"></span>{{ label }}</div>{% endfor %}</div>{% endif %}"
    "{% if others %}<div class=\"pm-sec\"><h2>Layers</h2>{% for colour, fill, label, name, shape in others %}"
    "<div class=\"pm-row\" data-layer=\"{{ name }}\">{% if shape == 'line' %}"
    "<span class=\"pm-line\" style=\"border-color:{{ colour }}\"></span>{% elif shape == 'dot' %}"
    "<span class=\"pm-dot\" style=\"width:9px;height:9px;border-color:{{ colour }};background:{{ fill }}\"></span>"
    "{% else %}<span class=\"pm-swatch\" style=\"border-color:{{ colour }};background:{{ fill }}\"></span>{% endif %}"
    "{{ label }}</div>{% endfor %}</div>{% endif %}"
    "{% for note in notes %}<div class=\"pm-note\">{{ note }}</div>{% endfor %}")
_LAYER_TITLE = _ENV.from_string(
    "<span class=\"pm-swatch\" style=\"border-color:{{ colour }};background:{{ fill }}\"></span>{{ title }}")


@functools.lru_cache(maxsize=1)
def _elements() -> tuple[type, type]:
    """The two branca element classes of the page (folium/branca are imported on the first build:
    ~0.4-1.2 s that the desktop app's start-up would otherwise pay before its window shows)."""
    from branca.element import Element, MacroElement

    class _RawElement(Element):
        """A branca element whose text is emitted as is (never parsed as a Jinja template)."""

        _template = Template("{{ this.raw }}")

        def __init__(self, raw: str) -> None:
            super().__init__()
            self._name = "RawElement"
            self.raw = raw

    class _PlannerLayers(MacroElement):
        """Child of the folium map: runs ``PlannerMap.init`` after ``L.map`` exists."""

        _template = Template(
            "{% macro script(this, kwargs) %}"
            "window.plannerMap = PlannerMap.init({{ this._parent.get_name() }}, "
            "JSON.parse(document.getElementById('planner-data').textContent));"
            "{% endmacro %}")

        def __init__(self) -> None:
            super().__init__()
            self._name = "PlannerLayers"

    return _RawElement, _PlannerLayers


# --------------------------------------------------------------------------- values
def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    s = str(value).strip()
    return s or None


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return fmt_number(value, unit)
    return f"{value} {unit}".strip() if unit else str(value)


def _site_mw(site: Any) -> float | None:
    for name in ("power_capacity_mw", "energized_mw", "pipeline_mw"):
        v = finite(getattr(site, name, None))
        if v is not None:
            return v
    return None


_POPUP_FIELDS = ("operator", "status", "locality", "admin1", "country", "location_precision",
                 "power_capacity_mw", "energized_mw", "pipeline_mw", "interconnection_status",
                 "ai_partner", "dist_substation_km", "substation_max_kv", "dist_fibre_km",
                 "fibre_network", "stranded_region")


#: Marker outline of a decided site (and of every site before PR i12b's undecided style).
SITE_OUTLINE = "#222222"
#: How an "Insufficient data" site shows the class it leans to (the class at its expected total):
#: grey fill (the band-decided class stays the marker's meaning) with a thick outline in the leaning
#: class's colour. Looked at side by side at 1366x768 with the other choice (leaning fill, grey
#: dashed outline): the leaning fill made the undecided sites read as decided ones.
UNDECIDED_OUTLINE_PX = 3


def marker_style(klass: str | None, lean: str | None = None) -> dict[str, Any]:
    """Marker fill ``c``, outline colour ``o``, outline width ``w`` (px) and dashed ``d`` of a site of
    class ``klass`` (None: not scored) leaning to ``lean`` (undecided sites only). Colours come from
    :data:`~planner.model.readiness_rules.READINESS_COLOURS`."""
    key = klass if klass in READINESS_COLOURS else "not_scored"
    if key == "insufficient_data" and lean in READINESS_COLOURS and lean != key:
        return {"c": READINESS_COLOURS[key], "o": READINESS_COLOURS[lean], "w": UNDECIDED_OUTLINE_PX, "d": False}
    return {"c": READINESS_COLOURS[key], "o": SITE_OUTLINE, "w": 1, "d": False}


def _band(score: Any) -> tuple[float | None, int | None, int | None]:
    total = finite(getattr(score, "total", None))
    lo, hi = finite(getattr(score, "total_low", None)), finite(getattr(score, "total_high", None))
    return total, None if lo is None else round(lo), None if hi is None else round(hi)


def readiness_text(score: Any | None) -> str:
    """The popup's readiness line: ``"Convertible with upgrades (65 (41-96)/100)"``, or for an
    undecided site ``"Insufficient data — leans Convertible with upgrades (expected 59, band 35-89)"``."""
    if score is None:
        return READINESS_LABELS["not_scored"]
    klass = getattr(score, "klass", None)
    label = getattr(score, "class_label", None) or READINESS_LABELS.get(str(klass), str(klass))
    total, lo, hi = _band(score)
    lean = getattr(score, "leans", None)
    if lean in READINESS_LABELS and total is not None:
        band = f", band {lo}-{hi}" if lo is not None and hi is not None else ""
        return f"{label} — leans {READINESS_LABELS[lean]} (expected {total:.0f}{band})"
    band_text = getattr(score, "band_text", None)  # "72 (60-85)": expected (band)
    return f"{label}" + (f" ({band_text or f'{total:.0f}'}/100)" if total is not None else " (no total)")


def _site_entry(site: Any, score: Any | None, max_mw: float | None, next_fact: str | None = None,
                same_place: Collection[Any] = ()) -> dict[str, Any]:
    klass = getattr(score, "klass", None) if score is not None else None
    colour_key = klass if klass in READINESS_COLOURS else "not_scored"
    lean = getattr(score, "leans", None) if score is not None else None
    rows: list[tuple[str, str]] = [("Readiness", readiness_text(score))]
    if same_place:  # markers at one point are drawn as one: say who else is there (QA)
        rows.append(("Same location", "; ".join(f"{_text(o.name) or o.site_id} ({o.site_id})" for o in same_place)))
    if next_fact:
        rows.append(("Next fact", next_fact))
    for name in _POPUP_FIELDS:
        fs = FIELDS[name]
        value = getattr(site, name, None)
        if value is None and name not in ("power_capacity_mw", "energized_mw"):
            continue
        rows.append((fs.label, field_text(name, value)))  # the form's, table's and report's text ("7.8 km")
    name = _text(site.name) or site.site_id
    mw = _site_mw(site)
    tip = f"{name} · {_fmt(mw, 'MW')}"
    if lean in READINESS_SHORT_LABELS:
        tip += f" · undecided, leans {READINESS_SHORT_LABELS[lean]}"
    if same_place:
        tip += f" · +{len(same_place)} more site{'s' if len(same_place) > 1 else ''} here"
    return {
        "id": site.site_id,
        "lat": round(float(site.lat), 6),
        "lon": round(float(site.lon), 6),
        "r": site_radius_px(mw, max_mw),
        **marker_style(colour_key, lean),
        "k": colour_key,
        "lean": lean,
        "tip": esc(tip),
        "pop": _POPUP.render(name=name, site_id=site.site_id, rows=rows),
    }


def site_popup(project: Any, site: Any, score: Any | None) -> str:
    """The popup of one located site with its first next fact when undecided (the app sends it
    for the selected site: ``plannerMap.setPopup``)."""
    entry = _site_entries(project, [site], {site.site_id: score} if score is not None else {}, None,
                          MapOptions(popup_next_fact=True))[0]
    return str(entry["pop"])


def _site_entries(project: Any, located: list[Any], scores: Mapping[str, Any], max_mw: float | None,
                  options: MapOptions | None) -> list[dict[str, Any]]:
    portfolio = getattr(project, "portfolio", None)
    settings = getattr(portfolio, "settings", None)
    at: dict[tuple[float, float], list[Any]] = {}
    for o in (portfolio if portfolio is not None else located):
        if o.lat is not None and o.lon is not None:
            at.setdefault((round(float(o.lat), 5), round(float(o.lon), 5)), []).append(o)  # ~1 m
    entries = []
    for s in located:
        score = scores.get(s.site_id)
        fact = None
        if options is not None and options.popup_next_fact and getattr(score, "leans", None):
            facts = next_facts(s, settings, result=score)
            fact = facts[0].sentence if facts else None
        here = at.get((round(float(s.lat), 5), round(float(s.lon), 5)), [])
        entries.append(_site_entry(s, score, max_mw, fact, [o for o in here if o.site_id != s.site_id]))
    return entries


def _label_column(gdf: Any) -> str | None:
    for c in _LABEL_COLUMNS:
        if c in gdf.columns:
            return c
    return None


def _check_layer(name: str, layer: Any) -> Any:
    gdf = getattr(layer, "gdf", None)
    if gdf is None or not hasattr(gdf, "geometry"):
        raise WebMapError(f"layer {name!r}: has no GeoDataFrame. Re-import the layer")
    crs = gdf.crs
    if crs is None or crs.to_epsg() != 4326:
        raise WebMapError(f"layer {name!r}: CRS is {crs.to_string() if crs else 'missing'}, the map needs "
                          "EPSG:4326. Reproject it with gdf.to_crs(4326) (or set_crs(4326) if it is lon/lat)")
    return gdf


def _visible(kind: str, layer: Any, options: MapOptions) -> bool:
    if kind in options.layer_visibility:
        return bool(options.layer_visibility[kind])
    style = getattr(layer, "style", None) or {}
    return style.get("visible", True) is not False


# --------------------------------------------------------------------------- graduated colours
def _break_decimals(breaks: list[float]) -> int:
    """Decimals that tell neighbouring class edges apart (0-3)."""
    steps = [b - a for a, b in itertools.pairwise(breaks) if b > a]
    if not steps:
        return 1
    return int(max(0, min(3, math.ceil(-math.log10(min(steps))) + 1)))


def _graduate(gdf: Any, spec: dict[str, Any], title: str) -> tuple[np.ndarray, dict[str, Any]]:
    """Class index per row (-1 = no value) and the legend/colour info of a ``color_by`` layer."""
    values = pd.to_numeric(gdf[spec["column"]], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    breaks = class_breaks(values, int(spec["classes"]), spec["breaks"])
    n_classes = max(1, len(breaks) - 1) if breaks else 0
    colours = ramp_colours(spec["ramp"], n_classes) if n_classes else []
    classes = class_index(values, breaks) if breaks else np.full(len(values), -1, dtype=np.int64)
    counts = np.bincount(classes[classes >= 0], minlength=n_classes) if n_classes else np.zeros(0, dtype=int)
    unit = spec["unit"]
    dec = _break_decimals(breaks)
    rows = []
    for k in range(n_classes):
        lo, hi = breaks[k], breaks[k + 1]
        label = f"{lo:,.{dec}f}" if lo == hi else f"{lo:,.{dec}f}\u2013{hi:,.{dec}f}"
        rows.append((colours[k], f"{label} {unit}".strip(), f"{int(counts[k]):,}"))
    missing = int((classes < 0).sum())
    if missing:
        rows.append((NO_VALUE_COLOUR, f"no {spec['column']} value", f"{missing:,}"))
    method = "quantile classes" if spec["breaks"] == "quantile" else "equal-interval classes"
    info = {"title": title, "rows": rows, "note": f"{spec['column']}, {method}",
            "breaks": [round(b, 6) for b in breaks], "colours": colours}
    return classes, info


def _graduated_points(geoms: np.ndarray, classes: np.ndarray, values: np.ndarray, spec: dict[str, Any],
                      style: dict[str, Any], info: dict[str, Any], options: MapOptions) -> dict[str, Any]:
    """Points of a ``color_by`` layer for the page's cell canvas: rounded, delta-encoded, one class each.

    Above ``options.max_graduated_points`` the points are binned on a coarser lon/lat grid (bin
    size doubled until the bins fit); a bin takes the mean value of its points and is re-classed
    with the layer's breaks, so the legend stays true.
    """
    multi = shapely.get_type_id(geoms) != 0
    if multi.any():
        geoms = geoms.copy()
        geoms[multi] = shapely.centroid(geoms[multi])
    x, y = shapely.get_x(geoms), shapely.get_y(geoms)
    cell_km = spec.get("cell_km")
    cell_m = cell_km * 1000.0 if cell_km else None
    aggregated = None
    if len(x) > options.max_graduated_points:
        bin_deg = (cell_km / 111.32) if cell_km else 0.01
        for _ in range(30):
            bx, by = np.floor(x / bin_deg).astype(np.int64), np.floor(y / bin_deg).astype(np.int64)
            keys, inverse = np.unique(np.stack([by, bx], axis=1), axis=0, return_inverse=True)
            if len(keys) <= options.max_graduated_points:
                break
            bin_deg *= 2
        inverse = inverse.ravel()
        ok = np.isfinite(values)
        total = np.bincount(inverse, weights=np.where(ok, values, 0.0), minlength=len(keys))
        count = np.bincount(inverse, weights=ok.astype(float), minlength=len(keys))
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        classes = class_index(mean, info["breaks"]) if len(info["breaks"]) >= 2 else np.full(len(keys), -1)
        x = (keys[:, 1] + 0.5) * bin_deg
        y = (keys[:, 0] + 0.5) * bin_deg
        cell_m = bin_deg * 111_320.0
        aggregated = {"points_in": len(geoms), "bins": len(keys), "bin_deg": round(bin_deg, 6)}
    # a grid of cells of >= 2 km needs no more than 3 decimals (~110 m); free points keep 4 (~11 m)
    dec = min(options.coord_decimals, 3 if cell_km and cell_km >= 2 else 4)
    q = np.round(np.stack([x, y], axis=1) * 10.0 ** dec).astype(np.int64)
    d = q.copy()
    d[1:] -= q[:-1]
    return {"xy": d.ravel().tolist(), "cls": classes.astype(int).tolist(), "decimals": dec,
            "cell_m": cell_m, "radius": float(style.get("radius", 4)), "opacity": float(style.get("fillOpacity", 0.75)),
            "aggregated": aggregated}


def _encode_layer(name: str, layer: Any, options: MapOptions) -> dict[str, Any]:
    gdf = _check_layer(name, layer)
    kind = getattr(layer, "kind", "other") or "other"
    title = _text(getattr(layer, "title", None)) or name
    style = merged_style(kind, getattr(layer, "style", None))
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if len(geoms) else np.zeros(0, dtype=bool)
    gdf = gdf.loc[valid]
    geoms = geoms[valid]
    types = shapely.get_type_id(geoms) if len(geoms) else np.array([], dtype=int)
    is_point = np.isin(types, (0, 4))
    is_line = np.isin(types, (1, 2, 5))
    is_poly = np.isin(types, (3, 6, 7))
    label_col = _label_column(gdf)
    labels = [_text(v) for v in gdf[label_col].tolist()] if label_col else [None] * len(gdf)
    if label_col == "network":  # a fibre route by its network's full name, not its Topology Zoo code
        labels = [None if t is None else network_text(t) for t in labels]
    elif kind == "pops" and label_col is not None and "network" in gdf.columns:  # "Denton (Kentucky Datalink)"
        nets = [_text(v) for v in gdf["network"].tolist()]
        labels = [t if t is None or n is None else f"{t} ({network_name(n)})" for t, n in zip(labels, nets)]
    out: dict[str, Any] = {"name": name, "kind": kind, "style": style, "hidden": not _visible(kind, layer, options),
                           "min_zoom": MIN_ZOOM.get(kind, 0),
                           "title_html": _LAYER_TITLE.render(title=title, colour=style.get("color", "#555"),
                                                             fill=style.get("fillColor", "transparent"))}
    dec = options.coord_decimals
    stats: dict[str, Any] = {}
    spec = graduated_spec(style)
    classes = values = None
    if spec is not None and spec["column"] not in gdf.columns:
        out["_note"] = f"{title}: no column {spec['column']!r} to colour by; drawn in one colour"
        spec = None
    if spec is not None:
        classes, info = _graduate(gdf, spec, title)
        values = pd.to_numeric(gdf[spec["column"]], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        out["_graduated"] = info
        out["grad"] = {"colours": info["colours"], "none": NO_VALUE_COLOUR}
        if info["colours"]:
            out["title_html"] = _LAYER_TITLE.render(title=title, colour=info["colours"][0],
                                                    fill=info["colours"][-1])

    # value-coloured grids (cell_km given: points or cell squares) and big point sets go to the
    # page's cell canvas as centroids, one class each
    cell_mask = np.zeros(len(geoms), dtype=bool)
    if classes is not None and spec.get("cell_km"):
        cell_mask = is_point | is_poly
    elif classes is not None and int(is_point.sum()) > options.max_graduated_markers:
        cell_mask = is_point.copy()
    is_point, is_poly = is_point & ~cell_mask, is_poly & ~cell_mask
    if is_line.any():
        idx = np.flatnonzero(is_line)
        if kind == "transmission":
            kv_col = "voltage_kv" if "voltage_kv" in gdf.columns else ("max_kv" if "max_kv" in gdf.columns else None)
            kvs = [finite(v) for v in gdf[kv_col].to_numpy()[idx]] if kv_col else [None] * len(idx)
            groups: list[Any] = [voltage_class(v) for v in kvs]
            out["group_colours"] = VOLTAGE_COLOURS
            # drawn lowest voltage first: the backbone (345, 500+ kV) stays on top where lines cross
            out["group_order"] = ["kv_unknown"] + [k for k, _, _ in VOLTAGE_CLASSES if k != "kv_unknown"]
            # hover text of a merged line (merged lines lose their own labels): its voltage class
            out["group_tips"] = {k: esc(f"{label} line") for k, label, _ in VOLTAGE_CLASSES}
        elif classes is not None:
            kvs = [None] * len(idx)
            groups = [f"g{int(c)}" for c in classes[idx]]
            out["group_colours"] = {f"g{k}": c for k, c in enumerate(out["grad"]["colours"])} | \
                {"g-1": NO_VALUE_COLOUR}
            out["group_order"] = ["g-1"] + [f"g{k}" for k in range(len(out["grad"]["colours"]))]
        else:
            kvs = [None] * len(idx)
            groups = [None] * len(idx)
        feats, st = encode_lines(geoms[idx], groups, decimals=dec, tolerance_deg=options.simplify_tolerance_deg,
                                 max_vertices=options.max_vertices_per_layer,
                                 merge_threshold=options.merge_threshold_features)
        lines = []
        for group, parts, row in feats:
            tip = None
            if row is not None:
                i = int(idx[row])
                bits = []
                if kind == "transmission":
                    bits.append(_fmt(kvs[row], "kV") if kvs[row] is not None else "voltage unknown")
                if labels[i]:
                    bits.append(labels[i])
                tip = esc(" · ".join(bits)) if bits else None
            lines.append([group, parts, tip])
        out["lines"] = lines
        stats["lines"] = st.__dict__
    if is_poly.any():
        idx = np.flatnonzero(is_poly)
        feats_p, st = encode_polygons(geoms[idx], decimals=dec, tolerance_deg=options.simplify_tolerance_deg,
                                      max_vertices=options.max_vertices_per_layer)
        out["polygons"] = [[polys, esc(labels[int(idx[row])]) if labels[int(idx[row])] else None]
                           + ([int(classes[idx[row]])] if classes is not None else [])
                           for polys, row in feats_p]
        stats["polygons"] = st.__dict__
    if cell_mask.any():
        idx = np.flatnonzero(cell_mask)
        out["cells"] = _graduated_points(geoms[idx], classes[idx], values[idx], spec, style,
                                         out["_graduated"], options)
        stats["cells"] = {"points_in": len(idx), "cells_out": len(out["cells"]["cls"]),
                          "aggregated": out["cells"]["aggregated"] is not None}
    if is_point.any():
        idx = np.flatnonzero(is_point)
        pts = []
        vol_col = "flr_volume_bcm" if "flr_volume_bcm" in gdf.columns else None
        vols = gdf[vol_col].to_numpy() if vol_col else None
        country_col = "cntry_name" if "cntry_name" in gdf.columns else None
        countries = gdf[country_col].to_numpy() if country_col else None
        kv_col = next((c for c in ("voltage_kv", "max_kv") if c in gdf.columns), None)
        kv_arr = gdf[kv_col].to_numpy() if kv_col else None
        for i, xy in zip(idx, encode_points(geoms[idx], dec)):
            if xy is None:
                continue
            radius = None
            bits = []
            if kind == "flares" and vols is not None:
                vol = finite(vols[i])
                radius = flare_radius_px(vol)
                if countries is not None and _text(countries[i]):
                    bits.append(_text(countries[i]) + " flare")
                bits.append(f"{vol:.3f} bcm/yr (2015)" if vol is not None else "volume unknown")
            else:
                if labels[i]:
                    bits.append(labels[i])
                if kv_arr is not None and finite(kv_arr[i]) is not None:
                    bits.append(_fmt(finite(kv_arr[i]), "kV"))
            if classes is not None and values is not None:
                v = values[i]
                bits.append(f"{spec['column']} {_fmt(float(v), spec['unit'])}" if math.isfinite(v)
                            else f"{spec['column']} unknown")
            pts.append([xy[0], xy[1], esc(" · ".join(bits)) if bits else None, radius]
                       + ([int(classes[i])] if classes is not None else []))
        out["points"] = pts
        out["cluster"] = kind == "flares" and options.cluster_flares
        stats["points"] = len(pts)
    out["stats"] = stats
    return out


def _legend_html(class_counts: Counter[str], max_mw: float | None, layers: list[dict[str, Any]],
                 unlocated: int, lean_counts: Counter[tuple[str, str]] | None = None,
                 keep_line: float | None = None) -> str:
    lean_counts = lean_counts or Counter()
    classes = []
    for k in READINESS_COLOURS:
        n = class_counts.get(k, 0)
        if k == "not_scored" and not n:
            continue
        leaning = sorted(((lean, c) for (kk, lean), c in lean_counts.items() if kk == k),
                         key=lambda lc: list(READINESS_COLOURS).index(lc[0]))
        decided = n - sum(c for _, c in leaning)
        if decided or not leaning:
            classes.append((marker_style(k), READINESS_LABELS[k], decided))
        for lean, c in leaning:  # "Undecided, leans Convertible (outline)"
            classes.append((marker_style(k, lean), f"Undecided: leans {READINESS_SHORT_LABELS[lean]} (outline)", c))
    line = f" ({keep_line:.0f})" if keep_line is not None else ""
    undecided_note = (f"Undecided: the score band crosses the keep-mining line{line}; grey fill, "
                      "outline = the class at the expected score"
                      if any(kk == "insufficient_data" for kk, _ in lean_counts) else "")
    sizes = []
    if max_mw:
        for mw in sorted({round(max_mw), round(max_mw / 4), round(max_mw / 16)}, reverse=True):
            if mw > 0:
                sizes.append((2 * site_radius_px(float(mw), max_mw), f"{mw:,} MW"))
    kinds = {lay["kind"] for lay in layers}
    voltage = [(c, label) for _, label, c in VOLTAGE_CLASSES] if "transmission" in kinds else []
    tx_title = "; ".join(lay["_title"] for lay in layers if lay["kind"] == "transmission") or "Transmission"
    others = []
    graduated = [lay["_graduated"] for lay in layers if lay.get("_graduated")]
    for lay in layers:
        if lay["kind"] == "transmission" or lay.get("_graduated"):
            continue
        st = lay["style"]
        shape = "line" if lay.get("lines") or lay.get("_shape") == "line" else \
            "dot" if lay.get("points") or lay.get("_shape") == "dot" else "swatch"
        fill = st.get("fillColor") or (st.get("color", "#555") if shape == "dot" else "transparent")
        others.append((st.get("color", "#555"), fill, lay["_title"], lay.get("name", ""), shape))
    notes = [f"{unlocated} site(s) without a location are not shown"] if unlocated else []
    notes += [lay["_note"] for lay in layers if lay.get("_note")]
    return _LEGEND.render(classes=classes, undecided_note=undecided_note, sizes=sizes, graduated=graduated, voltage=voltage, tx_title=tx_title,
                          others=others, notes=notes)


_LICENCE = re.compile(r"(CC BY(?:-SA)? \d\.\d|ODbL(?: \d\.\d)?|public domain)", re.IGNORECASE)


def short_credit(source: str) -> str:
    """A compact on-map credit from a layer's full source text (full text lives in the reports).

    Keeps the first clause (the data owner) and the licence when one is named, e.g.
    ``"(c) OpenStreetMap contributors, ODbL 1.0 (via GridKit ...)"`` -> ``"(c) OpenStreetMap
    contributors (ODbL 1.0)"``.
    """
    text = " ".join(str(source).split())
    head = re.split(r",| \(|;", text, maxsplit=1)[0].strip() or text[:60]
    lic = _LICENCE.search(text)
    if lic and lic.group(1).lower() not in head.lower() and lic.group(1).lower() != "public domain":
        head = f"{head} ({lic.group(1)})"
    return head[:80]


def focus_bounds(points: list[tuple[float, float]], trim: float = 0.1) -> list[list[float]] | None:
    """Initial view: the sites' bounding box without the outlying 10 % on each side.

    A portfolio of US sites with a few abroad (Norway, Bhutan, Paraguay) then opens on the
    US rather than on the whole world; the outliers stay one zoom-out away.
    """
    if not points:
        return None
    lats = sorted(p[0] for p in points)
    lons = sorted(p[1] for p in points)
    k = int(len(points) * trim) if len(points) >= 10 else 0
    lo, hi = k, len(points) - 1 - k
    return [[lats[lo], lons[lo]], [lats[hi], lons[hi]]]


def _legend_layer(lay: dict[str, Any]) -> dict[str, Any]:
    """What the legend needs of an encoded layer (no geometry)."""
    out = {k: lay[k] for k in ("name", "kind", "style", "_title", "_graduated", "_note") if k in lay}
    out["_shape"] = "line" if lay.get("lines") else "dot" if lay.get("points") else "swatch"
    return out


def _keep_line(project: Any) -> float | None:
    """The project's keep-mining line (``convertible_min_total``) for the legend; None if unreadable."""
    try:
        return float(thresholds_from_settings(getattr(getattr(project, "portfolio", None), "settings", None))
                     ["convertible_min_total"])
    except (PlannerError, KeyError, TypeError, ValueError):
        return None


def _lean_counts(entries: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    return Counter((e["k"], e["lean"]) for e in entries if e.get("lean"))


def sites_update(project: Any, scores: Mapping[str, Any] | None, legend_layers: list[dict[str, Any]],
                 options: MapOptions | None = None, only: Collection[str] | None = None) -> dict[str, Any]:
    """The sites part of a built map, for ``plannerMap.updateSites`` (no page rebuild).

    ``legend_layers``: ``meta["legend_layers"]`` from the :func:`build_map` call that built the page
    (the layers did not change; the readiness counts and MW sizes in the legend may have).
    ``only``: the site IDs the sites table shows through its filters (None: no filter); the map,
    its legend counts and its subtitle then show those sites and say that a filter is on. Marker
    sizes stay scaled to the whole portfolio, so a site does not grow when others are filtered out.
    """
    scores = scores or {}
    sites = list(getattr(project, "portfolio", []))
    located = [s for s in sites if s.lat is not None and s.lon is not None]
    mws = [m for m in (_site_mw(s) for s in located) if m is not None]
    max_mw = max(mws) if mws else None
    chosen = sites if only is None else [s for s in sites if s.site_id in only]
    shown = [s for s in chosen if s.lat is not None and s.lon is not None]
    entries = _site_entries(project, shown, scores, max_mw, options)
    subtitle = f"{len(shown)} of {len(sites)} sites shown"
    if only is not None:
        subtitle += f" (table filter: {len(chosen)} site{'s' if len(chosen) != 1 else ''} match)"
    return {"sites": entries,
            "legend_html": _legend_html(Counter(e["k"] for e in entries), max_mw, legend_layers,
                                        len(chosen) - len(shown), _lean_counts(entries), _keep_line(project)),
            "subtitle": subtitle}


def build_map(project: Any, scores: Mapping[str, Any] | None = None, options: MapOptions = MapOptions(),
              progress: Callable[[float], None] | None = None, meta: dict[str, Any] | None = None) -> str:
    """Build the self-contained HTML map of ``project`` (sites coloured by readiness ``scores``).

    Parameters
    ----------
    project
        Object with ``.portfolio`` (iterable of Site) and ``.layers`` (name -> MapLayer).
    scores
        Optional ``site_id -> ReadinessResult``-like objects (``.total``, ``.klass``, ``.class_label``);
        a missing entry means "not scored".
    options
        :class:`MapOptions`.
    progress
        Optional callback receiving the fraction done (0..1).
    meta
        Optional dict that receives ``legend_layers`` (for :func:`sites_update`).

    Returns
    -------
    str
        One HTML document: Leaflet, data and images inlined; no network requests unless
        ``options.online_tiles`` is set.
    """
    t0 = time.perf_counter()
    scores = scores or {}
    layers_in = list(getattr(project, "layers", {}).items())
    order = {k: i for i, k in enumerate(DRAW_ORDER)}
    layers_in.sort(key=lambda kv: order.get(getattr(kv[1], "kind", "other"), order["other"]))

    layers: list[dict[str, Any]] = []
    for n, (name, layer) in enumerate(layers_in):
        enc = _encode_layer(str(name), layer, options)
        enc["_title"] = _text(getattr(layer, "title", None)) or str(name)
        if enc.get("min_zoom"):
            enc["_title"] += f" (shown from zoom {enc['min_zoom']})"
        layers.append(enc)
        if progress:
            progress(0.8 * (n + 1) / max(1, len(layers_in)))

    if meta is not None:
        meta["legend_layers"] = [_legend_layer(lay) for lay in layers]
    sites = list(getattr(project, "portfolio", []))
    located = [s for s in sites if s.lat is not None and s.lon is not None]
    mws = [m for m in (_site_mw(s) for s in located) if m is not None]
    max_mw = max(mws) if mws else None
    site_entries = _site_entries(project, located, scores, max_mw, options)
    class_counts = Counter(e["k"] for e in site_entries)

    attributions = []
    for _, layer in layers_in:
        src = _text(getattr(layer, "source", None))
        credit = short_credit(src) if src else ""
        if credit and esc(credit) not in attributions:
            attributions.append(esc(credit))
    tiles = None
    provider = tile_provider(options)
    if provider is not None:
        opts = {k: provider[k] for k in ("subdomains", "variant", "max_zoom") if k in provider}
        if "max_zoom" in opts:
            opts["maxZoom"] = opts.pop("max_zoom")
        tiles = {"url": provider.url, "options": opts, "attribution_html": provider.html_attribution}

    view = None
    fit = focus_bounds([(s.lat, s.lon) for s in located])
    if options.center_lat_lon is not None:
        view = {"lat": options.center_lat_lon[0], "lon": options.center_lat_lon[1],
                "zoom": options.zoom if options.zoom is not None else 6}
    subtitle = f"{len(located)} of {len(sites)} sites shown"
    data = {
        "decimals": options.coord_decimals,
        "mode": options.mode,
        "view": view,
        "fit_bounds": fit,
        "title_html": _TITLE.render(title=options.title, subtitle=subtitle),
        "legend_html": _legend_html(class_counts, max_mw, layers, len(sites) - len(located),
                                    _lean_counts(site_entries), _keep_line(project)),
        "sites_title_html": _LAYER_TITLE.render(title="Candidate sites", colour="#222222",
                                                fill=READINESS_COLOURS["ready_now"]),
        "sites": site_entries,
        "sites_hidden": options.layer_visibility.get("sites", True) is False,
        "layers": [{k: v for k, v in lay.items() if not k.startswith("_")} for lay in layers],
        "attributions_html": attributions,
        "layer_control": bool(options.layer_control),
        "tiles": tiles,
        "build_seconds": None,
    }

    import folium

    _RawElement, _PlannerLayers = _elements()
    m = folium.Map(location=list(options.center_lat_lon or (39.0, -98.0)), zoom_start=options.zoom or 4,
                   tiles=None, prefer_canvas=True, control_scale=True)
    m.default_js = []  # folium's CDN links; the vendored copies are inlined below
    m.default_css = []
    root = m.get_root()
    root.default_js = []
    root.default_css = []
    root.header.add_child(_RawElement(f"<title>{esc(options.title)}</title>"), name="pm_title")
    root.header.add_child(_RawElement(f"<style>{assets.vendored_css()}\n{assets.planner_css()}</style>"),
                          name="pm_css")
    root.header.add_child(_RawElement(f"<script>{assets.vendored_js()}</script>"), name="pm_vendor_js")
    root.header.add_child(_RawElement(f"<script>{assets.planner_js()}</script>"), name="pm_planner_js")
    data["build_seconds"] = round(time.perf_counter() - t0, 3)
    root.html.add_child(_RawElement('<script type="application/json" id="planner-data">'
                                    + json_for_script(data) + "</script>"), name="pm_data")
    m.add_child(_PlannerLayers(), name="pm_layers")
    html = root.render()
    if progress:
        progress(1.0)
    return html
