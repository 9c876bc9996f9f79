"""Undo commands: every user change to the portfolio or project is one of these.

Commands change the store (``Portfolio`` / ``Project``) only; widgets update from the
portfolio's psygnal signals. Sites are immutable, so each command keeps the before and
after ``Site`` objects and undo simply puts the old ones back.
"""
from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from PySide6.QtGui import QUndoCommand

from planner.model.fields import FIELDS
from planner.model.portfolio import Portfolio
from planner.model.site import Site, SiteError

# Consecutive edits of the same site+field within this window merge into one undo step
# (spin-box arrows, repeated typing), later edits stay separate.
MERGE_WINDOW_S = 2.0

_ID_EDIT_SITE = 1001
_ID_SET_SETTING = 1002
_ID_MOVE_SITE = 1003


def _field_label(field: str) -> str:
    fs = FIELDS.get(field)
    return fs.label if fs else field


def prepare_edit(portfolio: Portfolio, site_id: str, field: str, raw: Any) -> tuple[Site, Site]:
    """Validate an edit without applying it; returns ``(old, new)`` or raises :class:`SiteError`."""
    fs = FIELDS.get(field)
    if fs is None:
        raise SiteError(field, raw, "is not a site field", "Check the column", site_id)
    if fs.computed:
        raise SiteError(field, raw, "is computed from the map layers and cannot be edited",
                        "Move the site or change the layers instead", site_id)
    if field == "site_id":
        raise SiteError(field, raw, "cannot be changed in place", "Duplicate the site with a new ID instead",
                        site_id)
    old = portfolio.get(site_id)
    new = old.replace(**{field: raw})
    return old, new


class EditSiteCommand(QUndoCommand):
    """Change one field of one site (bursts on the same site+field merge)."""

    def __init__(self, portfolio: Portfolio, old: Site, new: Site, field: str,
                 parent: QUndoCommand | None = None):
        super().__init__(parent)
        self.portfolio = portfolio
        self.site_id = old.site_id
        self.field = field
        self.old = old
        self.new = new
        self._stamp = time.monotonic()
        self.setText(f"Edit {_field_label(field)} of {self.site_id}")

    @classmethod
    def create(cls, portfolio: Portfolio, site_id: str, field: str, raw: Any) -> "EditSiteCommand":
        """Validate and build the command; raises :class:`SiteError` with the rule and the fix."""
        old, new = prepare_edit(portfolio, site_id, field, raw)
        return cls(portfolio, old, new, field)

    def redo(self) -> None:
        self.portfolio.replace_sites([self.new])

    def undo(self) -> None:
        self.portfolio.replace_sites([self.old])

    def id(self) -> int:
        return _ID_EDIT_SITE

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, EditSiteCommand) or other.site_id != self.site_id \
                or other.field != self.field or other._stamp - self._stamp > MERGE_WINDOW_S:
            return False
        self.new = other.new
        self._stamp = other._stamp
        if self.new == self.old:
            self.setObsolete(True)
        return True


class BulkEditCommand(QUndoCommand):
    """Set one field to one value on several sites (all validated first, all or nothing)."""

    def __init__(self, portfolio: Portfolio, pairs: Sequence[tuple[Site, Site]], field: str,
                 parent: QUndoCommand | None = None):
        super().__init__(parent)
        self.portfolio = portfolio
        self.field = field
        self.old = [o for o, _ in pairs]
        self.new = [n for _, n in pairs]
        self.setText(f"Set {_field_label(field)} on {len(pairs)} sites")

    @classmethod
    def create(cls, portfolio: Portfolio, site_ids: Iterable[str], field: str, raw: Any) -> "BulkEditCommand":
        """Validate the edit on every site; the first refusal raises :class:`SiteError`."""
        pairs = [prepare_edit(portfolio, sid, field, raw) for sid in site_ids]
        if not pairs:
            raise SiteError(field, raw, "no sites selected", "Select one or more sites first")
        return cls(portfolio, pairs, field)

    def redo(self) -> None:
        self.portfolio.replace_sites(self.new)

    def undo(self) -> None:
        self.portfolio.replace_sites(self.old)


class AddSiteCommand(QUndoCommand):
    """Add one or more sites (appended, or inserted at ``index``)."""

    def __init__(self, portfolio: Portfolio, sites: Site | Sequence[Site], index: int | None = None,
                 text: str | None = None, parent: QUndoCommand | None = None):
        super().__init__(parent)
        self.portfolio = portfolio
        self.sites = [sites] if isinstance(sites, Site) else list(sites)
        self.index = index
        self.setText(text or (f"Add site {self.sites[0].site_id}" if len(self.sites) == 1
                              else f"Add {len(self.sites)} sites"))

    def redo(self) -> None:
        for k, s in enumerate(self.sites):
            self.portfolio.add_site(s, None if self.index is None else self.index + k)

    def undo(self) -> None:
        for s in reversed(self.sites):
            self.portfolio.remove_site(s.site_id)


class DeleteSitesCommand(QUndoCommand):
    """Delete sites; undo puts each back at its former position."""

    def __init__(self, portfolio: Portfolio, site_ids: Sequence[str], parent: QUndoCommand | None = None):
        super().__init__(parent)
        self.portfolio = portfolio
        self.site_ids = list(dict.fromkeys(site_ids))
        self._removed: list[tuple[int, Site]] = []
        self.setText(f"Delete site {self.site_ids[0]}" if len(self.site_ids) == 1
                     else f"Delete {len(self.site_ids)} sites")

    def redo(self) -> None:
        self._removed = [self.portfolio.remove_site(sid) for sid in self.site_ids]

    def undo(self) -> None:
        # reverse removal order: each recorded index was valid right after the earlier removals
        for idx, site in reversed(self._removed):
            self.portfolio.add_site(site, idx)
        self._removed = []


class DuplicateSiteCommand(QUndoCommand):
    """Copy a site under a new unique ID, right after the original."""

    def __init__(self, portfolio: Portfolio, site_id: str, parent: QUndoCommand | None = None):
        super().__init__(parent)
        self.portfolio = portfolio
        src = portfolio.get(site_id)
        new_id = portfolio.unique_id(f"{site_id}-copy")
        name = f"{src.name} (copy)"
        if len(name) > FIELDS["name"].max_length:
            name = src.name
        self.site = src.replace(site_id=new_id, name=name)
        self.index = portfolio.index_of(site_id) + 1
        self.setText(f"Duplicate site {site_id}")

    @property
    def new_id(self) -> str:
        return str(self.site.site_id)

    def redo(self) -> None:
        self.portfolio.add_site(self.site, self.index)

    def undo(self) -> None:
        self.portfolio.remove_site(self.site.site_id)


class MoveSiteCommand(QUndoCommand):
    """Move a site to a new lon/lat (drag bursts on the same site merge)."""

    def __init__(self, portfolio: Portfolio, site_id: str, lon: float, lat: float,
                 parent: QUndoCommand | None = None):
        super().__init__(parent)
        self.portfolio = portfolio
        self.site_id = site_id
        self.old = portfolio.get(site_id)
        self.new = self.old.replace(lon=lon, lat=lat)  # validates the range, raises SiteError
        self._stamp = time.monotonic()
        self.setText(f"Move site {site_id}")

    def redo(self) -> None:
        self.portfolio.replace_sites([self.new])

    def undo(self) -> None:
        self.portfolio.replace_sites([self.old])

    def id(self) -> int:
        return _ID_MOVE_SITE

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, MoveSiteCommand) or other.site_id != self.site_id \
                or other._stamp - self._stamp > MERGE_WINDOW_S:
            return False
        self.new = other.new
        self._stamp = other._stamp
        return True


class SetSettingCommand(QUndoCommand):
    """Change one portfolio setting (assumptions, weights profile, scenario, ...)."""

    def __init__(self, portfolio: Portfolio, key: str, value: Any, text: str | None = None,
                 merge: bool = True, parent: QUndoCommand | None = None):
        super().__init__(parent)
        self.portfolio = portfolio
        self.key = key
        self._had_old = key in portfolio.settings
        self.old = copy.deepcopy(portfolio.settings.get(key))
        self.new = copy.deepcopy(value)
        self._merge = merge
        self._stamp = time.monotonic()
        self.setText(text or f"Change {key}")

    def redo(self) -> None:
        self.portfolio.set_setting(self.key, self.new)

    def undo(self) -> None:
        if self._had_old:
            self.portfolio.set_setting(self.key, self.old)
        else:
            self.portfolio.settings.pop(self.key, None)
            self.portfolio.settings_changed.emit(self.key)

    def id(self) -> int:
        return _ID_SET_SETTING if self._merge else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetSettingCommand) or other.key != self.key or not other._merge \
                or other._stamp - self._stamp > MERGE_WINDOW_S:
            return False
        self.new = other.new
        self._stamp = other._stamp
        return True


class AddLayerCommand(QUndoCommand):
    """Add a map layer to the project; ``notify(name)`` is called after the store changed."""

    def __init__(self, project: Any, layer: Any, notify: Callable[[str], None] | None = None,
                 parent: QUndoCommand | None = None):
        super().__init__(parent)
        self.project = project
        self.layer = layer
        self.notify = notify
        self.setText(f"Add layer {layer.title or layer.name}")

    def redo(self) -> None:
        if self.layer.name in self.project.layers:
            raise KeyError(f"layer {self.layer.name!r} already exists")
        self.project.layers[self.layer.name] = self.layer
        if self.notify:
            self.notify(self.layer.name)

    def undo(self) -> None:
        self.project.layers.pop(self.layer.name, None)
        if self.notify:
            self.notify(self.layer.name)


class RemoveLayerCommand(QUndoCommand):
    """Remove a map layer; undo puts it back at its former position."""

    def __init__(self, project: Any, name: str, notify: Callable[[str], None] | None = None,
                 parent: QUndoCommand | None = None):
        super().__init__(parent)
        self.project = project
        self.name = name
        self.layer = project.layers[name]
        self.index = list(project.layers).index(name)
        self.notify = notify
        self.setText(f"Remove layer {self.layer.title or name}")

    def redo(self) -> None:
        self.project.layers.pop(self.name, None)
        if self.notify:
            self.notify(self.name)

    def undo(self) -> None:
        items = list(self.project.layers.items())
        items.insert(min(self.index, len(items)), (self.name, self.layer))
        self.project.layers.clear()
        self.project.layers.update(items)
        if self.notify:
            self.notify(self.name)
