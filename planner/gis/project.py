"""The project file: one GeoPackage holding the sites, the map layers and the analyst's settings.

Layout (opens in QGIS as ordinary layers):

- ``sites``: points (null geometry when the location is unknown), one column per
  :data:`planner.model.fields.FIELD_LIST` field;
- one table per map layer, named after the layer;
- ``planner_metadata``: non-spatial key/value table (``schema_version``,
  ``app_version``, ``saved_at``, ``name``, ``settings`` JSON, ``layers`` JSON
  with kind/title/source/style per layer, in display order).

Saving is atomic: a temp file in the same folder, fsync, ``os.replace``.
"""
from __future__ import annotations

import datetime as _dt
import glob
import json
import math
import os
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from planner import __version__
from planner.gis.crs import CRSError, ensure_wgs84
from planner.model.fields import COMPUTED_FIELDS, FIELD_LIST, FIELDS
from planner.model.portfolio import Portfolio
from planner.model.site import PlannerError, Site, SiteError, coerce_value

SCHEMA_VERSION = 1
LAYER_KINDS: tuple[str, ...] = ("transmission", "substations", "fibre", "pops", "stranded", "basins",
                                "flares", "countries", "states", "other")
BASEMAP_KINDS: tuple[str, ...] = ("countries", "states")
SITES_TABLE = "sites"
METADATA_TABLE = "planner_metadata"
_RESERVED = {SITES_TABLE, METADATA_TABLE}
_SQLITE_MAGIC = b"SQLite format 3\x00"

# Geometry type written for an empty layer of each kind (GDAL needs one).
_KIND_GEOMETRY = {"transmission": "MultiLineString", "fibre": "MultiLineString", "substations": "Point",
                  "pops": "Point", "flares": "Point", "stranded": "MultiPolygon", "basins": "MultiPolygon",
                  "countries": "MultiPolygon", "states": "MultiPolygon", "other": "Unknown"}

# Starting styles; the web map reads them and the analyst may edit them (saved per layer).
DEFAULT_STYLES: dict[str, dict[str, Any]] = {
    "transmission": {"color": "#d62728", "weight": 2, "opacity": 0.8, "color_by": "voltage_kv", "visible": True},
    "substations": {"color": "#9467bd", "radius": 4, "opacity": 0.9, "visible": True},
    "fibre": {"color": "#7b3294", "weight": 0.8, "opacity": 0.35, "dash": "3 3", "visible": True},
    "pops": {"color": "#17becf", "radius": 3, "opacity": 0.9, "visible": False},
    "stranded": {"color": "#2ca02c", "fill_opacity": 0.15, "weight": 1, "visible": True},
    "basins": {"color": "#8c564b", "fill_opacity": 0.08, "weight": 1, "visible": False},
    "flares": {"color": "#ff7f0e", "radius": 2, "opacity": 0.7, "size_by": "flr_volume_bcm", "visible": False},
    "countries": {"color": "#888888", "fill_color": "#f4f1ea", "fill_opacity": 1.0, "weight": 0.6,
                  "visible": True},
    "states": {"color": "#aaaaaa", "fill_opacity": 0.0, "weight": 0.5, "visible": True},
    "other": {"color": "#555555", "weight": 1, "radius": 3, "opacity": 0.8, "visible": True},
}


class ProjectError(PlannerError):
    """A project file that cannot be opened or saved; the message names the file."""


def default_style(kind: str) -> dict[str, Any]:
    """A fresh copy of the default style for a layer kind."""
    return json.loads(json.dumps(DEFAULT_STYLES.get(kind, DEFAULT_STYLES["other"])))


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

    def __post_init__(self) -> None:
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


# -- saving -----------------------------------------------------------------------------
def _write_layer(gdf: pd.DataFrame, path: Path, layer: str, geometry_type: str | None = None) -> None:
    """Write one table into the GeoPackage at ``path`` (created on the first call)."""
    kwargs: dict[str, Any] = {"layer": layer, "driver": "GPKG"}
    if geometry_type is not None:
        kwargs["geometry_type"] = geometry_type
    pyogrio.write_dataframe(gdf, str(path), **kwargs)


def _prepare_layer_gdf(layer: MapLayer) -> gpd.GeoDataFrame:
    gdf = layer.gdf
    if gdf.crs is None:
        raise ProjectError(f"layer {layer.name!r} has no CRS; re-import it (layers are stored in EPSG:4326)")
    gdf = ensure_wgs84(gdf)
    rename = {c: f"{c}_src" for c in gdf.columns if str(c).lower() == "fid"}  # GPKG reserves fid
    return gdf.rename(columns=rename) if rename else gdf


def _metadata_frame(project: Project, saved_at: str) -> pd.DataFrame:
    layers = [{"name": lyr.name, "kind": lyr.kind, "title": lyr.title, "source": lyr.source, "style": lyr.style,
               "coverage_wkt": None if lyr.coverage is None else shapely.to_wkt(lyr.coverage, rounding_precision=5),
               "coverage_label": lyr.coverage_label}
              for lyr in project.layers.values()]
    rows = {
        "schema_version": str(SCHEMA_VERSION),
        "app_version": __version__,
        "saved_at": saved_at,
        "name": project.portfolio.name,
        "settings": json.dumps(project.portfolio.settings, ensure_ascii=False, sort_keys=True),
        "layers": json.dumps(layers, ensure_ascii=False),
    }
    return pd.DataFrame({"key": list(rows), "value": list(rows.values())})


def _write_gpkg(project: Project, path: Path) -> None:
    _write_layer(sites_to_gdf(project.portfolio), path, SITES_TABLE, "Point")
    for lyr in project.layers.values():
        gdf = _prepare_layer_gdf(lyr)
        _write_layer(gdf, path, lyr.name, _KIND_GEOMETRY[lyr.kind] if len(gdf) == 0 else None)
    saved_at = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    _write_layer(_metadata_frame(project, saved_at), path, METADATA_TABLE)


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


def save_project(project: Project, path: str | Path | None = None) -> Path:
    """Save atomically to ``path`` (default ``project.path``) and return the path.

    On any failure the temp file is removed, an existing file is left byte-identical
    and :class:`ProjectError` is raised. On success ``project.path`` is updated.
    """
    target = path if path is not None else project.path
    if target is None:
        raise ProjectError("the project has no file yet; choose where to save it (a .gpkg path)")
    target = Path(target).absolute()
    if target.suffix.lower() != ".gpkg":
        raise ProjectError(f"{target.name}: projects are GeoPackages; use a name ending in .gpkg")
    if not target.parent.is_dir():
        raise ProjectError(f"{target.name}: folder {target.parent} does not exist; create it or save elsewhere")
    tmp = target.parent / f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.saving.gpkg"
    try:
        _write_gpkg(project, tmp)
        _fsync_file(tmp)
        os.replace(tmp, target)
    except BaseException as e:
        for leftover in (tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            try:
                leftover.unlink()
            except FileNotFoundError:
                pass
            except OSError:  # pragma: no cover - nothing more we can do
                pass
        if not isinstance(e, Exception):
            raise
        detail = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ProjectError(f"{target.name}: could not save ({detail}); the previous file is unchanged") from e
    _fsync_dir(target.parent)
    _remove_stale_temps(target)
    project.path = target
    return target


def _remove_stale_temps(target: Path) -> None:
    """Delete temp files left by saves of ``target`` whose process was killed mid-save."""
    for leftover in target.parent.glob(f".{glob.escape(target.name)}.*.saving.gpkg*"):
        pid = leftover.name[len(target.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and pid_alive(int(pid)):
            continue  # another live process is saving right now
        try:
            leftover.unlink()
        except OSError:
            pass


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (conservatively True when unknowable)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill would terminate the process on Windows: assume alive
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
    return True


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


def _read_metadata(path: Path, file_layers: list[tuple[str, str | None]]) -> dict[str, Any]:
    if METADATA_TABLE not in {n for n, _ in file_layers}:
        return {"schema_version": 0}
    df = pyogrio.read_dataframe(str(path), layer=METADATA_TABLE, read_geometry=False)
    raw = {str(k): (None if pd.isna(v) else str(v)) for k, v in zip(df["key"], df["value"])}
    try:
        version = int(raw.get("schema_version") or 0)
        meta: dict[str, Any] = {
            "schema_version": version,
            "app_version": raw.get("app_version"),
            "saved_at": raw.get("saved_at"),
            "name": raw.get("name") or path.stem,
            "settings": json.loads(raw.get("settings") or "{}"),
            "layers": json.loads(raw.get("layers") or "[]"),
            "sites_table": SITES_TABLE,
        }
    except (ValueError, TypeError) as e:
        raise ProjectError(f"{path.name}: the {METADATA_TABLE} table is damaged ({e}); "
                           "restore a backup or re-create the project") from None
    return meta


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
    try:
        return [(str(n), None if t is None else str(t)) for n, t in pyogrio.list_layers(str(path))]
    except Exception as e:
        raise ProjectError(f"{path.name}: not a readable GeoPackage ({str(e).strip().splitlines()[0] if str(e) else e!r})") from None


def _read_table(path: Path, name: str) -> gpd.GeoDataFrame:
    gdf = pyogrio.read_dataframe(str(path), layer=name)
    try:
        return ensure_wgs84(gdf)
    except CRSError as e:
        raise ProjectError(f"{path.name}: layer {name!r}: {e}") from None


def _layer_from_entry(path: Path, entry: Mapping[str, Any]) -> MapLayer:
    name = str(entry["name"])
    kind = entry.get("kind") if entry.get("kind") in LAYER_KINDS else "other"
    coverage = None
    if entry.get("coverage_wkt"):
        try:
            coverage = shapely.from_wkt(str(entry["coverage_wkt"]))
        except Exception:  # a damaged coverage only loses the limit, not the layer
            coverage = None
    return MapLayer(name=name, kind=str(kind), title=str(entry.get("title") or name), gdf=_read_table(path, name),
                    source=str(entry.get("source") or ""), style=dict(entry.get("style") or default_style(kind)),
                    coverage=coverage, coverage_label=str(entry.get("coverage_label") or ""))


def open_project(path: str | Path) -> Project:
    """Open a project GeoPackage (migrating older schemas); raises :class:`ProjectError`."""
    p = Path(path).absolute()
    file_layers = _check_gpkg(p)
    try:
        meta = migrate_metadata(_read_metadata(p, file_layers), file_layers, p)
        names = {n for n, _ in file_layers}
        warnings: list[str] = []
        sites_table = meta["sites_table"]
        if sites_table in names:
            sites_gdf = _read_table(p, sites_table)
            try:
                sites = sites_from_gdf(sites_gdf)
            except SiteError as e:
                raise ProjectError(f"{p.name}: {sites_table}: {e}") from None
        else:
            raise ProjectError(f"{p.name}: the sites table is missing; the file was altered outside the planner")
        portfolio = Portfolio(sites, settings=meta["settings"], name=str(meta["name"]))
        project = Project(path=p, portfolio=portfolio, warnings=warnings)
        listed = set()
        for entry in meta["layers"]:
            name = str(entry.get("name"))
            listed.add(name)
            if name not in names:
                warnings.append(f"layer {name!r} is listed in the project but missing from the file; skipped")
                continue
            project.add_layer(_layer_from_entry(p, entry))
        for name, gtype in file_layers:  # layers added in QGIS: keep them as "other"
            if gtype is not None and name not in listed and name != sites_table and name not in _RESERVED:
                if name == safe_layer_name(name):
                    project.add_layer(_layer_from_entry(p, {"name": name, "kind": "other", "title": name}))
                    warnings.append(f"layer {name!r} was not created by the planner; added as kind 'other'")
        return project
    except PlannerError as e:
        if isinstance(e, ProjectError):
            raise
        raise ProjectError(f"{p.name}: {e}") from None
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, KeyError, ValueError) as e:
        raise ProjectError(f"{p.name}: cannot read the project ({str(e).strip().splitlines()[0] if str(e) else e!r})") from None


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
