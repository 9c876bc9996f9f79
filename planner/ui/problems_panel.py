"""The Problems list: invalid values a project opened with (field, rule, fix) and what the file keeps
that the planner did not make; then a second section, the data gaps that block decisions (no
location, no MW; :func:`planner.model.readiness.decision_gaps`) with each site's next fact to
collect (:func:`planner.model.readiness.next_facts`). Clicking a problem selects its site so it can be fixed in the form;
a fixed problem leaves the list. The same cells are shaded in the sites table with the rule as tooltip.

Wired into the main window by :func:`install_problems_panel` (one dock, one signal each way).
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont, QShowEvent
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from planner.model.readiness import decision_gaps, next_facts
from planner.session import Session

if TYPE_CHECKING:
    from planner.ui.main_window import MainWindow

SITE_ROLE = Qt.ItemDataRole.UserRole + 1
GAP_ROLE = Qt.ItemDataRole.UserRole + 2  # the gap text of a "data gaps" item (its next fact is added later)
GAPS_HEADER = "Data gaps that block decisions"
#: main-thread time the next facts may take per event-loop turn (~5 ms a site when not remembered)
FACTS_SLICE_S = 0.03


class ProblemsPanel(QWidget):
    """A plain-text list of the session project's ``open_problems()`` and ``kept`` items."""

    site_activated = Signal(str)
    problems_changed = Signal(object)  # the open problems, for the sites table

    def __init__(self, session: Session, parent: QWidget | None = None):
        super().__init__(parent)
        self.session = session
        self.summary = QLabel(self)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.list = QListWidget(self)
        self.list.setWordWrap(True)
        self.list.itemActivated.connect(self._on_item)
        self.list.itemClicked.connect(self._on_item)
        # the next facts of the gap rows: filled in slices while the list is on screen (a hidden
        # Problems tab at start-up costs nothing; the sample's 13 sites took ~1-3 s at once)
        self._facts_row = -1  # next row to fill; -1: nothing pending
        self._facts_timer = QTimer(self)
        self._facts_timer.setSingleShot(True)
        self._facts_timer.setInterval(0)
        self._facts_timer.timeout.connect(self._add_next_facts)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.summary)
        lay.addWidget(self.list)
        # the session re-emits the portfolio's changes of whichever project is open
        session.project_changed.connect(self._on_session_changed)
        session.sites_changed.connect(self._on_session_changed)
        session.site_removed.connect(self._on_session_changed)
        self.refresh()

    def _on_session_changed(self, *_: Any) -> None:
        self.refresh()

    def refresh(self) -> None:
        self._facts_row = -1
        self.list.clear()
        project = self.session.project
        problems = project.open_problems()
        self.problems_changed.emit(problems)
        for pr in problems:
            item = QListWidgetItem(pr.describe())
            item.setData(SITE_ROLE, pr.site_id or "")
            item.setToolTip("Click to select the site, then fix the value in the site form")
            self.list.addItem(item)
        for w in project.warnings:
            self.list.addItem(QListWidgetItem(f"note: {w}"))
        for k in project.kept:
            self.list.addItem(QListWidgetItem(f"kept, not ours: {k}"))
        kept = len(project.kept)
        gaps = self._add_gaps()
        self.summary.setText(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} to fix"
                             + (f"; {kept} item{'s' if kept != 1 else ''} in the file kept as they are" if kept else "")
                             + (f"; {gaps} site{'s' if gaps != 1 else ''} with data gaps that block decisions"
                                if gaps else ""))

    # -- second section: data gaps that block decisions ----------------------------------------------
    def _add_gaps(self) -> int:
        """List the sites with :func:`decision_gaps` under a header; their next facts follow (deferred)."""
        portfolio = self.session.project.portfolio
        rows = [(site, gaps) for site in portfolio if (gaps := decision_gaps(site))]
        if not rows:
            return 0
        header = QListWidgetItem(f"{GAPS_HEADER} ({len(rows)} site{'s' if len(rows) != 1 else ''})")
        font = QFont(header.font())
        font.setBold(True)
        header.setFont(font)
        header.setFlags(Qt.ItemFlag.ItemIsEnabled)
        self.list.addItem(header)
        for site, gaps in rows:
            text = f"{site.site_id} {site.name or ''}: {'; '.join(gaps)}".replace(" :", ":")
            item = QListWidgetItem(text)
            item.setData(SITE_ROLE, site.site_id)
            item.setData(GAP_ROLE, text)
            item.setToolTip("Click to select the site, then enter the missing facts in the site form")
            self.list.addItem(item)
        self._facts_row = 0  # the list shows first; the next facts follow while it is on screen
        self.resume_next_facts()
        return len(rows)

    def _on_screen(self) -> bool:
        # a dock tab behind another stays isVisible() in Qt 6 but has nothing on screen
        return self.isVisible() and not self.visibleRegion().isEmpty()

    def resume_next_facts(self) -> None:
        """Go on filling the next facts if the list is on screen (its dock shown or its tab raised)."""
        if self._facts_row >= 0 and self._on_screen():
            self._facts_timer.start()

    @property
    def facts_pending(self) -> bool:
        """True while some gap rows still wait for their next fact (filled once the list is shown)."""
        return self._facts_row >= 0

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._facts_row >= 0:
            self._facts_timer.start()  # on screen by the time it runs, or it waits for the next show

    def _add_next_facts(self) -> None:
        """Fill the next facts of the gap rows for up to :data:`FACTS_SLICE_S`; the rest on the next turn."""
        if self._facts_row < 0 or not self._on_screen():
            return
        portfolio = self.session.project.portfolio
        deadline = time.perf_counter() + FACTS_SLICE_S
        row = self._facts_row
        while row < self.list.count():
            item = self.list.item(row)
            row += 1
            sid, text = item.data(SITE_ROLE), item.data(GAP_ROLE)
            if not text or not sid or sid not in portfolio:
                continue
            facts = next_facts(portfolio.get(sid), portfolio.settings)  # remembered by site content
            item.setText(f"{text} \u2014 next: {facts[0].sentence}" if facts else text)
            if time.perf_counter() > deadline:
                break
        self._facts_row = row if row < self.list.count() else -1
        if self._facts_row >= 0:
            self._facts_timer.start()

    def _on_dock_visibility_changed(self, visible: bool) -> None:
        if visible:
            QTimer.singleShot(0, self, self.resume_next_facts)  # once the raised tab has its geometry

    def count(self) -> int:
        return len(self.session.project.open_problems())

    def _on_item(self, item: QListWidgetItem) -> None:
        sid = item.data(SITE_ROLE)
        if sid:
            self.site_activated.emit(str(sid))


def install_problems_panel(window: MainWindow) -> ProblemsPanel:
    """Add the Problems dock to ``window`` and keep it in step with the session's project."""
    panel = ProblemsPanel(window.session, window)
    dock = window.add_panel_dock("Problems", panel, Qt.DockWidgetArea.BottomDockWidgetArea, name="problemsDock")
    dock.visibilityChanged.connect(panel._on_dock_visibility_changed)
    panel.site_activated.connect(window.set_current_site)
    panel.problems_changed.connect(window.sites.table_model.set_problems)  # shade the cells in the table too
    panel.refresh()
    return panel
