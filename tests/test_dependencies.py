"""The base install stays lean: the dask stack is the ``scale`` extra, and asking for it without it says how."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
BLOCK_DASK = ("import sys\n"
              "for m in ('dask', 'dask.dataframe', 'distributed', 'dask_geopandas'):\n"
              "    sys.modules[m] = None\n")


def test_dask_stack_is_an_extra_that_the_tests_install():
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    base = " ".join(meta["dependencies"])
    assert "dask" not in base and "distributed" not in base
    scale = " ".join(meta["optional-dependencies"]["scale"])
    assert all(p in scale for p in ("dask[dataframe]", "distributed", "dask-geopandas"))
    assert any("[scale]" in d for d in meta["optional-dependencies"]["test"])  # CI still tests the dask engine


def test_engine_dask_without_the_extra_names_the_install_command():
    code = BLOCK_DASK + (
        "from planner.cli import main\n"
        "from planner.assets import sample_project\n"
        "raise SystemExit(main(['screen', str(sample_project()), '--region', 'TX', '--cell-km', '50',"
        " '--engine', 'dask']))\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, r.stderr[-2000:]
    line = r.stderr.strip().splitlines()[-1]
    assert "engine 'dask' needs dask, distributed, dask-geopandas" in line
    assert 'pip install "site-conversion-planner[scale]"' in line and "--engine local" in line
    assert "Traceback" not in r.stderr


def test_local_engine_runs_without_dask():
    code = BLOCK_DASK + (
        "from planner.gis.project import open_project\n"
        "from planner.assets import sample_project\n"
        "from planner.gis.screening import screen\n"
        "r = screen(open_project(sample_project()), 'TX', 50, top=3)\n"
        "assert r.engine == 'local' and len(r.top) == 3\n")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=120)
