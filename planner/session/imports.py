"""Adding sites from a file to an open project: the import *policy* and the plan it produces.

An import runs in two steps so the slow part can run on a worker thread without touching the
store: :func:`prepare_import` reads the file, applies the policy against a snapshot of the
portfolio and measures proximity of the new sites (pure, takes ``progress``); the session then
turns the :class:`ImportPlan` into one undoable command in the GUI thread.

A policy is a pure function ``(existing portfolio, imported sites) -> ImportPlan``. The session
uses :data:`DEFAULT_POLICY`; the CLI and the app share whichever policy is set here.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from planner.gis import io as gis_io
from planner.gis.import_policy import plan_site_import
from planner.gis.project import MapLayer, Project
from planner.gis.proximity import apply_proximity
from planner.model.portfolio import Portfolio
from planner.model.site import Site
from planner.session.commands import AddSites, Command, MacroCommand, ReplaceSites

Progress = Callable[[float], None]


@dataclass
class ImportPlan:
    """What an import will change: sites to add, ``(old, new)`` pairs to update, notes for the user."""

    additions: list[Site] = field(default_factory=list)
    updates: list[tuple[Site, Site]] = field(default_factory=list)
    unchanged: int = 0
    notes: list[str] = field(default_factory=list)
    report: gis_io.ImportReport | None = None

    @property
    def empty(self) -> bool:
        return not self.additions and not self.updates

    def summary(self) -> str:
        """The reader's report plus what the policy did (one paragraph)."""
        text = self.report.summary() if self.report is not None else \
            f"Imported {len(self.additions) + len(self.updates)} sites."
        return " ".join([text, *self.notes])

    def command(self, portfolio: Portfolio, source: str) -> Command:
        """One undo step that applies the plan to ``portfolio``."""
        steps: list[Command] = []
        if self.updates:
            steps.append(ReplaceSites(portfolio, [o for o, _ in self.updates], [n for _, n in self.updates],
                                      f"Update {len(self.updates)} sites"))
        if self.additions:
            steps.append(AddSites(portfolio, self.additions))
        n = len(self.additions) + len(self.updates)
        return MacroCommand(steps, f"Import {n} site{'s' if n != 1 else ''} from {source}")


ImportPolicy = Callable[[Portfolio, Sequence[Site]], ImportPlan]


def policy_named(name: str) -> ImportPolicy:
    """The shared import policy ``merge``, ``rename`` or ``reject`` (:mod:`planner.gis.import_policy`,
    the same function ``planner import --on-duplicate`` uses) as an :data:`ImportPolicy`."""

    def policy(existing: Portfolio, sites: Sequence[Site]) -> ImportPlan:
        decided = plan_site_import({s.site_id: s for s in existing}, sites, name)
        plan = ImportPlan(additions=decided.additions,
                          updates=[(existing.get(n.site_id), n) for n in decided.updates],
                          unchanged=decided.unchanged)
        if decided.renamed:
            shown = ", ".join(f"{a} -> {b}" for a, b in decided.renamed[:5])
            plan.notes.append(f"Renamed duplicate IDs: {shown}{' …' if len(decided.renamed) > 5 else ''}.")
        if decided.rejected:
            shown = "; ".join(f"{sid}: {why}" for sid, why in decided.rejected[:5])
            plan.notes.append(f"Not imported: {shown}{' …' if len(decided.rejected) > 5 else ''}.")
        return plan

    policy.__name__ = f"{name}_duplicates"
    return policy


#: Every imported site is added; an ID already taken gets the next free ``ID-2``, ``ID-3``…
rename_duplicates: ImportPolicy = policy_named("rename")


#: The policy the app uses (the GUI has always kept both sites on an ID clash).
DEFAULT_POLICY: ImportPolicy = rename_duplicates


def prepare_import(path: str | Path, portfolio: Portfolio, layers: dict[str, MapLayer],
                   policy: ImportPolicy = DEFAULT_POLICY, progress: Progress | None = None) -> ImportPlan:
    """Read ``path``, apply ``policy`` and measure proximity of the new located sites.

    Works on snapshots (``portfolio`` and ``layers`` are copied, never changed), so it can run
    on a worker thread while the user keeps editing; raises the reader's errors unchanged.
    """
    step: Progress = progress or (lambda _f: None)
    # bad rows are left out and listed in the report while the good rows import (as in the CLI)
    sites, report = gis_io.import_sites(Path(path), progress=lambda f: step(0.7 * f), strict=False)
    snapshot = Portfolio(list(portfolio), copy.deepcopy(portfolio.settings), portfolio.name)
    plan = policy(snapshot, sites)
    plan.report = report
    located = [s.site_id for s in plan.additions if s.has_location]
    if located:
        shadow = Project(portfolio=Portfolio(plan.additions, snapshot.settings), layers=dict(layers))
        apply_proximity(shadow, located, lambda f: step(0.7 + 0.3 * f))
        plan.additions = list(shadow.portfolio)
    step(1.0)
    return plan
