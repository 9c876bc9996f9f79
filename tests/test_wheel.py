"""The wheel carries the sample project, the resources and the data attribution (offline build)."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_contains_bundled_data(tmp_path):
    if importlib.util.find_spec("hatchling") is not None:
        cmd = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path), str(REPO)]
    else:  # pragma: no cover - needs the build backend from the index
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path), str(REPO)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    wheels = list(tmp_path.glob("*.whl"))
    assert len(wheels) == 1
    names = set(zipfile.ZipFile(wheels[0]).namelist())
    assert "planner/_data/maps/sample_portfolio.gpkg" in names
    assert "planner/_data/maps/README.md" in names
    assert {"planner/_data/maps/sample_portfolio.page.html", "planner/_data/maps/sample_portfolio.page.json"} <= names
    assert "planner/_data/resources/DATA_ATTRIBUTION.md" in names
    assert "planner/gis/project.py" in names and "planner/gis/io.py" in names
    assert not any(n.startswith(("tests/", "scripts/")) for n in names)
