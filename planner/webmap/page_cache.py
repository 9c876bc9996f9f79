"""The map page shipped with the bundled sample, so a first start shows its map at once.

The app keeps each project's map page in the user's cache folder, keyed by the file's identity
(:mod:`planner.ui.map_view`), and loads it before the file is read on the next start. A first
start (a fresh install, a new laptop) has no cache: the page would wait for the project to be
read and the page built (~1.5 s on a laptop). For the bundled sample, the page is built once
when the sample is built (``scripts/build_sample.py``) and shipped beside it as
``maps/sample_portfolio.page.html`` with its meta file.

A shipped page counts only when its key matches what this installation would build: the
planner version, the map options, the contents of the page builder's files and of the vendored
Leaflet files, and the sample file's SHA-256. Like a cached page, it is then kept only if the
readiness scores computed once the sample is read are those it was built with (``scores`` in
its meta); otherwise the map is rebuilt. ``tests/test_sample_page.py`` checks that the shipped
page is exactly what :func:`planner.webmap.build_map` makes of the sample today.

Qt-free.
"""
from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from planner import __version__
from planner.assets import AssetError, asset_dir, sample_project
from planner.webmap.options import MapOptions

log = logging.getLogger(__name__)

SEED_PAGE = "sample_portfolio.page.html"
SEED_META = "sample_portfolio.page.json"
_BUILDER_ROOT = Path(__file__).resolve().parent
_PAGE_SUFFIXES = (".py", ".js", ".css", ".html", ".png")


def scores_digest(scores: Any) -> str:
    """Digest of the readiness scores a page is coloured by (a kept page counts only for the same)."""
    text = "" if not scores else "\n".join(sorted(f"{k}={v!r}" for k, v in dict(scores).items()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _file_digests(root: Path) -> list[str]:
    out = []
    for f in sorted(root.rglob("*")):
        if f.is_file() and f.suffix in _PAGE_SUFFIXES and "__pycache__" not in f.parts:
            out.append(f"{f.relative_to(root).as_posix()}:{hashlib.sha256(f.read_bytes()).hexdigest()}")
    return out


def builder_digest() -> str:
    """SHA-256 over the contents of the page builder (``planner/webmap``) and the vendored web files."""
    parts = _file_digests(_BUILDER_ROOT)
    try:
        parts += _file_digests(asset_dir("resources") / "web")
    except AssetError:
        pass
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def seed_key(sample: Path, options: MapOptions) -> str:
    """What a shipped page must have been built from to be shown for ``sample`` with ``options``."""
    parts = [__version__, repr(options), builder_digest(), hashlib.sha256(sample.read_bytes()).hexdigest()]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def seed_page(path: str | Path, options: MapOptions) -> tuple[Path, dict[str, Any]] | None:
    """The shipped page and its meta when ``path`` is the bundled sample and the page is current; else None."""
    try:
        sample = sample_project()
        if Path(path).resolve() != sample.resolve():
            return None
        folder = sample.parent
        page = folder / SEED_PAGE
        meta = json.loads((folder / SEED_META).read_text(encoding="utf-8"))
        if not isinstance(meta, dict) or not page.is_file():
            return None
        if meta.get("key") != seed_key(sample, options):
            log.info("map: the shipped sample page is not this version's (rebuild it: scripts/build_sample.py --page)")
            return None
        return page, meta
    except (AssetError, OSError, ValueError):
        return None


def write_seed(sample: Path, options: MapOptions, folder: Path | None = None) -> Path:
    """Build the sample's page as the app does (session scores, ``options``) and write it with its meta."""
    from planner.gis.project import open_project
    from planner.model.readiness import score_portfolio
    from planner.webmap.builder import build_map

    project = open_project(sample)
    scores = dict(score_portfolio(project.portfolio))
    meta: dict[str, Any] = {}
    html = build_map(project, scores, options, meta=meta)
    folder = folder or sample.parent
    page = folder / SEED_PAGE
    page.write_text(html, encoding="utf-8")
    meta.update(scores=scores_digest(scores), key=seed_key(sample, options))
    (folder / SEED_META).write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return page
