"""The Sites dock: the sites table with its filter bar (text, class, status, score range, place)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QHeaderView, QLineEdit, QSpinBox, QTableView, QVBoxLayout, QWidget

from planner.model.fields import STATUS_CHOICES
from planner.model.portfolio import Portfolio
from planner.model.readiness import LEANING_FILTERS, READINESS_CLASSES
from planner.ui.delegates import FieldDelegate
from planner.ui.site_table import SITE_ID_ROLE, SiteFilterProxy, SiteTableModel


class SitesDock(QWidget):
    """Table of the portfolio (edits go through the undo stack) and the filters above it.

    ``current_site_changed(str)`` when the user moves the table's current row; ``shown_changed``
    when the number of rows shown changed (filters, inserts, removals).
    """

    current_site_changed = Signal(str)
    shown_changed = Signal()

    def __init__(self, undo_stack: QUndoStack, parent: QWidget | None = None):
        super().__init__(parent)
        self._columns_fitted = False
        self._announced = ""  # the site last announced by current_site_changed
        self._build_ui(undo_stack)
        self._connect()

    def _build_ui(self, undo_stack: QUndoStack) -> None:
        self.table_model = SiteTableModel(None, undo_stack, self)
        self.proxy = SiteFilterProxy(self)
        self.proxy.setSourceModel(self.table_model)
        self.table = QTableView(self)
        self.table.setObjectName("sitesTable")
        self.table.setModel(self.proxy)
        self.table.setItemDelegate(FieldDelegate(self.table))
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # portfolio order until a header is clicked
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setDefaultSectionSize(110)
        header.setMaximumSectionSize(260)
        self.table.verticalHeader().setDefaultSectionSize(22)

        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText("Filter: ID, name, operator, place…")
        self.filter_edit.setClearButtonEnabled(True)
        self.class_combo = QComboBox(self)
        self.class_combo.addItem("All classes", "")
        for key, label in READINESS_CLASSES.items():
            self.class_combo.addItem(label, key)
        for key, label in LEANING_FILTERS.items():  # undecided sites by the class they lean to
            self.class_combo.addItem(label, key)
        self.status_combo = QComboBox(self)
        self.status_combo.addItem("All statuses", "")
        for s in STATUS_CHOICES:
            self.status_combo.addItem(s.replace("_", " "), s)
        self.min_score_spin = QSpinBox(self)
        self.min_score_spin.setRange(0, 100)
        self.min_score_spin.setPrefix("score ≥ ")
        self.min_score_spin.setToolTip("Show only sites whose readiness total is at least this (0 = no filter)")
        self.max_score_spin = QSpinBox(self)
        self.max_score_spin.setRange(0, 100)
        self.max_score_spin.setValue(100)
        self.max_score_spin.setPrefix("≤ ")
        self.max_score_spin.setToolTip("Show only sites whose readiness total is at most this (100 = no filter)")
        self.place_combo = QComboBox(self)
        self.place_combo.setToolTip("Filter by country or state/province")
        self.place_combo.addItem("All places", "")
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        for w, stretch in ((self.filter_edit, 2), (self.class_combo, 1), (self.status_combo, 1),
                           (self.min_score_spin, 0), (self.max_score_spin, 0), (self.place_combo, 1)):
            bar.addWidget(w, stretch)
        v = QVBoxLayout(self)
        v.setContentsMargins(2, 2, 2, 2)
        v.addLayout(bar)
        v.addWidget(self.table, 1)

    def _connect(self) -> None:
        self.table_model.modelReset.connect(self._fit_columns)
        self.table.selectionModel().currentRowChanged.connect(self._on_table_current_row_changed)
        # selecting the row the cursor already sits on changes no current row: announce it from here
        self.table.selectionModel().selectionChanged.connect(self._on_table_selection_changed)
        for sig in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.layoutChanged):
            sig.connect(self._on_proxy_rows_changed)
        self.filter_edit.textChanged.connect(self._on_filters_changed)
        for combo in (self.class_combo, self.status_combo, self.place_combo):
            combo.currentIndexChanged.connect(self._on_filters_changed)
        for spin in (self.min_score_spin, self.max_score_spin):
            spin.valueChanged.connect(self._on_filters_changed)

    def _on_proxy_rows_changed(self, *_: Any) -> None:
        self.shown_changed.emit()

    def _fit_columns(self) -> None:
        """Size columns to header and contents once (capped), so no header is cut."""
        if self.table_model.rowCount() and not self._columns_fitted:
            self.table.resizeColumnsToContents()
            self._columns_fitted = True

    # -- data -----------------------------------------------------------------------------------
    def set_portfolio(self, portfolio: Portfolio, scores: Mapping[str, Any]) -> None:
        self.table_model.set_portfolio(portfolio, scores)
        self.refresh_place_filter()

    def set_scores(self, scores: Mapping[str, Any]) -> None:
        self.table_model.set_scores(scores)

    @property
    def shown(self) -> int:
        return self.proxy.rowCount()

    def shown_site_ids(self) -> frozenset[str] | None:
        """The IDs of the rows the filters let through; None when no filter is set (every site)."""
        if not self.proxy.is_filtered:
            return None
        ids = (self.proxy.index(r, 0).data(SITE_ID_ROLE) for r in range(self.proxy.rowCount()))
        return frozenset(str(i) for i in ids if i)

    # -- selection ------------------------------------------------------------------------------
    def select(self, site_id: str) -> None:
        """Make ``site_id`` the current row ("" clears the selection) without re-announcing it."""
        self._announced = site_id
        sm = self.table.selectionModel()
        row = self.table_model.row_of(site_id) if site_id else -1
        proxy_index = self.proxy.mapFromSource(self.table_model.index(row, 0)) if row >= 0 else QModelIndex()
        if not proxy_index.isValid():
            sm.clearSelection()
            return
        sm.blockSignals(True)
        try:
            sm.setCurrentIndex(proxy_index, sm.SelectionFlag.ClearAndSelect | sm.SelectionFlag.Rows)
        finally:
            sm.blockSignals(False)
        self.table.viewport().update()
        self.table.scrollTo(proxy_index)

    def selected_site_ids(self) -> list[str]:
        """Selected rows in table order."""
        rows = sorted({self.proxy.mapToSource(i).row() for i in self.table.selectionModel().selectedRows()})
        return [sid for r in rows if (sid := self.table_model.site_id_at(r))]

    def _on_table_selection_changed(self, *_: Any) -> None:
        current = self.table.currentIndex()
        if current.isValid() and self.table.selectionModel().isRowSelected(current.row(), current.parent()):
            sid = current.data(SITE_ID_ROLE) or ""
            if sid != self._announced:
                self._announced = sid
                self.current_site_changed.emit(sid)

    def _on_table_current_row_changed(self, current: QModelIndex | QPersistentModelIndex, _previous: Any) -> None:
        if current.isValid() and not self.table.selectionModel().isRowSelected(current.row(), current.parent()):
            # the view moves its cursor without selecting (focus arriving on the table puts it on the
            # first row): that is not a choice of site; the app stays on the portfolio overview
            return
        sid = current.data(SITE_ID_ROLE) if current.isValid() else ""
        self._announced = sid or ""
        self.current_site_changed.emit(sid or "")

    # -- filters --------------------------------------------------------------------------------
    def _on_filters_changed(self, *_: Any) -> None:
        self.proxy.set_text(self.filter_edit.text())
        cls = self.class_combo.currentData()
        self.proxy.set_classes({cls} if cls else set())
        st = self.status_combo.currentData()
        self.proxy.set_statuses({st} if st else set())
        low, high = self.min_score_spin.value(), self.max_score_spin.value()
        self.proxy.set_score_range(low if low > 0 else None, high if high < 100 else None)
        kind, _, value = (self.place_combo.currentData() or "").partition(":")
        self.proxy.set_countries({value} if kind == "country" else set())
        self.proxy.set_admin1({value} if kind == "admin1" else set())
        self.shown_changed.emit()

    def refresh_place_filter(self) -> None:
        """Countries and states/provinces of the current sites, for the place filter."""
        portfolio = self.table_model.portfolio
        sites = list(portfolio) if portfolio is not None else []
        current = self.place_combo.currentData()
        countries = sorted({s.country for s in sites if s.country})
        states = sorted({(s.country or "", s.admin1) for s in sites if s.admin1})
        self.place_combo.blockSignals(True)
        self.place_combo.clear()
        self.place_combo.addItem("All places", "")
        for c in countries:
            self.place_combo.addItem(f"Country: {c}", f"country:{c}")
        for c, a in states:
            self.place_combo.addItem(f"State: {a} ({c})" if c else f"State: {a}", f"admin1:{a}")
        index = self.place_combo.findData(current) if current else 0
        self.place_combo.setCurrentIndex(max(index, 0))
        self.place_combo.blockSignals(False)
