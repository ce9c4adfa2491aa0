"""How a condition reads on one known caller's plain request (used for the owner root).

The lockout rule asks whether the owner root can call kms:PutKeyPolicy: that is its plain
request, a direct call over TLS, not through a service, without bypassing the lockout safety
check (stating so, or leaving the parameter out: two requests, ``Identity.states_bypass``).
What such a request carries, and what it lacks, decides each condition; what a policy cannot
know (the caller's address, the time, MFA) is left undecided.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from remediator.policy.condition_keys import USERID_KEY
from remediator.policy.document import Condition
from remediator.policy.matchers import Unresolvable, condition_holds
from remediator.policy.principals import has_wildcard


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


@lru_cache(maxsize=1024)
def _facts(who: Identity) -> dict[str, tuple[str, ...]]:
    """Every key ``who``'s plain request carries with a value the policy can know."""
    facts: dict[str, tuple[str, ...]] = {k: (v,) for k, v in _PLAIN_REQUEST.items()}
    facts.update({"aws:principalaccount": (who.account,), "kms:calleraccount": (who.account,),
                  "aws:principalarn": (who.arn,), "aws:resourceaccount": (who.account,)})
    if who.org_id:
        facts["aws:principalorgid"] = (who.org_id,)
        facts["aws:resourceorgid"] = (who.org_id,)
    if who.arn.endswith(":root"):
        facts[USERID_KEY] = (who.account,)  # the root user's aws:userid is the account id
        facts["aws:principaltype"] = ("Account",)
    if not who.states_bypass:
        del facts[BYPASS_KEY]
    return facts


# PutKeyPolicy takes no tags, so its request has no aws:RequestTag/* or aws:TagKeys; and the
# root user has no principal tags: aws:PrincipalTag/* is "included in the request context if
# the principal is using an IAM user with attached tags" or a role with tags or session tags
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principaltag).
ABSENT_PREFIXES = ("kms:encryptioncontext:", "aws:requesttag/")


BYPASS_KEY = "kms:bypasspolicylockoutsafetycheck"


def _is_absent(key: str, who: Identity) -> bool:
    return (key in ABSENT_FROM_A_DIRECT_CALL or key == "aws:tagkeys"
            or (key == BYPASS_KEY and not who.states_bypass)
            or (key == "aws:principalorgid" and not who.org_id)
            or key.startswith(ABSENT_PREFIXES)
            or (key.startswith("aws:principaltag/") and who.arn.endswith(":root")))


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


def holds_for(cond: Condition, who: Identity, variables: bool = True) -> bool | None:
    """Whether a condition holds for ``who``'s plain request (a direct call over TLS, not
    through a service, without bypassing the lockout safety check): True, False, or None when
    it depends on what a policy cannot know (the caller's address, the time, MFA...).

    Decided by the concrete operator semantics the evaluator uses (``matchers``): several
    values are ORed (``Null ["true", "false"]`` always holds), ARN operators match component by
    component, and policy variables take the request's values (``variables``: the policy's
    Version is 2012-10-17; in any other they are the text they are)."""
    op = cond.operator
    if cond.key == "aws:principalorgpaths" and op.family == "string":
        hit = _org_path_hit(cond, who)
        return None if hit is None else (not hit if op.negated else hit)
    facts = _facts(who)
    if cond.key not in facts and not _is_absent(cond.key, who):
        return None
    try:
        return condition_holds(cond, facts, variables=variables)
    except Unresolvable:
        return None  # a variable on a key the policy cannot know
