"""A concrete request evaluator: which key actions does a key policy allow one given request?

Independent of the symbolic engine (``conditions.py``/``access.py``), written from the IAM
documentation so that the two can be checked against each other; only the KMS action catalogue
(``actions.py``) and the Resource reading (``access.applies_to_key``) are shared.

- Deny overrides Allow: "An explicit deny overrides an explicit allow"
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html).
- Principal (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html):
  ``"*"`` and ``{"AWS": "*"}`` are all principals; an account id or ``:root`` ARN "delegates
  authority to the account" and "does not limit permissions to only the root user", so it names
  every principal of that account; a role ARN names the role's sessions ("when they use those
  session credentials ... they become a role session principal"); an assumed-role session ARN
  names that one session; "You cannot use a wildcard to match part of a principal name or ARN",
  so ``arn:aws:iam::*:root`` names nobody here (the symbolic engine treats it as public).
- NotPrincipal (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html):
  "AWS might validate the account first, then the role, and then the assumed-role user", so a
  caller is spared only when its account, and its role or user, are all listed.
- Identity-derived keys come from the caller, never from the request's context
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html):
  ``aws:PrincipalArn`` of a role session is "the ARN of the role, not the ARN of the user that
  assumed the role"; ``aws:userid`` of the root user is the account id; ``aws:PrincipalOrgID``
  and ``aws:PrincipalOrgPaths`` exist "only if the principal is a member of an organization".
  A service principal has no account, so it has no ``aws:PrincipalAccount``/``kms:CallerAccount``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from remediator.policy import actions as kms
from remediator.policy.action_keys import actions_carrying, is_scoped
from remediator.policy.document import Policy, Principals, Statement
from remediator.policy.matchers import Unresolvable, condition_holds
from remediator.policy.principals import is_account_id, split_arn
from remediator.policy.resources import applies_to_key

AWS, SERVICE = "aws", "service"
INSIDER, OUTSIDER, NEUTRAL = "insider", "outsider", "neutral"
VARIABLES_VERSION = "2012-10-17"

# Keys a request carries because of who makes it; a context value for them is ignored.
IDENTITY_KEYS = frozenset(
    {
        "aws:principalaccount",
        "kms:calleraccount",
        "aws:principalarn",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principaltype",
        "aws:userid",
        "aws:username",
        "aws:principalisawsservice",
        "aws:principalservicename",
        "aws:principalservicenameslist",
    }
)
# Tags of the IAM user or role making the request: a service principal has none
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principaltag).
PRINCIPAL_TAG_PREFIX = "aws:principaltag/"


@dataclass(frozen=True, slots=True)
class Request:
    """One request to use the key, as the key policy sees it.

    kind: ``"aws"`` (an IAM principal) or ``"service"`` (an AWS service principal).
    principal: the caller's ARN (``:root``, ``:user/...``, ``:role/...``, an
        ``sts::...:assumed-role/ROLE/SESSION`` or ``:federated-user/...``) or the service name.
    account: the caller's account (None for a service principal).
    org_id, org_paths: the caller's organisation and AWS Organizations paths, if any.
    context: every other condition key, lower-case, to its values; an absent key is missing.
    role_arn: for a role session, the role's ARN with its path (``aws:PrincipalArn``); derived
        from the session ARN (without path) when None.
    userid: ``aws:userid`` for a non-root caller (unique ids cannot be derived from an ARN).
    zone, in_named_network: labels set by ``requests.representative_requests`` (see there);
        the evaluator ignores them.
    """

    kind: str
    principal: str
    account: str | None = None
    org_id: str | None = None
    org_paths: tuple[str, ...] = ()
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    role_arn: str | None = None
    userid: str | None = None
    zone: str = OUTSIDER
    in_named_network: bool = False

    @property
    def is_insider(self) -> bool:
        return self.zone == INSIDER

    @property
    def is_outsider(self) -> bool:
        return self.zone == OUTSIDER


# A link of the caller's chain: (ARN or service name, account or "").
Link = tuple[str, str]


def _role_name(resource: str) -> str | None:
    """The role name of ``role/path/NAME`` or of ``assumed-role/NAME/SESSION``."""
    if resource.startswith("role/"):
        return resource.rsplit("/", 1)[-1]
    if resource.startswith("assumed-role/"):
        parts = resource.split("/")
        return parts[1] if len(parts) >= 3 else None
    return None


@lru_cache(maxsize=16384)
def names(value: str, link: Link) -> bool:
    """Whether one Principal.AWS value names one caller link (exact matching, no wildcards)."""
    v = value.strip()
    who, account = link
    if v == "*":
        return True
    if is_account_id(v):
        return v == account
    p, w = split_arn(v), split_arn(who)
    if p is None or w is None or p.partition != w.partition or p.account != account:
        return False  # unique ids (deleted principals) and other partitions name nobody
    if p.service == "iam" and p.resource == "root":
        return True
    if v == who:
        return True
    if p.service == "iam" and p.resource.startswith("role/"):
        name = _role_name(w.resource)
        is_role_link = (w.service == "iam" and w.resource.startswith("role/")) or (
            w.service == "sts" and w.resource.startswith("assumed-role/")
        )
        return is_role_link and name == _role_name(p.resource)
    return False


def _element_names(element: Principals, link: Link, kind: str) -> bool:
    if element.anyone:
        return True
    if kind == SERVICE:
        return link[0] in element.service
    return any(names(v, link) for v in element.aws)


def _element_lists(element: Principals, link: Link, kind: str) -> bool:
    """Whether a NotPrincipal element lists one link of a caller itself. Unlike Principal,
    where an account names every principal in it, an account listed in NotPrincipal lists the
    account link only: its users and roles must be listed too (the NotPrincipal page spares a
    session by listing the session, its role and the account)."""
    if element.anyone or kind == SERVICE:
        return _element_names(element, link, kind)
    is_account_link = link[0].endswith(":root")
    return any(names(v, link) and (is_account_link or not _names_an_account(v))
               for v in element.aws)


def _names_an_account(value: str) -> bool:
    v = value.strip()
    if is_account_id(v):
        return True
    arn = split_arn(v)
    return arn is not None and arn.service == "iam" and arn.resource == "root"


def principal_applies(stmt: Statement, chain: tuple[Link, ...], kind: str) -> bool:
    """Principal names the caller itself; NotPrincipal spares it only if every link is listed."""
    if stmt.principal is not None:
        return _element_names(stmt.principal, chain[-1], kind)
    if stmt.not_principal is None:
        return False  # an identity-policy statement: no principal in a key policy's sense
    return not all(_element_lists(stmt.not_principal, link, kind) for link in chain)


def _synthetic_id(prefix: str, seed: str) -> str:
    return prefix + hashlib.sha1(seed.encode()).hexdigest()[:17].upper()


@dataclass(frozen=True, slots=True)
class Caller:
    """What a request's principal contributes: its chain of links and its identity keys."""

    chain: tuple[Link, ...]
    identity: tuple[tuple[str, tuple[str, ...]], ...]


def _aws_links(
    principal: str, account: str, role_arn: str | None
) -> tuple[tuple[Link, ...], str, str]:
    """(chain, aws:PrincipalArn, aws:PrincipalType) of an IAM caller."""
    arn = split_arn(principal)
    partition = arn.partition if arn is not None else "aws"
    root: Link = (f"arn:{partition}:iam::{account}:root", account)
    if arn is None or (arn.service == "iam" and arn.resource == "root"):
        return (root,), root[0], "Account"
    if arn.service == "sts" and arn.resource.startswith("assumed-role/"):
        role = role_arn or f"arn:{partition}:iam::{account}:role/{_role_name(arn.resource)}"
        return (root, (role, account), (principal, account)), role, "AssumedRole"
    kind = "FederatedUser" if arn.resource.startswith("federated-user/") else "User"
    return (root, (principal, account)), principal, kind


@lru_cache(maxsize=16384)
def caller(
    kind: str,
    principal: str,
    account: str | None,
    org_id: str | None,
    org_paths: tuple[str, ...],
    role_arn: str | None,
    userid: str | None,
) -> Caller:
    """The chain and identity-derived condition keys of one principal (memoised)."""
    if kind == SERVICE:
        return Caller(
            ((principal, ""),),
            (("aws:principalisawsservice", ("true",)), ("aws:principalservicename", (principal,)),
             ("aws:principalservicenameslist", (principal,))),
        )
    acct = account or ""
    chain, principal_arn, ptype = _aws_links(principal, acct, role_arn)
    ident: dict[str, tuple[str, ...]] = {
        "aws:principalaccount": (acct,),
        "kms:calleraccount": (acct,),
        "aws:principalarn": (principal_arn,),
        "aws:principaltype": (ptype,),
        "aws:principalisawsservice": ("false",),
    }
    if ptype == "Account":
        ident["aws:userid"] = (acct,)
    elif ptype == "AssumedRole":
        session = principal.rsplit("/", 1)[-1]
        ident["aws:userid"] = (userid or f"{_synthetic_id('AROA', principal_arn)}:{session}",)
    elif ptype == "FederatedUser":  # GetFederationToken: "account:caller-specified-name"
        ident["aws:userid"] = (userid or f"{acct}:{principal.rsplit('/', 1)[-1]}",)
    else:
        ident["aws:userid"] = (userid or _synthetic_id("AIDA", principal),)
        ident["aws:username"] = (principal.rsplit("/", 1)[-1],)
    if org_id:
        ident["aws:principalorgid"] = (org_id,)
        if org_paths:
            ident["aws:principalorgpaths"] = org_paths
    return Caller(chain, tuple(ident.items()))


def request_facts(request: Request) -> tuple[Caller, dict[str, tuple[str, ...]]]:
    """The caller and every condition key of a request (identity keys override the context)."""
    who = caller(
        request.kind,
        request.principal,
        request.account,
        request.org_id,
        request.org_paths,
        request.role_arn,
        request.userid,
    )
    facts = {
        k.lower(): tuple(v) for k, v in request.context.items() if k.lower() not in IDENTITY_KEYS
    }
    if request.kind == SERVICE:
        for k in [k for k in facts if k.startswith(PRINCIPAL_TAG_PREFIX)]:
            del facts[k]
    facts.update(who.identity)
    return who, facts


@lru_cache(maxsize=65_536)
def statement_actions(stmt: Statement) -> int:
    """The key actions a statement covers on this key (0 when its Resource excludes the key)."""
    if not applies_to_key(stmt):
        return 0
    if stmt.actions is not None:
        m = 0
        for a in stmt.actions:
            m |= kms.expand(a)
        return m
    assert stmt.not_actions is not None
    m = 0
    for a in stmt.not_actions:
        m |= kms.expand(a)
    return kms.ALL_KEY_ACTIONS & ~m


def conditions_hold(stmt: Statement, facts: Mapping[str, tuple[str, ...]], variables: bool) -> bool:
    """All conditions of a statement are ANDed; an unresolvable variable voids the statement."""
    try:
        return all(condition_holds(c, facts, variables) for c in stmt.conditions)
    except Unresolvable:
        return False


def _names_explicitly(element: Principals | None, link: Link, kind: str) -> bool:
    if element is None:
        return False
    if kind == SERVICE:
        return link[0] in element.service
    return any(v.strip() != "*" and names(v, link) for v in element.aws)


def spared_by_name(policy: Policy, request: Request) -> int:
    """Actions for which a Deny's NotPrincipal spares the caller by name (not through ``"*"``)
    where that Deny denies the others: what is left of an Allow to ``"*"`` on them is that
    named principal's access. A Deny whose conditions do not hold in the request (for IAM
    callers, one under ``aws:PrincipalIsAWSService "true"``) denies nobody there, so it leaves
    ``"*"`` as it was."""
    who, facts = request_facts(request)
    chain, kind = who.chain, request.kind
    variables = policy.version == VARIABLES_VERSION
    mask = 0
    for stmt in policy.statements:
        if (
            not stmt.allow
            and stmt.not_principal is not None
            and not stmt.not_principal.anyone
            and _element_lists(stmt.not_principal, chain[-1], kind)
            and not principal_applies(stmt, chain, kind)
        ):
            actions = statement_actions(stmt)
            for group, seen in action_groups(facts):
                if actions & group and conditions_hold(stmt, seen, variables):
                    mask |= actions & group
    return mask


def action_groups(facts: Mapping[str, tuple[str, ...]]
                  ) -> list[tuple[int, Mapping[str, tuple[str, ...]]]]:
    """The request's context as each key action sees it: a key only some actions carry (an
    encryption context, a grant's parameters, request tags: ``action_keys``) is in the
    request of those actions alone."""
    scoped = [k for k in facts if is_scoped(k)]
    if not scoped:
        return [(kms.ALL_KEY_ACTIONS, facts)]
    groups: dict[frozenset[str], int] = {}
    rest = kms.ALL_KEY_ACTIONS
    while rest:
        b = rest & -rest
        rest ^= b
        carried = frozenset(k for k in scoped if actions_carrying(k) & b)
        groups[carried] = groups.get(carried, 0) | b
    return [(mask, {k: v for k, v in facts.items() if k in carried or k not in scoped})
            for carried, mask in groups.items()]


def _allowed(policy: Policy, request: Request, explicit_only: bool) -> int:
    who, facts = request_facts(request)
    groups = action_groups(facts)
    variables = policy.version == VARIABLES_VERSION
    allow = deny = 0
    for stmt in policy.statements:
        mask = statement_actions(stmt)
        if not mask or (stmt.allow and not mask & ~allow) or (not stmt.allow and not mask & ~deny):
            continue
        if not principal_applies(stmt, who.chain, request.kind):
            continue
        if (
            explicit_only
            and stmt.allow
            and not _names_explicitly(stmt.principal, who.chain[-1], request.kind)
        ):
            continue
        held = 0
        for actions, seen in groups:
            if mask & actions and conditions_hold(stmt, seen, variables):
                held |= mask & actions
        if stmt.allow:
            allow |= held
        else:
            deny |= held
    return allow & ~deny


def allowed_actions(policy: Policy, request: Request, by_name: bool = False) -> int:
    """The bitmask of key actions (``remediator.policy.actions``) the policy allows ``request``.

    ``by_name``: count only Allow statements whose Principal names the caller explicitly (not
    through ``"*"``), except for actions a Deny's NotPrincipal spares it from by name; Denies
    count as always. The detectors report ``"*"`` on a fixed network path as not exposed, and a
    principal named explicitly as exposed on any network.
    """
    if not by_name:
        return _allowed(policy, request, False)
    spared = spared_by_name(policy, request)
    named = _allowed(policy, request, True)
    return (named & ~spared) | (_allowed(policy, request, False) & spared if spared else 0)
