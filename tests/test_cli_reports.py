"""Headless CLI: report, snapshot, export-map, export. Exit codes and one-line errors."""
from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest

from planner.assets import sample_project
from planner.cli import main

SAMPLE = str(sample_project())


def _error(capsys, argv: list[str]) -> str:
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 1, err
    assert len(err.splitlines()) == 1, err  # one line, no traceback
    return err


def test_unknown_site_lists_close_matches(capsys):
    err = _error(capsys, ["report", SAMPLE, "--site", "RIOT-RKX", "--out", "x.pdf", "--no-proximity"])
    assert err.startswith("planner report: error: no site with site_id 'RIOT-RKX'; did you mean RIOT-RKD")


@pytest.mark.parametrize("argv, message", [
    (["report", "/no/such.gpkg", "--portfolio", "--out", "x.pdf"], "no such project file"),
    (["report", SAMPLE, "--site", "RIOT-RKD", "--out", "x.png"], "must end in .pdf"),
    (["report", SAMPLE, "--site", "RIOT-RKD", "--atlas", "--out", "x.pdf"], "--atlas needs --portfolio"),
    (["report", SAMPLE, "--portfolio", "--out", "/no/such/dir/x.pdf"], "does not exist"),
    (["snapshot", SAMPLE, "--site", "FUFU-ETH", "--out", "x.png", "--no-proximity"], "has no location"),
    (["snapshot", SAMPLE, "--out", "x.png", "--width", "50"], "must be 200-8000 px"),
    (["snapshot", SAMPLE, "--out", "x.jpg"], "must end in .png"),
    (["export-map", SAMPLE, "--out", "map.pdf"], "must end in .html"),
    (["export", SAMPLE, "--out", "sites.xlsx"], "cannot tell the export format"),
    (["export", SAMPLE, "--format", "csv", "--out", "sites.gpkg"], "must end in .csv"),
])
def test_user_errors_exit_1_with_one_line(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    err = _error(capsys, argv)
    assert message in err and err.startswith(f"planner {argv[0]}: error: ")
    assert not list(tmp_path.iterdir())  # nothing written


def test_paper_choice_is_validated(capsys):
    with pytest.raises(SystemExit) as e:
        main(["report", SAMPLE, "--portfolio", "--out", "x.pdf", "--paper", "a3"])
    assert e.value.code == 2 and "invalid choice: 'a3'" in capsys.readouterr().err


def test_export_csv_and_map(capsys, tmp_path):
    out = tmp_path / "sites.csv"
    assert main(["export", SAMPLE, "--out", str(out), "--no-economics"]) == 0
    assert "wrote" in capsys.readouterr().out
    table = pd.read_csv(out)
    assert len(table) == 40 and table["dist_substation_km"].notna().sum() > 10  # proximity filled in memory
    html = tmp_path / "map.html"
    assert main(["export-map", SAMPLE, "--out", str(html)]) == 0
    text = html.read_text(encoding="utf-8")
    assert "planner-data" in text and "<script src=\"http" not in text


def test_snapshot_headless_subprocess(tmp_path):
    """A fresh process with no display: the CLI switches to the offscreen platform itself."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "QTWEBENGINE_DISABLE_SANDBOX")}
    out = tmp_path / "site.png"
    proc = subprocess.run([sys.executable, "-m", "planner", "snapshot", SAMPLE, "--site", "RIOT-RKD", "--out", str(out),
                           "--width", "400", "--height", "300", "--scale", "1.5"],
                          env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == f"wrote {out} (600x450 px)"
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (600, 450)
