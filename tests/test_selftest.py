"""``planner --selftest`` end to end, its file checks, and the packaging files it stands behind."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from planner.selftest import SelftestFailure, check_pdf, check_png, prepare_environment

REPO = Path(__file__).resolve().parent.parent
CHECKS = ("runtime", "data-files", "main-window", "map-drawn", "snapshot-png", "site-pdf")


def _clean_env(tmp_path: Path) -> dict[str, str]:
    """Environment of a fresh terminal without a display (the self-test must set Qt up itself)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("QT_", "QTWEBENGINE_", "PYQTGRAPH_")) and k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PLANNER_CONFIG_DIR"] = str(tmp_path / "analyst_config")  # must stay untouched
    env["PLANNER_DATA_DIR"] = str(tmp_path / "analyst_data")
    return env


@pytest.mark.slow
@pytest.mark.gui
def test_selftest_passes_on_the_sample_and_writes_real_files(tmp_path):
    out = tmp_path / "selftest"
    env = _clean_env(tmp_path) | {"PLANNER_SELFTEST_DIR": str(out)}
    proc = subprocess.run([sys.executable, "-m", "planner", "--selftest"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("selftest: [")]
    assert [re.match(r"selftest: \[ ok \] (\S+)", ln).group(1) for ln in lines] == list(CHECKS), proc.stdout
    assert re.search(r"^selftest: PASSED 6/6 checks in [\d.]+ s$", proc.stdout, re.MULTILINE), proc.stdout
    # the platform it reports was chosen by the self-test itself (no display, no QT_QPA_PLATFORM given)
    assert "platform offscreen" in proc.stdout

    # the files are really there and hold up to an independent look
    from pypdf import PdfReader

    for name in ("map_view.png", "snapshot.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    reader = PdfReader(str(out / "site_report.pdf"))
    site_line = next(ln for ln in lines if "site-pdf" in ln)
    site_name = re.search(r"contains '([^']+)'", site_line).group(1)
    assert len(reader.pages) >= 1
    assert site_name.split()[0] in reader.pages[0].extract_text()

    # the analyst's settings were never touched: the window wrote into the self-test folder
    assert not (tmp_path / "analyst_config").exists()
    assert (out / "home" / "config" / "settings.toml").is_file()


def test_selftest_reports_a_missing_sample_and_exits_1(tmp_path):
    code = ("import sys, planner.assets as a\n"
            "def gone(): raise a.AssetError('bundled asset maps/sample_portfolio.gpkg not found')\n"
            "a.sample_project = gone\n"
            "from planner.selftest import run_selftest\n"
            "sys.exit(run_selftest())\n")
    env = _clean_env(tmp_path) | {"PLANNER_SELFTEST_DIR": str(tmp_path / "st")}
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr[-2000:]
    out = proc.stdout
    assert re.search(r"\[ ok \] runtime", out)
    assert re.search(r"\[FAIL\] data-files .*sample_portfolio.gpkg not found", out), out
    assert re.search(r"\[FAIL\] main-window .*sample_portfolio.gpkg not found", out), out
    for name in ("map-drawn", "snapshot-png", "site-pdf"):
        assert re.search(rf"\[skip\] {name} +needs main-window", out), out
    assert re.search(r"selftest: FAILED 5/6 checks \(data-files, main-window, map-drawn, snapshot-png, site-pdf\)",
                     out), out


def test_bad_timeout_setting_is_one_clear_line(tmp_path):
    env = _clean_env(tmp_path) | {"PLANNER_SELFTEST_TIMEOUT_S": "soon"}
    proc = subprocess.run([sys.executable, "-m", "planner", "--selftest"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "selftest: PLANNER_SELFTEST_TIMEOUT_S must be a number of seconds"


# -- environment -------------------------------------------------------------------------------------
def test_prepare_environment_headless_root():
    env = prepare_environment({}, is_root=True, platform="linux")
    assert env["QT_QPA_PLATFORM"] == "offscreen"
    assert env["QTWEBENGINE_DISABLE_SANDBOX"] == "1"


def test_prepare_environment_keeps_a_display_and_the_sandbox_for_users():
    env = prepare_environment({"DISPLAY": ":0"}, is_root=False, platform="linux")
    assert "QT_QPA_PLATFORM" not in env
    assert "QTWEBENGINE_DISABLE_SANDBOX" not in env
    assert prepare_environment({"QT_QPA_PLATFORM": "xcb"}, is_root=False, platform="linux")["QT_QPA_PLATFORM"] == "xcb"
    assert "QT_QPA_PLATFORM" not in prepare_environment({}, is_root=False, platform="win32")


# -- file checks ----------------------------------------------------------------------------------------
def _png(path: Path, grey: np.ndarray) -> Path:
    from PySide6.QtGui import QImage

    h, w = grey.shape
    rgb = np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2).astype(np.uint8))
    img = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    assert img.save(str(path), "PNG")
    return path


def test_check_png_accepts_a_textured_picture(tmp_path):
    rng = np.random.default_rng(7)
    p = _png(tmp_path / "map.png", rng.integers(0, 255, (300, 400)))
    assert check_png(p, (400, 300)).startswith("map.png 400x300 px")


@pytest.mark.parametrize("case, message", [
    ("white", "looks blank"),
    ("half", "quarter is flat"),
    ("small", "expected at least 800x600"),
])
def test_check_png_rejects_blank_partial_and_small_pictures(tmp_path, case, message):
    rng = np.random.default_rng(3)
    noise = rng.integers(0, 255, (600, 800))
    if case == "white":
        grey = rng.integers(250, 256, (600, 800))  # near-white with sensor-like noise
    elif case == "half":
        grey = noise.copy()
        grey[:, 400:] = 255
    else:
        grey = rng.integers(0, 255, (300, 400))
    p = _png(tmp_path / f"{case}.png", grey)
    with pytest.raises(SelftestFailure, match=message):
        check_png(p, (800, 600), min_bytes=100)


def test_check_png_rejects_files_that_are_not_png(tmp_path):
    p = tmp_path / "map.png"
    p.write_bytes(b"<html>not a picture</html>" * 1000)
    with pytest.raises(SelftestFailure, match="not a PNG"):
        check_png(p)
    with pytest.raises(SelftestFailure, match="was not written"):
        check_png(tmp_path / "missing.png")


def _pdf(path: Path, pages: list[str], qapp) -> Path:
    from PySide6.QtGui import QPageSize, QPainter, QPdfWriter

    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    painter = QPainter(writer)
    for i, text in enumerate(pages):
        if i:
            writer.newPage()
        painter.drawText(200, 400, text)
    painter.end()
    return path


def test_check_pdf_finds_the_site_name(tmp_path, qapp):
    p = _pdf(tmp_path / "report.pdf", ["Site report", "Denton   data center readiness"], qapp)
    assert check_pdf(p, "Denton data center") == f"report.pdf 2 pages, {p.stat().st_size / 1024:.0f} KiB, " \
                                                 "contains 'Denton data center'"
    with pytest.raises(SelftestFailure, match="does not contain 'Lake Mariner'"):
        check_pdf(p, "Lake Mariner")
    with pytest.raises(SelftestFailure, match="has 2 pages"):
        check_pdf(p, "Denton", min_pages=3)


def test_check_pdf_rejects_non_pdf_and_truncated_files(tmp_path, qapp):
    html = tmp_path / "report.pdf"
    html.write_text("<html>report</html>")
    with pytest.raises(SelftestFailure, match="does not start with %PDF-"):
        check_pdf(html, "report")
    good = _pdf(tmp_path / "good.pdf", ["Denton"], qapp)
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(good.read_bytes()[:60])
    with pytest.raises(SelftestFailure):
        check_pdf(cut, "Denton")


# -- packaging files ---------------------------------------------------------------------------------------
def test_spec_is_valid_python_and_bundles_what_the_app_loads():
    src = (REPO / "packaging" / "planner.spec").read_text(encoding="utf-8")
    compile(src, "planner.spec", "exec")
    for needle in ('"planner/_data/resources"', '"planner/_data/maps"', 'copy_metadata(DIST_NAME)',
                   'collect_submodules("planner")', '"PySide6.QtSvg"', 'hookspath=[str(SPEC_DIR / "hooks")]',
                   "upx=False"):
        assert needle in src
    hook = (REPO / "packaging" / "hooks" / "hook-pyogrio.py").read_text(encoding="utf-8")
    compile(hook, "hook-pyogrio.py", "exec")
    import pyogrio  # the hook relies on pyogrio keeping its GDAL data next to the package

    assert (Path(pyogrio.__file__).parent / "gdal_data").is_dir() or pyogrio.get_gdal_data_path()


def test_build_scripts_parse():
    for script in ("build.sh", "install-desktop-entry.sh"):
        subprocess.run(["bash", "-n", str(REPO / "packaging" / script)], check=True)


def test_desktop_entry_matches_the_installed_icon_name():
    text = (REPO / "packaging" / "planner.desktop").read_text(encoding="utf-8")
    entry = dict(ln.split("=", 1) for ln in text.splitlines()[1:] if "=" in ln)
    assert text.splitlines()[0] == "[Desktop Entry]"
    assert entry["Type"] == "Application" and entry["Exec"].split()[0] == "planner"
    build = (REPO / "packaging" / "build.sh").read_text(encoding="utf-8")
    assert f'ICON_NAME="{entry["Icon"]}"' in build
    if shutil.which("desktop-file-validate"):
        proc = subprocess.run(["desktop-file-validate", str(REPO / "packaging" / "planner.desktop")],
                              capture_output=True, text=True)
        assert proc.returncode == 0 and "error" not in proc.stdout, proc.stdout
