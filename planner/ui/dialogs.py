"""Small modal dialogs of the main window, one function each so tests can replace them.

Every function returns plain Python values (paths, choices, booleans); nothing here
changes the project.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from PySide6.QtCore import QLocale, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication, QTextCursor, QTextDocument
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QInputDialog,
                               QLabel, QMessageBox, QTextBrowser, QVBoxLayout, QWidget)

from planner import APP_NAME, __version__
from planner.model.fields import EDITABLE_FIELDS, FIELDS
from planner.ui.delegates import create_editor, editor_value
from planner.ui.input_guard import guard_wheel

PROJECT_FILTER = "Planner project (*.gpkg)"
IMPORT_FILTER = ("GIS and table files (*.gpkg *.geojson *.json *.shp *.zip *.csv *.kml *.fgb);;"
                 "All files (*)")

SaveChoice = Literal["save", "discard", "cancel"]


def show_error(parent: QWidget | None, title: str, message: str) -> None:
    """A warning box with the one-line error (never rich text)."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.exec()


def show_info(parent: QWidget | None, title: str, message: str) -> None:
    box = QMessageBox(QMessageBox.Icon.Information, title, message, QMessageBox.StandardButton.Ok, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.exec()


def ask_save_changes(parent: QWidget | None, name: str) -> SaveChoice:
    """Save / Discard / Cancel for unsaved edits of project ``name``."""
    box = QMessageBox(QMessageBox.Icon.Question, APP_NAME, f"Save changes to {name} before closing?",
                      QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                      | QMessageBox.StandardButton.Cancel, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setDefaultButton(QMessageBox.StandardButton.Save)
    answer = box.exec()
    if answer == QMessageBox.StandardButton.Save:
        return "save"
    if answer == QMessageBox.StandardButton.Discard:
        return "discard"
    return "cancel"


def ask_yes_no(parent: QWidget | None, title: str, question: str) -> bool:
    box = QMessageBox(QMessageBox.Icon.Question, title, question,
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    return box.exec() == QMessageBox.StandardButton.Yes


def ask_open_path(parent: QWidget | None, directory: str = "") -> Path | None:
    path, _ = QFileDialog.getOpenFileName(parent, "Open project", directory, PROJECT_FILTER)
    return Path(path) if path else None


def ask_save_path(parent: QWidget | None, suggested: str = "") -> Path | None:
    """Ask where to save; the ``.gpkg`` suffix is added when missing."""
    path, _ = QFileDialog.getSaveFileName(parent, "Save project as", suggested, PROJECT_FILTER)
    if not path:
        return None
    p = Path(path)
    return p if p.suffix.lower() == ".gpkg" else p.with_name(p.name + ".gpkg")


def ask_import_path(parent: QWidget | None, title: str, directory: str = "") -> Path | None:
    path, _ = QFileDialog.getOpenFileName(parent, title, directory, IMPORT_FILTER)
    return Path(path) if path else None


def ask_layer_kind(parent: QWidget | None, kinds: list[str], suggested: str = "other") -> str | None:
    """Which kind of layer a file holds (decides how it is measured and drawn)."""
    current = kinds.index(suggested) if suggested in kinds else 0
    kind, ok = QInputDialog.getItem(parent, "Import layer", "What does this layer contain?", kinds, current, False)
    return kind if ok else None


def ask_choice(parent: QWidget | None, title: str, label: str, items: list[str]) -> str | None:
    item, ok = QInputDialog.getItem(parent, title, label, items, 0, False)
    return item if ok else None


class BulkEditDialog(QDialog):
    """Choose a field and one value to set on all selected sites."""

    def __init__(self, count: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(f"Bulk edit {count} sites")
        self.field_combo = guard_wheel(QComboBox(self))
        for name in EDITABLE_FIELDS:
            if name in ("site_id", "name", "lon", "lat"):
                continue  # per-site identity: never the same on several sites
            self.field_combo.addItem(FIELDS[name].label_with_unit, name)
        self._form = QFormLayout()
        self._form.addRow("Field", self.field_combo)
        self.editor: QWidget = QLabel()
        self._form.addRow("Value", self.editor)
        hint = QLabel("Leave the value at 'unknown' to clear the field on every selected site.", self)
        hint.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                   self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self._form)
        layout.addWidget(hint)
        layout.addWidget(buttons)
        self.field_combo.currentIndexChanged.connect(self._on_field_combo_changed)
        self._on_field_combo_changed()

    def _on_field_combo_changed(self, *_: Any) -> None:
        fs = FIELDS[self.field_combo.currentData()]
        new = create_editor(fs, self)
        self._form.replaceWidget(self.editor, new)
        self.editor.deleteLater()
        self.editor = new

    def result_value(self) -> tuple[str, Any]:
        """(field name, raw value or None for unknown)."""
        name = self.field_combo.currentData()
        return name, editor_value(self.editor, FIELDS[name])


def ask_bulk_edit(parent: QWidget | None, count: int) -> tuple[str, Any] | None:
    dlg = BulkEditDialog(count, parent)
    return dlg.result_value() if dlg.exec() == QDialog.DialogCode.Accepted else None


def ask_recover(parent: QWidget | None, descriptions: list[str]) -> bool:
    """Offer to recover an autosaved copy from a session that ended without saving."""
    text = ("The planner closed without saving last time. Recover the autosaved copy?\n\n"
            + "\n".join(descriptions[:5]))
    return ask_yes_no(parent, "Recover unsaved work", text)


#: Licences of the software the app ships or loads (the full texts come with each package).
SOFTWARE_LICENCES: tuple[tuple[str, str], ...] = (
    ("Site Conversion Planner", "MIT"),
    ("Qt 6 / PySide6 (Qt for Python)", "LGPL-3.0"),
    ("Qt WebEngine / Chromium", "LGPL-3.0 with Chromium's BSD-style licences"),
    ("Leaflet 1.9.4", "BSD-2-Clause"),
    ("folium, branca", "MIT"),
    ("pyqtgraph", "MIT"),
    ("geopandas, shapely, pyogrio, pyproj", "BSD-3-Clause / MIT"),
    ("GDAL/OGR, PROJ", "MIT / X11"),
    ("NumPy, pandas", "BSD-3-Clause"),
    ("Jinja2, platformdirs, psygnal, pypdf", "BSD-3-Clause / MIT"),
)


def _md(text: str) -> str:
    """Text from files and projects shown literally inside Markdown (no markup, no links, no HTML)."""
    return re.sub(r"([\\`*_{}\[\]()#+!|<>~-])", r"\\\1", str(text))


def about_markdown(attribution: str) -> str:
    """The About text as Markdown: version, licences table, data attribution (the bundled Markdown file)
    and the sources of the project's layers (escaped: they come from user files)."""
    main, _, project_layers = attribution.partition("Layers in this project:\n")
    rows = "\n".join(f"| {_md(name)} | {_md(lic)} |" for name, lic in SOFTWARE_LICENCES)
    text = (f"# {_md(APP_NAME)} {_md(__version__)}\n\n"
            "Which Bitcoin-mining sites can become AI/HPC data centers, what it takes, "
            "and what each path earns per MW.\n\n"
            "## Software licences\n\n| Component | Licence |\n|---|---|\n" + rows + "\n\n"
            + main.strip() + "\n")
    if project_layers.strip():
        text += "\n## Layers in this project\n\n" + "\n".join(
            f"- {_md(line)}" for line in project_layers.splitlines() if line.strip()) + "\n"
    return text


def about_text(attribution: str) -> str:
    """The About text as HTML (rendered from :func:`about_markdown`, raw HTML in the text disabled)."""
    from PySide6.QtGui import QTextDocument

    doc = QTextDocument()
    doc.setMarkdown(about_markdown(attribution), QTextDocument.MarkdownFeature.MarkdownDialectGitHub
                    | QTextDocument.MarkdownFeature.MarkdownNoHTML)  # type: ignore[operator]
    return doc.toHtml()


class MarkdownDialog(QDialog):
    """A scrollable rich-text dialog showing Markdown (About, Help): fits the screen, links open outside."""

    def __init__(self, title: str, markdown: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.browser = QTextBrowser(self)
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._on_browser_anchor_clicked)
        self.browser.document().setMarkdown(
            markdown, QTextDocument.MarkdownFeature.MarkdownDialectGitHub
            | QTextDocument.MarkdownFeature.MarkdownNoHTML)  # type: ignore[operator]
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser, 1)
        layout.addWidget(buttons)
        screen = (parent.screen() if parent is not None else None) or QGuiApplication.primaryScreen()
        avail = screen.availableGeometry() if screen is not None else None
        w = min(760, int(avail.width() * 0.85)) if avail is not None else 760
        h = min(680, int(avail.height() * 0.85)) if avail is not None else 680
        self.resize(w, h)
        # open at the top (the product name and version): the cursor was left at the end of the
        # document and the browser scrolled to it when shown
        self.browser.moveCursor(QTextCursor.MoveOperation.Start)

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.browser.verticalScrollBar().setValue(0)

    def _on_browser_anchor_clicked(self, url: QUrl) -> None:
        if url.scheme() in ("http", "https"):
            QDesktopServices.openUrl(url)


def show_markdown(parent: QWidget | None, title: str, markdown: str) -> None:
    MarkdownDialog(title, markdown, parent).exec()


def show_about(parent: QWidget | None, attribution: str) -> None:
    show_markdown(parent, f"About {APP_NAME}", about_markdown(attribution))


def help_markdown() -> str:
    """The bundled quick help (resources/help.md)."""
    from planner.assets import AssetError, asset_path

    try:
        return asset_path("resources", "help.md").read_text(encoding="utf-8")
    except (AssetError, OSError):
        return f"# {APP_NAME}\n\nThe help file is not bundled with this copy; see README.md."


def show_help(parent: QWidget | None) -> None:
    show_markdown(parent, f"{APP_NAME} help", help_markdown())


class ReportOptionsDialog(QDialog):
    """All the choices of a PDF report in one dialog: the site (when none is selected), paper, atlas."""

    def __init__(self, title: str, parent: QWidget | None = None, *, sites: list[tuple[str, str]] | None = None,
                 atlas: bool = False):
        super().__init__(parent)
        self.setWindowTitle(title)
        form = QFormLayout()
        self.site_combo: QComboBox | None = None
        if sites:
            self.site_combo = QComboBox(self)
            for sid, name in sites:
                self.site_combo.addItem(f"{name} ({sid})", sid)
            form.addRow("Site", self.site_combo)
        self.paper_combo = QComboBox(self)
        self.paper_combo.addItem("A4", "a4")
        self.paper_combo.addItem("Letter", "letter")
        imperial = QLocale().measurementSystem() == QLocale.MeasurementSystem.ImperialUSSystem
        self.paper_combo.setCurrentIndex(1 if imperial else 0)
        form.addRow("Paper", self.paper_combo)
        self.atlas_check: QCheckBox | None = None
        if atlas:
            self.atlas_check = QCheckBox("Add one section per site (atlas)", self)
            form.addRow("Content", self.atlas_check)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Choose file…")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        # wide enough for its title ("Site report: <site name> (<id>)"): the window manager cut it to
        # "Site rep…OT-RKD)" in a dialog sized to its two combos (QA)
        self.setMinimumWidth(min(640, max(320, self.fontMetrics().horizontalAdvance(title) + 140)))

    def choices(self) -> tuple[str | None, str, bool]:
        """(site_id or None, paper "a4"/"letter", atlas)."""
        sid = self.site_combo.currentData() if self.site_combo is not None else None
        return sid, str(self.paper_combo.currentData()), bool(self.atlas_check and self.atlas_check.isChecked())


def ask_report_options(parent: QWidget | None, title: str, *, sites: list[tuple[str, str]] | None = None,
                       atlas: bool = False) -> tuple[str | None, str, bool] | None:
    """One dialog for a report's options; None when cancelled."""
    dlg = ReportOptionsDialog(title, parent, sites=sites, atlas=atlas)
    return dlg.choices() if dlg.exec() == QDialog.DialogCode.Accepted else None
