"""The Problems list: invalid values a project opened with (field, rule, fix) and what the file keeps
that the planner did not make. Clicking a problem selects its site so it can be fixed in the form;
a fixed problem leaves the list. The same cells are shaded in the sites table with the rule as tooltip.

Wired into the main window by :func:`install_problems_panel` (one dock, one signal each way).
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

SITE_ROLE = Qt.ItemDataRole.UserRole + 1


class ProblemsPanel(QWidget):
    """A plain-text list of ``project.open_problems()`` and ``project.kept``."""

    site_activated = Signal(str)
    problems_changed = Signal(object)  # the open problems, for the sites table

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._project: Any = None
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

    def set_project(self, project: Any) -> None:
        old = getattr(self._project, "portfolio", None)
        if old is not None:
            try:
                old.sites_changed.disconnect(self.refresh)
            except (ValueError, RuntimeError, TypeError):
                pass
        self._project = project
        portfolio = getattr(project, "portfolio", None)
        if portfolio is not None:
            portfolio.sites_changed.connect(self.refresh)
        self.refresh()

    def refresh(self, *_: Any) -> None:
        self.list.clear()
        project = self._project
        problems = project.open_problems() if hasattr(project, "open_problems") else []
        kept = list(getattr(project, "kept", []) or [])
        warnings = list(getattr(project, "warnings", []) or [])
        self.problems_changed.emit(problems)
        for pr in problems:
            item = QListWidgetItem(pr.describe())
            item.setData(SITE_ROLE, pr.site_id or "")
            item.setToolTip("Click to select the site, then fix the value in the site form")
            self.list.addItem(item)
        for w in warnings:
            self.list.addItem(QListWidgetItem(f"note: {w}"))
        for k in kept:
            self.list.addItem(QListWidgetItem(f"kept, not ours: {k}"))
        self.summary.setText(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} to fix"
                             + (f"; {len(kept)} item{'s' if len(kept) != 1 else ''} in the file kept as they are"
                                if kept else ""))

    def count(self) -> int:
        return len(self._project.open_problems()) if hasattr(self._project, "open_problems") else 0

    def _on_item(self, item: QListWidgetItem) -> None:
        sid = item.data(SITE_ROLE)
        if sid:
            self.site_activated.emit(str(sid))


def install_problems_panel(window: Any) -> ProblemsPanel:
    """Add the Problems dock to ``window`` (a MainWindow) and keep it in step with the project."""
    panel = ProblemsPanel(window)
    window.add_panel_dock("Problems", panel, Qt.DockWidgetArea.BottomDockWidgetArea, name="problemsDock")
    window.project_changed.connect(panel.set_project)
    panel.site_activated.connect(window.set_current_site)
    model = getattr(getattr(window, "sites", None), "table_model", None)
    if model is not None and hasattr(model, "set_problems"):  # shade the cells in the sites table too
        panel.problems_changed.connect(model.set_problems)
    panel.set_project(window.project)
    return panel
