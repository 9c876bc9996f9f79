"""Qt text helpers: user data reaches widgets as plain text only.

Qt guesses whether a tooltip or label is rich text (``Qt::mightBeRichText``); a site name such
as ``<img src=x onerror=...>`` would then be rendered as HTML. Tooltips therefore go through
:func:`plain_tooltip`, and labels that show user data set ``Qt.TextFormat.PlainText``.
"""
from __future__ import annotations

from PySide6.QtGui import Qt


def plain_tooltip(text: str | None) -> str:
    """A tooltip that shows ``text`` literally (escaped and wrapped in a paragraph)."""
    return Qt.convertFromPlainText(text or "") if text else ""
