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
