"""Market context (docs/DOMAIN.md section 1 and 4): small sourced dataset for panels and reports.

Every figure carries its ``source``. Derived figures (interpolations, unit conversions) say so.
"""
from __future__ import annotations

from dataclasses import dataclass

_DOE_CBRE = "DOE / CBRE as summarised in docs/DOMAIN.md section 1"


@dataclass(frozen=True)
class MarketFigure:
    """One sourced market figure with its unit and the year it refers to."""

    key: str
    label: str
    value: float
    unit: str
    year: int | None
    source: str
    high: float | None = None  # upper end when the source gives a range


@dataclass(frozen=True)
class DemandPoint:
    """US data-center power demand in one year (GW); ``derived`` marks interpolated points."""

    year: int
    demand_gw: float
    source: str
    derived: bool = False


@dataclass(frozen=True)
class LeaseDeal:
    """A public miner-to-AI lease: contract value / term / critical-IT MW, in $M per MW-year."""

    landlord: str
    tenant: str
    usd_m_per_mw_year: float
    source: str
    #: Who paid the IT fit-out ("tenant" deals have lower rents for the same site).
    fitout_funded_by: str = "landlord"

    @property
    def usd_per_kw_month(self) -> float:
        """The same rate in $ per kW of critical IT per month (``$M/MW-yr * 1e6 / 1000 / 12``)."""
        return self.usd_m_per_mw_year * 1e6 / 1000.0 / 12.0


@dataclass(frozen=True)
class CapexRange:
    """Capex per MW of critical IT (or per mining MW) reported by an operator, $M per MW."""

    who: str
    low_usd_m_per_mw: float
    high_usd_m_per_mw: float
    source: str


DEMAND_2024_GW = 21.0
DEMAND_2030_GW = 45.0
DEMAND_GROWTH_2024 = 0.31

US_DC_DEMAND: tuple[DemandPoint, ...] = (
    DemandPoint(2023, round(DEMAND_2024_GW / (1 + DEMAND_GROWTH_2024), 1),
                "Derived: 2024 figure less its +31 % growth, " + _DOE_CBRE, derived=True),
    DemandPoint(2024, DEMAND_2024_GW, "About 21 GW in 2024 (+31 % on the year), " + _DOE_CBRE),
    *(DemandPoint(y, round(DEMAND_2024_GW * (DEMAND_2030_GW / DEMAND_2024_GW) ** ((y - 2024) / 6), 1),
                  "Derived: constant-growth interpolation between 2024 and 2030", derived=True)
      for y in range(2025, 2030)),
    DemandPoint(2030, DEMAND_2030_GW, "Projected ~45 GW by 2030 (up to ~8 % of US power capacity), " + _DOE_CBRE),
)

FIGURES: dict[str, MarketFigure] = {f.key: f for f in (
    MarketFigure("interconnection_wait_years", "Wait for a new 300 MW-1 GW+ grid interconnection", 2.0, "years",
                 2024, "DOE, CBRE (docs/DOMAIN.md section 1)", high=4.0),
    MarketFigure("rack_density_2020_kw", "Average rack density", 8.4, "kW/rack", 2020,
                 "docs/DOMAIN.md sections 1-2"),
    MarketFigure("rack_density_legacy_cap_kw", "Legacy hall cap per rack", 40.0, "kW/rack", None,
                 "docs/DOMAIN.md section 1"),
    MarketFigure("rack_density_gb200_kw", "GB200 NVL72-class rack", 130.0, "kW/rack", 2025,
                 "NVIDIA GB200 NVL72 class ~120-140 kW with direct liquid cooling, docs/DOMAIN.md section 2",
                 high=140.0),
    MarketFigure("equinix_xscale_mw", "Equinix xScale capacity", 292.0, "MW", 2024,
                 "Equinix xScale about 292 MW across 20 facilities, Q3 2024 (docs/DOMAIN.md section 1)"),
    MarketFigure("equinix_xscale_facilities", "Equinix xScale facilities", 20.0, "count", 2024,
                 "Equinix, Q3 2024 (docs/DOMAIN.md section 1)"),
    MarketFigure("digital_realty_site_mw", "Digital Realty typical site", 0.5, "MW", 2024,
                 "Digital Realty sites typically 0.5-40 MW each (docs/DOMAIN.md section 1)", high=40.0),
    MarketFigure("cbre_colo_rate_usd_per_kw_month", "Colocation asking rate, 250-500 kW, primary US markets",
                 184.0, "$/kW-month", 2024, "CBRE, H2 2024 (docs/DOMAIN.md section 4)"),
    MarketFigure("noi_margin", "NOI margin of miner-AI leases", 0.80, "fraction", 2024,
                 "docs/DOMAIN.md section 4", high=0.90),
    MarketFigure("critical_it_ratio", "Critical IT MW per gross site MW", 0.67, "fraction", 2024,
                 "Public deals, docs/DOMAIN.md section 4", high=0.80),
    MarketFigure("build_months_converted", "Lease signing to first capacity, converted mining site", 12.0, "months",
                 2024, "docs/DOMAIN.md section 4 (greenfield 4+ years)", high=24.0),
    MarketFigure("pue_industry", "Industry average PUE", 1.56, "ratio", 2024, "Uptime Institute 2024"),
    MarketFigure("pue_new_ai", "New AI design PUE", 1.2, "ratio", 2024, "docs/DOMAIN.md section 4"),
    MarketFigure("ev_ebitda_miners", "Public miners EV/EBITDA (estimate)", 6.0, "x", 2024,
                 "VanEck, Aug 2024 (docs/DOMAIN.md section 4)", high=12.0),
    MarketFigure("ev_ebitda_datacenters", "Leading data-center operators EV/EBITDA (estimate)", 20.0, "x", 2024,
                 "VanEck, Aug 2024 (docs/DOMAIN.md section 4)", high=25.0),
    MarketFigure("ev_per_miner_mw_usd_m", "Enterprise value per installed miner MW", 4.5, "$M/MW", 2024,
                 "VanEck, Aug 2024 (docs/DOMAIN.md section 4)"),
    MarketFigure("ev_per_dc_mw_usd_m", "Enterprise value per MW, some data-center stocks", 30.0, "$M/MW", 2024,
                 "VanEck, Aug 2024: $30M+ (docs/DOMAIN.md section 4)"),
)}

_DOM4 = "contract value / term / MW as summarised in docs/DOMAIN.md section 4"
LEASE_DEALS: tuple[LeaseDeal, ...] = (
    LeaseDeal("Core Scientific", "CoreWeave", 1.45, _DOM4 + "; CoreWeave funded the fit-out", "tenant"),
    LeaseDeal("TeraWulf", "Fluidstack", 1.85, _DOM4),
    LeaseDeal("Cipher Mining", "Fluidstack", 1.79, _DOM4),
    LeaseDeal("Applied Digital", "CoreWeave", 1.83, _DOM4),
    LeaseDeal("Galaxy Digital", "CoreWeave (phase 1)", 2.26, _DOM4),
    LeaseDeal("Hut 8", "Fluidstack", 1.90, _DOM4),
)

CAPEX_RANGES: tuple[CapexRange, ...] = (
    CapexRange("TeraWulf (AI conversion)", 8.0, 10.0, "docs/DOMAIN.md section 4"),
    CapexRange("Cipher Mining (AI conversion)", 9.0, 11.0, "docs/DOMAIN.md section 4"),
    CapexRange("Galaxy Digital (AI conversion)", 11.0, 13.0, "docs/DOMAIN.md section 4"),
    CapexRange("Industry range (AI conversion / new build)", 8.0, 15.0, "docs/DOMAIN.md section 4 (some up to ~15)"),
    CapexRange("Bitcoin mining build", 0.3, 0.5, "docs/DOMAIN.md section 4"),
)


def demand_path_gw() -> list[tuple[int, float]]:
    """(year, GW) points of US data-center demand, 2023-2030 (interpolated years flagged in US_DC_DEMAND)."""
    return [(p.year, p.demand_gw) for p in US_DC_DEMAND]


def demand_cagr() -> float:
    """Implied annual growth 2024-2030 (``(45/21)**(1/6) - 1``, about 13.5 %)."""
    return float((DEMAND_2030_GW / DEMAND_2024_GW) ** (1 / 6) - 1)
