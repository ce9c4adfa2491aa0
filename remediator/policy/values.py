"""Concrete request values for a condition key: the ones a policy names, the boundaries around
them, one fresh value that no policy names, and absence.

For ordered operators the boundaries matter (``NumericLessThan 10`` differs from
``NumericLessThanEquals 10`` only at 10), for ``IpAddress`` the first and last address of each
range; wildcard patterns are filled in so that the value matches the pattern, and the pattern
itself is kept as a literal for the operators that do not honour wildcards.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta

from remediator.policy.document import Condition
from remediator.policy.matchers import parse_date

FRESH = "fresh-value"
_FRESH_IPS = ("203.0.113.254", "198.51.100.254", "192.0.2.254", "2001:db8:ffff::fe")
_FRESH_BY_FAMILY = {
    "numeric": "-987654321",
    "date": "1971-01-01T00:00:00Z",
    "bool": "false",
    "binary": "ZnJlc2g=",
}

Variant = tuple[str, ...] | None  # None: the key is absent


def fill(value: str) -> str:
    """A concrete value matching a ``*``/``?`` pattern (each wildcard becomes ``x``)."""
    return value.replace("*", "x").replace("?", "x")


def _number(n: float) -> str:
    return str(int(n)) if n == int(n) else repr(n)


def _iso(text: str, delta_seconds: int) -> str | None:
    d = parse_date(text)
    if d is None:
        return None
    return (d + timedelta(seconds=delta_seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def _string_values(cond: Condition, v: str) -> list[str]:
    out = [fill(v)]
    if "*" in v or "?" in v:
        out.append(v)  # the pattern itself: what StringEquals compares literally
    if cond.operator.ignore_case:
        out.append(fill(v).swapcase())
    return out


def _named_values(cond: Condition) -> list[str]:
    """Values at and around each value the condition names (policy variables skipped)."""
    family, out = cond.operator.family, []
    for v in cond.values:
        if "${" in v:
            continue
        if family in ("string", "arn"):
            out.extend(_string_values(cond, v))
        elif family == "numeric":
            try:
                n = float(v)
            except ValueError:
                continue
            out.extend([_number(n), _number(n - 1), _number(n + 1)])
        elif family == "date":
            out.extend(x for x in (_iso(v, 0), _iso(v, -1), _iso(v, 1)) if x is not None)
        elif family == "bool":
            out.extend(["true", "false"])
        elif family == "ip":
            net = _network(v)
            if net is not None:
                out.extend([str(net.network_address), str(net.broadcast_address)])
        elif family == "binary":
            out.append(v)
    return out


def fresh_value(conds: list[Condition]) -> str:
    """A value no condition on this key names (for addresses: outside every named range)."""
    family = conds[0].operator.family
    if family == "ip":
        nets = [n for c in conds for v in c.values if (n := _network(v)) is not None]
        for ip in _FRESH_IPS:
            addr = ipaddress.ip_address(ip)
            if not any(addr.version == n.version and addr in n for n in nets):
                return ip
    return _FRESH_BY_FAMILY.get(family, FRESH)


def key_variants(conds: list[Condition]) -> list[Variant]:
    """The request values to try for one key, the first named value first.

    Keys used with ``ForAnyValue``/``ForAllValues`` are multivalued: they also get every named
    value at once and a named value together with a fresh one.
    """
    singles = list(dict.fromkeys(v for c in conds for v in _named_values(c)))
    fresh = fresh_value(conds)
    out: list[Variant] = [(v,) for v in singles]
    out += [(fresh,), None]
    if any(c.operator.qualifier for c in conds) and singles:
        if len(singles) > 1:
            out.append(tuple(singles))
        out.append((singles[0], fresh))
    return out


def satisfying_value(cond: Condition) -> Variant:
    """A request value for which this one condition holds (None: the key absent)."""
    op, family = cond.operator, cond.operator.family
    if family == "null":
        return None if "true" in {v.strip().lower() for v in cond.values} else (FRESH,)
    if op.negated:
        return (fresh_value([cond]),)
    plain = [v for v in cond.values if "${" not in v]
    if not plain:
        return (FRESH,)
    v = plain[0]
    step = -1 if "LessThan" in op.base else 1 if "GreaterThan" in op.base else 0
    if family == "numeric":
        try:
            return (_number(float(v) + step),)
        except ValueError:
            return (FRESH,)
    if family == "date":
        iso = _iso(v, step)
        return (iso,) if iso is not None else (FRESH,)
    if family == "ip":
        net = _network(v)
        return (str(net.network_address),) if net is not None else (FRESH,)
    if family == "bool":
        return (v.strip().lower(),)
    return (fill(v),)
