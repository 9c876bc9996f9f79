#!/usr/bin/env bash
# Build the frozen Linux app (PyInstaller onedir) and check it with its own --selftest.
#
#   bash packaging/build.sh            # -> packaging/dist/planner/planner
#
# Steps: a throwaway venv (deleted at the end) -> pip install the project + PyInstaller ->
# pyinstaller packaging/planner.spec -> desktop entry and icons into dist/planner/share ->
# `dist/planner/planner --selftest` under `env -i` (no PYTHONPATH, no site-packages, no
# display: proves the folder is self-contained) -> build time and folder size.
#
# Environment knobs:
#   PYTHON=python3.11     interpreter for the venv (3.10+; default python3)
#   DIST_DIR=...          output folder (default packaging/dist)
#   WORK_DIR=...          PyInstaller work folder (default packaging/build)
#   KEEP_VENV=1           keep the build venv (its path is printed)
#   SKIP_SELFTEST=1       build only
# Needs network access to PyPI for the pip step (the built app itself never uses the network).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
DIST_DIR="${DIST_DIR:-$REPO/packaging/dist}"
WORK_DIR="${WORK_DIR:-$REPO/packaging/build}"
APP_DIR="$DIST_DIR/planner"
ICON_NAME="site-conversion-planner"

t0=$(date +%s)
stamp() { printf '[build %4ds] %s\n' "$(( $(date +%s) - t0 ))" "$*"; }

"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
  || { echo "build.sh: $PYTHON is older than 3.10; set PYTHON=python3.11 (or newer)" >&2; exit 2; }

TMP_ROOT="$(mktemp -d "${TMPDIR:-/tmp}/planner-build.XXXXXX")"
VENV="$TMP_ROOT/venv"
cleanup() {
  if [[ "${KEEP_VENV:-0}" == "1" ]]; then
    echo "build venv kept at $VENV"
  else
    rm -rf "$TMP_ROOT"
  fi
}
trap cleanup EXIT

stamp "venv at $VENV ($("$PYTHON" --version 2>&1))"
"$PYTHON" -m venv "$VENV"
PY="$VENV/bin/python"
"$PY" -m pip install -q --upgrade pip
stamp "pip install the project + PyInstaller"
# a real (non-editable) install: the spec reads the version and dist-info from it
"$PY" -m pip install -q "$REPO" "pyinstaller>=6.10" "pyinstaller-hooks-contrib>=2024.8"
t_pip=$(date +%s)

stamp "pyinstaller (onedir) -> $APP_DIR"
rm -rf "$APP_DIR"
# run from outside the checkout so the source tree cannot shadow the installed package
(cd "$TMP_ROOT" && "$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$DIST_DIR" --workpath "$WORK_DIR" "$REPO/packaging/planner.spec")
t_pyi=$(date +%s)

stamp "desktop entry and icons -> $APP_DIR/share"
install -Dm644 "$REPO/packaging/planner.desktop" "$APP_DIR/share/applications/$ICON_NAME.desktop"
install -Dm644 "$REPO/resources/icons/app.svg" "$APP_DIR/share/icons/hicolor/scalable/apps/$ICON_NAME.svg"
for size in 48 128 256; do
  "$PY" "$REPO/packaging/render_icon.py" "$REPO/resources/icons/app.svg" \
    "$APP_DIR/share/icons/hicolor/${size}x${size}/apps/$ICON_NAME.png" "$size"
done
install -m755 "$REPO/packaging/install-desktop-entry.sh" "$APP_DIR/install-desktop-entry.sh"

selftest_rc=0
if [[ "${SKIP_SELFTEST:-0}" != "1" ]]; then
  stamp "selftest of the frozen app (env -i: no inherited Python, Qt or display variables)"
  ST_HOME="$TMP_ROOT/home"
  mkdir -p "$ST_HOME"
  env -i HOME="$ST_HOME" PATH=/usr/bin:/bin LANG=C.UTF-8 TMPDIR="$TMP_ROOT" \
    timeout 600 "$APP_DIR/planner" --selftest || selftest_rc=$?
fi
t_end=$(date +%s)

size_mb=$(( $(du -sb "$APP_DIR" | cut -f1) / 1000000 ))
files=$(find "$APP_DIR" -type f | wc -l)
echo
echo "build time : $(( t_end - t0 )) s total (venv + pip $(( t_pip - t0 )) s, pyinstaller $(( t_pyi - t_pip )) s, selftest $(( t_end - t_pyi )) s)"
echo "folder     : $APP_DIR  $size_mb MB, $files files ($(du -sh "$APP_DIR" | cut -f1) on disk)"
echo "version    : $("$PY" -c 'from importlib.metadata import version; print(version("site-conversion-planner"))'), PyInstaller $("$PY" -m PyInstaller --version), $("$PY" --version 2>&1)"
if [[ "${SKIP_SELFTEST:-0}" != "1" ]]; then
  if [[ $selftest_rc -eq 0 ]]; then echo "selftest   : passed"; else echo "selftest   : FAILED (exit $selftest_rc)"; fi
fi
exit "$selftest_rc"
