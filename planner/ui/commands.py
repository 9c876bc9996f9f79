"""Qt's undo stack over the plain commands of :mod:`planner.session.commands`.

:class:`QtCommand` wraps one :class:`~planner.session.commands.Command` as a ``QUndoCommand``
(redo/undo/merge delegate to it); :class:`QtUndoAdapter` lets a
:class:`~planner.session.Session` push onto a ``QUndoStack``. The named classes below keep the
constructors widgets and tests use (``EditSiteCommand.create(portfolio, ...)``) and only build
the plain command.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

from PySide6.QtGui import QUndoCommand, QUndoStack

from planner.gis.project import MapLayer, Project
from planner.model.portfolio import Portfolio
from planner.model.site import Site
from planner.session import commands as cmd
from planner.session.commands import MERGE_WINDOW_S, prepare_edit

__all__ = ["MERGE_WINDOW_S", "AddLayerCommand", "AddSiteCommand", "BulkEditCommand", "DeleteSitesCommand",
           "DuplicateSiteCommand", "EditSiteCommand", "MoveSiteCommand", "QtCommand", "QtUndoAdapter",
           "RemoveLayerCommand", "SetSettingCommand", "end_merge", "prepare_edit"]

_MERGE_IDS: dict[type, int] = {}


class QtCommand(QUndoCommand):
    """A plain command on a ``QUndoStack``; commands of one type with a ``merge_key`` share an id()."""

    def __init__(self, command: cmd.Command, parent: QUndoCommand | None = None):
        super().__init__(parent)
        self.command = command
        self.setText(command.text)

    def redo(self) -> None:
        self.command.do()

    def undo(self) -> None:
        self.command.undo()

    def id(self) -> int:
        if self.command.merge_key is None:
            return -1
        return _MERGE_IDS.setdefault(type(self.command), 1000 + len(_MERGE_IDS))

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, QtCommand) or not self.command.merge(other.command):
            return False
        self.setObsolete(self.command.obsolete)
        return True


def end_merge(stack: QUndoStack | None) -> None:
    """Let the command on top of ``stack`` absorb no later edit: a refused edit came in between, so the
    next valid one is an undo step of its own (valid 12, refused -5, valid 13 within the merge window
    merged 12 and 13, and Undo went back past 12)."""
    top = stack.command(stack.index() - 1) if stack is not None and stack.index() > 0 else None
    if isinstance(top, QtCommand):
        top.command.merge_key = None


class QtUndoAdapter:
    """The :class:`~planner.session.stack.UndoStack` a session uses in the app."""

    def __init__(self, stack: QUndoStack):
        self.qstack = stack

    def push(self, command: cmd.Command) -> None:
        self.qstack.push(QtCommand(command))


class EditSiteCommand(QtCommand):
    """:class:`planner.session.commands.EditSite` on Qt's stack."""

    def __init__(self, portfolio: Portfolio, old: Site, new: Site, field: str, parent: QUndoCommand | None = None):
        self.edit = cmd.EditSite(portfolio, old, new, field)
        super().__init__(self.edit, parent)

    @property
    def old(self) -> Site:
        return self.edit.old[0]

    @property
    def new(self) -> Site:
        return self.edit.new[0]

    @classmethod
    def create(cls, portfolio: Portfolio, site_id: str, field: str, raw: Any, *, merge: bool = True) -> EditSiteCommand:
        """Validate and build the command; raises :class:`SiteError` with the rule and the fix.

        ``merge=False``: an undo step of its own, never absorbed into the previous edit of the field
        within the merge window (nor absorbing the next): a value typed and committed in the form.
        """
        old, new = prepare_edit(portfolio, site_id, field, raw)
        command = cls(portfolio, old, new, field)
        if not merge:
            command.edit.merge_key = None
        return command


class BulkEditCommand(QtCommand):
    """:class:`planner.session.commands.BulkEdit` on Qt's stack."""

    @classmethod
    def create(cls, portfolio: Portfolio, site_ids: Iterable[str], field: str, raw: Any) -> BulkEditCommand:
        return cls(cmd.BulkEdit.create(portfolio, site_ids, field, raw))


class AddSiteCommand(QtCommand):
    """:class:`planner.session.commands.AddSites` on Qt's stack."""

    def __init__(self, portfolio: Portfolio, sites: Site | Sequence[Site], index: int | None = None,
                 text: str | None = None, parent: QUndoCommand | None = None):
        super().__init__(cmd.AddSites(portfolio, sites, index, text), parent)


class DeleteSitesCommand(QtCommand):
    """:class:`planner.session.commands.DeleteSites` on Qt's stack."""

    def __init__(self, portfolio: Portfolio, site_ids: Sequence[str], parent: QUndoCommand | None = None):
        super().__init__(cmd.DeleteSites(portfolio, site_ids), parent)


class DuplicateSiteCommand(QtCommand):
    """:class:`planner.session.commands.DuplicateSite` on Qt's stack."""

    def __init__(self, portfolio: Portfolio, site_id: str, parent: QUndoCommand | None = None):
        self.duplicate = cmd.DuplicateSite(portfolio, site_id)
        super().__init__(self.duplicate, parent)

    @property
    def new_id(self) -> str:
        return self.duplicate.new_id


class MoveSiteCommand(QtCommand):
    """:class:`planner.session.commands.MoveSite` on Qt's stack."""

    def __init__(self, portfolio: Portfolio, site_id: str, lon: float, lat: float,
                 parent: QUndoCommand | None = None):
        super().__init__(cmd.MoveSite(portfolio, site_id, lon, lat), parent)


class SetSettingCommand(QtCommand):
    """:class:`planner.session.commands.SetSetting` on Qt's stack (``target`` narrows merging)."""

    def __init__(self, portfolio: Portfolio, key: str, value: Any, text: str | None = None,
                 merge: bool = True, parent: QUndoCommand | None = None, target: Hashable = None):
        super().__init__(cmd.SetSetting(portfolio, key, value, text, merge, target), parent)


class AddLayerCommand(QtCommand):
    """:class:`planner.session.commands.AddLayer` on Qt's stack."""

    def __init__(self, project: Project, layer: MapLayer, notify: Callable[[str], None] | None = None,
                 parent: QUndoCommand | None = None):
        super().__init__(cmd.AddLayer(project, layer, notify), parent)


class RemoveLayerCommand(QtCommand):
    """:class:`planner.session.commands.RemoveLayer` on Qt's stack."""

    def __init__(self, project: Project, name: str, notify: Callable[[str], None] | None = None,
                 parent: QUndoCommand | None = None):
        super().__init__(cmd.RemoveLayer(project, name, notify), parent)
