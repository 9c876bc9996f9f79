"""Report HTML: content dataclasses -> one self-contained HTML page (Jinja2, autoescape on; no Qt).

Step two of content -> HTML -> PDF. Templates and ``report.css`` live in ``resources/templates``
and are reached through :mod:`planner.assets`. Images are embedded as ``data:`` URIs so the
page needs no other file; every string from the project is escaped by Jinja2.
"""
from __future__ import annotations

import base64
from functools import lru_cache
from typing import Any

import jinja2
from markupsafe import Markup, escape

from planner.assets import asset_dir
from planner.model.readiness import READINESS_COLOURS
from planner.reports.content import PortfolioReport, ReportImage, SiteReport, check_paper

# Printable page sizes in mm (QPageLayout in render_qt uses the same names).
PAPER_MM: dict[str, tuple[float, float]] = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}
MARGIN_MM = 12.0


def _data_uri(image: ReportImage | None) -> str:
    if image is None or image.data is None:
        return ""
    return f"data:{image.mime};base64," + base64.b64encode(image.data).decode("ascii")


def _break_at_underscores(text: str) -> Markup:
    """A snake_case key that may wrap only after its underscores (``sell_usd_per_mw_<wbr>energized``),
    never mid-word as ``overflow-wrap: anywhere`` did; each part is escaped."""
    return Markup("_<wbr>").join(escape(part) for part in str(text).split("_"))


def _css() -> Markup:
    # our own stylesheet, read from the bundled templates folder, and the readiness class colours
    # (one registry for map, charts and reports): trusted, not user data
    css = (asset_dir("resources") / "templates" / "report.css").read_text(encoding="utf-8")
    classes = "".join(f".cls-{key} {{ background: {colour}; }}\n" for key, colour in READINESS_COLOURS.items())
    return Markup(css + classes)


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The report Jinja2 environment (autoescape on for every template, undefined names fail)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(asset_dir("resources") / "templates")),
        autoescape=True,  # all templates, whatever their extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["data_uri"] = _data_uri
    env.filters["break_at_underscores"] = _break_at_underscores
    return env


def _render(template: str, **context: Any) -> str:
    paper = check_paper(context["meta"].paper)
    w, h = PAPER_MM[paper]
    return environment().get_template(template).render(
        css=_css(), page_width_mm=w - 2 * MARGIN_MM, page_height_mm=h - 2 * MARGIN_MM, **context)


def render_site_html(report: SiteReport) -> str:
    """The HTML of a site report (paper size from ``report.meta.paper``)."""
    return _render("site_report.html.j2", meta=report.meta, site=report.site, assumptions=report.assumptions,
                   attributions=report.attributions, layer_sources=report.layer_sources)


def render_portfolio_html(report: PortfolioReport) -> str:
    """The HTML of a portfolio report, with the atlas pages when the content has them."""
    return _render("portfolio_report.html.j2", meta=report.meta, report=report, assumptions=report.assumptions,
                   attributions=report.attributions, layer_sources=report.layer_sources)
