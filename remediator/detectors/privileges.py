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
from remediator.policy.access import Access, Grantee, compile_statement
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
    # What the Denies left: a principal still holds every action when its accesses through
    # this statement together cover them all (a conditional Deny splits one access in two).
    held: dict[str, int] = {}
    for a in accs:
        if not is_authorised(a.grantee, ctx):
            held[a.grantee.label] = held.get(a.grantee.label, 0) | a.mask
    wrong = [label for label, mask in held.items() if mask == kms.ALL_KEY_ACTIONS]
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


def _as_key(arn: str) -> str:
    p = parse_aws_principal(arn)
    return root_arn(p.account) if p.is_root and p.account else arn


def _principal_keys(g: Grantee) -> tuple[str, ...]:
    """Who holds an access, one name per principal it can be, so that two statements that
    reach the same principal add up: an exact principal; each ARN a condition left it to; or
    the principal as written with the accounts, organisations and networks it is pinned to
    (two "*" pinned to different accounts are different principals)."""
    if g.arn is not None:
        return (_as_key(g.arn),)
    if g.principals.include is not None:
        return tuple(sorted(_as_key(p) for p in g.principals.values()))
    pins = [f"{name} {', '.join(sorted(c.values()))}" for name, c in (
        ("account", g.accounts), ("organisation", g.orgs), ("network", g.networks))
        if c.include is not None]
    return (f"{g.label} in {'; '.join(pins)}" if pins else g.label,)


def holdings(accesses: Iterable[Access], ctx: Context) -> tuple[tuple[str, int, Access], ...]:
    """(principal, actions, access) for each access IAM-KMS-8 weighs: all but the owner root's."""
    owner_root = root_arn(ctx.owner_account)
    return tuple([
        (key, acc.mask, acc)
        for acc in accesses
        if not is_owner_root(acc.grantee, ctx)
        for key in _principal_keys(acc.grantee)
        if key != owner_root
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
