"""Layers panel: a checkable list of the project's map layers plus import/remove buttons.

Titles come from user files, so they are shown as plain text only (QListWidgetItem text is
never interpreted as HTML; the tooltip is escaped explicitly because tooltips are rich text).
"""
from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout,
                               QWidget)

NAME_ROLE = Qt.ItemDataRole.UserRole + 1
KIND_ROLE = Qt.ItemDataRole.UserRole + 2


class LayersPanel(QWidget):
    """Checkable list of layers; emits ``layer_visibility_changed(name, kind, visible)``."""

    layer_visibility_changed = Signal(str, str, bool)
    import_requested = Signal()
    remove_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._hidden: set[str] = set()
        self._filling = False
        self._build_ui()
        self._connect()

    def _build_ui(self) -> None:
        self.list = QListWidget(self)
        self.list.setObjectName("layersList")
        self.list.setWordWrap(True)  # long layer titles wrap instead of being cut
        self.list.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.empty_label = QLabel("No map layers. Use Import layer to add one.", self)
        self.empty_label.setTextFormat(Qt.TextFormat.PlainText)
        self.empty_label.setWordWrap(True)
        self.import_button = QPushButton("Import layer…", self)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.empty_label)
        layout.addLayout(buttons)

    def _connect(self) -> None:
        self.list.itemChanged.connect(self._on_list_item_changed)
        self.list.currentItemChanged.connect(
            lambda cur, _prev: self.remove_button.setEnabled(cur is not None))
        self.import_button.clicked.connect(self.import_requested)
        self.remove_button.clicked.connect(self._on_remove_clicked)

    def set_layers(self, layers: dict[str, Any]) -> None:
        """Show ``layers`` (name -> MapLayer), ticked as their ``style["visible"]`` says."""
        self._filling = True
        try:
            current = self.current_layer()
            self.list.clear()
            for name, layer in layers.items():
                title = str(getattr(layer, "title", None) or name)
                kind = str(getattr(layer, "kind", "other"))
                item = QListWidgetItem(f"{title}  [{kind}]")
                item.setData(NAME_ROLE, name)
                item.setData(KIND_ROLE, kind)
                n = len(layer.gdf) if getattr(layer, "gdf", None) is not None else None
                source = getattr(layer, "source", None) or "unknown source"
                tip = f"{title}\nkind: {kind}\nfeatures: {n if n is not None else 'unknown'}\nsource: {source}"
                item.setToolTip(f"<pre>{html.escape(tip)}</pre>")
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                              | Qt.ItemFlag.ItemIsUserCheckable)
                # the layer's style says whether it is drawn (the map and the exports read the same flag)
                style = getattr(layer, "style", None) or {}
                if style.get("visible", True) is False:
                    self._hidden.add(name)
                else:
                    self._hidden.discard(name)
                item.setCheckState(Qt.CheckState.Unchecked if name in self._hidden else Qt.CheckState.Checked)
                self.list.addItem(item)
                if name == current:
                    self.list.setCurrentItem(item)
            self._hidden &= set(layers)
            self.empty_label.setVisible(not layers)
        finally:
            self._filling = False

    def current_layer(self) -> str | None:
        item = self.list.currentItem()
        return item.data(NAME_ROLE) if item is not None else None

    def is_visible(self, name: str) -> bool:
        return name not in self._hidden

    def set_visible(self, name: str, visible: bool) -> None:
        """Check or uncheck a layer (emits ``layer_visibility_changed`` when it changes)."""
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(NAME_ROLE) == name:
                item.setCheckState(Qt.CheckState.Checked if visible else Qt.CheckState.Unchecked)
                return
        raise KeyError(f"no layer named {name!r}")

    def _on_list_item_changed(self, item: QListWidgetItem) -> None:
        if self._filling:
            return
        name, kind = item.data(NAME_ROLE), item.data(KIND_ROLE)
        visible = item.checkState() == Qt.CheckState.Checked
        if visible == (name not in self._hidden):
            return
        (self._hidden.discard if visible else self._hidden.add)(name)
        self.layer_visibility_changed.emit(name, kind, visible)

    def _on_remove_clicked(self) -> None:
        name = self.current_layer()
        if name:
            self.remove_requested.emit(name)
