"""Who can do what on a key: every Allow turned into grantees, every Deny into the scope where
it certainly holds (``compile_statement``); ``deny.py`` subtracts the one from the other.

A grantee is a class of callers described by constraints on their account, organisation,
network path and exact principal.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from remediator.policy import actions as kms
from remediator.policy.action_keys import condition_actions, split_by_carried_keys
from remediator.policy.condition_keys import (
    IDENTITY_KEYS,
    NETWORK_KEYS,
    SERVICE_SCOPE_KEYS,
    covers_every_address,
)
from remediator.policy.conditions import allow_scope, deny_scope
from remediator.policy.constraints import ANY, UNCONDITIONAL, Constraint, Scope, only
from remediator.policy.document import Condition, Principals, Statement
from remediator.policy.matchers import condition_holds
from remediator.policy.principals import may_hold_principal_arn, parse_aws_principal
from remediator.policy.resources import applies_to_key
from remediator.policy.service_keys import (
    IS_SERVICE_KEY,
    SERVICE_NAME_KEYS,
    absent_for_services,
    service_flag_fails,
)

AWS, SERVICE = "aws", "service"
_NOBODY = Constraint(frozenset())


class Grantee(NamedTuple):
    """A class of callers one Allow statement lets in.

    ``label`` is the principal as written (``"*"``, an ARN, a service name). ``arn`` is set when
    the class is one exact principal (or an account root, which stands for its whole account).
    """

    kind: str  # AWS or SERVICE
    label: str
    accounts: Constraint = ANY
    orgs: Constraint = ANY
    networks: Constraint = ANY
    principals: Constraint = ANY
    arn: str | None = None
    is_root: bool = False

    @property
    def is_empty(self) -> bool:
        return self.accounts.is_empty or self.orgs.is_empty or self.principals.is_empty

    @property
    def is_open(self) -> bool:
        """No condition or principal pins who the caller is: anyone can be this grantee."""
        return (
            self.accounts.include is None
            and self.orgs.include is None
            and self.networks.include is None
            and self.principals.include is None
        )


class Access(NamedTuple):
    """Actions (a mask) a grantee has through one Allow statement, after the Denies."""

    statement: Statement
    grantee: Grantee
    mask: int


def statement_mask(stmt: Statement) -> int:
    """Key actions a statement covers: its Action patterns, or all but its NotAction ones."""
    return _actions_mask(stmt.actions, stmt.not_actions)


# Action lists, Resource lists and Condition blocks repeat across an estate far more than
# whole statements do (console and service defaults): their readings are memoised by value.
@lru_cache(maxsize=16_384)
def _actions_mask(actions: tuple[str, ...] | None, not_actions: tuple[str, ...] | None) -> int:
    m = 0
    if actions is not None:
        for a in actions:
            m |= kms.expand(a)
        return m
    assert not_actions is not None
    for a in not_actions:
        m |= kms.expand(a)
    return kms.ALL_KEY_ACTIONS & ~m


@lru_cache(maxsize=8192)
def exactly(value: str) -> Constraint:
    """The constraint "this one value" (shared: constraints are immutable)."""
    return only({value})


def _pin_principal(pins: Constraint, arn: str) -> Constraint:
    """An exact principal under a statement's aws:PrincipalArn or aws:userid pins: itself when
    it may be one of them, or nobody. A role session is pinned by its role's ARN (what
    aws:PrincipalArn holds for it), and a unique id may be any principal's: the policy does not
    say whose it is."""
    if arn in pins.exclude:
        return _NOBODY
    include = pins.include
    if include is None or any(not v.startswith("arn:") or may_hold_principal_arn(v, arn)
                              for v in include):
        return exactly(arn)
    return _NOBODY


def _aws_grantee(value: str, scope: Scope) -> Grantee | None:
    p = parse_aws_principal(value)
    if p.is_wildcard:
        return Grantee(AWS, value, scope.accounts, scope.orgs, scope.networks, scope.principals)
    if p.account is None:
        return None  # a deleted principal's unique id: nobody can use it
    principals = scope.principals if p.is_root else _pin_principal(scope.principals, value)
    return Grantee(
        AWS, value, scope.accounts.meet(exactly(p.account)), scope.orgs, scope.networks,
        principals, value, p.is_root,
    )


def _grantees_for(principals: Principals, scope: Scope,
                  service_scope: Scope | None = None) -> list[Grantee]:
    """``service_scope``: what the conditions leave of the service principals named, when it
    differs from the IAM callers' ``scope``."""
    out: list[Grantee] = []
    if principals.anyone:
        out.append(Grantee(AWS, "*", scope.accounts, scope.orgs, scope.networks,
                           scope.principals))
    for value in principals.aws:
        if value == "*":
            continue
        g = _aws_grantee(value, scope)
        if g is not None:
            out.append(g)
    for value in principals.federated:
        # Web identity providers (accounts.google.com, cognito) let anyone with an identity
        # there in; a SAML/OIDC provider ARN belongs to one account.
        p = parse_aws_principal(value)
        accounts = scope.accounts if p.account is None else scope.accounts.meet(exactly(p.account))
        out.append(Grantee(AWS, value, accounts, scope.orgs, scope.networks, scope.principals))
    on = scope if service_scope is None else service_scope
    for s in principals.service:
        out.append(Grantee(SERVICE, s, on.accounts, on.orgs, on.networks, on.principals))
    if scope is UNCONDITIONAL and on is UNCONDITIONAL:
        return out  # nothing narrows these grantees: none is empty
    return [g for g in out if not g.is_empty]


_EVERYONE = Principals(anyone=True)


def _services_behind_star(stmt: Statement, grantees: list[Grantee]) -> list[Grantee]:
    """``"*"`` also names service principals
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-anonymous),
    which carry no caller identity keys: a positive condition on one shuts them out, but an
    ``...IfExists`` or negated one lets them in for any customer. When the IAM side of the
    statement is not already open to everyone, that service side is a grantee of its own."""
    if not stmt.conditions:
        return []  # any "*" grantee is open: it already stands for the services too
    if stmt.principal is not None and not stmt.principal.anyone:
        return []  # no "*" (a NotPrincipal Allow stands for everyone else)
    star = next((g for g in grantees if g.kind == AWS and g.label == "*" and g.arn is None),
                None)
    if star is not None and star.is_open:
        return []  # (no star grantee left: its IAM side matches nobody, its service side may)
    return _service_side_of_star(stmt.conditions)


def _service_side_of_star(conditions: tuple[Condition, ...]) -> list[Grantee]:
    """The service principals ``"*"`` lets in under ``conditions``: one grantee for any
    service, or one per service ``aws:PrincipalServiceName`` names (none when a condition
    shuts services out)."""
    if any(_shuts_out_services(c) for c in conditions):
        return []
    scope = allow_scope(_service_conditions(conditions))
    g = Grantee(SERVICE, "*", scope.accounts, scope.orgs, scope.networks, scope.principals)
    if g.is_empty:
        return []
    names = _service_names(conditions)
    return [g] if names is None else [g._replace(label=n) for n in sorted(names)]


def _service_conditions(conditions: tuple[Condition, ...]) -> tuple[Condition, ...]:
    """What narrows the services a statement lets in: not the service-name keys (read apart),
    nor a condition on a caller identity key that holds when the key is missing (IfExists,
    negated...), which a service's request may well be."""
    return tuple([c for c in conditions if c.key not in SERVICE_NAME_KEYS and not (
        c.key in IDENTITY_KEYS and c.operator.holds_when_missing)])


@lru_cache(maxsize=16_384)  # condition blocks repeat across an estate: memoised by value
def _shuts_out_services(cond: Condition) -> bool:
    """Whether a condition certainly fails for every service principal's request: on a key it
    certainly lacks (``service_keys.ABSENT_FOR_SERVICES``), or on a network a policy names (a
    service's network context is "redacted", global condition keys page, aws:SourceIp). It
    may carry any other key, some with values the policy cannot know (kms:CallerAccount), so a
    condition on one never shuts it out: doubt never hides access."""
    if cond.key == IS_SERVICE_KEY:  # "true" in a service principal's request
        return service_flag_fails(cond, True)
    if not (absent_for_services(cond.key) or cond.key in NETWORK_KEYS):
        return False
    if cond.key == "aws:sourceip" and covers_every_address(cond.values):
        return False  # every address: it names no network
    return not condition_holds(cond, {}, variables=False)  # read as on a missing key



def _service_names(conditions: tuple[Condition, ...]) -> frozenset[str] | None:
    """The services an exact ``StringEquals`` on aws:PrincipalServiceName leaves (None: any)."""
    names: frozenset[str] | None = None
    for c in conditions:
        op = c.operator
        if (c.key == "aws:principalservicename" and op.base == "StringEquals"
                and not (op.if_exists or op.qualifier)):
            names = frozenset(c.values) if names is None else names & frozenset(c.values)
    return names


def allow_grantees(stmt: Statement) -> list[Grantee]:
    """The callers an Allow statement lets in (NotPrincipal with Allow lets in everyone else,
    and nobody when it lists everyone)."""
    if stmt.principal is None and stmt.not_principal is not None and stmt.not_principal.anyone:
        return []
    scope = allow_scope(stmt.conditions)
    principals = stmt.principal if stmt.principal is not None else _EVERYONE
    service_scope = None
    if principals.service:
        if any(_shuts_out_services(c) for c in stmt.conditions):
            # (aws:PrincipalOrgID, a VPC endpoint...: the services named are let in by nothing)
            principals = principals._replace(service=())
        elif any(c.key in IDENTITY_KEYS and c.operator.holds_when_missing
                 for c in stmt.conditions):
            # A service's request may lack a caller identity key: ...IfExists on one may hold
            # for it (condition operators page, IfExists), so it narrows no service named here.
            service_scope = allow_scope(_service_conditions(stmt.conditions))
    grantees = _grantees_for(principals, scope, service_scope)
    if _excludes_iam_callers(stmt.conditions) or _for_services_only(stmt.conditions):
        # Only service principals can match: "*" stands for the services alone, and every
        # AWS principal named is an IAM caller, shut out.
        star = _service_side_of_star(stmt.conditions) if principals.anyone else []
        return [g for g in grantees if g.kind == SERVICE] + star
    return grantees + _services_behind_star(stmt, grantees)


def _excludes_iam_callers(conditions: tuple[Condition, ...]) -> bool:
    """A condition on aws:PrincipalIsAWSService that fails for every caller but a service
    principal, whose requests carry "false" (condition keys page,
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalisawsservice)."""
    return any(c.key == IS_SERVICE_KEY and service_flag_fails(c, False) for c in conditions)


def _for_services_only(conditions: tuple[Condition, ...]) -> bool:
    """A positive match on a key only a service principal's request carries
    (aws:SourceAccount, aws:SourceArn...: confused-deputy page; aws:PrincipalServiceName) is
    false for every IAM caller."""
    return any((c.key in SERVICE_SCOPE_KEYS or c.key in SERVICE_NAME_KEYS)
               and c.operator.is_positive and not c.operator.holds_when_missing
               for c in conditions)


class DenyPart(NamedTuple):
    """Some of a Deny's actions and where it certainly holds for them."""

    mask: int
    scope: Scope  # for IAM callers
    service_scope: Scope  # for service principals


class CompiledStatement(NamedTuple):
    mask: int  # 0 when the statement grants or denies no action on this key
    accesses: tuple[Access, ...]  # for an Allow
    deny_parts: tuple[DenyPart, ...] = ()  # for a Deny: empty when it certainly denies nothing

    @property
    def is_deny(self) -> bool:
        return bool(self.deny_parts)


@lru_cache(maxsize=65_536)
def compile_statement(stmt: Statement) -> CompiledStatement:
    """A statement's key actions and grantees (Allow) or certain scope (Deny), computed once.

    Statements are shared objects compared by identity, so this memo is exact. A statement
    copied from another position shares its origin's grantees.
    """
    if stmt.origin is not None:
        c = compile_statement(stmt.origin)
        if not c.accesses:
            return c  # a Deny's scope or nothing: no statement in it to re-point
        return c._replace(accesses=tuple([Access(stmt, a.grantee, a.mask) for a in c.accesses]))
    mask = statement_mask(stmt) if applies_to_key(stmt) else 0
    if not mask:
        return CompiledStatement(0, ())
    if stmt.allow:
        if stmt.conditions:
            # a condition on a key only some actions carry holds for no other action
            mask &= condition_actions(stmt.conditions)
            if not mask:
                return CompiledStatement(0, ())
        return CompiledStatement(mask, tuple([Access(stmt, g, mask)
                                              for g in allow_grantees(stmt)]))
    return CompiledStatement(mask, (), deny_parts(stmt.conditions, mask))


def deny_parts(conditions: tuple[Condition, ...], mask: int) -> tuple[DenyPart, ...]:
    """A Deny's scope, worked out apart for actions whose requests never carry some of its
    condition keys (``split_by_carried_keys``)."""
    if not conditions:
        return (DenyPart(mask, UNCONDITIONAL, UNCONDITIONAL),)
    return tuple([DenyPart(part, deny_scope(left), deny_scope(left, for_services=True))
                  for part, left in split_by_carried_keys(conditions, mask)])
