"""Screening on a real distributed cluster: worker processes, a scheduler address, results equal to local."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from planner.assets import sample_project
from planner.gis.project import open_project
from planner.gis.screening import ScreeningError, _DaskParts, screen

distributed = pytest.importorskip("distributed")

PERMIAN_BOX = (-103.5, 31.0, -101.5, 32.5)   # lines, flares, fibre and the Permian region: every criterion
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def project():
    return open_project(sample_project())


@pytest.fixture(scope="module")
def local(project):
    return screen(project, PERMIAN_BOX, 6, top=8, partitions=4)   # ~2,300 cells in 4 bands


def _same(a, b) -> None:
    assert [(c.cell_id, c.score, c.reason) for c in a.top] == [(c.cell_id, c.score, c.reason) for c in b.top]
    assert (a.n_cells, a.n_excluded, a.n_refined) == (b.n_cells, b.n_excluded, b.n_refined)


def _no_full_gather(monkeypatch) -> None:
    def refuse(self):
        raise AssertionError("the whole cell table was gathered to the client")
    monkeypatch.setattr(_DaskParts, "gather", refuse)


def test_local_cluster_of_worker_processes_gives_the_local_result(project, local, monkeypatch):
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  memory_limit="1.5GB") as cluster, distributed.Client(cluster) as client:
        workers = set(client.scheduler_info()["workers"])
        full = screen(project, PERMIAN_BOX, 6, top=8, engine="dask", scheduler=client, partitions=4)
        _no_full_gather(monkeypatch)
        pool = screen(project, PERMIAN_BOX, 6, top=8, engine="dask", scheduler=client, partitions=4, cells="pool")
        # default split: one band per worker thread (2 here) where the local engine makes one band
        split = screen(project, PERMIAN_BOX, 6, top=8, engine="dask", scheduler=client, cells="pool")
    _same(full, local)
    pd.testing.assert_frame_equal(pd.DataFrame(local.cells.drop(columns="geometry")),
                                  pd.DataFrame(full.cells.drop(columns="geometry")))
    assert local.cells.geometry.geom_equals_exact(full.cells.geometry, 1e-12).all()
    # the bands ran in the worker processes (not here) and each reported its peak memory
    assert set(full.worker_memory_mb) <= workers and full.worker_memory_mb
    assert all(0 < mb < 1536 for mb in full.worker_memory_mb.values())
    # partitions stayed on the workers: only the pool the search asked for came back
    _same(pool, local)
    assert pool.cells_scope == "pool" and len(pool.cells) < pool.n_cells
    # the work divides: each worker ran bands (no single worker took them all) and reported their CPU time
    for res in (full, split):
        assert set(res.worker_bands) == workers and all(n >= 1 for n in res.worker_bands.values())
        assert set(res.worker_cpu_s) == workers and all(s > 0 for s in res.worker_cpu_s.values())
    assert sum(split.worker_bands.values()) == 2 and sum(full.worker_bands.values()) == 4
    # and how the grid is split does not change the answer: 2 bands on 2 workers = 1 band here
    one_band = screen(project, PERMIAN_BOX, 6, top=8, cells="pool")
    assert one_band.worker_bands == {"local": 1}
    assert [(c.cell_id, c.score, c.reason) for c in split.top] == [(c.cell_id, c.score, c.reason) for c in one_band.top]
    assert (split.n_cells, split.n_excluded) == (one_band.n_cells, one_band.n_excluded)


@pytest.fixture
def scheduler_address(tmp_path):
    """A `dask scheduler` and a `dask worker` (2 processes) on 127.0.0.1, started here and stopped after."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    info = tmp_path / "scheduler.json"
    procs = []
    logs = [open(tmp_path / "scheduler.log", "w"), open(tmp_path / "worker.log", "w")]
    try:
        procs.append(subprocess.Popen([sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
                                       "--no-dashboard", "--scheduler-file", str(info)], cwd=REPO, env=env,
                                      stdout=logs[0], stderr=subprocess.STDOUT, start_new_session=True))
        deadline = time.monotonic() + 60
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert info.exists(), (tmp_path / "scheduler.log").read_text()
        procs.append(subprocess.Popen([sys.executable, "-m", "dask", "worker", "--scheduler-file", str(info),
                                       "--nworkers", "2", "--nthreads", "1", "--memory-limit", "1.5GB",
                                       "--no-dashboard", "--host", "127.0.0.1"], cwd=REPO, env=env,
                                      stdout=logs[1], stderr=subprocess.STDOUT, start_new_session=True))
        with distributed.Client(scheduler_file=str(info), timeout="30s") as client:
            client.wait_for_workers(2, timeout=90)
            address = client.scheduler.address
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, 9)
                p.wait(timeout=10)
        for f in logs:
            f.close()


def test_scheduler_address_runs_on_separate_worker_processes(project, local, scheduler_address, monkeypatch):
    assert scheduler_address.startswith("tcp://127.0.0.1:")
    _no_full_gather(monkeypatch)
    res = screen(project, PERMIAN_BOX, 6, top=8, engine="dask", scheduler=scheduler_address, partitions=4,
                 cells="pool")
    _same(res, local)
    # two worker processes reported their own peak memory
    assert len(res.worker_memory_mb) == 2 and all(k.startswith("tcp://127.0.0.1:") for k in res.worker_memory_mb)
    assert all(0 < mb < 1536 for mb in res.worker_memory_mb.values())


class _Cancelled(Exception):
    pass


def test_a_run_cancelled_or_refused_before_the_bands_leaves_no_worker_processes(project):
    # the cluster starts in the background while the plan is prepared; a run that stops before
    # using it (cancelled from the progress callback, or a bad exclusion layer) must close it
    import psutil

    def cancel(_f):
        raise _Cancelled

    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    with pytest.raises(_Cancelled):
        screen(project, PERMIAN_BOX, 20, top=3, engine="dask", workers=1, progress=cancel)
    with pytest.raises(ScreeningError, match="exclusion layer 'nope'"):
        screen(project, PERMIAN_BOX, 20, top=3, engine="dask", workers=1, exclusions=["nope"])
    # (multiprocessing's resource tracker stays for the life of this process, by design)
    left = [p for p in me.children(recursive=True)
            if p.pid not in before and "resource_tracker" not in " ".join(p.cmdline())]
    _, alive = psutil.wait_procs(left, timeout=20)
    assert not alive, [p.cmdline() for p in alive]
