"""Report charts (planner.plots.render_png): the legend is laid out under the x axis, never over the plot."""
from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QImage

from planner.assets import sample_project
from planner.plots.style import PATH_COLOURS

pytestmark = pytest.mark.gui


def _rows_with(image: QImage, colour: str, rows: range, cols: range) -> int:
    """How many of ``rows`` hold a pixel within a few levels of ``colour`` (in ``cols``)."""
    want = QColor(colour)
    hits = 0
    for y in rows:
        for x in cols:
            c = image.pixelColor(x, y)
            if abs(c.red() - want.red()) + abs(c.green() - want.green()) + abs(c.blue() - want.blue()) < 30:
                hits += 1
                break
    return hits


def test_a_wide_legend_is_drawn_under_the_axis_in_a_report_chart(tmp_path):
    """RIOT-RKD's cash-flow legend (three long entries) was painted over the plot's top-left corner
    and the y axis, with its row under the x axis left empty (seen in the site report PDF)."""
    from planner import plots
    from planner.gis.project import open_project
    from planner.reports.content import build_site_report

    report = build_site_report(open_project(sample_project()), "RIOT-RKD")
    spec = next(c for c in report.site.charts if c.key == "paths_cash")
    png = plots.render_png(plots.paths_cash_chart, report.site.comparison, tmp_path / "cash.png",
                           width=spec.width_px, height=spec.height_px)
    image = QImage(str(png))
    w, h = image.width(), image.height()
    legend_band = range(int(h * 0.75), h)  # under the x axis and its label
    top_left = range(0, int(h * 0.25))
    samples = range(0, 120)  # the legend's line samples are at its left
    assert _rows_with(image, PATH_COLOURS["mining"], legend_band, samples) >= 2  # the Mining entry, under the axis
    assert _rows_with(image, PATH_COLOURS["hybrid"], legend_band, samples) >= 2
    assert _rows_with(image, PATH_COLOURS["mining"], top_left, range(0, 40)) == 0  # nothing over the y axis


def test_the_ai_lease_line_shows_where_the_hybrid_runs_as_the_lease(tmp_path):
    """At RIOT-RKD the hybrid's cash flows equal the AI lease's in 15 of 16 years: drawn solid on top,
    the hybrid hid the AI lease line, and the chart seemed to have two paths, not three."""
    from planner import plots
    from planner.gis.project import open_project
    from planner.reports.content import build_site_report

    report = build_site_report(open_project(sample_project()), "RIOT-RKD")
    png = plots.render_png(plots.paths_cash_chart, report.site.comparison, tmp_path / "cash.png", width=800,
                           height=340)
    image = QImage(str(png))
    plot_rows = range(int(image.height() * 0.05), int(image.height() * 0.6))
    middle_years = range(int(image.width() * 0.3), int(image.width() * 0.9))  # years ~4-13, off the legend
    assert _rows_with(image, PATH_COLOURS["hybrid"], plot_rows, middle_years) > 0
    assert _rows_with(image, PATH_COLOURS["ai_lease"], plot_rows, middle_years) > 0  # the lease line shows too


def test_zero_dollars_read_as_zero():
    from planner.fmt import fmt_usd_m

    assert fmt_usd_m(0.0) == "$0M" and fmt_usd_m(-0.0) == "$0M"  # mining's initial capex read "$0.00M"
    assert fmt_usd_m(1.25e6) == "$1.25M" and fmt_usd_m(-5.31e8) == "-$531M"
