"""Readiness panel: the selected site's criterion sub-scores and the portfolio ranking by class."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QScrollArea, QSplitter

from planner.model.chart_data import RankingData
from planner.model.readiness import (GATES, ReadinessResult, gates_from_settings, next_facts,
                                     thresholds_from_settings, weights_from_settings)
from planner.plots import readiness_bars, readiness_ranking
from planner.ui.panels.base import ChartPanel, run_standalone

RANK_ROW_PX = 16  # height per site in the ranking so every site ID label fits
NEXT_FACTS_SHOWN = 3  # unknown facts listed above the charts, ranked by how far they move class / total


class ReadinessPanel(ChartPanel):
    """Per-criterion bars of the selected site (hover: weight and reason) and the ranking."""

    panel_title = "Readiness"
    settings_keys = frozenset()  # weights/thresholds reach this panel through scores_changed
    follows_scores = True

    def _build_ui(self) -> None:
        self.add_plot("criteria", min_height=320)  # 14 rows stay apart under a two-line title and legend
        self.add_plot("ranking", min_height=200)
        self.ranking_scroll = QScrollArea(self)
        self.ranking_scroll.setWidgetResizable(True)
        self.ranking_scroll.setWidget(self.plots["ranking"])
        self.ranking_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.plots["criteria"])
        split.addWidget(self.ranking_scroll)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        self.next_label = QLabel(self)
        self.next_label.setObjectName("next_facts")
        self.next_label.setTextFormat(Qt.TextFormat.PlainText)  # sentences quote site facts
        self.next_label.setWordWrap(True)
        self.next_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._layout(split, header=self.next_label)

    def result(self) -> ReadinessResult | None:
        """Readiness of the current site, as the session scored it (None: no site, or not scored)."""
        return self.host.session.scores.get(self.site_id) if self.site_id else None

    def _refresh(self) -> None:
        settings = self.portfolio.settings
        res = self.result()
        self.draw("criteria", readiness_bars, res)
        site = self.site
        if res is None or site is None:
            self.next_label.setText("What to find out next: select a site")
        else:
            facts = next_facts(site, settings, result=res)[:NEXT_FACTS_SHOWN]
            self.next_label.setText("What to find out next: " + (
                "  ".join(f"{i}. {f.sentence}." for i, f in enumerate(facts, start=1)) if facts
                else "nothing, every scored fact is known."))
        scores = self.host.session.scores
        self.plots["ranking"].setMinimumHeight(max(200, RANK_ROW_PX * len(scores) + 130))
        self.draw("ranking", readiness_ranking, RankingData(scores, self.site_id or None))
        profile, _weights = weights_from_settings(settings)
        t = thresholds_from_settings(settings)
        gates = ", ".join(GATES[k].label.lower() for k in gates_from_settings(settings)) or "none"  # words, not keys
        self.set_caption(
            f"Weights profile '{profile}' \u00b7 total = weighted mean of all criteria, unknowns at their prior, band = "
            f"unknowns at worst - at best \u00b7 classes on the band: ready now when the low end >= "
            f"{t['ready_now_min_total']:g} with no critical upgrade, convertible >= {t['convertible_min_total']:g}, "
            f"insufficient data when the band spans both \u00b7 hard gates: {gates} "
            f"(min {t['gate_min_power_mw']:g} MW) \u00b7 hatched = no data, red = gate failed \u00b7 colours as on the map")


def main(argv: list[str] | None = None) -> int:
    """Open the readiness panel alone on the sample portfolio."""
    return run_standalone(ReadinessPanel, argv)


if __name__ == "__main__":
    raise SystemExit(main())
