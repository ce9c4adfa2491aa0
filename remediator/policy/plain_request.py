"""How a condition reads on one known caller's plain request (used for the owner root).

The lockout rule asks whether the owner root can call kms:PutKeyPolicy: that is its plain
request, a direct call over TLS, not through a service, without bypassing the lockout safety
check (stating so, or leaving the parameter out: two requests, ``Identity.states_bypass``).
What such a request carries, and what it lacks, decides each condition; what a policy cannot
know (the caller's address, the time, MFA) is left undecided.
"""

from __future__ import annotations

from dataclasses import dataclass

from remediator.policy.condition_keys import USERID_KEY
from remediator.policy.document import Condition
from remediator.policy.operators import Operator
from remediator.policy.principals import glob_match, has_wildcard


@dataclass(frozen=True, slots=True)
class Identity:
    """A known caller. ``states_bypass``: its request sets BypassPolicyLockoutSafetyCheck to
    false (the key is "false"); without, it leaves the parameter out and the key is absent:
    "When the parameter is not used, the default value is false", and a ``Null "true"``
    condition allows "only when the request does not include the
    BypassPolicyLockoutSafetyCheck parameter" (conditions-kms.html, that key's section)."""

    account: str
    arn: str
    org_id: str | None = None
    states_bypass: bool = True


# Keys a plain request carries with a value the caller sets: over TLS, not bypassing the lockout
# safety check (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html,
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
_PLAIN_REQUEST = {"aws:securetransport": "true", "kms:bypasspolicylockoutsafetycheck": "false",
                  "aws:viaawsservice": "false", "aws:principalisawsservice": "false"}
# Keys a direct call by a principal does not carry: only a service acting for it, a grant
# operation or a cryptographic request with an encryption context does.
ABSENT_FROM_A_DIRECT_CALL = frozenset({
    "kms:viaservice", "kms:grantisforawsresource", "kms:grantoperations",
    "kms:granteeprincipal", "kms:retiringprincipal", "kms:encryptioncontextkeys",
    "aws:sourcearn", "aws:sourceaccount", "aws:sourceowner", "aws:sourceorgid",
    "aws:sourceorgpaths", "aws:calledvia", "aws:calledviafirst", "aws:calledvialast",
    "aws:sourcevpc", "aws:sourcevpce", "aws:principalservicename",
    "aws:principalservicenameslist",
})


def _identity_value(key: str, who: Identity) -> str | None:
    if key in ("aws:principalaccount", "kms:calleraccount"):
        return who.account
    if key == "aws:principalarn":
        return who.arn
    if key == "aws:principalorgid":
        return who.org_id
    if who.arn.endswith(":root"):
        if key == USERID_KEY:
            return who.account  # the root user's aws:userid is the account id
        if key == "aws:principaltype":
            return "Account"
    return _PLAIN_REQUEST.get(key)


# PutKeyPolicy takes no tags, so its request has no aws:RequestTag/* or aws:TagKeys; and the
# root user has no principal tags: aws:PrincipalTag/* is "included in the request context if
# the principal is using an IAM user with attached tags" or a role with tags or session tags
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principaltag).
ABSENT_PREFIXES = ("kms:encryptioncontext:", "aws:requesttag/")


BYPASS_KEY = "kms:bypasspolicylockoutsafetycheck"


def _is_absent(key: str, who: Identity) -> bool:
    return (key in ABSENT_FROM_A_DIRECT_CALL or key == "aws:tagkeys"
            or (key == BYPASS_KEY and not who.states_bypass)
            or key.startswith(ABSENT_PREFIXES)
            or (key.startswith("aws:principaltag/") and who.arn.endswith(":root")))


def _matches(cond: Condition, value: str) -> bool:
    op = cond.operator
    if op.family in ("string", "arn"):
        if op.wildcards:
            return any(glob_match(p, value, op.ignore_case) for p in cond.values)
        if op.ignore_case:
            return value.lower() in {v.lower() for v in cond.values}
        return value in cond.values
    if op.family == "bool":
        return value in {v.lower() for v in cond.values}
    return False


def _org_path_hit(cond: Condition, who: Identity) -> bool | None:
    """Whether ``who``'s organisation path matches a value: certainly for ``o-id/*``, certainly
    not when every value starts with another organisation's id (a path starts with its own:
    ``o-id/r-id/ou-id/``), else unknown (which OU it is in, the policy cannot say)."""
    op = cond.operator
    if not who.org_id:
        return None
    if op.wildcards and f"{who.org_id}/*" in cond.values:
        return True
    org = who.org_id.lower() if op.ignore_case else who.org_id
    heads = [v.split("/", 1)[0] for v in cond.values]
    if all((h.lower() if op.ignore_case else h) != org
           and not (op.wildcards and has_wildcard(h)) for h in heads):
        return False
    return None


def _absent_key_result(op: Operator) -> bool:
    """A condition on a key the request does not carry
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html):
    Null "true" holds; ForAllValues, IfExists and negated operators hold; the rest do not."""
    if op.family == "null":
        return True  # decided by the caller from the values
    if op.qualifier == "ForAllValues" or op.if_exists:
        return True
    if op.qualifier == "ForAnyValue":
        return False
    return op.negated


def holds_for(cond: Condition, who: Identity) -> bool | None:
    """Whether a condition holds for ``who``'s plain request (a direct call over TLS, not
    through a service, without bypassing the lockout safety check): True, False, or None when
    it depends on what a policy cannot know (the caller's address, the time, MFA...)."""
    op = cond.operator
    if cond.key == "aws:principalorgpaths" and op.family == "string":
        hit = _org_path_hit(cond, who)
        return None if hit is None else (not hit if op.negated else hit)
    if _is_absent(cond.key, who):
        if op.family == "null":
            return cond.values == ("true",)
        return _absent_key_result(op)
    value = _identity_value(cond.key, who)
    if value is None or op.family not in ("string", "arn", "bool", "null"):
        return None
    if op.family == "null":
        return cond.values == ("false",)  # the key is present
    hit = _matches(cond, value)
    return (not hit) if op.negated else hit
