"""Run long pure functions (imports, proximity, exports, screening) off the GUI thread.

The function takes a ``progress`` callback (0..1) and runs on a worker thread; its result or
error comes back to the GUI thread by a queued Qt signal and is handed to the caller's
``on_done`` / ``on_error`` callbacks (the pattern of Orange's ``ConcurrentWidgetMixin``).
Nothing waits in a nested event loop, so no code path can re-enter an undo command or a
handler while a task runs.

:class:`TaskRunner` runs one task at a time for a window (later ones wait in a queue: the
layers' pyproj/GEOS objects are not shared between threads), shows a progress dialog with
Cancel and says when it is idle again. Cancelling sets a flag that the next ``progress``
call turns into :class:`TaskCancelled` inside the worker, so the pure function stops at its
next checkpoint without knowing about Qt.

Why a Python ``ThreadPoolExecutor`` and not ``QThreadPool``: with PySide6 6.12 and pyproj
3.7, building a pyproj CRS (which every geopandas read does) in a QThreadPool thread
segfaults on the second task (reproduced: two ``read_layer`` calls in a row). The same
code on Python-created threads is stable, and Qt signals emitted from them are still
delivered to the GUI thread by queued connection.
"""
from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from planner.model.site import PlannerError

Progress = Callable[[float], None]
_SCALE = 1000  # QProgressDialog works in ints
_EXECUTOR: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _EXECUTOR
    if _EXECUTOR is None:
        _EXECUTOR = ThreadPoolExecutor(max_workers=2, thread_name_prefix="planner-worker")
    return _EXECUTOR


class TaskCancelled(PlannerError):
    """The user pressed Cancel; nothing was changed."""


class _Signals(QObject):
    progress = Signal(float)
    finished = Signal()  # outcome is read from the Task: no Python objects cross threads in signals


class Task:
    """``fn(*args, progress=..., **kwargs)`` to run on a worker thread; results arrive by signal."""

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any):
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.signals = _Signals()
        self._cancel = threading.Event()
        self.done = threading.Event()
        #: set in the GUI thread once the callbacks ran (tests wait on it)
        self.delivered = False
        self.result: Any = None
        self.error: BaseException | None = None

    def cancel(self) -> None:
        """Ask the function to stop at its next progress call."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def _progress(self, fraction: float) -> None:
        if self._cancel.is_set():
            raise TaskCancelled("cancelled by the user; nothing was changed")
        self.signals.progress.emit(float(fraction))

    def run(self) -> None:
        try:
            result = self.fn(*self.args, progress=self._progress, **self.kwargs)
            if self._cancel.is_set():
                raise TaskCancelled("cancelled by the user; nothing was changed")
        except BaseException as e:  # handed to the GUI thread, given to on_error there
            self.error = e.with_traceback(None)
        else:
            self.result = result
        finally:
            self.done.set()
            self.signals.finished.emit()


def _owner_alive(callback: Callable[..., Any]) -> bool:
    """False when ``callback`` is a bound method of a Qt object whose C++ side is gone."""
    owner = getattr(callback, "__self__", None)
    return not isinstance(owner, QObject) or shiboken6.isValid(owner)


def start_task(fn: Callable[..., Any], *args: Any, on_success: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None,
               on_progress: Progress | None = None, executor: ThreadPoolExecutor | None = None,
               **kwargs: Any) -> Task:
    """Start ``fn`` on a worker thread and return the task; callbacks run in the GUI thread.

    A callback that is a method of a Qt object deleted meanwhile (a panel whose window closed
    while its sensitivity ran) is not called.
    """
    task = Task(fn, *args, **kwargs)

    def deliver() -> None:
        task.delivered = True
        callback = on_error if task.error is not None else on_success
        if callback is None or not _owner_alive(callback):
            return
        callback(task.error if task.error is not None else task.result)

    task.signals.finished.connect(deliver, Qt.ConnectionType.QueuedConnection)
    if on_progress:
        task.signals.progress.connect(on_progress, Qt.ConnectionType.QueuedConnection)
    (executor or _executor()).submit(task.run)
    return task


Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


@dataclass
class _Request:
    label: str
    task: Task
    on_done: Done
    on_error: Failed | None


class TaskRunner(QObject):
    """One task at a time for ``parent``, with a progress dialog; results by callbacks.

    ``start()`` returns the :class:`Task` at once; ``on_done(result)`` or ``on_error(error)``
    run later in the GUI thread (``TaskCancelled`` for Cancel). A task started while another
    runs waits its turn. ``busy_changed(bool)`` tells when work starts and when all is done.
    """

    busy_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None, min_duration_ms: int = 400):
        super().__init__(parent)
        self._widget = parent
        self.min_duration_ms = min_duration_ms
        self._queue: deque[_Request] = deque()
        self._current: _Request | None = None
        self._dialog: QProgressDialog | None = None
        self._poll = QTimer(self)
        self._poll.setInterval(50)
        self._poll.timeout.connect(self._on_poll_timeout)

    @property
    def busy(self) -> bool:
        return self._current is not None

    @property
    def current(self) -> Task | None:
        return self._current.task if self._current is not None else None

    def start(self, label: str, fn: Callable[..., Any], *args: Any, on_done: Done,
              on_error: Failed | None = None, **kwargs: Any) -> Task:
        """Queue ``fn(*args, progress=..., **kwargs)``; returns its task (not started yet if busy)."""
        req = _Request(label, Task(fn, *args, **kwargs), on_done, on_error)
        self._queue.append(req)
        if self._current is None:
            self._next()
        return req.task

    def cancel_all(self) -> None:
        """Cancel the running task and drop the waiting ones (a closing window)."""
        for req in self._queue:
            req.task.cancel()
        self._queue.clear()
        if self._current is not None:
            self._current.task.cancel()

    def _next(self) -> None:
        was_busy = self._current is not None
        self._current = self._queue.popleft() if self._queue else None
        if self._current is None:
            if was_busy:
                self.busy_changed.emit(False)
            return
        if not was_busy:
            self.busy_changed.emit(True)
        req = self._current
        self._dialog = self._make_dialog(req.label)
        req.task.signals.progress.connect(self._on_task_progress, Qt.ConnectionType.QueuedConnection)
        req.task.signals.finished.connect(self._on_task_finished, Qt.ConnectionType.QueuedConnection)
        self._poll.start()
        _executor().submit(req.task.run)

    def _make_dialog(self, label: str) -> QProgressDialog:
        dialog = QProgressDialog(label, "Cancel", 0, _SCALE, self._widget)
        dialog.setWindowTitle(label)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(self.min_duration_ms)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setValue(0)
        return dialog

    def _on_poll_timeout(self) -> None:
        # polled rather than connected to ``canceled``: with PySide6 6.12 that connection
        # corrupted refcounts while the worker thread ran (bool_dealloc abort, reproduced)
        d = self._dialog
        if self._current is not None and d is not None and shiboken6.isValid(d) and d.wasCanceled():
            self._current.task.cancel()

    def _on_task_progress(self, fraction: float) -> None:
        d = self._dialog
        if d is not None and shiboken6.isValid(d) and not d.wasCanceled():
            d.setValue(max(0, min(_SCALE, int(fraction * _SCALE))))

    def _on_task_finished(self) -> None:
        req = self._current
        if req is None:
            return
        self._poll.stop()
        d, self._dialog = self._dialog, None
        if d is not None and shiboken6.isValid(d):
            d.close()
            d.deleteLater()
        task = req.task
        task.delivered = True
        try:
            if task.error is None:
                req.on_done(task.result)
            elif req.on_error is not None:
                req.on_error(task.error)
        finally:
            self._next()
