"""JSON from outside, bounded before it is parsed: depth and size, and text PostgreSQL can store.

Python's json module recurses once per nesting level: 500 levels of ``[`` crash it with a
RecursionError (a 500), and a checker that walks the parsed value recursively crashes at fewer.
Every place JSON comes in (the API, the public request endpoint, webhooks) asks here first. The
depth is counted on the raw bytes, outside strings, in one pass of a regular expression, so a
hostile body costs linear time and no recursion at all.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.utils.translation import gettext as _

# Relata's own payloads nest at most 4 levels (a deal with items with custom fields); 32 leaves
# room for any integration's metadata and stays far below what the parser survives.
MAX_DEPTH = 32
MAX_BYTES = 1024 * 1024

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")


class UnacceptableJSONError(ValueError):
    """The body is not JSON this service takes; ``code`` says why, for the error answer."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def nesting_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in the raw JSON text (strings skipped)."""
    depth = deepest = 0
    for bracket in _BRACKET.finditer(_STRING.sub(b'""', raw)):
        if bracket.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def storable(value: Any) -> bool:
    """Whether every text in the value can be stored: PostgreSQL takes no NUL in text, and a
    lone surrogate ("\\ud800") has no UTF-8 form. Walks without recursion."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return False
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


def check(raw: bytes, *, max_depth: int = MAX_DEPTH, max_bytes: int = MAX_BYTES) -> None:
    """Refuse a body too large or too deep before any parser sees it."""
    if len(raw) > max_bytes:
        raise UnacceptableJSONError(
            "too_large", _("The body is larger than %(limit)d bytes.") % {"limit": max_bytes}
        )
    if nesting_depth(raw) > max_depth:
        raise UnacceptableJSONError(
            "too_deep", _("The JSON is nested deeper than %(limit)d levels.") % {"limit": max_depth}
        )


def loads(raw: bytes, *, max_depth: int = MAX_DEPTH, max_bytes: int = MAX_BYTES) -> Any:
    """Parse JSON from outside within the bounds; UnacceptableJSONError for anything refused."""
    check(raw, max_depth=max_depth, max_bytes=max_bytes)
    try:
        # ValueError also covers an integer too long to convert (Python's digit limit).
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise UnacceptableJSONError("bad_json", _("The body is not valid JSON.")) from exc
    if not storable(data):
        raise UnacceptableJSONError(
            "bad_text", _("Text may not contain NUL characters or unpaired surrogates.")
        )
    return data
