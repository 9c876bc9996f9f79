"""Autosave, crash recovery, project locks and the progress worker, end to end."""
from __future__ import annotations

import json
import os
import threading
import time

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QProgressDialog

from planner.assets import sample_project
from planner.settings import AppSettings, data_dir
from planner.ui import dialogs
from planner.ui.autosave import Autosaver, ProjectLock
from planner.ui.main_window import MainWindow
from planner.ui.workers import TaskCancelled, TaskRunner

from test_ui_main_window import SID, FakeMap, _cell  # noqa: E402  (shared light map double)

pytestmark = pytest.mark.gui


@pytest.fixture
def no_dialogs(monkeypatch):
    errors: list[str] = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, message: errors.append(message))
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, name: "discard")
    return errors


@pytest.fixture(scope="session")
def _light_sample():
    """The sample's sites with one small layer: every autosave writes the whole project."""
    from planner.gis.project import open_project
    full = open_project(sample_project())
    return full.portfolio, {n: lyr for n, lyr in full.layers.items() if lyr.kind == "stranded"}


@pytest.fixture
def saved_copy(qtbot, no_dialogs, tmp_path, monkeypatch, _light_sample):
    """A window editing a writable copy of the (light) sample at tmp_path/work.gpkg."""
    import copy
    from planner.gis.project import Project, open_project
    from planner.model.portfolio import Portfolio
    from planner.ui import project_files

    src, layers = _light_sample

    def opener(path):
        if path.resolve() != sample_project().resolve():
            return open_project(path)
        return Project(path=path, portfolio=Portfolio(list(src), copy.deepcopy(src.settings), src.name),
                       layers=dict(layers))

    monkeypatch.setattr(project_files, "gis_open_project", opener)
    w = MainWindow(AppSettings(), map_factory=FakeMap)
    qtbot.addWidget(w)
    assert w.open_project(sample_project())
    assert w.save_as(tmp_path / "work.gpkg")
    return w


def _recovery_files():
    d = data_dir() / "recovery"
    return sorted(p.name for p in d.iterdir()) if d.is_dir() else []


def _pretend_crashed(sidecar):
    meta = json.loads(sidecar.read_text())
    meta["pid"] = 2 ** 22 + 12345  # above Linux pid_max default: no such process
    sidecar.write_text(json.dumps(meta))


def test_autosave_and_recovery_end_to_end(saved_copy, qtbot, tmp_path, no_dialogs):
    w = saved_copy
    assert w.autosave.save_now() is None  # clean: nothing to save
    w.table_model.setData(_cell(w, SID, "energized_mw"), 90.0)
    path = w.autosave.save_now()
    assert path is not None and path.parent == data_dir() / "recovery"
    sidecar = path.with_suffix(".json")
    meta = json.loads(sidecar.read_text())
    assert meta["original_path"] == str((tmp_path / "work.gpkg").resolve()) and meta["pid"] == os.getpid()
    assert w.save_path == (tmp_path / "work.gpkg").absolute()  # autosave never re-points the project
    assert w.autosave.find_recovery() == []  # our own live copy is not offered

    _pretend_crashed(sidecar)  # the session dies without saving
    w.autosave._written.clear()
    w2 = MainWindow(AppSettings(), map_factory=FakeMap)
    qtbot.addWidget(w2)
    found = w2.autosave.find_recovery()
    assert [i.path for i in found] == [path] and "work.gpkg" in found[0].describe()
    assert w2.recover(found[0])
    assert w2.project.portfolio.get(SID).energized_mw == 90.0
    assert w2.windowTitle() == "work.gpkg* - Site Conversion Planner" and w2.is_dirty()
    assert w2.save_path == (tmp_path / "work.gpkg").resolve()
    assert path.exists()  # kept until this session saved: a second crash loses nothing
    assert w2.save()
    assert _recovery_files() == [] and "*" not in w2.windowTitle()
    from planner.gis.project import open_project
    assert open_project(tmp_path / "work.gpkg").portfolio.get(SID).energized_mw == 90.0


def test_clean_save_and_close_remove_recovery(saved_copy):
    w = saved_copy
    w.table_model.setData(_cell(w, SID, "land_acres"), 5)
    assert w.autosave.save_now() is not None and len(_recovery_files()) == 2
    assert w.save()
    assert _recovery_files() == []
    w.table_model.setData(_cell(w, SID, "land_acres"), 6)
    w.autosave.save_now()
    assert w.close()  # discard
    assert _recovery_files() == []


def test_autosave_timer_fires_only_when_dirty(saved_copy, qtbot):
    w = saved_copy
    w.autosave.set_interval(1)
    w.autosave.start()
    w.table_model.setData(_cell(w, SID, "land_acres"), 7)
    with qtbot.waitSignal(w.autosave.saved, timeout=4000) as sig:
        pass
    assert sig.args[0].endswith(".gpkg") and len(_recovery_files()) == 2


def test_recovery_of_live_other_instance_is_not_offered(tmp_path):
    d = tmp_path / "rec"
    d.mkdir()
    (d / "x.gpkg").write_bytes(b"")
    (d / "x.json").write_text(json.dumps({"pid": os.getpid(), "host": os.uname().nodename,
                                          "recovery_file": "x.gpkg", "saved_at": "t"}))
    (d / "junk.json").write_text("{not json")
    a = Autosaver(lambda: None, lambda: False, directory=d)
    assert a.find_recovery() == []
    _pretend_crashed(d / "x.json")
    assert [i.path.name for i in a.find_recovery()] == ["x.gpkg"]
    from planner.model.site import PlannerError
    with pytest.raises(PlannerError):
        Autosaver(lambda: None, lambda: False, directory=tmp_path / "empty").recover()


_HOLD_LOCK = """
import sys, time
from planner.gis.lock import ProjectLock
lock = ProjectLock(sys.argv[1])
assert lock.acquire()
print("locked", flush=True)
time.sleep(60)
"""


def test_project_lock_offers_a_copy_when_another_instance_holds_it(saved_copy, qtbot, tmp_path, monkeypatch):
    import subprocess
    import sys

    target = tmp_path / "work.gpkg"
    assert ProjectLock(target).other_owner() is None  # held by this process (saved_copy): ours
    saved_copy.new_project()  # the first window lets go of the file
    child = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(target)], stdout=subprocess.PIPE, text=True)
    asked: list[str] = []
    answer = [False]
    monkeypatch.setattr(dialogs, "ask_yes_no", lambda parent, title, q: asked.append(q) or answer[0])
    w2 = MainWindow(AppSettings(), map_factory=FakeMap)
    qtbot.addWidget(w2)
    try:
        assert child.stdout.readline().strip() == "locked"
        before = w2.project
        assert not w2.open_project(target)  # declined: nothing changes
        assert asked and f"process {child.pid}" in asked[0] and "planner app" in asked[0] and w2.project is before
        answer[0] = True
        assert w2.open_project(target)  # accepted: a copy, Save asks for a new file
        assert w2.save_path is None and "copy" in w2.windowTitle()
    finally:
        child.kill()
        child.wait(10)
    # the holder died: its lock is stale, no question, and this window holds the lock now
    asked.clear()
    assert w2.open_project(target) and not asked and w2.save_path == target.absolute()
    assert json.loads(ProjectLock(target).path.read_text())["pid"] == os.getpid()


def _slow(n: int, progress):
    for i in range(n):
        progress(i / n)
        time.sleep(0.01)
    return n * 2


def _run(qtbot, runner, label, fn, *args, **kwargs):
    """Start ``fn`` on ``runner``; wait for delivery; returns (results, errors) seen by the callbacks."""
    results: list = []
    errors: list = []
    task = runner.start(label, fn, *args, on_done=results.append, on_error=errors.append, **kwargs)
    qtbot.waitUntil(lambda: task.delivered, timeout=30_000)
    return results, errors


def test_worker_delivers_result_and_errors_by_signal(qtbot):
    runner = TaskRunner(None)
    busy: list[bool] = []
    runner.busy_changed.connect(busy.append)
    assert _run(qtbot, runner, "work", _slow, 5) == ([10], [])
    thread_names: list[str] = []

    def boom(progress):
        thread_names.append(threading.current_thread().name)
        raise ValueError("bad input row 3")

    results, errors = _run(qtbot, runner, "work", boom)
    assert results == [] and len(errors) == 1 and "row 3" in str(errors[0])
    assert thread_names and thread_names[0] != threading.main_thread().name
    assert busy == [True, False, True, False] and not runner.busy


def test_tasks_run_one_at_a_time_in_order(qtbot):
    runner = TaskRunner(None)
    running = threading.Lock()
    order: list[str] = []

    def job(name, progress):
        assert running.acquire(blocking=False), "two tasks ran at once"
        try:
            time.sleep(0.02)
            order.append(name)
        finally:
            running.release()
        return name

    done: list[str] = []
    tasks = [runner.start("t", job, n, on_done=done.append) for n in ("a", "b", "c")]
    qtbot.waitUntil(lambda: all(t.delivered for t in tasks), timeout=30_000)
    assert order == done == ["a", "b", "c"]


def test_worker_cancel_raises_inside_the_worker(qtbot):
    stopped_at: list[int] = []

    def endless(progress):
        for i in range(10_000):
            try:
                progress(i / 10_000)
            except TaskCancelled:
                stopped_at.append(i)
                raise
            time.sleep(0.005)
        return "finished"

    def press_cancel():
        for w in QApplication.topLevelWidgets():
            if isinstance(w, QProgressDialog) and w.isVisible():
                w.cancel()
                return
        QTimer.singleShot(50, press_cancel)

    QTimer.singleShot(100, press_cancel)
    results, errors = _run(qtbot, TaskRunner(None, min_duration_ms=0), "endless", endless)
    assert results == [] and len(errors) == 1 and isinstance(errors[0], TaskCancelled)
    assert stopped_at and stopped_at[0] < 10_000
