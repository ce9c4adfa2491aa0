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
from remediator.policy.access import AWS, Access, Grantee, compile_statement
from remediator.policy.constraints import ANY, Constraint, meet_principals
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


def _is_class(g: Grantee) -> bool:
    """An IAM grantee that stands for whoever its pins leave ("*", a web identity provider) or
    for a whole account (another account's root: that account's IAM policies pass its rights
    on to any of its principals), rather than for principals it names."""
    return g.kind == AWS and (g.is_root or (g.arn is None and g.principals.include is None))


def _common_callers(c: Grantee, e: Grantee) -> Grantee | None:
    """The callers who are both ``c`` (a class) and ``e``, or None when no caller is both.

    Holding a right is a property of the principal, not of one request: a principal reached
    by one statement from one network and by another from a second network holds both rights,
    so networks do not part them (an account, an organisation and the principal do)."""
    if e.kind != AWS:
        return None
    accounts, orgs = c.accounts.meet(e.accounts), c.orgs.meet(e.orgs)
    if accounts.is_empty or orgs.is_empty:
        return None
    spared = c.principals.exclude
    if e.arn is not None:  # one principal, or another account's root: the whole account
        return None if e.arn in spared and not e.is_root else e
    if e.principals.include is not None:
        left = e.principals.include - spared
        return e._replace(principals=Constraint(left, e.principals.exclude)) if left else None
    if c.is_root:
        return c  # the callers of a class in the root's account: that account
    if c.label == "*":
        label = e.label
    elif e.label in ("*", c.label):
        label = c.label
    else:
        return None  # two different identity providers' users
    return Grantee(AWS, label, accounts, orgs, ANY, meet_principals(c.principals, e.principals))


Holding = tuple[str, int, Access]


def _holds_both(mask: int) -> bool:
    return bool(mask & kms.ADMIN_MASK and mask & kms.CRYPTO_MASK)


def _within(outer: Constraint, inner: Constraint) -> bool:
    """Every value ``inner`` allows, ``outer`` allows."""
    if outer.include is None:
        if inner.include is None:
            return outer.exclude <= inner.exclude
        return not (inner.include & outer.exclude)
    return inner.include is not None and inner.values() <= outer.values()


def _contains(f: Grantee, g: Grantee) -> bool:
    """Whether every caller of ``g`` is one of the class ``f`` (whatever their networks)."""
    return (
        g.kind == AWS
        and (f.is_root or f.label in ("*", g.label))
        and _within(f.accounts, g.accounts)
        and _within(f.orgs, g.orgs)
        and (not f.principals.exclude or (g.arn is not None and not g.is_root
                                           and g.arn not in f.principals.exclude))
    )


def _shared_holdings(items: list[Holding] | tuple[Holding, ...], held: dict[str, int]
                     ) -> list[Holding]:
    """What principals hold through a class that also reaches them: "*" with a right reaches
    every principal another statement names, and two classes reach the callers both pin.
    A class already holding both kinds of rights (``held``) is reported as itself, which
    covers every caller in it."""
    classes = {id(acc): acc for _, _, acc in items if _is_class(acc.grantee)}
    if not classes:
        return []

    def covered(acc: Access) -> bool:
        return all(_holds_both(held.get(k, 0)) for k in _principal_keys(acc.grantee))

    full = [c.grantee for c in classes.values() if covered(c)]
    out: list[Holding] = []
    seen: set[tuple[int, int]] = set()
    for c in classes.values():
        if covered(c):
            continue
        for _, _, e in items:
            pair = (id(c), id(e))
            if e is c or pair in seen or (pair[1], pair[0]) in seen or covered(e):
                continue
            seen.add(pair)
            common = _common_callers(c.grantee, e.grantee)
            if common is None or any(_contains(f, common) for f in full):
                continue
            mask = c.mask | e.mask
            first = c if c.mask & kms.ADMIN_MASK else e
            out.extend((key, mask, first) for key in _principal_keys(common))
    return out


def _add(held: dict[str, int], first_admin: dict[str, Access], items: Iterable[Holding],
         owner_root: str) -> None:
    for key, mask, acc in items:
        if key == owner_root:
            continue
        held[key] = held.get(key, 0) | mask
        if mask & kms.ADMIN_MASK and key not in first_admin:
            first_admin[key] = acc


def separation_findings(items: list[Holding] | tuple[Holding, ...], ctx: Context
                        ) -> list[Finding]:
    """IAM-KMS-8 for each principal holding both kinds of rights, through one statement or
    several (``items``: what ``holdings`` gives for each Allow, in statement order)."""
    if not items:
        return []
    union = 0
    for _, mask, _ in items:
        union |= mask
    if not _holds_both(union):
        return []
    held: dict[str, int] = {}
    first_admin: dict[str, Access] = {}
    owner_root = root_arn(ctx.owner_account)
    _add(held, first_admin, items, owner_root)
    _add(held, first_admin, _shared_holdings(items, dict(held)), owner_root)
    out = []
    for key, mask in held.items():
        if _holds_both(mask):
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


def detect_separation_of_duties(analysis: PolicyAnalysis, ctx: Context) -> list[Finding]:
    """One principal (not the owner root) with both key-management and cryptographic rights."""
    return separation_findings(holdings(analysis.accesses, ctx), ctx)
