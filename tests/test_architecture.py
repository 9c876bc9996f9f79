"""The layering rules of docs/architecture.md are checked, not hoped for."""
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CODE = (
    "import sys; sys.modules['PySide6'] = None; sys.modules['pyqtgraph'] = None; sys.modules['shiboken6'] = None\n"
    "import importlib, pkgutil, planner.fmt, planner.model, planner.gis, planner.webmap, planner.session\n"
    "for pkg in (planner.model, planner.gis, planner.webmap, planner.session):\n"
    "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
    "        importlib.import_module(m.name)\n"
)


def test_core_imports_without_qt():
    """Every module of model, gis, webmap and session imports with Qt blocked."""
    subprocess.run([sys.executable, "-c", CODE], check=True, cwd=REPO)


def test_import_linter_contracts():
    exe = shutil.which("lint-imports")
    cmd = [exe] if exe else [sys.executable, "-m", "importlinter.cli"]
    r = subprocess.run(cmd + ["--no-cache", str(REPO / "pyproject.toml")], cwd=REPO,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
