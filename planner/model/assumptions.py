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
import re
import statistics
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from planner.fmt import fmt_choice, fmt_quantity, quantity_parts
from planner.model.costs import DEFAULT_UNIT_COSTS, unit_costs_from_settings
from planner.model.frozen import FrozenValues
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

    def choice_label(self, value: Any) -> str:
        """A choice as people read it (``energized_only`` -> ``mine the energized MW only``)."""
        return CHOICE_LABELS.get(self.key, {}).get(str(value), fmt_choice(value))

    def display_parts(self, value: Any) -> tuple[str, str]:
        """(value text, unit) as every table shows them: rates in %/yr, shares in %, $M per MW,
        difficulty in T, choices by their label (planner.fmt.quantity_parts)."""
        if self.kind == "str":
            return self.choice_label(value), ""
        if self.kind == "datetime":
            try:
                t = value if isinstance(value, _dt.datetime) else _dt.datetime.fromisoformat(str(value))
            except ValueError:
                return str(value), ""
            return (t.date().isoformat(), "") if (t.hour, t.minute, t.second) == (0, 0, 0) \
                else (t.strftime("%Y-%m-%d %H:%M:%S"), "UTC")
        if self.kind == "bool":
            return ("yes" if value else "no"), ""
        return quantity_parts(value, self.unit)

    @property
    def display_source(self) -> str:
        """The source note with each choice named by its label (``'mine the energized MW only': ...``)."""
        text = self.source
        for c in self.choices:
            text = re.sub(rf"(?<![\w'])({re.escape(c)}):", f"'{self.choice_label(c)}':", text)
        return text

    def display(self, value: Any) -> str:
        """:meth:`display_parts` as one string for lines of text (``2.5 %/yr``, ``$1.50M/MW IT``)."""
        if self.kind in ("float", "int"):
            return fmt_quantity(value, self.unit)
        text, unit = self.display_parts(value)
        return f"{text} {unit}".rstrip()


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
    # DOMAIN.md tables 104 TH/s, 3068 W, 29.5 J/TH (the 104 TH/s bin; the 100 TH/s, 3050 W bin of some
    # spec sheets is 30.5 J/TH). J/TH is derived from TH/s and W so the catalogue never disagrees with itself.
    "Antminer S19j Pro": AsicSpec("Antminer S19j Pro", 104.0, 3068.0, _BITMAIN),
    "Antminer S19 XP": AsicSpec("Antminer S19 XP", 140.0, 3010.0, _BITMAIN),
    "Antminer S21": AsicSpec("Antminer S21", 200.0, 3500.0, _BITMAIN),
    "Antminer S21 Pro": AsicSpec("Antminer S21 Pro", 234.0, 3510.0, _BITMAIN),
    "Antminer S21 XP": AsicSpec("Antminer S21 XP", 270.0, 3645.0, _BITMAIN),
    "Whatsminer M60S": AsicSpec("Whatsminer M60S", 186.0, 3420.0,
                                "MicroBT spec sheet, as tabled in docs/DOMAIN.md section 3"),
}

#: How each choice of an enumerated assumption reads (the stored value stays the key).
CHOICE_LABELS: dict[str, dict[str, str]] = {
    "outlook_model": {"cost_floor": "cost floor (hashrate follows the marginal fleet's margin)",
                      "forward_curve": "hashprice forward curve", "constant_growth": "constant difficulty growth"},
    "mining_pipeline": {"energized_only": "mine the energized MW only",
                        "build_if_it_pays": "also build the pipeline when it pays",
                        "always_build": "always build the pipeline"},
    "power_price_basis": {"net_of_curtailment": "all-in, net of curtailment credits",
                          "market_mean": "market mean, before curtailment"},
    "power_contract": {"index": "index (hourly price, curtail above breakeven)",
                       "fixed": "fixed price (curtailed MWh resold)"},
    "fitout_funded_by": {"landlord": "landlord", "tenant": "tenant"},
    "tenant_class": {"hyperscaler": "hyperscaler (investment grade)",
                     "neocloud_backstop": "neocloud with a hyperscaler backstop", "unrated": "unrated neocloud"},
    "debt_amortisation": {"annuity": "annuity (level payments)", "straight": "straight-line principal"},
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
#: Lowest landlord-funded deal: the bear rent that goes with landlord-paid fit-out.
_LEASE_LOW_LANDLORD = min((d for d in LEASE_DEALS if d.fitout_funded_by == "landlord"),
                          key=lambda d: d.usd_m_per_mw_year)
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
       "Assumption, used only by outlook_model = constant_growth (the cost-floor outlook derives difficulty "
       "from the marginal fleet's margin): difficulty rose ~40 % Jan-Nov 2025 and ~100 % in 2023-2024; 30 %/yr is a "
       f"middle path. With the base BTC price growth ({BTC_PRICE_GROWTH_BASE:.0%}/yr) hashprice then "
       f"falls ~{HASHPRICE_DECLINE_BASE:.0%}/yr (= 1 - (1 + g_price) / (1 + g_difficulty)) before the "
       "halving (April 2028, -50 % of the subsidy): a conservative, mining-bearish base case", "market"),
    _s("btc_price_growth_per_year", "BTC price growth", "1/yr", BTC_PRICE_GROWTH_BASE, -0.5, 1.5,
       "Assumption: flat price as the conservative base case, so all hashprice change comes from "
       f"difficulty growth (hashprice ~-{HASHPRICE_DECLINE_BASE:.0%}/yr); bull: +20 %/yr, bear: -5 %/yr",
       "market"),
    # -- outlook: how hashprice moves (planner.model.outlook) ------------------------------------
    _s("outlook_model", "Hashprice outlook", "", "cost_floor", None, None,
       "cost_floor: network hashrate grows while hashprice is above the marginal fleet's cash cost "
       "and shrinks when it is below, so hashprice settles near that cost (" + _DOM3 + "); "
       "forward_curve: dated $/PH/day points of the project's forward curve (Forward curve... in the "
       "assumptions panel or --forward-curve CSV; e.g. a published forwards table); constant_growth: the difficulty growth below with no floor "
       "(drives every miner to zero within a few years)", "outlook", "str",
       ("cost_floor", "forward_curve", "constant_growth")),
    _s("marginal_fleet_j_per_th", "Marginal fleet efficiency today", "J/TH", 21.5, 10.0, 40.0,
       _A + ": the least efficient machines that still set the network's cost, S19 XP class "
       "(21.5 J/TH, catalogue) in late 2025; public miners' installed fleets average ~16-21 J/TH, " + _DOM3,
       "outlook"),
    _s("efficiency_gain_per_year", "Efficiency frontier improvement", "1/yr", 0.10, 0.0, 0.30,
       _A + ": J/TH of the marginal fleet and of new machines falls this much a year (S19 XP 21.5 "
       "-> S21 17.5 -> S21 XP 13.5 J/TH over 2022-2025 is ~12 %/yr, catalogue, " + _DOM3 + ")", "outlook"),
    _s("marginal_power_usd_per_mwh", "Marginal miner's power price", "$/MWh", 70.0, 10.0, 200.0,
       "Many US miners pay $70-80/MWh all-in (the best $30-45), " + _DOM3 + "; the marginal fleet "
       "runs at the high end", "outlook"),
    _s("hashrate_response_per_year", "Hashrate response to margin", "1/yr per ln ratio", 1.0, 0.1, 5.0,
       _A + ": network hashrate grows by this x ln(hashprice / marginal cash cost) a year (capped "
       "below): 1.0 turns a 20 % margin into ~18 %/yr growth and closes a gap in ~1-2 years, close "
       "to the 2023-2025 pace after halvings and price moves", "outlook"),
    _s("hashrate_max_growth_per_year", "Hashrate growth cap", "1/yr", 0.60, 0.0, 2.0,
       _A + ": machines cannot be made and plugged in faster than this (~+100 %/yr at most in "
       "2023-2024)", "outlook"),
    _s("hashrate_max_decline_per_year", "Hashrate decline cap", "1/yr", 0.30, 0.0, 0.9,
       _A + ": hashrate falls at most this much a year when the marginal fleet loses money "
       "(after the 2024 halving hashrate dipped ~5-10 % over weeks)", "outlook"),
    # -- mining fleet and site -----------------------------------------------------------------
    _s("asic_model", "New-machine model", "", "Antminer S21 XP", None, None,
       "Model bought for new MW and refreshes (catalogue, " + _DOM3 + "); refreshed machines improve "
       "with the efficiency frontier", "mining", "str"),
    _s("asic_price_usd_per_th", "ASIC price today", "$/TH", 25.70, 1.0, 200.0,
       "Antminer S21 XP about $25.70/TH (Nov 2025), " + _DOM3 + "; later purchases are priced "
       "in proportion to the hashprice outlook (ASIC $/TH tracks hashprice)", "mining"),
    _s("default_fleet_j_per_th", "Installed fleet efficiency (default)", "J/TH", 18.5, 10.0, 40.0,
       "Installed fleets of public miners averaged roughly 16-21 J/TH in 2025 (" + _DOM3 + "); "
       "the midpoint is used for sites without fleet_j_per_th or an asic_model", "mining"),
    _s("mining_opex_usd_per_mw_year", "Mining non-power opex", "$/MW-yr", 60_000.0, 0.0, 300_000.0,
       _A + ": staff, maintenance, repairs, insurance and site costs of a large mine, ~$5-10/MWh "
       "at full load (public miners' cost-of-revenue notes); charged while the fleet runs", "mining"),
    _s("mining_pipeline", "Mining: pipeline MW", "", "energized_only", None, None,
       "energized_only: mine what is energized (default); build_if_it_pays: also buy fleet and "
       "infrastructure for the MW not yet energized when that raises the mining NPV; always_build: buy them "
       "whatever the NPV",
       "mining", "str", ("energized_only", "build_if_it_pays", "always_build")),
    _s("mining_capex_usd_per_mw", "Mining infrastructure capex (excl. ASICs)", "$/MW", 400_000.0,
       100_000.0, 1_500_000.0, "Mining build about $0.3-0.5M per MW, " + _DOM4 +
       "; charged only on MW not yet energized", "mining"),
    _s("fleet_refresh_years", "Fleet refresh interval", "yr", 4, 1, 10,
       _A + ": ASICs are replaced every 3-5 years as efficiency improves", "mining", "int"),
    _s("existing_fleet_age_years", "Age of the installed fleet (default)", "yr", 2, 0, 10,
       _A + ": energized MW hold a fleet bought this many years ago (sunk for every path: only MW not "
       "yet energized need fleet and infrastructure capex). Its first refresh falls when it reaches the "
       "refresh interval (year max(0, refresh - age)). ~2 yr is typical of fleets bought in the "
       "2023-2024 upgrade cycle; a site's fleet_age_years wins", "mining", "int"),
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
    _s("power_price_basis", "Site power price basis", "", "net_of_curtailment", None, None,
       "net_of_curtailment: the site's price is all-in net of curtailment credits (how miners report "
       "it: Riot 2.1-3.4 c/kWh net, " + _DOM3 + "), so each MWh used costs that price and the hourly "
       "shape only decides which hours run (the curtailment benefit is counted once); market_mean: "
       "the price is the mean of the hourly market price, paid hour by hour", "power", "str",
       ("net_of_curtailment", "market_mean")),
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
    _s("conversion_capex_usd_per_mw_it", "AI fit-out capex (before site upgrades)", "$/MW IT", 5_000_000.0,
       2_000_000.0, 15_000_000.0,
       "Critical power and IT fit-out common to every conversion (UPS, switchgear, generators, IT "
       "cabling). The site's readiness upgrades are added per site at the unit costs of planner.model.costs: "
       "DLC retrofit $2M, hall build-out $6M (greenfield, containers or hall type unknown) or rack density "
       "$1M (existing rack-mount halls) per MW IT, substation, HV line, transformer, fibre, water, permits. "
       "So a retrofit of rack-mount halls lands at ~$8M and a greenfield hall at ~$13M per MW IT: the "
       "public $8-13M (some ~15) range, " + _DOM4, "ai"),
    _s("build_months", "Minimum build time (fit-out)", "months", 12, 6, 24,
       "12-24 months on converted mining sites vs 4+ years greenfield, " + _DOM4 + "; a site's "
       "readiness time to power wins when it is longer. Capex is spread evenly over the build", "ai", "int"),
    _s("fitout_funded_by", "Fit-out funded by", "", "landlord", None, None,
       "landlord: the site owner pays fit-out and hall upgrades at the lease rate above; tenant: the tenant "
       "pays its share of them (below) and the rent is the tenant-funded rate (Core Scientific-CoreWeave, "
       + _DOM4 + "); the owner always pays the power, HV and permit upgrades", "ai", "str",
       ("landlord", "tenant")),
    _s("tenant_funded_lease_rate_usd_per_kw_month", "Lease rate when tenant-funded", "$/kW-month",
       round(_LEASE_LOW.usd_per_kw_month, 2), 30.0, 300.0,
       f"Core Scientific-CoreWeave ~${_LEASE_LOW.usd_m_per_mw_year:.2f}M per MW-yr (~"
       f"{_LEASE_LOW.usd_per_kw_month:.0f} $/kW-month), the public deal where the tenant funded the fit-out, "
       + _DOM4, "ai"),
    _s("tenant_funded_capex_share", "Tenant's share of fit-out when tenant-funded", "fraction", 0.5, 0.0, 1.0,
       _A + ": share of the fit-out and hall upgrades the tenant pays in a tenant-funded deal; the split in "
       "public deals is not disclosed (CoreWeave funded part of Core Scientific's build-out)", "ai"),
    _s("lease_term_years", "Lease term", "yr", 12, 3, 25,
       "Public miner-AI leases run 10-15 years (Core Scientific-CoreWeave 12, TeraWulf/Cipher-"
       "Fluidstack 10, Applied Digital/Galaxy-CoreWeave and Cipher-AWS 15), " + _DOM4, "ai", "int"),
    _s("lease_escalator_per_year", "Lease escalator", "1/yr", 0.025, 0.0, 0.06,
       "Annual escalators of a few percent, " + _DOM4 + "; 2.5 %/yr assumed", "ai"),
    _s("lease_renewal_probability", "Renewal probability at term end", "fraction", 0.6, 0.0, 1.0,
       _A + ": after the term the site is re-let or re-fitted, which is uncertain (" + _DOM4 + ")",
       "ai"),
    _s("lease_downtime_months", "Downtime if not renewed", "months", 12, 0, 48,
       _A + ": months without rent to find a new tenant and re-fit when the lease is not renewed", "ai", "int"),
    _s("relet_capex_usd_per_mw_it", "Re-fit capex if not renewed", "$/MW IT", 1_500_000.0, 0.0, 10_000_000.0,
       _A + ": IT-hall refresh for a new tenant (cooling and power distribution for the next GPU "
       "generation), charged on the non-renewed share", "ai"),
    _s("lease_prepayment_months", "Rent prepaid at signing", "months", 0, 0, 36,
       _A + ": months of rent the tenant prepays at signing (year 0), credited against the first "
       "months of rent: timing only", "ai", "int"),
    _s("tenant_class", "Tenant class", "", "neocloud_backstop", None, None,
       "hyperscaler: investment-grade (Cipher-AWS); neocloud_backstop: a neocloud with a hyperscaler "
       "backstop (TeraWulf- and Cipher-Fluidstack with Google); unrated: a neocloud without one. "
       "Adds that class's credit spread to the discount rate of lease cash flows, " + _DOM4, "ai", "str",
       ("hyperscaler", "neocloud_backstop", "unrated")),
    _s("spread_hyperscaler", "Credit spread: hyperscaler", "1/yr", 0.0, 0.0, 0.15,
       _A + ": investment-grade tenant, the base discount rate applies", "ai"),
    _s("spread_neocloud_backstop", "Credit spread: neocloud with backstop", "1/yr", 0.015, 0.0, 0.15,
       _A + ": backstopped leases price between investment grade and high yield", "ai"),
    _s("spread_unrated", "Credit spread: unrated neocloud", "1/yr", 0.04, 0.0, 0.20,
       _A + ": single-B / unrated tenant, high-yield spread", "ai"),
    _s("pue_ai", "AI facility PUE", "ratio", 1.2, 1.05, 1.8,
       "New AI designs ~1.2; industry average ~1.56 (Uptime 2024), " + _DOM4, "ai"),
    # -- finance ---------------------------------------------------------------------------------
    _s("discount_rate", "Discount rate", "1/yr", 0.10, 0.0, 0.40,
       _A + ": project cost of capital; lease cash flows add the tenant class's credit spread", "finance"),
    _s("debt_share", "Debt share of initial capex", "fraction", 0.5, 0.0, 0.9,
       _A + ": share of each path's initial capex funded with debt (data-center project finance "
       "runs 50-80 %; mining fleets are rarely project-financed)", "finance"),
    _s("debt_rate", "Debt interest rate", "1/yr", 0.08, 0.0, 0.25, _A + ": all-in cost of debt", "finance"),
    _s("debt_tenor_years", "Debt tenor", "yr", 10, 1, 25,
       _A + ": repaid over this many years from the first operating year (interest during the build "
       "is capitalised); any balance left at the horizon is repaid there", "finance", "int"),
    _s("debt_amortisation", "Debt amortisation", "", "annuity", None, None,
       "annuity: level debt service; straight: equal principal each year", "finance", "str",
       ("annuity", "straight")),
    _s("cost_of_equity", "Cost of equity", "1/yr", 0.15, 0.0, 0.50,
       _A + ": discount rate of the equity cash flows (after debt service)", "finance"),
    _s("sell_usd_per_mw_energized", "Sale price of an operating site", "$/MW energized", 1_540_000.0, 0.0,
       10_000_000.0, "Riot bought Block Mining (60 MW, Kentucky) for $92.5M in July 2024 = ~$1.54M per "
       "operational MW, plus an earn-out of up to $32.5M (" + _DOM3 + "); one transaction, check more "
       "before relying on it. Applies to energized MW only", "finance"),
    _s("horizon_years", "Horizon", "yr", 15, 2, 25, _A + ": matches the 10-15 year terms of public miner-AI leases",
       "finance", "int"),
    _s("ai_exit_multiple_noi", "AI exit multiple", "x final-year NOI", 10.0, 0.0, 30.0,
       _A + ": terminal value of the leased data center at the horizon = multiple x the let run-rate NOI "
       "(month's escalated rent x 12 x margin) less the buyer's expected cost of the next term end (non-renewed "
       "share's downtime rent and re-fit, discounted) (AI lease path, AI part of the hybrid, bridge path once "
       "converted; a fit-out still being built at the horizon is valued at its first live month, less the "
       "capex still to spend, discounted to the horizon). Data-center operators trade at ~20-25x EV/EBITDA (VanEck, Aug 2024, " + _DOM4 + "); 10x is "
       "a conservative haircut for a single-tenant converted site. 0 disables the terminal value; every NPV is "
       "also shown without it", "finance"),
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
    "network": "Network what-if", "outlook": "Hashprice outlook",
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
        "conversion_capex_usd_per_mw_it": 4_500_000.0,
        "marginal_power_usd_per_mwh": 80.0,
        "tenant_class": "hyperscaler",
    },
    "bear": {
        "btc_price_usd": 60_000.0,
        "btc_price_growth_per_year": -0.05,
        "difficulty_growth_per_year": 0.40,
        "fee_share": 0.005,
        # the lowest public deal (Core Scientific-CoreWeave, ~$121/kW-month) was tenant-funded, so with the
        # landlord paying the fit-out the bear rent is the lowest landlord-funded deal (Cipher-Fluidstack,
        # ~$1.79M/MW-yr = ~$149/kW-month), not $121
        "lease_rate_usd_per_kw_month": round(_LEASE_LOW_LANDLORD.usd_per_kw_month, 2),
        "conversion_capex_usd_per_mw_it": 6_500_000.0,
        "marginal_power_usd_per_mwh": 60.0,
        "tenant_class": "unrated",
        "lease_renewal_probability": 0.4,
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


class Assumptions(FrozenValues):
    """Validated, immutable set of assumption values with attribute access (``a.btc_price_usd``)."""

    # -- typed fields: generated by scripts/typed_fields.py from ASSUMPTIONS; do not edit by hand --
    if TYPE_CHECKING:
        market_data_date: str
        btc_price_usd: float
        difficulty: float
        fee_share: float
        reference_block_height: int
        reference_block_time: str
        mean_block_interval_min: float
        difficulty_growth_per_year: float
        btc_price_growth_per_year: float
        outlook_model: str
        marginal_fleet_j_per_th: float
        efficiency_gain_per_year: float
        marginal_power_usd_per_mwh: float
        hashrate_response_per_year: float
        hashrate_max_growth_per_year: float
        hashrate_max_decline_per_year: float
        asic_model: str
        asic_price_usd_per_th: float
        default_fleet_j_per_th: float
        mining_opex_usd_per_mw_year: float
        mining_pipeline: str
        mining_capex_usd_per_mw: float
        fleet_refresh_years: int
        existing_fleet_age_years: int
        asic_resale_usd_per_th: float
        mining_exit_multiple: float
        pue_mining: float
        uptime: float
        pool_fee: float
        power_price_usd_per_mwh: float
        power_price_basis: str
        power_contract: str
        price_series_seed: int
        dr_pay_usd_per_mw_h: float
        dr_committed_mw: float
        dr_event_hours_per_year: int
        fourcp_tariff_usd_per_mw_year: float
        fourcp_alert_hours_per_month: int
        critical_it_ratio: float
        lease_rate_usd_per_kw_month: float
        noi_margin: float
        conversion_capex_usd_per_mw_it: float
        build_months: int
        fitout_funded_by: str
        tenant_funded_lease_rate_usd_per_kw_month: float
        tenant_funded_capex_share: float
        lease_term_years: int
        lease_escalator_per_year: float
        lease_renewal_probability: float
        lease_downtime_months: int
        relet_capex_usd_per_mw_it: float
        lease_prepayment_months: int
        tenant_class: str
        spread_hyperscaler: float
        spread_neocloud_backstop: float
        spread_unrated: float
        pue_ai: float
        discount_rate: float
        debt_share: float
        debt_rate: float
        debt_tenor_years: int
        debt_amortisation: str
        cost_of_equity: float
        sell_usd_per_mw_energized: float
        horizon_years: int
        ai_exit_multiple_noi: float
        ev_ebitda_miner: float
        ev_ebitda_datacenter: float
        hybrid_mining_share: float
        interconnect_reserve_mw: float
        idle_fraction: float
        inference_share: float
        inference_base_util: float
        inference_amp_util: float
        inference_peak_hour: float
        inference_weekend_factor: float
        training_util: float
        checkpoint_min_per_hour: float
        interruptions_per_day: float
        interruption_restart_min: float
        network_avg_j_per_th: float
    # -- end of typed fields --

    __slots__ = ("_values", "_catalogue", "_scenario", "_unit_costs", "_forward_curve", "_thresholds")
    _IMMUTABLE_MESSAGE = "Assumptions are immutable; use assumptions.replace(...)"
    _values: dict[str, Any]
    _catalogue: dict[str, AsicSpec]
    _scenario: str
    _unit_costs: dict[str, float]
    _forward_curve: tuple[tuple[str, float], ...]
    _thresholds: tuple[tuple[str, Any], ...]

    def __init__(self, values: Mapping[str, Any] | None = None, *, scenario: str = "base",
                 catalogue: Mapping[str, AsicSpec] | None = None, unit_costs: Mapping[str, float] | None = None,
                 forward_curve: Any = None, readiness_thresholds: Mapping[str, Any] | None = None):
        cat = dict(ASIC_CATALOGUE if catalogue is None else catalogue)
        merged = {k: s.default for k, s in ASSUMPTIONS.items()}
        merged.update(values or {})
        checked = {k: coerce_assumption(k, v, cat) for k, v in merged.items()}
        object.__setattr__(self, "_values", checked)
        object.__setattr__(self, "_catalogue", cat)
        object.__setattr__(self, "_scenario", scenario)
        costs = dict(DEFAULT_UNIT_COSTS)
        costs.update(unit_costs or {})
        object.__setattr__(self, "_unit_costs", costs)
        object.__setattr__(self, "_forward_curve", parse_forward_curve(forward_curve))
        raw = readiness_thresholds if isinstance(readiness_thresholds, Mapping) else {}
        object.__setattr__(self, "_thresholds", tuple(sorted((str(k), v) for k, v in raw.items())))

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Assumptions) and other._values == self._values
                and other._catalogue == self._catalogue and other._unit_costs == self._unit_costs
                and other._thresholds == self._thresholds
                and other._forward_curve == self._forward_curve)

    def __hash__(self) -> int:
        return hash((tuple(sorted((k, str(v)) for k, v in self._values.items())), self._forward_curve,
                     tuple(sorted(self._unit_costs.items())), tuple((k, str(v)) for k, v in self._thresholds)))

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

    @property
    def unit_costs(self) -> dict[str, float]:
        """Unit costs of site upgrades in force (planner.model.costs defaults plus settings overrides)."""
        return dict(self._unit_costs)

    @property
    def readiness_thresholds(self) -> dict[str, Any]:
        """The project's readiness threshold overrides (they decide which upgrades a conversion needs)."""
        return dict(self._thresholds)

    @property
    def forward_curve(self) -> tuple[tuple[str, float], ...]:
        """Hashprice forward curve as sorted (ISO date, $/PH/day) points; empty when none was given."""
        return self._forward_curve

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
        return Assumptions(vals, scenario=self._scenario, catalogue=self._catalogue, unit_costs=self._unit_costs,
                           forward_curve=self._forward_curve, readiness_thresholds=dict(self._thresholds))

    def with_forward_curve(self, points: Any) -> "Assumptions":
        """A copy with a hashprice forward curve (see :func:`parse_forward_curve`)."""
        return Assumptions(self._values, scenario=self._scenario, catalogue=self._catalogue,
                           unit_costs=self._unit_costs, forward_curve=points,
                           readiness_thresholds=dict(self._thresholds))


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
    return Assumptions(values, scenario=str(name), catalogue=catalogue_from_settings(settings),
                       unit_costs=unit_costs_from_settings(settings),
                       forward_curve=settings.get("hashprice_forward_curve"),
                       readiness_thresholds=settings.get("readiness_thresholds"))


def parse_forward_curve(raw: Any) -> tuple[tuple[str, float], ...]:
    """Validate a hashprice forward curve: ``[[date, usd_per_ph_day], ...]`` or ``{date: usd_per_ph_day}``.

    Returns sorted ``(YYYY-MM-DD, value)`` points (empty for None). Raises :class:`AssumptionError`
    naming the bad point: dates must be ISO and distinct, values finite and > 0 $/PH/day.
    """
    if raw is None or (hasattr(raw, "__len__") and len(raw) == 0):
        return ()
    items = list(raw.items()) if isinstance(raw, Mapping) else list(raw)
    out: dict[str, float] = {}
    for i, item in enumerate(items, start=1):
        try:
            when, value = item
        except (TypeError, ValueError):
            raise AssumptionError(f"hashprice forward curve point {i} = {item!r}: write [date, usd_per_ph_day]") from None
        day = parse_utc("hashprice forward curve date", when).date().isoformat()
        if isinstance(value, bool):
            value = None
        try:
            v = float(value)
        except (TypeError, ValueError):
            v = float("nan")
        if not math.isfinite(v) or v <= 0:
            raise AssumptionError(f"hashprice forward curve point {i} ({day}) = {value!r}: must be a number > 0 "
                                  "in $/PH/day")
        if day in out:
            raise AssumptionError(f"hashprice forward curve: date {day} appears twice. Keep one value per date")
        out[day] = v
    return tuple(sorted(out.items()))


def default_assumptions() -> Assumptions:
    """All defaults (base scenario, built-in catalogue)."""
    return Assumptions()
