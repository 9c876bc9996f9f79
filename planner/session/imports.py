"""Adding sites from a file to an open project, under the shared import policy.

The policy (what happens to an ID the project already has: ``merge``, ``rename`` or
``reject``) is :func:`planner.gis.import_policy.plan_site_import`, the same one
``planner import`` uses; the app defaults to ``rename``.

An import runs in two steps so the slow part can run on a worker thread without touching the
store: :func:`prepare_import` reads the file, plans it against a snapshot of the portfolio and
measures proximity of the new sites (pure, takes ``progress``); the session then turns the
:class:`ImportPlan` into one undoable command in the GUI thread.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from planner.gis import io as gis_io
from planner.gis.import_policy import POLICIES, SiteImportPlan, plan_site_import
from planner.gis.project import MapLayer, Project
from planner.gis.proximity import apply_proximity
from planner.model.portfolio import Portfolio
from planner.model.site import Site
from planner.session.commands import AddSites, Command, MacroCommand, ReplaceSites

Progress = Callable[[float], None]
#: The policy the app uses: both sites are kept on an ID clash.
DEFAULT_POLICY = "rename"


@dataclass
class ImportPlan:
    """What an import will change: sites to add, ``(old, new)`` pairs to update, and what the policy did."""

    additions: list[Site] = field(default_factory=list)
    updates: list[tuple[Site, Site]] = field(default_factory=list)
    policy: SiteImportPlan | None = None
    report: gis_io.ImportReport | None = None

    @property
    def empty(self) -> bool:
        return not self.additions and not self.updates

    def summary(self) -> str:
        """The reader's report plus what the policy did (one paragraph)."""
        parts = [self.report.summary()] if self.report is not None else []
        if self.policy is not None:
            parts.append(self.policy.summary())
        return " ".join(parts)

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


def prepare_import(path: str | Path, portfolio: Portfolio, layers: dict[str, MapLayer],
                   policy: str = DEFAULT_POLICY, progress: Progress | None = None) -> ImportPlan:
    """Read ``path``, plan it under ``policy`` and measure proximity of the new located sites.

    Works on snapshots (``portfolio`` and ``layers`` are copied, never changed), so it can run
    on a worker thread while the user keeps editing; raises the reader's errors unchanged.
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown import policy {policy!r}; use one of {', '.join(POLICIES)}")
    step: Progress = progress or (lambda _f: None)
    # bad rows are left out and listed in the report while the good rows import (as in the CLI)
    sites, report = gis_io.import_sites(Path(path), progress=lambda f: step(0.7 * f), strict=False)
    existing = {s.site_id: s for s in portfolio}
    planned = plan_site_import(existing, sites, policy)
    plan = ImportPlan(list(planned.additions), [(existing[s.site_id], s) for s in planned.updates], planned, report)
    located = [s.site_id for s in plan.additions if s.has_location]
    if located:
        shadow = Project(portfolio=Portfolio(plan.additions, copy.deepcopy(portfolio.settings)), layers=dict(layers))
        apply_proximity(shadow, located, lambda f: step(0.7 + 0.3 * f))
        plan.additions = list(shadow.portfolio)
    step(1.0)
    return plan
