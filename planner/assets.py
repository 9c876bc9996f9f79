"""One accessor for bundled assets (``resources/`` and ``maps/``).

Works in a source checkout / editable install (top-level folders next to the
package), an installed wheel (``planner/_data/...``, see pyproject force-include)
and a PyInstaller build (``sys._MEIPASS``).
"""
from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

_KINDS = ("resources", "maps")


class AssetError(FileNotFoundError):
    """Raised for an unknown or missing bundled asset."""


def _candidates(kind: str) -> list[Path]:
    pkg = Path(__file__).resolve().parent
    out = [pkg / "_data" / kind, pkg.parent / kind]
    meipass = getattr(sys, "_MEIPASS", None)
    if meipass:
        out.insert(0, Path(meipass) / "planner" / "_data" / kind)
    return out


def asset_dir(kind: str) -> Path:
    """Return the folder holding bundled ``kind`` assets ("resources" or "maps")."""
    if kind not in _KINDS:
        raise AssetError(f"unknown asset kind {kind!r}; expected one of {_KINDS}")
    for c in _candidates(kind):
        if c.is_dir():
            return c
    raise AssetError(f"bundled folder {kind!r} not found (looked in {', '.join(map(str, _candidates(kind)))})")


def asset_path(kind: str, name: str) -> Path:
    """Path of a bundled asset, e.g. ``asset_path("maps", "sample_portfolio.gpkg")``.

    Raises :class:`AssetError` naming the file when it does not exist.
    """
    p = asset_dir(kind) / name
    if not p.exists():
        raise AssetError(f"bundled asset {kind}/{name} not found at {p}")
    return p


def sample_project() -> Path:
    """The bundled sample portfolio project."""
    return asset_path("maps", "sample_portfolio.gpkg")


def attribution_text(layers: Iterable[Any] = ()) -> str:
    """DATA_ATTRIBUTION.md when bundled, plus the sources of ``layers`` (objects with title/source)."""
    candidates = [Path(__file__).resolve().parents[1] / "DATA_ATTRIBUTION.md"]
    for kind in _KINDS:
        try:
            candidates.append(asset_dir(kind) / "DATA_ATTRIBUTION.md")
        except AssetError:
            pass
    text = next((c.read_text(encoding="utf-8") for c in candidates if c.is_file()), "")
    sources = sorted({f"{lyr.title}: {lyr.source}" for lyr in layers if lyr.source})
    if sources:
        text += ("\n\n" if text else "") + "Layers in this project:\n" + "\n".join(sources)
    return text or "No attribution file is bundled and the project has no layers."
