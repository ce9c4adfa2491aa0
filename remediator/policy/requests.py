"""A finite set of representative requests for comparing two key policies concretely.

Two policies can differ only on values they name, so it is enough to try every principal,
account, organisation, service and condition value either names, plus one fresh value of each
kind that neither names (a fresh outsider account with a root, a role session, an IAM user and
a federated user, a fresh organisation, a fresh service, a fresh value for each condition key,
and each key absent). Condition keys are varied one at a time from a baseline where each key has
its first named value, plus an all-absent, an all-fresh and one context per statement that sets
that statement's own values, which keeps the set small (tens to a few hundred requests) while
reaching every statement.

Service-to-service keys (``aws:SourceAccount``, ``aws:SourceArn``...) exist only when "accessing
a resource triggers an AWS service to call another service on behalf of the resource owner"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourceaccount),
so only service-principal requests carry them, consistently (the source ARN in the source
account); a service request without them acts for nobody we know and is an outsider. A service
"sees the IP address of the calling service rather than the IP address of the originating
user" (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IPAddress),
so service requests never come from a network a policy names.

Each request is labelled: insider (a principal of the owner, a trusted account or a member of
the trusted organisation, or a service the policies name acting for one), outsider (anyone
else, or any service acting for an outsider or for nobody known), or neutral (a service no
policy names acting for an insider: its access through ``"*"`` is nobody's intent, and the
confused-deputy keys make it the insider's own). ``in_named_network`` marks IAM requests from
a VPC, endpoint or address range a policy names: the detectors, following Access Analyzer, take
``"*"`` on a fixed network path as not exposed, so such requests count as exposure only when a
principal named explicitly lets them in (``evaluate.allowed_actions(..., by_name=True)``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from remediator.policy.condition_keys import ACCOUNT_KEYS, ARN_KEYS, ORG_KEYS, ORG_PATH_KEYS
from remediator.policy.document import Condition, Policy
from remediator.policy.evaluate import (
    AWS,
    IDENTITY_KEYS,
    INSIDER,
    NEUTRAL,
    OUTSIDER,
    SERVICE,
    Request,
    allowed_actions,
)
from remediator.policy.named_networks import Ctx, in_named_network, off_named_networks
from remediator.policy.principals import (
    glob_match,
    is_account_id,
    parse_aws_principal,
    split_arn,
)
from remediator.policy.service_context import context_value_for, service_name, service_of_key
from remediator.policy.values import fill, fresh_value, key_variants, satisfying_value
from remediator.types import Context

FRESH_ORG = "o-fresh0000zz"
FRESH_SERVICE = "fresh-service.amazonaws.com"
FRESH_ROLE = "fresh-role"
FRESH_SESSION = "fresh-session"
FRESH_USER = "fresh-user"
_FRESH_ACCOUNT_SEED = 210_987_654_321



def _add(d: dict[str, None], values: Iterable[str]) -> None:
    for v in values:
        d.setdefault(v, None)


@dataclass
class Named:
    """Everything either policy names, in first-seen order (dicts used as ordered sets)."""

    accounts: dict[str, None] = field(default_factory=dict)
    orgs: dict[str, None] = field(default_factory=dict)
    paths: dict[str, None] = field(default_factory=dict)
    principals: dict[str, None] = field(default_factory=dict)
    services: dict[str, None] = field(default_factory=dict)
    source_arns: dict[str, None] = field(default_factory=dict)
    userids: dict[str, None] = field(default_factory=dict)
    keys: dict[str, list[Condition]] = field(default_factory=dict)
    statements: list[tuple[Condition, ...]] = field(default_factory=list)
    org_keys: bool = False
    source_owner: bool = False

    def add_principals(self, values: Iterable[str]) -> None:
        """File Principal.AWS values: their accounts, and the users, roles and sessions."""
        for v in values:
            p = parse_aws_principal(v)
            if p.account is None:
                continue
            _add(self.accounts, [p.account])
            if not p.is_root:
                _add(self.principals, [v.strip()])

    def add_condition(self, cond: Condition) -> None:
        """File a condition's values under what they name."""
        key, vals = cond.key, cond.values
        self.org_keys |= key in ORG_KEYS or key in ORG_PATH_KEYS
        self.source_owner |= key == "aws:sourceowner"
        if key in ACCOUNT_KEYS:
            _add(self.accounts, (v for v in vals if is_account_id(v)))
        elif key in ARN_KEYS:
            arns = [split_arn(v) for v in vals]
            _add(self.accounts, (a.account for a in arns if a and is_account_id(a.account)))
            _add(self.principals if key == "aws:principalarn" else self.source_arns, vals)
        elif key in ORG_KEYS:
            _add(self.orgs, (fill(v) for v in vals))
        elif key in ORG_PATH_KEYS:
            _add(self.paths, (fill(v) for v in vals))
            _add(self.orgs, (fill(v).split("/", 1)[0] for v in vals))
        elif key == "aws:userid":
            heads = [v.split(":", 1)[0] for v in vals]
            _add(self.accounts, (h for h in heads if is_account_id(h)))
            _add(
                self.userids,
                (fill(v) for v, h in zip(vals, heads, strict=True) if not is_account_id(h)),
            )
        elif key in ("aws:principalservicename", "aws:principalservicenameslist"):
            _add(self.services, (fill(v) for v in vals))
        elif key not in IDENTITY_KEYS:
            self.keys.setdefault(key, []).append(cond)


def collect(policies: Iterable[Policy], ctx: Context) -> Named:
    """Every principal, account, organisation, service and condition value the policies name."""
    named = Named()
    _add(named.accounts, [ctx.owner_account, *sorted(ctx.trusted_accounts)])
    if ctx.org_id:
        _add(named.orgs, [ctx.org_id])
    # The configured key administrators are callers whose rights a patch must keep, named or
    # not: a key policy may reach them only through "*" or a pattern. A pattern for every
    # account is also tried in a few of the organisation's listed members (all are alike).
    named.add_principals(ctx.admins)
    members = sorted(ctx.org_accounts - {ctx.owner_account} - ctx.trusted_accounts)[:3]
    for pattern in ctx.admins:
        parts = pattern.split(":", 5)
        if len(parts) == 6 and not is_account_id(parts[4]):
            named.add_principals(":".join([*parts[:4], a, parts[5]]) for a in members
                                 if glob_match(parts[4], a))
    for policy in policies:
        for stmt in policy.statements:
            for element in (stmt.principal, stmt.not_principal):
                if element is not None:
                    named.add_principals(element.aws)
                    _add(named.services, element.service)
            for cond in stmt.conditions:
                named.add_condition(cond)
            if stmt.conditions:
                named.statements.append(stmt.conditions)
    return named


def fresh_accounts(named: Named, n: int, members: frozenset[str] = frozenset()) -> list[str]:
    """``n`` twelve-digit account ids that neither policy nor the context names, and that are
    not among the trusted organisation's ``members``."""
    out: list[str] = []
    candidate = _FRESH_ACCOUNT_SEED
    while len(out) < n:
        acct = f"{candidate:012d}"
        if acct not in named.accounts and acct not in members:
            out.append(acct)
        candidate += 1
    return out


# --- principals ------------------------------------------------------------------------

Identity = tuple[str, str, str | None, str | None]  # principal, account, role_arn, userid


def _session(account: str, role: str, partition: str = "aws") -> Identity:
    role_arn = f"arn:{partition}:iam::{account}:role/{role}"
    return (
        f"arn:{partition}:sts::{account}:assumed-role/{role}/{FRESH_SESSION}",
        account,
        role_arn,
        None,
    )


def _arn_instances(value: str, accounts: Iterable[str]) -> list[str]:
    """Concrete ARNs matching an ARN (pattern): a wildcard account becomes each account."""
    parts = value.strip().split(":", 5)
    if len(parts) != 6:
        return []
    accts = list(accounts) if ("*" in parts[4] or "?" in parts[4]) else [parts[4]]
    return [":".join([*map(fill, parts[:4]), a, fill(parts[5])]) for a in accts]


def _named_identity(arn: str) -> Identity | None:
    p = split_arn(arn)
    if p is None or not is_account_id(p.account):
        return None
    if p.service == "iam" and p.resource.startswith("role/"):
        name = p.resource.rsplit("/", 1)[-1]
        return (
            f"arn:{p.partition}:sts::{p.account}:assumed-role/{name}/{FRESH_SESSION}",
            p.account,
            arn,
            None,
        )
    if (p.service == "iam" and p.resource.startswith("user/")) or (
        p.service == "sts" and p.resource.startswith(("assumed-role/", "federated-user/"))
    ):
        return (arn, p.account, None, None)
    return None


def aws_identities(named: Named, accounts: list[str], outsider: str,
                   partition: str = "aws") -> list[Identity]:
    """Each account's root, a fresh role session, IAM user and federated user (each principal
    type carries its own ``aws:PrincipalType``, ``aws:userid`` and ``aws:username``), every
    named user/role/session, and a session in the fresh outsider account for every unique id
    an ``aws:userid`` names."""
    out: list[Identity] = []
    for a in accounts:
        out.append((f"arn:{partition}:iam::{a}:root", a, None, None))
        out.append(_session(a, FRESH_ROLE, partition))
        out.append((f"arn:{partition}:iam::{a}:user/{FRESH_USER}", a, None, None))
        out.append((f"arn:{partition}:sts::{a}:federated-user/{FRESH_USER}", a, None, None))
    for value in named.principals:
        for arn in _arn_instances(value, accounts):
            ident = _named_identity(arn)
            if ident is not None:
                out.append(ident)
    for uid in named.userids:
        out.append((*_session(outsider, "userid-role", partition)[:3], uid))
    return list(dict.fromkeys(out))


OrgVariant = tuple[str | None, tuple[str, ...]]


def org_variants(account: str, named: Named, ctx: Context, member: str | None) -> list[OrgVariant]:
    """The organisations (and paths) an account may belong to, as far as the policies care."""
    known = bool(ctx.org_accounts)  # the members as the scan read them
    if account == member or (ctx.org_id and (account in ctx.org_accounts or (
            account == ctx.owner_account and not known))):
        orgs: list[str | None] = [ctx.org_id]  # a member is in no other organisation
    elif not named.org_keys:
        return [(None, ())]
    else:
        # An account the policies name and the trust does not list is an outsider, whatever
        # organisation it is in: the detectors report it as such (KMS-CROSS-ACCOUNT), so the
        # proof must not count it a member of the trusted one. Membership is the fresh
        # member account's role. When the members are known, an account not among them is
        # in no way a member, trusted or not.
        orgs = [o for o in named.orgs
                if o != ctx.org_id or (ctx.is_trusted_account(account) and not known)]
        orgs += [FRESH_ORG, None]
    out: list[OrgVariant] = []
    for o in orgs:
        if o is None:
            out.append((None, ()))
            continue
        paths = [p for p in named.paths if p.split("/", 1)[0] == o] + [f"{o}/r-fresh/"]
        out.extend((o, (p,)) for p in paths)
    return out


def is_insider(account: str | None, org: str | None, ctx: Context) -> bool:
    """Owner, trusted accounts and members of the trusted organisation are insiders."""
    if account is not None and ctx.is_trusted_account(account):
        return True
    return bool(ctx.org_id) and org == ctx.org_id


# --- contexts ------------------------------------------------------------------------------


def contexts(named: Named) -> list[Ctx]:
    """All-absent, all-named, all-fresh, one key varied at a time, and one per statement."""
    variants = {k: key_variants(conds) for k, conds in named.keys.items()}
    base: Ctx = {k: vs[0] for k, vs in variants.items() if vs and vs[0] is not None}
    out: list[Ctx] = [{}, base, {k: (fresh_value(c),) for k, c in named.keys.items()}]
    for k, vs in variants.items():
        for v in vs:
            c = {key: val for key, val in base.items() if key != k}
            if v is not None:
                c[k] = v
            out.append(c)
    for conds in named.statements:
        c = dict(base)
        for cond in conds:
            if cond.key in variants:
                sat = satisfying_value(cond)
                if sat is None:
                    c.pop(cond.key, None)
                else:
                    c[cond.key] = sat
        out.append(c)
    unique = {tuple(sorted(c.items())): c for c in out}
    return list(unique.values())


# --- services --------------------------------------------------------------------------

Source = tuple[Ctx, bool]  # service-to-service context keys, insider


def _source_arns(named: Named, account: str) -> list[str]:
    arns = [
        a
        for s in named.source_arns
        for a in _arn_instances(s, [account])
        if a.split(":", 5)[4] == account
    ]
    return arns or [f"arn:aws:fresh:us-east-1:{account}:resource/fresh"]


def _service_context(named: Named, service: str, account: str) -> Ctx:
    """``service``'s own encryption-context keys the policies name, as it writes them acting
    for ``account``'s resource (``service_context``)."""
    out: Ctx = {}
    for key, conds in named.keys.items():
        if service_of_key(key) == service_name(service):
            value = context_value_for(tuple(v for c in conds for v in c.values), account)
            if value is not None:
                out[key] = (value,)
    return out


def service_sources(
    named: Named, ctx: Context, accounts: list[str], member: str | None, outsider: str,
    service: str = "",
) -> list[Source]:
    """On whose behalf ``service`` calls: nobody known (an outsider's resource, as far as its
    own encryption context says), each account (with its source ARNs, organisations and
    encryption context), and for source ARNs without an account part (S3) the owner or an
    outsider."""
    out: list[Source] = [(_service_context(named, service, outsider), False)]
    for a in accounts:
        for org, paths in org_variants(a, named, ctx, member):
            for arn in _source_arns(named, a):
                c: Ctx = {"aws:sourceaccount": (a,), "aws:sourcearn": (arn,),
                          **_service_context(named, service, a)}
                if named.source_owner:
                    c["aws:sourceowner"] = (a,)
                if org:
                    c["aws:sourceorgid"] = (org,)
                    c["aws:sourceorgpaths"] = paths
                out.append((c, is_insider(a, org, ctx)))
    for s in named.source_arns:
        p = split_arn(s)
        if p is not None and not p.account:
            for a in (ctx.owner_account, outsider):
                c = {"aws:sourceaccount": (a,), "aws:sourcearn": (fill(s),)}
                out.append((c, is_insider(a, None, ctx)))
    return out


def resource_keys(ctx: Context) -> Ctx:
    """Every request is to this key: its account (and organisation, when known) are the
    resource's (aws:ResourceAccount, aws:ResourceOrgID), whoever calls."""
    return {"aws:resourceaccount": (ctx.owner_account,),
            **({"aws:resourceorgid": (ctx.org_id,)} if ctx.org_id and ctx.owner_in_org() else {})}


def representative_requests(before: Policy, after: Policy, ctx: Context) -> list[Request]:
    """Requests covering every value either policy names plus fresh outsider values, each
    labelled insider, outsider or neutral (see the module)."""
    named = collect((before, after), ctx)
    outsider, fresh_member = fresh_accounts(named, 2, ctx.org_accounts)
    member = fresh_member if ctx.org_id else None
    accounts = [*named.accounts, outsider, *([member] if member else [])]
    tried = contexts(named)
    off_network = off_named_networks(tried, named.keys)
    # Callers come from a named network or from elsewhere: each context naming one is also
    # tried with its network keys absent (so, off those networks).
    ctxs = tried + [c for c in off_network if c not in tried]
    nets = [in_named_network(c, named.keys) for c in ctxs]
    resource = resource_keys(ctx)
    out: list[Request] = []
    for principal, acct, role, uid in aws_identities(named, accounts, outsider, ctx.partition):
        for org, paths in org_variants(acct, named, ctx, member):
            zone = INSIDER if is_insider(acct, org, ctx) else OUTSIDER
            out.extend(
                Request(AWS, principal, acct, org, paths, {**c, **resource}, role, uid, zone,
                        net)
                for c, net in zip(ctxs, nets, strict=True)
            )
    for service in [*named.services, FRESH_SERVICE]:
        for source, insider in service_sources(named, ctx, accounts, member, outsider,
                                               service):
            zone = OUTSIDER if not insider else INSIDER if service in named.services else NEUTRAL
            out.extend(
                Request(SERVICE, service, None, None, (), {**c, **source, **resource}, None,
                        None, zone)
                for c in off_network
            )
    return out


def exposed_actions(policy: Policy, request: Request) -> int:
    """What a request may do that the detectors count as exposure: all it is allowed, or, from
    a network a policy names, only what a principal naming it explicitly allows."""
    return allowed_actions(policy, request, by_name=request.in_named_network)
