"""GeoPackage work at the SQLite level: what a file holds besides the planner's tables, copying a file
consistently, syncing the ``sites`` rows in place (extra columns and row ids untouched), dropping a
feature table cleanly, and the GeoPackage version number.

GDAL (through pyogrio) writes whole tables; this module does what must leave the rest of the file as
it is. The R-tree triggers that GDAL puts on feature tables call ``ST_IsEmpty``/``ST_MinX``...,
which plain SQLite lacks: :func:`connect` registers them (read from the GeoPackage geometry blob).
"""
from __future__ import annotations

import contextlib
import sqlite3
import struct
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.lazy import lazy_module

if TYPE_CHECKING:
    import shapely
else:  # imported on first use: the window shows before these load (planner.lazy)
    shapely = lazy_module("shapely", globals(), "shapely")

# GeoPackage 1.2: what Debian's GDAL 3.6 and QGIS LTR open without "may only be partially supported".
GPKG_VERSION = "1.2"
GPKG_USER_VERSION = 10200
_NEWEST_UNDERSTOOD = 10300
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_INTERNAL_PREFIXES = ("gpkg_", "rtree_", "sqlite_", "gpkgext_")


def _envelope(blob: Any) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) of a GeoPackage geometry blob; None when empty or unreadable."""
    if blob is None:
        return None
    b = bytes(blob)
    if len(b) < 8 or b[:2] != b"GP":
        return None
    flags = b[3]
    if flags & 0x10:
        return None
    env = (flags >> 1) & 0x07
    size = _ENVELOPE_BYTES.get(env)
    if size is None:
        return None
    if env:
        order = "<" if flags & 0x01 else ">"
        minx, maxx, miny, maxy = struct.unpack_from(order + "4d", b, 8)
        return minx, maxx, miny, maxy
    try:
        g = shapely.from_wkb(b[8:])
    except Exception:
        return None
    if g is None or g.is_empty:
        return None
    x0, y0, x1, y1 = g.bounds
    return x0, x1, y0, y1


def _st(index: int) -> Any:
    def fn(blob: Any) -> float | None:
        e = _envelope(blob)
        return None if e is None else e[index]
    return fn


def _st_is_empty(blob: Any) -> int | None:
    if blob is None:
        return None
    return 1 if _envelope(blob) is None else 0


def connect(path: str | Path) -> sqlite3.Connection:
    """A SQLite connection with the ST_ functions the GeoPackage R-tree triggers call."""
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=30)
    conn.create_function("ST_IsEmpty", 1, _st_is_empty, deterministic=True)
    for i, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        conn.create_function(name, 1, _st(i), deterministic=True)
    return conn


@contextlib.contextmanager
def opened(path: str | Path) -> Iterator[sqlite3.Connection]:
    conn = connect(path)
    try:
        yield conn
    finally:
        conn.close()


def settle(path: str | Path) -> None:
    """Open and read the file once with SQLite so a save killed mid-write is rolled back (hot journal)
    before GDAL, which may open read-only, reads it."""
    with contextlib.suppress(sqlite3.Error), opened(path) as conn:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()


def copy_database(src: str | Path, dst: str | Path) -> None:
    """Copy ``src`` into ``dst`` with SQLite's backup API: a consistent snapshot (WAL content included),
    written into ``dst`` inside one SQLite transaction, so ``dst`` keeps its inode, owner, mode and
    links and is either the old or the new database after a crash (journal rollback)."""
    with opened(src) as s, opened(dst) as d:
        s.backup(d)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_columns(conn: sqlite3.Connection, table: str, schema: str = "main") -> list[tuple[str, str, int]]:
    """(name, declared type, pk) for each column."""
    return [(str(r[1]), str(r[2] or ""), int(r[5])) for r in
            conn.execute(f"PRAGMA {schema}.table_info({_q(table)})").fetchall()]


def geometry_column(conn: sqlite3.Connection, table: str, schema: str = "main") -> tuple[str, int] | None:
    row = conn.execute(f"SELECT column_name, srs_id FROM {schema}.gpkg_geometry_columns "
                       "WHERE lower(table_name) = lower(?)", (table,)).fetchone()
    return None if row is None else (str(row[0]), int(row[1]))


def has_table(conn: sqlite3.Connection, table: str, schema: str = "main") -> bool:
    return conn.execute(f"SELECT 1 FROM {schema}.sqlite_master WHERE type = 'table' AND lower(name) = lower(?)",
                        (table,)).fetchone() is not None


@dataclass(frozen=True)
class Kept:
    """Something in the file the planner did not create; it is kept as it is."""

    kind: str   # "layer", "table", "view", "field", "extension", "trigger"
    name: str
    detail: str = ""

    def describe(self) -> str:
        return f"{self.kind} {self.name}" + (f" ({self.detail})" if self.detail else "")


def foreign_content(path: str | Path, owned_tables: Iterable[str], sites_table: str,
                    site_fields: Iterable[str]) -> list[Kept]:
    """Everything in the GeoPackage that is not the planner's: tables, layers, views, triggers,
    extensions and extra fields on the sites table."""
    owned = {t.lower() for t in owned_tables} | {sites_table.lower()}
    fields = {f.lower() for f in site_fields}
    out: list[Kept] = []
    with opened(path) as conn:
        contents = {str(r[0]).lower(): (str(r[0]), str(r[1])) for r in
                    conn.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall()} \
            if has_table(conn, "gpkg_contents") else {}
        objects = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master "
                               "WHERE type IN ('table', 'view', 'trigger') ORDER BY type, name").fetchall()
        owned_rtrees = {f"rtree_{t}_" for t in owned}
        for typ, name, tbl, sql in objects:
            low = str(name).lower()
            if typ == "table":
                if low in owned or low.startswith(_INTERNAL_PREFIXES):
                    continue
                n = conn.execute(f"SELECT count(*) FROM {_q(name)}").fetchone()[0]
                kind = "layer" if contents.get(low, ("", ""))[1] == "features" else "table"
                out.append(Kept(kind, str(name), f"{n} row{'s' if n != 1 else ''}"))
            elif typ == "view":
                out.append(Kept("view", str(name)))
            elif typ == "trigger":
                if low.startswith(("rtree_", "trigger_insert_feature_count_", "trigger_delete_feature_count_",
                                   "gpkg_", "fts_")) or any(low.startswith(p) for p in owned_rtrees):
                    continue
                if str(tbl).lower() in owned:
                    out.append(Kept("trigger", str(name), f"on {tbl}"))
        if has_table(conn, sites_table):
            geom = geometry_column(conn, sites_table)
            for col, typ, pk in table_columns(conn, sites_table):
                if pk or (geom and col == geom[0]) or col.lower() in fields:
                    continue
                out.append(Kept("field", f"{sites_table}.{col}", typ or "no type"))
        if has_table(conn, "gpkg_extensions"):
            for tbl, ext in conn.execute("SELECT table_name, extension_name FROM gpkg_extensions").fetchall():
                if ext == "gpkg_rtree_index":
                    continue  # spatial indexes go with their table
                if tbl is None or str(tbl).lower() not in owned:
                    out.append(Kept("extension", str(ext), f"on {tbl}" if tbl else "whole file"))
    return out


def drop_feature_table(conn: sqlite3.Connection, table: str) -> None:
    """Remove a table and its GeoPackage registrations (contents, geometry column, extensions, R-tree)."""
    geom = geometry_column(conn, table)
    for meta in ("gpkg_geometry_columns", "gpkg_contents", "gpkg_extensions", "gpkg_ogr_contents",
                 "gpkg_data_columns", "gpkg_metadata_reference"):
        if has_table(conn, meta):
            conn.execute(f"DELETE FROM {meta} WHERE lower(table_name) = lower(?)", (table,))
    if geom is not None:
        conn.execute(f"DROP TABLE IF EXISTS {_q(f'rtree_{table}_{geom[0]}')}")
    conn.execute(f"DROP TABLE IF EXISTS {_q(table)}")


def sync_sites(conn: sqlite3.Connection, table: str, new_schema: str,
               pairs: Mapping[int, int]) -> tuple[int, int, int]:
    """Make ``main.<table>`` hold the rows of ``<new_schema>.<table>`` without touching its other columns.

    ``pairs`` maps a row id of the new table to the row id in ``main`` it updates; rows of ``main``
    not paired are deleted, new rows not paired are appended (their extra columns empty). Columns
    the new table has and ``main`` lacks are added. Returns (updated, added, deleted).
    """
    main_geom = geometry_column(conn, table)
    new_geom = geometry_column(conn, table, new_schema)
    main_cols = table_columns(conn, table)
    new_cols = table_columns(conn, table, new_schema)
    main_pk = next((c for c, _, pk in main_cols if pk), "fid")
    new_pk = next((c for c, _, pk in new_cols if pk), "fid")
    have = {c.lower(): c for c, _, _ in main_cols}
    for col, typ, pk in new_cols:
        if pk or (new_geom and col == new_geom[0]) or col.lower() in have:
            continue
        conn.execute(f"ALTER TABLE {_q(table)} ADD COLUMN {_q(col)} {typ}")
        have[col.lower()] = col
    copy_cols = [(have[c.lower()], c) for c, _, pk in new_cols if not pk and not (new_geom and c == new_geom[0])]
    if main_geom and new_geom:
        copy_cols.append((main_geom[0], new_geom[0]))
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS _pairs (main_fid INTEGER PRIMARY KEY, new_fid INTEGER UNIQUE)")
    conn.execute("DELETE FROM _pairs")
    conn.executemany("INSERT INTO _pairs (main_fid, new_fid) VALUES (?, ?)",
                     ((m, n) for n, m in pairs.items()))
    t, nt = _q(table), f"{new_schema}.{_q(table)}"
    deleted = conn.execute(f"DELETE FROM {t} WHERE {_q(main_pk)} NOT IN (SELECT main_fid FROM _pairs)").rowcount
    targets = ", ".join(_q(m) for m, _ in copy_cols)
    sources = ", ".join(f"n.{_q(s)}" for _, s in copy_cols)
    updated = conn.execute(
        f"UPDATE {t} SET ({targets}) = (SELECT {sources} FROM {nt} AS n WHERE n.{_q(new_pk)} = "
        f"(SELECT new_fid FROM _pairs WHERE main_fid = {t}.{_q(main_pk)})) "
        f"WHERE {_q(main_pk)} IN (SELECT main_fid FROM _pairs)").rowcount
    added = conn.execute(
        f"INSERT INTO {t} ({targets}) SELECT {sources} FROM {nt} AS n "
        f"WHERE n.{_q(new_pk)} NOT IN (SELECT new_fid FROM _pairs) ORDER BY n.{_q(new_pk)}").rowcount
    if has_table(conn, "gpkg_contents"):
        ext = conn.execute(f"SELECT min_x, min_y, max_x, max_y FROM {new_schema}.gpkg_contents "
                           "WHERE lower(table_name) = lower(?)", (table,)).fetchone()
        conn.execute("UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ?, "
                     "last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE lower(table_name) = lower(?)",
                     (*(ext or (None,) * 4), table))
    if has_table(conn, "gpkg_ogr_contents"):
        conn.execute(f"UPDATE gpkg_ogr_contents SET feature_count = (SELECT count(*) FROM {t}) "
                     "WHERE lower(table_name) = lower(?)", (table,))
    conn.execute("DROP TABLE _pairs")
    return updated, added, deleted


def id_rows(conn: sqlite3.Connection, table: str, id_column: str, schema: str = "main") -> list[tuple[int, Any]]:
    """(row id, value of ``id_column``) in row-id order."""
    pk = next((c for c, _, p in table_columns(conn, table, schema) if p), "fid")
    cols = {c.lower(): c for c, _, _ in table_columns(conn, table, schema)}
    col = cols.get(id_column.lower())
    if col is None:
        return [(int(r[0]), None) for r in conn.execute(f"SELECT {_q(pk)} FROM {schema}.{_q(table)} ORDER BY 1")]
    return [(int(r[0]), r[1]) for r in
            conn.execute(f"SELECT {_q(pk)}, {_q(col)} FROM {schema}.{_q(table)} ORDER BY 1")]


def set_readable_version(conn: sqlite3.Connection) -> bool:
    """Mark a GeoPackage newer than 1.3 as 1.2 when it uses nothing newer (no ``gpkg_crs_wkt_1_1``)
    so GDAL 3.6 / QGIS LTR open it without warnings. Returns whether the number was changed."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if app_id != 0x47504B47 or version <= _NEWEST_UNDERSTOOD:
        return False
    if has_table(conn, "gpkg_extensions") and conn.execute(
            "SELECT 1 FROM gpkg_extensions WHERE extension_name = 'gpkg_crs_wkt_1_1'").fetchone():
        return False
    conn.execute(f"PRAGMA user_version = {GPKG_USER_VERSION}")
    return True
