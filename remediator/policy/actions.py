"""The KMS action catalogue: every IAM action of AWS KMS, what it does, and wildcard expansion.

Source: the Service Authorization Reference, "Actions defined by AWS Key Management Service"
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_awskeymanagementservice.html),
cross-checked against botocore's KMS operation list (``ReEncrypt`` is authorised as the two
IAM actions ``kms:ReEncryptFrom`` and ``kms:ReEncryptTo``; ``kms:SynchronizeMultiRegionKey``
is an IAM-only action).

Actions are held as bits of an ``int`` so that statement evaluation is set arithmetic on
machine words: the engine analyses tens of thousands of policies a second.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache


class Category(StrEnum):
    """What an action lets a principal do with a key."""

    ADMIN = "administrative"
    CRYPTO = "cryptographic"
    GRANT = "grant-management"
    READ = "read"


@dataclass(frozen=True, slots=True)
class KmsAction:
    name: str  # as written in policies, e.g. "kms:Decrypt"
    category: Category
    destructive: bool = False
    # False for account-level actions (kms:ListKeys, kms:CreateKey, custom key stores...):
    # they have no key resource, so a key policy that names them grants nothing on the key.
    on_key: bool = True


_A, _C, _G, _R = Category.ADMIN, Category.CRYPTO, Category.GRANT, Category.READ

CATALOGUE: tuple[KmsAction, ...] = (
    KmsAction("kms:CancelKeyDeletion", _A),
    KmsAction("kms:ConnectCustomKeyStore", _A, on_key=False),
    KmsAction("kms:CreateAlias", _A),
    KmsAction("kms:CreateCustomKeyStore", _A, on_key=False),
    KmsAction("kms:CreateGrant", _G),
    KmsAction("kms:CreateKey", _A, on_key=False),
    KmsAction("kms:Decapsulate", _C),  # ML-KEM keys
    KmsAction("kms:Decrypt", _C),
    KmsAction("kms:DeleteAlias", _A),
    KmsAction("kms:DeleteCustomKeyStore", _A, on_key=False),
    KmsAction("kms:DeleteImportedKeyMaterial", _A, destructive=True),
    KmsAction("kms:DeriveSharedSecret", _C),
    KmsAction("kms:DescribeCustomKeyStores", _R, on_key=False),
    KmsAction("kms:DescribeKey", _R),
    KmsAction("kms:DisableKey", _A, destructive=True),
    KmsAction("kms:DisableKeyRotation", _A, destructive=True),
    KmsAction("kms:DisconnectCustomKeyStore", _A, on_key=False),
    KmsAction("kms:EnableKey", _A),
    KmsAction("kms:EnableKeyRotation", _A),
    KmsAction("kms:Encapsulate", _C),  # ML-KEM keys
    KmsAction("kms:Encrypt", _C),
    KmsAction("kms:GenerateDataKey", _C),
    KmsAction("kms:GenerateDataKeyPair", _C),
    KmsAction("kms:GenerateDataKeyPairWithoutPlaintext", _C),
    KmsAction("kms:GenerateDataKeyWithoutPlaintext", _C),
    KmsAction("kms:GenerateMac", _C),
    KmsAction("kms:GenerateRandom", _C, on_key=False),
    KmsAction("kms:GetKeyLastUsage", _R),
    KmsAction("kms:GetKeyPolicy", _R),
    KmsAction("kms:GetKeyRotationStatus", _R),
    KmsAction("kms:GetParametersForImport", _R),  # access level Read in the SAR
    KmsAction("kms:GetPublicKey", _R),
    KmsAction("kms:ImportKeyMaterial", _A),
    KmsAction("kms:ListAliases", _R, on_key=False),
    KmsAction("kms:ListGrants", _G),
    KmsAction("kms:ListKeyPolicies", _R),
    KmsAction("kms:ListKeyRotations", _R),
    KmsAction("kms:ListKeys", _R, on_key=False),
    KmsAction("kms:ListResourceTags", _R),
    KmsAction("kms:ListRetirableGrants", _G, on_key=False),
    KmsAction("kms:PutKeyPolicy", _A, destructive=True),
    KmsAction("kms:ReEncryptFrom", _C),
    KmsAction("kms:ReEncryptTo", _C),
    KmsAction("kms:ReplicateKey", _A),
    KmsAction("kms:RetireGrant", _G),
    KmsAction("kms:RevokeGrant", _G),
    KmsAction("kms:RotateKeyOnDemand", _A),
    KmsAction("kms:ScheduleKeyDeletion", _A, destructive=True),
    KmsAction("kms:Sign", _C),
    KmsAction("kms:SynchronizeMultiRegionKey", _A),
    KmsAction("kms:TagResource", _A),
    KmsAction("kms:UntagResource", _A),
    KmsAction("kms:UpdateAlias", _A),
    KmsAction("kms:UpdateCustomKeyStore", _A, on_key=False),
    KmsAction("kms:UpdateKeyDescription", _A),
    KmsAction("kms:UpdatePrimaryRegion", _A),
    KmsAction("kms:Verify", _C),
    KmsAction("kms:VerifyMac", _C),
)

KEY_ACTIONS: tuple[KmsAction, ...] = tuple(a for a in CATALOGUE if a.on_key)
_BIT = {a.name.lower(): 1 << i for i, a in enumerate(KEY_ACTIONS)}
_BY_LOWER = {a.name.lower(): a for a in CATALOGUE}

ALL_KEY_ACTIONS: int = (1 << len(KEY_ACTIONS)) - 1


def _mask_where(pred: object) -> int:
    assert callable(pred)
    m = 0
    for i, a in enumerate(KEY_ACTIONS):
        if pred(a):
            m |= 1 << i
    return m


ADMIN_MASK = _mask_where(lambda a: a.category is Category.ADMIN)
CRYPTO_MASK = _mask_where(lambda a: a.category is Category.CRYPTO)
GRANT_MASK = _mask_where(lambda a: a.category is Category.GRANT)
READ_MASK = _mask_where(lambda a: a.category is Category.READ)
DESTRUCTIVE_MASK = _mask_where(lambda a: a.destructive)


def bit(action: str) -> int:
    """The bit of one exact key action name (case-insensitive); 0 when it is not a key action."""
    return _BIT.get(action.lower(), 0)


def lookup(action: str) -> KmsAction | None:
    """The catalogue entry for an exact action name, any case."""
    return _BY_LOWER.get(action.lower())


@lru_cache(maxsize=4096)
def expand(pattern: str) -> int:
    """Key actions matched by one Action value: exact, ``kms:*``, ``*``, ``kms:Decrypt*``, ``?``.

    Action names are case-insensitive in IAM
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html).
    Actions of other services (``s3:GetObject``) match nothing.
    """
    p = pattern.strip().lower()
    if p == "*":
        return ALL_KEY_ACTIONS
    if "*" not in p and "?" not in p:
        return _BIT.get(p, 0)
    rx = re.compile(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in p), re.DOTALL
    )
    m = 0
    for name, b in _BIT.items():
        if rx.fullmatch(name):
            m |= b
    return m


@lru_cache(maxsize=4096)
def names(mask: int) -> tuple[str, ...]:
    """Action names of a mask in catalogue order; the whole set is spelt ``kms:*``."""
    if mask & ALL_KEY_ACTIONS == ALL_KEY_ACTIONS:
        return ("kms:*",)
    return tuple(a.name for i, a in enumerate(KEY_ACTIONS) if mask >> i & 1)


@lru_cache(maxsize=4096)
def full_names(mask: int) -> tuple[str, ...]:
    """Every action name in a mask, never abbreviated."""
    return tuple(a.name for i, a in enumerate(KEY_ACTIONS) if mask >> i & 1)
