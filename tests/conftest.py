"""Test setup: offscreen Qt, WebEngine without sandbox (tests run as root), isolated config dirs."""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu --no-sandbox --disable-logging")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
os.environ.setdefault("QT_LOGGING_RULES", "qt.webenginecontext.debug=false;js.debug=false")

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = (REPO.parent / "shared" / "data").resolve()

try:  # QtWebEngineWidgets must be imported before a QApplication exists
    import PySide6.QtWebEngineWidgets  # noqa: F401
except Exception:  # pragma: no cover - core tests still run without Qt
    pass


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory, monkeypatch):
    """Point the planner's config/data/cache dirs at a temp folder for every test."""
    base = tmp_path_factory.mktemp("planner_home")
    monkeypatch.setenv("PLANNER_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("PLANNER_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("PLANNER_CACHE_DIR", str(base / "cache"))
    yield


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real public data folder (read-only)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO
