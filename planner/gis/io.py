"""Reading GIS files into EPSG:4326 GeoDataFrames, with a report of everything that was changed.

Formats: GeoJSON, Shapefile (also zipped), GeoPackage, CSV with lon/lat columns,
KML, FileGDB (``.gdb`` folder) and FlatGeobuf. Every user-caused failure is a
:class:`LayerImportError` with one line ``"FILE: problem. fix"``.
"""
from __future__ import annotations

import csv
import io as _io
import math
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from planner.gis.crs import CRSError, describe_crs, ensure_wgs84, is_wgs84, parse_crs
from planner.gis.import_policy import id_from_name
from planner.gis.kinds import KINDS
from planner.gis.voltage import normalise_voltage_kv
from planner.lazy import lazy_module
from planner.model.fields import FIELDS, PRECISION_CHOICES
from planner.model.site import PlannerError, Site, SiteError, coerce_value, cross_field_issues, first_line

if TYPE_CHECKING:
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import pyogrio
    import pyogrio.errors as ogr_errors
    import shapely
    import shapely.errors as geos_errors
else:  # imported on first use: the window shows before these load (planner.lazy)
    gpd = lazy_module("geopandas", globals(), "gpd")
    np = lazy_module("numpy", globals(), "np")
    pd = lazy_module("pandas", globals(), "pd")
    pyogrio = lazy_module("pyogrio", globals(), "pyogrio")
    ogr_errors = lazy_module("pyogrio.errors", globals(), "ogr_errors")
    shapely = lazy_module("shapely", globals(), "shapely")
    geos_errors = lazy_module("shapely.errors", globals(), "geos_errors")

Progress = Callable[[float], None] | None

MAX_ZIP_UNCOMPRESSED_BYTES = 2 * 1024**3  # refuse zip bombs / unreasonable archives
SUFFIX_FORMATS: dict[str, str] = {
    ".geojson": "GeoJSON", ".json": "GeoJSON", ".shp": "Shapefile", ".zip": "Zip",
    ".gpkg": "GeoPackage", ".csv": "CSV", ".txt": "CSV", ".tsv": "CSV", ".kml": "KML",
    ".gdb": "FileGDB", ".fgb": "FlatGeobuf",
}

# Geometry families accepted per layer kind (None = any).
KIND_GEOMETRIES: dict[str, tuple[str, ...] | None] = {
    "sites": ("Point",),
    "transmission": ("LineString",),
    "substations": ("Point", "Polygon"),
    "fibre": ("LineString",),
    "pops": ("Point",),
    "flares": ("Point",),
    "stranded": ("Polygon",),
    "basins": ("Polygon",),
    "countries": ("Polygon",),
    "states": ("Polygon",),
    "other": None,
}

_KML_STANDARD_FIELDS = ("id", "description", "timestamp", "begin", "end", "altitudeMode", "tessellate",
                        "extrude", "visibility", "drawOrder", "icon")
LON_NAMES = ("lon", "lng", "long", "longitude", "x")
LAT_NAMES = ("lat", "latitude", "y")


class LayerImportError(PlannerError, ValueError):
    """A file that cannot be imported; the message is one line "FILE: problem. fix"."""


class SiteImportError(LayerImportError):
    """Rows of a sites file that fail validation; ``errors`` holds every "row N: ..." line."""

    def __init__(self, message: str, errors: list[str], report: "ImportReport"):
        super().__init__(message)
        self.errors = errors
        self.report = report


ImportError_ = LayerImportError  # name used in docs/architecture.md


@dataclass
class ImportReport:
    """What an import read, kept, repaired and dropped. Row numbers are 1-based data rows."""

    source: str
    layer: str | None = None
    rows_read: int = 0
    rows_imported: int = 0
    repaired: int = 0
    dropped: list[tuple[int, str]] = field(default_factory=list)
    reprojected_from: str | None = None
    unmapped_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One paragraph for the user: counts, repairs, drops (first few rows), CRS, columns."""
        name = Path(self.source).name + (f" (layer {self.layer})" if self.layer else "")
        parts = [f"{name}: imported {self.rows_imported} of {self.rows_read} rows."]
        if self.reprojected_from:
            parts.append(f"Reprojected from {self.reprojected_from} to EPSG:4326.")
        if self.repaired:
            parts.append(f"Repaired {self.repaired} invalid geometr{'y' if self.repaired == 1 else 'ies'}.")
        if self.dropped:
            shown = "; ".join(f"row {r}: {why}" for r, why in self.dropped[:5])
            more = f" and {len(self.dropped) - 5} more" if len(self.dropped) > 5 else ""
            parts.append(f"Dropped {len(self.dropped)} rows ({shown}{more}).")
        if self.unmapped_columns:
            parts.append("Columns not imported: " + ", ".join(self.unmapped_columns) + ".")
        parts.extend(self.warnings)
        return " ".join(parts)


def _fail(path: Path | str, problem: str) -> LayerImportError:
    return LayerImportError(f"{Path(path).name}: {problem}")


def _tick(progress: Progress, value: float) -> None:
    if progress is not None:
        progress(max(0.0, min(1.0, value)))


# -- sources -----------------------------------------------------------------------
def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIX_FORMATS:
        known = ", ".join(sorted(SUFFIX_FORMATS))
        raise _fail(path, f"unsupported file type {suffix or '(none)'!r}; use one of {known}")
    return SUFFIX_FORMATS[suffix]


def _check_exists(path: Path) -> None:
    if not path.exists():
        raise _fail(path, "file not found. Check the path")
    if path.suffix.lower() == ".gdb":
        if not path.is_dir():
            raise _fail(path, "a FileGDB must be a .gdb folder. Unzip it first")
    elif path.is_dir():
        raise _fail(path, "is a folder, not a file. Choose a file inside it")
    elif path.stat().st_size == 0:
        raise _fail(path, "the file is empty")


def _zip_target(path: Path, layer: str | None, max_bytes: int) -> tuple[str, str | None]:
    """GDAL /vsizip/ path of the dataset inside a zip (shapefile, or other single dataset)."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise _fail(path, f"not a readable zip archive ({e})") from None
    with zf:
        infos = zf.infolist()
        total = 0
        for info in infos:
            name = info.filename.replace("\\", "/")
            parts = PurePosixPath(name).parts
            if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in parts:
                raise _fail(path, f"unsafe member path {info.filename!r} in the archive; "
                                  "re-create the zip with relative paths")
            total += info.file_size
        if total > max_bytes:
            raise _fail(path, f"uncompressed size {total / 1e6:.0f} MB exceeds the limit "
                              f"{max_bytes / 1e6:.0f} MB; unzip and import the layer directly")
        _check_inflated_size(path, infos, max_bytes)  # the headers may lie: count what really comes out
        names = [i.filename for i in infos if not i.is_dir()]
    base = f"/vsizip/{path.resolve().as_posix()}"
    shps = [n for n in names if n.lower().endswith(".shp")]
    gdbs = sorted({n[: n.lower().index(".gdb/") + 4] for n in names if ".gdb/" in n.lower()})
    others = [n for n in names if PurePosixPath(n).suffix.lower() in
              (".geojson", ".json", ".gpkg", ".kml", ".fgb")]
    if shps:
        if layer is not None:
            match = [s for s in shps if PurePosixPath(s).stem.lower() == layer.lower()]
            if match:
                return f"{base}/{match[0]}", None
        if len(shps) > 1:
            listed = ", ".join(PurePosixPath(s).stem for s in shps)
            raise _fail(path, f"the archive holds {len(shps)} shapefiles ({listed}); choose one with --layer")
        return f"{base}/{shps[0]}", None
    if gdbs:
        return f"{base}/{gdbs[0]}", layer
    if len(others) == 1:
        return f"{base}/{others[0]}", layer
    raise _fail(path, "no shapefile (.shp with .shx/.dbf) or single GIS file found in the archive")


_LOCAL_HEADER = struct.Struct("<4s5H3L2H")


def _check_inflated_size(path: Path, infos: list[zipfile.ZipInfo], max_bytes: int) -> None:
    """Inflate every member (discarding the output) and refuse the archive once the real total passes
    ``max_bytes``: a header can claim a few kB for a member that inflates to gigabytes, and GDAL's
    reader inflates to the end of the stream whatever the header says."""
    total = 0
    chunk = 1 << 20
    with open(path, "rb") as f:
        for info in infos:
            if info.is_dir():
                continue
            f.seek(info.header_offset)
            head = f.read(_LOCAL_HEADER.size)
            if len(head) < _LOCAL_HEADER.size or head[:4] != b"PK\x03\x04":
                raise _fail(path, f"damaged zip archive (member {info.filename!r} has no local header)")
            name_len, extra_len = _LOCAL_HEADER.unpack(head)[-2:]
            f.seek(info.header_offset + _LOCAL_HEADER.size + name_len + extra_len)
            if info.compress_type == zipfile.ZIP_STORED:
                total += info.compress_size
            elif info.compress_type == zipfile.ZIP_DEFLATED:
                d = zlib.decompressobj(-15)
                while not d.eof:
                    data = f.read(chunk)
                    if not data:
                        break
                    while data and not d.eof:
                        total += len(d.decompress(data, chunk))
                        data = d.unconsumed_tail
                        if total > max_bytes:
                            break
                    if total > max_bytes:
                        break
            else:
                raise _fail(path, f"member {info.filename!r} uses a compression GDAL cannot read "
                                  f"(method {info.compress_type}); re-create the zip with Deflate")
            if total > max_bytes:
                raise _fail(path, f"the archive inflates to more than {max_bytes / 1e6:.0f} MB although its "
                                  "headers say less (a zip bomb?); unzip it yourself and import the layer directly")


def _shp_has_dbf(path: Path, src: str) -> bool:
    """Whether the .shp named by ``src`` (plain or inside the zip ``path``) has its .dbf."""
    if src.startswith("/vsizip/"):
        member = src[len(f"/vsizip/{path.resolve().as_posix()}/"):]
        with zipfile.ZipFile(path) as zf:
            names = {n.lower() for n in zf.namelist()}
        return member[:-4].lower() + ".dbf" in names
    shp = Path(src)
    return any(shp.with_suffix(s).exists() for s in (".dbf", ".DBF"))


def _dbf_bytes(path: Path, src: str) -> bytes | None:
    """The .dbf beside the .shp named by ``src`` (plain or inside the zip ``path``)."""
    try:
        if src.startswith("/vsizip/"):
            member = src[len(f"/vsizip/{path.resolve().as_posix()}/"):]
            with zipfile.ZipFile(path) as zf:
                names = {n.lower(): n for n in zf.namelist()}
                name = names.get(member[:-4].lower() + ".dbf")
                return zf.read(name) if name else None
        shp = Path(src)
        for suffix in (".dbf", ".DBF"):
            if shp.with_suffix(suffix).exists():
                return shp.with_suffix(suffix).read_bytes()
    except (OSError, zipfile.BadZipFile):
        return None
    return None


def _dbf_text_in_numbers(data: bytes) -> dict[str, tuple[np.ndarray, list[str]]]:
    """Numeric .dbf fields holding text (e.g. VOLTAGE = 'WNER'): {field: (row indexes, texts)}.
    GDAL reads such a cell as 0, which would pass for a real zero."""
    if len(data) < 32:
        return {}
    nrec = struct.unpack_from("<I", data, 4)[0]
    hlen, rlen = struct.unpack_from("<HH", data, 8)
    fields: list[tuple[str, str, int, int]] = []
    off, pos = 32, 1  # each record starts with its deletion flag
    while off + 32 <= len(data) and data[off] != 0x0D:
        name = data[off:off + 11].split(b"\0")[0].decode("latin-1")
        fields.append((name, chr(data[off + 11]), pos, data[off + 16]))
        pos += data[off + 16]
        off += 32
    nrec = min(nrec, max(0, (len(data) - hlen) // max(rlen, 1)))
    if not nrec or not fields:
        return {}
    recs = np.frombuffer(data, np.uint8, count=nrec * rlen, offset=hlen).reshape(nrec, rlen)
    out: dict[str, tuple[np.ndarray, list[str]]] = {}
    for name, ftype, start, width in fields:
        if ftype not in "NF" or width == 0:
            continue
        cells = pd.Series(np.ascontiguousarray(recs[:, start:start + width]).view(f"S{width}").ravel()) \
            .str.decode("latin-1").str.strip()
        filled = cells.ne("") & ~cells.str.fullmatch(r"\*+")  # '***' = overflow, GDAL reads it as null
        bad = filled & pd.to_numeric(cells.where(filled), errors="coerce").isna()
        if bad.any():
            rows = np.flatnonzero(bad.to_numpy())
            out[name] = (rows, cells.iloc[rows].tolist())
    return out


def _unknown_for_dbf_text(gdf: gpd.GeoDataFrame, dbf: bytes | None, report: ImportReport) -> gpd.GeoDataFrame:
    """Cells GDAL read as 0 from text in a numeric .dbf field become unknown, with a warning."""
    if not dbf:
        return gdf
    found = _dbf_text_in_numbers(dbf)
    lower = {str(c).lower(): c for c in gdf.columns}
    for name, (rows, texts) in found.items():
        col = lower.get(name.lower())
        if col is None or len(gdf) != len(texts) and rows.max(initial=-1) >= len(gdf):
            continue
        gdf[col] = gdf[col].astype("float64")
        gdf.loc[gdf.index[rows], col] = np.nan
        shown = ", ".join(repr(t) for t in list(dict.fromkeys(texts))[:3])
        report.warnings.append(f"{len(rows)} {col} value{'s' if len(rows) != 1 else ''} in the .dbf "
                               f"{'are' if len(rows) != 1 else 'is'} text, not a number ({shown}); read as "
                               "unknown, not 0.")
    return gdf


def _gdal_source(path: Path, layer: str | None, max_zip_bytes: int) -> tuple[str, str | None]:
    if _format_of(path) == "Zip":
        return _zip_target(path, layer, max_zip_bytes)
    return str(path), layer


def list_layers(path: str | Path) -> list[str]:
    """Names of the layers in a GIS file (one for single-layer formats)."""
    return [name for name, _ in layer_types(path)]


def layer_types(path: str | Path, max_zip_bytes: int = MAX_ZIP_UNCOMPRESSED_BYTES) -> list[tuple[str, str | None]]:
    """(layer name, geometry type or None for a table) for every layer in a GIS file."""
    p = Path(path)
    _check_exists(p)
    if _format_of(p) == "CSV":
        return [(p.stem, "Point")]
    src, _ = _gdal_source(p, None, max_zip_bytes)
    try:
        return [(str(n), None if t is None else str(t)) for n, t in pyogrio.list_layers(src)]
    except (ogr_errors.DataSourceError, ogr_errors.DataLayerError, OSError) as e:
        raise _fail(p, f"cannot be read as GIS data ({first_line(e)})") from None



# -- CSV ---------------------------------------------------------------------------
def _read_csv_text(path: Path) -> tuple[str, list[str]]:
    raw = path.read_bytes()
    warnings: list[str] = []
    if b"\x00" in raw[:4096]:
        raise _fail(path, "looks like a binary file, not CSV text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
        warnings.append("The CSV is not UTF-8; read it as Windows-1252.")
    return text, warnings


def _sniff_separator(text: str) -> str:
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {sep: sample.count(sep) for sep in ",;\t|"}
        return max(counts, key=lambda s: counts[s])


def _find_column(columns: list[str], names: tuple[str, ...]) -> str | None:
    lower = {c.strip().lower(): c for c in columns}
    for n in names:
        if n in lower:
            return lower[n]
    return None


_THOUSANDS = re.compile(r"^[-+]?[1-9]\d{0,2}(?:,\d{3})+$")  # "1,234": thousands or decimal? ambiguous


def _to_float(value: Any, decimal_comma: bool) -> float:
    if value is None:
        return math.nan
    text = str(value).strip()
    if not text:
        return math.nan
    if not decimal_comma and _THOUSANDS.match(text):
        return math.nan  # never guess: the cell stays text and site validation names it
    if decimal_comma or ("," in text and "." not in text):
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return math.nan


def _to_float_array(values: pd.Series, decimal_comma: bool) -> np.ndarray:
    """Vectorised :func:`_to_float` (same rules; NaN where a cell is empty, ambiguous or not a number)."""
    text = values.astype("string").str.strip()
    ambiguous = np.zeros(len(text), dtype=bool) if decimal_comma else \
        text.str.match(_THOUSANDS.pattern).fillna(False).to_numpy(dtype=bool)
    has_comma = text.str.contains(",", regex=False).fillna(False)
    has_dot = text.str.contains(".", regex=False).fillna(False)
    swap = has_comma if decimal_comma else (has_comma & ~has_dot)
    text = text.where(~swap, text.str.replace(",", ".", regex=False))
    out = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    out[ambiguous] = np.nan
    return np.asarray(out, dtype=float)


def _read_csv(path: Path, allow_no_coords: bool = False) -> tuple[gpd.GeoDataFrame, list[str], dict[int, str]]:
    """Points from lon/lat columns; returns (gdf, warnings, {row: reason} for bad coordinates)."""
    text, warnings = _read_csv_text(path)
    if not text.strip():
        raise _fail(path, "the file is empty")
    sep = _sniff_separator(text)
    try:
        df = pd.read_csv(_io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise _fail(path, f"cannot be parsed as CSV ({first_line(e)})") from None
    df.columns = [str(c).strip() for c in df.columns]
    cols = list(df.columns)
    lon_col, lat_col = _find_column(cols, LON_NAMES), _find_column(cols, LAT_NAMES)
    if lon_col is None or lat_col is None:
        if not allow_no_coords:
            raise _fail(path, "no longitude/latitude columns found (columns: " + ", ".join(cols[:30])
                        + "); name them lon and lat (or longitude/latitude, x/y)")
        warnings.append("No lon/lat columns: the sites have no location yet.")
        gdf = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries([None] * len(df), index=df.index), crs=None)
        return gdf, warnings, {}
    decimal_comma = sep == ";"
    lon = _to_float_array(df[lon_col], decimal_comma)
    lat = _to_float_array(df[lat_col], decimal_comma)
    missing = np.isnan(lon) | np.isnan(lat)
    both_empty = (df[lon_col].isna() & df[lat_col].isna()).to_numpy()
    bad: dict[int, str] = {int(i) + 1: f"coordinates {df[lon_col].iat[i]!r}, {df[lat_col].iat[i]!r} are not numbers"
                           for i in np.flatnonzero(missing & ~both_empty)}
    geoms = shapely.points(np.where(missing, 0.0, lon), np.where(missing, 0.0, lat))
    geoms[missing] = None
    attrs = df.drop(columns=[lon_col, lat_col])
    comma_cols = [c for c in (lon_col, lat_col) if df[c].dropna().str.contains(",", regex=False).any()]
    for c in attrs.columns:  # numbers stay numbers, but "007"-style identifiers stay text
        values = attrs[c].dropna()
        if values.empty or values.str.match(r"^0\d").any():
            continue
        if any(math.isnan(_to_float(v, decimal_comma)) for v in values.head(50)):
            continue  # a text column: skip the full parse
        parsed = _to_float_array(attrs[c], decimal_comma)
        if not np.isnan(parsed[attrs[c].notna().to_numpy()]).any():
            if values.str.contains(",", regex=False).any():
                comma_cols.append(c)
            attrs[c] = parsed
    if comma_cols:
        warnings.append("Read decimal commas as decimal points in: " + ", ".join(comma_cols) + ".")
    gdf = gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(geoms, index=attrs.index), crs=None)
    gdf.attrs["lonlat_columns"] = (lon_col, lat_col)
    return gdf, warnings, bad


# -- geometry cleaning ---------------------------------------------------------------
def _family(geom_type: str) -> str:
    return geom_type.replace("Multi", "").replace("LinearRing", "LineString")


_FAMILY_BY_TYPE_ID = {0: "Point", 4: "Point", 1: "LineString", 2: "LineString", 5: "LineString",
                      3: "Polygon", 6: "Polygon", 7: "GeometryCollection"}


def _geom_array(geoms: Any) -> np.ndarray:
    return np.asarray(geoms.values if hasattr(geoms, "values") else geoms, dtype=object)


def _bad_coords(geoms: Any, check_range: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(non-finite, out of lon/lat range) flags per geometry, vectorised over all vertices."""
    arr = _geom_array(geoms)
    nonfinite = np.zeros(len(arr), dtype=bool)
    outside = np.zeros(len(arr), dtype=bool)
    if len(arr):
        coords, index = shapely.get_coordinates(arr, return_index=True)
        bad = ~np.isfinite(coords).all(axis=1)
        nonfinite[index[bad]] = True
        if check_range:
            with np.errstate(invalid="ignore"):
                off = (np.abs(coords[:, 0]) > 180) | (np.abs(coords[:, 1]) > 90)
            outside[index[off & ~bad]] = True
            outside &= ~nonfinite
    return nonfinite, outside


def _finite(geoms: gpd.GeoSeries) -> np.ndarray:
    return ~_bad_coords(geoms)[0]


def _clean(gdf: gpd.GeoDataFrame, report: ImportReport, kind: str, keep_null: bool,
           crs: Any, path: Path, bad: Mapping[int, str]) -> gpd.GeoDataFrame:
    """Drop/repair geometries, reproject, check the kind; ``bad`` = {row: reason} already refused."""
    n = len(gdf)
    rows = np.arange(1, n + 1)
    keep = np.ones(n, dtype=bool)
    geoms = gdf.geometry
    arr = _geom_array(geoms)
    is_null = np.asarray(shapely.is_missing(arr) | shapely.is_empty(arr), dtype=bool) if n else np.zeros(0, bool)
    for i in np.flatnonzero(is_null):
        if int(rows[i]) in bad:
            keep[i] = False
            report.dropped.append((int(rows[i]), bad[int(rows[i])]))
        elif not keep_null:
            keep[i] = False
            report.dropped.append((int(rows[i]), "no geometry"))
    finite = _finite(geoms)
    for i in np.flatnonzero(~finite & keep):
        keep[i] = False
        report.dropped.append((int(rows[i]), "non-finite (NaN/infinite) coordinates"))
    gdf = gdf.loc[keep].copy()
    rows = rows[keep]
    source_crs = gdf.crs
    try:
        gdf = ensure_wgs84(gdf, crs)
    except CRSError as e:
        raise _fail(path, str(e)) from None
    effective = parse_crs(crs) if crs is not None else source_crs
    if effective is not None and not is_wgs84(effective):
        report.reprojected_from = describe_crs(effective)
    # after reprojection: finite and inside lon/lat range
    nonfinite, outside = _bad_coords(gdf.geometry, check_range=True)
    keep = ~(nonfinite | outside)
    for i in np.flatnonzero(~keep):
        report.dropped.append((int(rows[i]), "coordinates could not be reprojected" if nonfinite[i] else
                               "coordinates outside lon -180..180 / lat -90..90 (wrong CRS or swapped columns?)"))
    gdf = gdf.loc[keep].copy()
    rows = rows[keep]
    # repair invalid geometries
    values = gdf.geometry.values
    arr = _geom_array(values)
    present = ~np.asarray(shapely.is_missing(arr) | shapely.is_empty(arr), dtype=bool) if len(arr) \
        else np.zeros(0, bool)
    invalid = present & ~np.asarray(shapely.is_valid(arr), dtype=bool)
    if invalid.any():
        fixed = list(values)
        drop = np.zeros(len(gdf), dtype=bool)
        for i in np.flatnonzero(invalid):
            g = values[i]
            repaired = shapely.make_valid(g, method="structure", keep_collapsed=False) \
                if _family(g.geom_type) == "Polygon" else shapely.make_valid(g)
            if repaired.geom_type == "GeometryCollection":
                wanted = _family(g.geom_type)
                parts = [p for p in shapely.get_parts(repaired) if _family(p.geom_type) == wanted]
                repaired = shapely.union_all(parts) if parts else shapely.GeometryCollection()
            if repaired.is_empty:
                drop[i] = True
                report.dropped.append((int(rows[i]), "invalid geometry that could not be repaired"))
            else:
                fixed[i] = repaired
                report.repaired += 1
        gdf = gdf.set_geometry(gpd.GeoSeries(fixed, index=gdf.index, crs=gdf.crs))
        gdf = gdf.loc[~drop].copy()
        rows = rows[~drop]
    # geometry type against the kind
    allowed = KIND_GEOMETRIES.get(kind)
    if allowed is not None:
        arr = _geom_array(gdf.geometry)
        type_ids = shapely.get_type_id(arr) if len(arr) else np.zeros(0, int)
        empty = np.asarray(shapely.is_empty(arr), dtype=bool) if len(arr) else np.zeros(0, bool)
        lut = np.array([None] + [_FAMILY_BY_TYPE_ID[t] for t in range(8)], dtype=object)
        fam = lut[np.clip(np.asarray(type_ids, dtype=int), -1, 7) + 1]
        fam[empty] = None
        known = np.array([f is not None for f in fam], dtype=bool) if len(fam) else np.zeros(0, bool)
        wrong = known & ~np.isin(fam.astype(str), list(allowed))
        if wrong.any():
            if wrong.sum() == known.sum():
                found = ", ".join(sorted({str(f) for f in fam[wrong]}))
                raise _fail(path, f"{kind} layers need {' or '.join(allowed)} geometries but the layer holds "
                                  f"{found}; choose another --kind or another layer")
            for i in np.flatnonzero(wrong):
                report.dropped.append((int(rows[i]), f"{fam[i]} geometry is not allowed in a {kind} layer"))
            gdf = gdf.loc[~wrong].copy()
            rows = rows[~wrong]
    gdf = gdf.reset_index(drop=True)
    gdf.attrs["source_rows"] = [int(r) for r in rows]
    report.dropped.sort()
    return gdf


def _rename_case_duplicates(gdf: gpd.GeoDataFrame, report: ImportReport) -> gpd.GeoDataFrame:
    """Columns differing only in case (``name``/``NAME``) cannot both live in a GeoPackage (SQLite
    names are case-insensitive): the later ones get ``_2``, ``_3``... and the report says so."""
    seen: set[str] = set()
    rename: dict[str, str] = {}
    for c in gdf.columns:
        key = str(c).lower()
        if key not in seen:
            seen.add(key)
            continue
        n = 2
        while f"{key}_{n}" in seen:
            n += 1
        rename[c] = f"{c}_{n}"
        seen.add(f"{key}_{n}")
    if not rename:
        return gdf
    report.warnings.append("Columns differing only in case were renamed: "
                           + ", ".join(f"{a} -> {b}" for a, b in rename.items()) + ".")
    return gdf.rename(columns=rename)


def _read(path: str | Path, layer: str | None, crs: Any, kind: str, progress: Progress,
          keep_null: bool, max_zip_bytes: int) -> tuple[gpd.GeoDataFrame, ImportReport]:
    p = Path(path)
    if kind not in KIND_GEOMETRIES:
        raise _fail(p, f"unknown layer kind {kind!r}; use one of {', '.join(KIND_GEOMETRIES)}")
    _check_exists(p)
    fmt = _format_of(p)
    _tick(progress, 0.0)
    report = ImportReport(source=str(p))
    if crs is not None:
        try:
            parse_crs(crs)
        except CRSError as e:
            raise _fail(p, str(e)) from None
    if fmt == "CSV":
        gdf, warnings, bad = _read_csv(p, allow_no_coords=keep_null)
        report.warnings.extend(warnings)
        report.layer = None
        report.rows_read = len(gdf)
        if crs is None and gdf.crs is None:
            crs = "EPSG:4326"  # lon/lat columns are WGS84 unless the user says otherwise
    else:
        src, chosen = _gdal_source(p, layer, max_zip_bytes)
        try:
            layers = [(str(n), t) for n, t in pyogrio.list_layers(src)]
        except (ogr_errors.DataSourceError, ogr_errors.DataLayerError, OSError) as e:
            raise _fail(p, f"cannot be read as {fmt} ({first_line(e)})") from None
        spatial = [n for n, t in layers if t is not None]
        names = [n for n, _ in layers]
        if chosen is None:
            if len(spatial) > 1:
                raise _fail(p, f"holds {len(spatial)} layers ({', '.join(spatial)}); choose one with --layer")
            if not layers:
                raise _fail(p, "holds no layers")
            chosen = spatial[0] if spatial else names[0]
        elif chosen not in names and src.startswith("/vsizip/") and src.lower().endswith(".shp"):
            chosen = names[0]
        elif chosen not in names:
            raise _fail(p, f"has no layer {chosen!r}; layers: {', '.join(names)}")
        report.layer = chosen if len(layers) > 1 or fmt in ("GeoPackage", "FileGDB") else None
        bad = {}
        try:
            try:
                gdf = pyogrio.read_dataframe(src, layer=chosen)
            except geos_errors.GEOSException:
                # some geometry cannot be built (e.g. a line with one point): read the rest, drop those
                gdf = pyogrio.read_dataframe(src, layer=chosen, on_invalid="ignore")
                bad = {i + 1: "missing or unreadable geometry (e.g. a line with one point)"
                       for i in np.flatnonzero(gdf.geometry.isna().to_numpy())}
        except (ogr_errors.DataSourceError, ogr_errors.DataLayerError, ogr_errors.FieldError, ogr_errors.GeometryError,
                OSError, ValueError) as e:
            raise _fail(p, f"cannot read layer {chosen!r} ({first_line(e)})") from None
        if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
            raise _fail(p, f"layer {chosen!r} is a table without geometry; choose a spatial layer")
        if src.lower().endswith(".shp") and not _shp_has_dbf(p, src):
            report.warnings.append("The shapefile has no .dbf: features were imported without attributes.")
        elif src.lower().endswith(".shp"):
            gdf = _unknown_for_dbf_text(gdf, _dbf_bytes(p, src), report)
        if fmt == "KML":  # LIBKML adds its standard fields; keep only those holding data
            empty = [c for c in _KML_STANDARD_FIELDS if c in gdf.columns and gdf[c].isna().all()]
            gdf = gdf.drop(columns=empty)
        report.rows_read = len(gdf)
    _tick(progress, 0.4)
    gdf = _rename_case_duplicates(gdf.reset_index(drop=True), report)
    cleaned = _clean(gdf, report, kind, keep_null, crs, p, bad)
    _tick(progress, 0.8)
    if kind in KINDS and KINDS[kind].has_voltage:
        cleaned = normalise_voltage_kv(cleaned)
        if cleaned["voltage_kv"].isna().all() and len(cleaned):
            report.warnings.append("No voltage found (looked for voltage, max_kv, kv, volt_class); "
                                   "lines will not count toward the voltage classes.")
    if len(cleaned) == 0 and report.rows_read > 0 and not keep_null:
        row, why = report.dropped[0] if report.dropped else (1, "no usable geometry")
        raise _fail(p, f"no usable features: all {report.rows_read} rows were dropped (first: row {row}: {why}); "
                       "fix the geometries or name the CRS with --crs")
    report.rows_imported = len(cleaned)
    _tick(progress, 1.0)
    return cleaned, report


def read_layer(path: str | Path, layer: str | None = None, crs: Any = None, kind: str = "other",
               progress: Progress = None, max_zip_bytes: int = MAX_ZIP_UNCOMPRESSED_BYTES,
               ) -> tuple[gpd.GeoDataFrame, ImportReport]:
    """Read one layer of a GIS file into EPSG:4326, cleaned and checked for ``kind``.

    Parameters
    ----------
    path : file (.geojson, .shp, .zip, .gpkg, .csv, .kml, .fgb) or .gdb folder
    layer : layer name when the file holds several
    crs : CRS of the coordinates when the file has none (or a wrong one), e.g. "EPSG:32614"
    kind : one of :data:`KIND_GEOMETRIES`; checks the geometry type, adds ``voltage_kv``
        for transmission/substations
    progress : called with 0..1

    Returns
    -------
    (GeoDataFrame in EPSG:4326, ImportReport)
    """
    return _read(path, layer, crs, kind, progress, keep_null=False, max_zip_bytes=max_zip_bytes)


# -- sites --------------------------------------------------------------------------
SITE_ALIASES: dict[str, str] = {
    "site_name": "name",
    "state": "admin1", "province": "admin1", "admin1": "admin1",
    "mw_energized_or_operating": "energized_mw",
    "mw_total_or_pipeline": "power_capacity_mw",
    "ai_hpc_partner": "ai_partner",
    "ai_hpc_status": "status",
    "longitude": "lon", "lng": "lon", "long": "lon", "latitude": "lat",
    "id": "site_id",
}

# Public-compilation status words -> STATUS_CHOICES. "planned_or_evaluating" means the operator
# studies AI/HPC without an announced deal, so the site keeps its mining status ("operating").
STATUS_ALIASES: dict[str, str] = {
    "announced_conversion": "announced_conversion",
    "announced_ai_new_build": "ai_new_build",
    "planned_or_evaluating": "operating",
    "none_found": "operating",
    "mining": "operating",
    "planned": "pipeline",
    "under_construction": "pipeline",
}


def map_status(raw: Any) -> Any:
    """Map a status word from public compilations to a status choice (unknown words pass through)."""
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return None
    key = str(raw).strip().lower().replace(" ", "_").replace("-", "_")
    return STATUS_ALIASES.get(key, raw)


def map_location_precision(raw: Any) -> str | None:
    """Map free text such as "town centroid (parish seat)" to a precision choice; None when unknown."""
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return None
    text = str(raw).strip().lower()
    if not text or text.startswith("unknown"):
        return None
    for choice in PRECISION_CHOICES:
        if text == choice or text.startswith(choice.replace("_", " ")):
            return choice
    if text.startswith(("town", "city", "village", "municipal")):
        return "town_centroid"
    if text.startswith("county"):
        return "county_seat"
    if text.startswith("district"):
        return "district_centre"
    return "approximate"


def _column_mapping(columns: list[str], column_map: Mapping[str, str] | None, path: Path
                    ) -> tuple[dict[str, str], list[str], list[str]]:
    """source column -> field; plus unmapped columns and warnings."""
    mapping: dict[str, str] = {}
    used: set[str] = set()
    warnings: list[str] = []
    for src, dst in (column_map or {}).items():
        if src not in columns:
            raise _fail(path, f"column_map names column {src!r}, which is not in the file "
                              f"(columns: {', '.join(columns[:30])})")
        if dst not in FIELDS:
            raise _fail(path, f"column_map maps {src!r} to {dst!r}, which is not a site field")
        mapping[src] = dst
        used.add(dst)
    for c in columns:
        if c in mapping:
            continue
        key = c.strip().lower()
        found = key if key in FIELDS else SITE_ALIASES.get(key)
        if found is None or FIELDS[found].computed:
            continue
        dst = found
        if dst in used:
            warnings.append(f"Column {c!r} also maps to {dst}; kept the first column.")
            continue
        mapping[c] = dst
        used.add(dst)
    unmapped = [c for c in columns if c not in mapping]
    return mapping, unmapped, warnings


def import_sites(path: str | Path, layer: str | None = None, crs: Any = None,
                 column_map: Mapping[str, str] | None = None, progress: Progress = None,
                 strict: bool = True) -> tuple[list[Site], ImportReport]:
    """Read candidate sites from a GIS/CSV file, validating every row.

    Columns map to site fields by exact name, then by :data:`SITE_ALIASES`
    (``column_map`` {source column: field} comes first). Point geometry (after
    reprojection) sets lon/lat; rows without geometry keep an unknown location.
    Without a site_id column, IDs are made from the names (unique and stable, see
    :func:`planner.gis.import_policy.id_from_name`) and the report says so.

    ``strict`` (all or nothing): any invalid row or duplicate ``site_id`` raises
    :class:`SiteImportError` listing every problem by row. Otherwise invalid rows are left
    out and listed in ``report.dropped`` (row, reason) while the good rows import; the
    error is raised only when no row is usable.
    """
    p = Path(path)
    gdf, report = _read(p, layer, crs, "sites", progress, keep_null=True,
                        max_zip_bytes=MAX_ZIP_UNCOMPRESSED_BYTES)
    source_rows: list[int] = gdf.attrs.get("source_rows", list(range(1, len(gdf) + 1)))
    lonlat_cols = gdf.attrs.get("lonlat_columns", ())
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    mapping, unmapped, warnings = _column_mapping(columns + list(lonlat_cols), column_map, p)
    mapping = {k: v for k, v in mapping.items() if k not in lonlat_cols and v not in ("lon", "lat")}
    report.unmapped_columns = [c for c in unmapped if c not in lonlat_cols]
    report.warnings.extend(warnings)
    make_ids = "site_id" not in mapping.values()
    made: dict[str, str] = {}
    errors: list[tuple[int, str]] = list(report.dropped)
    report.dropped = []
    sites: list[Site] = []
    seen: dict[str, int] = {}
    unit_cells: dict[str, list[str]] = {}
    geoms = gdf.geometry.values
    for i, row in enumerate(gdf[columns].itertuples(index=False, name=None)):
        rownum = source_rows[i]
        raw = dict(zip(columns, row))
        values: dict[str, Any] = {}
        row_errors: list[str] = []
        field_errors: list[SiteError] = []
        for src, dst in mapping.items():
            value = raw[src]
            if dst == "status":
                value = map_status(value)
            elif dst == "location_precision":
                value = map_location_precision(value)
            try:
                values[dst] = coerce_value(dst, value)
            except SiteError as e:
                field_errors.append(e)
                continue
            if isinstance(value, str) and FIELDS[dst].kind in ("float", "int") and values[dst] is not None \
                    and re.search(r"[A-Za-z$/%]", value):
                unit_cells.setdefault(dst, []).append(value)
        if make_ids and values.get("name") is not None:
            values["site_id"] = id_from_name(values["name"], made)
            made[values["site_id"]] = values["name"]
        sid = values.get("site_id")
        row_errors.extend(str(e.with_site(sid)) for e in field_errors)
        g = geoms[i]
        if g is not None and not g.is_empty:
            values["lon"], values["lat"] = round(float(g.x), 7), round(float(g.y), 7)
        for req in (("name",) if make_ids else ("site_id", "name")):
            if values.get(req) is None and not any(e.field == req for e in field_errors):
                row_errors.append(f"{req} is required. Fill it in")
        if not row_errors:
            for issue in cross_field_issues(values):
                row_errors.append(f"{sid}: {issue.message}")
        if sid is not None:
            if sid in seen:
                row_errors.append(f"duplicate site_id {sid!r} (first on row {seen[sid]}). Give each site a unique ID")
            else:
                seen[sid] = rownum
        if row_errors:
            errors.extend((rownum, e) for e in row_errors)
            continue
        try:
            sites.append(Site.create(**values))
        except SiteError as e:  # pragma: no cover - coerce/cross-field checks above cover the rules
            errors.append((rownum, str(e)))
    if errors and (strict or not sites):
        report.rows_imported = 0
        lines = [f"row {r}: {why}" for r, why in errors]
        raise SiteImportError(f"{p.name}: {len(lines)} problem{'s' if len(lines) > 1 else ''} in the sites; "
                              f"first: {lines[0]}", lines, report)
    report.dropped = sorted(errors, key=lambda e: e[0])
    for dst, cells in unit_cells.items():
        report.warnings.append(f"Removed the unit from {len(cells)} {dst} cell{'s' if len(cells) > 1 else ''} "
                               f"(e.g. {cells[0]!r}).")
    if make_ids and made:
        first = next(iter(made.items()))
        report.warnings.append(f"No site_id column: made {len(made)} IDs from the names (e.g. {first[1]!r} -> "
                               f"{first[0]}); re-importing the same names gives the same IDs.")
    report.rows_imported = len(sites)
    return sites, report
