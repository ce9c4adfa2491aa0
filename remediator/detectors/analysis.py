"""One analysed key policy: parsed once, its effective access computed once, read by every
detector. Also the helpers detectors share to describe grantees against the trust."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any, NamedTuple

from remediator.detectors.rules import RULES
from remediator.policy.access import AWS, Access, Grantee, compile_statement
from remediator.policy.deny import access_after_denies
from remediator.policy.document import Policy, Statement, parse_policy
from remediator.policy.principals import (
    glob_match,
    has_wildcard,
    is_account_id,
    names_account_root,
    parse_aws_principal,
    split_arn,
)
from remediator.types import Context, Finding


class PolicyAnalysis(NamedTuple):
    """A parsed policy and its effective access, also grouped by Allow statement (in order)."""

    policy: Policy
    accesses: tuple[Access, ...]
    groups: tuple[tuple[Statement, tuple[Access, ...]], ...]


def analyse(document: Any) -> PolicyAnalysis:
    return analyse_policy(parse_policy(document))


def analyse_policy(policy: Policy) -> PolicyAnalysis:
    compiled = [(stmt, compile_statement(stmt)) for stmt in policy.statements]
    denies = tuple([stmt for stmt, c in compiled if c.is_deny])
    groups: list[tuple[Statement, tuple[Access, ...]]] = []
    flat: list[Access] = []
    for stmt, c in compiled:
        if not c.accesses:
            continue
        accs = access_after_denies(stmt, denies) if denies else c.accesses
        if accs:
            groups.append((stmt, accs))
            flat.extend(accs)
    return PolicyAnalysis(policy, tuple(flat), tuple(groups))


def is_owner_root(g: Grantee, ctx: Context) -> bool:
    """The owner-root grant, or what a Deny left of it (still the owner's own delegation)."""
    return (
        g.kind == AWS
        and g.is_root
        and g.arn is not None
        and names_account_root(g.arn, ctx.owner_account)
    )


def _is_authorised_arn(arn: str, ctx: Context, in_trusted_org: bool = False) -> bool:
    """``arn`` (an ARN, or an aws:PrincipalArn pattern a grant is pinned to) names only the
    owner root or configured administrators. A pattern is within an administrator pattern that
    matches it as written, if that one has no ``?`` (which a ``*`` of ``arn`` may outrun)."""
    if names_account_root(arn, ctx.owner_account):
        return True
    if not (in_trusted_org or _in_trusted_account(arn, ctx)):
        # An administrator pattern with a wildcard account (arn:aws:iam::*:role/Admins)
        # speaks of the trust's accounts: anyone can create that role in an account of theirs.
        # (Under aws:PrincipalOrgID of the trusted organisation, every caller is a member.)
        return False
    if has_wildcard(arn):
        return any("?" not in p and glob_match(p, arn) for p in ctx.admins)
    role = _role_of_session(arn)
    return any(glob_match(p, arn) or (role is not None and glob_match(p, role))
               for p in ctx.admins)


def _in_trusted_account(arn: str, ctx: Context) -> bool:
    parts = split_arn(arn)
    return parts is not None and is_account_id(parts.account) and ctx.is_trusted_account(
        parts.account)


@lru_cache(maxsize=8192)
def _role_of_session(arn: str) -> str | None:
    """The role ARN an assumed-role session ARN belongs to (without the role's path, which
    the session ARN does not keep), or None: a session of an administrator role is that
    administrator acting (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-arns)."""
    parts = split_arn(arn)
    if parts is None or parts.service != "sts" or not parts.resource.startswith("assumed-role/"):
        return None
    name = parts.resource.split("/")[1] if parts.resource.count("/") >= 2 else None
    return f"arn:{parts.partition}:iam::{parts.account}:role/{name}" if name else None


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
    in_org = bool(ctx.org_id) and g.orgs.include is not None and g.orgs.values() <= {ctx.org_id}
    return bool(arns) and all(_is_authorised_arn(a, ctx, in_org) for a in arns)


@lru_cache(maxsize=16_384)  # grantees repeat across an estate (shared statements)
def grantee_names(g: Grantee) -> tuple[str, ...]:
    """How messages name a grantee: the principal as written, or for ``"*"`` (and a provider
    or service) what its conditions leave of it: the ARNs or aws:PrincipalArn patterns it is
    pinned to, else the accounts, organisations and networks (``"* in account A"``)."""
    if g.arn is not None and not _root_pinned_within_account(g):
        return (_exact_name(g),)
    if g.principals.include is not None:
        return tuple(sorted(g.principals.values()))
    pins = [f"{name} {', '.join(sorted(c.values()))}" for name, c in (
        ("account", g.accounts), ("organisation", g.orgs), ("network", g.networks))
        if c.include is not None]
    return (f"{g.label} in {'; '.join(pins)}" if pins else g.label,)


def _root_pinned_within_account(g: Grantee) -> bool:
    """An account root whose statement's aws:PrincipalArn pins name principals of that account
    only: the account's grant reaches just those, and messages name them."""
    if not g.is_root or g.principals.include is None:
        return False
    account = parse_aws_principal(g.arn).account if g.arn is not None else None
    return account is not None and all(
        (arn := split_arn(v)) is not None and arn.account == account
        for v in g.principals.values())


def _exact_name(g: Grantee) -> str:
    """An exact principal's name: as written, or, for the part of ``"*"`` a Deny's NotPrincipal
    spares (that principal alone), the principal the NotPrincipal lists."""
    return g.arn if g.label == "*" and g.arn is not None else g.label


def named(accesses: Iterable[Access], unauthorised_in: Context | None = None) -> str:
    """The grantees of some accesses, as messages name them, each once; with
    ``unauthorised_in``, a grantee pinned to several principals is named by those of them
    that are not authorised there (the others hold their rights rightly)."""
    names: list[str] = []
    for a in accesses:
        g = a.grantee
        if g.arn is not None and not g.is_root:  # (grantee_names would say the same)
            names.append(_exact_name(g))
            continue
        own = grantee_names(g)
        if unauthorised_in is not None and g.principals.include is not None:
            own = tuple([n for n in own if not _is_authorised_arn(n, unauthorised_in)]) or own
        names.extend(own)
    return ", ".join(dict.fromkeys(names))


def untrusted_accounts(g: Grantee, ctx: Context) -> list[str]:
    """Accounts outside the trust that this grantee is pinned to (empty when not pinned)."""
    if g.accounts.include is None:
        return []
    if g.arn is None and g.networks.include is not None:
        # "*" on a fixed network path is not exposure (Access Analyzer's rule), and narrowing
        # it to some accounts does not make it one; a principal named explicitly is reported on
        # any network. The concrete evaluator holds the same line (requests.in_named_network).
        return []
    if ctx.org_id and g.orgs.include is not None and g.orgs.values() <= {ctx.org_id}:
        return []  # only members of the trusted organisation qualify
    bad = [a for a in g.accounts.values() if not ctx.is_trusted_account(a)]
    if len(bad) > 1:
        bad.sort()
    return bad


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
    return Finding(  # positional (rule, severity, message, statement, sid, principals,
        # actions, reference): built for every statement finding of an estate
        rule.id,
        rule.severity,
        message,
        stmt.index if stmt is not None else None,
        stmt.sid if stmt is not None else None,
        tuple(dict.fromkeys(principals)),
        actions if type(actions) is tuple else tuple(actions),
        rule.reference,
    )


@lru_cache(maxsize=65_536)
def where(stmt: Statement) -> str:
    """How messages name a statement: its position, and its Sid when it has one."""
    return f"Statement {stmt.index} ({stmt.sid})" if stmt.sid else f"Statement {stmt.index}"


def statement_finding(
    rule_id: str,
    stmt: Statement,
    principals: Iterable[str],
    actions: Iterable[str],
    detail: str,
) -> Finding:
    """A finding about one statement: its message starts with where the statement is."""
    return finding(rule_id, stmt, principals, actions, f"{where(stmt)} {detail}")


def moved_findings(findings: tuple[Finding, ...], origin: Statement, stmt: Statement
                   ) -> tuple[Finding, ...]:
    """``origin``'s statement findings, reported for the same statement at ``stmt``'s
    position and under its Sid (every statement finding's message starts with ``where`` the
    statement is)."""
    here, cut, index, sid = where(stmt), len(where(origin)), stmt.index, stmt.sid
    return tuple([Finding(f.rule, f.severity, here + f.message[cut:], index, sid,
                          f.principals, f.actions, f.reference, f.grant_id, f.resource)
                  for f in findings])
