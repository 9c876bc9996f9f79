"""The open project as Qt-free state: selection, derived scores, the recompute queue, commands.

A :class:`Session` owns the :class:`~planner.gis.project.Project` being edited and everything
derived from it. It subscribes to the portfolio's psygnal signals and keeps the derived state
right: a moved or added site gets its proximity measured, changed sites are re-scored, and a
layer or proximity-setting change queues a full proximity run. Views (Qt widgets, the CLI,
tests) subscribe to the session's signals and never re-implement these rules.

Signals (past tense, psygnal): ``project_changed(Project)``, ``current_site_changed(str)``,
``scores_changed(dict)``, the portfolio's ``sites_changed(list)``, ``site_added(str)``,
``site_removed(str)``, ``settings_changed(str)`` re-emitted after the session updated its own
state (so a subscriber never sees stale scores and never has to re-attach on a new project),
``layers_changed(str)``, ``proximity_queued()`` (work is waiting: run :meth:`take_proximity_job`
when idle) and ``message(str)`` (a non-fatal note for the status bar).

Long work (a national proximity run, an import) is split into a pure job that runs anywhere on
a snapshot and an ``apply_*`` step that changes the store, so a worker never touches the store.
"""
from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psygnal import Signal

from planner.assets import AssetError, sample_project
from planner.gis.project import MapLayer, Project
from planner.gis.proximity import PROXIMITY_KINDS, apply_proximity
from planner.model.assumptions import Assumptions, assumptions_from_settings
from planner.model.fields import COMPUTED_FIELDS
from planner.model.portfolio import Portfolio
from planner.model.readiness import ReadinessResult, score_portfolio, score_site
from planner.model.site import PlannerError, Site, first_line
from planner.session import commands as cmd
from planner.session.imports import DEFAULT_POLICY, ImportPlan, prepare_import
from planner.session.stack import CommandStack, UndoStack

Progress = Callable[[float], None]


def is_bundled_sample(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is the installed sample project (never written to)."""
    try:
        return Path(path).resolve() == sample_project().resolve()
    except AssetError:
        return False


def writable_project(path: str | os.PathLike[str]) -> bool:
    """Whether edits may be saved back to ``path`` (not the sample, file and folder writable; a symlink
    is judged by the file and folder it points to, which is what a save writes)."""
    p = Path(os.path.realpath(path))
    return not is_bundled_sample(p) and os.access(p, os.W_OK) and os.access(p.parent, os.W_OK)


@dataclass
class ProximityJob:
    """Measure proximity of ``site_ids`` on a snapshot; call it (on any thread) with ``progress``."""

    snapshot: Project
    site_ids: list[str]

    def __call__(self, progress: Progress | None = None) -> list[Site]:
        apply_proximity(self.snapshot, None, progress)
        return list(self.snapshot.portfolio)


class Session:
    """State of one open project, without Qt. See the module docstring for the signals."""

    project_changed = Signal(object)
    current_site_changed = Signal(str)
    scores_changed = Signal(object)
    sites_changed = Signal(list)
    site_added = Signal(str)
    site_removed = Signal(str)
    settings_changed = Signal(str)
    layers_changed = Signal(str)
    proximity_queued = Signal()
    message = Signal(str)

    def __init__(self, project: Project | None = None, stack: UndoStack | None = None,
                 import_policy: str = DEFAULT_POLICY):
        self.stack: UndoStack = stack if stack is not None else CommandStack()
        #: ``merge``, ``rename`` or ``reject`` (:mod:`planner.gis.import_policy`)
        self.import_policy = import_policy
        self.project = Project()
        self.scores: dict[str, ReadinessResult] = {}
        self.current_site = ""
        #: True while a worker measures with this project's layers; proximity asked for in the
        #: meantime is queued (pyproj/GEOS objects of the layers are not shared between threads)
        self.worker_active = False
        self._locations: dict[str, tuple[Any, Any]] = {}
        self._pending: set[str] | None = set()  # None = every site
        self._connect(self.project.portfolio)
        if project is not None:
            self.set_project(project)

    # == project ===============================================================================
    @property
    def portfolio(self) -> Portfolio:
        return self.project.portfolio

    def set_project(self, project: Project) -> None:
        """Edit ``project`` from now on: fresh selection, scores and queue (the caller clears undo)."""
        self._disconnect(self.project.portfolio)
        self.project = project
        self.current_site = ""
        self._pending = set()
        p = project.portfolio
        self._locations = {s.site_id: (s.lon, s.lat) for s in p}
        self._connect(p)
        self.scores = self._score_all()
        self.project_changed.emit(project)
        self.scores_changed.emit(self.scores)
        self.current_site_changed.emit("")

    def _connect(self, p: Portfolio) -> None:
        p.sites_changed.connect(self._on_portfolio_sites_changed)
        p.site_added.connect(self._on_portfolio_site_added)
        p.site_removed.connect(self._on_portfolio_site_removed)
        p.settings_changed.connect(self._on_portfolio_settings_changed)

    def _disconnect(self, p: Portfolio) -> None:
        for sig, slot in ((p.sites_changed, self._on_portfolio_sites_changed),
                          (p.site_added, self._on_portfolio_site_added),
                          (p.site_removed, self._on_portfolio_site_removed),
                          (p.settings_changed, self._on_portfolio_settings_changed)):
            sig.disconnect(slot, missing_ok=True)

    # == selection =============================================================================
    def set_current_site(self, site_id: str) -> bool:
        """Select ``site_id`` ("" for none; an unknown ID selects none); True when it changed."""
        if site_id and site_id not in self.portfolio:
            site_id = ""
        if site_id == self.current_site:
            return False
        self.current_site = site_id
        self.current_site_changed.emit(site_id)
        return True

    # == derived numbers =======================================================================
    def assumptions(self) -> Assumptions:
        """Assumptions in force (defaults < scenario < the project's overrides)."""
        return assumptions_from_settings(self.portfolio.settings)

    def _score_all(self) -> dict[str, ReadinessResult]:
        try:
            return dict(score_portfolio(self.portfolio))
        except PlannerError as e:
            self.message.emit(f"Readiness not scored: {first_line(e)}")
            return {}

    def rescore(self, site_ids: Iterable[str] | None = None) -> None:
        """Recompute readiness (all sites, or ``site_ids``) and emit ``scores_changed``."""
        p = self.portfolio
        if site_ids is None:
            scores = self._score_all()
        else:
            scores = {k: v for k, v in self.scores.items() if k in p}
            try:
                for sid in site_ids:
                    if sid in p:
                        scores[sid] = score_site(p.get(sid), p.settings)
            except PlannerError as e:
                self.message.emit(f"Readiness not scored: {first_line(e)}")
                return
        self.scores = scores
        self.scores_changed.emit(scores)

    # == proximity queue =======================================================================
    @property
    def proximity_pending(self) -> bool:
        return self._pending is None or bool(self._pending)

    def queue_proximity(self, site_ids: Iterable[str] | None = None) -> None:
        """Ask for proximity of ``site_ids`` (None: every site) to be measured when the UI is idle."""
        if site_ids is None or self._pending is None:
            self._pending = None
        else:
            self._pending |= set(site_ids)
        self.proximity_queued.emit()

    def take_proximity_job(self) -> ProximityJob | None:
        """Empty the queue into one job over a snapshot (None when nothing located is waiting)."""
        pending, self._pending = self._pending, set()
        p = self.portfolio
        ids = p.ids() if pending is None else [s for s in pending if s in p]
        located = [sid for sid in ids if p.get(sid).has_location]
        if not located:
            return None
        snapshot = Project(portfolio=Portfolio([p.get(s) for s in located], copy.deepcopy(p.settings)),
                           layers=dict(self.project.layers))
        return ProximityJob(snapshot, located)

    def apply_proximity(self, measured: Iterable[Site]) -> list[str]:
        """Store the computed fields of a finished job; returns the IDs whose values changed.

        A site moved or deleted while the job ran keeps its own state (a moved one is queued again).
        """
        p = self.portfolio
        updated: list[Site] = []
        stale: list[str] = []
        for m in measured:
            if m.site_id not in p:
                continue
            cur = p.get(m.site_id)
            if (cur.lon, cur.lat) != (m.lon, m.lat):
                stale.append(m.site_id)
                continue
            new = cur.with_computed({k: m.get(k) for k in COMPUTED_FIELDS})
            if new != cur:
                updated.append(new)
        if updated:
            p.replace_sites(updated)
        if stale:
            self.queue_proximity(stale)
        return [s.site_id for s in updated]

    def measure_now(self, site_ids: list[str]) -> list[str]:
        """Measure a few sites in the calling thread (a drag, an added site); returns changed IDs.

        Queued instead while a worker uses the layers.
        """
        if self.worker_active:
            self.queue_proximity(site_ids)
            return []
        try:
            return apply_proximity(self.project, site_ids)
        except PlannerError as e:
            self.message.emit(f"Proximity not updated: {first_line(e)}")
            return []

    # == portfolio signals =====================================================================
    def _on_portfolio_sites_changed(self, ids: list[str]) -> None:
        p = self.portfolio
        moved = []
        for sid in ids:
            if sid in p:
                s = p.get(sid)
                loc = (s.lon, s.lat)
                if self._locations.get(sid) != loc:
                    self._locations[sid] = loc
                    if s.has_location:
                        moved.append(sid)
        # storing the measured distances re-enters here and re-scores those sites
        measured = set(self.measure_now(moved)) if moved else set()
        self.rescore([sid for sid in ids if sid not in measured])
        self.sites_changed.emit(ids)

    def _on_portfolio_site_added(self, site_id: str) -> None:
        site = self.portfolio.get(site_id)
        self._locations[site_id] = (site.lon, site.lat)
        measured: list[str] = []
        if site.has_location and all(site.get(k) is None for k in COMPUTED_FIELDS):
            measured = self.measure_now([site_id])
        if site_id not in measured:
            self.rescore([site_id])
        self.site_added.emit(site_id)

    def _on_portfolio_site_removed(self, site_id: str) -> None:
        self._locations.pop(site_id, None)
        if site_id == self.current_site:
            self.set_current_site("")
        self.rescore([])
        self.site_removed.emit(site_id)

    def _on_portfolio_settings_changed(self, key: str) -> None:
        if key == "proximity":
            self.queue_proximity()
        self.rescore()
        self.settings_changed.emit(key)

    def notify_layers_changed(self, name: str) -> None:
        """A layer was added or removed (layer commands call this): re-measure when it matters."""
        layer = self.project.layers.get(name)
        kinds = {layer.kind} if layer is not None else set(PROXIMITY_KINDS)
        if kinds & set(PROXIMITY_KINDS):
            self.queue_proximity()
        self.layers_changed.emit(name)

    def set_layer_visible(self, name: str, visible: bool) -> bool:
        """Show or hide a layer: its saved ``style["visible"]`` is the one place visibility lives
        (Layers panel, map page, legend, exports and the project file read it). False for an unknown layer."""
        layer = self.project.layers.get(name)
        if layer is None:
            return False
        layer.style["visible"] = bool(visible)
        return True

    # == commands ==============================================================================
    def execute(self, command: cmd.Command) -> None:
        """Do ``command`` through the undo stack."""
        self.stack.push(command)

    def add_site(self, lon: float | None = None, lat: float | None = None) -> str:
        """Add a new pipeline site (optionally at lon/lat), select it and return its ID."""
        sid = self.portfolio.unique_id("NEW-SITE")
        site = Site.create(site_id=sid, name="New site", status="pipeline", lon=lon, lat=lat,
                           location_precision="exact" if lon is not None else None)
        self.execute(cmd.AddSites(self.portfolio, site))
        self.set_current_site(sid)
        return sid

    def delete_sites(self, site_ids: Iterable[str]) -> int:
        """Delete the known ones of ``site_ids`` as one step; returns how many."""
        ids = [s for s in site_ids if s in self.portfolio]
        if ids:
            self.execute(cmd.DeleteSites(self.portfolio, ids))
        return len(ids)

    def duplicate_site(self, site_id: str) -> str:
        """Copy a site under a new ID right after it, select the copy and return its ID."""
        c = cmd.DuplicateSite(self.portfolio, site_id)
        self.execute(c)
        self.set_current_site(c.new_id)
        return c.new_id

    def edit_site(self, site_id: str, field: str, value: Any) -> None:
        """Set one field of one site (validated; raises SiteError)."""
        self.execute(cmd.EditSite.create(self.portfolio, site_id, field, value))

    def bulk_edit(self, site_ids: Iterable[str], field: str, value: Any) -> None:
        """Set ``field`` on all ``site_ids`` as one step; refused entirely on any invalid site."""
        self.execute(cmd.BulkEdit.create(self.portfolio, list(site_ids), field, value))

    def move_site(self, site_id: str, lon: float, lat: float) -> None:
        """Move a site (the moves of one drag merge); proximity and readiness follow."""
        self.execute(cmd.MoveSite(self.portfolio, site_id, lon, lat))

    def set_setting(self, key: str, value: Any, text: str | None = None) -> None:
        self.execute(cmd.SetSetting(self.portfolio, key, value, text))

    def add_layer(self, layer: MapLayer) -> None:
        self.execute(cmd.AddLayer(self.project, layer, self.notify_layers_changed))

    def remove_layer(self, name: str) -> None:
        if name in self.project.layers:
            self.execute(cmd.RemoveLayer(self.project, name, self.notify_layers_changed))

    # == imports ===============================================================================
    def import_job(self, path: str | os.PathLike[str]) -> Callable[[Progress], ImportPlan]:
        """A job reading ``path`` under the import policy (run anywhere; nothing is changed)."""
        portfolio = Portfolio(list(self.portfolio), copy.deepcopy(self.portfolio.settings), self.portfolio.name)
        layers = dict(self.project.layers)
        policy = self.import_policy

        def job(progress: Progress) -> ImportPlan:
            return prepare_import(Path(path), portfolio, layers, policy, progress)
        return job

    def apply_import(self, plan: ImportPlan, source: str) -> int:
        """Apply a prepared import as one undo step; returns how many sites it added or updated.

        A plan made before an edit it would overlap (a site added under one of its IDs, a site it
        updates edited meanwhile) is refused whole: import the file again.
        """
        if plan.empty:
            return 0
        p = self.portfolio
        clash = [s.site_id for s in plan.additions if s.site_id in p]
        clash += [old.site_id for old, _ in plan.updates if old.site_id not in p or p.get(old.site_id) != old]
        if clash:
            raise PlannerError(f"{source}: sites {', '.join(clash[:3])} changed while the file was read; "
                               "import it again")
        self.execute(plan.command(self.portfolio, source))
        return len(plan.additions) + len(plan.updates)
