"""Run long pure functions (imports, proximity, report batches) off the GUI thread.

The function takes a ``progress`` callback (0..1). It runs on a worker thread; the GUI
shows a QProgressDialog with Cancel. Cancelling sets a flag that the next
``progress`` call turns into :class:`TaskCancelled` inside the worker, so the pure
function stops at its next checkpoint without knowing about Qt. Workers never touch
widgets: they only emit signals that the GUI thread receives.

Why a Python ``ThreadPoolExecutor`` and not ``QThreadPool``: with PySide6 6.12 and pyproj
3.7, building a pyproj CRS (which every geopandas read does) in a QThreadPool thread
segfaults on the second task (reproduced: two ``read_layer`` calls in a row). The same
code on Python-created threads is stable, and Qt signals emitted from them are still
delivered to the GUI thread by queued connection.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import shiboken6
from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer, Signal
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
        except BaseException as e:  # handed to the GUI thread, re-raised there
            self.error = e.with_traceback(None)
        else:
            self.result = result
        finally:
            self.done.set()
            self.signals.finished.emit()


def start_task(fn: Callable[..., Any], *args: Any, on_success: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None,
               on_progress: Progress | None = None, executor: ThreadPoolExecutor | None = None,
               **kwargs: Any) -> Task:
    """Start ``fn`` on a worker thread and return the task; callbacks run in the GUI thread."""
    task = Task(fn, *args, **kwargs)

    def deliver() -> None:
        if task.error is not None:
            if on_error:
                on_error(task.error)
        elif on_success:
            on_success(task.result)

    task.signals.finished.connect(deliver, Qt.ConnectionType.QueuedConnection)
    if on_progress:
        task.signals.progress.connect(on_progress, Qt.ConnectionType.QueuedConnection)
    (executor or _executor()).submit(task.run)
    return task


def run_with_progress(parent: QWidget | None, label: str, fn: Callable[..., Any], *args: Any,
                      min_duration_ms: int = 400, **kwargs: Any) -> Any:
    """Run ``fn`` in a worker with a modal progress dialog; return its result or raise its error.

    Cancel raises :class:`TaskCancelled` here (and inside the worker). The caller applies the
    result to the store afterwards, in the GUI thread, so a failed or cancelled task leaves the
    project untouched.
    """
    dialog = QProgressDialog(label, "Cancel", 0, _SCALE, parent)
    dialog.setWindowTitle(label)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(min_duration_ms)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    dialog.setValue(0)
    loop = QEventLoop()
    outcome: dict[str, Any] = {}
    alive = {"dialog": True}

    def ok(result: Any) -> None:
        outcome["result"] = result
        loop.quit()

    def bad(error: BaseException) -> None:
        outcome["error"] = error
        loop.quit()

    def step(fraction: float) -> None:
        if alive["dialog"] and not dialog.wasCanceled():
            dialog.setValue(max(0, min(_SCALE, int(fraction * _SCALE))))

    def gone() -> None:  # the parent window closed under us: stop the work, keep waiting for it
        alive["dialog"] = False
        task.cancel()

    def poll() -> None:
        # polled rather than connected to ``canceled``: with PySide6 6.12 that connection
        # corrupted refcounts while the worker thread ran (bool_dealloc abort, reproduced)
        if alive["dialog"] and dialog.wasCanceled():
            task.cancel()

    task = start_task(fn, *args, on_success=ok, on_error=bad, on_progress=step, **kwargs)
    dialog.destroyed.connect(gone)
    timer = QTimer()
    timer.setInterval(50)
    timer.timeout.connect(poll)
    timer.start()
    # a task that finishes before exec() has already queued its result event for this loop
    loop.exec()
    timer.stop()
    alive_now = alive["dialog"] and shiboken6.isValid(dialog)
    alive["dialog"] = False  # late progress events are ignored
    if alive_now:
        dialog.destroyed.disconnect(gone)
        dialog.close()
        dialog.deleteLater()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")
