"""Decoding the JSON files users give the tool, without tracebacks on hostile input.

AWS reads policies as strict JSON (RFC 8259): no NaN or Infinity. Python's decoder recurses
once per nesting level, so a few kilobytes of brackets would end in a RecursionError.
"""

from __future__ import annotations

import json
from typing import Any

from remediator.errors import BadInputError


def loads_strict(text: str, name: str, what: str) -> Any:
    """The decoded JSON of ``text`` (read from ``name``, meant to be ``what``).

    NaN, Infinity and too deep nesting are a BadInputError; a syntax error is left to the
    caller as json.JSONDecodeError, so each command keeps its own wording for it.
    """

    def no_constant(literal: str) -> Any:
        raise BadInputError(f"{name} is not strict JSON: {literal} is not a JSON number")

    try:
        return json.loads(text, parse_constant=no_constant)
    except RecursionError:
        raise BadInputError(f"{name} is nested too deeply to be {what}") from None
