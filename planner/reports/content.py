"""Report content: plain dataclasses built from the model, ready for the HTML templates (no Qt).

Step one of content -> HTML -> PDF. Every figure is formatted here, once, with its unit and
thousands separators (``$12.3M``, ``345 kV``, ``1.2 km``); an unknown value is the word
``"unknown"``, never 0. Images (map snapshot, charts) are :class:`ReportImage` slots whose PNG
bytes the Qt step (:mod:`planner.reports.render_qt`) fills in; the HTML step draws a labelled
empty frame for a slot without bytes.
"""
from __future__ import annotations

import datetime as _dt
import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from planner import __version__
from planner.fmt import (UNKNOWN, fmt_choice, fmt_fraction_pct, fmt_km, fmt_kv, fmt_months, fmt_mw,  # noqa: F401
                         fmt_number, fmt_pct, fmt_score, fmt_usd)
from planner.gis.kinds import kinds_feeding
from planner.model.assumptions import ASSUMPTIONS, GROUP_LABELS as ASSUMPTION_GROUPS, Assumptions, \
    assumptions_from_settings, coerce_assumption
from planner.model.chart_data import mining_data
from planner.model.economics import NEEDS_ENERGIZED, PathComparison, PathResult, site_paths
from planner.model.fields import FIELD_LIST, GROUP_LABELS, field_parts, field_text, humanize_field_names
from planner.model.readiness import READINESS_CLASSES, ReadinessResult, next_facts, rank_results, score_site
from planner.model.site import PlannerError, Site

Progress = Callable[[float], None]

# Computed text fields about a line class that only clutter the table when unknown.
_OPTIONAL_COMPUTED = re.compile(r"^line_\d+kv_(operator|name)$")
_TABLE_SKIP = {"notes", "sources"}  # shown as their own sections


class ReportError(PlannerError, ValueError):
    """A report request that cannot be met (unknown site, bad paper size, ...): what, why, fix."""


# --------------------------------------------------------------------------------------------
# formatting (one place; every template shows these strings)
# --------------------------------------------------------------------------------------------
def fmt_field(name: str, value: Any) -> str:
    """A site field's value formatted by its :class:`FieldSpec` (unit, kind); None -> "unknown".

    The form, the sites table and the map popup use the same rule (:func:`planner.model.fields.field_text`).
    """
    return field_text(name, value)


def _lower_bound(text: str, result: ReadinessResult, short: bool = False) -> str:
    """Upgrade capex / time to power as the reader should take them.

    Nothing found on a Ready-now site, or with every field known, means nothing is needed ("none
    needed"); nothing found while fields are unknown is not the same ("none identified (data
    incomplete)", in tables "unknown (data gaps)"); a found total with unknown fields is a lower
    bound ("≥ $12M").
    """
    if text == UNKNOWN:
        return text
    complete = result.completeness_pct >= 100
    if re.match(r"^\$?0(\.0+)?\b", text):
        if complete or result.klass == "ready_now":
            return "none needed"
        # the short form (ranking table) too must not read as "nothing needed" (QA)
        return "unknown (data gaps)" if short else "none identified (data incomplete)"
    return text if complete else "\u2265 " + text


def _sources(text: str | None) -> list[str]:
    if not text:
        return []
    return [s.strip() for s in re.split(r"\s;\s|\n|\s+\|\s+", text) if s.strip()]


# --------------------------------------------------------------------------------------------
# content dataclasses
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReportImage:
    """A picture slot: title, caption, size in CSS px and (once rendered) the encoded image.

    ``data`` holds PNG or JPEG bytes (``mime``); maps go in as JPEG because Chromium's PDF
    writer embeds JPEG as is but recompresses PNG (several times slower for an atlas).
    """

    key: str
    title: str
    caption: str = ""
    width_px: int = 900
    height_px: int = 500
    data: bytes | None = None
    mime: str = "image/png"


@dataclass(frozen=True)
class KeyFigure:
    """A labelled, formatted value (``Energized``, ``700 MW``)."""

    label: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class AttributeRow:
    """One site attribute: group, label, unit, the value's number/words without the unit, and where it came from."""

    group: str
    label: str
    unit: str
    value: str
    source: str
    known: bool


@dataclass(frozen=True)
class CriterionRow:
    """One readiness criterion: sub-score, weight, reason, gate."""

    label: str
    score: str
    weight: str
    reason: str
    missing: bool
    gate_failed: bool


@dataclass(frozen=True)
class UpgradeRow:
    """One upgrade the site needs: what, why, capex, months, critical."""

    label: str
    detail: str
    capex: str
    months: str
    critical: bool
    on_power_path: bool


@dataclass(frozen=True)
class EconomicsTable:
    """The three paths side by side: column headers and rows of (metric, values per path)."""

    paths: list[str]
    rows: list[tuple[str, list[str]]]
    facts: list[KeyFigure]
    notes: list[str]
    best_path: str | None
    unavailable_reason: str | None = None
    #: What the answer rests on: (group, label, value, unit, source) from planner.model.drivers.
    drivers: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    #: Secondary estimates shown below the NPV table, never as headline figures (the market-multiple view).
    secondary: list[KeyFigure] = field(default_factory=list)


@dataclass(frozen=True)
class AssumptionRow:
    """One assumption in force: group, key, label, value, unit, source."""

    group: str
    key: str
    label: str
    value: str
    unit: str
    source: str
    changed: bool


@dataclass(frozen=True)
class Attribution:
    """One data source credit (from DATA_ATTRIBUTION.md)."""

    layer: str
    source: str
    licence: str
    credit: str


@dataclass(frozen=True)
class SiteSection:
    """Everything about one site that a site report or an atlas page shows."""

    site_id: str
    name: str
    subtitle: str
    summary: list[KeyFigure]
    total: str
    klass: str
    class_label: str
    gates_failed: list[str]
    criteria: list[CriterionRow]
    upgrades: list[UpgradeRow]
    capex_total: str
    time_to_power: str
    attributes: list[AttributeRow]
    sources: list[str]
    notes: list[str]
    economics: EconomicsTable
    map_image: ReportImage | None = None
    charts: list[ReportImage] = field(default_factory=list)
    #: "band 28-91" (unknowns at worst - at best; empty when every fact is known) and the unknown facts
    #: ranked by how far they can move the class, then the total (planner.model.readiness.next_facts)
    band: str = ""
    next_facts: list[str] = field(default_factory=list)
    # the model objects behind the figures, for the chart step (not shown as text)
    result: ReadinessResult | None = field(default=None, repr=False, compare=False)
    comparison: PathComparison | None = field(default=None, repr=False, compare=False)
    mining: Any = field(default=None, repr=False, compare=False)  # planner.model.chart_data.MiningData


@dataclass(frozen=True)
class ReportMeta:
    """Title block: title, subtitle, date, app version, project, scenario, weights profile."""

    title: str
    subtitle: str
    date: str
    app_version: str
    project: str
    scenario: str
    weights_profile: str
    paper: str = "a4"


@dataclass(frozen=True)
class SiteReport:
    """Content of a one-site report."""

    meta: ReportMeta
    site: SiteSection
    assumptions: list[AssumptionRow]
    attributions: list[Attribution]
    layer_sources: list[str]


@dataclass(frozen=True)
class RankingRow:
    """One line of the portfolio ranking table."""

    rank: int
    site_id: str
    name: str
    operator: str
    region: str
    energized: str
    pipeline: str
    score: str
    klass: str
    class_label: str
    gated: bool
    completeness: str
    capex: str
    time_to_power: str


@dataclass(frozen=True)
class AggregateRow:
    """MW totals of a group of sites (a readiness class or a state/country)."""

    label: str
    sites: int
    energized: str
    pipeline: str
    unknown_energized: int
    unknown_pipeline: int
    energized_mw: float
    pipeline_mw: float


@dataclass(frozen=True)
class PortfolioReport:
    """Content of a portfolio report: ranking, aggregates, map, charts, optional atlas pages."""

    meta: ReportMeta
    summary: list[KeyFigure]
    ranking: list[RankingRow]
    by_class: list[AggregateRow]
    by_region: list[AggregateRow]
    map_image: ReportImage | None
    charts: list[ReportImage]
    atlas: list[SiteSection]
    assumptions: list[AssumptionRow]
    attributions: list[Attribution]
    layer_sources: list[str]
    notes: list[str] = field(default_factory=list)
    # readiness results by site_id, for the chart step (not shown as text)
    results: Mapping[str, ReadinessResult] = field(default_factory=dict, repr=False, compare=False)


# --------------------------------------------------------------------------------------------
# builders
# --------------------------------------------------------------------------------------------
def find_site(portfolio: Any, site_id: str) -> Site:
    """The site ``site_id`` of ``portfolio``; an unknown id raises :class:`ReportError` naming close matches."""
    ids = list(portfolio.ids())
    if site_id in ids:
        return portfolio.get(site_id)  # type: ignore[no-any-return]
    folded = {i.casefold(): i for i in ids}
    if site_id.casefold() in folded:
        close = [folded[site_id.casefold()]]
    else:
        close = difflib.get_close_matches(site_id.upper(), [i.upper() for i in ids], n=3, cutoff=0.7)  # 0.5 matched NOPE to CORZ-PEC (QA)
        close = [next(i for i in ids if i.upper() == c) for c in close]
    hint = f"did you mean {', '.join(close)}?" if close else \
        f"choose one of: {', '.join(ids[:12])}{' ...' if len(ids) > 12 else ''}" if ids else "the project has no sites"
    raise ReportError(f"no site with site_id {site_id!r}; {hint}")


def parse_attributions(markdown: str) -> list[Attribution]:
    """The rows of the first table (layer | source | licence | credit) of DATA_ATTRIBUTION.md."""
    out: list[Attribution] = []
    for line in markdown.splitlines():
        line = line.strip()
        if not line.startswith("|"):
            if out:
                break
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) < 4 or set("".join(cells)) <= set("-: ") or cells[0].lower() == "layer":
            continue
        clean = [c.replace("`", "") for c in cells[:4]]
        out.append(Attribution(*clean))
    return out


def load_attributions() -> list[Attribution]:
    """Data credits of the bundled data (resources/DATA_ATTRIBUTION.md)."""
    from planner.assets import asset_path

    return parse_attributions(asset_path("resources", "DATA_ATTRIBUTION.md").read_text(encoding="utf-8"))


def layer_sources(project: Any) -> list[str]:
    """Distinct ``title: source`` lines of the project's layers, in layer order."""
    out: list[str] = []
    for layer in project.layers.values():
        src = (layer.source or "").strip()
        line = f"{layer.title}: {src}" if src else str(layer.title)
        if line not in out:
            out.append(line)
    return out


def _layer_source_by_kind(project: Any) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    for layer in project.layers.values():
        out.setdefault(layer.kind, []).append(str(layer.title))
    return {k: ", ".join(v) for k, v in out.items()}


def assumption_rows(assumptions: Assumptions) -> list[AssumptionRow]:
    """Every assumption in force with its unit and source; ``changed`` marks non-defaults."""
    rows = []
    for key, spec in ASSUMPTIONS.items():
        value = assumptions[key]
        text, unit = spec.display_parts(value)  # the editor's and the CLI's rule (planner.fmt)
        try:
            default = coerce_assumption(key, spec.default, assumptions.catalogue)
        except PlannerError:  # pragma: no cover - defaults are valid by construction
            default = spec.default
        rows.append(AssumptionRow(ASSUMPTION_GROUPS.get(spec.group, spec.group), key, spec.label, text,
                                  unit, spec.display_source, value != default))
    return rows


def _attributes(site: Site, project: Any) -> list[AttributeRow]:
    by_kind = _layer_source_by_kind(project)
    rows = []
    for fs in FIELD_LIST:
        if fs.name in _TABLE_SKIP:
            continue
        value = site.get(fs.name)
        if fs.computed and value is None and _OPTIONAL_COMPUTED.match(fs.name):
            continue
        if fs.computed:
            kinds = kinds_feeding(fs.group)
            layers = [by_kind[k] for k in kinds if k in by_kind]
            source = "computed from " + "; ".join(layers) if layers else "computed (layer not in project)"
        else:
            source = "site record"
        # the number and its unit in their own columns: "2,000" | "MW", not "2,000 MW" | "MW"
        text, unit = field_parts(fs.name, value)
        rows.append(AttributeRow(GROUP_LABELS.get(fs.group, fs.group), fs.label, unit, text, source,
                                 value is not None))
    return rows


def _path_value(p: PathResult | None, fn: Callable[[PathResult], str], headline: bool = False) -> str:
    if p is None:
        return UNKNOWN
    if p.unavailable_reason:
        if headline and p.unavailable_reason.startswith(NEEDS_ENERGIZED):
            return NEEDS_ENERGIZED  # the NPV row says why (unknown energized MW is never $0)
        return "n/a"
    return fn(p)


def _irr(p: PathResult) -> str:
    if p.irr is not None:
        return fmt_fraction_pct(p.irr)
    if not (p.cash_flows_usd < 0).any():
        return "n/a (no investment)"
    return "none (cash never turns positive)" if (p.cash_flows_usd <= 0).all() else "none"


def economics_table(comp: PathComparison, assumptions: Assumptions) -> EconomicsTable:
    """Key figures of mining, AI lease, hybrid and selling for one site as formatted rows, with the drivers."""
    from planner.model.drivers import site_drivers
    from planner.model.economics import PATH_LABELS

    names = ["mining", "ai_lease", "hybrid", "sell"] + (["bridge"] if comp.bridge is not None else [])
    headers = [PATH_LABELS[n] for n in names]
    if comp.unavailable_reason:
        return EconomicsTable(headers, [], [], list(comp.notes), None, comp.unavailable_reason)
    paths: list[PathResult | None] = [getattr(comp, n) for n in names]
    horizon = comp.years
    a = assumptions

    def row(label: str, fn: Callable[[PathResult], str], headline: bool = False) -> tuple[str, list[str]]:
        return label, [_path_value(p, fn, headline) for p in paths]

    def share(p: PathResult) -> str:
        if not p.terminal_value_usd:
            return "none"
        if p.terminal_share is None:
            return f"{fmt_usd(p.terminal_value_pv_usd)} (NPV not positive)"
        return f"{fmt_usd(p.terminal_value_pv_usd)} ({fmt_fraction_pct(p.terminal_share, 0)} of NPV)"

    def fin(p: PathResult, what: str) -> str:
        f = p.financing
        if f is None or f.debt_usd <= 0:
            return "no debt" if what == "dscr" else _irr(p)
        if what == "dscr":
            return "n/a" if f.min_dscr is None else f"{f.min_dscr:.2f}"
        return "none" if f.equity_irr is None else fmt_fraction_pct(f.equity_irr)

    rows = [
        row("Option", lambda p: p.option or "-"),
        row("Initial capex (spread over the build)", lambda p: fmt_usd(p.capex_usd)),
        row(f"NPV over {horizon} years at {a.discount_rate * 100:.4g} %", lambda p: fmt_usd(p.npv_usd), True),
        row("NPV without terminal value", lambda p: fmt_usd(p.npv_excl_terminal_usd)),
        row("Terminal value (present value, share of NPV)", share),
        row("NPV per gross MW", lambda p: fmt_usd(p.npv_usd_per_mw)),
        row("IRR", _irr),
        row(f"Equity IRR ({a.debt_share:.0%} debt at {a.debt_rate:.1%})", lambda p: fin(p, "irr")),
        row("Minimum DSCR", lambda p: fin(p, "dscr")),
        row("Payback", lambda p: "no new capex" if p.capex_usd == 0 else f"{p.payback_years:.1f} years"
            if p.payback_years is not None else f"not within {horizon} years"),
        row("Net operating cash per MW per year", lambda p: fmt_usd(p.annual_net_usd_per_mw)),
        row("Value of an electron", lambda p: fmt_number(p.usd_per_mwh, "$/MWh") if p.usd_per_mwh is not None
            else UNKNOWN),
    ]
    notes = list(comp.notes)
    for p in paths:
        if p is not None:
            notes += [f"{p.label}: {n}" for n in p.notes]
            if p.unavailable_reason:
                notes.append(f"{p.label}: {p.unavailable_reason}")
    for k, (lo, hi) in comp.energized_range.items():
        notes.append(f"Energized MW unknown: {PATH_LABELS[k]} NPV {fmt_usd(lo)} with nothing energized, "
                     f"{fmt_usd(hi)} with all gross MW energized")
    best = comp.best_path
    facts = [
        KeyFigure("Gross site power", fmt_mw(comp.gross_mw)),
        KeyFigure("Critical IT power", fmt_mw(comp.it_mw)),
        KeyFigure("Power price used", fmt_number(comp.power_price_usd_per_mwh, "$/MWh")),
        KeyFigure("Installed fleet", f"{comp.fleet_mw:,.0f} MW at {comp.fleet_j_per_th:g} J/TH", comp.fleet_source),
        KeyFigure("AI conversion capex", fmt_usd(comp.conversion_capex_usd),
                  "; ".join(f"{i.label} {fmt_usd(i.usd)}" for i in comp.capex_items)),
        KeyFigure("Build to first AI capacity", fmt_months(comp.build_months), comp.build_basis),
        KeyFigure("Lease", f"{a.lease_term_years} yr, {_shown(a, 'lease_escalator_per_year')} escalator",
                  f"renewal {_shown(a, 'lease_renewal_probability')}, tenant {_shown(a, 'tenant_class')} "
                  f"(+{_shown(a, f'spread_{a.tenant_class}')} on the discount rate), "
                  f"exit {_shown(a, 'ai_exit_multiple_noi')}"),
        KeyFigure("Best path by NPV", PATH_LABELS[best] if best else UNKNOWN),
    ]
    if comp.best_bridge_year is not None and len(comp.bridge_npv_usd):
        n = comp.best_bridge_year
        what = ("convert now: the AI lease path above" if n == 0 else "never convert: the mining path above"
                if n >= comp.years else "mine first, then convert: the bridge column above")
        facts.append(KeyFigure("Best year to sign the AI lease (bridge)", f"year {n}",
                               f"NPV {fmt_usd(float(comp.bridge_npv_usd[n]))}; {what}"))
    secondary = [valuation_figure(comp)]
    drivers = [(d.group, d.label, d.value, d.unit, d.source) for d in site_drivers(comp, a)]
    return EconomicsTable(headers, rows, facts, notes, PATH_LABELS[best] if best else None, drivers=drivers,
                          secondary=secondary)


def valuation_figure(comp: PathComparison) -> KeyFigure:
    """The market-multiple view as a labelled secondary line ("n/a" without energized MW)."""
    label = "Market-multiple view (secondary estimate, not an NPV)"
    v = comp.valuation
    if v is None:
        why = ("energized MW unknown: enter them" if comp.energized_mw is None
               else "no energized MW: no operating EBITDA to apply a multiple to")
        return KeyFigure(label, "n/a", why)
    return KeyFigure(label, f"{fmt_usd(v.uplift_usd)} uplift",
                     f"AI {fmt_usd(v.ev_ai_usd)} ({v.datacenter_multiple:g}x year-{v.ai_stabilised_year} NOI "
                     f"{fmt_usd(v.ai_ebitda_usd)}, discounted, less {fmt_usd(v.conversion_capex_pv_usd)} capex PV) vs "
                     f"mining {fmt_usd(v.ev_mining_usd)} ({v.miner_multiple:g}x EBITDA {fmt_usd(v.mining_ebitda_usd)}); "
                     "editable multiples")


def _shown(a: Assumptions, key: str) -> str:
    """Assumption ``key`` as the editor, the CLI and the tables show it (``2.5 %/yr``, ``60 %``)."""
    return ASSUMPTIONS[key].display(a[key])


def _region(site: Site) -> str:
    parts = [p for p in (site.admin1, site.country) if p]
    return ", ".join(parts) if parts else UNKNOWN


def site_section(project: Any, site: Site, result: ReadinessResult, comp: PathComparison,
                 assumptions: Assumptions, *, with_images: bool = True, as_of: _dt.date | None = None) -> SiteSection:
    """The content of one site (readiness, upgrades, economics, attributes, sources)."""
    notes: list[str] = []
    if site.location_precision and site.location_precision != "exact":
        notes.append(f"Location precision: {fmt_choice(site.location_precision)}; the point is not the "
                     "facility footprint, so computed distances carry errors of several km.")
    if site.notes:
        notes += [humanize_field_names(ln.strip()) for ln in str(site.notes).splitlines() if ln.strip()]
    if not site.has_location:
        notes.append("The site has no location: no map and no computed distances.")
    summary = [
        KeyFigure("Operator", site.operator or UNKNOWN),
        KeyFigure("Location", ", ".join(p for p in (site.locality, site.admin1, site.country) if p) or UNKNOWN),
        KeyFigure("Status", fmt_choice(site.status)),
        KeyFigure("Gross capacity", fmt_mw(site.power_capacity_mw)),
        KeyFigure("Energized", fmt_mw(site.energized_mw)),
        KeyFigure("Pipeline", fmt_mw(site.pipeline_mw)),
        KeyFigure("AI/HPC partner", site.ai_partner or "none known"),
        KeyFigure("Data completeness", fmt_pct(result.completeness_pct)),
    ]
    criteria = [CriterionRow(c.label, f"{c.score:.0f}" if c.low == c.high else f"{c.score:.0f} ({c.low:.0f}-{c.high:.0f})",
                             f"{c.weight:g}", humanize_field_names(c.reason), c.missing, c.gate_failed)
                for c in result.criteria]
    facts = [f.sentence for f in next_facts(site, project.portfolio.settings, as_of=as_of, result=result)]
    band = "" if result.total_low == result.total_high else \
        f"band {result.total_low:.0f}-{result.total_high:.0f}"
    upgrades = [UpgradeRow(u.label, humanize_field_names(u.detail), fmt_usd(u.capex_usd), fmt_months(u.months),
                           u.critical, u.on_power_path) for u in result.upgrades]
    images: dict[str, Any] = {}
    if with_images:
        if site.has_location:
            images["map_image"] = ReportImage(
                "site_map", f"{site.name} and its surroundings",
                "Site (highlighted) with transmission lines by voltage class, substations, fibre routes, "
                "points of presence and stranded-energy regions of the project layers.", 900, 580)
        images["charts"] = [
            ReportImage("readiness", "Readiness sub-scores", "Each criterion's 0-100 sub-score; gates in red.",
                        800, 420),
        ] + ([] if comp.unavailable_reason else [
            ReportImage("paths_cash", "Annual cash flow by path", "Cash flow per year of each path, the build's "
                        "capex in the years it is spent; initial capex and exit value in the legend.", 800, 340),
            ReportImage("paths_npv", "NPV by path", f"NPV at {assumptions.discount_rate * 100:.4g} % over "
                        f"{comp.years} years.", 480, 330),
            ReportImage("bridge", "Bridge path: NPV by conversion year",
                        "Keep mining, convert to AI/HPC in year N.", 480, 330),
            ReportImage("mining_outlook", "Mining outlook: hashprice vs the network's marginal cost",
                        "Hashprice outlook, the marginal fleet's cash cost, each model's breakeven and the installed "
                        "fleet's power cost at this site ($/PH/day).", 800, 360),
            ReportImage("network_outlook", "Network difficulty outlook",
                        "Difficulty implied by the outlook (hashrate = difficulty x 2^32 / 600); halvings dotted.",
                        800, 300),
        ])
    sub = " \u00b7 ".join(p for p in (site.site_id, site.operator, _region(site)) if p and p != UNKNOWN)
    return SiteSection(
        site_id=str(site.site_id), name=str(site.name), subtitle=sub, summary=summary,
        total=fmt_score(result.total), klass=result.klass, class_label=result.class_text,
        gates_failed=[humanize_field_names(g) for g in result.gates_failed], criteria=criteria, upgrades=upgrades,
        capex_total=_lower_bound(fmt_usd(result.capex_total_usd), result),
        time_to_power=_lower_bound(fmt_months(result.time_to_power_months), result),
        attributes=_attributes(site, project), sources=_sources(site.sources), notes=notes,
        economics=economics_table(comp, assumptions), result=result, comparison=comp, band=band,
        next_facts=[humanize_field_names(f) for f in facts],
        mining=None if comp.unavailable_reason or not with_images else mining_data(site, assumptions), **images)


def _meta(project: Any, title: str, subtitle: str, today: _dt.date | None, paper: str) -> ReportMeta:
    portfolio = project.portfolio
    settings = portfolio.settings or {}
    return ReportMeta(title=title, subtitle=subtitle, date=(today or _dt.date.today()).isoformat(),
                      app_version=__version__, project=str(portfolio.name),
                      scenario=str(settings.get("scenario") or "base"),
                      weights_profile=str(settings.get("weights_profile") or "default"), paper=paper)


def check_paper(paper: str) -> str:
    """Normalise a paper name (``a4`` or ``letter``); raises :class:`ReportError` otherwise."""
    p = str(paper).strip().lower()
    if p not in ("a4", "letter"):
        raise ReportError(f"paper {paper!r} is not supported; use a4 or letter")
    return p


def build_site_report(project: Any, site_id: str, *, paper: str = "a4", as_of: _dt.date | None = None,
                      today: _dt.date | None = None) -> SiteReport:
    """Content of the report on ``site_id`` of ``project`` (scores and economics with its settings)."""
    paper = check_paper(paper)
    portfolio = project.portfolio
    site = find_site(portfolio, site_id)
    assumptions = assumptions_from_settings(portfolio.settings)
    result = score_site(site, portfolio.settings, as_of=as_of)
    comp = site_paths(site, assumptions)
    section = site_section(project, site, result, comp, assumptions, as_of=as_of)
    meta = _meta(project, f"Site report: {site.name}", "AI/HPC conversion readiness and economics", today, paper)
    return SiteReport(meta, section, assumption_rows(assumptions), load_attributions(), layer_sources(project))


def _sum(values: Iterable[float | None]) -> tuple[float, int]:
    total, unknown = 0.0, 0
    for v in values:
        if v is None:
            unknown += 1
        else:
            total += float(v)
    return total, unknown


def _aggregate(label: str, sites: Sequence[Site]) -> AggregateRow:
    en, en_u = _sum(s.energized_mw for s in sites)
    pi, pi_u = _sum(s.pipeline_mw for s in sites)

    def txt(v: float, unknown: int) -> str:
        if unknown == len(sites):
            return UNKNOWN
        return fmt_mw(v) + (f" (+{unknown} unknown)" if unknown else "")

    return AggregateRow(label, len(sites), txt(en, en_u), txt(pi, pi_u), en_u, pi_u, en, pi)


def build_portfolio_report(project: Any, *, paper: str = "a4", atlas: bool = False,
                           as_of: _dt.date | None = None, today: _dt.date | None = None,
                           progress: Progress | None = None) -> PortfolioReport:
    """Content of the portfolio report: ranking, MW aggregates, map and chart slots, atlas sections."""
    paper = check_paper(paper)
    portfolio = project.portfolio
    sites = {s.site_id: s for s in portfolio}
    if not sites:
        raise ReportError("the project has no sites; add or import sites before making a portfolio report")
    settings = portfolio.settings or {}
    results = {sid: score_site(s, settings, as_of=as_of) for sid, s in sites.items()}
    ranked = rank_results(results.values())
    ranking = []
    for i, r in enumerate(ranked, start=1):
        s = sites[r.site_id]
        ranking.append(RankingRow(
            i, r.site_id, str(s.name), s.operator or UNKNOWN, _region(s), fmt_mw(s.energized_mw),
            fmt_mw(s.pipeline_mw), r.band_text, r.klass, r.class_text, bool(r.gates_failed),
            fmt_pct(r.completeness_pct), _lower_bound(fmt_usd(r.capex_total_usd), r, short=True),
            _lower_bound(fmt_months(r.time_to_power_months), r, short=True)))
    by_class = []
    for klass, label in READINESS_CLASSES.items():
        members = [sites[r.site_id] for r in ranked if r.klass == klass]
        if members:
            by_class.append(_aggregate(label, members))
    regions: dict[str, list[Site]] = {}
    for s in sites.values():
        regions.setdefault(_region(s), []).append(s)
    by_region = sorted((_aggregate(k, v) for k, v in regions.items()),
                       key=lambda a: (-(a.energized_mw + a.pipeline_mw), a.label))
    total = _aggregate("All sites", list(sites.values()))
    located = sum(1 for s in sites.values() if s.has_location)
    scored = [r.total for r in results.values()]
    summary = [
        KeyFigure("Sites", f"{len(sites):,}", f"{located:,} with a location"),
        KeyFigure("Energized", total.energized, "sum of known values"),
        KeyFigure("Pipeline", total.pipeline, "sum of known values"),
        KeyFigure("Ready now", f"{sum(1 for r in ranked if r.klass == 'ready_now'):,} sites"),
        KeyFigure("Convertible with upgrades",
                  f"{sum(1 for r in ranked if r.klass == 'convertible_with_upgrades'):,} sites"),
        KeyFigure("Median score", fmt_score(sorted(scored)[len(scored) // 2]) if scored else UNKNOWN,
                  f"of {len(scored):,} scored sites"),
    ]
    assumptions = assumptions_from_settings(settings)
    atlas_sections: list[SiteSection] = []
    if atlas:
        n = len(ranked)
        for i, r in enumerate(ranked):
            s = sites[r.site_id]
            atlas_sections.append(site_section(project, s, r, site_paths(s, assumptions), assumptions, as_of=as_of))
            if progress:
                progress((i + 1) / n)
    elif progress:
        progress(1.0)
    map_image = ReportImage("portfolio_map", "Portfolio map",
                            "Sites coloured by readiness class and sized by MW, with transmission lines and "
                            "stranded-energy regions.", 900, 580)
    charts = [
        ReportImage("ranking", "Readiness ranking", "Total readiness score per site, best first.", 800,
                    min(1000, 150 + 22 * len(ranking))),
        ReportImage("mw_by_class", "MW by readiness class", "Energized and pipeline MW (known values).", 800, 130 + 24 * len(by_class)),
        ReportImage("mw_by_region", "MW by state / country", "Energized and pipeline MW (known values), "
                    "largest first.", 800, min(480, 130 + 24 * len(by_region))),
    ]
    notes = []
    undecided = sum(1 for r in results.values() if r.klass == "insufficient_data")
    if undecided:
        notes.append(f"{undecided} site(s) are 'Insufficient data': their score band (unknown facts at worst - at "
                     "best) spans both 'keep mining' and 'convert'; each site page lists what to find out next.")
    return PortfolioReport(
        meta=_meta(project, f"Portfolio report: {portfolio.name}", "AI/HPC conversion readiness of the portfolio",
                   today, paper),
        summary=summary, ranking=ranking, by_class=by_class, by_region=by_region, map_image=map_image,
        charts=charts, atlas=atlas_sections, assumptions=assumption_rows(assumptions),
        attributions=load_attributions(), layer_sources=layer_sources(project), notes=notes, results=results)


def with_image(image: ReportImage | None, data: bytes | None, mime: str = "image/png") -> ReportImage | None:
    """A copy of ``image`` holding the encoded ``data`` of type ``mime`` (None stays None)."""
    if mime not in ("image/png", "image/jpeg"):
        raise ReportError(f"image type {mime!r} is not supported; use image/png or image/jpeg")
    return None if image is None else replace(image, data=data, mime=mime)
