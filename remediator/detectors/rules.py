"""The rule catalogue: stable ids, default severities and the seed each comes from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    severity: str
    title: str
    reference: str


_EXPOSED = "kms-keys-not-exposed-control; kms-keys-resource-exposure"
_GUARD = "iam-kms-guardrails"

RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule("KMS-PUBLIC", "critical", "Any principal can use the key", _EXPOSED),
        Rule("KMS-CROSS-ACCOUNT", "high", "An untrusted account can use the key",
             _EXPOSED + "; kms-best-practices"),
        Rule("KMS-SERVICE-UNSCOPED", "medium",
             "A service principal is not scoped to a source account (confused deputy)",
             "kms-keys-not-exposed-control, implementation step 6"),
        Rule("KMS-WILDCARD-ACTION", "high", "kms:* granted to a non-administrator",
             "kms-keys-not-exposed-control"),
        Rule("KMS-GRANT-EXTERNAL", "high", "A grant names a principal outside the trust",
             "kms-keys-not-exposed-control"),
        Rule("IAM-KMS-1", "high", "The owner root cannot manage the key policy (lockout risk)",
             _GUARD + " IAM-KMS-1"),
        Rule("IAM-KMS-2", "high", "Unauthorised principals can delete imported key material",
             _GUARD + " IAM-KMS-2"),
        Rule("IAM-KMS-3", "high", "Unauthorised principals can schedule key deletion",
             _GUARD + " IAM-KMS-3"),
        Rule("IAM-KMS-4", "medium", "Unauthorised principals can disable the key",
             _GUARD + " IAM-KMS-4"),
        Rule("IAM-KMS-5", "high", "Unauthorised principals can replace the key policy",
             _GUARD + " IAM-KMS-5"),
        Rule("IAM-KMS-6", "low", "Key use is not limited to AWS services with kms:ViaService",
             _GUARD + " IAM-KMS-6"),
        Rule("IAM-KMS-7", "medium", "Unauthorised principals can disable key rotation",
             _GUARD + " IAM-KMS-7"),
        Rule("IAM-KMS-8", "medium",
             "A principal holds both administrative and cryptographic rights",
             _GUARD + " IAM-KMS-8"),
        Rule("KMS.1", "medium",
             "An IAM policy allows kms:Decrypt or kms:ReEncryptFrom on all keys",
             "securityhub-kms-1"),
    )
}

SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
