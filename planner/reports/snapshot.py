"""Map pictures and map exports: the portfolio or one site, as a PNG snapshot, an interactive HTML
file or the pictures of a report.

The view arithmetic and the page building are pure (planner.webmap, planner.reports.map_scene);
only :func:`snapshot_png` (the map page in a hidden browser view, exactly as the app shows it) and
:func:`render_site_maps` (report pictures painted with QPainter, no browser) go through Qt
(:mod:`planner.reports.render_qt`).
"""
from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from planner.fileio import atomic_write
from planner.gis.project import Project
from planner.model.readiness import score_portfolio
from planner.model.site import Site
from planner.reports.content import ReportError, find_site
from planner.webmap import MapOptions, build_map

# Layer kinds shown around one site and on the portfolio overview (others are left out of the page).
SITE_LAYERS: dict[str, bool] = {"countries": True, "states": True, "stranded": True, "transmission": True,
                                "fibre": True, "substations": True, "pops": True, "other": True}
PORTFOLIO_LAYERS: dict[str, bool] = {"countries": True, "states": True, "stranded": True, "transmission": True,
                                     "other": True}
WEB_MERCATOR_M_PER_PX_Z0 = 156_543.033_92  # metres per pixel at zoom 0 on the equator (256 px tiles)
MIN_SITE_RADIUS_KM = 25.0
MAX_SITE_RADIUS_KM = 150.0


def site_radius_km(site: Site) -> float:
    """Radius to show around a site: its nearest HV line, substation and fibre plus 30 %, 15-150 km."""
    dists = [site.get(k) for k in ("dist_line_230kv_km", "dist_line_138kv_km", "dist_substation_km",
                                   "dist_fibre_km")]
    known = [float(d) for d in dists if d is not None and float(d) <= MAX_SITE_RADIUS_KM]
    radius = 1.3 * max(known) if known else 40.0
    return min(MAX_SITE_RADIUS_KM, max(MIN_SITE_RADIUS_KM, radius))


def site_subtitle(site: Site) -> str:
    """Map subtitle for a site view: id, operator and the radius shown."""
    parts = [str(site.site_id)] + ([str(site.operator)] if site.operator else [])
    return " \u00b7 ".join(parts) + f" \u00b7 {site_radius_km(site):.0f} km around the site"


def zoom_for_radius(lat: float, radius_km: float, width_px: int, height_px: int) -> float:
    """Web-Mercator zoom (quarter steps) at which ``radius_km`` fits in the smaller half-side of the view."""
    if radius_km <= 0 or width_px <= 0 or height_px <= 0:
        raise ReportError(f"map view: radius {radius_km} km and size {width_px}x{height_px} px must be positive")
    half_px = min(width_px, height_px) / 2.0
    m_per_px = radius_km * 1000.0 / half_px
    z = math.log2(WEB_MERCATOR_M_PER_PX_Z0 * math.cos(math.radians(lat)) / m_per_px)
    return max(2.0, min(16.0, math.floor(z * 4) / 4))


def site_bbox(site: Site, radius_km: float, margin: float = 1.6) -> tuple[float, float, float, float]:
    """(west, south, east, north) degrees covering ``radius_km`` x ``margin`` around the site."""
    r = radius_km * margin
    dlat = r / 110.574
    dlon = r / (111.320 * max(0.05, math.cos(math.radians(float(site.lat)))))
    return (max(-180.0, site.lon - dlon * 1.8), max(-90.0, site.lat - dlat),  # views are wider than tall
            min(180.0, site.lon + dlon * 1.8), min(90.0, site.lat + dlat))


def sites_bounds(sites: Iterable[Site]) -> tuple[float, float, float, float] | None:
    """(south, west, north, east) of the located sites, None when none has a location."""
    pts = [(float(s.lat), float(s.lon)) for s in sites if s.has_location]
    if not pts:
        return None
    lats, lons = zip(*pts)
    return min(lats), min(lons), max(lats), max(lons)


@dataclasses.dataclass(frozen=True)
class SiteCluster:
    """Located sites close to each other (for the main frame and the insets of a portfolio map)."""

    sites: tuple[Site, ...]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(south, west, north, east) of the cluster's sites."""
        b = sites_bounds(self.sites)
        assert b is not None  # a cluster has at least one located site
        return b

    @property
    def label(self) -> str:
        """Countries of the cluster (``"ET, PY"``) and its site count."""
        countries = sorted({str(s.country) for s in self.sites if s.country}) or ["unknown country"]
        n = len(self.sites)
        return f"{', '.join(countries[:3])}{' …' if len(countries) > 3 else ''}: {n} site{'s' if n != 1 else ''}"


def _km_apart(a: Site, b: Site) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (float(a.lat), float(a.lon), float(b.lat), float(b.lon)))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def site_clusters(sites: Iterable[Site], link_km: float = 1500.0) -> list[SiteCluster]:
    """Located sites grouped by single linkage (a site within ``link_km`` of a member joins it).

    Largest cluster first (ties: the one with more MW known, then west to east). The portfolio
    map shows the first one in its main frame and the others as insets, so a portfolio in Texas
    with two sites in Ethiopia is not drawn at world scale.
    """
    located = [s for s in sites if s.has_location]
    groups: list[list[Site]] = []
    for s in located:
        near = [g for g in groups if any(_km_apart(s, t) <= link_km for t in g)]
        merged = [s] + [t for g in near for t in g]
        groups = [g for g in groups if not any(g is n for n in near)] + [merged]
    def key(g: list[Site]) -> tuple[int, float, float]:
        mw = sum(float(x.power_capacity_mw or 0) for x in g)
        return (-len(g), -mw, min(float(x.lon) for x in g))
    return [SiteCluster(tuple(g)) for g in sorted(groups, key=key)]


def zoom_to_fit(bounds: tuple[float, float, float, float], width_px: float, height_px: float,
                min_zoom: float = 2.0, max_zoom: float = 7.0) -> float:
    """Web-Mercator zoom (quarter steps) at which ``bounds`` (south, west, north, east) fits ``width_px`` x ``height_px``."""
    south, west, north, east = bounds

    def y(lat: float) -> float:
        lat = max(-85.0, min(85.0, lat))
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) / (2 * math.pi)  # fraction of the world

    dx = max((east - west) / 360.0, 1e-6)
    dy = max(abs(y(north) - y(south)), 1e-6)
    z = math.log2(min(width_px / (256 * dx), height_px / (256 * dy)))
    return max(min_zoom, min(max_zoom, math.floor(z * 4) / 4))


def map_project(project: Any, kinds: Mapping[str, bool],
                bbox: tuple[float, float, float, float] | None = None) -> Any:
    """A project view for the web map: only layer kinds shown in ``kinds``, features clipped to ``bbox``."""
    layers = {}
    for name, layer in project.layers.items():
        if not kinds.get(layer.kind, False):
            continue
        gdf = layer.gdf
        if bbox is not None and len(gdf):
            w, s, e, n = bbox
            gdf = gdf.cx[w:e, s:n]
        layers[name] = dataclasses.replace(layer, gdf=gdf)
    return Project(path=project.path, portfolio=project.portfolio, layers=layers)


def shown_kinds(project: Any) -> dict[str, bool]:
    """The layer kinds the project shows (a layer's ``style["visible"]``, the Layers panel's switch)."""
    return {layer.kind: True for layer in project.layers.values() if layer.style.get("visible", True)}


def site_map_html(project: Any, site_id: str, width: int, height: int, *,
                  scores: Mapping[str, Any] | None = None,
                  kinds: Mapping[str, bool] = SITE_LAYERS) -> tuple[str, tuple[float, float, float]]:
    """Map page around ``site_id`` (layers clipped to the view) and its view (lat, lon, zoom)."""
    site = find_site(project.portfolio, site_id)
    if not site.has_location:
        raise ReportError(f"site {site_id!r} has no location (lon/lat unknown); enter its coordinates to map it")
    radius = site_radius_km(site)
    zoom = zoom_for_radius(float(site.lat), radius, width, height)
    view_project = map_project(project, kinds, site_bbox(site, radius))
    scores = scores if scores is not None else score_portfolio(project.portfolio)
    options = MapOptions(title=str(site.name), center_lat_lon=(float(site.lat), float(site.lon)),
                         zoom=int(zoom), layer_visibility=dict(kinds))
    return build_map(view_project, scores, options), (float(site.lat), float(site.lon), zoom)


def portfolio_map_html(project: Any, *, scores: Mapping[str, Any] | None = None,
                       kinds: Mapping[str, bool] = PORTFOLIO_LAYERS, title: str | None = None) -> str:
    """Map page of the whole portfolio with the overview layers."""
    scores = scores if scores is not None else score_portfolio(project.portfolio)
    options = MapOptions(title=title or str(project.portfolio.name), layer_visibility=dict(kinds))
    return build_map(map_project(project, kinds), scores, options)


def export_map_html(project: Any, out: str | os.PathLike[str], *,
                    progress: Callable[[float], None] | None = None) -> Path:
    """Write the interactive, offline map of the whole project (all layers) to one HTML file."""
    out_path = Path(out)
    if not out_path.parent.resolve().is_dir():
        raise ReportError(f"{out_path}: folder does not exist; create it or choose another output path")
    html = build_map(project, score_portfolio(project.portfolio),
                     MapOptions(title=str(project.portfolio.name), popup_next_fact=True), progress=progress)
    return atomic_write(out_path, html)


def snapshot_png(project: Any, out: str | os.PathLike[str], *, site_id: str | None = None, width: int = 1600,
                 height: int = 1000, scale: float = 2.0, timeout_ms: int = 60_000,
                 kinds: Mapping[str, bool] | None = None) -> Path:
    """Write a PNG of the portfolio (or of ``site_id`` and its surroundings): width*scale x height*scale px.

    Title, legend, scale bar and attribution are drawn by the map page; the picture is taken
    only once the page reports it has drawn. ``kinds``: the layer kinds to draw (the app passes
    :func:`shown_kinds`, what its Layers panel shows); None: the report's fixed sets.
    """
    from planner.reports.render_qt import MapRenderer

    scores = score_portfolio(project.portfolio)
    if site_id is not None:
        html, (lat, lon, zoom) = site_map_html(project, site_id, width, height, scores=scores,
                                               kinds=SITE_LAYERS if kinds is None else kinds)
        with MapRenderer(html, width, height, scale, timeout_ms) as r:
            r.set_title(str(find_site(project.portfolio, site_id).name),
                        site_subtitle(find_site(project.portfolio, site_id)))
            r.set_view(lat, lon, zoom)
            r.highlight(site_id)
            return r.save_png(out)
    html = portfolio_map_html(project, scores=scores, kinds=PORTFOLIO_LAYERS if kinds is None else kinds)
    with MapRenderer(html, width, height, scale, timeout_ms) as r:
        return r.save_png(out, r.grab_overview(site_clusters(project.portfolio)))


def render_site_maps(project: Any, site_ids: Sequence[str], width: int, height: int, scale: float, *,
                     scores: Mapping[str, Any] | None = None, portfolio_view: bool = False,
                     progress: Callable[[float], None] | None = None, mime: str = "image/png") -> dict[str, bytes]:
    """Encoded report map around each located site (key ``site_id``), plus ``"__portfolio__"`` when asked.

    Drawn without a browser (:mod:`planner.reports.map_scene` painted by
    :func:`planner.reports.render_qt.paint_scene`): ``width`` x ``height`` CSS px at ``scale``,
    the legend in a panel right of the map. The layers are indexed once for all the views.
    """
    from planner.reports.map_scene import LEGEND_WIDTH_PX, MapSource, View, overview_scene, site_scene
    from planner.reports.render_qt import encode_image, paint_scene

    scores = scores if scores is not None else score_portfolio(project.portfolio)
    located = [s for s in (find_site(project.portfolio, sid) for sid in site_ids) if s.has_location]
    out: dict[str, bytes] = {}
    total = len(located) + (1 if portfolio_view else 0)
    map_w = width - LEGEND_WIDTH_PX
    if portfolio_view:
        scene = overview_scene(MapSource(project, PORTFOLIO_LAYERS, scores), site_clusters(project.portfolio),
                               width, height, str(project.portfolio.name))
        out["__portfolio__"] = encode_image(paint_scene(scene, scale), mime)
        if progress:
            progress(1 / total)
    if located:
        source = MapSource(project, SITE_LAYERS, scores)
        for i, s in enumerate(located):
            view = View(float(s.lat), float(s.lon), zoom_for_radius(float(s.lat), site_radius_km(s), map_w, height),
                        map_w, height)
            out[s.site_id] = encode_image(paint_scene(site_scene(source, s, view, site_subtitle(s)), scale), mime)
            if progress:
                progress((i + 1 + (1 if portfolio_view else 0)) / total)
    return out
