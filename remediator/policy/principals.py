"""Principal values and ARNs: which account a value names, and whether it is a wildcard.

Forms (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html):
a bare 12-digit account id and ``arn:PARTITION:iam::ID:root`` name the account;
``arn:PARTITION:iam::ID:user/...``, ``:role/path/...``, ``arn:PARTITION:sts::ID:assumed-role/R/S``
and ``:federated-user/N`` name one principal of that account. Account ids are compared whole.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

_ACCOUNT_RE = re.compile(r"[0-9]{12}")


def is_account_id(value: str) -> bool:
    return bool(_ACCOUNT_RE.fullmatch(value))


def has_wildcard(value: str) -> bool:
    return "*" in value or "?" in value


def has_policy_variable(value: str) -> bool:
    """``${aws:PrincipalAccount}`` and friends are replaced at request time: never a fixed value."""
    return "${" in value


class ArnParts(NamedTuple):
    partition: str
    service: str
    region: str
    account: str
    resource: str


# Value records, memoised per distinct string: an estate names each role in several statements.
# Sized for estates with tens of thousands of distinct principals.
@lru_cache(maxsize=65_536)
def split_arn(value: str) -> ArnParts | None:
    """The six colon-separated parts of an ARN (the resource part may hold colons), or None."""
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return ArnParts(parts[1], parts[2], parts[3], parts[4], parts[5])


class AwsPrincipal(NamedTuple):
    """One value of ``Principal.AWS``."""

    value: str
    account: str | None  # the 12-digit account, or None when unknown (unique ids) or wildcard
    is_root: bool  # names the whole account (bare id or :root)
    is_wildcard: bool  # "*" or an ARN whose account part has a wildcard: anyone can be it


@lru_cache(maxsize=65_536)
def parse_aws_principal(value: str) -> AwsPrincipal:
    v = value.strip()
    if v == "*":
        return AwsPrincipal(v, None, False, True)
    if is_account_id(v):
        return AwsPrincipal(v, v, True, False)
    arn = split_arn(v)
    if arn is None:
        # A unique id such as AROA...: what a key policy shows once the principal is deleted.
        # Nobody can become that principal again, so it names no reachable account.
        return AwsPrincipal(v, None, False, has_wildcard(v))
    if has_wildcard(arn.account) or arn.account == "":
        return AwsPrincipal(v, None, False, True)
    return AwsPrincipal(v, arn.account, arn.resource == "root", False)


def root_arn(account: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:root"


def names_account_root(value: str, account: str) -> bool:
    """True when a Principal.AWS value is that account's root (bare id or root ARN)."""
    p = parse_aws_principal(value)
    return p.is_root and p.account == account


@lru_cache(maxsize=8192)
def account_of_arn_value(value: str, wildcards: bool) -> str | None:
    """The account part of an ARN used as a condition value, when it is one fixed account.

    Returns None when the part is empty (S3 bucket ARNs have none), has a wildcard (under an
    operator that honours wildcards), or is a policy variable.
    """
    arn = split_arn(value)
    if arn is None or not arn.account:
        return None
    acct = arn.account
    if has_policy_variable(acct) or (wildcards and has_wildcard(acct)):
        return None
    return acct if is_account_id(acct) else None


def glob_to_regex(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


@lru_cache(maxsize=8192)
def glob_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM ``*``/``?`` matching of a whole value."""
    if not has_wildcard(pattern):
        return pattern.lower() == value.lower() if ignore_case else pattern == value
    return bool(glob_to_regex(pattern, ignore_case).fullmatch(value))


@lru_cache(maxsize=8192)
def globs_meet(a: str, b: str) -> bool:
    """Whether some value matches both ``*``/``?`` globs (taking ``*`` to span anything)."""
    # meet[i][j]: the suffixes a[i:] and b[j:] match some value in common (no closure, so no
    # reference cycle: the engine leaves no cyclic garbage, tests/test_gc_tuning.py).
    meet = [[False] * (len(b) + 2) for _ in range(len(a) + 2)]
    for i in range(len(a), -1, -1):
        for j in range(len(b), -1, -1):
            if i == len(a) and j == len(b):
                meet[i][j] = True
            elif i < len(a) and a[i] == "*":
                meet[i][j] = meet[i + 1][j] or (j < len(b) and meet[i][j + 1])
            elif j < len(b) and b[j] == "*":
                meet[i][j] = meet[i][j + 1] or (i < len(a) and meet[i + 1][j])
            else:
                meet[i][j] = (i < len(a) and j < len(b) and (a[i] == b[j] or "?" in (a[i], b[j]))
                              and meet[i + 1][j + 1])
    return meet[0][0]


# What aws:PrincipalArn holds for each kind of caller in an account: the root user's ARN, an
# IAM user's, a role's (for its sessions), and a federated user's, whose ARN is an STS one
# (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html: a
# GetFederationToken caller is arn:aws:sts::ACCOUNT:federated-user/NAME). Names of one and of
# three characters, so that "?" does not pass for "any name". The partition is aws, as the
# engine reads a key whose ARN it is not told.
_ANY_NAME = ("\uffff", "\uffff\uffff\uffff")
_EVERY_KIND = (("iam", "root"), *((service, prefix + name) for name in _ANY_NAME
                                  for service, prefix in (("iam", "user/"), ("iam", "role/"),
                                                          ("sts", "federated-user/"))))


def names_every_principal_of(patterns: frozenset[str], account: str,
                             ignore_case: bool = False) -> bool:
    """Whether some of these aws:PrincipalArn patterns match the ARN of every caller of
    ``account``, whatever its kind; ``arn:aws:iam::ACCOUNT:*`` misses its federated users."""
    arns = [split_arn(p) for p in patterns]
    mine = [a for a in arns if a is not None and a.account == account
            and glob_match(a.partition, "aws", ignore_case)]
    return bool(mine) and all(any(
        glob_match(a.service, service, ignore_case) and glob_match(a.region, "", ignore_case)
        and glob_match(a.resource, resource, ignore_case) for a in mine)
        for service, resource in _EVERY_KIND)


def principal_arn_forms(arn: str) -> tuple[str, ...]:
    """The values aws:PrincipalArn may hold for the callers a principal ARN names. A role
    session's is its role's ARN, "not the ARN of the user that assumed the role" (condition keys
    page, aws:PrincipalArn), and the session ARN does not show the role's path: a pattern
    certainly matches the session only if it matches the role under any path."""
    p = split_arn(arn)
    if p is not None and p.service == "sts" and p.resource.startswith("assumed-role/"):
        parts = p.resource.split("/")
        if len(parts) >= 3:
            base = f"arn:{p.partition}:iam::{p.account}:role/"
            return (base + parts[1], f"{base}\uffff/{parts[1]}")
    return (arn,)


def may_hold_principal_arn(value: str, arn: str) -> bool:
    """Whether the aws:PrincipalArn of the callers ``arn`` names may equal or match ``value``
    (an ARN or ARN pattern): their own ARN, or for a role session its role's ARN under any
    path, since the session ARN does not show the path (``principal_arn_forms``)."""
    forms = principal_arn_forms(arn)
    if any(value == f or glob_match(value, f) for f in forms):
        return True
    if len(forms) == 1:
        return False
    p, role = split_arn(value), split_arn(forms[0])
    if p is None or role is None:
        return False
    if not has_wildcard(value):  # the role's ARN with some path: it ends in the role's name
        return (value.startswith("arn:") and p.partition == role.partition
                and p.service == "iam" and p.account == role.account
                and p.resource.startswith("role/")
                and p.resource.endswith("/" + role.resource.split("/", 1)[1]))
    name = role.resource.split("/", 1)[1]
    return (glob_match(p.partition, role.partition)
            and glob_match(p.service, "iam") and glob_match(p.account, role.account)
            and _may_match_around(p.resource, "role/", "/" + name))


def _fits(literal: str, text: str) -> bool:
    """Whether a run of a glob without "*" matches ``text`` where the two overlap."""
    return all(a == "?" or a == b for a, b in zip(literal, text, strict=False))


def _may_match_around(pattern: str, prefix: str, suffix: str) -> bool:
    """Whether a glob (``*``, ``?``) matches some ``prefix + middle + suffix``, the middle any
    text: a role's ARN resource under a path the session ARN does not show."""
    runs = pattern.split("*")
    if len(runs) == 1 and len(pattern) < len(prefix) + len(suffix):
        return False
    return _fits(runs[0], prefix) and _fits(runs[-1][::-1], suffix[::-1])

