"""A pure-Python undo stack for :class:`~planner.session.commands.Command` (CLI, tests, no Qt).

The app uses Qt's ``QUndoStack`` through ``planner.ui.commands.QtUndoAdapter`` instead (undo
actions, clean state for the title's ``*``); both honour the same command contract.
"""
from __future__ import annotations

from typing import Protocol

from planner.session.commands import Command


class UndoStack(Protocol):
    """What a :class:`~planner.session.session.Session` needs from an undo stack."""

    def push(self, command: Command) -> None:
        """Do ``command`` and record it (possibly merged into the previous one)."""


class CommandStack:
    """Do/undo/redo with merging of bursts; ``clean`` marks the saved state."""

    def __init__(self) -> None:
        self._done: list[Command] = []
        self._undone: list[Command] = []
        self._clean_index: int | None = 0

    def push(self, command: Command) -> None:
        command.do()
        self._undone.clear()
        if self._clean_index is not None and self._clean_index > len(self._done):
            self._clean_index = None  # the saved state was in the redo branch: unreachable now
        prev = self._done[-1] if self._done and len(self._done) != self._clean_index else None
        if prev is not None and prev.merge(command):
            if prev.obsolete:
                self._done.pop()
            return
        self._done.append(command)

    def undo(self) -> None:
        if self._done:
            c = self._done.pop()
            c.undo()
            self._undone.append(c)

    def redo(self) -> None:
        if self._undone:
            c = self._undone.pop()
            c.do()
            self._done.append(c)

    def can_undo(self) -> bool:
        return bool(self._done)

    def can_redo(self) -> bool:
        return bool(self._undone)

    def count(self) -> int:
        return len(self._done) + len(self._undone)

    def index(self) -> int:
        return len(self._done)

    def set_clean(self) -> None:
        self._clean_index = len(self._done)

    def is_clean(self) -> bool:
        return self._clean_index == len(self._done)

    def clear(self) -> None:
        self._done.clear()
        self._undone.clear()
        self._clean_index = 0
