"""The project file: one GeoPackage holding the sites, the map layers and the analyst's settings.

Layout (opens in QGIS as ordinary layers):

- ``sites``: points (null geometry when the location is unknown), one column per
  :data:`planner.model.fields.FIELD_LIST` field;
- one table per map layer, named after the layer;
- ``planner_metadata``: non-spatial key/value table (``schema_version``,
  ``app_version``, ``saved_at``, ``name``, ``settings`` JSON, ``layers`` JSON
  with kind/title/source/style per layer, in display order).

Round-trip contract: the planner owns ``sites`` (its field columns), its layers and
``planner_metadata``. Everything else in the file (QGIS layers and ``layer_styles``, plain tables,
views, extensions, extra columns on ``sites``) is kept byte for byte by every save and listed by
``planner info`` as "kept, not ours" (:attr:`Project.kept`).

Saving: the current file is copied (SQLite backup) to a hidden temp file beside the real target
(symlinks resolved), only the owned tables are rewritten in the copy (``sites`` rows are synced in
place so extra columns and row ids stay), and the copy is written back into the target with SQLite's
backup API inside one transaction: the target keeps its inode, mode, owner and links, and a crash
leaves the old or the new version (journal rollback). A new file is written and ``os.replace``d.
Saves take the project lock (:mod:`planner.gis.lock`) and refuse read-only files.

Opening: invalid rows open with the broken value set aside and listed in :attr:`Project.problems`
(field, rule, fix); a damaged metadata table falls back to defaults with a warning; computed
proximity fields measured from an older site position or other layers are recomputed.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import glob
import hashlib
import json
import logging
import math
import os
import re
import stat
import uuid
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any


from planner import __version__
from planner.gis import gpkg
from planner.gis.crs import CRSError, ensure_wgs84
from planner.gis.import_policy import id_from_name
from planner.gis.kinds import BASEMAP_KINDS, KINDS, LAYER_KINDS, PROXIMITY_KINDS, default_style
from planner.gis.lock import ProjectLockedError, pid_alive, real_project_path, write_lock
from planner.gis.paths import gdal_path, gdal_unsafe, safe_name
from planner.lazy import lazy_module
from planner.model.fields import COMPUTED_FIELDS, FIELD_LIST, FIELDS
from planner.model.portfolio import Portfolio
from planner.model.problems import Problem
from planner.model.site import PlannerError, Site, SiteError, coerce_value, cross_field_issues, first_line

if TYPE_CHECKING:
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyogrio
    import shapely
else:  # imported on first use: the window shows before these load (planner.lazy)
    gpd = lazy_module("geopandas", globals(), "gpd")
    np = lazy_module("numpy", globals(), "np")
    pd = lazy_module("pandas", globals(), "pd")
    pa = lazy_module("pyarrow", globals(), "pa")
    pyogrio = lazy_module("pyogrio", globals(), "pyogrio")
    shapely = lazy_module("shapely", globals(), "shapely")

log = logging.getLogger(__name__)
__all__ = ["ProjectLockedError", "pid_alive"]  # re-exported for callers of the old names

SCHEMA_VERSION = 1
SITES_TABLE = "sites"
METADATA_TABLE = "planner_metadata"
_RESERVED = {SITES_TABLE, METADATA_TABLE}
_SQLITE_MAGIC = b"SQLite format 3\x00"


class ProjectError(PlannerError):
    """A project file that cannot be opened or saved; the message names the file."""


class ProjectChangedError(ProjectError):
    """The file changed on disk since it was opened (QGIS, a colleague); saving would replace that."""


def safe_layer_name(text: str, taken: Iterable[str] = ()) -> str:
    """A GeoPackage table name from ``text`` (lowercase a-z0-9_), unique among ``taken``."""
    base = re.sub(r"[^a-z0-9_]+", "_", str(text).strip().lower()).strip("_") or "layer"
    if base[0].isdigit():
        base = "l_" + base
    if base.startswith(("gpkg_", "rtree_", "sqlite_")):
        base = "layer_" + base
    base = base[:60]
    used = set(taken) | _RESERVED
    name, n = base, 2
    while name in used:
        name = f"{base}_{n}"
        n += 1
    return name


@dataclass(eq=False)
class MapLayer:
    """One map layer: an EPSG:4326 GeoDataFrame with its kind, title, source and style."""

    name: str
    kind: str
    title: str
    gdf: gpd.GeoDataFrame
    source: str = ""
    style: dict[str, Any] = field(default_factory=dict)
    # Area the layer's data actually covers (EPSG:4326 polygon), e.g. Texas for the OSM Texas
    # extract. Proximity outside it is unknown, not "far". None = no stated limit.
    coverage: Any = None
    coverage_label: str = ""
    # False for a layer found in the file but not created by the planner (e.g. drawn in QGIS): it is
    # shown, never written, and stays in the file exactly as it is.
    owned: bool = True
    # (real file, weak reference to the GeoDataFrame) the table was last read from or written to:
    # a save into that file skips rewriting a layer whose data is still that object.
    stored: Any = field(default=None, repr=False, compare=False)

    def is_stored_in(self, real: str) -> bool:
        return self.stored is not None and self.stored[0] == real and self.stored[1]() is self.gdf

    def mark_stored(self, real: str) -> None:
        try:
            self.stored = (real, weakref.ref(self.gdf))
        except TypeError:  # an object without weak references: always rewritten
            self.stored = None

    def __post_init__(self) -> None:
        if not self.owned:
            return
        if self.kind not in LAYER_KINDS:
            raise ProjectError(f"layer {self.name!r}: unknown kind {self.kind!r}; use one of {', '.join(LAYER_KINDS)}")
        if self.name in _RESERVED or self.name != safe_layer_name(self.name):
            raise ProjectError(f"layer name {self.name!r} is not allowed; use lowercase letters, digits and _ "
                               f"(e.g. {safe_layer_name(self.name)!r})")


@dataclass(eq=False)
class Project:
    """A portfolio plus its map layers (ordered, name -> :class:`MapLayer`) and the file it lives in."""

    path: Path | None = None
    portfolio: Portfolio = field(default_factory=Portfolio)
    layers: dict[str, MapLayer] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # Invalid values found on open (the project opened anyway); see planner.model.problems.
    problems: list[Problem] = field(default_factory=list)
    # What the file holds that the planner did not create (kept by saves), one line each.
    kept: list[str] = field(default_factory=list)
    # (size, mtime_ns) of the file when opened or last saved; None for a project not from a file.
    disk_stamp: tuple[int, int] | None = None
    # site_id -> [lon, lat, layers signature] the computed fields were measured from.
    computed_from: dict[str, list[Any]] = field(default_factory=dict)
    # site_id -> (row id, site_id in the file) for the file it was read from (``stored_in``).
    stored_rows: dict[str, tuple[int, Any]] = field(default_factory=dict)
    stored_in: str | None = None

    def open_problems(self) -> list[Problem]:
        """Problems not fixed yet (the site still holds the stand-in value)."""
        out = []
        for pr in self.problems:
            if pr.site_id is None or pr.site_id not in self.portfolio:
                continue
            if pr.field in FIELDS and not pr.is_open(self.portfolio.get(pr.site_id).get(pr.field)):
                continue
            out.append(pr)
        return out

    def add_layer(self, layer: MapLayer, replace: bool = False) -> None:
        """Append ``layer``; an existing name raises unless ``replace`` (then it keeps its position)."""
        if layer.name in self.layers and not replace:
            raise ProjectError(f"a layer named {layer.name!r} already exists; choose another name")
        self.layers[layer.name] = layer

    def layers_of_kind(self, kind: str) -> list[MapLayer]:
        """Layers of one kind, in display order."""
        return [lyr for lyr in self.layers.values() if lyr.kind == kind]


# -- sites <-> GeoDataFrame -----------------------------------------------------------
_PANDAS_DTYPES = {"float": "Float64", "int": "Int64", "bool": "boolean"}
_DATE_FIELDS = tuple(f.name for f in FIELD_LIST if f.kind == "date")


def sites_to_gdf(sites: Iterable[Site]) -> gpd.GeoDataFrame:
    """Sites as an EPSG:4326 point GeoDataFrame, one column per field; unknown values stay null.

    Floats/ints/bools use pandas nullable dtypes (``Float64``, ``Int64``, ``boolean``),
    text columns hold ``None`` for unknown. Sites without a location get a null geometry.
    """
    sites = list(sites)
    data: dict[str, Any] = {}
    for fs in FIELD_LIST:
        values = [s.get(fs.name) for s in sites]
        dtype = _PANDAS_DTYPES.get(fs.kind)
        if dtype:
            data[fs.name] = pd.array([pd.NA if v is None else v for v in values], dtype=dtype)
        else:
            data[fs.name] = pd.Series(values, dtype=object)
    geoms = [shapely.Point(s.lon, s.lat) if s.has_location else None for s in sites]
    df = pd.DataFrame(data)
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, index=df.index, crs="EPSG:4326"), crs="EPSG:4326")


def _plain(value: Any) -> Any:
    """numpy/pandas scalars -> Python values; NaN/NA -> None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return _plain(value.item())
    return value


def sites_from_gdf(gdf: gpd.GeoDataFrame) -> list[Site]:
    """Sites from a GeoDataFrame with field-named columns (as written by :func:`sites_to_gdf`).

    Point geometry, when present, sets lon/lat (it wins over stale lon/lat columns);
    columns that are not fields are ignored. Raises :class:`SiteError` naming the row.
    """
    cols = [c for c in gdf.columns if c in FIELDS and c != gdf.geometry.name]
    geoms = gdf.geometry.values if gdf.geometry is not None else [None] * len(gdf)
    out: list[Site] = []
    for row, (values, g) in enumerate(zip(gdf[cols].itertuples(index=False, name=None), geoms), start=1):
        raw = {c: _plain(v) for c, v in zip(cols, values)}
        if g is not None and not g.is_empty:
            if g.geom_type != "Point":
                raise SiteError("geometry", g.geom_type, f"row {row}: sites must be points",
                                "Use point geometry for sites", raw.get("site_id"))
            raw["lon"], raw["lat"] = float(g.x), float(g.y)
        computed = {k: raw.pop(k) for k in list(raw) if k in COMPUTED_FIELDS}
        try:
            site = Site.create(**raw)
            comp = {k: coerce_value(k, v) for k, v in computed.items() if v is not None}
        except SiteError as e:
            raise SiteError(e.field, e.value, f"row {row}: {e.rule}", e.fix, e.site_id) from None
        out.append(site.with_computed(comp) if comp else site)
    return out


_LONLAT_TOLERANCE = 1e-6  # degrees (~0.1 m): lon/lat columns agreeing with the point within this are fine


def load_sites(gdf: gpd.GeoDataFrame, table: str = "sites") -> tuple[list[Site], list[Problem], list[int]]:
    """Tolerant :func:`sites_from_gdf`: every row becomes a site. A value that breaks a rule is set
    aside (unknown meanwhile) and reported as a :class:`Problem`; a missing site_id is made from the
    name, a duplicate one gets ``-2``; a missing name gets a stand-in. Returns (sites, problems,
    index of each site's row in ``gdf``)."""
    cols = [c for c in gdf.columns if c in FIELDS and c != gdf.geometry.name]
    geoms = gdf.geometry.values
    ids = [_plain(v) for v in gdf["site_id"]] if "site_id" in gdf.columns else [None] * len(gdf)
    taken: set[str] = {str(v).strip() for v in ids if v is not None and str(v).strip()}
    first_row: dict[str, int] = {}
    sites: list[Site] = []
    problems: list[Problem] = []
    for row, (values, g) in enumerate(zip(gdf[cols].itertuples(index=False, name=None), geoms), start=1):
        raw = {c: _plain(v) for c, v in zip(cols, values)}
        found: list[Problem] = []
        computed = {k: raw.pop(k) for k in list(raw) if k in COMPUTED_FIELDS}
        values_ok: dict[str, Any] = {}
        for k, v in raw.items():
            if isinstance(v, float) and FIELDS[k].kind == "int" and v.is_integer():
                v = raw[k] = int(v)  # an integer column with empty cells reads as float
            try:
                values_ok[k] = coerce_value(k, v)
            except SiteError as e:
                values_ok[k] = None
                found.append(Problem(None, k, v, e.rule, e.fix, row, table, None, keep_value=k not in ("lon", "lat")))
        if g is not None and not g.is_empty:
            point = g if g.geom_type == "Point" else g.representative_point()
            if g.geom_type != "Point":
                found.append(Problem(None, "geometry", g.geom_type, "sites must be points",
                                     "Replace the shape by a point; its inside point is used meanwhile", row, table))
            gx, gy = float(point.x), float(point.y)
            for name, attr, coord in (("lon", values_ok.get("lon"), gx), ("lat", values_ok.get("lat"), gy)):
                if attr is not None and abs(attr - coord) > _LONLAT_TOLERANCE:
                    found.append(Problem(None, name, attr, f"disagrees with the point geometry ({coord:.6f}); "
                                         "the point's position is used",
                                         "Move the point itself (in QGIS or on the planner map)", row, table,
                                         placeholder=round(coord, 7)))
            values_ok["lon"], values_ok["lat"] = round(gx, 7), round(gy, 7)
        sid = values_ok.get("site_id")
        if sid is None:
            sid = id_from_name(values_ok.get("name"), taken, fallback=f"ROW-{row}")
            taken.add(sid)
            found.append(Problem(sid, "site_id", raw.get("site_id"), "is missing",
                                 f"Enter an ID; the planner uses {sid} and saves it", row, table, placeholder=sid))
        elif sid in first_row:
            new = id_from_name(sid, taken)
            taken.add(new)
            found.append(Problem(new, "site_id", sid, f"is a duplicate (also on row {first_row[sid]})",
                                 f"Give each site its own ID; this one is {new} now and is saved so", row, table,
                                 placeholder=new))
            sid = new
        first_row.setdefault(sid, row)
        values_ok["site_id"] = sid
        if values_ok.get("name") is None:
            stand_in = f"(no name) {sid}"
            found.append(Problem(sid, "name", raw.get("name"), "is required",
                                 "Enter a name; the planner shows a stand-in meanwhile", row, table,
                                 placeholder=stand_in, keep_value=True))
            values_ok["name"] = stand_in
        if (values_ok.get("lon") is None) != (values_ok.get("lat") is None):
            values_ok["lon"] = values_ok["lat"] = None
        try:
            site = Site.create(strict=False, **{k: v for k, v in values_ok.items() if v is not None})
        except SiteError as e:  # pragma: no cover - every field was checked above
            found.append(Problem(sid, e.field, e.value, e.rule, e.fix, row, table))
            site = Site.create(site_id=sid, name=values_ok["name"])
        for issue in cross_field_issues(site.to_dict()):
            found.append(Problem(sid, issue.field, site.get(issue.field), issue.message, "", row, table,
                                 placeholder=site.get(issue.field)))
        comp: dict[str, Any] = {}
        for k, v in computed.items():
            with contextlib.suppress(SiteError):  # a damaged computed value is recomputed, not reported
                comp[k] = coerce_value(k, v)
        sites.append(site.with_computed(comp) if comp else site)
        problems.extend(Problem(sid, p.field, p.value, p.rule, p.fix, p.row, p.table, p.placeholder, p.keep_value)
                        if p.site_id is None else p for p in found)
    return sites, problems, list(range(len(gdf)))


# -- freshness of computed fields ---------------------------------------------------------


def layers_signature(project: Project) -> str:
    """A short version of everything proximity is measured from: the proximity layers (kind, name,
    features, vertices, extent) and the proximity settings. Changes when a layer is edited."""
    h = hashlib.blake2b(digest_size=8)
    h.update(json.dumps(project.portfolio.settings.get("proximity"), sort_keys=True, default=str).encode())
    for lyr in project.layers.values():
        if lyr.kind not in PROXIMITY_KINDS or lyr.gdf is None:
            continue
        geoms = lyr.gdf.geometry.values
        coords = shapely.get_coordinates(np.asarray(geoms)) if len(geoms) else np.zeros((0, 2))
        h.update(f"{lyr.kind}|{lyr.name}|{len(geoms)}|{len(coords)}".encode())
        h.update(np.ascontiguousarray(np.round(coords, 7)).tobytes())
    return h.hexdigest()


def record_fresh(project: Project, site_ids: Iterable[str], signature: str | None = None) -> None:
    """Note that the computed fields of ``site_ids`` were just measured (position and layers now)."""
    sig = signature or layers_signature(project)
    record = dict(project.computed_from)
    for sid in site_ids:
        if sid in project.portfolio:
            s = project.portfolio.get(sid)
            record[sid] = [s.lon, s.lat, sig]
    project.computed_from = record


def _refresh_stale(project: Project, record: dict[str, Any] | None) -> None:
    """Recompute the proximity of sites moved or added outside the planner, or after a layer changed."""
    sig = layers_signature(project)
    if record is None:  # saved before versions were kept: take the stored values as they are
        record_fresh(project, project.portfolio.ids(), sig)
        return
    stale = []
    for s in project.portfolio:
        r = record.get(s.site_id)
        if r is None:  # not measured by the planner: stale only if it carries values (a copied feature)
            if any(s.get(k) is not None for k in COMPUTED_FIELDS):
                stale.append(s.site_id)
        elif not (isinstance(r, list) and len(r) == 3 and r[0] == s.lon and r[1] == s.lat and r[2] == sig):
            stale.append(s.site_id)
    project.computed_from = {k: v for k, v in record.items() if isinstance(v, list) and k in project.portfolio}
    if not stale:
        return
    if any(lyr.kind in PROXIMITY_KINDS for lyr in project.layers.values()):
        from planner.gis.proximity import apply_proximity

        try:
            apply_proximity(project, stale)
        except PlannerError as e:
            project.warnings.append(f"distances of {len(stale)} sites may be out of date ({e})")
            return
    else:
        empty = {k: None for k in COMPUTED_FIELDS}
        project.portfolio.replace_sites([project.portfolio.get(s).with_computed(empty) for s in stale
                                         if any(project.portfolio.get(s).get(k) is not None for k in COMPUTED_FIELDS)])
    record_fresh(project, stale, sig)
    project.warnings.append(f"recomputed distances for {len(stale)} site{'s' if len(stale) != 1 else ''} moved, "
                            "added or edited outside the planner (or after a layer changed)")


# -- saving -----------------------------------------------------------------------------
def _write_layer(gdf: pd.DataFrame, path: Path, layer: str, geometry_type: str | None = None,
                 use_arrow: bool = False) -> None:
    """Write one table into the GeoPackage at ``path`` (created as GeoPackage 1.2 on the first call)."""
    kwargs: dict[str, Any] = {"layer": layer, "driver": "GPKG"}
    if geometry_type is not None:
        kwargs["geometry_type"] = geometry_type
    if not path.exists() or path.stat().st_size == 0:
        kwargs["dataset_options"] = {"VERSION": gpkg.GPKG_VERSION}
    if use_arrow:
        kwargs["use_arrow"] = True
    pyogrio.write_dataframe(gdf, str(path), **kwargs)


def _prepare_layer_gdf(layer: MapLayer) -> gpd.GeoDataFrame:
    gdf = layer.gdf
    if gdf.crs is None:
        raise ProjectError(f"layer {layer.name!r} has no CRS; re-import it (layers are stored in EPSG:4326)")
    gdf = ensure_wgs84(gdf)
    rename = {c: f"{c}_src" for c in gdf.columns if str(c).lower() == "fid"}  # GPKG reserves fid
    return gdf.rename(columns=rename) if rename else gdf


def _owned_layers(project: Project) -> list[MapLayer]:
    return [lyr for lyr in project.layers.values() if lyr.owned]


def _metadata_frame(project: Project, saved_at: str) -> pd.DataFrame:
    layers = [{"name": lyr.name, "kind": lyr.kind, "title": lyr.title, "source": lyr.source, "style": lyr.style,
               "coverage_wkt": None if lyr.coverage is None else shapely.to_wkt(lyr.coverage, rounding_precision=5),
               "coverage_label": lyr.coverage_label}
              for lyr in _owned_layers(project)]
    record = {k: v for k, v in project.computed_from.items() if k in project.portfolio}
    unknown = [s for s in project.portfolio if s.site_id not in record
               and any(s.get(k) is not None for k in COMPUTED_FIELDS)]
    if unknown:  # measured in this session (or set by code): taken as measured from where the site is now
        sig = layers_signature(project)
        record.update({s.site_id: [s.lon, s.lat, sig] for s in unknown})
    rows = {
        "schema_version": str(SCHEMA_VERSION),
        "app_version": __version__,
        "saved_at": saved_at,
        "name": project.portfolio.name,
        "settings": json.dumps(project.portfolio.settings, ensure_ascii=False, sort_keys=True),
        "layers": json.dumps(layers, ensure_ascii=False),
        "computed_from": json.dumps(record),
    }
    return pd.DataFrame({"key": list(rows), "value": list(rows.values())})


def _sites_frame_for_file(project: Project) -> gpd.GeoDataFrame:
    """The sites as written: dates as DATE, and values set aside on open written back while unfixed."""
    sites = list(project.portfolio)
    gdf = sites_to_gdf(sites)
    index = {s.site_id: i for i, s in enumerate(sites)}
    for pr in project.problems:
        i = index.get(pr.site_id) if pr.site_id is not None else None
        if i is None or not pr.keep_value or pr.field not in gdf.columns:
            continue
        if sites[i].get(pr.field) != pr.placeholder:
            continue  # fixed in the planner: the fix is saved
        with contextlib.suppress(TypeError, ValueError):
            gdf.loc[i, pr.field] = pr.value
    for name in _DATE_FIELDS:
        gdf[name] = pd.Series(pd.to_datetime(gdf[name], errors="coerce").dt.date, index=gdf.index).astype(
            pd.ArrowDtype(pa.date32()))
    return gdf


def _owned_before(conn: Any) -> list[str]:
    """Layer tables the planner listed in the file's metadata (tolerant of damage)."""
    if not gpkg.has_table(conn, METADATA_TABLE):
        return []
    try:
        row = conn.execute(f'SELECT value FROM "{METADATA_TABLE}" WHERE key = ?', ("layers",)).fetchone()
        entries = json.loads(row[0]) if row and row[0] else []
    except Exception:
        return []
    return [str(e["name"]) for e in entries if isinstance(e, dict) and isinstance(e.get("name"), str)] \
        if isinstance(entries, list) else []


def _sync_sites(project: Project, work: Path, scratch: Path, same_file: bool) -> None:
    """Write the sites into ``work`` keeping the file's own rows, ids and extra columns."""
    frame = _sites_frame_for_file(project)
    in_place, main_rows = False, []
    if work.exists() and work.stat().st_size > 0:
        with gpkg.opened(work) as conn:
            geom = gpkg.geometry_column(conn, SITES_TABLE) if gpkg.has_table(conn, "gpkg_geometry_columns") else None
            in_place = geom is not None and geom[1] == 4326 and gpkg.has_table(conn, SITES_TABLE)
            main_rows = gpkg.id_rows(conn, SITES_TABLE, "site_id") if in_place else []
    if not in_place:
        _write_layer(frame, work, SITES_TABLE, "Point", use_arrow=True)
        return
    _write_layer(frame, scratch, SITES_TABLE, "Point", use_arrow=True)
    by_fid = dict(main_rows)
    by_id: dict[Any, list[int]] = {}
    for fid, sid in main_rows:
        by_id.setdefault(sid, []).append(fid)
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for new_fid, site in enumerate(project.portfolio, start=1):
        match = None
        stored = project.stored_rows.get(site.site_id) if same_file else None
        if stored is not None and stored[0] in by_fid and by_fid[stored[0]] == stored[1] and stored[0] not in used:
            match = stored[0]
        else:
            match = next((f for f in by_id.get(site.site_id, []) if f not in used), None)
        if match is not None:
            pairs[new_fid] = match
            used.add(match)
    with gpkg.opened(work) as conn:
        conn.execute("ATTACH DATABASE ? AS n", (str(scratch),))
        conn.execute("BEGIN")
        gpkg.sync_sites(conn, SITES_TABLE, "n", pairs)
        conn.execute("COMMIT")
        conn.execute("DETACH DATABASE n")


def _write_owned(project: Project, work: Path, scratch: Path, real: str) -> None:
    """Rewrite only what the planner owns in ``work`` (a copy of ``real``, or a new file)."""
    existed = work.exists() and work.stat().st_size > 0
    tables: set[str] = set()
    if existed:
        with gpkg.opened(work) as conn:
            before = _owned_before(conn)
            tables = {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    else:
        before = []
    _sync_sites(project, work, scratch, same_file=project.stored_in == real)
    for lyr in _owned_layers(project):
        if lyr.name in tables and lyr.is_stored_in(real):
            continue  # unchanged since read from (or written to) this very file: already in the copy
        gdf = _prepare_layer_gdf(lyr)
        _write_layer(gdf, work, lyr.name, KINDS[lyr.kind].geometry if len(gdf) == 0 else None)
    saved_at = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    _write_layer(_metadata_frame(project, saved_at), work, METADATA_TABLE)
    keep = {lyr.name.lower() for lyr in project.layers.values()} | {SITES_TABLE, METADATA_TABLE}
    with gpkg.opened(work) as conn:
        conn.execute("BEGIN")
        for name in before:  # layers the planner made and the analyst removed
            if name.lower() not in keep and gpkg.has_table(conn, name):
                gpkg.drop_feature_table(conn, name)
        gpkg.set_readable_version(conn)
        conn.execute("COMMIT")


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # Windows cannot open folders; os.replace is still atomic there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def file_stamp(path: str | Path) -> tuple[int, int] | None:
    """(size, mtime in ns) of the real file behind ``path``; None when it does not exist."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def changed_on_disk(project: Project) -> bool:
    """Whether the project's file changed since it was opened or saved by this project object."""
    if project.path is None or project.disk_stamp is None:
        return False
    return file_stamp(project.path) != project.disk_stamp


def _is_sqlite(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(16) == _SQLITE_MAGIC
    except OSError:
        return False


def check_save_target(target: str | Path) -> Path:
    """The real file a save of ``target`` writes, after checks that give one clear line each
    (suffix, folder, read-only file or folder)."""
    target = Path(target).absolute()
    if target.suffix.lower() != ".gpkg":
        raise ProjectError(f"{target.name}: projects are GeoPackages; use a name ending in .gpkg")
    real = real_project_path(target)
    if not real.parent.is_dir():
        raise ProjectError(f"{target.name}: folder {real.parent} does not exist; create it or save elsewhere")
    if real.is_dir():
        raise ProjectError(f"{target.name}: is a folder; choose a file name ending in .gpkg")
    if real.exists() and not os.access(real, os.W_OK):
        mode = stat.filemode(real.stat().st_mode)
        raise ProjectError(f"{target.name} is read-only ({mode}); it was not changed. Save a copy under "
                           "another name, or ask its owner for write permission")
    if not os.access(real.parent, os.W_OK | os.X_OK):
        raise ProjectError(f"{target.name}: the folder {real.parent} is read-only; save the project elsewhere")
    return real


def save_project(project: Project, path: str | Path | None = None, *,
                 expected_stamp: tuple[int, int] | None = None) -> Path:
    """Save to ``path`` (default ``project.path``) keeping what others wrote; returns the path.

    See the module docstring. On any failure the target is left as it was and
    :class:`ProjectError` is raised; :class:`ProjectLockedError` when another planner holds the lock;
    :class:`ProjectChangedError` when ``expected_stamp`` is given and the file no longer has it.
    On success ``project.path`` and ``project.disk_stamp`` are updated.
    """
    target = path if path is not None else project.path
    if target is None:
        raise ProjectError("the project has no file yet; choose where to save it (a .gpkg path)")
    target = Path(target).absolute()
    real = check_save_target(target)
    with write_lock(real, program="planner save", purpose="save it"):
        if expected_stamp is not None and file_stamp(real) != expected_stamp:
            raise ProjectChangedError(f"{target.name} changed on disk since it was opened (QGIS or a colleague); "
                                      "save under another name, or confirm to replace the sites with yours")
        existed = real.exists() and _is_sqlite(real)
        tmp = real.parent / f".{safe_name(real.name)}.{os.getpid()}.{uuid.uuid4().hex[:8]}.saving.gpkg"
        scratch = Path(f"{tmp}-sites.gpkg")
        try:
            if existed:
                os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # private while we work
                gpkg.copy_database(real, tmp)
            _write_owned(project, tmp, scratch, str(real))
            if existed:
                gpkg.copy_database(tmp, real)  # one SQLite transaction into the real file
            else:
                _fsync_file(tmp)
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(tmp, 0o666 & ~umask)
                os.replace(tmp, real)
                _fsync_dir(real.parent)
            if not real.is_file():
                raise ProjectError("the file did not appear after writing")
        except BaseException as e:
            if not isinstance(e, Exception):
                raise
            detail = first_line(e)
            raise ProjectError(f"{target.name}: could not save ({detail}); the previous file is unchanged") from e
        finally:
            for leftover in (tmp, scratch):
                for p in (leftover, Path(f"{leftover}-journal"), Path(f"{leftover}-wal"), Path(f"{leftover}-shm")):
                    with contextlib.suppress(OSError):
                        p.unlink()
        with gpkg.opened(real) as conn:
            rows = gpkg.id_rows(conn, SITES_TABLE, "site_id")
    _remove_stale_temps(real)
    if project.path is not None and real_project_path(project.path) == real or path is None:
        for lyr in _owned_layers(project):  # a save elsewhere (autosave, copy) must not claim the project's layers
            lyr.mark_stored(str(real))
    project.stored_rows = {str(sid): (fid, sid) for fid, sid in rows if sid is not None}
    project.stored_in = str(real)
    project.path = target
    project.disk_stamp = file_stamp(real)
    return target


def _remove_stale_temps(target: Path) -> None:
    """Delete temp files left by saves of ``target`` whose process was killed mid-save."""
    name = safe_name(target.name)
    for leftover in target.parent.glob(f".{glob.escape(name)}.*.saving.gpkg*"):
        pid = leftover.name[len(name) + 2:].split(".", 1)[0]
        if pid.isdigit() and pid_alive(int(pid)):
            continue  # another live process is saving right now
        try:
            leftover.unlink()
        except OSError:
            pass


# -- opening ----------------------------------------------------------------------------
def _migrate_0_to_1(meta: dict[str, Any], file_layers: list[tuple[str, str | None]], path: Path) -> dict[str, Any]:
    """v0 = a plain GeoPackage (no metadata table): the ``sites`` point layer, or the first
    point layer, holds the sites; every other spatial layer becomes a map layer whose kind
    is its name when that is a known kind, else "other"."""
    spatial = [(n, t) for n, t in file_layers if t is not None and n != METADATA_TABLE]
    points = [n for n, t in spatial if t.replace("Multi", "").startswith("Point")]
    sites = SITES_TABLE if any(n == SITES_TABLE for n, _ in spatial) else (points[0] if points else None)
    if sites is None:
        raise ProjectError(f"{path.name}: no sites layer (a point layer named 'sites'); "
                           "import the sites with 'planner import FILE --kind sites --into PROJECT'")
    layers = []
    for n, _ in spatial:
        if n == sites:
            continue
        kind = n if n in LAYER_KINDS else "other"
        layers.append({"name": n, "kind": kind, "title": n, "source": path.name, "style": default_style(kind)})
    return {**meta, "schema_version": 1, "sites_table": sites, "name": meta.get("name") or path.stem,
            "settings": meta.get("settings", {}), "layers": layers}


MIGRATIONS = {0: _migrate_0_to_1}


def migrate_metadata(meta: dict[str, Any], file_layers: list[tuple[str, str | None]], path: Path) -> dict[str, Any]:
    """Bring metadata from its ``schema_version`` up to :data:`SCHEMA_VERSION` step by step."""
    version = int(meta.get("schema_version", 0))
    if version > SCHEMA_VERSION:
        raise ProjectError(f"{path.name}: was saved by a newer version (schema {version}); update the planner")
    while version < SCHEMA_VERSION:
        meta = MIGRATIONS[version](meta, file_layers, path)
        version = int(meta["schema_version"])
    return meta


def _json_value(raw: dict[str, str | None], key: str, kind: type, default: Any, path: Path,
                warnings: list[str]) -> Any:
    text = raw.get(key)
    if not text:
        return default
    try:
        value = json.loads(text)
    except ValueError as e:
        warnings.append(f"{METADATA_TABLE}.{key} is damaged ({e}); using defaults. Saving repairs it")
        return default
    if not isinstance(value, kind):
        warnings.append(f"{METADATA_TABLE}.{key} is damaged (a {type(value).__name__}, expected a "
                        f"{kind.__name__}); using defaults. Saving repairs it")
        return default
    return value


def _read_metadata(path: Path, file_layers: list[tuple[str, str | None]],
                   warnings: list[str] | None = None) -> dict[str, Any]:
    """The metadata; damaged values fall back to defaults with a line in ``warnings``."""
    warnings = [] if warnings is None else warnings
    if METADATA_TABLE not in {n for n, _ in file_layers}:
        return {"schema_version": 0}
    try:
        df = pyogrio.read_dataframe(str(path), layer=METADATA_TABLE, read_geometry=False)
        raw = {str(k): (None if pd.isna(v) else str(v)) for k, v in zip(df["key"], df["value"])}
    except Exception as e:  # a table without key/value columns, unreadable rows
        warnings.append(f"the {METADATA_TABLE} table is damaged ({first_line(e)}); using defaults. "
                        "Saving repairs it")
        return {"schema_version": SCHEMA_VERSION, "name": path.stem, "settings": {}, "layers": [],
                "sites_table": SITES_TABLE, "damaged": True}
    try:
        version = int(raw.get("schema_version") or 0)
    except ValueError:
        warnings.append(f"{METADATA_TABLE}.schema_version {raw.get('schema_version')!r} is damaged; "
                        f"read as {SCHEMA_VERSION}")
        version = SCHEMA_VERSION
    layers = _json_value(raw, "layers", list, [], path, warnings)
    good = [e for e in layers if isinstance(e, dict) and isinstance(e.get("name"), str)]
    if len(good) != len(layers):
        warnings.append(f"{METADATA_TABLE}.layers has {len(layers) - len(good)} damaged entr"
                        f"{'y' if len(layers) - len(good) == 1 else 'ies'}; those tables open as layers "
                        "not made by the planner")
    computed = _json_value(raw, "computed_from", dict, None, path, warnings) if "computed_from" in raw else None
    return {
        "schema_version": version,
        "app_version": raw.get("app_version"),
        "saved_at": raw.get("saved_at"),
        "name": raw.get("name") or path.stem,
        "settings": _json_value(raw, "settings", dict, {}, path, warnings),
        "layers": good,
        "computed_from": computed,
        "sites_table": SITES_TABLE,
    }



def _check_gpkg(path: Path) -> list[tuple[str, str | None]]:
    if not path.exists():
        raise ProjectError(f"{path.name}: project file not found at {path}")
    if path.is_dir():
        raise ProjectError(f"{path.name}: is a folder, not a project file (.gpkg)")
    with open(path, "rb") as f:
        head = f.read(16)
    if head != _SQLITE_MAGIC:
        raise ProjectError(f"{path.name}: not a GeoPackage (the file is empty, damaged or another format); "
                           "open a .gpkg project or import the file with 'planner import'")
    gpkg.settle(path)
    try:
        return [(str(n), None if t is None else str(t)) for n, t in pyogrio.list_layers(str(path))]
    except Exception as e:
        raise ProjectError(f"{path.name}: not a readable GeoPackage ({first_line(e)})") from None


def _read_table(path: Path, name: str, **kwargs: Any) -> gpd.GeoDataFrame:
    gdf = pyogrio.read_dataframe(str(path), layer=name, **kwargs)
    try:
        return ensure_wgs84(gdf)
    except CRSError as e:
        raise ProjectError(f"{path.name}: layer {name!r}: {e}") from None


def _layer_from_entry(path: Path, entry: Mapping[str, Any], owned: bool = True) -> MapLayer:
    name = str(entry["name"])
    kind = entry.get("kind") if entry.get("kind") in LAYER_KINDS else "other"
    coverage = None
    if entry.get("coverage_wkt"):
        try:
            coverage = shapely.from_wkt(str(entry["coverage_wkt"]))
        except Exception:  # a damaged coverage only loses the limit, not the layer
            coverage = None
    style = entry.get("style")
    return MapLayer(name=name, kind=str(kind), title=str(entry.get("title") or name), gdf=_read_table(path, name, use_arrow=True),
                    source=str(entry.get("source") or ""),
                    style=dict(style) if isinstance(style, dict) else default_style(str(kind)),
                    coverage=coverage, coverage_label=str(entry.get("coverage_label") or ""), owned=owned)


def open_project(path: str | Path) -> Project:
    """Open a project GeoPackage (migrating older schemas); raises :class:`ProjectError` only when
    the file cannot be read at all. Invalid rows open and are listed in ``project.problems``."""
    p = Path(path).absolute()
    if gdal_unsafe(p) and p.is_file():  # GDAL mangles such names: read through a plain-named link
        with gdal_path(p) as plain:
            project = open_project(plain)
        project.path = p
        project.stored_in = str(real_project_path(p))
        return project
    file_layers = _check_gpkg(p)
    try:
        return _open(p, file_layers)
    except PlannerError as e:
        if isinstance(e, ProjectError):
            raise
        raise ProjectError(f"{p.name}: {e}") from None
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, KeyError, ValueError, TypeError,
            AttributeError, OSError) as e:
        log.debug("cannot open %s", p, exc_info=True)
        raise ProjectError(f"{p.name}: cannot read the project ({first_line(e)})") from None


def _open(p: Path, file_layers: list[tuple[str, str | None]]) -> Project:
    warnings: list[str] = []
    meta = migrate_metadata(_read_metadata(p, file_layers, warnings), file_layers, p)
    names = {n for n, _ in file_layers}
    sites_table = meta["sites_table"]
    if sites_table not in names:
        raise ProjectError(f"{p.name}: the sites table is missing; the file was altered outside the planner")
    sites_gdf = _read_table(p, sites_table, fid_as_index=True)
    sites, problems, rows = load_sites(sites_gdf, sites_table)
    try:
        portfolio = Portfolio(sites, settings=meta["settings"], name=str(meta["name"]))
    except PlannerError as e:  # pragma: no cover - load_sites makes IDs unique
        raise ProjectError(f"{p.name}: {sites_table}: {e}") from None
    fids = sites_gdf.index.to_numpy()
    raw_ids = sites_gdf["site_id"].tolist() if "site_id" in sites_gdf.columns else [None] * len(sites_gdf)
    real = real_project_path(p)
    project = Project(path=p, portfolio=portfolio, warnings=warnings, problems=problems,
                      disk_stamp=file_stamp(real), stored_in=str(real),
                      stored_rows={s.site_id: (int(fids[i]), _plain(raw_ids[i])) for s, i in zip(sites, rows)})
    listed: set[str] = set()
    for entry in meta["layers"]:
        name = str(entry.get("name"))
        if name not in names:
            warnings.append(f"layer {name!r} is listed in the project but missing from the file; skipped")
            continue
        try:
            project.add_layer(_layer_from_entry(p, entry))
            project.layers[name].mark_stored(str(real))
        except PlannerError as e:
            warnings.append(f"layer {name!r} skipped ({e}); it stays in the file")
            continue
        listed.add(name)
    kept_layers = []
    for name, gtype in file_layers:  # layers made in QGIS: shown, kept in the file as they are
        if gtype is None or name in listed or name == sites_table or name in _RESERVED or name in project.layers:
            continue
        try:
            project.add_layer(_layer_from_entry(p, {"name": name, "kind": "other", "title": name}, owned=False))
            kept_layers.append(name)
        except (PlannerError, pyogrio.errors.DataLayerError, ValueError) as e:
            warnings.append(f"layer {name!r} could not be shown ({first_line(e)}); it stays in the file")
    if kept_layers:
        warnings.append(f"shown but not made by the planner (kept in the file as they are): {', '.join(kept_layers)}")
    try:
        project.kept = [k.describe() for k in gpkg.foreign_content(p, listed | {METADATA_TABLE}, sites_table,
                                                                  [f.name for f in FIELD_LIST])]
    except Exception as e:  # listing is a courtesy; never blocks opening
        log.debug("cannot list foreign content of %s", p, exc_info=True)
        warnings.append(f"could not list the tables kept in the file ({first_line(e)})")
    if problems:
        warnings.append(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in the sites: the project "
                        "opened; see the Problems list (planner info lists them)")
    _refresh_stale(project, meta.get("computed_from") if "computed_from" in meta else None)
    return project


def read_basemap_layers(path: str | Path | None = None) -> list[MapLayer]:
    """The countries and states layers of the bundled sample (or of ``path``), without the rest."""
    from planner.assets import sample_project

    p = Path(path) if path is not None else sample_project()
    file_layers = _check_gpkg(p)
    meta = migrate_metadata(_read_metadata(p, file_layers), file_layers, p)
    names = {n for n, _ in file_layers}
    return [_layer_from_entry(p, e) for e in meta["layers"] if e.get("kind") in BASEMAP_KINDS and e["name"] in names]


def new_project(name: str = "Untitled portfolio") -> Project:
    """An empty project (no sites) with the bundled basemap layers (countries, US states)."""
    project = Project(path=None, portfolio=Portfolio(name=name))
    try:
        for lyr in read_basemap_layers():
            project.add_layer(lyr)
    except (PlannerError, FileNotFoundError) as e:
        project.warnings.append(f"basemap not loaded: {e}")
    return project


def compare_projects(mine: Project, theirs: Project) -> list[str]:
    """Lines telling how ``mine`` (e.g. recovered work) differs from ``theirs`` (e.g. the file on disk)."""
    a = {s.site_id: s for s in mine.portfolio}
    b = {s.site_id: s for s in theirs.portfolio}
    only_mine = [k for k in a if k not in b]
    only_theirs = [k for k in b if k not in a]
    changed = []
    for k, s in a.items():
        if k in b:
            fields = [f.name for f in FIELD_LIST if not f.computed and s.get(f.name) != b[k].get(f.name)]
            if fields:
                changed.append((k, fields))
    lines = [f"sites: {len(only_mine)} only in yours, {len(only_theirs)} only on disk, "
             f"{len(changed)} different, {len(a) - len(only_mine) - len(changed)} the same"]
    lines += [f"  only in yours: {k}" for k in only_mine[:5]]
    lines += [f"  only on disk: {k}" for k in only_theirs[:5]]
    lines += [f"  {k}: {', '.join(fields[:6])}" for k, fields in changed[:5]]
    la, lb = set(mine.layers), set(theirs.layers)
    if la != lb:
        lines.append(f"layers only in yours: {', '.join(sorted(la - lb)) or '-'}; "
                     f"only on disk: {', '.join(sorted(lb - la)) or '-'}")
    if mine.portfolio.settings != theirs.portfolio.settings:
        lines.append("settings (assumptions, weights) differ")
    return lines
