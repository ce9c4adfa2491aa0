"""Decoding the JSON files users give the tool, without tracebacks on hostile input.

AWS reads policies as strict JSON (RFC 8259): no NaN or Infinity, and no number too large for
a double either (``1e999`` would read as infinity). Python's decoder recurses once per nesting
level, so a few kilobytes of brackets would end in a RecursionError, and it refuses to convert
an integer of more than 4,300 digits (``sys.get_int_max_str_digits``) with a ValueError.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from remediator.errors import BadInputError


def loads_strict(text: str, name: str, what: str, unique_names: bool = False) -> Any:
    """The decoded JSON of ``text`` (read from ``name``, meant to be ``what``).

    NaN, Infinity, a number out of a double's range, an integer too long to convert and too
    deep nesting are a BadInputError; so is a name given twice in one object, with
    ``unique_names``. A syntax error is left to the caller as json.JSONDecodeError, so each
    command keeps its own wording for it.
    """

    def no_constant(literal: str) -> Any:
        raise BadInputError(f"{name} is not strict JSON: {literal} is not a JSON number")

    def finite(literal: str) -> float:
        number = float(literal)
        if math.isinf(number):
            raise BadInputError(f"{name} is not {what}: the number {_clip(literal)} is too "
                                "large for a JSON number")
        return number

    try:
        return json.loads(text, parse_constant=no_constant, parse_float=finite,
                          object_pairs_hook=_unique_names if unique_names else None)
    except json.JSONDecodeError:
        raise
    except ValueError:  # int(): more digits than sys.get_int_max_str_digits() allows
        raise BadInputError(
            f"{name} is not {what}: it holds an integer too long to read (over "
            f"{sys.get_int_max_str_digits():,} digits)"
        ) from None
    except RecursionError:
        raise BadInputError(f"{name} is nested too deeply to be {what}") from None
    except _RepeatedName as exc:
        raise BadInputError(
            f"{name}: the name {exc.args[0]!r} appears twice in one JSON object, so which "
            "value counts is ambiguous."
        ) from None


def _clip(literal: str) -> str:
    return literal if len(literal) <= 20 else literal[:17] + "..."


class _RepeatedName(Exception):
    pass


def _unique_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _RepeatedName(key)
            seen.add(key)
    return obj
