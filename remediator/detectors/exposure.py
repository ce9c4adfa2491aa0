"""KMS-PUBLIC, KMS-CROSS-ACCOUNT, KMS-SERVICE-UNSCOPED: who outside the trust can use the key."""

from __future__ import annotations

from remediator.detectors.analysis import (
    foreign_orgs,
    statement_finding,
    untrusted_accounts,
)
from remediator.policy import actions as kms
from remediator.policy.access import AWS, SERVICE, Access, Grantee
from remediator.policy.condition_keys import SERVICE_SCOPE_KEYS
from remediator.policy.document import Statement
from remediator.policy.principals import is_account_id, split_arn
from remediator.policy.service_context import service_context_accounts
from remediator.types import Context, Finding


def _in_any_account(g: Grantee) -> bool:
    """``"*"`` left to principals ARN patterns match in any account (what a Deny's
    ``ArnNotLike aws:PrincipalArn "arn:aws:iam::*:role/Admin"`` spares): open to every account,
    as ``"*"`` under such a pattern is (a wildcard account part pins no account). A unique id
    (``aws:userid``) names one principal, in an account the policy does not say: not this."""
    if g.arn is not None or g.principals.include is None or not (
            g.accounts.include is None and g.orgs.include is None
            and g.networks.include is None):
        return False
    for v in g.principals.include:
        if v == "*" or (v.startswith("arn:") and (
                (arn := split_arn(v)) is None or not is_account_id(arn.account))):
            return True
    return False


def detect_public(stmt: Statement, accs: tuple[Access, ...], ctx: Context) -> list[Finding]:
    """An Allow that any caller can use: no condition pins the account, organisation or path."""
    open_accs = [a for a in accs if a.grantee.kind == AWS
                 and (a.grantee.is_open or _in_any_account(a.grantee))]
    if not open_accs:
        return []
    mask = _actions_of(open_accs)
    return [
        statement_finding(
            "KMS-PUBLIC",
            stmt,
            (a.grantee.label for a in open_accs),
            kms.names(mask),
            f"lets any AWS principal, in any account, call "
            f"{_summary(mask)} on the key: no condition pins the caller's account, "
            "organisation or network.",
        )
    ]


def detect_cross_account(stmt: Statement, accs: tuple[Access, ...], ctx: Context) -> list[Finding]:
    """An Allow to accounts (or a foreign organisation) that are neither the owner nor trusted."""
    accounts: dict[str, None] = {}
    orgs: dict[str, None] = {}
    labels: list[str] = []
    mask = 0
    for a in accs:
        g = a.grantee
        if g.accounts.include is None and g.orgs.include is None:
            continue  # pinned to no account or organisation: nothing to weigh against the trust
        bad = untrusted_accounts(g, ctx) + foreign_orgs(g, ctx)
        if not bad:
            continue
        for x in bad:
            (orgs if x.startswith("o-") else accounts)[x] = None
        labels.append(a.grantee.label)
        mask |= a.mask
    if not labels:
        return []
    who = ", ".join([f"account {x}" for x in accounts] + [f"organisation {o}" for o in orgs])
    return [
        statement_finding(
            "KMS-CROSS-ACCOUNT",
            stmt,
            labels,
            kms.names(mask),
            f"lets {who}, outside the trusted accounts, call "
            f"{_summary(mask)} on the key.",
        )
    ]


def detect_unscoped_service(
    stmt: Statement, accs: tuple[Access, ...], ctx: Context
) -> list[Finding]:
    """A service principal any customer's resources can drive (no aws:SourceAccount/SourceArn)."""
    services = [
        a
        for a in accs
        if a.grantee.kind == SERVICE
        and a.grantee.accounts.include is None
        and a.grantee.orgs.include is None
        and a.grantee.principals.include is None
    ]
    if not services:
        return []
    mask = _actions_of(services)
    names = ", ".join(dict.fromkeys(a.grantee.label for a in services))
    tied = _tied_by_context(stmt)
    if tied is not None:
        return [_tied_finding(stmt, services, mask, names, tied, ctx)]
    return [
        statement_finding(
            "KMS-SERVICE-UNSCOPED",
            stmt,
            (a.grantee.label for a in services),
            kms.names(mask),
            f"lets {names} call {_summary(mask)} on the key on behalf of any customer: "
            f"{_scoping_advice(stmt)}",
        )
    ]


def _tied_by_context(stmt: Statement) -> frozenset[str] | None:
    """The accounts the statement's services are tied to by their own encryption context
    (``policy.service_context``), or None."""
    services = stmt.principal.service if stmt.principal is not None else ()
    return service_context_accounts(stmt.conditions, services) if services else None


def _tied_finding(stmt: Statement, services: list[Access], mask: int, names: str,
                  accounts: frozenset[str], ctx: Context) -> Finding:
    """A service tied to some accounts' resources by its own encryption context only: not "any
    customer", but without the aws:SourceArn/aws:SourceAccount the rule asks for (AWS
    recommends aws:SourceArn beside the context, e.g. for CloudTrail:
    https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html).
    Low when every account is trusted (defence in depth); else the rule's severity."""
    outside = sorted(a for a in accounts if not ctx.is_trusted_account(a))
    whose = (f"resources of {', '.join(outside)}, outside the trusted accounts" if outside
             else f"resources of {', '.join(sorted(accounts))}")
    found = statement_finding(
        "KMS-SERVICE-UNSCOPED", stmt, (a.grantee.label for a in services), kms.names(mask),
        f"lets {names} call {_summary(mask)} on the key for {whose}, tied only by the "
        "service's own encryption context: add aws:SourceArn (or aws:SourceAccount) where "
        "the service's guide shows it, against the confused deputy.")
    return found if outside else found._replace(severity="low")


_SOURCE_KEYS = {k.lower(): k for k in ("aws:SourceAccount", "aws:SourceArn", "aws:SourceOwner",
                                          "aws:SourceOrgID", "aws:SourceOrgPaths")}


def _scoping_advice(stmt: Statement) -> str:
    """What to add; a source condition already there pins no one account (an S3 bucket's ARN
    holds none, a wildcard may stand for any, or StringLike lets "*" span the ARN's colons)."""
    present = sorted({_SOURCE_KEYS.get(c.key, c.key) for c in stmt.conditions
                      if c.key in SERVICE_SCOPE_KEYS})
    if not present:
        return "add an aws:SourceAccount or aws:SourceArn condition."
    return (f"its {', '.join(present)} condition does not pin one account; add "
            "aws:SourceAccount (or an ArnLike aws:SourceArn that names the account).")


def _actions_of(accs: list[Access]) -> int:
    mask = 0
    for a in accs:
        mask |= a.mask
    return mask


def _summary(mask: int) -> str:
    names = kms.names(mask)
    if len(names) <= 3:
        return ", ".join(names)
    return f"{len(names)} actions including {', '.join(names[:2])}"
