"""Edits as plain command objects (glue's ``core/command.py`` pattern), no Qt.

Every change a user makes to an open project is one :class:`Command`: it validates when built
(raising :class:`~planner.model.site.SiteError` or :class:`~planner.model.site.PlannerError`
with the rule and the fix), and ``do()``/``undo()`` change the store (``Portfolio`` /
``Project``) only. Views follow the portfolio's signals and the session's ``layers_changed``.

Sites are immutable, so a command keeps the before and after ``Site`` objects and undo puts
the old ones back. Bursts (spin-box arrows, a drag) merge: a later command with the same
:attr:`Command.merge_key` within :data:`MERGE_WINDOW_S` is absorbed by :meth:`Command.merge`.

The same objects run on the pure-Python :class:`planner.session.stack.CommandStack` (CLI,
tests) and on Qt's ``QUndoStack`` through the thin adapter in ``planner.ui.commands``.
"""
from __future__ import annotations

import copy
import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from planner.model.fields import FIELDS
from planner.model.portfolio import Portfolio
from planner.model.site import Site, SiteError

if TYPE_CHECKING:
    from planner.gis.project import MapLayer, Project

#: Consecutive edits of the same target within this window merge into one undo step
#: (spin-box arrows, repeated typing, one drag); later edits stay separate.
MERGE_WINDOW_S = 2.0


def field_label(field: str) -> str:
    """The label of a site field (the name itself for an unknown one)."""
    fs = FIELDS.get(field)
    return fs.label if fs else field


class Command:
    """One undoable change. Subclasses set ``text`` and implement :meth:`do` and :meth:`undo`."""

    text: str = ""
    #: Commands whose ``merge_key`` is equal (and not None) may merge (see :meth:`merge`).
    merge_key: Hashable | None = None
    #: Set by :meth:`merge` when the merged command changes nothing; stacks then drop it.
    obsolete: bool = False

    def __init__(self) -> None:
        self.stamp = time.monotonic()

    def do(self) -> None:
        raise NotImplementedError

    def undo(self) -> None:
        raise NotImplementedError

    def merge(self, later: Command) -> bool:
        """Absorb ``later`` (same type and key, within the merge window); True when merged."""
        if self.merge_key is None or type(later) is not type(self) or later.merge_key != self.merge_key \
                or later.stamp - self.stamp > MERGE_WINDOW_S:
            return False
        self._absorb(later)
        self.stamp = later.stamp
        return True

    def _absorb(self, later: Command) -> None:
        raise NotImplementedError


class MacroCommand(Command):
    """Several commands as one undo step (done in order, undone in reverse)."""

    def __init__(self, commands: Sequence[Command], text: str):
        super().__init__()
        self.commands = list(commands)
        self.text = text

    def do(self) -> None:
        for c in self.commands:
            c.do()

    def undo(self) -> None:
        for c in reversed(self.commands):
            c.undo()


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


class ReplaceSites(Command):
    """Replace sites by new versions of themselves (same IDs); undo puts the old ones back."""

    def __init__(self, portfolio: Portfolio, old: Sequence[Site], new: Sequence[Site], text: str):
        super().__init__()
        self.portfolio = portfolio
        self.old = list(old)
        self.new = list(new)
        self.text = text

    def do(self) -> None:
        self.portfolio.replace_sites(self.new)

    def undo(self) -> None:
        self.portfolio.replace_sites(self.old)


class EditSite(ReplaceSites):
    """Change one field of one site (bursts on the same site+field merge)."""

    def __init__(self, portfolio: Portfolio, old: Site, new: Site, field: str):
        super().__init__(portfolio, [old], [new], f"Edit {field_label(field)} of {old.site_id}")
        self.site_id = str(old.site_id)
        self.field = field
        self.merge_key = ("edit", self.site_id, field)

    @classmethod
    def create(cls, portfolio: Portfolio, site_id: str, field: str, raw: Any) -> EditSite:
        """Validate and build the command; raises :class:`SiteError` with the rule and the fix."""
        old, new = prepare_edit(portfolio, site_id, field, raw)
        return cls(portfolio, old, new, field)

    def _absorb(self, later: Command) -> None:
        assert isinstance(later, EditSite)
        self.new = later.new
        self.obsolete = self.new == self.old


class BulkEdit(ReplaceSites):
    """Set one field to one value on several sites (all validated first, all or nothing)."""

    def __init__(self, portfolio: Portfolio, pairs: Sequence[tuple[Site, Site]], field: str):
        super().__init__(portfolio, [o for o, _ in pairs], [n for _, n in pairs],
                         f"Set {field_label(field)} on {len(pairs)} sites")
        self.field = field

    @classmethod
    def create(cls, portfolio: Portfolio, site_ids: Iterable[str], field: str, raw: Any) -> BulkEdit:
        """Validate the edit on every site; the first refusal raises :class:`SiteError`."""
        pairs = [prepare_edit(portfolio, sid, field, raw) for sid in site_ids]
        if not pairs:
            raise SiteError(field, raw, "no sites selected", "Select one or more sites first")
        return cls(portfolio, pairs, field)


class MoveSite(ReplaceSites):
    """Move a site to a new lon/lat (the moves of one drag of the same site merge)."""

    def __init__(self, portfolio: Portfolio, site_id: str, lon: float, lat: float):
        old = portfolio.get(site_id)
        new = old.replace(lon=lon, lat=lat)  # validates the range, raises SiteError
        super().__init__(portfolio, [old], [new], f"Move site {site_id}")
        self.site_id = site_id
        self.merge_key = ("move", site_id)

    def _absorb(self, later: Command) -> None:
        assert isinstance(later, MoveSite)
        self.new = later.new


class AddSites(Command):
    """Add one or more sites (appended, or inserted from ``index`` on)."""

    def __init__(self, portfolio: Portfolio, sites: Site | Sequence[Site], index: int | None = None,
                 text: str | None = None):
        super().__init__()
        self.portfolio = portfolio
        self.sites = [sites] if isinstance(sites, Site) else list(sites)
        self.index = index
        self.text = text or (f"Add site {self.sites[0].site_id}" if len(self.sites) == 1
                             else f"Add {len(self.sites)} sites")

    def do(self) -> None:
        for k, s in enumerate(self.sites):
            self.portfolio.add_site(s, None if self.index is None else self.index + k)

    def undo(self) -> None:
        for s in reversed(self.sites):
            self.portfolio.remove_site(s.site_id)


class DeleteSites(Command):
    """Delete sites; undo puts each back at its former position."""

    def __init__(self, portfolio: Portfolio, site_ids: Sequence[str]):
        super().__init__()
        self.portfolio = portfolio
        self.site_ids = list(dict.fromkeys(site_ids))
        self._removed: list[tuple[int, Site]] = []
        self.text = (f"Delete site {self.site_ids[0]}" if len(self.site_ids) == 1
                     else f"Delete {len(self.site_ids)} sites")

    def do(self) -> None:
        self._removed = [self.portfolio.remove_site(sid) for sid in self.site_ids]

    def undo(self) -> None:
        # reverse removal order: each recorded index was valid right after the earlier removals
        for idx, site in reversed(self._removed):
            self.portfolio.add_site(site, idx)
        self._removed = []


class DuplicateSite(AddSites):
    """Copy a site under a new unique ID, right after the original."""

    def __init__(self, portfolio: Portfolio, site_id: str):
        src = portfolio.get(site_id)
        name = f"{src.name} (copy)"
        if len(name) > FIELDS["name"].max_length:
            name = src.name
        site = src.replace(site_id=portfolio.unique_id(f"{site_id}-copy"), name=name)
        super().__init__(portfolio, site, portfolio.index_of(site_id) + 1, f"Duplicate site {site_id}")

    @property
    def new_id(self) -> str:
        return str(self.sites[0].site_id)


class SetSetting(Command):
    """Change one portfolio setting (assumptions, weights profile, scenario, ...).

    ``merge``: bursts on the same key merge; subclasses narrow ``merge_key`` (one assumption,
    one weight) so edits of two different assumptions stay two steps.
    """

    def __init__(self, portfolio: Portfolio, key: str, value: Any, text: str | None = None,
                 merge: bool = True, target: Hashable = None):
        super().__init__()
        self.portfolio = portfolio
        self.key = key
        self._had_old = key in portfolio.settings
        self.old = copy.deepcopy(portfolio.settings.get(key))
        self.new = copy.deepcopy(value)
        self.merge_key = ("setting", key, target) if merge else None
        self.text = text or f"Change {key}"

    def do(self) -> None:
        self.portfolio.set_setting(self.key, self.new)

    def undo(self) -> None:
        if self._had_old:
            self.portfolio.set_setting(self.key, self.old)
        else:
            self.portfolio.settings.pop(self.key, None)
            self.portfolio.settings_changed.emit(self.key)

    def _absorb(self, later: Command) -> None:
        assert isinstance(later, SetSetting)
        self.new = later.new


LayerNotify = Callable[[str], None]


class AddLayers(Command):
    """Add map layers to the project in order (one step); ``notify(name)`` runs per layer after the store changed."""

    def __init__(self, project: Project, layers: Sequence[MapLayer], notify: LayerNotify | None = None,
                 text: str | None = None):
        super().__init__()
        self.project = project
        self.layers = list(layers)
        self.notify = notify
        self.text = text or f"Add layer {self.layers[0].title or self.layers[0].name}"

    def do(self) -> None:
        for layer in self.layers:
            if layer.name in self.project.layers:
                raise KeyError(f"layer {layer.name!r} already exists")
        for layer in self.layers:
            self.project.layers[layer.name] = layer
        self._notify()

    def undo(self) -> None:
        for layer in self.layers:
            self.project.layers.pop(layer.name, None)
        self._notify()

    def _notify(self) -> None:
        if self.notify:
            for layer in self.layers:
                self.notify(layer.name)


class AddLayer(AddLayers):
    """Add one map layer to the project."""

    def __init__(self, project: Project, layer: MapLayer, notify: LayerNotify | None = None):
        super().__init__(project, [layer], notify)
        self.layer = layer


class RemoveLayer(Command):
    """Remove a map layer; undo puts it back at its former position."""

    def __init__(self, project: Project, name: str, notify: LayerNotify | None = None):
        super().__init__()
        self.project = project
        self.name = name
        self.layer = project.layers[name]
        self.index = list(project.layers).index(name)
        self.notify = notify
        self.text = f"Remove layer {self.layer.title or name}"

    def do(self) -> None:
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
