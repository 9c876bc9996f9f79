"""The Qt-free state of an open project: selection, derived numbers, commands, import policy.

Layer order: ``app -> ui -> session -> reports -> plots -> webmap -> gis -> model`` (``cmd``
beside ``ui``). Nothing here imports Qt or ``planner.ui`` (import-linter checks it).
"""
from planner.session.commands import Command, MacroCommand
from planner.session.imports import ImportPlan, ImportPolicy, prepare_import, rename_duplicates
from planner.session.session import ProximityJob, Session, is_bundled_sample, writable_project
from planner.session.stack import CommandStack, UndoStack

__all__ = ["Command", "CommandStack", "ImportPlan", "ImportPolicy", "MacroCommand", "ProximityJob", "Session",
           "UndoStack", "is_bundled_sample", "prepare_import", "rename_duplicates", "writable_project"]
