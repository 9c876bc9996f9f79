"""One way to write a file: all or nothing, on disk before we say "saved".

:func:`atomic_path` hands out a temporary path beside the target (same folder, so the final
``os.replace`` is atomic); when the writer returns, the temporary file is flushed to disk
(``fsync``), given the target's permission bits when it replaces an existing file, moved over
the target and the folder entry is flushed too. If the writer raises, the temporary file is
removed and the target is untouched: a reader sees the old file or the new one, never half.
:func:`atomic_write` does this for bytes or text. Pure Python; every layer may use it.
"""
from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path", "atomic_write", "fsync_dir", "fsync_file", "temp_path_for"]


def fsync_file(path: str | os.PathLike[str]) -> None:
    """Flush ``path``'s data to disk."""
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Flush a folder entry (a rename into it) to disk; a no-op where folders cannot be opened (Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on folders; the rename itself is still atomic
        pass
    finally:
        os.close(fd)


def temp_path_for(target: Path, suffix: str = "") -> Path:
    """A hidden temporary name beside ``target`` unique to this process (``.name.<pid>.part<suffix>``).
    Control characters in the name become ``_``: GDAL writes a different file for a name with a newline."""
    plain = "".join("_" if ord(c) < 32 or ord(c) == 127 else c for c in target.name)
    return target.with_name(f".{plain}.{os.getpid()}.part{suffix}")


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``target`` atomically and durably.

    ``suffix`` is appended to the temporary name for writers that pick a format from the
    extension (e.g. ``".gpkg"``). The temporary file is removed when the block raises.
    """
    final = Path(target)
    tmp = temp_path_for(final, suffix)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"{final}: the writer produced no file")
        if final.exists():
            with contextlib.suppress(OSError):
                os.chmod(tmp, stat.S_IMODE(final.stat().st_mode))
        fsync_file(tmp)
        os.replace(tmp, final)
        fsync_dir(final.parent)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write(target: str | os.PathLike[str], data: bytes | str, encoding: str = "utf-8") -> Path:
    """Write ``data`` (bytes, or text in ``encoding``) to ``target`` all or nothing; returns the path."""
    final = Path(target)
    with atomic_path(final) as tmp:
        if isinstance(data, str):
            tmp.write_text(data, encoding=encoding)
        else:
            tmp.write_bytes(data)
    return final
