"""Chart data: the series, labels, units and captions every chart draws, from the engine's results.

Pure functions beside the engine (no Qt): the live panels and the reports call these, and the
builders of :mod:`planner.plots` only draw what they return. Every number here is taken from the
engine (:mod:`planner.model.economics`, :mod:`planner.model.outlook`, :mod:`planner.model.hybrid`,
:mod:`planner.model.readiness`, :mod:`planner.model.market`) or is a unit conversion of it.
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from planner.fmt import fmt_fraction_pct, fmt_usd_m, usd_per_kw_month_to_musd_per_mw_year
from planner.model.assumptions import ASSUMPTIONS, Assumptions
from planner.model.economics import DAYS_PER_MONTH, PathComparison, PaybackResult, payback_dynamic
from planner.model.hybrid import REPRESENTATIVE_YEAR, HybridResult
from planner.model.market import CAPEX_RANGES, FIGURES, LEASE_DEALS, US_DC_DEMAND, demand_cagr
from planner.model.mining import FleetBreakeven, mining_view
from planner.model.outlook import build_outlook
from planner.model.readiness import ReadinessResult
from planner.model.scenarios import TornadoBar
from planner.model.site import Site

#: Short path names for legends and axes.
PATH_SHORT: dict[str, str] = {"mining": "Mining", "ai_lease": "AI lease", "hybrid": "Hybrid"}

WEEKS_PER_YEAR = 52


def short_model(model: str) -> str:
    """An ASIC model name without its maker (``Antminer S21 XP`` -> ``S21 XP``)."""
    return model.replace("Antminer ", "").replace("Whatsminer ", "")


def month_name(start: _dt.datetime, months: float) -> str:
    """``start`` plus ``months`` model months as ``Mon YYYY``."""
    when = start + _dt.timedelta(days=months * DAYS_PER_MONTH)
    return when.strftime("%b %Y")


def year_fraction(when: _dt.datetime) -> float:
    """``when`` as a decimal year (2025-07-02 -> 2025.5)."""
    start = _dt.datetime(when.year, 1, 1, tzinfo=when.tzinfo)
    length = (_dt.datetime(when.year + 1, 1, 1, tzinfo=when.tzinfo) - start).total_seconds()
    return when.year + (when - start).total_seconds() / length


# -- readiness -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class RankingData:
    """Readiness results of a portfolio and the selected site (highlighted)."""

    results: Mapping[str, ReadinessResult]
    selected: str | None = None


# -- mining --------------------------------------------------------------------------------------
#: One ASIC model at today's hashprice and the site's power price (planner.model.mining).
FleetEconomics = FleetBreakeven


@dataclass(frozen=True, eq=False)
class MiningData:
    """Everything the mining charts draw for one site (arrays monthly from the market data date).

    The hashprice path and the network's marginal cost are the engine's outlook
    (:func:`planner.model.outlook.build_outlook`); breakevens, revenue and the payback of a new
    machine come from :mod:`planner.model.economics`.
    """

    site_id: str
    start: _dt.datetime
    months: np.ndarray
    years: np.ndarray
    hashprice_usd_per_ph_day: np.ndarray
    marginal_cost_usd_per_ph_day: np.ndarray
    outlook_model: str
    halving_months: tuple[float, ...]
    power_price_usd_per_mwh: float
    power_price_basis: str
    fleets: tuple[FleetEconomics, ...]
    site_model: str
    #: Power prices ($/MWh) and the power cost of 1 MW running at each ($/MW-day, uptime included).
    power_prices_usd_per_mwh: np.ndarray
    power_cost_usd_per_mw_day: np.ndarray
    #: A new machine of ``site_model`` bought today at the outlook's ASIC price ($/TH).
    capex_usd_per_th: float
    payback: PaybackResult
    #: Cumulative net cash per TH/s after the machine's price, by month ($/TH).
    cumulative_net_usd_per_th: np.ndarray
    caption: str
    #: Network outlook by month: difficulty (T) and the hashrate it implies (EH/s = difficulty x 2^32 / 600).
    difficulty_t: np.ndarray = field(default_factory=lambda: np.zeros(0))
    hashrate_eh_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: The site's installed fleet (planner.model.mining.mining_view): J/TH, its source and its cash cost here.
    installed_j_per_th: float = 0.0
    installed_source: str = ""
    installed_cost_usd_per_ph_day: float = 0.0

    @property
    def payback_months(self) -> float | None:
        """Months until a new machine's price is recovered (None = never within the horizon)."""
        return self.payback.months


def mining_data(site: Site, assumptions: Assumptions) -> MiningData:
    """Hashprice outlook, per-fleet breakevens at the site's power price and a new machine's dynamic payback."""
    a = assumptions
    out = build_outlook(a)
    n = out.months
    months = np.arange(n, dtype=float)
    hp = out.hashprice_usd_per_ph_day
    today_th = float(out.usd_per_th_day[0])
    years = year_fraction(out.start) + months / 12.0
    view = mining_view(site, a)
    price, basis, fleets = view.power_price_usd_per_mwh, view.power_price_source, view.fleets
    top_price = max(150.0, price * 1.5, max(f.breakeven_power_usd_per_mwh for f in fleets) * 1.15)
    prices = np.linspace(0.0, top_price, 61)
    model = site.asic_model if site.asic_model in a.catalogue else a.asic_model
    j = a.catalogue[model].j_per_th
    capex_per_th = float(out.asic_usd_per_th[0])
    pb = payback_dynamic(capex_per_th, today_th, j, price, pool_fee=a.pool_fee, uptime=a.uptime,
                         price_growth_per_year=a.btc_price_growth_per_year,
                         difficulty_growth_per_year=a.difficulty_growth_per_year, fee_share=a.fee_share,
                         halving_months=out.halving_months, max_months=n, pue_mining=a.pue_mining,
                         hashprice_path_usd_per_th_day=out.usd_per_th_day)
    caption = (f"Scenario {a.scenario} \u00b7 market data {str(a.market_data_date)[:10]}: BTC ${a.btc_price_usd:,.0f} "
               f"(growth {fmt_fraction_pct(a.btc_price_growth_per_year, 0)}/yr), difficulty {a.difficulty / 1e12:,.0f} T, "
               f"fees {fmt_fraction_pct(a.fee_share, 1)} of reward \u00b7 outlook {out.description} \u00b7 "
               f"hashprice today ${hp[0]:,.1f}/PH/day \u00b7 power {price:,.1f} $/MWh ({basis}) \u00b7 PUE "
               f"{a.pue_mining:g}, uptime {fmt_fraction_pct(a.uptime, 0)}, pool fee {fmt_fraction_pct(a.pool_fee, 1)} "
               f"\u00b7 payback of a new {model} ({j:.1f} J/TH) at ${capex_per_th:,.2f}/TH \u00b7 horizon "
               f"{a.horizon_years} yr")
    return MiningData(str(site.site_id), out.start, months, years, hp, out.marginal_cost_usd_per_ph_day, out.model,
                      tuple(m for m in out.halving_months if m < n), price, basis, fleets, model, prices,
                      24.0 * float(a.uptime) * prices, capex_per_th, pb, pb.cumulative_usd_per_th - capex_per_th,
                      caption, out.difficulty / 1e12, out.hashrate_eh_s, view.installed_j_per_th,
                      view.installed_source, view.site_cost_usd_per_ph_day)


# -- paths ---------------------------------------------------------------------------------------
def paths_caption(comp: PathComparison, a: Assumptions) -> str:
    """One-line statement of the scenario and key assumptions behind a path comparison."""
    if comp.unavailable_reason:
        return comp.unavailable_reason
    price = comp.power_price_usd_per_mwh or 0.0
    notes = f" \u00b7 notes: {'; '.join(comp.notes)}" if comp.notes else ""
    noi, rate = fmt_fraction_pct(a.noi_margin, 0), fmt_fraction_pct(a.discount_rate, 1)
    ai = comp.ai_lease
    tv = ""
    if ai is not None and ai.unavailable_reason is None:
        share = "n/a" if ai.terminal_share is None else fmt_fraction_pct(ai.terminal_share, 0)
        fin = ai.financing
        dscr = "" if fin is None or fin.min_dscr is None else f", min DSCR {fin.min_dscr:.2f}"
        eq = "" if ai.equity_irr is None else f", equity IRR {fmt_fraction_pct(ai.equity_irr, 1)}"
        tv = (f" \u00b7 AI NPV {fmt_usd_m(ai.npv_usd)} of which exit {share} (without exit "
              f"{fmt_usd_m(ai.npv_excl_terminal_usd)}){eq}{dscr} at {fmt_fraction_pct(a.debt_share, 0)} debt")
    capex_mw = comp.conversion_capex_usd / comp.it_mw / 1e6 if comp.it_mw else 0.0
    basis = ASSUMPTIONS["power_price_basis"].choice_label(a.power_price_basis)
    tenant = ASSUMPTIONS["tenant_class"].choice_label(a.tenant_class)
    return (f"Scenario {a.scenario} \u00b7 {comp.gross_mw:,.0f} MW gross, {comp.it_mw:,.0f} MW critical IT \u00b7 "
            f"power {price:,.1f} $/MWh ({a.power_contract}, {basis}) \u00b7 "
            f"installed fleet {comp.fleet_mw:,.0f} MW at {comp.fleet_j_per_th or 0:g} J/TH \u00b7 BTC "
            f"${a.btc_price_usd:,.0f} \u00b7 lease ${a.lease_rate_usd_per_kw_month:,.0f}/kW-month at {noi} NOI, "
            f"{a.lease_term_years}-yr term, +{fmt_fraction_pct(a.lease_escalator_per_year, 1)}/yr, "
            f"{tenant} tenant (+{fmt_fraction_pct(a[f'spread_{a.tenant_class}'], 1)}), "
            f"exit {a.ai_exit_multiple_noi:g}x NOI \u00b7 site conversion ${capex_mw:,.1f}M/MW IT, "
            f"{comp.build_months or 0:,.0f} months to first capacity \u00b7 discount {rate}, {comp.years} yr{tv}{notes}")


@dataclass(frozen=True)
class TornadoData:
    """One path's one-at-a-time NPV sensitivities around its base NPV."""

    path: str
    bars: Sequence[TornadoBar]
    base_npv_usd: float
    swing: float = 0.2
    max_bars: int = 10
    #: Why there are no bars (e.g. energized MW unknown), shown in place of the chart.
    empty_reason: str = ""

    @property
    def steps(self) -> str:
        """How the inputs were moved (``+-20 %; +-5 pp; +-2 pp``): relative, or absolute for rates and zeros."""
        from planner.model.scenarios import step_summary

        return step_summary(list(self.bars)[: self.max_bars])


# -- hybrid --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class HybridWeek:
    """One week (1-52) of a simulated hybrid year."""

    result: HybridResult
    week: int = 1
    site_id: str = ""

    @property
    def hours(self) -> slice:
        """Slice of the 8,760 hours in this week."""
        w = min(max(int(self.week), 1), WEEKS_PER_YEAR)
        return slice((w - 1) * 168, w * 168)

    @property
    def start_date(self) -> _dt.date:
        """Calendar date of the week's first hour in the representative year."""
        return _dt.date(REPRESENTATIVE_YEAR, 1, 1) + _dt.timedelta(days=(min(max(self.week, 1), 52) - 1) * 7)


def hybrid_figures(result: HybridResult) -> list[tuple[str, str]]:
    """Key figures of a hybrid year as (label, formatted value) rows."""
    s = result.steadiness
    rev = result.revenue_by_stream_usd
    p = result.params
    return [
        ("Interconnect / AI IT / mining fleet", f"{p.interconnect_mw:,.0f} / {p.it_mw:,.0f} / "
                                                f"{p.mining_capacity_mw:,.0f} MW"),
        ("Mining capacity factor", fmt_fraction_pct(result.mining_capacity_factor, 1)),
        ("Whole-site load factor", fmt_fraction_pct(result.site_load_factor, 1)),
        ("Load variability (std/mean), AI alone", f"{s['cv_ai']:.3f}"),
        ("Load variability (std/mean), AI + mining", f"{s['cv_total']:.3f} ({s['cv_reduction_pct']:+.0f} % steadier)"
         if s["cv_reduction_pct"] >= 0 else f"{s['cv_total']:.3f} ({-s['cv_reduction_pct']:.0f} % less steady)"),
        ("p5-p95 band, AI alone / AI + mining", f"{s['band_ai_mw']:,.1f} / {s['band_total_mw']:,.1f} MW"),
        ("Lease NOI per year", fmt_usd_m(rev["lease_noi"])),
        ("Mining net per year (revenue + resale - power)", fmt_usd_m(rev["mining_net"])),
    ]


def hybrid_caption(result: HybridResult, a: Assumptions) -> str:
    """The hybrid model's inputs in one line."""
    p = result.params
    inference, idle = fmt_fraction_pct(p.inference_share, 0), fmt_fraction_pct(p.idle_fraction, 0)
    share = fmt_fraction_pct(a.hybrid_mining_share, 0)
    return (f"Scenario {a.scenario} \u00b7 hourly model, representative year {REPRESENTATIVE_YEAR}, seed "
            f"{a.price_series_seed} (synthetic ERCOT-West-like prices, mean {p.power_price_usd_per_mwh:,.1f} $/MWh) "
            f"\u00b7 AI: {p.it_mw:,.0f} MW IT x PUE {p.pue_ai:g}, inference share {inference}, idle {idle} \u00b7 "
            f"miners ({share} of gross) run when price < "
            f"breakeven {p.breakeven_usd_per_mwh:,.0f} $/MWh and off in demand-response"
            + (" and ERCOT 4CP alert" if p.fourcp else "") + f" hours \u00b7 reserve {p.reserve_mw:,.0f} MW")


# -- market context ------------------------------------------------------------------------------
def market_caption() -> str:
    """Sources of the market charts."""
    return ("Sources: US data-center demand ~21 GW in 2024 (+31 %), ~45 GW by 2030 (DOE, CBRE; years between "
            f"interpolated at {demand_cagr() * 100:.1f} %/yr, hollow markers) \u00b7 lease deals = contract value / "
            "term / MW from public announcements \u00b7 colocation asking rate CBRE H2 2024 \u00b7 rack density "
            "2020 average and GB200 NVL72 class (NVIDIA) \u00b7 interconnection waits DOE/CBRE \u00b7 all as summarised "
            "in docs/DOMAIN.md sections 1 and 4")


@dataclass(frozen=True, eq=False)
class DemandData:
    """US data-center power demand by year (GW); ``derived`` marks interpolated points."""

    years: np.ndarray
    gw: np.ndarray
    derived: np.ndarray
    sources: tuple[str, ...]


def demand_data() -> DemandData:
    """:data:`planner.model.market.US_DC_DEMAND` as arrays."""
    pts = US_DC_DEMAND
    return DemandData(np.array([p.year for p in pts], dtype=float), np.array([p.demand_gw for p in pts], dtype=float),
                      np.array([p.derived for p in pts]), tuple(p.source for p in pts))


@dataclass(frozen=True, eq=False)
class LeaseDealsData:
    """Public lease deals (ascending, $M per MW-year) with the CBRE colocation rate and the model's lease rate."""

    labels: tuple[str, ...]
    usd_m_per_mw_year: np.ndarray
    usd_per_kw_month: np.ndarray
    sources: tuple[str, ...]
    cbre_usd_m_per_mw_year: float
    cbre_usd_per_kw_month: float
    model_usd_m_per_mw_year: float | None = None
    model_usd_per_kw_month: float | None = None


def lease_deals_data(assumptions: Assumptions | None = None) -> LeaseDealsData:
    """:data:`planner.model.market.LEASE_DEALS` sorted by value, the CBRE rate and ``lease_rate_usd_per_kw_month``."""
    deals = sorted(LEASE_DEALS, key=lambda d: d.usd_m_per_mw_year)
    cbre = float(FIGURES["cbre_colo_rate_usd_per_kw_month"].value)
    model = None if assumptions is None else float(assumptions.lease_rate_usd_per_kw_month)
    return LeaseDealsData(tuple(f"{d.landlord} - {d.tenant}" for d in deals),
                          np.array([d.usd_m_per_mw_year for d in deals]), np.array([d.usd_per_kw_month for d in deals]),
                          tuple(d.source for d in deals), usd_per_kw_month_to_musd_per_mw_year(cbre), cbre,
                          None if model is None else usd_per_kw_month_to_musd_per_mw_year(model), model)


@dataclass(frozen=True, eq=False)
class RangeData:
    """Labelled ranges ``low``-``high`` (``high`` NaN = a single value) with units, sources and a kind per row."""

    labels: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray
    unit: str
    sources: tuple[str, ...]
    kinds: tuple[str, ...]


def rack_density_data() -> RangeData:
    """Rack density then and now (kW/rack): 2020 average, legacy hall cap, GB200 NVL72 class."""
    figs = [FIGURES[k] for k in ("rack_density_2020_kw", "rack_density_legacy_cap_kw", "rack_density_gb200_kw")]
    return RangeData(("2020 average", "legacy hall cap", "GB200 NVL72 class"), np.array([f.value for f in figs]),
                     np.array([np.nan if f.high is None else f.high for f in figs]), figs[0].unit,
                     tuple(f"{f.label} \u2014 {f.source}" for f in figs), ("past", "mining", "ai"))


#: Greenfield data-center build time: DOMAIN section 4 says "4+ years"; 60 months is the assumed upper end.
GREENFIELD_MONTHS = (48.0, 60.0)


def time_to_power_data() -> RangeData:
    """Months to AI capacity: a new grid interconnection, a converted mining site, a greenfield build."""
    wait = FIGURES["interconnection_wait_years"]
    build = FIGURES["build_months_converted"]
    return RangeData(
        ("New 300 MW-1 GW+ grid interconnection", "Converted mining site: lease to first capacity",
         "Greenfield data center"),
        np.array([wait.value * 12, build.value, GREENFIELD_MONTHS[0]]),
        np.array([(wait.high or wait.value) * 12, build.high or build.value, GREENFIELD_MONTHS[1]]), "months",
        (wait.source, build.source, "4+ years greenfield, docs/DOMAIN.md section 4 (upper end assumed)"),
        ("grid", "converted", "greenfield"))


def capex_data() -> RangeData:
    """Reported capex ranges ($M per MW): AI conversions and a mining build."""
    rows = list(CAPEX_RANGES)
    return RangeData(tuple(r.who for r in rows), np.array([r.low_usd_m_per_mw for r in rows]),
                     np.array([r.high_usd_m_per_mw for r in rows]), "$M per MW", tuple(r.source for r in rows),
                     tuple("mining" if r.who.lower().startswith("bitcoin mining") else "ai" for r in rows))


# -- portfolio (reports) -------------------------------------------------------------------------
@dataclass(frozen=True)
class MwGroups:
    """MW per group: labels, energized and pipeline MW (known values), sites with unknown MW."""

    title: str
    labels: Sequence[str]
    energized_mw: Sequence[float]
    pipeline_mw: Sequence[float]
    unknown_sites: Sequence[int]
    max_groups: int = 14


class _MwRow(Protocol):
    label: str
    energized_mw: float
    pipeline_mw: float
    unknown_energized: int
    unknown_pipeline: int


def mw_groups(title: str, rows: Sequence[_MwRow]) -> MwGroups:
    """MW per group from aggregate rows (label, known energized and pipeline MW, sites with unknown MW)."""
    return MwGroups(title, [r.label for r in rows], [r.energized_mw for r in rows], [r.pipeline_mw for r in rows],
                    [max(r.unknown_energized, r.unknown_pipeline) for r in rows])
