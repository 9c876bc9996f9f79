"""The core is typed: mypy --strict on model, gis, session, fmt and fileio (config in pyproject.toml),
and the typed fields of Site and Assumptions match their registries."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_typed_fields_follow_the_registries():
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "typed_fields.py"), "--check"], cwd=REPO,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_mypy_strict_on_the_core():
    r = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary"], cwd=REPO, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
