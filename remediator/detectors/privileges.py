"""KMS-WILDCARD-ACTION, IAM-KMS-2/3/4/5/7 and IAM-KMS-8: rights held by the wrong principals."""

from __future__ import annotations

from collections.abc import Iterable

from remediator.detectors.analysis import (
    PolicyAnalysis,
    finding,
    is_authorised,
    is_owner_root,
    statement_finding,
)
from remediator.policy import actions as kms
from remediator.policy.access import Access, compile_statement
from remediator.policy.document import Statement
from remediator.policy.principals import parse_aws_principal, root_arn
from remediator.types import Context, Finding

# Guardrail id -> the destructive action it protects (iam-kms-guardrails).
DESTRUCTIVE_RULES: dict[str, str] = {
    "IAM-KMS-2": "kms:DeleteImportedKeyMaterial",
    "IAM-KMS-3": "kms:ScheduleKeyDeletion",
    "IAM-KMS-4": "kms:DisableKey",
    "IAM-KMS-5": "kms:PutKeyPolicy",
    "IAM-KMS-7": "kms:DisableKeyRotation",
}
_AUTHORISED = "the owner root and the configured key administrators"


def detect_wildcard_action(
    stmt: Statement, accs: tuple[Access, ...], ctx: Context
) -> list[Finding]:
    """A statement granting every key action (kms:* or *) to someone not an administrator."""
    if compile_statement(stmt).mask != kms.ALL_KEY_ACTIONS:
        return []
    wrong = [a.grantee.label for a in accs if not is_authorised(a.grantee, ctx)]
    if not wrong:
        return []
    return [
        statement_finding(
            "KMS-WILDCARD-ACTION",
            stmt,
            wrong,
            ("kms:*",),
            f"grants every KMS action to "
            f"{', '.join(dict.fromkeys(wrong))}, who are not key administrators.",
        )
    ]


_DESTRUCTIVE_BITS = tuple(
    (rule_id, action, kms.bit(action)) for rule_id, action in DESTRUCTIVE_RULES.items()
)


def detect_destructive(stmt: Statement, accs: tuple[Access, ...], ctx: Context) -> list[Finding]:
    """Each destructive action allowed to a principal other than the authorised ones."""
    risky = [a for a in accs if a.mask & kms.DESTRUCTIVE_MASK and not is_authorised(a.grantee, ctx)]
    if not risky:
        return []
    out = []
    for rule_id, action, b in _DESTRUCTIVE_BITS:
        wrong = [a.grantee.label for a in risky if a.mask & b]
        if wrong:
            who = ", ".join(dict.fromkeys(wrong))
            out.append(
                statement_finding(
                    rule_id,
                    stmt,
                    wrong,
                    (action,),
                    f"lets {who} call {action}, which only "
                    f"{_AUTHORISED} should hold.",
                )
            )
    return out


def _principal_key(acc: Access) -> str:
    g = acc.grantee
    if g.arn is not None:
        p = parse_aws_principal(g.arn)
        if p.is_root and p.account:
            return root_arn(p.account)
        return g.arn
    return g.label


def holdings(accesses: Iterable[Access], ctx: Context) -> tuple[tuple[str, int, Access], ...]:
    """(principal, actions, access) for each access IAM-KMS-8 weighs: all but the owner root's."""
    return tuple([
        (_principal_key(acc), acc.mask, acc)
        for acc in accesses
        if not is_owner_root(acc.grantee, ctx)
    ])


def separation_findings(held: dict[str, int], first_admin: dict[str, Access]) -> list[Finding]:
    """IAM-KMS-8 for each principal holding both kinds of rights (``held``: principal -> mask,
    ``first_admin``: principal -> the first access that gave it an administrative right)."""
    out = []
    for key, mask in held.items():
        if mask & kms.ADMIN_MASK and mask & kms.CRYPTO_MASK:
            acc = first_admin[key]
            out.append(
                finding(
                    "IAM-KMS-8",
                    acc.statement,
                    (key,),
                    kms.names(mask & (kms.ADMIN_MASK | kms.CRYPTO_MASK)),
                    f"{key} can both manage the key and use it for cryptography; "
                    "give administration and use to separate principals.",
                )
            )
    return out


def add_holdings(
    held: dict[str, int], first_admin: dict[str, Access], items: tuple[tuple[str, int, Access], ...]
) -> None:
    for key, mask, acc in items:
        held[key] = held.get(key, 0) | mask
        if mask & kms.ADMIN_MASK and key not in first_admin:
            first_admin[key] = acc


def detect_separation_of_duties(analysis: PolicyAnalysis, ctx: Context) -> list[Finding]:
    """One principal (not the owner root) with both key-management and cryptographic rights."""
    held: dict[str, int] = {}
    first_admin: dict[str, Access] = {}
    add_holdings(held, first_admin, holdings(analysis.accesses, ctx))
    return separation_findings(held, first_admin)
