"""KMS-WILDCARD-ACTION and IAM-KMS-2/3/4/5/7: rights held by the wrong principals."""

from __future__ import annotations

from remediator.detectors.analysis import is_authorised, named, statement_finding
from remediator.policy import actions as kms
from remediator.policy.access import Access, compile_statement
from remediator.policy.document import Statement
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
    # What the Denies left: a principal still holds every action when its accesses through
    # this statement together cover them all (a conditional Deny splits one access in two).
    held: dict[str, int] = {}
    unauthorised = [a for a in accs if not is_authorised(a.grantee, ctx)]
    for a in unauthorised:
        held[a.grantee.label] = held.get(a.grantee.label, 0) | a.mask
    wrong = [label for label, mask in held.items() if mask == kms.ALL_KEY_ACTIONS]
    if not wrong:
        return []
    who = named([a for a in unauthorised if a.grantee.label in wrong], ctx)
    return [
        statement_finding(
            "KMS-WILDCARD-ACTION",
            stmt,
            wrong,
            ("kms:*",),
            f"grants every KMS action to {who}, who are not key administrators.",
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
    # Most often every risky grantee holds every destructive action (kms:*): then each rule's
    # holders are all of them, listed and named once.
    common = kms.DESTRUCTIVE_MASK
    for a in risky:
        common &= a.mask
    everyone: tuple[list[str], str] | None = None
    for rule_id, action, b in _DESTRUCTIVE_BITS:
        if common & b:
            if everyone is None:
                everyone = ([a.grantee.label for a in risky], named(risky, ctx))
            wrong, who = everyone
        else:
            holders = [a for a in risky if a.mask & b]
            if not holders:
                continue
            wrong, who = [a.grantee.label for a in holders], named(holders, ctx)
        out.append(statement_finding(rule_id, stmt, wrong, (action,),
                                     f"lets {who} call {action}, which only {_AUTHORISED} "
                                     "should hold."))
    return out
