"""User text made safe to print on a terminal.

Sids, principals, ARNs and reasons come from policies and AWS error messages: a Sid holding
``ESC [2J`` would clear the reviewer's screen, ``ESC ]0;...`` retitle the window, a newline or
U+2028 forge a table row, and U+202E reverse what follows. rich's Text drops carriage returns
and BEL but passes ESC through. Every character Python does not call printable (controls,
format characters such as bidirectional overrides, line and paragraph separators, unassigned
code points) is shown escaped as in a Python string literal: ``\\x1b``, ``\\n``, ``\\u202e``.
JSON output needs none of this: json escapes control characters itself.
"""

from __future__ import annotations


def printable(text: str) -> str:
    """``text`` with every non-printable character escaped (the space stays a space)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else _escaped(c) for c in text)


def _escaped(c: str) -> str:
    code = ord(c)
    if c in "\n\r\t":
        return repr(c)[1:-1]
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
