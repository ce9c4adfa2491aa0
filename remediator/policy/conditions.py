"""What a statement's conditions say about who the caller can be.

Each condition on an identity key becomes a pin on one dimension of the caller: its account,
its organisation, its network path, or the exact principal. Access Analyzer counts these keys
as restricting when used with a positive operator and values without wildcards in the account
or organisation part
(https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-resources.html#access-analyzer-kms-key,
https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-concepts.html). Everything
else (``kms:ViaService``, ``kms:EncryptionContext:*``, ``aws:SecureTransport``, ``aws:username``,
negated operators on an Allow, ``Null``, ``ForAllValues:``, ``...IfExists`` on keys that can be
absent, wildcard and policy-variable values) does not pin the caller.
"""

from __future__ import annotations

import re
from functools import lru_cache

from remediator.policy.condition_keys import (
    ACCOUNT_KEYS,
    ALWAYS_PRESENT,
    ARN_KEYS,
    IDENTITY_KEYS,
    NETWORK_KEYS,
    ORG_KEYS,
    ORG_PATH_KEYS,
    PRINCIPAL_ARN_KEY,
    SERVICE_SCOPE_KEYS,
    USERID_KEY,
    VIA_SERVICE_KEY,
    covers_every_address,
)
from remediator.policy.constraints import (
    ANY,
    DIMENSIONS,
    UNCONDITIONAL,
    Constraint,
    Scope,
    excluding,
    meet_principals,
    only,
)
from remediator.policy.document import Condition
from remediator.policy.matchers import condition_holds
from remediator.policy.operators import Operator
from remediator.policy.principals import (
    account_of_arn_value,
    has_policy_variable,
    has_wildcard,
    is_account_id,
    names_every_principal_of,
    split_arn,
)
from remediator.policy.service_keys import (
    IS_SERVICE_KEY,
    absent_for_services,
    service_flag_holds,
)

# A pin: (dimension, constraint); None when the condition does not pin the caller.
Pin = tuple[str, Constraint]


# https://docs.aws.amazon.com/organizations/latest/APIReference/API_Organization.html
_ORG_ID = re.compile(r"o-[a-z0-9]{10,32}")


def _fixed(value: str, wildcards: bool) -> bool:
    return not has_policy_variable(value) and not (wildcards and has_wildcard(value))


def _org_of_path(value: str) -> str:
    return value.split("/", 1)[0]


# A path pattern every member's path matches: the organisation, or its root (one per
# organisation), then anything.
_WHOLE_ORG_PATH = re.compile(r"o-[a-z0-9]{10,32}/(r-[0-9a-z]{4,32}/)?\*")


def _spans_whole_org(value: str, op: Operator) -> bool:
    return op.wildcards and not op.ignore_case and _WHOLE_ORG_PATH.fullmatch(value) is not None


# The operator families whose values name fixed callers for a key: account, organisation,
# principal and VPC ids are strings, ARNs strings or ARNs, addresses CIDRs
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
# gives each key's type). Any other operator (NumericLessThan on an account id...) names no
# list of fixed values.
_FAMILIES: dict[str, tuple[str, ...]] = {
    **{k: ("string", "arn") for k in ARN_KEYS},
    "aws:sourceip": ("ip",),
}


def _before_account(arn: str) -> str:
    """An ARN's prefix, partition, service and region: what comes before its account."""
    return ":".join(arn.split(":", 4)[:4])


def _names_no_account(arn: str) -> bool:
    """Whether an ARN's account part, read as text (no wildcard operator, no variable), is no
    account id: ``*`` or a name. An empty part (an S3 bucket's ARN) names a real resource."""
    parts = split_arn(arn)
    return (parts is not None and bool(parts.account) and not has_policy_variable(arn)
            and not is_account_id(parts.account))


def _dimension_values(cond: Condition) -> tuple[str, set[str]] | None:
    """The dimension a condition speaks of and the fixed values it names, or None.

    None when the key is not an identity key or a value is not fixed (wildcard under a
    wildcard-honouring operator, a policy variable, an open network).
    """
    key, op, wild = cond.key, cond.operator, cond.operator.wildcards
    if op.family not in _FAMILIES.get(key, ("string",)):
        return None  # e.g. NumericLessThan on an account id: not a list of fixed values
    # Account and organisation ids are lower-case; IgnoreCase operators match any spelling.
    vals = tuple(v.lower() for v in cond.values) if op.ignore_case else cond.values
    if key in ACCOUNT_KEYS:
        if not all(_fixed(v, wild) for v in vals):
            return None
        # Under StringEquals a "*" is a literal: it names no real account.
        return "accounts", {v for v in vals if is_account_id(v)}
    if key in ARN_KEYS:
        accts = set()
        for v in vals:
            a = account_of_arn_value(v, wild)
            if a is None and not wild and _names_no_account(v):
                continue  # as for account keys: "arn:aws:iam::*:role/x" is a literal
            if a is None or (wild and op.family == "string" and has_wildcard(_before_account(v))):
                # Under StringLike a wildcard before the account spans colons, so another
                # account's ARN can match it (IAM paths may hold colons); the Arn operators
                # match each part on its own.
                return None
            accts.add(a)
        return "accounts", accts
    if key in ORG_KEYS or key in ORG_PATH_KEYS:
        orgs = {_org_of_path(v) if key in ORG_PATH_KEYS else v for v in vals}
        if not all(_fixed(o, wild) for o in orgs):
            return None
        # As for accounts: a value no organisation id can be ("O-A1B2..." under a
        # case-sensitive operator) names no real organisation.
        return "orgs", {o for o in orgs if _ORG_ID.fullmatch(o)}
    if key in NETWORK_KEYS:
        if covers_every_address(vals) or not all(_fixed(v, wild) for v in vals):
            return None
        return "networks", set(vals)
    if key == USERID_KEY:
        heads = {v.split(":", 1)[0] for v in vals}
        if not all(_fixed(h, wild) for h in heads):
            return None
        if all(is_account_id(h) for h in heads):
            return "accounts", heads
        return "principals", set(vals)
    return None


def _principal_pin(cond: Condition) -> Pin | None:
    """An aws:PrincipalArn/aws:SourceArn condition also pins the exact principal or resource
    (not under an IgnoreCase operator: the engine matches ARNs case-sensitively)."""
    if cond.key in ARN_KEYS and not cond.operator.ignore_case and all(
            _fixed(v, cond.operator.wildcards) for v in cond.values):
        c = frozenset(cond.values)
        return ("principals", only(c) if cond.operator.is_positive else excluding(c))
    return None


@lru_cache(maxsize=16384)
def allow_pins(cond: Condition) -> tuple[Pin, ...]:
    """How a condition of an Allow restricts the caller; () when it does not restrict."""
    op = cond.operator
    if not op.is_positive:
        return ()
    if op.holds_when_missing and cond.key not in ALWAYS_PRESENT:
        return ()  # a caller whose request lacks the key passes; on a key every IAM caller
        # carries, ForAllValues and IfExists match its one value as a plain operator does
    dv = _dimension_values(cond)
    if dv is None:
        # A pattern of any account pins no account, but still the principals it matches:
        # "*" under it stays open to every account (exposure.py), and an organisation pin
        # beside it leaves just those principals of the organisation's accounts.
        # (Only where each value's account part is where a principal's is: under StringLike a
        # "*" before it may span colons.)
        spans = op.family != "arn" and any(has_wildcard(_before_account(v))
                                           for v in cond.values)
        pattern = (_principal_pattern_pin(cond)
                   if cond.key == PRINCIPAL_ARN_KEY and not spans else None)
        return (pattern,) if pattern is not None else ()
    dim, vals = dv
    if cond.key == USERID_KEY and dim == "principals" and any(
            is_account_id(v.split(":", 1)[0]) for v in vals):
        # Unique ids beside "ACCOUNT:name" values: callers of those accounts or principals of
        # any account. No one dimension holds that union, so it pins nothing.
        return ()
    extra = _principal_pin(cond) or _principal_pattern_pin(cond)
    pins: tuple[Pin, ...] = ((dim, only(vals)),)
    return pins + ((extra,) if extra and dim != "principals" else ())


def _principal_pattern_pin(cond: Condition) -> Pin | None:
    """An Allow's aws:PrincipalArn patterns (their accounts fixed: ``_dimension_values``) also
    pin the principals they match, as IAM Identity Center's roles are named in key policies
    (https://docs.aws.amazon.com/singlesignon/latest/userguide/referencingpermissionsets.html:
    ``ArnLike`` on ``.../AWSReservedSSO_<set>_*``, whose suffix changes)."""
    op = cond.operator
    if (cond.key != "aws:principalarn" or not op.wildcards or op.ignore_case
            or any(has_policy_variable(v) for v in cond.values)):
        return None
    return ("principals", only(frozenset(cond.values)))


@lru_cache(maxsize=16384)
def deny_pins(cond: Condition) -> tuple[Pin, ...] | None:
    """The callers a Deny's condition certainly holds for, as pins; None when uncertain.

    A negated operator holds for every caller outside its values (and for a missing key); a
    positive one only for the callers it names. Anything the caller might avoid is uncertain.
    """
    op = cond.operator
    if op.family == "null":
        return None
    if cond.key in SERVICE_SCOPE_KEYS and op.is_positive:
        # Present only in service-to-service requests, never in an IAM caller's: a positive
        # match is not certain for anyone here. (A negated one holds for IAM callers, whose
        # key is missing, and for services outside the values: the pin below.)
        return None
    can_be_absent = cond.key not in ALWAYS_PRESENT
    # A missing key: ForAnyValue is false, ForAllValues is true, IfExists is true, a negated
    # operator is true, a positive one false
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html).
    # Where the missing case makes the Deny hold for fewer callers than the pin says, the
    # caller could avoid it: uncertain.
    if op.is_positive and can_be_absent and (op.if_exists or op.qualifier == "ForAllValues"):
        return None
    if op.negated and can_be_absent and op.qualifier == "ForAnyValue":
        return None
    if cond.key in ORG_PATH_KEYS and op.is_positive and not all(
            _spans_whole_org(v, op) for v in cond.values):
        # A path below the root (an OU) holds for some of the organisation's members only
        # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgpaths):
        # the Deny is certain for none of them. Found by review.
        return None
    if op.negated and cond.key == PRINCIPAL_ARN_KEY and op.family in _FAMILIES[cond.key]:
        # It spares the principals matching its values, whatever account a pattern's account
        # part allows (arn:aws:iam::*:role/KeyAdministrators spares that role in every account
        # and denies every other principal): no account need be fixed.
        return _negated_deny_pins(cond, "principals", set())
    dv = _dimension_values(cond)
    if dv is None:
        return None
    dim, vals = dv
    if op.negated:
        return _negated_deny_pins(cond, dim, vals)
    return _positive_deny_pins(cond, dim, vals)


def _negated_deny_pins(cond: Condition, dim: str, vals: set[str]) -> tuple[Pin, ...] | None:
    """A negated Deny condition holds for every caller outside what it spares."""
    op = cond.operator
    if cond.key in ARN_KEYS and (op.ignore_case or any(has_policy_variable(v)
                                                       for v in cond.values)):
        # It spares principals matching in any case, or named by a request's values
        # (arn:aws:iam::A:user/${aws:username} spares every user): not certain for any.
        return None
    if cond.key in ARN_KEYS:
        # The Deny spares exactly the principals matching these ARNs or patterns; deny.py
        # matches the patterns (a "*" there may span colons: it spares more, never fewer).
        return (("principals", excluding(frozenset(cond.values))),)
    if cond.key == USERID_KEY and dim == "principals" and any(
            is_account_id(v.split(":", 1)[0]) for v in vals):
        # It spares callers of some accounts ("A:name", "A") and principals of any account
        # (unique ids): no one dimension holds that union, so it is not certain.
        return None
    return ((dim, excluding(vals)),)


def _positive_deny_pins(cond: Condition, dim: str, vals: set[str]) -> tuple[Pin, ...] | None:
    """A positive Deny condition holds only for the callers it names."""
    op = cond.operator
    if cond.key == USERID_KEY:
        # Unique ids name callers the policy cannot tell (AROA...:session), and "A:*" is only
        # A's federated users: not certain for any caller the engine knows by ARN or account.
        return None
    if cond.key in ARN_KEYS and not (op.wildcards and all(
            names_every_principal_of(frozenset(cond.values), a, op.ignore_case) for a in vals)):
        # The Deny holds for the callers these values match, not for their whole accounts:
        # arn:aws:iam::A:role/* leaves A's users. Under an operator without wildcards, a value
        # with "*" or "?" is literal and matches no principal's ARN.
        matched = frozenset(v for v in cond.values if op.wildcards or not has_wildcard(v))
        return ((dim, only(vals)), ("principals", only(matched)))
    extra = _principal_pin(cond)
    pins: tuple[Pin, ...] = ((dim, only(vals)),)
    return pins + ((extra,) if extra and dim != "principals" else ())


def _combine(pins: list[Pin], free: bool, allow: bool = False) -> Scope:
    cons = {d: ANY for d in DIMENSIONS}
    for dim, c in pins:
        cons[dim] = (meet_principals(cons[dim], c, widen=allow) if dim == "principals"
                     else cons[dim].meet(c))
    return Scope(cons["accounts"], cons["orgs"], cons["networks"], cons["principals"], free)


def allow_scope(conditions: tuple[Condition, ...]) -> Scope:
    """Conditions are ANDed; each restricting one narrows its dimension."""
    if not conditions:
        return UNCONDITIONAL
    return _allow_scope(conditions)


@lru_cache(maxsize=16_384)  # Condition blocks repeat across an estate: memoised by value
def _allow_scope(conditions: tuple[Condition, ...]) -> Scope:
    pins: list[Pin] = []
    free = False
    for cond in conditions:
        p = allow_pins(cond)
        if p:
            pins.extend(p)
        else:
            free = True
    return _combine(pins, free, allow=True)


def holds_for_every_iam_caller(cond: Condition) -> bool:
    """Whether a condition matches whatever value an IAM caller has for a key every IAM caller
    carries: ``Null "false"`` (the key is present) or ``StringLike "*"`` (any value)."""
    op = cond.operator
    if cond.key not in ALWAYS_PRESENT or op.negated:
        return False
    if op.family == "null":
        return "false" in {v.strip().lower() for v in cond.values}
    return op.base == "StringLike" and any(v and set(v) == {"*"} for v in cond.values)


def deny_scope(conditions: tuple[Condition, ...], for_services: bool = False) -> Scope:
    """Where a Deny certainly applies; ``free`` when a condition may not hold for a caller.

    ``for_services``: the scope for service principals, whose requests lack some caller
    identity keys (``service_keys.ABSENT_FOR_SERVICES``: a condition on one reads as on a
    missing key) and
    carry others with a value the policy cannot know.
    """
    if not conditions:
        return UNCONDITIONAL
    pins: list[Pin] = []
    for cond in conditions:
        if cond.key == IS_SERVICE_KEY:
            if service_flag_holds(cond, for_services):
                continue  # true for every caller of this kind: it narrows nothing
            return Scope(free=True)
        if for_services and absent_for_services(cond.key):
            # never in a service's request: the condition reads as on a missing key
            if condition_holds(cond, {}, variables=False):
                continue
            return Scope(free=True)
        if for_services and cond.key in IDENTITY_KEYS:
            # Its value in a service's request is unknown (the account it acts for, or none):
            # a negated condition denies every account but the ones it names, which leaves no
            # other customer's use; anything else may not hold.
            if cond.operator.negated and cond.operator.qualifier != "ForAnyValue":
                continue
            return Scope(free=True)
        if not for_services and holds_for_every_iam_caller(cond):
            continue
        p = deny_pins(cond)
        if p is None:
            return Scope(free=True)
        pins.extend(p)
    return _combine(pins, False)


def has_positive_via_service(conditions: tuple[Condition, ...]) -> bool:
    """True when kms:ViaService limits the statement to named services (no wildcard)."""
    return any(
        c.key == VIA_SERVICE_KEY
        and c.operator.is_positive
        and not c.operator.holds_when_missing
        and all(_fixed(v, c.operator.wildcards) for v in c.values)
        for c in conditions
    )


def is_service_scoped(conditions: tuple[Condition, ...]) -> bool:
    """True when a confused-deputy key pins the source account, resource or organisation."""
    return any(c.key in SERVICE_SCOPE_KEYS and allow_pins(c) for c in conditions)
