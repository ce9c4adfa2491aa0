"""Condition keys that only some actions' requests carry.

An encryption context comes only with cryptographic and grant operations,
``kms:GrantIsForAWSResource`` only with CreateGrant, ListGrants and RevokeGrant, request tags
only with tagging calls. A condition that fails when its key is missing (a positive operator,
``ForAnyValue``, ``Null "false"``) therefore holds for no other action: ``"*"`` allowed
``kms:*`` under an encryption context condition may encrypt and decrypt, but never call
PutKeyPolicy, whose request has no encryption context. A Deny's condition on such a key reads,
for the other actions, as it does on a missing key: ``StringNotEquals`` on an encryption
context certainly holds for PutKeyPolicy, so that Deny certainly denies it. Pages:
  https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html (each key's operations)
  https://docs.aws.amazon.com/kms/latest/developerguide/grant-authorization.html (grant keys)
  https://docs.aws.amazon.com/kms/latest/developerguide/kms-api-permissions-reference.html
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-requesttag

Each key maps to a superset of the key actions whose requests may carry it (a whole category
where the pages list some of its actions), so that no action a key can come with is ever
taken away. Keys not listed may come with any action.
"""

from __future__ import annotations

from functools import lru_cache

from remediator.policy import actions as kms
from remediator.policy.document import Condition
from remediator.policy.matchers import condition_holds

_CRYPTO_OR_GRANT = kms.CRYPTO_MASK | kms.GRANT_MASK

# Exact keys (lower case) -> the key actions whose requests may carry them.
_SCOPED_KEYS: dict[str, int] = {
    # Encrypt, Decrypt, ReEncrypt*, GenerateDataKey*, and grant constraints in CreateGrant.
    "kms:encryptioncontextkeys": _CRYPTO_OR_GRANT,
    # CreateGrant, ListGrants, RevokeGrant ("only when an AWS service ... sends the request").
    "kms:grantisforawsresource": kms.GRANT_MASK,
    # The parameters of CreateGrant.
    "kms:grantoperations": kms.GRANT_MASK,
    "kms:granteeprincipal": kms.GRANT_MASK,
    "kms:retiringprincipal": kms.GRANT_MASK,
    "kms:grantconstrainttype": kms.GRANT_MASK,
    # Algorithms of cryptographic calls (Encrypt/Decrypt/ReEncrypt, Sign/Verify,
    # GenerateMac/VerifyMac) and ReEncrypt's same-key flag.
    "kms:encryptionalgorithm": kms.CRYPTO_MASK,
    "kms:signingalgorithm": kms.CRYPTO_MASK,
    "kms:messagetype": kms.CRYPTO_MASK,
    "kms:macalgorithm": kms.CRYPTO_MASK,
    "kms:reencryptonsamekey": kms.CRYPTO_MASK,
    # Parameters of key-management calls: PutKeyPolicy (and CreateKey), ScheduleKeyDeletion,
    # EnableKeyRotation; tags come with TagResource, UntagResource, ReplicateKey (and CreateKey).
    "kms:bypasspolicylockoutsafetycheck": kms.ADMIN_MASK,
    "kms:schedulekeydeletionpendingwindowindays": kms.ADMIN_MASK,
    "kms:rotationperiodindays": kms.ADMIN_MASK,
    "aws:tagkeys": kms.ADMIN_MASK,
}
# Key prefixes (lower case) -> the same.
_SCOPED_PREFIXES: tuple[tuple[str, int], ...] = (
    ("kms:encryptioncontext:", _CRYPTO_OR_GRANT),
    ("aws:requesttag/", kms.ADMIN_MASK),
)


def actions_carrying(key: str) -> int:
    """The key actions whose requests may carry a condition key (lower case)."""
    scoped = _SCOPED_KEYS.get(key)
    if scoped is not None:
        return scoped
    for prefix, mask in _SCOPED_PREFIXES:
        if key.startswith(prefix):
            return mask
    return kms.ALL_KEY_ACTIONS


def is_scoped(key: str) -> bool:
    return actions_carrying(key) != kms.ALL_KEY_ACTIONS


def needs_the_key(cond: Condition) -> bool:
    """Whether a condition fails on a request that lacks its key (the evaluator's reading)."""
    return not condition_holds(cond, {}, variables=False)


@lru_cache(maxsize=16_384)  # condition blocks repeat across an estate: memoised by value
def condition_actions(conditions: tuple[Condition, ...]) -> int:
    """The key actions an Allow's conditions can hold for: each condition that needs its key
    leaves only the actions whose requests carry it."""
    mask = kms.ALL_KEY_ACTIONS
    for cond in conditions:
        scoped = actions_carrying(cond.key)
        if scoped != kms.ALL_KEY_ACTIONS and needs_the_key(cond):
            mask &= scoped
    return mask


@lru_cache(maxsize=16_384)
def split_by_carried_keys(conditions: tuple[Condition, ...], mask: int
                          ) -> tuple[tuple[int, tuple[Condition, ...]], ...]:
    """A Deny's actions ``mask``, split by which of its conditions' keys their requests may
    carry, each part with the conditions left to decide it. For the actions whose requests
    never carry a key, its condition is settled as on a missing key: one that holds there
    (a negated operator, ``...IfExists``, ``ForAllValues``, ``Null "true"``) is dropped, and
    one that fails leaves the Deny no hold on those actions (the part is dropped)."""
    parts = [(mask, conditions)]
    for cond in conditions:
        carried = actions_carrying(cond.key)
        if carried == kms.ALL_KEY_ACTIONS:
            continue
        holds_without = not needs_the_key(cond)
        split: list[tuple[int, tuple[Condition, ...]]] = []
        for part_mask, left in parts:
            if part_mask & carried:
                split.append((part_mask & carried, left))
            if part_mask & ~carried and holds_without:
                split.append((part_mask & ~carried, tuple([c for c in left if c is not cond])))
        parts = split
    return tuple(parts)
