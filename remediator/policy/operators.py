"""Condition operators: names, qualifiers and what each means for matching.

Operator names are case-sensitive, condition keys are not
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
``...IfExists`` (not for ``Null``) makes a missing key match; ``ForAnyValue:`` and
``ForAllValues:`` set operators treat the key as a set
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html).
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from remediator.errors import PolicyError

# base operator -> (family, negated, wildcards allowed in values, ignore case)
_BASE: dict[str, tuple[str, bool, bool, bool]] = {
    "StringEquals": ("string", False, False, False),
    "StringNotEquals": ("string", True, False, False),
    "StringEqualsIgnoreCase": ("string", False, False, True),
    "StringNotEqualsIgnoreCase": ("string", True, False, True),
    "StringLike": ("string", False, True, False),
    "StringNotLike": ("string", True, True, False),
    "NumericEquals": ("numeric", False, False, False),
    "NumericNotEquals": ("numeric", True, False, False),
    "NumericLessThan": ("numeric", False, False, False),
    "NumericLessThanEquals": ("numeric", False, False, False),
    "NumericGreaterThan": ("numeric", False, False, False),
    "NumericGreaterThanEquals": ("numeric", False, False, False),
    "DateEquals": ("date", False, False, False),
    "DateNotEquals": ("date", True, False, False),
    "DateLessThan": ("date", False, False, False),
    "DateLessThanEquals": ("date", False, False, False),
    "DateGreaterThan": ("date", False, False, False),
    "DateGreaterThanEquals": ("date", False, False, False),
    "Bool": ("bool", False, False, False),
    "BinaryEquals": ("binary", False, False, False),
    "IpAddress": ("ip", False, False, False),
    "NotIpAddress": ("ip", True, False, False),
    # ArnEquals and ArnLike both take * and ? in each ARN component.
    "ArnEquals": ("arn", False, True, False),
    "ArnLike": ("arn", False, True, False),
    "ArnNotEquals": ("arn", True, True, False),
    "ArnNotLike": ("arn", True, True, False),
    "Null": ("null", False, False, False),
}

BASE_OPERATORS = tuple(_BASE)


class Operator(NamedTuple):  # hashed with every condition a memo is keyed by: a C-level hash
    name: str  # as written, e.g. "ForAnyValue:StringLikeIfExists"
    base: str  # e.g. "StringLike"
    family: str
    negated: bool
    wildcards: bool
    ignore_case: bool
    if_exists: bool
    qualifier: str | None  # "ForAnyValue", "ForAllValues" or None

    @property
    def is_positive(self) -> bool:
        """True for operators that match only the listed values (not negated, not Null)."""
        return not self.negated and self.family != "null"

    @property
    def holds_when_missing(self) -> bool:
        """A positive operator that still holds when the request lacks the key: ...IfExists,
        and ForAllValues, which is true for an empty set of values
        (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html)."""
        return self.if_exists or self.qualifier == "ForAllValues"


@lru_cache(maxsize=512)
def _parse(name: str) -> Operator | None:
    qualifier = None
    rest = name
    for q in ("ForAnyValue", "ForAllValues"):
        if rest.startswith(q + ":"):
            qualifier, rest = q, rest[len(q) + 1 :]
            break
    if_exists = rest.endswith("IfExists") and rest != "IfExists"
    base = rest[: -len("IfExists")] if if_exists else rest
    spec = _BASE.get(base)
    if spec is None or (if_exists and base == "Null"):
        return None
    family, negated, wildcards, ignore_case = spec
    return Operator(name, base, family, negated, wildcards, ignore_case, if_exists, qualifier)


def parse_operator(name: str, where: str = "Condition") -> Operator:
    """The Operator for a condition operator name, or PolicyError naming the valid ones."""
    op = _parse(name)
    if op is None:
        raise PolicyError(
            f"{where} has unknown condition operator {name!r}; valid operators are "
            f"{', '.join(BASE_OPERATORS)}, optionally with an IfExists suffix and a "
            "ForAnyValue: or ForAllValues: prefix"
        )
    return op
