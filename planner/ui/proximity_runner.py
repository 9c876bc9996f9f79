"""Runs the session's queued proximity on the window's task runner whenever it is idle.

The session queues work (a layer added, the proximity settings changed, a site moved while a
worker was busy); this object starts one job over a snapshot at the next idle turn, and the
session stores the result when it comes back by signal. At most one task runs at a time.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from planner.model.site import first_line
from planner.session import Session
from planner.ui.workers import TaskCancelled, TaskRunner

LABEL = "Measuring distances to grid, fibre and stranded energy"


class ProximityRunner(QObject):
    """Drains ``session``'s proximity queue through ``tasks``; messages go to ``status``/``error``."""

    def __init__(self, session: Session, tasks: TaskRunner, status: Callable[[str], None],
                 error: Callable[[str, str], None], parent: QObject | None = None):
        super().__init__(parent)
        self.session, self.tasks = session, tasks
        self._status, self._error = status, error
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._on_timer_timeout)
        session.proximity_queued.connect(self._on_session_proximity_queued)
        tasks.busy_changed.connect(self._on_tasks_busy_changed)

    def stop(self) -> None:
        self._timer.stop()

    def _on_session_proximity_queued(self) -> None:
        self._timer.start()

    def _on_tasks_busy_changed(self, busy: bool) -> None:
        self.session.worker_active = busy
        if not busy and self.session.proximity_pending:
            self._timer.start()

    def _on_timer_timeout(self) -> None:
        if self.tasks.busy:
            return  # starts again when the running task is done (busy_changed)
        job = self.session.take_proximity_job()
        if job is not None:
            self.tasks.start(LABEL, job, on_done=self.session.apply_proximity, on_error=self._on_job_failed)

    def _on_job_failed(self, e: BaseException) -> None:
        if isinstance(e, TaskCancelled):
            self._status("Proximity cancelled; distances may be out of date")
        else:
            self._error("Proximity failed", first_line(e))
