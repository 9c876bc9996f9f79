"""The Qt-free session: selection, derived scores, the proximity queue, commands and imports.

Runs without Qt (the session is what the app and the CLI share); the GUI tests check the wiring.
"""
from __future__ import annotations

import copy

import pytest

from planner.assets import sample_project
from planner.gis.project import Project, open_project
from planner.model.portfolio import Portfolio
from planner.model.readiness import score_site
from planner.model.site import PlannerError, Site, SiteError
from planner.session import CommandStack, Session
from planner.session import commands as C

SID = "CORZ-DEN"


@pytest.fixture(scope="module")
def _sample():
    return open_project(sample_project())


@pytest.fixture
def session(_sample):
    p = _sample.portfolio
    project = Project(portfolio=Portfolio(list(p), copy.deepcopy(p.settings), p.name), layers=dict(_sample.layers))
    return Session(project)


def _record(signal):
    seen: list = []
    signal.connect(lambda *a: seen.append(a[0] if len(a) == 1 else a))
    return seen


def test_edit_rescores_the_site_and_undo_restores(session):
    before = session.scores[SID]
    changed = _record(session.scores_changed)
    session.edit_site(SID, "energized_mw", 60.0)
    assert session.portfolio.get(SID).energized_mw == 60.0
    assert session.scores[SID] == score_site(session.portfolio.get(SID), session.portfolio.settings)
    assert session.scores[SID].total != before.total and changed
    session.stack.undo()
    assert session.scores[SID] == before


def test_selection_follows_deletion(session):
    seen = _record(session.current_site_changed)
    assert session.set_current_site(SID) and not session.set_current_site(SID)
    assert not session.set_current_site("NOPE-404") or session.current_site == ""
    session.set_current_site(SID)
    session.delete_sites([SID])
    assert session.current_site == "" and seen[-1] == "" and SID not in session.scores


def test_move_measures_proximity_before_scoring(session):
    d0 = session.portfolio.get(SID).dist_substation_km
    session.move_site(SID, -99.5, 31.0)
    s = session.portfolio.get(SID)
    assert s.dist_substation_km is not None and s.dist_substation_km != d0
    assert session.scores[SID] == score_site(s, session.portfolio.settings)  # scored with the new distances


def test_move_while_a_worker_runs_is_queued_then_applied(session):
    session.worker_active = True
    queued = _record(session.proximity_queued)
    d0 = session.portfolio.get(SID).dist_substation_km
    session.move_site(SID, -99.5, 31.0)
    assert session.portfolio.get(SID).dist_substation_km == d0 and queued and session.proximity_pending
    session.worker_active = False
    job = session.take_proximity_job()
    assert job is not None and job.site_ids == [SID] and not session.proximity_pending
    measured = job()  # on a snapshot: the store is untouched until apply
    assert session.portfolio.get(SID).dist_substation_km == d0
    assert session.apply_proximity(measured) == [SID]
    assert session.portfolio.get(SID).dist_substation_km != d0


def test_a_site_moved_during_the_job_keeps_its_place_and_is_queued_again(session):
    session.queue_proximity([SID])
    job = session.take_proximity_job()
    measured = job()
    session.worker_active = True  # the drag below must not measure in this thread
    session.move_site(SID, -98.0, 30.0)
    session.worker_active = False
    before = session.portfolio.get(SID)
    assert session.apply_proximity(measured) == []
    assert session.portfolio.get(SID) == before and session.proximity_pending


def test_layer_commands_queue_proximity_only_for_layers_it_uses(session):
    from planner.gis.project import MapLayer
    other = next(lyr for lyr in session.project.layers.values() if lyr.kind == "substations")
    session.take_proximity_job()
    queued = _record(session.proximity_queued)
    names = _record(session.layers_changed)
    extra = MapLayer(name="notes", kind="other", title="Notes", gdf=other.gdf.head(3))
    session.add_layer(extra)
    assert names == ["notes"] and queued == []
    session.remove_layer(other.name)
    assert names == ["notes", other.name] and len(queued) == 1
    session.stack.undo()
    assert other.name in session.project.layers


@pytest.fixture
def frozen_clock(monkeypatch):
    """Every command is stamped at the same instant (merging must not depend on machine speed)."""
    monkeypatch.setattr(C.time, "monotonic", lambda: 100.0)


def test_drag_of_one_site_merges_but_two_sites_stay_two_steps(session, frozen_clock):
    stack: CommandStack = session.stack
    session.move_site(SID, -97.2, 33.2)
    session.move_site(SID, -97.3, 33.3)
    assert stack.count() == 1
    session.move_site("IREN-CHI", -100.0, 32.0)  # another site within the merge window
    assert stack.count() == 2
    stack.undo()
    assert (session.portfolio.get(SID).lon, session.portfolio.get(SID).lat) == (-97.3, 33.3)
    stack.undo()
    assert session.portfolio.get(SID).lon == -97.13307


def test_edit_merge_drops_a_burst_that_ends_where_it_started(session, frozen_clock):
    before = session.portfolio.get(SID).land_acres
    session.edit_site(SID, "land_acres", 10)
    session.edit_site(SID, "land_acres", before)
    assert session.stack.count() == 0 and session.stack.is_clean()


def test_import_renames_duplicates_and_is_one_undo_step(session, shared_data):
    n = len(session.portfolio)
    plan = session.import_job(shared_data / "mining_sites_public.csv")(lambda f: None)
    assert len(plan.additions) == 40 and "CORZ-DEN-2" in {s.site_id for s in plan.additions}
    assert "renamed because the ID was taken" in plan.summary() and len(session.portfolio) == n  # not applied yet
    assert session.apply_import(plan, "mining_sites_public.csv") == 40
    new = session.portfolio.get("CORZ-DEN-2")
    assert new.dist_substation_km is not None  # measured in the job, on a snapshot
    assert session.stack.count() == 1
    session.stack.undo()
    assert len(session.portfolio) == n


def test_session_uses_the_shared_import_policy(session, shared_data):
    src = shared_data / "mining_sites_public.csv"
    session.import_policy = "reject"
    plan = session.import_job(src)(lambda f: None)
    assert not {s.site_id for s in plan.additions} & set(session.portfolio.ids())
    assert plan.policy.rejected and "not imported" in plan.summary()
    session.import_policy = "merge"
    plan = session.import_job(src)(lambda f: None)
    assert plan.updates and all(old.site_id == new.site_id for old, new in plan.updates)
    before = {old.site_id: old for old, _ in plan.updates}
    session.apply_import(plan, src.name)
    session.stack.undo()
    assert all(session.portfolio.get(sid) == old for sid, old in before.items())


def test_an_import_planned_before_an_overlapping_edit_is_refused(session, shared_data):
    session.import_policy = "merge"
    plan = session.import_job(shared_data / "mining_sites_public.csv")(lambda f: None)
    old, _new = plan.updates[0]
    session.edit_site(old.site_id, "notes", "edited while the file was read")
    with pytest.raises(PlannerError, match="changed while the file was read"):
        session.apply_import(plan, "mining_sites_public.csv")
    assert session.portfolio.get(old.site_id).notes == "edited while the file was read"


def test_invalid_commands_raise_before_anything_changes(session):
    before = session.portfolio.get(SID)
    with pytest.raises(SiteError, match="below the minimum"):
        session.edit_site(SID, "energized_mw", -5)
    with pytest.raises(SiteError):
        session.move_site(SID, 250.0, 31.0)
    with pytest.raises(SiteError, match="cannot be changed"):
        C.EditSite.create(session.portfolio, SID, "site_id", "X")
    assert session.portfolio.get(SID) == before and session.stack.count() == 0


def test_settings_change_rescores_and_proximity_setting_queues_all(session):
    scores = _record(session.scores_changed)
    session.set_setting("proximity", {"flare_radius_km": 20})
    assert scores and session.proximity_pending
    job = session.take_proximity_job()
    assert job is not None and len(job.site_ids) == sum(1 for s in session.portfolio if s.has_location)


def test_command_stack_redo_and_clean_state():
    p = Portfolio([Site.create(site_id="A", name="Alpha")])
    stack = CommandStack()
    stack.push(C.EditSite.create(p, "A", "name", "Beta"))
    stack.set_clean()
    stack.push(C.AddSites(p, Site.create(site_id="B", name="Bravo")))
    assert not stack.is_clean()
    stack.undo()
    assert stack.is_clean() and "B" not in p
    stack.redo()
    assert "B" in p and stack.can_undo() and not stack.can_redo()


def test_layer_visibility_lives_in_the_layer_style(session):
    name = next(iter(session.project.layers))
    assert session.set_layer_visible(name, False) and session.project.layers[name].style["visible"] is False
    assert session.set_layer_visible(name, True) and session.project.layers[name].style["visible"] is True
    assert not session.set_layer_visible("no_such_layer", False)
