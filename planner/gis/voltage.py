"""Transmission voltage from the many ways public layers write it, as ``voltage_kv`` (max circuit, kV).

OSM/GridKit writes volts joined per circuit ("345000;138000"), HIFLD writes kV
(``VOLTAGE`` = 345, -999999 for unknown) and classes (``VOLT_CLASS`` = "220-287"),
others write "345 kV". The rule: split on circuit/range separators, take the
largest number, read values above 2000 as volts.
"""
from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from planner.lazy import lazy_module

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd
else:  # imported on first use: the window shows before these load (planner.lazy)
    gpd = lazy_module("geopandas", globals(), "gpd")
    pd = lazy_module("pandas", globals(), "pd")

# Columns tried in order; the first that yields a value for a row wins for that row.
VOLTAGE_COLUMNS: tuple[str, ...] = ("voltage_kv", "max_kv", "voltage", "kv", "volt_class", "voltage_v", "volts")

VOLTS_THRESHOLD = 2000.0  # no AC line exceeds 1,200 kV; a bigger number must be volts
MAX_KV = 1200.0

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_SEPARATORS = re.compile(r"[;|/,]|(?<=\d)\s*-\s*(?=\d)|\bto\b")


def parse_voltage_kv(raw: Any) -> float | None:
    """Max circuit voltage in kV from one raw value, or None when unknown.

    >>> parse_voltage_kv("345000;138000"), parse_voltage_kv("220-287"), parse_voltage_kv("345 kV")
    (345.0, 287.0, 345.0)
    """
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)) or (hasattr(raw, "item") and not isinstance(raw, str)):
        try:
            value = float(raw)
        except (TypeError, ValueError):
            return None
        return _scale(value)
    text = str(raw).strip().lower()
    if not text or text in {"nan", "none", "null", "not available", "unknown", "dc"}:
        return None
    if text.startswith(("under", "below", "<")):
        return None  # "UNDER 100": a bound, not a voltage
    best: float | None = None
    for part in _SEPARATORS.split(text):
        m = _NUMBER.search(part)
        if not m:
            continue
        number = float(m.group(0).replace(",", "."))
        unit_volts = re.search(r"\d\s*v\b", part) is not None and "kv" not in part
        kv = _scale(number / 1000.0 if unit_volts else number)
        if kv is not None and (best is None or kv > best):
            best = kv
    return best


def _scale(value: float) -> float | None:
    if math.isnan(value) or math.isinf(value) or value <= 0:
        return None  # HIFLD uses -999999 for unknown
    kv = value / 1000.0 if value > VOLTS_THRESHOLD else value
    return kv if kv <= MAX_KV else None


def normalise_voltage_kv(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Copy of ``gdf`` with a float ``voltage_kv`` column (max circuit kV, NaN when unknown).

    Columns are matched case-insensitively in :data:`VOLTAGE_COLUMNS` order; a row
    with no usable value in one column falls back to the next.
    """
    out = gdf.copy()
    lower = {str(c).lower(): c for c in out.columns if c != out.geometry.name}
    result = pd.Series(math.nan, index=out.index, dtype="float64")
    for name in VOLTAGE_COLUMNS:
        col = lower.get(name)
        if col is None:
            continue
        parsed = out[col].map(parse_voltage_kv).astype("float64")
        result = result.fillna(parsed)
    if "voltage_kv" in lower and lower["voltage_kv"] != "voltage_kv":
        out = out.drop(columns=[lower["voltage_kv"]])
    out["voltage_kv"] = result
    return out
