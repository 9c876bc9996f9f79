"""Autosave to a recovery folder, crash recovery on start, and a lock file per open project.

Every ``interval_s`` seconds, when the project has unsaved edits, a full copy is saved
(atomically, through ``save_project``) to ``<PLANNER_DATA_DIR>/recovery/`` with a small
JSON sidecar naming the original file. A clean save or close removes it; a copy left
behind by a crashed session is offered on the next start (:meth:`Autosaver.find_recovery`,
:meth:`Autosaver.recover`). A ``<project>.lock`` file (pid, host) lets a second instance
opening the same project warn before two people overwrite each other.
"""
from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from planner.fileio import atomic_write
from planner.gis.lock import ProjectLock, pid_alive  # noqa: F401  (ProjectLock: one lock for CLI and app)
from planner.model.site import PlannerError, first_line
from planner.settings import data_dir

RECOVERY_DIRNAME = "recovery"
SIDECAR_VERSION = 1


def _host() -> str:
    return socket.gethostname()


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    atomic_write(path, json.dumps(data, indent=1))


@dataclass(frozen=True)
class RecoveryInfo:
    """A recovery copy found on disk."""

    path: Path
    sidecar: Path
    original_path: str | None
    saved_at: str
    pid: int
    host: str
    name: str
    # (size, mtime_ns) of the original file when the recovered edits started from it
    original_stamp: tuple[int, int] | None = None

    @property
    def original_changed(self) -> bool:
        """Whether the original file changed (or vanished) on disk after the edits started from it."""
        if not self.original_path or self.original_stamp is None:
            return False
        from planner.gis.project import file_stamp
        return file_stamp(self.original_path) != self.original_stamp

    def describe(self) -> str:
        """One line for the recovery prompt."""
        where = self.original_path or "an unsaved project"
        note = "; the file changed on disk since" if self.original_changed else ""
        return f"{self.name} ({where}), autosaved {self.saved_at}{note}"


class Autosaver(QObject):
    """Periodic recovery copies of the open project; see the module docstring."""

    saved = Signal(str)   # recovery file path
    failed = Signal(str)  # one-line reason

    def __init__(self, get_project: Callable[[], Any], is_dirty: Callable[[], bool],
                 interval_s: int = 60, directory: Path | None = None,
                 saver: Callable[..., Any] | None = None, opener: Callable[[Path], Any] | None = None,
                 parent: QObject | None = None):
        super().__init__(parent)
        self._get_project = get_project
        self._is_dirty = is_dirty
        self._directory = directory
        self._saver = saver
        self._opener = opener
        self._adopted: list[RecoveryInfo] = []
        self._written: set[Path] = set()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._on_timer_timeout)
        self.set_interval(interval_s)

    # -- configuration ------------------------------------------------------------------
    @property
    def directory(self) -> Path:
        return self._directory or (data_dir() / RECOVERY_DIRNAME)

    def set_interval(self, seconds: int) -> None:
        """Autosave every ``seconds`` (restarts the timer if it runs)."""
        self.interval_s = max(1, int(seconds))
        self._timer.setInterval(self.interval_s * 1000)

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    def _save_fn(self) -> Callable[..., Any]:
        if self._saver is None:
            from planner.gis.project import save_project
            self._saver = save_project
        return self._saver

    def _open_fn(self) -> Callable[[Path], Any]:
        if self._opener is None:
            from planner.gis.project import open_project
            self._opener = open_project
        return self._opener

    # -- saving -------------------------------------------------------------------------
    def _stem(self, project: Any) -> tuple[str, str | None]:
        original = getattr(project, "path", None)
        original_s = str(Path(original).resolve()) if original else None
        key = hashlib.sha1((original_s or f"untitled-{id(project)}").encode()).hexdigest()[:10]
        name = Path(original_s).stem if original_s else "untitled"
        return f"{name}-{os.getpid()}-{key}", original_s

    def _on_timer_timeout(self) -> None:
        try:
            self.save_now()
        except (PlannerError, OSError) as e:  # autosave must never take the session down
            self.failed.emit(f"autosave failed: {first_line(e)}")

    def save_now(self, force: bool = False) -> Path | None:
        """Write a recovery copy if the project has unsaved edits (or ``force``); returns its path."""
        project = self._get_project()
        if project is None or not (force or self._is_dirty()):
            return None
        self.directory.mkdir(parents=True, exist_ok=True)
        stem, original = self._stem(project)
        target = self.directory / f"{stem}.gpkg"
        sidecar = target.with_suffix(".json")
        shadow = copy.copy(project)  # a save must not re-point the open project at the recovery file
        self._save_fn()(shadow, target)
        portfolio = getattr(project, "portfolio", None)
        _write_json_atomic(sidecar, {
            "sidecar_version": SIDECAR_VERSION,
            "original_path": original,
            "saved_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "pid": os.getpid(),
            "host": _host(),
            "name": getattr(portfolio, "name", None) or (Path(original).name if original else "untitled"),
            "recovery_file": target.name,
            "original_stamp": getattr(project, "disk_stamp", None),
        })
        stale = {p for p in self._written if p != target}
        self._written = {target}
        for p in stale:  # the project was renamed (Save As): drop the copy under the old name
            self._remove(p)
        self._drop_adopted()
        self.saved.emit(str(target))
        return target

    def clear(self) -> None:
        """Remove this session's recovery copies (after a clean save or a close)."""
        for p in list(self._written):
            self._remove(p)
        self._written.clear()
        self._drop_adopted()

    def _drop_adopted(self) -> None:
        for info in self._adopted:
            self.discard(info)
        self._adopted.clear()

    @staticmethod
    def _remove(gpkg: Path) -> None:
        for p in (gpkg, gpkg.with_suffix(".json"), Path(f"{gpkg}-journal"), Path(f"{gpkg}-wal"),
                  Path(f"{gpkg}-shm")):
            try:
                p.unlink(missing_ok=True)
            except OSError:
                pass

    # -- recovery -----------------------------------------------------------------------
    def find_recovery(self) -> list[RecoveryInfo]:
        """Recovery copies left by sessions that are no longer running, newest first."""
        found: list[RecoveryInfo] = []
        if not self.directory.is_dir():
            return found
        for sidecar in self.directory.glob("*.json"):
            try:
                meta = json.loads(sidecar.read_text(encoding="utf-8"))
                gpkg = sidecar.with_name(str(meta.get("recovery_file") or sidecar.with_suffix(".gpkg").name))
                pid = int(meta.get("pid", -1))
                host = str(meta.get("host", ""))
                stamp = meta.get("original_stamp")
                stamp = (int(stamp[0]), int(stamp[1])) if isinstance(stamp, list) and len(stamp) == 2 else None
            except (OSError, ValueError, TypeError, AttributeError):
                continue  # unreadable sidecar: not ours to interpret
            if not gpkg.is_file() or gpkg in self._written:
                continue
            if host == _host() and pid_alive(pid):
                continue  # another running instance owns it
            found.append(RecoveryInfo(gpkg, sidecar, meta.get("original_path"), str(meta.get("saved_at", "")),
                                      pid, host, str(meta.get("name") or gpkg.stem), stamp))
        found.sort(key=lambda i: i.saved_at, reverse=True)
        return found

    def recover(self, info: RecoveryInfo | None = None) -> Any:
        """Open a recovery copy as a project pointing at its original path (or untitled).

        The copy stays on disk until this session autosaves or saves cleanly, so a second
        crash loses nothing. Returns the project; the caller marks it as modified.
        """
        if info is None:
            candidates = self.find_recovery()
            if not candidates:
                raise RecoveryError("no recovery copy found; nothing to recover")
            info = candidates[0]
        project = self._open_fn()(info.path)
        try:
            project.path = Path(info.original_path) if info.original_path else None
            # the edits started from this version of the original: a save there checks it is still so
            project.disk_stamp = info.original_stamp
        except AttributeError:  # pragma: no cover - frozen project type
            pass
        self._adopted.append(info)
        return project

    def discard(self, info: RecoveryInfo) -> None:
        """Delete a recovery copy the user declined."""
        self._remove(info.path)
        try:
            info.sidecar.unlink(missing_ok=True)
        except OSError:
            pass


class RecoveryError(PlannerError):
    """Recovery was asked for but there is nothing to recover."""
