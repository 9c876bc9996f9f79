"""Worker tasks hand their result back to the GUI thread, and never to a Qt object deleted meanwhile."""
from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QObject

from planner.ui.workers import start_task

pytestmark = pytest.mark.gui


class Receiver(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.got: list = []

    def on_done(self, result) -> None:
        self.objectName()  # a deleted receiver raises RuntimeError here (what a closed panel's label did)
        self.got.append(result)

    def on_error(self, error) -> None:
        self.objectName()
        self.got.append(error)


def _job(gate: threading.Event, fail: bool, progress=None):
    gate.wait(10)
    if fail:
        raise ValueError("bad input")
    return 42


@pytest.mark.parametrize("fail", [False, True])
def test_results_reach_a_live_receiver_and_skip_a_deleted_one(qtbot, fail):
    live, gone = Receiver(), Receiver()
    gates = [threading.Event(), threading.Event()]
    tasks = [start_task(_job, gate, fail, on_success=r.on_done, on_error=r.on_error) for gate, r in zip(gates, (live, gone))]
    gone.deleteLater()  # the window closed while its task ran
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    for gate in gates:
        gate.set()
    qtbot.waitUntil(lambda: all(t.delivered for t in tasks), timeout=10000)
    assert len(live.got) == 1 and (isinstance(live.got[0], ValueError) if fail else live.got[0] == 42)
