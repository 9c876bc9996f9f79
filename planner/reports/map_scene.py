"""Report map pictures without a browser: what to draw (pure, no Qt), for ``render_qt.paint_scene``.

A :class:`Scene` is one picture: the map area (Web-Mercator view, layers clipped to it and
projected to CSS pixels, site markers), a title box, a scale bar and, beside the map rather than
over it, a legend panel that lists only what the picture shows, with the data credits under it.
Symbols come from the same registry as the interactive map (:mod:`planner.gis.kinds` through
:func:`planner.webmap.styles.merged_style`, voltage colours, readiness marker styles and
radii from :func:`planner.webmap.builder.sites_update`), so a report map reads like the app's map.

:class:`MapSource` prepares the project's layers once (spatial index, per-feature colour); a
view then costs a tree query, a clip and a projection per layer (an atlas draws 40 of them).
"""
from __future__ import annotations

import dataclasses
import html
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely

from planner.fmt import finite
from planner.gis.kinds import DRAW_ORDER
from planner.model.readiness import (READINESS_COLOURS, READINESS_LABELS, READINESS_SHORT_LABELS,
                                      thresholds_from_settings)
from planner.model.site import PlannerError
from planner.webmap.builder import _site_mw  # the MW the markers are sized by (legend sizes agree)
from planner.webmap.builder import marker_style, short_credit, sites_update
from planner.webmap.styles import (MIN_ZOOM, NO_VALUE_COLOUR, VOLTAGE_CLASSES, class_breaks, class_index,
                                   flare_radius_px, graduated_spec, merged_style, ramp_colours, site_radius_px,
                                   voltage_class)

TILE_PX = 256
MAX_LAT = 85.051_128_78
HIGHLIGHT_COLOUR = "#00e5ff"  # the interactive map's selected-site outline (planner_map.js selectSite)
HIGHLIGHT_WIDTH_PX = 4.0
BACKGROUND = "#dddddd"  # Leaflet's map background (sea, outside the countries layer)
LEGEND_WIDTH_PX = 224
SCALE_MAX_PX = 100  # Leaflet's scale control default maxWidth


# ------------------------------------------------------------------------------------------ view
@dataclasses.dataclass(frozen=True)
class View:
    """A Web-Mercator view: centre, (fractional) zoom and size in CSS px (256 px tiles, as Leaflet)."""

    lat: float
    lon: float
    zoom: float
    width: float
    height: float

    @property
    def world_px(self) -> float:
        return TILE_PX * 2.0 ** self.zoom

    def _world(self, lon: Any, lat: Any) -> tuple[Any, Any]:
        lat = np.clip(np.asarray(lat, dtype=float), -MAX_LAT, MAX_LAT)
        x = (np.asarray(lon, dtype=float) + 180.0) / 360.0 * self.world_px
        y = (1.0 - np.arcsinh(np.tan(np.radians(lat))) / math.pi) / 2.0 * self.world_px
        return x, y

    def project(self, lon: Any, lat: Any) -> tuple[Any, Any]:
        """CSS px in the view of lon/lat (arrays or scalars); the centre is (width/2, height/2)."""
        x, y = self._world(lon, lat)
        cx, cy = self._world(self.lon, self.lat)
        return x - cx + self.width / 2.0, y - cy + self.height / 2.0

    def unproject(self, x: Any, y: Any) -> tuple[Any, Any]:
        """lon/lat of view CSS px."""
        cx, cy = self._world(self.lon, self.lat)
        wx = np.asarray(x, dtype=float) - self.width / 2.0 + cx
        wy = np.asarray(y, dtype=float) - self.height / 2.0 + cy
        lon = wx / self.world_px * 360.0 - 180.0
        lat = np.degrees(np.arctan(np.sinh(math.pi * (1.0 - 2.0 * wy / self.world_px))))
        return lon, lat

    def bounds(self, margin_px: float = 0.0) -> tuple[float, float, float, float]:
        """(west, south, east, north) degrees of the view grown by ``margin_px`` on each side."""
        (w, e), (n, s) = self.unproject([-margin_px, self.width + margin_px], [-margin_px, self.height + margin_px])
        return float(max(-180.0, w)), float(max(-MAX_LAT, s)), float(min(180.0, e)), float(min(MAX_LAT, n))

    def metres_per_px(self) -> float:
        """Ground metres per CSS px at the view's centre latitude."""
        return 40_075_016.686 * math.cos(math.radians(self.lat)) / self.world_px


def fit_zoom(bounds: tuple[float, float, float, float], width_px: float, height_px: float,
             min_zoom: float = 2.0, max_zoom: float = 9.0, snap: float = 0.25) -> float:
    """Largest zoom (multiple of ``snap``) at which (south, west, north, east) fits the px box (Leaflet's fitBounds)."""
    south, west, north, east = bounds
    probe = View(0.0, 0.0, 0.0, 1.0, 1.0)
    x0, y0 = probe._world(west, north)
    x1, y1 = probe._world(east, south)
    dx, dy = max(float(x1 - x0), 1e-9), max(float(y1 - y0), 1e-9)
    z = math.log2(min(max(width_px, 1.0) / dx, max(height_px, 1.0) / dy))
    return max(min_zoom, min(max_zoom, math.floor(z / snap) * snap))


def fitted_view(bounds: tuple[float, float, float, float], width: float, height: float, *,
                pad: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0), max_zoom: float = 9.0) -> View:
    """The view of ``width`` x ``height`` px showing (south, west, north, east) inside the padding
    (left, top, right, bottom px), like Leaflet's ``fitBounds`` with paddingTopLeft/BottomRight."""
    left, top, right, bottom = pad
    zoom = fit_zoom(bounds, width - left - right, height - top - bottom, max_zoom=max_zoom)
    south, west, north, east = bounds
    probe = View(0.0, 0.0, zoom, 0.0, 0.0)
    x0, y0 = probe._world(west, north)
    x1, y1 = probe._world(east, south)
    # the box centre sits at the centre of the padded area
    cx = (float(x0) + float(x1)) / 2.0 - (left - right) / 2.0
    cy = (float(y0) + float(y1)) / 2.0 - (top - bottom) / 2.0
    lon = cx / probe.world_px * 360.0 - 180.0
    lat = math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * cy / probe.world_px))))
    return View(lat, lon, zoom, width, height)


def _round_num(x: float) -> float:
    """Leaflet's scale rounding: 1, 2, 3 or 5 times a power of ten, not above ``x``."""
    p = 10.0 ** (len(str(int(math.floor(x)))) - 1)
    d = x / p
    return p * (10 if d >= 10 else 5 if d >= 5 else 3 if d >= 3 else 2 if d >= 2 else 1)


def scale_bar(view: View, max_px: float = SCALE_MAX_PX) -> tuple[tuple[float, str], tuple[float, str]]:
    """Metric and imperial bars ``((px, "5 km"), (px, "5 mi"))`` at most ``max_px`` long (Leaflet's rule)."""
    m_px = view.metres_per_px()
    max_m = m_px * max_px
    metres = _round_num(max_m)
    metric = (metres / m_px, f"{metres / 1000:g} km" if metres >= 1000 else f"{metres:g} m")
    max_ft = max_m * 3.280_839_9
    if max_ft > 5280:
        miles = _round_num(max_ft / 5280)
        imperial = (miles * 5280 / 3.280_839_9 / m_px, f"{miles:g} mi")
    else:
        feet = _round_num(max_ft)
        imperial = (feet / 3.280_839_9 / m_px, f"{feet:g} ft")
    return metric, imperial


# ------------------------------------------------------------------------------------ scene parts
@dataclasses.dataclass(frozen=True)
class PathGroup:
    """Lines or polygons of one style. ``parts``: each a list of rings (N x 2 arrays of CSS px);
    a polygon's rings are filled even-odd (holes)."""

    kind: str
    colour: str
    width: float
    opacity: float
    dash: tuple[float, ...]
    fill: str | None
    fill_opacity: float
    parts: tuple[tuple[np.ndarray, ...], ...]
    closed: bool = False  # polygons (closed rings), else lines


@dataclasses.dataclass(frozen=True)
class PointGroup:
    """Circle markers of one layer: centres and radii in CSS px, fill colour per point."""

    kind: str
    colour: str
    width: float
    opacity: float
    fill_opacity: float
    xy: np.ndarray
    radius: np.ndarray
    fills: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class SiteMark:
    """One site marker (``label`` is plain text, drawn literally; set on the highlighted site)."""

    site_id: str
    x: float
    y: float
    radius: float
    fill: str
    outline: str
    outline_width: float
    highlighted: bool = False
    label: str = ""


@dataclasses.dataclass(frozen=True)
class LegendRow:
    """A legend entry: ``symbol`` is ``dot`` / ``line`` / ``swatch``; ``size`` the dot diameter in px."""

    symbol: str
    label: str
    colour: str = "#222222"
    fill: str | None = None
    width: float = 1.0
    dash: tuple[float, ...] = ()
    size: float = 10.0


@dataclasses.dataclass(frozen=True)
class LegendSection:
    title: str
    rows: tuple[LegendRow, ...]
    note: str = ""


@dataclasses.dataclass(frozen=True)
class Inset:
    """A small second map (a group of sites far from the main one) drawn in a frame at ``x``, ``y``."""

    scene: "Scene"
    x: float
    y: float
    label: str


@dataclasses.dataclass(frozen=True)
class Scene:
    """Everything one report map picture shows; CSS px, the map area at (0, 0) of ``view`` size."""

    view: View
    width: float  # whole picture: map area + legend panel
    height: float
    title: str
    subtitle: str
    paths: tuple[PathGroup, ...]
    points: tuple[PointGroup, ...]
    sites: tuple[SiteMark, ...]
    legend: tuple[LegendSection, ...]
    credits: tuple[str, ...]
    scale: tuple[tuple[float, str], tuple[float, str]]
    insets: tuple[Inset, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def kinds_drawn(self) -> set[str]:
        """Layer kinds with at least one feature in the picture."""
        return {g.kind for g in self.paths if g.parts} | {g.kind for g in self.points if len(g.xy)}


# ------------------------------------------------------------------------------------- the source
def _dash(value: Any) -> tuple[float, ...]:
    if not isinstance(value, str):
        return ()
    try:
        nums = tuple(float(v) for v in value.replace(",", " ").split())
    except ValueError:
        return ()
    return nums if nums and all(v > 0 for v in nums) else ()


@dataclasses.dataclass
class _Layer:
    name: str
    kind: str
    title: str
    style: dict[str, Any]
    geoms: np.ndarray
    tree: Any
    colours: np.ndarray  # per feature (stroke for lines, fill for polygons/points)
    radius: np.ndarray  # per point feature, px
    is_point: np.ndarray
    groups: list[tuple[str, str]]  # legend rows for per-feature colours: (colour, label)
    credit: str  # short on-map credit of the layer's source ("" when it names none)


def _layer_colours(kind: str, gdf: Any, style: dict[str, Any]) -> tuple[np.ndarray, list[tuple[str, str]]]:
    n = len(gdf)
    base = style.get("fillColor") or style.get("color", "#555555")
    if kind == "transmission":
        col = next((c for c in ("voltage_kv", "max_kv") if c in gdf.columns), None)
        kvs = pd.to_numeric(gdf[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan) if col \
            else np.full(n, np.nan)
        colour_of = {k: c for k, _, c in VOLTAGE_CLASSES}
        levels, inverse = np.unique(kvs, return_inverse=True)  # a few dozen voltages among 22,000 lines
        per_level = np.array([colour_of[voltage_class(finite(float(v)))] for v in levels], dtype=object)
        return per_level[inverse.ravel()] if n else np.zeros(0, dtype=object), \
            [(c, label) for _, label, c in VOLTAGE_CLASSES]
    spec = graduated_spec(style)
    if spec is not None and spec["column"] in gdf.columns:
        values = pd.to_numeric(gdf[spec["column"]], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        breaks = class_breaks(values, int(spec["classes"]), spec["breaks"])
        colours = ramp_colours(spec["ramp"], max(1, len(breaks) - 1)) if breaks else []
        cls = class_index(values, breaks) if breaks else np.full(n, -1)
        out = np.array([colours[c] if 0 <= c < len(colours) else NO_VALUE_COLOUR for c in cls], dtype=object)
        rows = [(colours[k], f"{breaks[k]:,.4g}\u2013{breaks[k + 1]:,.4g} {spec['unit']}".strip())
                for k in range(len(colours))]
        return out, rows + [(NO_VALUE_COLOUR, f"no {spec['column']} value")]
    return np.full(n, base, dtype=object), []


class MapSource:
    """The project's layers of the given kinds, indexed once for many views (an atlas)."""

    def __init__(self, project: Any, kinds: Mapping[str, bool], scores: Mapping[str, Any]) -> None:
        order = {k: i for i, k in enumerate(DRAW_ORDER)}
        self.layers: list[_Layer] = []
        items = sorted(project.layers.items(), key=lambda kv: order.get(kv[1].kind, order["other"]))
        for name, layer in items:
            kind = layer.kind or "other"
            if not kinds.get(kind, False):
                continue
            gdf = layer.gdf
            geoms = np.asarray(gdf.geometry.values, dtype=object)
            ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if len(geoms) else np.zeros(0, bool)
            gdf, geoms = gdf.loc[ok], geoms[ok]
            style = merged_style(kind, getattr(layer, "style", None))
            colours, groups = _layer_colours(kind, gdf, style)
            types = shapely.get_type_id(geoms) if len(geoms) else np.zeros(0, int)
            is_point = np.isin(types, (0, 4))
            radius = np.full(len(geoms), float(style.get("radius", 4)))
            if kind == "flares" and "flr_volume_bcm" in gdf.columns:
                radius = np.array([flare_radius_px(finite(v)) for v in gdf["flr_volume_bcm"].to_numpy()])
            title = str(getattr(layer, "title", None) or name)
            src = getattr(layer, "source", None)
            self.layers.append(_Layer(str(name), kind, title, style, geoms, shapely.STRtree(geoms), colours,
                                      radius, is_point, groups, short_credit(str(src)) if src else ""))
        sites = list(project.portfolio)
        upd = sites_update(project, scores, [])
        self.unlocated = len(sites) - len(upd["sites"])
        self.sites = upd["sites"]  # id, lat, lon, r, c (fill), o (outline), w, k (class), lean, tip (escaped)
        mws = [m for m in (_site_mw(s) for s in sites if s.has_location) if m is not None]
        self.portfolio_max_mw = max(mws) if mws else None
        try:  # the keep-mining line named in the legend's note on undecided sites
            line = thresholds_from_settings(getattr(project.portfolio, "settings", None))["convertible_min_total"]
            self.keep_line: str = f" ({line:.0f})"
        except PlannerError:
            self.keep_line = ""

    # -- one view ------------------------------------------------------------------------------------
    def scene(self, view: View, title: str, subtitle: str, *, highlight: str | None = None,
              legend_width: float = LEGEND_WIDTH_PX, overview: bool = False,
              insets: Sequence[Inset] = ()) -> Scene:
        """The picture of ``view`` (the map area) with a legend panel of ``legend_width`` px on its right."""
        margin = 12.0  # px beyond the edge: clipped polygon edges and line caps stay outside the picture
        w, s, e, n = view.bounds(margin)
        rect = shapely.box(w, s, e, n)
        paths: list[PathGroup] = []
        points: list[PointGroup] = []
        for lay in self.layers:
            if MIN_ZOOM.get(lay.kind, 0) > view.zoom + 1e-9:
                continue  # the interactive map hides these below their zoom too
            hit = np.sort(lay.tree.query(rect))
            if not len(hit):
                continue
            pts = hit[lay.is_point[hit]]
            rest = hit[~lay.is_point[hit]]
            if len(rest):
                paths.extend(self._paths(lay, view, rest, (w, s, e, n)))
            if len(pts):
                points.append(self._points(lay, view, pts))
        sites = self._sites(view, highlight)
        counted = list(sites) + [m for i in insets for m in i.scene.sites]
        legend = self._legend(paths, points, counted, overview)
        notes = (f"{self.unlocated} site(s) without a location are not shown",) if overview and self.unlocated else ()
        # credits of the layers in the picture only (a Paraguay view owes nothing to the US Census)
        drawn = {g.kind for g in paths} | {g.kind for g in points} | {k for i in insets for k in i.scene.kinds_drawn}
        credits = tuple(dict.fromkeys(lay.credit for lay in self.layers if lay.kind in drawn and lay.credit))
        return Scene(view=view, width=view.width + legend_width, height=view.height, title=title, subtitle=subtitle,
                     paths=tuple(paths), points=tuple(points), sites=tuple(sites), legend=tuple(legend),
                     credits=credits, scale=scale_bar(view), insets=tuple(insets), notes=notes)

    def _paths(self, lay: _Layer, view: View, idx: np.ndarray, box: tuple[float, float, float, float]) -> list[PathGroup]:
        st = lay.style
        clipped = shapely.clip_by_rect(lay.geoms[idx], *box)
        keep = ~shapely.is_empty(clipped)
        clipped, colours = clipped[keep], lay.colours[idx][keep]
        out = []
        # class groups drawn lowest first (unknown / no value, then up): the 345 and 500+ kV backbone
        # stays on top where lines cross, as on the interactive map
        rank = {c: i for i, (c, _) in enumerate(lay.groups[-1:] + lay.groups[:-1])}
        for colour in sorted(dict.fromkeys(colours.tolist()), key=lambda c: rank.get(c, -1)):
            parts = shapely.get_parts(clipped[colours == colour])
            types = shapely.get_type_id(parts)
            polys, lines = parts[types == 3], parts[np.isin(types, (1, 2))]
            stroke = str(st.get("color", "#3388ff"))
            args = (float(st.get("weight", 3)), float(st.get("opacity", 1.0)), _dash(st.get("dashArray")))
            if len(lines):
                xy, ix = shapely.get_coordinates(lines, return_index=True)
                rings = tuple((r,) for r in _split(view, xy, ix))
                if rings:
                    out.append(PathGroup(lay.kind, str(colour) if lay.groups else stroke, *args, None, 0.0, rings))
            if len(polys):
                rings_, owner = shapely.get_rings(polys, return_index=True)
                xy, ix = shapely.get_coordinates(rings_, return_index=True)
                grouped: dict[int, list[np.ndarray]] = {}
                for ring, o in zip(_split(view, xy, ix), owner.tolist()):
                    grouped.setdefault(o, []).append(ring)
                fill = None
                if st.get("fill", True) is not False:
                    fill = str(colour) if lay.groups else str(st.get("fillColor") or stroke)
                if grouped:
                    out.append(PathGroup(lay.kind, stroke, *args, fill, float(st.get("fillOpacity", 0.2)),
                                         tuple(tuple(v) for v in grouped.values()), closed=True))
        return out

    def _points(self, lay: _Layer, view: View, idx: np.ndarray) -> PointGroup:
        geoms = lay.geoms[idx]
        multi = shapely.get_type_id(geoms) == 4
        if multi.any():
            geoms = geoms.copy()
            geoms[multi] = shapely.centroid(geoms[multi])
        x, y = view.project(shapely.get_x(geoms), shapely.get_y(geoms))
        st = lay.style
        return PointGroup(lay.kind, str(st.get("color", "#3388ff")), float(st.get("weight", 1.0)),
                          float(st.get("opacity", 1.0)), float(st.get("fillOpacity", 0.2)),
                          np.stack([x, y], axis=1), lay.radius[idx], tuple(str(c) for c in lay.colours[idx]))

    def _sites(self, view: View, highlight: str | None) -> list[SiteMark]:
        if not self.sites:
            return []
        lon = np.array([e["lon"] for e in self.sites])
        lat = np.array([e["lat"] for e in self.sites])
        x, y = view.project(lon, lat)
        marks = []
        for e, xi, yi in zip(self.sites, x.tolist(), y.tolist()):
            r = float(e["r"])
            if not (-r <= xi <= view.width + r and -r <= yi <= view.height + r):
                continue
            hl = e["id"] == highlight
            marks.append(SiteMark(str(e["id"]), xi, yi, r, e["c"], HIGHLIGHT_COLOUR if hl else e["o"],
                                  HIGHLIGHT_WIDTH_PX if hl else float(e["w"]), hl,
                                  html.unescape(e["tip"]) if hl else ""))
        # big circles under small ones; the highlighted site on top (Leaflet's bringToFront)
        marks.sort(key=lambda m: (m.highlighted, -m.radius))
        return marks

    def _legend(self, paths: Sequence[PathGroup], points: Sequence[PointGroup], sites: Sequence[SiteMark],
                overview: bool) -> list[LegendSection]:
        out: list[LegendSection] = []
        shown = {m.site_id for m in sites}
        entries = [e for e in self.sites if e["id"] in shown]
        counts = Counter((e["k"], e.get("lean")) for e in entries)
        rows = []
        for k in READINESS_COLOURS:
            for lean in [None] + [ln for kk, ln in counts if kk == k and ln]:
                n = counts.get((k, lean), 0)
                if not n:
                    continue
                m = marker_style(k, lean)
                label = READINESS_LABELS[k] if lean is None else f"Undecided: leans {READINESS_SHORT_LABELS[lean]}"
                rows.append(LegendRow("dot", f"{label} ({n})", m["o"], m["c"], float(m["w"]), size=11.0))
        if any(m.highlighted for m in sites):
            rows.append(LegendRow("dot", "This site (outline)", HIGHLIGHT_COLOUR, "#ffffff", 3.0, size=11.0))
        if rows:
            note = (f"Undecided: the score band crosses the keep-mining line{self.keep_line}; grey fill, "
                    "outline = the class at the expected score") if any(lean for _, lean in counts) else ""
            out.append(LegendSection("Sites by readiness", tuple(rows), note))
        if overview and self.portfolio_max_mw:
            top = self.portfolio_max_mw
            sizes = [LegendRow("dot", f"{mw:,} MW", "#222222", "#dddddd", 1.0, size=2 * site_radius_px(float(mw), top))
                     for mw in sorted({round(top), round(top / 4), round(top / 16)}, reverse=True) if mw > 0]
            out.append(LegendSection("Site size (area ~ MW)", tuple(sizes)))
        drawn: dict[str, set[str]] = {}
        for g in paths:
            drawn.setdefault(g.kind, set()).add(g.colour if g.fill is None else g.fill)
        for p in points:
            drawn.setdefault(p.kind, set()).update(p.fills)
        layer_rows = []
        for lay in self.layers:
            if lay.kind not in drawn:
                continue
            st = lay.style
            if lay.groups:  # voltage classes / value classes: the ones drawn here
                grows = tuple(LegendRow("line" if lay.kind == "transmission" else "swatch", label, c, c, 3.0)
                              for c, label in lay.groups if c in drawn[lay.kind])
                if grows:
                    out.append(LegendSection(lay.title, grows))
                continue
            mine = [g for g in paths if g.kind == lay.kind]
            if not mine:
                layer_rows.append(LegendRow("dot", lay.title, str(st.get("color", "#555")),
                                            str(st.get("fillColor") or st.get("color", "#555")),
                                            float(st.get("weight", 1)), size=9.0))
            elif not any(g.closed for g in mine):
                layer_rows.append(LegendRow("line", lay.title, str(st.get("color", "#555")),
                                            width=max(1.5, float(st.get("weight", 1))), dash=_dash(st.get("dashArray"))))
            else:
                fill = st.get("fillColor") if st.get("fill", True) is not False else None
                layer_rows.append(LegendRow("swatch", lay.title, str(st.get("color", "#555")), fill,
                                            float(st.get("weight", 1)), _dash(st.get("dashArray"))))
        if layer_rows:
            out.append(LegendSection("Layers", tuple(layer_rows)))
        return out


def _split(view: View, xy: np.ndarray, index: np.ndarray) -> list[np.ndarray]:
    """Projected coordinates split into one array per geometry (``index`` from get_coordinates)."""
    if not len(xy):
        return []
    x, y = view.project(xy[:, 0], xy[:, 1])
    pts = np.stack([x, y], axis=1)
    cuts = np.flatnonzero(np.diff(index)) + 1
    return [p for p in np.split(pts, cuts) if len(p) >= 2]


# ----------------------------------------------------------------------------------- report views
def site_scene(source: MapSource, site: Any, view: View, subtitle: str) -> Scene:
    """The picture around one located site, highlighted, with its name as the title."""
    return source.scene(view, str(site.name), subtitle, highlight=str(site.site_id))


def overview_scene(source: MapSource, clusters: Sequence[Any], width: float, height: float, title: str,
                   *, max_insets: int = 4, legend_width: float = LEGEND_WIDTH_PX) -> Scene:
    """The portfolio picture: the largest group of sites fitted to the map area, the others as insets.

    ``clusters``: :func:`planner.reports.snapshot.site_clusters` (largest first). The insets sit
    in a strip along the bottom of the map (clear of the scale bar), so no site of the main group
    is drawn under one.
    """
    map_w = width - legend_width
    located = sum(len(c.sites) for c in clusters)
    subtitle = f"{located} of {located + source.unlocated} sites shown"
    if not clusters:
        view = View(39.0, -98.0, 3.0, map_w, height)
        return source.scene(view, title, subtitle, legend_width=legend_width, overview=True)
    others = list(clusters[1:max_insets + 1])
    inset_w, inset_h = int(map_w * 0.24), int(height * 0.26)
    gap, bottom = 8, 50  # the insets end above the scale bar
    pad_bottom = (bottom + inset_h + 2 * gap) if others else 40
    view = fitted_view(clusters[0].bounds, map_w, height, pad=(30, 80, 30, pad_bottom), max_zoom=9)
    insets = []
    x = float(gap)
    for c in others:
        zoom = fit_zoom(c.bounds, inset_w * 0.7, inset_h * 0.6, max_zoom=6.0)
        south, west, north, east = c.bounds
        iv = View((south + north) / 2, (west + east) / 2, zoom, inset_w, inset_h)
        sub = source.scene(iv, "", "", legend_width=0)
        insets.append(Inset(sub, x, height - bottom - inset_h, c.label))
        x += inset_w + gap
    return source.scene(view, title, subtitle, legend_width=legend_width, overview=True, insets=insets)
