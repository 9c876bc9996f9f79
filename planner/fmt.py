"""Units and formatters: how every number reaches a person (tables, captions, reports, charts).

One place for the strings the app shows, so a dollar figure reads the same in a chart, a report
and the CLI. Pure Python, no planner imports (every layer may use it). ``None`` and non-finite
values read "unknown" (never 0).
"""
from __future__ import annotations

import math
import numbers
from typing import Any

UNKNOWN = "unknown"
HOURS_PER_YEAR = 8760
KW_PER_MW = 1000.0
MONTHS_PER_YEAR = 12


def finite(x: Any) -> float | None:
    """``x`` as a finite float, or None (None, bools, text, NaN and infinities)."""
    if x is None or isinstance(x, bool):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def real_number(x: Any) -> float | None:
    """``x`` as a float when it is a finite real number (int, float, numpy number), else None.

    Stricter than :func:`finite`: text (``"3"``) and bools are not numbers here, so settings
    and bridge inputs must hold real numbers.
    """
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        return None
    v = float(x)
    return v if math.isfinite(v) else None


def usd_per_kw_month_to_musd_per_mw_year(usd_per_kw_month: float) -> float:
    """A lease rate in $/kW-month as $M per MW-year (x 12 months x 1,000 kW / 1e6)."""
    return usd_per_kw_month * MONTHS_PER_YEAR * KW_PER_MW / 1e6


def fmt_number(x: Any, unit: str = "") -> str:
    """A number with thousands separators and sensible digits, plus its unit; None -> "unknown".

    >= 100: no decimals (``1,234 MW``); 1-100: one decimal, ``.0`` dropped (``9.1 km``, ``345 kV``);
    below 1: two significant digits (``0.0044 bcm/yr``).
    """
    v = finite(x)
    if v is None:
        return UNKNOWN
    a = abs(v)
    if a >= 100:
        text = f"{v:,.0f}"
    elif a >= 1:
        text = f"{v:,.1f}".removesuffix(".0")
    elif a == 0:
        text = "0"
    else:
        text = f"{v:.2g}"
    return f"{text} {unit}".rstrip() if unit else text


def fmt_usd(x: Any) -> str:
    """Dollars in the largest sensible unit: ``$1.23B``, ``$12.3M``, ``$450k``, ``$950``; None -> "unknown"."""
    v = finite(x)
    if v is None:
        return UNKNOWN
    sign, a = ("-" if v < 0 else ""), abs(v)
    if a >= 1e9:
        body = f"{a / 1e9:,.2f}B"
    elif a >= 1e6:
        body = f"{a / 1e6:,.1f}M"
    elif a >= 1e3:
        body = f"{a / 1e3:,.0f}k"
    else:
        body = f"{a:,.0f}"
    return f"{sign}${body}"


def fmt_mw(x: Any) -> str:
    """Megawatts, e.g. ``700 MW``."""
    return fmt_number(x, "MW")


def fmt_km(x: Any) -> str:
    """Kilometres, e.g. ``9.1 km``."""
    return fmt_number(x, "km")


def fmt_kv(x: Any) -> str:
    """Kilovolts, e.g. ``345 kV``."""
    return fmt_number(x, "kV")


def fmt_pct(x: Any, digits: int = 0) -> str:
    """A percentage of 0-100 values (``85 %``); None -> "unknown"."""
    v = finite(x)
    return UNKNOWN if v is None else f"{v:,.{digits}f} %"


def fmt_fraction_pct(x: Any, digits: int = 1) -> str:
    """A fraction shown as a percentage (0.057 -> ``5.7 %``); None -> "unknown"."""
    v = finite(x)
    return UNKNOWN if v is None else f"{v * 100:,.{digits}f} %"


def fmt_months(x: Any) -> str:
    """Months, rounded (``18 months``, ``0 months``); None -> "unknown"."""
    v = finite(x)
    if v is None:
        return UNKNOWN
    n = round(v)
    return f"{n:,} month" + ("" if n == 1 else "s")


def fmt_score(x: Any) -> str:
    """A 0-100 score as a whole number; None -> "unknown"."""
    v = finite(x)
    return UNKNOWN if v is None else f"{v:.0f}"


def fmt_choice(x: Any) -> str:
    """An enum value for people (``announced_conversion`` -> ``announced conversion``)."""
    return UNKNOWN if x is None else str(x).replace("_", " ")


def fmt_usd_m(usd: float | None) -> str:
    """Dollars as $M with a sign, e.g. ``-$531M``, ``$12.3M``, ``$1.25M``, ``$0M``; None -> ``n/a``."""
    v = finite(usd)
    if v is None:
        return "n/a"
    m = v / 1e6
    if m == 0:
        return "$0M"  # not "$0.00M": nothing is spent or earned
    sign = "-" if m < 0 else ""
    m = abs(m)
    if m >= 100:
        return f"{sign}${m:,.0f}M"
    if m >= 10:
        return f"{sign}${m:,.1f}M"
    return f"{sign}${m:,.2f}M"


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def _plain(v: float, max_digits: int = 2) -> str:
    """A number with separators and up to ``max_digits`` decimals, trailing zeros dropped (2.5, 30, 1,234)."""
    return _trim(f"{v:,.{max_digits}f}") if v != 0 else "0"


#: Dimensionless inputs at least this large read with the tera prefix (network difficulty 152e12 -> 152.0 T).
TERA = 1e12


def quantity_parts(x: Any, unit: str) -> tuple[str, str]:
    """A value in its model unit as (number text, unit people read); the one rule for every table.

    - rates ``1/yr`` as ``%/yr`` (0.025 -> ``2.5``, ``%/yr``); shares ``fraction`` (and ``fraction of ...``)
      as ``%`` (0.6 -> ``60``, ``%``);
    - money per something ``$/X`` of a million or more in $M (1.5e6 ``$/MW IT`` -> ``1.50``, ``$M/MW IT``),
      else whole dollars below 1,000 keep their cents-level digits (``153.3``, ``$/kW-month``);
    - dimensionless values of 1e12 or more in T (152e12 -> ``152.0``, ``T``); ``ratio`` drops its unit;
    - anything else :func:`fmt_number`'s digits with separators. None/NaN -> ("unknown", "").
    """
    v = finite(x)
    if v is None:
        return UNKNOWN, ""
    if unit == "1/yr":
        return _plain(v * 100), "%/yr"
    if unit == "fraction" or unit.startswith("fraction "):
        return _plain(v * 100), "%" + unit[len("fraction"):]
    if unit.startswith("$/"):
        if abs(v) >= 1e6:
            return f"{v / 1e6:,.2f}", "$M/" + unit[2:]
        return (f"{v:,.0f}" if abs(v) >= 1000 else _plain(v)), unit
    if unit == "" and abs(v) >= TERA:
        return f"{v / TERA:,.1f}", "T"
    if unit == "ratio":
        return _plain(v, 3), ""
    if unit.startswith("x"):
        return _plain(v), unit
    if float(v).is_integer() and abs(v) >= 1000:
        return f"{v:,.0f}", unit
    return (_plain(v, 3) if abs(v) < 1 else fmt_number(v)), unit


def fmt_quantity(x: Any, unit: str) -> str:
    """:func:`quantity_parts` as one string for lines of text (CLI, captions, notes).

    ``2.5 %/yr``, ``60 %``, ``$1.50M/MW IT``, ``$90,000/BTC``, ``$45/MWh``, ``152.0 T``, ``10x final-year NOI``,
    ``12 yr``; None -> "unknown".
    """
    text, shown = quantity_parts(x, unit)
    if text == UNKNOWN:
        return text
    if shown.startswith("$M/"):
        return f"${text}M/{shown[3:]}"
    if shown.startswith("$/"):
        return f"${text}/{shown[2:]}"
    if shown.startswith("x"):
        return f"{text}{shown}"
    return f"{text} {shown}".rstrip()
