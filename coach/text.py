"""Text that came from a file, made safe to show: no control characters.

A display name, a path or a message read from a file may hold terminal escapes (``\\x1b[2J``
clears the screen), carriage returns that overwrite a line, or newlines that forge extra
lines of output. Everything coach prints from a file passes through ``printable``.
"""

from __future__ import annotations

import re

#: C0 and C1 control characters and DEL; with ``keep_newlines``, newlines are kept.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_NEWLINE_RE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` without control characters (each becomes a space, so words stay apart)."""
    pattern = _CONTROL_BUT_NEWLINE_RE if keep_newlines else _CONTROL_RE
    return pattern.sub(" ", text)


def has_control(text: str) -> bool:
    """True when ``text`` holds a control character (a newline included)."""
    return _CONTROL_RE.search(text) is not None
