"""Data export: every site with its attributes, computed fields, readiness and economics, as CSV/GeoJSON/GPKG.

Pure geopandas/pyogrio (no Qt). Unknown values stay empty (CSV) or null (GeoJSON, GPKG),
never 0. Files are written to a temporary name in the target folder and moved into place,
so a failed export never leaves half a file.
"""
from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyogrio
import shapely

from planner.fileio import atomic_path
from planner.model.assumptions import assumptions_from_settings
from planner.model.economics import site_paths
from planner.gis.paths import safe_name
from planner.model.fields import FIELD_LIST
from planner.model.readiness import CRITERIA, score_site
from planner.reports.content import ReportError

FORMATS: dict[str, tuple[str, str]] = {  # name -> (suffix, GDAL driver)
    "csv": (".csv", "CSV"),
    "geojson": (".geojson", "GeoJSON"),
    "gpkg": (".gpkg", "GPKG"),
}
GPKG_LAYER = "sites_scored"
_DATE_COLUMNS = tuple(f.name for f in FIELD_LIST if f.kind == "date")
PATHS = ("mining", "ai_lease", "hybrid")

# Columns added after the site fields, with their meaning (also the data dictionary of the export).
SCORE_COLUMNS: dict[str, str] = {
    "readiness_total": "Readiness total, 0-100: expected, unknown facts at their stated prior",
    "readiness_total_low": "Readiness total with every unknown fact at its worst, 0-100",
    "readiness_total_high": "Readiness total with every unknown fact at its best, 0-100",
    "readiness_class": "ready_now | convertible_with_upgrades | mining_only | insufficient_data",
    "readiness_class_label": "Readiness class for people",
    "completeness_pct": "Share of scoring weight with known data, %",
    "gates_failed": "Hard gates failed, '; '-separated",
    "upgrade_capex_usd": "Upgrade capex, USD (lower bound when data is incomplete)",
    "time_to_power_months": "Months until AI/HPC load can be powered",
    "upgrades": "Upgrades needed, '; '-separated",
    "weights_profile": "Weights profile used",
}
ECONOMICS_COLUMNS: dict[str, str] = {
    "best_path": "Path with the highest NPV (mining | ai_lease | hybrid | sell | bridge = mine N years, then convert)",
    **{f"npv_{p}_usd": f"NPV of the {p} path, USD" for p in PATHS},
    **{f"npv_{p}_excl_terminal_usd": f"NPV of the {p} path without its terminal value, USD" for p in PATHS},
    "npv_sell_usd": "Value of selling the site (energized MW x sale price per MW), USD",
    **{f"irr_{p}": f"IRR of the {p} path, fraction (empty: none)" for p in PATHS},
    **{f"capex_{p}_usd": f"Year-0 capex of the {p} path, USD" for p in PATHS},
    "economics_note": "Why economics are missing, when they are",
}


def check_format(fmt: str | None, out: str | os.PathLike[str]) -> str:
    """The export format from ``fmt`` or the file suffix; raises :class:`ReportError` when unclear."""
    if fmt:
        f = str(fmt).lower().lstrip(".")
        if f not in FORMATS:
            raise ReportError(f"export format {fmt!r} is not supported; use one of {', '.join(FORMATS)}")
        return f
    suffix = Path(out).suffix.lower()
    for name, (suf, _) in FORMATS.items():
        if suffix == suf or (name == "geojson" and suffix == ".json"):
            return name
    raise ReportError(f"{out}: cannot tell the export format from the suffix {suffix or '(none)'!r}; "
                      f"use --format {{{','.join(FORMATS)}}} or end the name in .csv, .geojson or .gpkg")


def _column(name: str, kind: str, values: list[Any]) -> pd.Series:
    if kind == "bool":
        return pd.Series(values, dtype="boolean", name=name)
    if kind == "int":
        return pd.Series(values, dtype="Int64", name=name)
    if kind == "float":
        return pd.Series([float("nan") if v is None else float(v) for v in values], dtype="float64", name=name)
    return pd.Series(values, dtype="object", name=name)


def sites_table(project: Any, *, economics: bool = True, as_of: _dt.date | None = None,
                progress: Callable[[float], None] | None = None) -> gpd.GeoDataFrame:
    """One row per site: every field, computed fields, readiness figures and (``economics``) path NPVs.

    Returns an EPSG:4326 GeoDataFrame (point geometry; empty geometry when the location is unknown).
    """
    portfolio = project.portfolio
    sites = list(portfolio)
    settings = portfolio.settings or {}
    assumptions = assumptions_from_settings(settings) if economics else None
    cols: dict[str, list[Any]] = {f.name: [] for f in FIELD_LIST}
    extra: dict[str, list[Any]] = {k: [] for k in SCORE_COLUMNS}
    crit_cols = {c.key: f"score_{c.key}" for c in CRITERIA}
    extra.update({v: [] for v in crit_cols.values()})
    if economics:
        extra.update({k: [] for k in ECONOMICS_COLUMNS})
    for i, site in enumerate(sites):
        for f in FIELD_LIST:
            cols[f.name].append(site.get(f.name))
        r = score_site(site, settings, as_of=as_of)
        extra["readiness_total"].append(round(r.total, 2))
        extra["readiness_total_low"].append(round(r.total_low, 2))
        extra["readiness_total_high"].append(round(r.total_high, 2))
        extra["readiness_class"].append(r.klass)
        extra["readiness_class_label"].append(r.class_label)
        extra["completeness_pct"].append(round(r.completeness_pct, 1))
        extra["gates_failed"].append("; ".join(r.gates_failed) or None)
        extra["upgrade_capex_usd"].append(r.capex_total_usd)
        extra["time_to_power_months"].append(r.time_to_power_months)
        extra["upgrades"].append("; ".join(u.label for u in r.upgrades) or None)
        extra["weights_profile"].append(r.weights_profile)
        scores = {c.key: c.score for c in r.criteria}
        for key, col in crit_cols.items():
            extra[col].append(scores.get(key))
        if economics:
            comp = site_paths(site, assumptions)  # type: ignore[arg-type]
            extra["best_path"].append(comp.best_path)
            extra["economics_note"].append(comp.unavailable_reason or (
                "energized MW unknown: mining and sale values left empty (enter energized MW)"
                if comp.energized_mw is None else None))
            sold = comp.sell is not None and comp.sell.unavailable_reason is None  # unknown is empty, never 0
            extra["npv_sell_usd"].append(comp.sell.npv_usd if sold and comp.sell is not None else None)
            for p in PATHS:
                res = getattr(comp, p)
                ok = res is not None and res.unavailable_reason is None
                extra[f"npv_{p}_usd"].append(res.npv_usd if ok else None)
                extra[f"npv_{p}_excl_terminal_usd"].append(res.npv_excl_terminal_usd if ok else None)
                extra[f"irr_{p}"].append(res.irr if ok else None)
                extra[f"capex_{p}_usd"].append(res.capex_usd if ok else None)
        if progress:
            progress((i + 1) / max(1, len(sites)))
    series = [_column(f.name, f.kind if f.kind in ("bool", "int", "float") else "str", cols[f.name])
              for f in FIELD_LIST]
    text_cols = {"readiness_class", "readiness_class_label", "gates_failed", "upgrades", "weights_profile",
                 "best_path", "economics_note"}
    series += [_column(k, "str" if k in text_cols else "float", v) for k, v in extra.items()]
    frame = pd.concat(series, axis=1)
    geometry = [shapely.Point(s.lon, s.lat) if s.has_location else None for s in sites]
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that a spreadsheet would run as a formula get a leading apostrophe.

    A site name or source such as ``=HYPERLINK("http://...")`` from an imported file would
    otherwise execute when the CSV is opened in Excel or LibreOffice (OWASP "CSV injection").
    Numbers are untouched; GeoJSON and GeoPackage keep the literal value.
    """
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(lambda v: "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v)
    return out


def export_sites(project: Any, out: str | os.PathLike[str], fmt: str | None = None, *, economics: bool = True,
                 progress: Callable[[float], None] | None = None) -> Path:
    """Write the sites table (:func:`sites_table`) to ``out`` as csv, geojson or gpkg; returns the path."""
    fmt = check_format(fmt, out)
    out_path = Path(out)
    if not out_path.parent.resolve().is_dir():
        raise ReportError(f"{out_path}: folder does not exist; create it or choose another output path")
    if out_path.is_dir():
        raise ReportError(f"{out_path} is a folder; give a file name ending in {FORMATS[fmt][0]}")
    if not len(project.portfolio):
        raise ReportError("the project has no sites to export; add or import sites first")
    table = sites_table(project, economics=economics,
                        progress=None if progress is None else (lambda f: progress(0.9 * f)))
    suffix, driver = FORMATS[fmt]
    try:
        with atomic_path(out_path, suffix) as part:
            if fmt == "csv":
                csv_safe(table.drop(columns="geometry")).to_csv(part, index=False, encoding="utf-8")
            elif fmt == "geojson":
                # RFC 7946: WGS84 lon/lat, no "crs" member; the collection is named after the file, not the temp
                pyogrio.write_dataframe(table, str(part), driver=driver, layer=safe_name(out_path.stem),
                                        RFC7946="YES", WRITE_NAME="YES")
            else:
                for name in _DATE_COLUMNS:  # GeoPackage DATE columns, not text
                    table[name] = pd.Series(pd.to_datetime(table[name], errors="coerce").dt.date,
                                            index=table.index).astype(pd.ArrowDtype(pa.date32()))
                pyogrio.write_dataframe(table, str(part), driver=driver, layer=GPKG_LAYER, use_arrow=True,
                                        dataset_options={"VERSION": "1.2"})
    except OSError as e:
        raise ReportError(f"{out_path}: cannot write ({e.strerror or e}); check the folder is writable") from None
    if progress:
        progress(1.0)
    return out_path
