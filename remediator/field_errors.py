"""Turn a pydantic ValidationError into one sentence that names the file, the field and the rule.

Shared by the config and snapshot loaders so every input file fails the same way:
``config.yaml: accounts[0].id: expected a 12-digit AWS account id, got '1234'.``
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

_EXPECTED_BY_TYPE = {
    "missing": "is required",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "string_type": "expected a string",
    "list_type": "expected a list",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
    "date_type": "expected a date as YYYY-MM-DD",
    "date_parsing": "expected a date as YYYY-MM-DD",
    "date_from_datetime_parsing": "expected a valid date as YYYY-MM-DD",
    "date_from_datetime_inexact": "expected a date as YYYY-MM-DD without a time",
    "too_short": "expected at least one entry",
}


def format_loc(loc: Sequence[int | str]) -> str:
    """``("accounts", 0, "id")`` -> ``accounts[0].id``; the empty path is ``(top level)``."""
    out = ""
    for part in loc:
        if part == "[key]":  # pydantic's marker for "the key itself" in a mapping
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def describe_error(source: str, exc: ValidationError, model: type[BaseModel] | None) -> str:
    """One sentence for the first error, with a count of the others."""
    errors = _without_echoes(exc.errors(include_url=False))
    # An unknown key usually explains a "missing" one (a typo), so it is reported first.
    first = min(errors, key=lambda e: e["type"] != "extra_forbidden")
    sentence = f"{source}: {format_loc(first['loc'])}: {_expected(first, model)}"
    if len(errors) > 1:
        sentence += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return sentence + "."


def _without_echoes(errors: list[ErrorDetails]) -> list[ErrorDetails]:
    """Drop "too short" on a list whose entries failed: it only echoes the entry's error."""
    inner = [e["loc"] for e in errors]
    return [
        e
        for e in errors
        if e["type"] != "too_short"
        or not any(len(loc) > len(e["loc"]) and loc[: len(e["loc"])] == e["loc"] for loc in inner)
    ]


def _expected(error: ErrorDetails, model: type[BaseModel] | None) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_fields(model, error["loc"][:-1])
        listing = f"; expected one of: {', '.join(allowed)}" if allowed else ""
        return f"is not a known field{listing}"
    if kind in ("value_error", "assertion_error"):
        # Our own validators already say what was expected and what was given.
        return str(error["msg"]).split(", ", 1)[-1]
    message = str(error["msg"])
    if kind in _EXPECTED_BY_TYPE:
        text = _EXPECTED_BY_TYPE[kind]
    elif message.startswith("Input should be "):
        text = "expected " + message.removeprefix("Input should be ")
    else:
        text = message[:1].lower() + message[1:]
    return text + _got(error)


def _got(error: ErrorDetails) -> str:
    value = error.get("input")
    if error["type"] == "missing" or isinstance(value, dict | list):
        return ""
    shown = repr(value)
    return f", got {shown[:60] + '...' if len(shown) > 60 else shown}"


def _allowed_fields(model: type[BaseModel] | None, loc: Sequence[int | str]) -> list[str]:
    """The field names of the model found by following ``loc`` from ``model``."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        field = current.model_fields.get(part)
        current = _model_in(field.annotation) if field is not None else None
    if current is None:
        return []
    return [info.alias or name for name, info in current.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The first BaseModel inside an annotation such as ``list[X]`` or ``X | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is None and not isinstance(annotation, types.UnionType):
        return None
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
