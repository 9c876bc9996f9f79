"""The main window's actions and menus (File, Edit, View, Help; Tools and Export plug in later)."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QAction, QActionGroup, QKeySequence

from planner.ui import dialogs

if TYPE_CHECKING:
    from planner.ui.main_window import MainWindow

MAP_MODES: tuple[tuple[str, str], ...] = (("browse", "Browse"), ("add", "Add site by clicking"),
                                          ("move", "Move sites by dragging"), ("measure", "Measure"))


def build_actions(w: MainWindow) -> None:
    """Create the window's actions (``w.new_action``, ``w.undo_action``, ``w.mode_actions`` …)."""
    def act(text: str, slot: Callable[[], Any], shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
            tip: str = "") -> QAction:
        a = QAction(text, w)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        a.setStatusTip(tip)
        a.triggered.connect(lambda _checked=False: slot())
        return a

    K = QKeySequence.StandardKey
    w.new_action = act("&New", lambda: _new(w), K.New, "Start an empty project")
    w.open_action = act("&Open…", lambda: _open(w), K.Open, "Open a project (.gpkg)")
    w.save_action = act("&Save", w.save, K.Save, "Save the project")
    w.save_as_action = act("Save &As…", w.files.ask_save_as, K.SaveAs, "Save under a new name")
    w.import_sites_action = act("Import &sites…", w.imports.ask_import_sites, None, "Add sites from a GIS or CSV file")
    w.import_layer_action = act("Import &layer…", w.imports.ask_import_layer, None,
                                "Add a map layer (lines, substations, fibre…)")
    w.quit_action = act("&Quit", w.close, K.Quit)
    w.undo_action = w.undo_stack.createUndoAction(w, "&Undo")
    w.undo_action.setShortcuts(K.Undo)
    w.redo_action = w.undo_stack.createRedoAction(w, "&Redo")
    w.redo_action.setShortcuts(K.Redo)  # Ctrl+Y and Ctrl+Shift+Z
    w.add_site_action = act("&Add site", lambda: w.set_map_mode("add"), "Ctrl+Shift+A",
                            "Click on the map to place a new site")
    w.delete_action = act("&Delete sites…", lambda: _delete(w), K.Delete, "Delete the selected sites (asks first)")
    w.duplicate_action = act("D&uplicate site", lambda: w.duplicate_site(w.current_site), "Ctrl+D",
                             "Copy the current site under a new ID")
    w.bulk_edit_action = act("&Bulk edit…", lambda: _bulk_edit(w), "Ctrl+B", "Set one field on all selected sites")
    w.about_action = act("&About", lambda: dialogs.show_about(w, w.attribution_text()))
    w.help_action = act("&Help", lambda: dialogs.show_help(w), K.HelpContents, "How to use the planner (F1)")
    w.find_action = act("&Find sites", lambda: _find(w), K.Find, "Type in the sites filter (Ctrl+F)")
    w.zoom_to_sites_action = act("&Zoom to all sites", w.zoom_to_sites, "Ctrl+0", "Fit the map to the sites (outlying ones, e.g. abroad, left out); press again for every site")
    w.mode_group = QActionGroup(w)
    w.mode_group.setExclusive(True)
    w.mode_actions = {}
    for mode, label in MAP_MODES:
        a = QAction(label, w)
        a.setCheckable(True)
        a.setData(mode)
        w.mode_group.addAction(a)
        w.mode_actions[mode] = a
    w.mode_actions["browse"].setChecked(True)


def build_menus(w: MainWindow) -> None:
    """File, Edit, View and Help menus (``w.export_menu`` is filled by the export module)."""
    mb = w.menuBar()
    w.file_menu = mb.addMenu("&File")
    w.file_menu.addActions([w.new_action, w.open_action])
    w.recent_menu = w.file_menu.addMenu("Open &Recent")
    w.file_menu.addActions([w.save_action, w.save_as_action])
    w.file_menu.addSeparator()
    w.file_menu.addActions([w.import_sites_action, w.import_layer_action])
    w.export_menu = w.file_menu.addMenu("&Export")
    w.file_menu.addSeparator()
    w.file_menu.addAction(w.quit_action)
    w.edit_menu = mb.addMenu("&Edit")
    w.edit_menu.addActions([w.undo_action, w.redo_action])
    w.edit_menu.addSeparator()
    w.edit_menu.addActions([w.add_site_action, w.delete_action, w.duplicate_action, w.bulk_edit_action])
    w.edit_menu.addSeparator()
    w.edit_menu.addAction(w.find_action)
    w.view_menu = mb.addMenu("&View")
    w.docks_menu = w.view_menu.addMenu("&Panels")
    for dock in (w.sites_dock, w.form_dock, w.layers_dock):
        w.docks_menu.addAction(dock.toggleViewAction())
    w.map_mode_menu = w.view_menu.addMenu("&Map mode")
    w.map_mode_menu.addActions(list(w.mode_actions.values()))
    w.view_menu.addAction(w.zoom_to_sites_action)
    w.help_menu = mb.addMenu("&Help")
    w.help_menu.addActions([w.help_action, w.about_action])


def _new(w: MainWindow) -> None:
    if w.maybe_save():
        w.new_project()


def _open(w: MainWindow) -> None:
    recent = w.settings.recent_files
    if w.maybe_save() and (path := dialogs.ask_open_path(w, str(Path(recent[0]).parent) if recent else "")):
        w.open_project(path)


def _delete(w: MainWindow) -> None:
    ids = w.selected_site_ids()
    if not ids:
        w.show_status("Select one or more sites to delete")
        return
    names = ", ".join(f"{w.portfolio.get(i).name} ({i})" for i in ids[:5]) + (f" and {len(ids) - 5} more"
                                                                             if len(ids) > 5 else "")
    if dialogs.ask_yes_no(w, "Delete sites", f"Delete {len(ids)} site{'s' if len(ids) != 1 else ''}: {names}?\n\n"
                          "Edit > Undo brings them back."):
        w.delete_sites(ids)
        w.show_status(f"Deleted {len(ids)} site{'s' if len(ids) != 1 else ''}; Edit > Undo brings "
                      f"{'them' if len(ids) != 1 else 'it'} back")


def _find(w: MainWindow) -> None:
    w.sites_dock.show()
    w.sites_dock.raise_()
    w.filter_edit.setFocus()
    w.filter_edit.selectAll()


def _bulk_edit(w: MainWindow) -> None:
    ids = w.selected_site_ids()
    if not ids:
        w.show_status("Select one or more sites in the table first")
    elif (answer := dialogs.ask_bulk_edit(w, len(ids))) is not None:
        w.bulk_edit(ids, *answer)
