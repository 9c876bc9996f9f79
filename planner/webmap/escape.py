"""Escaping for everything that reaches the map page: HTML text and JSON inside ``<script>``.

Two rules, applied at the boundary so no caller has to remember them:
* text that becomes HTML goes through :func:`esc` (``html.escape`` with quotes);
* data embedded in the page goes through :func:`json_for_script`, which escapes
  ``<``, ``>``, ``&`` and the JS line separators as ``\\uXXXX`` so a value holding
  ``</script>`` or ``<!--`` cannot end the script element.
"""
from __future__ import annotations

import html
import json
import math
import re
from typing import Any

_JSON_UNSAFE = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def esc(value: Any) -> str:
    """HTML-escape ``value`` as text (``None`` becomes the empty string)."""
    if value is None:
        return ""
    return html.escape(str(value), quote=True)


def _clean(obj: Any) -> Any:
    """Replace non-finite floats by None (JSON has no NaN) recursively."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        if all(type(v) is int for v in obj):  # encoded coordinates: long integer lists, nothing to clean
            return obj if isinstance(obj, list) else list(obj)
        return [_clean(v) for v in obj]
    return obj


# keys json.dumps writes differently from str(key) (True -> "true", None -> "null", nan -> "NaN")
_ODD_KEY = re.compile(r'"(?:true|false|null|NaN|-?Infinity)":')


def json_for_script(obj: Any) -> str:
    """Serialise ``obj`` as JSON that is safe inside an HTML ``<script>`` element.

    Non-finite floats become ``null`` and keys ``str(key)``. The data usually has neither, so
    it is dumped as it is first (C encoder, no walk over every value); only when that fails or
    may have written a key differently is it cleaned (:func:`_clean`) and dumped again: the
    same text either way (but for a dict holding both ``1`` and ``"1"``: the key twice, which
    parses to the same object).
    """
    try:
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (ValueError, TypeError):  # a non-finite float, or a key JSON cannot take as it is
        text = None
    if text is None or _ODD_KEY.search(text):
        text = json.dumps(_clean(obj), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, code in _JSON_UNSAFE.items():  # str.replace per character: ~50x faster than translate on MBs
        if char in text:
            text = text.replace(char, code)
    return text
