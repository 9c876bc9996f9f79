"""Editable economic assumptions: every figure has a unit, a default, a valid range and a source.

Nothing in the economics, hybrid or scenario code is a hidden constant: each input lives in
:data:`ASSUMPTIONS` and reaches the formulas through an :class:`Assumptions` object built by
:func:`assumptions_from_settings` (defaults < scenario overrides < user overrides).

Date basis
----------
Market inputs (BTC price, difficulty) are *manual* inputs, set from public data of late
November 2025 (``market_data_date``). They are not fetched: update them in the assumptions
panel (or ``settings["assumptions"]``) before relying on absolute numbers. Everything else
is sourced from docs/DOMAIN.md (public deals and reports, 2024-2025) or labelled an assumption.
"""
from __future__ import annotations

import datetime as _dt
import math
import statistics
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from planner.model.market import LEASE_DEALS
from planner.model.site import PlannerError

Kind = Literal["float", "int", "bool", "str", "datetime"]


class AssumptionError(PlannerError, ValueError):
    """An assumption value, scenario or ASIC catalogue entry that breaks its rule."""


@dataclass(frozen=True)
class AssumptionSpec:
    """One editable assumption: key, label, unit, default, valid range, source note, group."""

    key: str
    label: str
    unit: str
    default: Any
    minimum: float | None
    maximum: float | None
    source: str
    group: str
    kind: Kind = "float"
    choices: tuple[str, ...] = ()

    @property
    def label_with_unit(self) -> str:
        """Label followed by the unit in brackets (when there is one)."""
        return f"{self.label} ({self.unit})" if self.unit else self.label


@dataclass(frozen=True)
class AsicSpec:
    """One ASIC model of the editable catalogue; efficiency is derived, not typed."""

    model: str
    th_s: float
    watts: float
    source: str = ""

    @property
    def j_per_th(self) -> float:
        """Efficiency in joules per terahash (W / TH/s)."""
        return self.watts / self.th_s


_BITMAIN = "Manufacturer spec sheet (nameplate TH/s and W), as tabled in docs/DOMAIN.md section 3"
ASIC_CATALOGUE: dict[str, AsicSpec] = {
    # DOMAIN.md tables 29.5 J/TH for the S19j Pro, but 3050 W / 100 TH/s is 30.5 J/TH: we derive
    # J/TH from TH/s and W so the catalogue can never disagree with itself.
    "Antminer S19j Pro": AsicSpec("Antminer S19j Pro", 100.0, 3050.0, _BITMAIN),
    "Antminer S19 XP": AsicSpec("Antminer S19 XP", 140.0, 3010.0, _BITMAIN),
    "Antminer S21": AsicSpec("Antminer S21", 200.0, 3500.0, _BITMAIN),
    "Antminer S21 Pro": AsicSpec("Antminer S21 Pro", 234.0, 3510.0, _BITMAIN),
    "Antminer S21 XP": AsicSpec("Antminer S21 XP", 270.0, 3645.0, _BITMAIN),
    "Whatsminer M60S": AsicSpec("Whatsminer M60S", 186.0, 3420.0,
                                "MicroBT spec sheet, as tabled in docs/DOMAIN.md section 3"),
}

_DOM3 = "docs/DOMAIN.md section 3"
_DOM4 = "docs/DOMAIN.md section 4"
_DOM5 = "docs/DOMAIN.md section 5"
_A = "Assumption (editable)"


#: Base-case growth rates (see the source notes of the two assumptions).
DIFFICULTY_GROWTH_BASE = 0.30
BTC_PRICE_GROWTH_BASE = 0.0
#: Hashprice decline per year implied by the base growth rates, before halvings (~23 %).
HASHPRICE_DECLINE_BASE = 1.0 - (1.0 + BTC_PRICE_GROWTH_BASE) / (1.0 + DIFFICULTY_GROWTH_BASE)
#: Median of the public miner-AI lease deals (planner.model.market.LEASE_DEALS), $M per MW-yr of IT.
LEASE_MEDIAN_USD_M_PER_MW_YEAR = statistics.median(d.usd_m_per_mw_year for d in LEASE_DEALS)
#: The same median in $/kW-month (~153): the default lease rate.
LEASE_RATE_MEDIAN_USD_PER_KW_MONTH = statistics.median(d.usd_per_kw_month for d in LEASE_DEALS)
_DEALS_TEXT = "; ".join(
    f"{d.landlord}-{d.tenant} ~${d.usd_m_per_mw_year:.2f}M (~${d.usd_per_kw_month:.0f}/kW-month)" for d in LEASE_DEALS)
_LEASE_LOW = min(LEASE_DEALS, key=lambda d: d.usd_m_per_mw_year)
_LEASE_HIGH = max(LEASE_DEALS, key=lambda d: d.usd_m_per_mw_year)


def _s(key: str, label: str, unit: str, default: Any, lo: float | None, hi: float | None,
       source: str, group: str, kind: Kind = "float", choices: tuple[str, ...] = ()) -> AssumptionSpec:
    return AssumptionSpec(key, label, unit, default, lo, hi, source, group, kind, choices)


_SPECS: list[AssumptionSpec] = [
    # -- market (manual inputs with the date they were set) ------------------------------------
    _s("market_data_date", "Market data set on", "date", "2025-11-30", None, None,
       "Date the BTC price and difficulty below were entered; the cash-flow model starts here",
       "market", "datetime"),
    _s("btc_price_usd", "BTC price", "$/BTC", 90_000.0, 1_000.0, 1_000_000.0,
       "Manual input: BTC traded about $85-95k in late Nov 2025 (public exchange quotes). Update it",
       "market"),
    _s("difficulty", "Network difficulty", "", 152e12, 1e12, 2e15,
       "Manual input: ~152 T after the late-Nov 2025 adjustment (public block explorers). "
       "Implied hashrate = difficulty * 2^32 / 600 (~1,090 EH/s)", "market"),
    _s("fee_share", "Transaction fees share of block reward", "fraction", 0.01, 0.0, 0.5,
       "Fees were ~1 % of miner revenue through 2025 (public block data); assumption", "market"),
    _s("reference_block_height", "Reference block height", "block", 840_000, 0, 10_000_000,
       "The 2024 halving block, " + _DOM3, "market", "int"),
    _s("reference_block_time", "Reference block time", "UTC", "2024-04-20T00:09:27+00:00", None, None,
       "Timestamp of block 840,000 (2024-04-20 00:09:27 UTC), " + _DOM3, "market", "datetime"),
    _s("mean_block_interval_min", "Mean block interval", "min", 10.0, 8.0, 12.0,
       "Protocol target 10 min; observed 2024-2025 average slightly below (~9.8) as hashrate grew",
       "market"),
    _s("difficulty_growth_per_year", "Difficulty growth", "1/yr", DIFFICULTY_GROWTH_BASE, -0.5, 2.0,
       "Assumption: difficulty rose ~40 % Jan-Nov 2025 and ~100 % in 2023-2024; 30 %/yr is a "
       f"middle path. With the base BTC price growth ({BTC_PRICE_GROWTH_BASE:.0%}/yr) hashprice then "
       f"falls ~{HASHPRICE_DECLINE_BASE:.0%}/yr (= 1 - (1 + g_price) / (1 + g_difficulty)) before the "
       "halving (April 2028, -50 % of the subsidy): a conservative, mining-bearish base case", "market"),
    _s("btc_price_growth_per_year", "BTC price growth", "1/yr", BTC_PRICE_GROWTH_BASE, -0.5, 1.5,
       "Assumption: flat price as the conservative base case, so all hashprice change comes from "
       f"difficulty growth (hashprice ~-{HASHPRICE_DECLINE_BASE:.0%}/yr); bull: +20 %/yr, bear: -5 %/yr",
       "market"),
    # -- mining fleet and site -----------------------------------------------------------------
    _s("asic_model", "Default ASIC model", "", "Antminer S21 XP", None, None,
       "Default fleet for sites without asic_model (catalogue, " + _DOM3 + ")", "mining", "str"),
    _s("asic_price_usd_per_th", "ASIC price", "$/TH", 25.70, 1.0, 200.0,
       "Antminer S21 XP about $25.70/TH (Nov 2025), " + _DOM3, "mining"),
    _s("mining_capex_usd_per_mw", "Mining infrastructure capex (excl. ASICs)", "$/MW", 400_000.0,
       100_000.0, 1_500_000.0, "Mining build about $0.3-0.5M per MW, " + _DOM4 +
       "; charged only on MW not yet energized", "mining"),
    _s("fleet_refresh_years", "Fleet refresh interval", "yr", 4, 1, 10,
       _A + ": ASICs are replaced every 3-5 years as efficiency improves", "mining", "int"),
    _s("existing_fleet_age_years", "Age of the installed fleet", "yr", 2, 0, 10,
       _A + ": energized MW already hold a fleet bought this many years ago (sunk for every path: "
       "only MW not yet energized need fleet and infrastructure capex in year 0). Its first refresh "
       "falls when it reaches the refresh interval (year max(0, refresh - age)). ~2 yr is typical of "
       "fleets bought in the 2023-2024 upgrade cycle", "mining", "int"),
    _s("asic_resale_usd_per_th", "Used ASIC resale price", "$/TH", 3.0, 0.0, 50.0,
       _A + ": secondary-market price of used machines, a few $/TH for previous-generation "
       "fleets; received for existing machines a path does not use (AI lease, hybrid surplus), when "
       "the bridge path converts and when a fleet retires. 0 ignores resale", "mining"),
    _s("mining_exit_multiple", "Mining exit multiple", "x final-year mining cash", 0.0, 0.0, 10.0,
       _A + ": terminal value of the mining business at the horizon as a multiple of its last "
       "year's operating cash; 0 by default (the fleet is obsolete and the power contract ends). "
       "Public miners traded ~6-12x EV/EBITDA (VanEck, Aug 2024), " + _DOM4, "finance"),
    _s("pue_mining", "Mining site PUE", "ratio", 1.05, 1.02, 1.10,
       "Mining site overhead 1.02-1.10, " + _DOM3, "mining"),
    _s("uptime", "Fleet uptime", "fraction", 0.95, 0.5, 1.0,
       _A + ": share of running hours the fleet is actually hashing", "mining"),
    _s("pool_fee", "Pool fee (FPPS)", "fraction", 0.02, 0.0, 0.04, "FPPS 0-4 %, default 2 %, " + _DOM3,
       "mining"),
    _s("power_price_usd_per_mwh", "Default all-in power price", "$/MWh", 45.0, 0.0, 300.0,
       "US miners $30-45/MWh net for the best operators, $70-80 for many, " + _DOM3 +
       "; used when a site has no power price", "power"),
    _s("power_contract", "Power contract type", "", "index", None, None,
       "index: pay the hourly price, curtail above breakeven; fixed: pay the site price for every "
       "hour and resell curtailed MWh at the hourly price (Riot-style), " + _DOM3, "power", "str",
       ("index", "fixed")),
    _s("price_series_seed", "Synthetic price series seed", "", 0, 0, 2**31 - 1,
       "Seed of the documented synthetic ERCOT-West-like hourly price shape (planner.model.hybrid)",
       "power", "int"),
    _s("dr_pay_usd_per_mw_h", "Demand response availability pay", "$/MW-h", 8.0, 0.0, 100.0,
       _A + ": ERCOT ancillary/ERS availability has cleared around $5-20/MW-h (2024)", "power"),
    _s("dr_committed_mw", "Demand response committed load", "MW", 0.0, 0.0, 5_000.0,
       _A + ": 0 = not enrolled; capped at the site's mining MW", "power"),
    _s("dr_event_hours_per_year", "Demand response event hours", "h/yr", 20, 0, 500,
       _A + ": hours a year the committed load is called off (modelled as the highest-price hours)",
       "power", "int"),
    _s("fourcp_tariff_usd_per_mw_year", "ERCOT 4CP transmission charge", "$/MW-yr", 60_000.0, 0.0, 200_000.0,
       _A + ": ERCOT TDSP transmission charges of roughly $4-6/kW-month of 4CP demand (2024 tariffs); "
       "applies to Texas sites, " + _DOM3, "power"),
    _s("fourcp_alert_hours_per_month", "4CP alert hours curtailed per summer month", "h", 6, 1, 60,
       _A + ": flexible load is dropped in this many likely-peak hours of each of Jun-Sep", "power", "int"),
    # -- AI / HPC lease ------------------------------------------------------------------------
    _s("critical_it_ratio", "Critical IT share of gross MW", "fraction", 0.70, 0.67, 0.80,
       "0.67-0.80 in public deals, default 0.70, " + _DOM4, "ai"),
    _s("lease_rate_usd_per_kw_month", "Lease rate", "$/kW-month", LEASE_RATE_MEDIAN_USD_PER_KW_MONTH,
       50.0, 300.0,
       f"Median of the six public miner-AI leases ({LEASE_MEDIAN_USD_M_PER_MW_YEAR:.2f} $M per MW-yr of "
       f"critical IT = ~{LEASE_RATE_MEDIAN_USD_PER_KW_MONTH:.0f} $/kW-month): {_DEALS_TEXT}. CBRE "
       "colocation asking rate $184/kW-month (H2 2024), " + _DOM4, "ai"),
    _s("noi_margin", "Lease NOI margin", "fraction", 0.85, 0.80, 0.90,
       "NOI margins of 80-90 % reported for these leases (power passed through to the tenant), "
       + _DOM4, "ai"),
    _s("conversion_capex_usd_per_mw_it", "Conversion capex", "$/MW IT", 10_500_000.0, 8_000_000.0,
       15_000_000.0, "About $8-13M per MW of critical IT (TeraWulf 8-10, Cipher 9-11, Galaxy 11-13, "
       "some ~15), " + _DOM4, "ai"),
    _s("build_months", "Build time to first capacity", "months", 18, 12, 24,
       "12-24 months on converted mining sites vs 4+ years greenfield, " + _DOM4, "ai", "int"),
    _s("pue_ai", "AI facility PUE", "ratio", 1.2, 1.05, 1.8,
       "New AI designs ~1.2; industry average ~1.56 (Uptime 2024), " + _DOM4, "ai"),
    # -- finance ---------------------------------------------------------------------------------
    _s("discount_rate", "Discount rate", "1/yr", 0.10, 0.0, 0.40, _A + ": cost of capital", "finance"),
    _s("horizon_years", "Horizon", "yr", 15, 2, 25, _A + ": matches the 10-15 year terms of public miner-AI leases",
       "finance", "int"),
    _s("ai_exit_multiple_noi", "AI exit multiple", "x final-year NOI", 10.0, 0.0, 30.0,
       _A + ": terminal value of the leased data center at the horizon = multiple x final-year lease "
       "NOI at run rate (last month x 12) (AI lease path, AI part of the hybrid, bridge path once "
       "converted). Data-center operators "
       "trade at ~20-25x EV/EBITDA (VanEck, Aug 2024, " + _DOM4 + "); 10x is a conservative haircut "
       "for a single-tenant converted site. 0 disables the terminal value", "finance"),
    _s("ev_ebitda_miner", "EV/EBITDA multiple, miners (estimate)", "x", 9.0, 1.0, 40.0,
       "Estimate: public miners ~6-12x EV/EBITDA (VanEck, Aug 2024), " + _DOM4, "finance"),
    _s("ev_ebitda_datacenter", "EV/EBITDA multiple, data centers (estimate)", "x", 22.0, 1.0, 40.0,
       "Estimate: leading data-center operators ~20-25x EV/EBITDA (VanEck, Aug 2024), " + _DOM4, "finance"),
    # -- hybrid site -----------------------------------------------------------------------------
    _s("hybrid_mining_share", "Hybrid: mining fleet kept", "fraction of gross MW", 0.25, 0.0, 1.0,
       _A + ": miners kept as the flexible load next to the AI tenant, " + _DOM5, "hybrid"),
    _s("interconnect_reserve_mw", "Interconnect reserve", "MW", 2.0, 0.0, 200.0,
       _A + ": headroom kept below the interconnect limit, " + _DOM5, "hybrid"),
    _s("idle_fraction", "Server idle power", "fraction of peak", 0.35, 0.1, 0.7,
       "Server power at utilisation u = idle + (1 - idle) * u, idle ~0.35, " + _DOM5, "hybrid"),
    _s("inference_share", "Inference share of IT load", "fraction", 0.3, 0.0, 1.0,
       _A + ": rest is training, " + _DOM5, "hybrid"),
    _s("inference_base_util", "Inference base utilisation", "fraction", 0.55, 0.0, 1.0,
       _A + ": u = base + amp * cos(2 pi (hour - peak) / 24), " + _DOM5, "hybrid"),
    _s("inference_amp_util", "Inference daily amplitude", "fraction", 0.25, 0.0, 0.5,
       _A + ", " + _DOM5, "hybrid"),
    _s("inference_peak_hour", "Inference peak hour", "h (local)", 14.0, 0.0, 23.99, _A + ", " + _DOM5,
       "hybrid"),
    _s("inference_weekend_factor", "Inference weekend factor", "ratio", 0.8, 0.3, 1.2,
       _A + ": weekend utilisation relative to weekdays, " + _DOM5, "hybrid"),
    _s("training_util", "Training utilisation", "fraction", 0.95, 0.5, 1.0,
       "Training runs near full load, " + _DOM5, "hybrid"),
    _s("checkpoint_min_per_hour", "Training checkpoint dip", "min/h", 3.0, 0.0, 20.0,
       _A + ": minutes per hour at idle while checkpointing, " + _DOM5, "hybrid"),
    _s("interruptions_per_day", "Training interruptions", "1/day", 8.6, 0.0, 50.0,
       "Llama 3 reported 466 interruptions in 54 days (8.6/day, 16k GPUs), " + _DOM5, "hybrid"),
    _s("interruption_restart_min", "Restart time per interruption", "min", 10.0, 0.0, 120.0,
       _A + ": automated restarts kept Llama 3 effective training time above 90 %", "hybrid"),
    # -- network-level what-if -------------------------------------------------------------------
    _s("network_avg_j_per_th", "Network average efficiency", "J/TH", 22.0, 10.0, 60.0,
       _A + ": fleet mix of S19-S21 class machines (~20-25 J/TH) in 2025", "network"),
]

ASSUMPTIONS: dict[str, AssumptionSpec] = {s.key: s for s in _SPECS}

GROUP_LABELS: dict[str, str] = {
    "market": "Bitcoin market", "mining": "Mining fleet", "power": "Power and grid programmes",
    "ai": "AI/HPC lease", "finance": "Finance and valuation", "hybrid": "Hybrid site",
    "network": "Network what-if",
}

SCENARIOS: dict[str, dict[str, Any]] = {
    "base": {},
    "bull": {
        "btc_price_usd": 150_000.0,
        "btc_price_growth_per_year": 0.20,
        "difficulty_growth_per_year": 0.20,
        "fee_share": 0.03,
        # highest public miner-AI deal (Galaxy-CoreWeave phase 1, ~$2.26M/MW-yr = ~$188/kW-month)
        "lease_rate_usd_per_kw_month": round(_LEASE_HIGH.usd_per_kw_month, 2),
        "conversion_capex_usd_per_mw_it": 9_000_000.0,
    },
    "bear": {
        "btc_price_usd": 60_000.0,
        "btc_price_growth_per_year": -0.05,
        "difficulty_growth_per_year": 0.40,
        "fee_share": 0.005,
        # lowest public deal (Core Scientific-CoreWeave, ~$1.45M/MW-yr = ~$121/kW-month; tenant-funded capex)
        "lease_rate_usd_per_kw_month": round(_LEASE_LOW.usd_per_kw_month, 2),
        "conversion_capex_usd_per_mw_it": 13_000_000.0,
    },
}


def parse_utc(key: str, raw: Any) -> _dt.datetime:
    """Parse an ISO date/time assumption into an aware UTC datetime (naive = UTC)."""
    if isinstance(raw, _dt.datetime):
        value = raw
    elif isinstance(raw, _dt.date):
        value = _dt.datetime(raw.year, raw.month, raw.day)
    else:
        try:
            value = _dt.datetime.fromisoformat(str(raw).strip().replace("Z", "+00:00"))
        except ValueError:
            raise AssumptionError(f"assumption {key} = {raw!r}: not an ISO date/time. "
                                  "Use YYYY-MM-DD or YYYY-MM-DDTHH:MM+00:00") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    return value.astimezone(_dt.timezone.utc)


def coerce_assumption(key: str, raw: Any, catalogue: Mapping[str, AsicSpec] | None = None) -> Any:
    """Validate and convert one assumption value; raises :class:`AssumptionError` naming key, value and range."""
    spec = ASSUMPTIONS.get(key)
    if spec is None:
        raise AssumptionError(f"assumption {key!r} is unknown. Check the spelling; see planner.model.assumptions")
    if spec.kind == "str":
        text = str(raw).strip() if raw is not None else ""
        if spec.choices and text not in spec.choices:
            raise AssumptionError(f"assumption {key} = {raw!r}: not one of {', '.join(spec.choices)}. "
                                  "Choose one of them")
        if key == "asic_model":
            cat = ASIC_CATALOGUE if catalogue is None else catalogue
            if text not in cat:
                raise AssumptionError(f"assumption asic_model = {raw!r}: not in the ASIC catalogue. "
                                      f"Choose one of: {', '.join(cat)}")
        return text
    if spec.kind == "datetime":
        return parse_utc(key, raw).isoformat()
    if spec.kind == "bool":
        if isinstance(raw, bool):
            return raw
        raise AssumptionError(f"assumption {key} = {raw!r}: expected true or false")
    if isinstance(raw, bool) or raw is None:
        raise AssumptionError(f"assumption {key} = {raw!r}: expected a number in {spec.unit or 'the unit'}. "
                              f"Enter a value between {spec.minimum:g} and {spec.maximum:g}")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise AssumptionError(f"assumption {key} = {raw!r}: not a number. Enter a value between "
                              f"{spec.minimum:g} and {spec.maximum:g} {spec.unit}".rstrip()) from None
    if not math.isfinite(value):
        raise AssumptionError(f"assumption {key} = {raw!r}: must be finite. Enter a value between "
                              f"{spec.minimum:g} and {spec.maximum:g} {spec.unit}".rstrip())
    lo, hi = spec.minimum, spec.maximum
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        unit = f" {spec.unit}" if spec.unit else ""
        raise AssumptionError(f"assumption {key} = {value:g} is outside the range {lo:g} to {hi:g}{unit}. "
                              "Enter a value in that range")
    if spec.kind == "int":
        if value != int(value):
            raise AssumptionError(f"assumption {key} = {value:g}: must be a whole number")
        return int(value)
    return value


def catalogue_from_settings(settings: Mapping[str, Any] | None) -> dict[str, AsicSpec]:
    """The ASIC catalogue with ``settings["asic_catalogue"]`` entries added or replaced."""
    cat = dict(ASIC_CATALOGUE)
    extra = (settings or {}).get("asic_catalogue") or {}
    if not isinstance(extra, Mapping):
        raise AssumptionError("settings asic_catalogue must map model name -> {th_s, watts}")
    for model, entry in extra.items():
        if not isinstance(entry, Mapping):
            raise AssumptionError(f"asic_catalogue[{model!r}] must be {{'th_s': ..., 'watts': ...}}")
        vals = {}
        for fld in ("th_s", "watts"):
            raw = entry.get(fld)
            try:
                v = float(raw)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                v = float("nan")
            if not math.isfinite(v) or v <= 0 or isinstance(raw, bool):
                raise AssumptionError(f"asic_catalogue[{model!r}].{fld} = {raw!r}: must be a positive number. "
                                      "Enter the nameplate TH/s and W")
            vals[fld] = v
        cat[str(model)] = AsicSpec(str(model), vals["th_s"], vals["watts"], str(entry.get("source", "user entry")))
    return cat


class Assumptions:
    """Validated, immutable set of assumption values with attribute access (``a.btc_price_usd``)."""

    __slots__ = ("_values", "_catalogue", "_scenario")

    def __init__(self, values: Mapping[str, Any] | None = None, *, scenario: str = "base",
                 catalogue: Mapping[str, AsicSpec] | None = None):
        cat = dict(ASIC_CATALOGUE if catalogue is None else catalogue)
        merged = {k: s.default for k, s in ASSUMPTIONS.items()}
        merged.update(values or {})
        checked = {k: coerce_assumption(k, v, cat) for k, v in merged.items()}
        object.__setattr__(self, "_values", checked)
        object.__setattr__(self, "_catalogue", cat)
        object.__setattr__(self, "_scenario", scenario)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Assumptions are immutable; use assumptions.replace(...)")

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Assumptions) and other._values == self._values
                and other._catalogue == self._catalogue)

    def __hash__(self) -> int:
        return hash(tuple(sorted((k, str(v)) for k, v in self._values.items())))

    def __repr__(self) -> str:
        changed = {k: v for k, v in self._values.items() if v != ASSUMPTIONS[k].default}
        return f"Assumptions(scenario={self._scenario!r}, changed={changed!r})"

    @property
    def scenario(self) -> str:
        """Name of the scenario these values came from."""
        return self._scenario

    @property
    def catalogue(self) -> dict[str, AsicSpec]:
        """The ASIC catalogue in force (defaults plus user entries)."""
        return dict(self._catalogue)

    def asic(self, model: str | None = None) -> AsicSpec:
        """Catalogue entry for ``model`` (default model when None); raises AssumptionError when unknown."""
        name = self._values["asic_model"] if model is None else model
        try:
            return self._catalogue[name]
        except KeyError:
            raise AssumptionError(f"asic_model = {name!r} is not in the ASIC catalogue. Choose one of: "
                                  f"{', '.join(self._catalogue)} or add it to the catalogue") from None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of all values (JSON-serialisable)."""
        return dict(self._values)

    def replace(self, **changes: Any) -> "Assumptions":
        """A validated copy with ``changes`` applied."""
        vals = dict(self._values)
        vals.update(changes)
        return Assumptions(vals, scenario=self._scenario, catalogue=self._catalogue)


def scenario_overrides(name: str, settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Overrides of scenario ``name``: custom ``settings["scenarios"]`` first, then :data:`SCENARIOS`."""
    custom = (settings or {}).get("scenarios") or {}
    if not isinstance(custom, Mapping):
        raise AssumptionError("settings scenarios must map scenario name -> {assumption_key: value}")
    if name in custom:
        over = custom[name]
        if not isinstance(over, Mapping):
            raise AssumptionError(f"scenario {name!r} must map assumption keys to values")
        return dict(over)
    if name in SCENARIOS:
        return dict(SCENARIOS[name])
    known = sorted(set(SCENARIOS) | set(custom))
    raise AssumptionError(f"scenario {name!r} is unknown. Choose one of: {', '.join(known)}")


def assumptions_from_settings(settings: Mapping[str, Any] | None = None,
                              scenario: str | None = None) -> Assumptions:
    """Merge defaults < scenario overrides < user overrides (``settings["assumptions"]``) and validate.

    ``scenario`` overrides ``settings["scenario"]`` (used to compare scenarios side by side).
    """
    settings = settings or {}
    name = scenario if scenario is not None else (settings.get("scenario") or "base")
    user = settings.get("assumptions") or {}
    if not isinstance(user, Mapping):
        raise AssumptionError("settings assumptions must map assumption key -> value")
    values: dict[str, Any] = {}
    values.update(scenario_overrides(str(name), settings))
    values.update(user)
    return Assumptions(values, scenario=str(name), catalogue=catalogue_from_settings(settings))


def default_assumptions() -> Assumptions:
    """All defaults (base scenario, built-in catalogue)."""
    return Assumptions()
