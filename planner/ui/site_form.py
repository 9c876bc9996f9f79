"""Site form: every field of the current site, grouped as in the field registry.

Editable fields use the same editors as the table and commit through the same undo
commands, one undo step per commit (Enter, Tab, a choice: never merged with the previous edit of
the field, as the table's quick bursts are); computed (proximity) fields and the readiness result are read-only and marked.
A refused edit is explained inline (label, value, rule, fix) and the editor goes back to the
stored value. Ctrl+Z / Ctrl+Shift+Z in a field first commits what was typed there, then reach the
window's Undo/Redo (a line edit would otherwise take them for its own text undo).
"""
from __future__ import annotations

from typing import Any

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QUndoStack
from PySide6.QtWidgets import (QAbstractSpinBox, QComboBox, QFormLayout, QGroupBox, QLabel, QLineEdit,
                               QScrollArea, QVBoxLayout, QWidget)

from planner.model.fields import FIELD_LIST, FIELDS, GROUP_LABELS, FieldSpec
from planner.model.portfolio import Portfolio
from planner.model.readiness import ReadinessResult, next_facts
from planner.model.site import PlannerError, SiteError
from planner.ui.commands import EditSiteCommand
from planner.ui.delegates import create_editor, editor_value, format_value, set_editor_value
from planner.ui.text import plain_tooltip, user_message

COMPUTED_STYLE = "QLabel { background: #ecf2fa; padding: 1px 4px; border-radius: 2px; }"
ERROR_STYLE = "QLabel { color: #a40000; font-weight: bold; }"
INVALID_EDITOR_STYLE = "border: 1px solid #c00000;"


class SiteForm(QWidget):
    """Form over one site of a portfolio; edits are pushed as undo commands."""

    edit_rejected = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._portfolio: Portfolio | None = None
        self.undo_stack: QUndoStack | None = None
        self._site_id = ""
        self._score: Any = None
        self.editors: dict[str, QWidget] = {}
        self._editor_names: dict[QObject, str] = {}
        self.computed_labels: dict[str, QLabel] = {}
        self._build_ui()
        self._connect()
        self._refresh()

    # -- construction ---------------------------------------------------------------------
    def _build_ui(self) -> None:
        self.title_label = QLabel(self)
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        self.title_label.setStyleSheet("QLabel { font-weight: bold; font-size: 13pt; }")
        self.title_label.setWordWrap(True)  # a long site name wraps instead of widening the dock (and narrowing the map)
        self.score_label = QLabel(self)
        self.score_label.setTextFormat(Qt.TextFormat.PlainText)
        self.score_label.setStyleSheet(COMPUTED_STYLE)
        self.score_label.setWordWrap(True)
        self.score_label.setToolTip("Readiness (computed from the fields below and the weights profile)")
        self.error_label = QLabel(self)
        self.error_label.setTextFormat(Qt.TextFormat.PlainText)
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.hide()

        body = QWidget()
        body_layout = QVBoxLayout(body)
        by_group: dict[str, list[FieldSpec]] = {}
        for fs in FIELD_LIST:
            by_group.setdefault(fs.group, []).append(fs)
        for group in list(GROUP_LABELS) + [g for g in by_group if g not in GROUP_LABELS]:
            specs = by_group.get(group)
            if not specs:
                continue
            box = QGroupBox(GROUP_LABELS.get(group, group), body)
            box.setObjectName(f"group_{group}")
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # narrow dock: label above its field
            for fs in specs:
                label = QLabel(fs.label_with_unit + (" (computed)" if fs.computed else ""), box)
                label.setTextFormat(Qt.TextFormat.PlainText)
                label.setWordWrap(True)  # long labels wrap: the form fits a laptop dock without a side scroll
                if fs.help:
                    label.setToolTip(fs.help)
                if fs.computed:
                    value = QLabel(box)
                    value.setTextFormat(Qt.TextFormat.PlainText)
                    value.setStyleSheet(COMPUTED_STYLE)
                    value.setWordWrap(True)
                    value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                    self.computed_labels[fs.name] = value
                    form.addRow(label, value)
                else:
                    editor = create_editor(fs, box)
                    editor.setObjectName(f"edit_{fs.name}")
                    if fs.help:
                        editor.setToolTip(fs.help)
                    if fs.name == "site_id":  # the key of the site: duplicate to change it
                        editor.setEnabled(False)
                    self.editors[fs.name] = editor
                    self._watch_shortcuts(fs.name, editor)
                    form.addRow(label, editor)
            body_layout.addWidget(box)
        body_layout.addStretch(1)
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(body)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title_label)
        layout.addWidget(self.score_label)
        layout.addWidget(self.error_label)
        layout.addWidget(self.scroll, 1)

    def _connect(self) -> None:
        for name, editor in self.editors.items():
            if isinstance(editor, QComboBox):
                editor.activated.connect(lambda _i, n=name: self._commit(n))
            elif isinstance(editor, (QAbstractSpinBox, QLineEdit)):
                editor.editingFinished.connect(lambda n=name: self._commit(n))

    def _watch_shortcuts(self, name: str, editor: QWidget) -> None:
        targets: list[QObject] = [editor]
        if isinstance(editor, QAbstractSpinBox) and editor.lineEdit() is not None:
            targets.append(editor.lineEdit())
        for t in targets:
            self._editor_names[t] = name
            t.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.ShortcutOverride and obj in self._editor_names \
                and isinstance(event, QKeyEvent) and (event.matches(QKeySequence.StandardKey.Undo)
                                                      or event.matches(QKeySequence.StandardKey.Redo)):
            self.commit_pending(self._editor_names[obj])
            event.ignore()  # not taken by the field: the window's Undo/Redo shortcut fires
            return True
        return super().eventFilter(obj, event)

    def commit_pending(self, name: str) -> None:
        """Commit what is typed in the editor of ``name`` (before Undo, so Undo undoes it)."""
        editor = self.editors[name]
        if isinstance(editor, QAbstractSpinBox):
            capture = getattr(editor, "_capture", None)
            if capture is not None:
                capture()
            editor.interpretText()
        self._commit(name)

    # -- wiring -------------------------------------------------------------------------
    def set_portfolio(self, portfolio: Portfolio | None, undo_stack: QUndoStack | None) -> None:
        """Edit sites of ``portfolio``; commands go to ``undo_stack``."""
        if self._portfolio is not None:
            self._portfolio.sites_changed.disconnect(self._on_portfolio_sites_changed)
            self._portfolio.site_removed.disconnect(self._on_portfolio_site_removed)
        self._portfolio = portfolio
        self.undo_stack = undo_stack
        if portfolio is not None:
            portfolio.sites_changed.connect(self._on_portfolio_sites_changed)
            portfolio.site_removed.connect(self._on_portfolio_site_removed)
        self._site_id = ""
        self._refresh()

    @property
    def site_id(self) -> str:
        return self._site_id

    def set_site(self, site_id: str, score: Any = None) -> None:
        """Show ``site_id`` ("" for none) with its readiness result."""
        if self._portfolio is None or site_id not in self._portfolio:
            site_id = ""
        self._site_id = site_id
        self._score = score
        self.error_label.hide()
        self._refresh()

    def set_score(self, score: Any) -> None:
        self._score = score
        self._refresh_score()

    def _on_portfolio_sites_changed(self, ids: list[str]) -> None:
        if self._site_id in ids:
            self.error_label.hide()  # a refusal is stale once the site changed (an undo, another edit)
            self._refresh()

    def _on_portfolio_site_removed(self, site_id: str) -> None:
        if site_id == self._site_id:
            self.set_site("")

    # -- display ------------------------------------------------------------------------
    def _refresh(self) -> None:
        site = self._portfolio.get(self._site_id) if self._portfolio is not None and self._site_id else None
        enabled = site is not None
        self.scroll.setEnabled(enabled)
        self.title_label.setText(f"{site.name} ({site.site_id})" if site is not None else "No site selected")
        for name, editor in self.editors.items():
            editor.blockSignals(True)
            try:
                set_editor_value(editor, _spec(name), site.get(name) if site is not None else None)
            finally:
                editor.blockSignals(False)
            editor.setStyleSheet("")
            editor.setToolTip(_spec(name).help)
        for name, label in self.computed_labels.items():
            value = site.get(name) if site is not None else None
            label.setText(format_value(_spec(name), value) if value is not None else "unknown")
        self._refresh_score()

    def _refresh_score(self) -> None:
        r = self._score
        if not self._site_id:
            self.score_label.setText("")
            return
        if r is None:
            self.score_label.setText("Readiness: not scored")
            return
        band = getattr(r, "band_text", None)
        total_s = f"{band} / 100" if band is not None else "unknown"
        comp = getattr(r, "completeness_pct", None)
        comp_s = f", data {comp:.0f} % complete" if comp is not None else ""
        text = f"Readiness (computed): {total_s}, {getattr(r, 'class_label', '')}{comp_s}"
        site = self._portfolio.get(self._site_id) if self._portfolio is not None else None
        if isinstance(r, ReadinessResult) and site is not None:
            facts = next_facts(site, self._portfolio.settings, result=r)  # type: ignore[union-attr]
            text += f"\nNext fact: {facts[0].sentence}" if facts else "\nEvery scored fact is known."
        self.score_label.setText(text)

    # -- editing ------------------------------------------------------------------------
    def _commit(self, name: str) -> None:
        if self._portfolio is None or self.undo_stack is None or not self._site_id:
            return
        editor = self.editors[name]
        value = editor_value(editor, _spec(name))
        current = self._portfolio.get(self._site_id).get(name)
        if value == current:
            return
        self.commit_value(name, value, editor)

    def commit_value(self, name: str, value: Any, editor: QWidget | None = None) -> bool:
        """Validate and push an edit of ``name``; on refusal show why inline and return False."""
        if self._portfolio is None or self.undo_stack is None or not self._site_id:
            return False
        try:
            # each commit of the form (Enter, Tab, a choice) is one undo step: typed 12, refused -5, typed
            # 13 within the 2 s merge window used to merge 12 and 13, so Undo skipped back past 12
            cmd = EditSiteCommand.create(self._portfolio, self._site_id, name, value, merge=False)
        except (SiteError, PlannerError) as e:
            message = user_message(e)
            self._refresh()
            self.error_label.setText(message)
            self.error_label.show()
            target = editor or self.editors.get(name)
            if target is not None:
                target.setStyleSheet(INVALID_EDITOR_STYLE)
                target.setToolTip(plain_tooltip(message))
                # the banner above pushes the fields down: keep the refused one in view (QA: it ended
                # half below the dock's edge), once the layout has made room for the banner
                QTimer.singleShot(0, lambda t=target: self._keep_visible(t))
            self.edit_rejected.emit(message)
            return False
        self.error_label.hide()
        if cmd.new != cmd.old:
            self.undo_stack.push(cmd)
        return True

    def _keep_visible(self, widget: QWidget) -> None:
        if shiboken6.isValid(widget) and shiboken6.isValid(self):
            self.scroll.ensureWidgetVisible(widget, 0, 24)

    @property
    def error_text(self) -> str:
        return self.error_label.text() if not self.error_label.isHidden() else ""


def _spec(name: str) -> FieldSpec:
    return FIELDS[name]
