"""docs/economics.md lists every assumption with its unit and default (kept in sync with the registry)."""
from __future__ import annotations

from pathlib import Path

from planner.model.assumptions import ASSUMPTIONS
from planner.model.drivers import _fmt

DOC = Path(__file__).resolve().parents[1] / "docs" / "economics.md"


def test_every_assumption_is_documented_with_unit_and_default():
    rows = {line.split("|")[1].strip().strip("`"): line for line in DOC.read_text(encoding="utf-8").splitlines()
            if line.startswith("| `")}
    missing = sorted(set(ASSUMPTIONS) - set(rows))
    assert not missing, f"document these assumptions in docs/economics.md: {missing}"
    for key, spec in ASSUMPTIONS.items():
        cells = [c.strip() for c in rows[key].split("|")]
        assert cells[3] == spec.unit and cells[4] == _fmt(spec.default), key
