"""Concrete condition-operator semantics: does one Condition hold for one request's values?

Written from the IAM documentation, independently of ``conditions.py`` (which reasons about
classes of callers); ``evaluate.py`` uses it to decide requests one at a time, and the two are
cross-checked by tests/test_differential.py. Sources:

- Operators, missing keys, ``...IfExists``, ``Null``:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
  "If the key ... is not present in the request context, the values do not match and the
  condition is false. If the policy condition requires that the key is not matched, such as
  StringNotLike or ArnNotLike, and the right key is not present, the condition is true."
  IfExists: "If the key is not present, evaluate the condition element as true."
- ``ForAnyValue``/``ForAllValues``: "ForAllValues ... returns true if every key value in the
  request matches at least one value in the policy. It also returns true if there are no keys
  in the request"; ForAnyValue returns false for a missing key or an empty set
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html).
- Policy variables are substituted in string and ARN conditions only, need Version 2012-10-17,
  ``${*}``, ``${?}``, ``${$}`` are literal characters, ``${key, 'default'}`` gives a default,
  and a variable that cannot be resolved makes the statement invalid
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from remediator.policy.document import Condition

Values = tuple[str, ...]
Facts = Mapping[str, Values]

# Literal "*" and "?" produced by ${*} and ${?} (or by a substituted value) must not act as
# wildcards: they travel through matching as two private-use characters.
_STAR, _QMARK = "\ue000", "\ue001"
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_DEFAULT = re.compile(r"^\s*([^,]+?)\s*,\s*'([^']*)'\s*$")


class Unresolvable(Exception):
    """A policy variable names a key the request does not have and gives no default."""


def _literal(text: str) -> str:
    return text.replace("*", _STAR).replace("?", _QMARK)


def _unliteral(text: str) -> str:
    return text.replace(_STAR, "*").replace(_QMARK, "?")


def substitute(value: str, facts: Facts) -> str:
    """``value`` with its policy variables replaced (literal wildcards marked), or Unresolvable.

    Multivalued keys cannot be policy variables, so a key with several values does not resolve.
    """

    def one(m: re.Match[str]) -> str:
        inner = m.group(1)
        if inner in ("*", "?", "$"):
            return _literal(inner)
        key, default = inner.strip(), None
        d = _DEFAULT.match(inner)
        if d:
            key, default = d.group(1), d.group(2)
        got = facts.get(key.lower(), ())
        if len(got) == 1:
            return _literal(got[0])
        if default is not None:
            return _literal(default)
        raise Unresolvable(key)

    return _VARIABLE.sub(one, value)


@lru_cache(maxsize=8192)
def _glob(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    """``*`` and ``?`` wildcards of a whole value; marked literals match themselves."""
    body = []
    for c in pattern:
        if c == "*":
            body.append(".*")
        elif c == "?":
            body.append(".")
        else:
            body.append(re.escape(_unliteral(c)))
    return re.compile("".join(body), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _string_match(base: str, pattern: str, value: str) -> bool:
    """StringEquals/Like and their IgnoreCase forms (the negation is applied by the caller)."""
    if base.startswith("StringLike") or base.startswith("StringNotLike"):
        return _glob(pattern).fullmatch(value) is not None
    if "IgnoreCase" in base:
        return _unliteral(pattern).casefold() == value.casefold()
    return _unliteral(pattern) == value


def _arn_match(pattern: str, value: str) -> bool:
    """ARN operators compare each of the six colon-delimited components separately, each with
    ``*`` and ``?`` wildcards: a wildcard never spans a colon before the resource part."""
    p, v = pattern.split(":", 5), value.split(":", 5)
    if len(p) != 6 or len(v) != 6:
        return False
    return all(_glob(pp).fullmatch(vv) is not None for pp, vv in zip(p, v, strict=True))


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


_W3C = ("%Y", "%Y-%m", "%Y-%m-%d")


def parse_date(text: str) -> datetime | None:
    """A W3C ISO 8601 date/time or epoch seconds, as an aware UTC datetime (None if neither)."""
    t = text.strip()
    n = _number(t)
    if n is not None:
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=n)
    for fmt in _W3C:
        try:
            return datetime.strptime(t, fmt).replace(tzinfo=UTC)
        except ValueError:
            pass
    try:
        d = datetime.fromisoformat(t)
    except ValueError:
        return None
    return d if d.tzinfo is not None else d.replace(tzinfo=UTC)


_ORDER: dict[str, Callable[[float, float], bool]] = {
    "Equals": lambda a, b: a == b,
    "NotEquals": lambda a, b: a == b,  # the negation is applied by the caller
    "LessThan": lambda a, b: a < b,
    "LessThanEquals": lambda a, b: a <= b,
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanEquals": lambda a, b: a >= b,
}


def _ordered(base: str, family: str, pattern: str, value: str) -> bool:
    """Numeric and date operators: ``value`` (the request) compared with ``pattern``."""
    compare = _ORDER[base[len(family) :]]
    if family == "Numeric":
        a, b = _number(value), _number(pattern)
        return a is not None and b is not None and compare(a, b)
    da, db = parse_date(value), parse_date(pattern)
    return da is not None and db is not None and compare(da.timestamp(), db.timestamp())


def _ip_match(pattern: str, value: str) -> bool:
    """IpAddress: CIDR containment; an address without a prefix is a /32 (or /128)."""
    try:
        net = ipaddress.ip_network(pattern.strip(), strict=False)
        addr = ipaddress.ip_address(value.strip())
    except ValueError:
        return False
    return addr.version == net.version and addr in net


def _binary_match(pattern: str, value: str) -> bool:
    """BinaryEquals compares bytes against the base-64 value in the policy."""
    try:
        return base64.b64decode(pattern, validate=True) == base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return pattern == value


@lru_cache(maxsize=65_536)
def positive_match(family: str, base: str, pattern: str, value: str) -> bool:
    """Whether one request value matches one policy value under the operator's positive form
    (memoised: the same few values recur across every request a proof evaluates)."""
    if family == "string":
        return _string_match(base, pattern, value)
    if family == "arn":
        return _arn_match(pattern, value)
    if family == "numeric":
        return _ordered(base, "Numeric", pattern, value)
    if family == "date":
        return _ordered(base, "Date", pattern, value)
    if family == "bool":
        wanted = pattern.strip().lower()
        return wanted in ("true", "false") and wanted == value.strip().lower()
    if family == "ip":
        return _ip_match(pattern, value)
    if family == "binary":
        return _binary_match(pattern, value)
    raise AssertionError(f"no positive form for the {family} family")


def _patterns(cond: Condition, facts: Facts, variables: bool) -> Values:
    """The condition's values with policy variables substituted (string and ARN operators)."""
    if not variables or cond.operator.family not in ("string", "arn"):
        return cond.values
    return tuple(substitute(v, facts) if "${" in v else v for v in cond.values)


def _null_holds(cond: Condition, present: bool) -> bool:
    """Null: "true" matches an absent key, "false" a present one; other values match nothing."""
    wanted = {v.strip().lower() for v in cond.values}
    return ("true" in wanted and not present) or ("false" in wanted and present)


def condition_holds(cond: Condition, facts: Facts, variables: bool = True) -> bool:
    """Whether one (operator, key, values) holds for a request whose context is ``facts``.

    ``facts`` maps lower-case keys to their values; a missing key (or an empty tuple) is
    absent. Raises Unresolvable when a policy variable cannot be resolved.
    """
    op = cond.operator
    got = facts.get(cond.key, ())
    if op.family == "null":
        return _null_holds(cond, bool(got))
    if not got:
        if op.if_exists:
            return True
        if op.qualifier == "ForAllValues":
            return True
        if op.qualifier == "ForAnyValue":
            return False
        return op.negated
    patterns = _patterns(cond, facts, variables)
    family, base = op.family, op.base

    def matches(value: str) -> bool:
        return any(positive_match(family, base, p, value) for p in patterns)

    if op.qualifier == "ForAllValues":
        return all(matches(v) != op.negated for v in got)
    if op.qualifier == "ForAnyValue":
        return any(matches(v) != op.negated for v in got)
    hit = any(matches(v) for v in got)
    return not hit if op.negated else hit
