"""The site counts at the right of the status bar, which make room for a message on the left.

QStatusBar draws its message in the space left of its permanent widgets and cuts it there: at
1366x768 a refusal ("energized_mw: -5 MW is below ...") ended mid-word where "40 sites · 2
convertible (decided) · 38 undecided (38 lean convertible) · 9 layers" began. While a message shows,
the counts shrink to their first part (the full line in their tooltip); a message still too long for
the bar is in the bar's tooltip in full.
"""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar

#: Pixels QStatusBar keeps free around its message and between it and the permanent widgets.
_BAR_MARGINS_PX = 24


class StatusCounts(QLabel):
    """A permanent status-bar label with a full and a short text; the short one while a message shows."""

    def __init__(self, bar: QStatusBar):
        super().__init__(bar)
        self.setObjectName("statusCounts")
        self._bar = bar
        self._full = ""
        self._short = ""
        bar.addPermanentWidget(self)
        bar.messageChanged.connect(self._on_bar_message_changed)

    def set_counts(self, full: str, short: str) -> None:
        """Show ``full`` (``short`` while the status bar shows a message)."""
        self._full, self._short = full, short
        self._on_bar_message_changed(self._bar.currentMessage())

    def full_text(self) -> str:
        """The whole counts line, also while the label shows its short form."""
        return self._full

    def _on_bar_message_changed(self, message: str) -> None:
        compact = bool(message) and self._needs_room(message, self._full)
        self.setText(self._short if compact else self._full)
        self.setToolTip(self._full if compact else "")
        cut = bool(message) and self._needs_room(message, self.text())
        self._bar.setToolTip(message if cut else "")

    def _needs_room(self, message: str, beside: str) -> bool:
        """Whether ``message`` is wider than the bar leaves it beside counts reading ``beside``."""
        fm = self._bar.fontMetrics()
        room = self._bar.width() - _BAR_MARGINS_PX - (self.fontMetrics().horizontalAdvance(beside) if beside else 0)
        return fm.horizontalAdvance(message) > room
