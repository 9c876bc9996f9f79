"""One lock per project file, shared by the command line and the app (no Qt).

``<project>.gpkg.lock`` sits next to the real project file (symlinks resolved). Exclusion comes from
an OS file lock on it (``flock`` on POSIX), which the kernel drops when the holder dies, so a lock
left by a crashed or killed process is never in force: stale locks need no guessing. The file's text
is JSON naming the holder (program, pid, host, user, since) so a refused writer can say who holds it.
Where ``flock`` is missing (Windows) the JSON alone is used: a lock whose process is gone on this
host is stale.

- The app holds the lock while a project is open (:class:`ProjectLock`).
- A CLI write takes it around read-modify-write (:func:`write_lock`); when another CLI process holds
  it, it waits up to ``wait_s`` (two imports at once run one after the other, both land); when the
  app holds it, it refuses at once with one line naming the holder.
- :func:`planner.gis.project.save_project` takes it for the save unless this process already holds it.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from planner.model.site import PlannerError

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_SUFFIX = ".lock"
APP_PROGRAM = "planner app"
# real project path -> the lock objects of this process holding it (windows of one process share it;
# the first one owns the OS lock and hands it on when released)
_HELD: dict[str, list["ProjectLock"]] = {}


class ProjectLockedError(PlannerError):
    """Another planner holds the project's lock; the message names it."""

    def __init__(self, message: str, owner: dict[str, Any]):
        super().__init__(message)
        self.owner = owner


def _host() -> str:
    return socket.gethostname()


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name (container without passwd entry)
        return str(os.getuid()) if hasattr(os, "getuid") else "?"


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this host (conservatively True when unknowable)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill would terminate the process on Windows: assume alive
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def real_project_path(project_path: str | os.PathLike[str]) -> Path:
    """The file a project path really names (symlinks resolved, also when the file does not exist yet)."""
    return Path(os.path.realpath(os.fspath(project_path)))


def held_here(project_path: str | os.PathLike[str]) -> bool:
    """Whether this process holds the lock of ``project_path``."""
    return str(real_project_path(project_path)) in _HELD


class ProjectLock:
    """The lock of one project file; see the module docstring."""

    def __init__(self, project_path: Path | str, program: str = APP_PROGRAM):
        self.project_path = Path(project_path)
        real = real_project_path(project_path)
        self._key = str(real)
        self.path = real.with_name(real.name + LOCK_SUFFIX)
        self.program = program
        self.held = False
        self._fd: int | None = None

    # -- reading ---------------------------------------------------------------------------
    def read(self) -> dict[str, Any] | None:
        """The holder record in the lock file (None: no file or not a JSON object)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else None
        except (OSError, ValueError):
            return None

    def _os_locked_by_other(self) -> bool:
        """Whether another open file description holds the OS lock (POSIX)."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return True
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        finally:
            os.close(fd)

    def other_owner(self) -> dict[str, Any] | None:
        """The holder when another live process holds the lock, else None (free, ours or stale)."""
        if self.held or self._key in _HELD:  # this process holds it (maybe through another object)
            return None
        if fcntl is not None:
            if not self._os_locked_by_other():
                return None
            data = self.read() or {}
            return {"pid": data.get("pid", "?"), "host": data.get("host", "?"), **data}
        data = self.read()  # pragma: no cover - Windows: JSON only
        if data is None:
            return None
        try:
            pid, host = int(data.get("pid", -1)), str(data.get("host", ""))
        except (TypeError, ValueError):
            return None
        if host == _host() and (pid == os.getpid() or not pid_alive(pid)):
            return None
        return data

    # -- taking and releasing -----------------------------------------------------------------
    def _record(self) -> bytes:
        return json.dumps({"program": self.program, "pid": os.getpid(), "host": _host(), "user": _user(),
                           "since": dt.datetime.now().astimezone().isoformat(timespec="seconds")}).encode()

    def _lock_mode(self) -> int:
        """The project's permission bits (a private project gets a private lock), else 0o644."""
        try:
            return os.stat(self._key).st_mode & 0o666
        except OSError:
            return 0o644

    def try_acquire(self) -> dict[str, Any] | None:
        """Take the lock; returns None on success, else the holder (or ``{"error": ...}`` when the
        folder does not allow a lock file, e.g. a read-only folder)."""
        if self.held:
            return None
        if _HELD.get(self._key):  # another object of this process holds it: share
            _HELD[self._key].append(self)
            self.held = True
            return None
        if fcntl is None:  # pragma: no cover - Windows
            owner = self.other_owner()
            if owner is not None:
                return owner
            try:
                self.path.write_bytes(self._record())
            except OSError as e:
                return {"error": e.strerror or str(e)}
            self.held = True
            _HELD[self._key] = [self]
            return None
        for _ in range(20):  # retry when the file was replaced between open and lock
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, self._lock_mode())
            except OSError as e:
                return {"error": e.strerror or str(e)}
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                data = self.read() or {}
                return {"pid": data.get("pid", "?"), "host": data.get("host", "?"), **data}
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except OSError:
                same = False
            if not same:  # the previous holder removed the file after we opened it: try the new one
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.pwrite(fd, self._record(), 0)
            self._fd = fd
            self.held = True
            _HELD[self._key] = [self]
            return None
        return {"error": "the lock file keeps changing"}  # pragma: no cover

    def acquire(self) -> bool:
        """Take the lock; False when another process holds it or the folder is read-only."""
        return self.try_acquire() is None

    def acquire_or_raise(self, wait_s: float = 0.0, purpose: str = "change it") -> None:
        """Take the lock, waiting up to ``wait_s`` while another *command-line* process holds it.

        Raises :class:`ProjectLockedError` naming the holder (at once when the holder is the app,
        which keeps the lock for a whole session).
        """
        deadline = time.monotonic() + max(0.0, wait_s)
        delay = 0.05
        while True:
            owner = self.try_acquire()
            if owner is None:
                return
            if "error" in owner:
                raise ProjectLockedError(f"{self.project_path.name}: cannot create the lock file {self.path.name} "
                                         f"({owner['error']}); the folder must be writable to {purpose}", owner)
            if owner.get("program") == APP_PROGRAM or time.monotonic() >= deadline:
                raise ProjectLockedError(f"{self.project_path.name} is locked by {self.describe(owner)}; "
                                         f"close it there (or wait) and try again to {purpose}", owner)
            time.sleep(delay)
            delay = min(0.5, delay * 1.5)

    def release(self) -> None:
        """Give the lock up and remove the lock file (if it is still ours)."""
        if not self.held:
            return
        self.held = False
        holders = _HELD.get(self._key, [])
        if self in holders:
            holders.remove(self)
        if holders:  # others in this process still hold it: hand the OS lock on
            holders[0]._fd, self._fd = (holders[0]._fd if holders[0]._fd is not None else self._fd), None
            return
        _HELD.pop(self._key, None)
        if fcntl is None:  # pragma: no cover - Windows
            data = self.read()
            if data is not None and data.get("pid") == os.getpid() and data.get("host") == _host():
                with contextlib.suppress(OSError):
                    self.path.unlink()
            return
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            with contextlib.suppress(OSError):
                if os.fstat(fd).st_ino == os.stat(self.path).st_ino:
                    self.path.unlink()  # still holding the lock: nobody can have taken this file
        finally:
            os.close(fd)

    def __enter__(self) -> "ProjectLock":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()

    @staticmethod
    def describe(owner: dict[str, Any]) -> str:
        """E.g. ``planner app (user ana, process 412 on ws-3, since 2026-11-30T09:12:00+00:00)``."""
        program = owner.get("program") or "another planner"
        user = f"user {owner['user']}, " if owner.get("user") else ""
        return (f"{program} ({user}process {owner.get('pid')} on {owner.get('host')}, "
                f"since {owner.get('since', 'an unknown time')})")


@contextlib.contextmanager
def write_lock(project_path: str | os.PathLike[str], program: str, wait_s: float = 0.0,
               purpose: str = "change it") -> Iterator[ProjectLock | None]:
    """Hold the project's lock for a read-modify-write (a no-op when this process holds it already)."""
    if held_here(project_path):
        yield None
        return
    lock = ProjectLock(Path(project_path), program=program)
    lock.acquire_or_raise(wait_s, purpose)
    try:
        yield lock
    finally:
        lock.release()
