"""The Qt-free state of an open project: selection, derived numbers, commands, import policy.

Layer order: ``app -> ui -> session -> reports -> plots -> webmap -> gis -> model`` (``cmd``
beside ``ui``). Nothing here imports Qt or ``planner.ui`` (import-linter checks it).
"""
from planner.session.commands import Command, MacroCommand
from planner.session.imports import DEFAULT_POLICY, ImportPlan, prepare_import
from planner.session.session import ProximityJob, Session, is_bundled_sample, writable_project
from planner.session.stack import CommandStack, UndoStack

__all__ = ["DEFAULT_POLICY", "Command", "CommandStack", "ImportPlan", "MacroCommand", "ProximityJob", "Session",
           "UndoStack", "is_bundled_sample", "prepare_import", "writable_project"]
