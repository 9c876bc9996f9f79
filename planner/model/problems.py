"""Problems found in a project's data: a row that opened but breaks a rule, with the fix.

A project opens even when some rows are invalid (a point digitised in QGIS with only a name, a
copy-pasted feature, a rating of 7). Each such value becomes a :class:`Problem` on
``project.problems``; the CLI prints them and the app lists them. Pure Python, no Qt.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One broken rule. ``site_id`` is the ID the site has in the planner (maybe generated);
    ``row`` the 1-based row in the file; ``value`` what the file holds; ``rule`` what is wrong;
    ``fix`` what to do. ``placeholder`` is the value the planner uses meanwhile; while the site
    still has it, a save writes ``value`` back (``keep_value``) so nothing the file held is lost."""

    site_id: str | None
    field: str
    value: Any
    rule: str
    fix: str = ""
    row: int | None = None
    table: str = "sites"
    placeholder: Any = None
    keep_value: bool = False

    def describe(self) -> str:
        """One line: ``sites row 3 (TX-1): labour_rating = 7: is above the maximum 5. Enter ...``."""
        where = f"{self.table} row {self.row}" if self.row is not None else self.table
        who = f" ({self.site_id})" if self.site_id else ""
        shown = repr(self.value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        text = f"{where}{who}: {self.field} = {shown}: {self.rule}"
        return text + (f". {self.fix}" if self.fix else "")

    def is_open(self, current: Any) -> bool:
        """Whether the problem still stands given the site's current value of ``field``."""
        return bool(current == self.placeholder)
