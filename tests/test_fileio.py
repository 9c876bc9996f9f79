"""atomic_write / atomic_path: the old file or the new one, never half; permissions kept; nothing left behind."""
from __future__ import annotations

import os
import stat

import pytest

from planner.fileio import atomic_path, atomic_write


def test_write_replaces_and_keeps_the_mode(tmp_path):
    target = tmp_path / "a.json"
    target.write_text("old")
    os.chmod(target, 0o600)
    atomic_write(target, '{"new": 1}')
    assert target.read_text() == '{"new": 1}'
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_a_failing_writer_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "map.html"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["map.html"]


def test_writer_that_writes_nothing_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="produced no file"):
        with atomic_path(tmp_path / "x.csv"):
            pass
    assert not list(tmp_path.iterdir())


def test_bytes_and_suffix(tmp_path):
    atomic_write(tmp_path / "b.png", b"\x89PNG")
    assert (tmp_path / "b.png").read_bytes() == b"\x89PNG"
    with atomic_path(tmp_path / "c.gpkg", suffix=".gpkg") as tmp:
        assert tmp.suffix == ".gpkg" and tmp.parent == tmp_path
        tmp.write_bytes(b"x")
    assert (tmp_path / "c.gpkg").read_bytes() == b"x"
