"""File names GDAL cannot take: a newline or another control character in a path makes GDAL open
or create a different file. The planner keeps the user's name for everything it does itself and
hands GDAL a safe stand-in (a symlink in a private temp folder)."""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


def gdal_unsafe(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` holds characters GDAL mangles (control characters such as newlines)."""
    return bool(_UNSAFE.search(os.fspath(path)))


def safe_name(name: str) -> str:
    """``name`` with control characters replaced by ``_`` (for temp files GDAL writes)."""
    return _UNSAFE.sub("_", name)


@contextlib.contextmanager
def gdal_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A path GDAL can read for ``path``: itself, or a symlink with a plain name to it."""
    p = Path(path)
    if not gdal_unsafe(p):
        yield p
        return
    folder = Path(tempfile.mkdtemp(prefix="planner-gdal-"))
    try:
        link = folder / safe_name(p.name)
        os.symlink(os.path.realpath(p), link)
        yield link
    finally:
        shutil.rmtree(folder, ignore_errors=True)
