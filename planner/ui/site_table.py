"""The sites table: a thin Qt adapter over the portfolio and the latest readiness scores.

``SiteTableModel.setData`` never mutates: it validates the edit and pushes an
:class:`~planner.ui.commands.EditSiteCommand`; the table then updates from the
portfolio's ``sites_changed`` signal like every other view.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex,
                            QSortFilterProxyModel, Qt, Signal)
from PySide6.QtGui import QBrush, QColor, QUndoStack

from planner.model.fields import FIELDS, FieldSpec
from planner.model.portfolio import Portfolio
from planner.model.readiness import class_keys
from planner.model.site import Site, SiteError
from planner.ui.commands import EditSiteCommand, end_merge
from planner.ui.delegates import FIELD_ROLE, format_value
from planner.ui.text import plain_tooltip, user_message

SORT_ROLE = Qt.ItemDataRole.UserRole + 2   # numbers / text for sorting (unknown sorts last)
SITE_ID_ROLE = Qt.ItemDataRole.UserRole + 3
COMPUTED_BRUSH = QBrush(QColor(236, 242, 250))
UNKNOWN_BRUSH = QBrush(QColor(140, 140, 140))
PROBLEM_BRUSH = QBrush(QColor(253, 226, 225))  # a value the project opened with that breaks a rule
UNKNOWN_DISPLAY = "\u2014"  # em dash; the tooltip says "unknown"

_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column:
    """One table column: a site field, or a readiness result attribute (``score:<attr>``)."""

    key: str
    header: str
    tooltip: str
    spec: FieldSpec | None = None

    @property
    def computed(self) -> bool:
        return self.spec is None or self.spec.computed

    @property
    def editable(self) -> bool:
        return self.spec is not None and not self.spec.computed and self.spec.name != "site_id"


def _field_column(name: str) -> Column:
    fs = FIELDS[name]
    tip = fs.label_with_unit + (f": {fs.help}" if fs.help else "")
    if fs.computed:
        tip += " (computed)"
    return Column(name, fs.label_with_unit, tip, fs)


SCORE_COLUMNS: tuple[Column, ...] = (
    Column("score:total", "Readiness (band)", "Readiness 0-100: expected total, band (unknowns at worst-best) "
           "in brackets; sorts by the expected total (computed)"),
    Column("score:class_label", "Readiness class", "Readiness class, decided on the score band; an undecided "
           "site (\"Insufficient data\") shows the class it leans to at its expected total (computed)"),
    Column("score:completeness_pct", "Data completeness (%)",
           "Share of readiness inputs that are known, % (computed)"),
)

_IDENTITY = ("site_id", "name", "operator", "status", "admin1", "country")
_MW = ("power_capacity_mw", "energized_mw", "pipeline_mw")
_EDITABLE = ("interconnection_status", "expected_energization_date", "power_price_usd_per_mwh",
             "substation_owned", "substation_voltage_kv", "land_acres", "water_source",
             "dark_fibre_on_site", "max_rack_kw", "dlc_path", "lon", "lat")
_PROXIMITY = ("dist_line_230kv_km", "dist_line_345kv_km", "dist_substation_km", "dist_fibre_km",
              "dist_pop_km", "dist_stranded_km")

COLUMNS: tuple[Column, ...] = (
    tuple(_field_column(n) for n in _IDENTITY + _MW) + SCORE_COLUMNS
    + tuple(_field_column(n) for n in _EDITABLE + _PROXIMITY)
)


def _score_attr(result: Any, attr: str) -> Any:
    value = getattr(result, attr, None) if result is not None else None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


class SiteTableModel(QAbstractTableModel):
    """Rows = sites of the portfolio in order; columns = :data:`COLUMNS`."""

    edit_rejected = Signal(str)

    def __init__(self, portfolio: Portfolio | None = None, undo_stack: QUndoStack | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.undo_stack = undo_stack if undo_stack is not None else QUndoStack(self)
        self.columns: tuple[Column, ...] = COLUMNS
        self._portfolio: Portfolio | None = None
        self._ids: list[str] = []
        self._scores: Mapping[str, Any] = {}
        self._problems: dict[tuple[str, str], Any] = {}  # (site_id, field) -> planner.model.problems.Problem
        self.set_portfolio(portfolio)

    # -- wiring ------------------------------------------------------------------------
    @property
    def portfolio(self) -> Portfolio | None:
        return self._portfolio

    def set_portfolio(self, portfolio: Portfolio | None, scores: Mapping[str, Any] | None = None) -> None:
        """Show another portfolio (resets the model and re-subscribes to its signals)."""
        self.beginResetModel()
        if self._portfolio is not None:
            self._portfolio.sites_changed.disconnect(self._on_portfolio_sites_changed)
            self._portfolio.site_added.disconnect(self._on_portfolio_site_added)
            self._portfolio.site_removed.disconnect(self._on_portfolio_site_removed)
        self._portfolio = portfolio
        self._ids = portfolio.ids() if portfolio is not None else []
        self._scores = dict(scores or {})
        if portfolio is not None:
            portfolio.sites_changed.connect(self._on_portfolio_sites_changed)
            portfolio.site_added.connect(self._on_portfolio_site_added)
            portfolio.site_removed.connect(self._on_portfolio_site_removed)
        self.endResetModel()

    def set_problems(self, problems: Any) -> None:
        """Flag the cells of open problems (shaded, the rule and fix in the tooltip)."""
        self._problems = {(p.site_id, p.field): p for p in problems or () if p.site_id}
        if self._ids:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._ids) - 1, len(self.columns) - 1))

    def _problem(self, row: int, col: Any) -> Any:
        if not self._problems or col.spec is None:
            return None
        p = self._problems.get((self._ids[row], col.spec.name))
        site = self.site_at(row) if p is not None else None
        return p if site is not None and p.is_open(site.get(col.spec.name)) else None

    def set_scores(self, scores: Mapping[str, Any] | None) -> None:
        """Use new readiness results; repaints the computed score columns."""
        self._scores = dict(scores or {})
        cols = [c for c, col in enumerate(self.columns) if col.key.startswith("score:")]
        if self._ids and cols:
            self.dataChanged.emit(self.index(0, min(cols)), self.index(len(self._ids) - 1, max(cols)))

    def _on_portfolio_sites_changed(self, ids: list[str]) -> None:
        rows = [self._ids.index(i) for i in ids if i in self._ids]
        if rows:
            self.dataChanged.emit(self.index(min(rows), 0), self.index(max(rows), len(self.columns) - 1))

    def _on_portfolio_site_added(self, site_id: str) -> None:
        assert self._portfolio is not None
        row = self._portfolio.index_of(site_id)
        self.beginInsertRows(QModelIndex(), row, row)
        self._ids.insert(row, site_id)
        self.endInsertRows()

    def _on_portfolio_site_removed(self, site_id: str) -> None:
        if site_id not in self._ids:
            return
        row = self._ids.index(site_id)
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._ids[row]
        self.endRemoveRows()

    # -- lookups -----------------------------------------------------------------------
    def site_id_at(self, row: int) -> str | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, site_id: str) -> int:
        """Row of ``site_id`` or -1."""
        try:
            return self._ids.index(site_id)
        except ValueError:
            return -1

    def column_of(self, key: str) -> int:
        """Column index of a field name or ``score:<attr>`` key; raises KeyError."""
        for c, col in enumerate(self.columns):
            if col.key == key:
                return c
        raise KeyError(f"no column {key!r} in the sites table")

    def site_at(self, row: int) -> Site | None:
        sid = self.site_id_at(row)
        if sid is None or self._portfolio is None or sid not in self._portfolio:
            return None
        return self._portfolio.get(sid)

    def score_of(self, site_id: str) -> Any:
        return self._scores.get(site_id)

    # -- Qt model API --------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
            col = self.columns[section]
            if role == Qt.ItemDataRole.DisplayRole:
                # unit on its own line so narrow columns keep the whole header readable
                return col.header.replace(" (", "\n(", 1)
            if role == Qt.ItemDataRole.ToolTipRole:
                return col.tooltip
            if role == Qt.ItemDataRole.BackgroundRole and col.computed:
                return COMPUTED_BRUSH
        elif orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self._ids):
            return section + 1
        return None

    def _raw(self, row: int, col: Column) -> Any:
        sid = self._ids[row]
        if col.spec is not None:
            site = self.site_at(row)
            return None if site is None else site.get(col.spec.name)
        result = self._scores.get(sid)
        if col.key == "score:class_label":  # "Insufficient data (leans Convertible)"
            return _score_attr(result, "class_text") or _score_attr(result, "class_label")
        return _score_attr(result, col.key.split(":", 1)[1])

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._ids)) \
                or not (0 <= index.column() < len(self.columns)):
            return None
        col = self.columns[index.column()]
        if role == FIELD_ROLE:
            return col.spec.name if col.spec is not None else None
        if role == SITE_ID_ROLE:
            return self._ids[index.row()]
        if role == Qt.ItemDataRole.BackgroundRole:
            if self._problem(index.row(), col) is not None:
                return PROBLEM_BRUSH
            return COMPUTED_BRUSH if col.computed else None
        value = self._raw(index.row(), col)
        if role == Qt.ItemDataRole.DisplayRole:
            if value is None:
                return UNKNOWN_DISPLAY
            if col.spec is not None:
                return format_value(col.spec, value)
            if col.key == "score:total":  # "72 (60-85)": expected total and band
                return _score_attr(self._scores.get(self._ids[index.row()]), "band_text") or f"{float(value):.0f}"
            if col.key == "score:completeness_pct":
                return f"{float(value):.0f} %"
            return str(value)
        if role == Qt.ItemDataRole.EditRole:
            return value
        if role == SORT_ROLE:
            return value
        if role == Qt.ItemDataRole.ForegroundRole:
            return UNKNOWN_BRUSH if value is None else None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            kind = col.spec.kind if col.spec is not None else ("str" if col.key == "score:class_label" else "float")
            if kind in ("float", "int"):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            problem = self._problem(index.row(), col)
            if problem is not None:
                return plain_tooltip(f"{col.header}: {problem.describe()}")
            if value is None:
                return plain_tooltip(f"{col.header}: unknown")
            return plain_tooltip(f"{col.header}: {value}")
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
        if self.columns[index.column()].editable:
            base |= Qt.ItemFlag.ItemIsEditable
        return base

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        """Validate and push an undoable edit; on refusal emit ``edit_rejected`` and return False."""
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or self._portfolio is None:
            return False
        col = self.columns[index.column()]
        sid = self._ids[index.row()]
        if not col.editable or col.spec is None:
            self._refuse(f"{sid}: {col.header} is computed and cannot be edited")
            return False
        try:
            cmd = EditSiteCommand.create(self._portfolio, sid, col.spec.name, value)
        except SiteError as e:
            self._refuse(user_message(e))
            return False
        if cmd.new == cmd.old:
            return True
        self.undo_stack.push(cmd)
        return True


    def _refuse(self, message: str) -> None:
        # quick valid edits of a cell merge into one undo step; a refusal between two ends the burst
        end_merge(self.undo_stack)
        self.edit_rejected.emit(message)


class SiteFilterProxy(QSortFilterProxyModel):
    """Sorting with unknowns last, plus text, score-range, class, status and place filters."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)
        self._text = ""
        self._score_range: tuple[float, float] | None = None
        self._classes: frozenset[str] = frozenset()
        self._statuses: frozenset[str] = frozenset()
        self._admin1: frozenset[str] = frozenset()
        self._countries: frozenset[str] = frozenset()

    # -- filters -------------------------------------------------------------------------
    def _refilter(self) -> None:
        # Qt 6.9 deprecated invalidateFilter(); the filter state already changed, so an
        # empty begin/end pair is the documented replacement.
        if hasattr(self, "beginFilterChange"):
            self.beginFilterChange()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:  # pragma: no cover - Qt < 6.9
            self.invalidateFilter()

    def set_text(self, text: str) -> None:
        """Keep sites whose ID, name, operator, locality, state or country contains ``text``."""
        self._text = text.strip().casefold()
        self._refilter()

    def set_score_range(self, low: float | None, high: float | None) -> None:
        """Keep sites with readiness total in [low, high]; unscored sites are hidden. None clears."""
        self._score_range = None if low is None and high is None else \
            (-math.inf if low is None else float(low), math.inf if high is None else float(high))
        self._refilter()

    def set_classes(self, classes: Iterable[str]) -> None:
        """Keep sites whose readiness class key (``ready_now`` ..., or ``insufficient_data:<lean>`` for the
        undecided sites leaning to one class) is in ``classes``; empty clears."""
        self._classes = frozenset(classes)
        self._refilter()

    def set_statuses(self, statuses: Iterable[str]) -> None:
        self._statuses = frozenset(statuses)
        self._refilter()

    def set_admin1(self, values: Iterable[str]) -> None:
        self._admin1 = frozenset(v.casefold() for v in values)
        self._refilter()

    def set_countries(self, values: Iterable[str]) -> None:
        self._countries = frozenset(v.casefold() for v in values)
        self._refilter()

    def clear_filters(self) -> None:
        self._text, self._score_range = "", None
        self._classes = self._statuses = self._admin1 = self._countries = frozenset()
        self._refilter()

    @property
    def is_filtered(self) -> bool:
        return bool(self._text or self._score_range or self._classes or self._statuses
                    or self._admin1 or self._countries)

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        model = self.sourceModel()
        if not isinstance(model, SiteTableModel):
            return True
        site = model.site_at(source_row)
        if site is None:
            return False
        if self._text:
            hay = " ".join(str(site.get(n) or "") for n in
                           ("site_id", "name", "operator", "locality", "admin1", "country", "ai_partner"))
            if self._text not in hay.casefold():
                return False
        if self._statuses and site.status not in self._statuses:
            return False
        if self._admin1 and (site.admin1 or "").casefold() not in self._admin1:
            return False
        if self._countries and (site.country or "").casefold() not in self._countries:
            return False
        result = model.score_of(site.site_id)
        if self._classes and not self._classes & class_keys(result):
            return False
        if self._score_range is not None:
            total = _score_attr(result, "total")
            if total is None or not (self._score_range[0] <= total <= self._score_range[1]):
                return False
        return True

    def lessThan(self, left: _Index, right: _Index) -> bool:
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        ascending = self.sortOrder() == Qt.SortOrder.AscendingOrder
        if a is None or b is None:
            # unknown sorts last in either direction
            if a is None and b is None:
                return left.row() < right.row()
            return (b is None) if ascending else (a is None)
        if isinstance(a, str) or isinstance(b, str):
            return str(a).casefold() < str(b).casefold()
        return a < b
