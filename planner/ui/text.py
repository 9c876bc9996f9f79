"""Qt text helpers: user data reaches widgets as plain text only.

Qt guesses whether a tooltip or label is rich text (``Qt::mightBeRichText``); a site name such
as ``<img src=x onerror=...>`` would then be rendered as HTML. Tooltips therefore go through
:func:`plain_tooltip`, and labels that show user data set ``Qt.TextFormat.PlainText``.
"""
from __future__ import annotations

import re
from typing import Any

from PySide6.QtGui import Qt

from planner.model.fields import FIELDS, humanize_field_names
from planner.model.site import SiteError


def plain_tooltip(text: str | None) -> str:
    """A tooltip that shows ``text`` literally (escaped and wrapped in a paragraph)."""
    return Qt.convertFromPlainText(text or "") if text else ""


_BIG_NUMBER = re.compile(r"(?<![\d.,])(\d{5,})(\.\d+)?(?![\d])")


def humanize(text: str) -> str:
    """Field names (``power_capacity_mw``) become their labels and long numbers get thousands separators."""
    text = humanize_field_names(text)
    return _BIG_NUMBER.sub(lambda m: f"{int(m.group(1)):,d}{m.group(2) or ''}", text)


def _shown_value(name: str, value: Any) -> str:
    fs = FIELDS.get(name)
    if value is None or fs is None:
        return "an empty value" if value is None else repr(value)[:60]
    if fs.kind in ("float", "int") and isinstance(value, (int, float)) and not isinstance(value, bool):
        unit = f" {fs.unit}" if fs.unit and fs.unit not in ("count", "deg") else ""
        return f"{value:,.10g}{unit}"
    text = str(value)
    return f"\u201c{text[:57]}\u2026\u201d" if len(text) > 60 else f"\u201c{text}\u201d"


def user_message(e: BaseException) -> str:
    """A refusal in the user's words: the field's label, the value as entered, the rule and the fix.

    ``Energized (MW) of CORZ-DEN: -5 MW is below the minimum 0 MW (negative values are not
    allowed). Enter a value between 0 and 10,000 MW.``  Other errors give their first line.
    """
    if not isinstance(e, SiteError):
        text = str(e).strip()
        return humanize(text.splitlines()[0]) if text else type(e).__name__
    fs = FIELDS.get(e.field)
    label = fs.label_with_unit if fs else e.field
    who = f" of {e.site_id}" if e.site_id else ""
    rule = humanize(e.rule)
    fix = humanize(e.fix).rstrip(".")
    if fs is not None and fs.kind == "enum" and fix.startswith("Choose one of"):
        fix = "Choose one of: " + ", ".join(c.replace("_", " ") for c in fs.choices)
    if e.value is None and rule.startswith("is "):
        text = f"{label}{who} {rule}"  # "Name of X is required"
    elif re.search(rf"\b{re.escape(e.field)}\b", e.rule):
        text = f"{label}{who}: {rule[:1].upper()}{rule[1:]}"  # the rule names the fields (cross-field checks)
    elif rule.startswith(("is ", "must ", "has ", "cannot ")):
        text = f"{label}{who}: {_shown_value(e.field, e.value)} {rule}"
    else:
        text = f"{label}{who}: {_shown_value(e.field, e.value)}: {rule}"
    return text + (f". {fix}." if fix else ("" if text.endswith(".") else "."))
