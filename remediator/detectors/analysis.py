"""One analysed key policy: parsed once, its effective access computed once, read by every
detector. Also the helpers detectors share to describe grantees against the trust."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from remediator.detectors.rules import RULES
from remediator.policy.access import AWS, Access, Grantee, compile_statement, effective_access
from remediator.policy.document import Policy, Statement, parse_policy
from remediator.policy.principals import glob_match, names_account_root
from remediator.types import Context, Finding


class PolicyAnalysis(NamedTuple):
    """A parsed policy and its effective access, also grouped by Allow statement (in order)."""

    policy: Policy
    accesses: tuple[Access, ...]
    groups: tuple[tuple[Statement, tuple[Access, ...]], ...]
    # Allow statements whose access no Deny changed: their statement-level findings depend
    # on the statement and the context alone, so they can be shared across policies.
    pristine: frozenset[int] = frozenset()
    # Some Deny applies to the key: access may differ from what the Allows alone give.
    denies: bool = True


def analyse(document: Any) -> PolicyAnalysis:
    policy = parse_policy(document)
    allows: list[tuple[Statement, tuple[Access, ...]]] = []
    flat: list[Access] = []
    for stmt in policy.statements:
        c = compile_statement(stmt)
        if c.deny_scope is not None:
            break
        if c.accesses:
            allows.append((stmt, c.accesses))
            flat.extend(c.accesses)
    else:
        # No Deny applies to the key (most policies): the access is the Allows' compiled
        # access as it stands, and every statement is pristine.
        return PolicyAnalysis(policy, tuple(flat), tuple(allows),
                              frozenset([stmt.index for stmt, _ in allows]), False)
    accesses = effective_access(policy)
    grouped: dict[int, list[Access]] = {}
    for a in accesses:
        grouped.setdefault(a.statement.index, []).append(a)
    groups = tuple((accs[0].statement, tuple(accs)) for accs in grouped.values())
    # Accesses no Deny touched are the compiled objects themselves.
    pristine = frozenset(
        stmt.index for stmt, accs in groups
        if len(accs) == len(compiled_accs := compile_statement(stmt).accesses)
        and all(a is b for a, b in zip(accs, compiled_accs, strict=True))
    )
    return PolicyAnalysis(policy, tuple(accesses), groups, pristine, True)


def is_owner_root(g: Grantee, ctx: Context) -> bool:
    """The owner-root grant, or what a Deny left of it (still the owner's own delegation)."""
    return (
        g.kind == AWS
        and g.is_root
        and g.arn is not None
        and names_account_root(g.arn, ctx.owner_account)
    )


def _is_authorised_arn(arn: str, ctx: Context) -> bool:
    return names_account_root(arn, ctx.owner_account) or any(
        glob_match(p, arn) for p in ctx.admins
    )


def is_authorised(g: Grantee, ctx: Context) -> bool:
    """The owner root or a configured key administrator, and nobody else."""
    if g.kind != AWS:
        return False
    if is_owner_root(g, ctx):
        return True
    if g.principals.include is not None:
        arns: Iterable[str] = g.principals.values()
    elif g.arn is not None:
        arns = (g.arn,)
    else:
        return False
    arns = tuple(arns)
    return bool(arns) and all(_is_authorised_arn(a, ctx) for a in arns)


def untrusted_accounts(g: Grantee, ctx: Context) -> list[str]:
    """Accounts outside the trust that this grantee is pinned to (empty when not pinned)."""
    if g.accounts.include is None:
        return []
    if g.arn is None and g.networks.include is not None:
        # Any principal on a fixed network path is not exposure (Access Analyzer's rule);
        # narrowing it to some accounts must not make it one.
        return []
    if ctx.org_id and g.orgs.include is not None and g.orgs.values() <= {ctx.org_id}:
        return []  # only members of the trusted organisation qualify
    return sorted(a for a in g.accounts.values() if not ctx.is_trusted_account(a))


def foreign_orgs(g: Grantee, ctx: Context) -> list[str]:
    """Organisations other than the trusted one this grantee is pinned to (no account pin)."""
    if g.accounts.include is not None or g.orgs.include is None or g.networks.include is not None:
        return []
    return sorted(o for o in g.orgs.values() if o != ctx.org_id)


def finding(
    rule_id: str,
    stmt: Statement | None,
    principals: Iterable[str],
    actions: Iterable[str],
    message: str,
) -> Finding:
    rule = RULES[rule_id]
    return Finding(
        rule=rule.id,
        severity=rule.severity,
        message=message,
        statement=stmt.index if stmt is not None else None,
        sid=stmt.sid if stmt is not None else None,
        principals=tuple(dict.fromkeys(principals)),
        actions=actions if type(actions) is tuple else tuple(actions),
        reference=rule.reference,
    )


def where(stmt: Statement) -> str:
    return f"Statement {stmt.index}" + (f" ({stmt.sid})" if stmt.sid else "")


def statement_finding(
    rule_id: str,
    stmt: Statement,
    principals: Iterable[str],
    actions: Iterable[str],
    detail: str,
) -> Finding:
    """A finding about one statement: its message starts with where the statement is."""
    return finding(rule_id, stmt, principals, actions, f"{where(stmt)} {detail}")


def moved_finding(f: Finding, origin: Statement, stmt: Statement) -> Finding:
    """``origin``'s statement finding, reported for the same statement at ``stmt``'s position."""
    return Finding(f.rule, f.severity, where(stmt) + f.message[len(where(origin)):],
                   stmt.index, f.sid, f.principals, f.actions, f.reference, f.grant_id,
                   f.resource)
