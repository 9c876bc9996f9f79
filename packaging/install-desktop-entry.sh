#!/usr/bin/env bash
# Install (or with --remove, uninstall) the desktop entry of a frozen planner folder for the
# current user: ~/.local/bin/planner -> this folder's planner, the .desktop file and icons
# under ~/.local/share. Copied next to the executable by packaging/build.sh; run it from there:
#
#   /opt/site-conversion-planner/install-desktop-entry.sh
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NAME="site-conversion-planner"
BIN_DIR="${XDG_BIN_HOME:-$HOME/.local/bin}"
DATA_DIR="${XDG_DATA_HOME:-$HOME/.local/share}"

if [[ "${1:-}" == "--remove" ]]; then
  rm -f "$BIN_DIR/planner" "$DATA_DIR/applications/$NAME.desktop"
  find "$DATA_DIR/icons/hicolor" -name "$NAME.*" -delete 2>/dev/null || true
  echo "removed the planner desktop entry"
  exit 0
fi

[[ -x "$HERE/planner" ]] || { echo "install-desktop-entry: $HERE/planner not found; run this script from the frozen app folder" >&2; exit 1; }
mkdir -p "$BIN_DIR" "$DATA_DIR/applications"
ln -sfn "$HERE/planner" "$BIN_DIR/planner"
# absolute Exec path: desktop sessions often do not have ~/.local/bin on PATH
sed -e "s|^Exec=planner|Exec=$HERE/planner|" -e "s|^TryExec=planner|TryExec=$HERE/planner|" \
  "$HERE/share/applications/$NAME.desktop" > "$DATA_DIR/applications/$NAME.desktop"
(cd "$HERE/share" && find icons -type f -name "$NAME.*" -exec install -Dm644 {} "$DATA_DIR/{}" \;)
command -v update-desktop-database >/dev/null && update-desktop-database -q "$DATA_DIR/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$DATA_DIR/icons/hicolor" || true
echo "installed: $BIN_DIR/planner and $DATA_DIR/applications/$NAME.desktop"
