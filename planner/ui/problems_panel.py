"""The Problems list: invalid values a project opened with (field, rule, fix) and what the file keeps
that the planner did not make; then a second section, the data gaps that block decisions (no
location, no MW; :func:`planner.model.readiness.decision_gaps`) with each site's next fact to
collect (:func:`planner.model.readiness.next_facts`). Clicking a problem selects its site so it can be fixed in the form;
a fixed problem leaves the list. The same cells are shaded in the sites table with the rule as tooltip.

Wired into the main window by :func:`install_problems_panel` (one dock, one signal each way).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from planner.model.readiness import decision_gaps, next_facts
from planner.session import Session

if TYPE_CHECKING:
    from planner.ui.main_window import MainWindow

SITE_ROLE = Qt.ItemDataRole.UserRole + 1
GAP_ROLE = Qt.ItemDataRole.UserRole + 2  # the gap text of a "data gaps" item (its next fact is added later)
GAPS_HEADER = "Data gaps that block decisions"


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
        QTimer.singleShot(0, self, self._add_next_facts)  # the list shows first; the next facts follow
        return len(rows)

    def _add_next_facts(self) -> None:
        portfolio = self.session.project.portfolio
        for row in range(self.list.count()):
            item = self.list.item(row)
            sid, text = item.data(SITE_ROLE), item.data(GAP_ROLE)
            if not text or not sid or sid not in portfolio:
                continue
            facts = next_facts(portfolio.get(sid), portfolio.settings)  # remembered by site content
            item.setText(f"{text} \u2014 next: {facts[0].sentence}" if facts else text)

    def count(self) -> int:
        return len(self.session.project.open_problems())

    def _on_item(self, item: QListWidgetItem) -> None:
        sid = item.data(SITE_ROLE)
        if sid:
            self.site_activated.emit(str(sid))


def install_problems_panel(window: MainWindow) -> ProblemsPanel:
    """Add the Problems dock to ``window`` and keep it in step with the session's project."""
    panel = ProblemsPanel(window.session, window)
    window.add_panel_dock("Problems", panel, Qt.DockWidgetArea.BottomDockWidgetArea, name="problemsDock")
    panel.site_activated.connect(window.set_current_site)
    panel.problems_changed.connect(window.sites.table_model.set_problems)  # shade the cells in the table too
    panel.refresh()
    return panel
