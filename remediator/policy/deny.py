"""What the Denies take away from the Allows: each Deny subtracts, from each grantee, the
callers it certainly applies to, for the actions it names; callers it might not apply to (a
condition the caller controls) keep their access. Deny overrides Allow
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
"""

from __future__ import annotations

from functools import lru_cache

from remediator.policy.access import (
    AWS,
    SERVICE,
    Access,
    Grantee,
    compile_statement,
    deny_parts,
)
from remediator.policy.condition_keys import VIA_SERVICE_KEY
from remediator.policy.constraints import Constraint, Scope, excluding, only
from remediator.policy.document import Policy, Principals, Statement
from remediator.policy.matchers import condition_holds
from remediator.policy.principals import (
    account_of_arn_value,
    glob_match,
    has_policy_variable,
    has_wildcard,
    may_hold_principal_arn,
    parse_aws_principal,
    principal_arn_forms,
    root_arn,
    split_arn,
)


def _minus_principal_element(g: Grantee, stmt: Statement) -> list[Grantee] | None:
    """The part of ``g`` a Deny's Principal/NotPrincipal does not name; None = nothing named."""
    if stmt.principal is None:
        assert stmt.not_principal is not None
        return _exempt_by_not_principal(g, stmt.not_principal)
    pr = stmt.principal
    if g.kind == SERVICE:
        return [] if pr.anyone or g.label in pr.service else None
    if pr.anyone:
        return []
    denied_accounts = set()
    for v in pr.aws:
        p = parse_aws_principal(v)
        if p.is_wildcard:
            if v.strip() == "*":
                return []
            # A wildcard cannot match part of a principal ARN (Principal page): such a value
            # names nobody, so this Deny is not taken to deny anyone by it.
            continue
        if p.is_root and p.account:
            denied_accounts.add(p.account)
        elif g.arn is not None and v == g.arn:
            return []
    if not denied_accounts:
        return None
    rest = g._replace(accounts=g.accounts.meet(excluding(denied_accounts)))
    return [] if rest.is_empty else [rest]


def _exempt_by_not_principal(g: Grantee, exempt: Principals) -> list[Grantee]:
    """A Deny with NotPrincipal applies to everyone but the listed principals
    (``NotPrincipal: {"AWS": "*"}`` spares everyone: that Deny denies nobody)."""
    if exempt.anyone:
        return [g]
    if g.kind == SERVICE:
        if g.label == "*":  # any service: only the exempt ones are spared
            return [g._replace(label=s) for s in exempt.service]
        return [g] if g.label in exempt.service else []
    if g.arn is not None and (g.arn in exempt.aws or _lists_role_of_session(exempt, g.arn)
                              or _lists_session_of_role(exempt, g.arn)):
        return [g]
    out: list[Grantee] = []
    if g.label == "*" and g.arn is None:  # "*" names service principals too
        out.extend(Grantee(SERVICE, s, g.accounts, g.orgs, g.networks, g.principals)
                   for s in exempt.service)
    if g.arn is not None and not g.is_root:
        # One exact principal not listed itself: the Deny applies to it. Listing its account
        # spares the account, not its users and roles: AWS checks each link of the caller (the
        # page's example lists the session, its role and the account to spare the session).
        return out
    for v in exempt.aws:
        p = parse_aws_principal(v)
        if p.account is None or not g.accounts.contains(p.account):
            continue
        # Listing an account (its id or root ARN) spares its root user, whose aws:PrincipalArn
        # is the root ARN: that is what a grantee's principal pins are compared with.
        spared = root_arn(p.account, _partition(v)) if p.is_root else v.strip()
        if not _may_be_principal(g.principals, spared):
            continue
        if g.is_root:
            # The account's own grant, left only to ``v``: still that account's delegation
            # (``v`` needs its own IAM permission, as it did before the Deny).
            out.append(g._replace(principals=only({spared})))
        else:
            out.append(g._replace(accounts=g.accounts.meet(only({p.account})), arn=v,
                                  is_root=p.is_root, principals=only({spared})))
    return out


def _partition(value: str) -> str:
    arn = split_arn(value.strip())
    return arn.partition if arn is not None else "aws"


def _lists_role_of_session(exempt: Principals, arn: str) -> bool:
    """Whether a NotPrincipal lists the role of the session ``arn``. The page's own example
    lists the session, its role and the account, but it also says "AWS might validate the
    account first, then the role, and then the assumed-role user" and recommends listing "the
    ARN for a role and the ARN for the account containing that role": whether the role alone
    spares its sessions is not settled there, so it is taken to, and doubt never hides access."""
    forms = principal_arn_forms(arn)
    if forms == (arn,):
        return False  # not a role session
    name = forms[0].rsplit("/", 1)[1]
    prefix = forms[0][: -len(name)]  # arn:PARTITION:iam::ACCOUNT:role/
    return any(v.strip().startswith(prefix) and v.strip().rsplit("/", 1)[1] == name
               for v in exempt.aws)


def _lists_session_of_role(exempt: Principals, arn: str) -> bool:
    """Whether a NotPrincipal lists a session of the role ``arn``: without the role's own ARN
    the page says the Deny "might" apply to the role, not that it does, so the session is
    taken to be spared and the role grantee (standing for its sessions) keeps its access."""
    role = split_arn(arn)
    if role is None or role.service != "iam" or not role.resource.startswith("role/"):
        return False
    pathless = f"arn:{role.partition}:iam::{role.account}:role/{role.resource.rsplit('/', 1)[1]}"
    return any(principal_arn_forms(v.strip())[0] == pathless
               for v in exempt.aws if ":assumed-role/" in v)


def _may_be_principal(principals: Constraint, arn: str) -> bool:
    """Whether ``arn`` may be one of ``principals`` (their values may be ARN patterns, held
    as aws:PrincipalArn holds them, or unique ids, which may be anyone's)."""
    if arn in principals.exclude:
        return False
    return principals.include is None or any(
        not p.startswith("arn:") or may_hold_principal_arn(p, arn) for p in principals.include)


def _outside(mine: Constraint, deny: Constraint) -> Constraint:
    """The values of ``mine`` for which a Deny pinned to ``deny`` does not hold."""
    if deny.include is not None:  # the Deny holds only inside deny.include
        return mine.meet(excluding(deny.include - deny.exclude))
    return mine.meet(only(deny.exclude))  # the Deny holds everywhere outside deny.exclude


def _matches_any(patterns: frozenset[str], arn: str) -> bool:
    return any(glob_match(p, arn) for p in patterns)


def _principals_outside(mine: Constraint, deny: Constraint) -> Constraint:
    """Like ``_outside`` for principal ARNs, where the Deny's values may be ARN patterns
    matched against what aws:PrincipalArn holds for each (``principal_arn_forms``). The Deny
    holds for a principal that certainly matches ``deny.include`` (when set) and certainly
    matches none of ``deny.exclude``; a unique id (aws:userid) it spares may be anyone's."""
    if mine.include is None:
        return _outside(mine, deny)
    spares_unknown = any(not v.startswith("arn:") for v in deny.exclude)

    def denied(p: str) -> bool:
        if not p.startswith("arn:"):
            # A unique id (aws:userid) may be anyone's: a principal the Deny spares, or one it
            # does not name. Only a Deny on every principal certainly covers it.
            return deny.include is None and not deny.exclude
        if has_wildcard(p):
            # A pattern an earlier Deny's exemption left: the principals matching it. Some may
            # be spared by this one, and all are denied only if a pattern without "?" (which
            # a literal "*" of ``p`` cannot stand in for) matches ``p`` as written.
            return not deny.exclude and deny.include is not None and any(
                "?" not in d and glob_match(d, p) for d in deny.include)
        forms = principal_arn_forms(p)
        if deny.include is not None and not all(_matches_any(deny.include, f) for f in forms):
            return False
        return not (spares_unknown
                    or any(may_hold_principal_arn(v, p) for v in deny.exclude))

    return only({p for p in mine.values() if not denied(p)})


def _narrowed_to(g: Grantee, principals: Constraint) -> Grantee:
    """``g`` left only to ``principals``: when each of them (an ARN or ARN pattern) names its
    account, ``g`` is left to those accounts too, and is empty when none is one of its own."""
    if principals.include is None:
        return g._replace(principals=principals)
    accounts = set()
    unknown = False
    for p in principals.include - principals.exclude:
        account = account_of_arn_value(p, wildcards=True)
        if account is None:
            unknown = True
        else:
            accounts.add(account)
    if not unknown:
        return g._replace(principals=principals, accounts=g.accounts.meet(only(accounts)))
    if accounts:
        # Unique ids (whose accounts are unknown) beside ARNs of known accounts: no one
        # dimension holds that union, so ``g`` is left as it was rather than read as pinned.
        return g
    return g._replace(principals=principals)  # accounts unknown: as they were


def _minus_scope(g: Grantee, scope: Scope) -> list[Grantee]:
    """The part of ``g`` outside a Deny's condition scope (the union over its dimensions)."""
    out: list[Grantee] = []
    if not scope.accounts.is_any:
        out.append(g._replace(accounts=_outside(g.accounts, scope.accounts)))
    if not scope.orgs.is_any:
        out.append(g._replace(orgs=_outside(g.orgs, scope.orgs)))
    if not scope.principals.is_any:
        out.append(_narrowed_to(g, _principals_outside(g.principals, scope.principals)))
    net = scope.networks
    if net.include is not None:
        out.append(g)  # the Deny holds only on some networks: callers elsewhere avoid it
    elif net.exclude:
        out.append(g._replace(networks=g.networks.meet(only(net.exclude))))
    return [r for r in out if not r.is_empty]


def residual(g: Grantee, deny: Statement, scope: Scope) -> list[Grantee]:
    """The callers of ``g`` that a Deny statement does not certainly cover."""
    if scope.free:
        return [g]
    outside_principal = _minus_principal_element(g, deny)
    if outside_principal is None:
        return [g]
    if scope.unconditional:
        return outside_principal
    return outside_principal + _minus_scope(g, scope)


def effective_access(policy: Policy) -> list[Access]:
    """Every (statement, grantee, actions) the policy allows on its key, after the Denies."""
    denies = tuple(s for s in policy.statements if compile_statement(s).is_deny)
    return [a for s in policy.statements for a in access_after_denies(s, denies)]


@lru_cache(maxsize=65_536)
def access_after_denies(stmt: Statement, denies: tuple[Statement, ...]) -> tuple[Access, ...]:
    """One statement's access after the Deny statements, applied in order (each Deny
    subtracts from each access on its own). The compiled tuple itself when no Deny changes
    it. Statements are shared objects, so this memo is exact."""
    compiled = compile_statement(stmt).accesses
    accesses = list(compiled)
    for deny in denies:
        for part in compile_statement(deny).deny_parts:
            accesses = _apply_deny(accesses, deny, part.mask, (part.scope, part.service_scope))
    if len(accesses) == len(compiled) and all(
            a is b for a, b in zip(accesses, compiled, strict=True)):
        return compiled
    return tuple(accesses)


@lru_cache(maxsize=16_384)  # one policy shape's Denies, asked for each of its statements
def has_via_service_deny(denies: tuple[Statement, ...]) -> bool:
    return any(c.key == VIA_SERVICE_KEY for d in denies for c in d.conditions)


@lru_cache(maxsize=16_384)
def access_after_denies_via(stmt: Statement, denies: tuple[Statement, ...],
                            via: str | None) -> tuple[Access, ...]:
    """One statement's access after the Denies, for requests made through the service ``via``
    (None: made directly, without kms:ViaService): each Deny's condition on kms:ViaService is
    settled for that value, and the Deny kept only where it holds
    (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service)."""
    accesses = list(compile_statement(stmt).accesses)
    facts = {} if via is None else {VIA_SERVICE_KEY: (via,)}
    for deny in denies:
        left = []
        for cond in deny.conditions:
            if cond.key != VIA_SERVICE_KEY:
                left.append(cond)
            elif (any(has_policy_variable(v) for v in cond.values)
                  or not condition_holds(cond, facts, variables=False)):
                break  # this Deny does not (or may not) apply to such requests
        else:
            for part in deny_parts(tuple(left), compile_statement(deny).mask):
                accesses = _apply_deny(accesses, deny, part.mask,
                                       (part.scope, part.service_scope))
    return tuple(accesses)


def _apply_deny(accesses: list[Access], deny: Statement, dmask: int,
                dscope: tuple[Scope, Scope]) -> list[Access]:
    out: list[Access] = []
    for acc in accesses:
        hit = acc.mask & dmask
        if not hit:
            out.append(acc)
            continue
        if acc.mask & ~dmask:
            out.append(Access(acc.statement, acc.grantee, acc.mask & ~dmask))
        g = acc.grantee
        scope = dscope[1] if g.kind == SERVICE else dscope[0]
        rest = residual(g, deny, scope)
        if g.kind == AWS and g.label == "*" and g.arn is None and g.is_open and not any(
                r.is_open for r in rest):
            # An open "*" stood for the service principals too; what is left of it no longer
            # does, so the services keep what the Deny leaves them on their own.
            rest += residual(Grantee(SERVICE, "*"), deny, dscope[1])
        out.extend(Access(acc.statement, r, hit) for r in rest)
    return out
