"""IAM-KMS-8: one principal (not the owner root) holds both key-management and cryptographic
rights, through one statement or several.

What each Allow gives (``holdings``) is named by the principals it can be, so that two
statements reaching the same principal add up. Two grantees can also reach the same callers
under different names, and then those callers hold what both give:

- a class of callers: ``"*"`` (what its pins leave), a web identity provider's users, another
  account's root (that account's IAM policies pass its rights on to any of its principals), the
  service side of ``"*"``: it reaches every grantee in it;
- principals named by ARN, pattern or unique id: a role reaches its sessions, an
  ``aws:PrincipalArn`` pattern the principals it matches, a unique id anyone (the policy does
  not say whose it is).

Rights belong to the principal, not to one request: networks do not part holders. The owner
root's grant is left aside: it delegates to the owner's IAM policies
(https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from remediator.detectors.analysis import PolicyAnalysis, finding, grantee_names, is_owner_root
from remediator.policy import actions as kms
from remediator.policy.access import AWS, SERVICE, Access, Grantee
from remediator.policy.constraints import ANY, Constraint, meet_principals
from remediator.policy.principals import (
    globs_meet,
    has_wildcard,
    may_hold_principal_arn,
    parse_aws_principal,
    root_arn,
)
from remediator.types import Context, Finding

Holding = tuple[str, int, Access]  # (principal, actions, the access that gives them)


def _as_key(arn: str) -> str:
    p = parse_aws_principal(arn)
    return root_arn(p.account) if p.is_root and p.account else arn


@lru_cache(maxsize=16_384)  # grantees repeat across an estate (shared statements)
def principal_keys(g: Grantee) -> tuple[str, ...]:
    """Who holds an access, one name per principal it can be: an exact principal; each ARN a
    condition left it to; or the principal as written with the accounts, organisations and
    networks it is pinned to (two "*" pinned to different accounts are different principals)."""
    if g.arn is not None:
        return (_as_key(g.arn),)
    if g.principals.include is not None:
        return tuple(sorted(_as_key(p) for p in g.principals.values()))
    return grantee_names(g)


def holdings(accesses: Iterable[Access], ctx: Context) -> tuple[Holding, ...]:
    """(principal, actions, access) for each access IAM-KMS-8 weighs: all but the owner root's."""
    owner_root = root_arn(ctx.owner_account)
    return tuple([
        (key, acc.mask, acc)
        for acc in accesses
        if not is_owner_root(acc.grantee, ctx)
        for key in principal_keys(acc.grantee)
        if key != owner_root
    ])


def _is_class(g: Grantee) -> bool:
    if g.kind == SERVICE:
        return g.label == "*"
    return g.is_root or (g.arn is None and g.principals.include is None)


def _named(g: Grantee) -> frozenset[str]:
    """The ARNs, patterns or unique ids an IAM grantee that is not a class stands for."""
    if g.arn is not None:
        return frozenset((g.arn,))
    assert g.principals.include is not None
    return g.principals.include - g.principals.exclude


def _may_be(value: str, arn: str) -> bool:
    """Whether the principal ``arn`` may be one that ``value`` (an ARN, pattern or unique id)
    names: a role names its sessions, a pattern what it matches, a unique id anyone."""
    return not value.startswith("arn:") or may_hold_principal_arn(value, arn)


def _exact(value: str) -> bool:
    return value.startswith("arn:") and not has_wildcard(value)


def _may_meet(v: str, w: str) -> bool:
    """Whether two inexact names (ARN patterns, unique ids) may name one caller: a unique id
    may be anyone's, and two patterns of one kind meet where some value matches both."""
    return v.startswith("arn:") != w.startswith("arn:") or globs_meet(v, w)


def _named_by_both(x: Grantee, y: Grantee) -> list[str]:
    """The principals, each named exactly by one grantee, that the other may also be; and the
    inexact names of ``x`` that may name a caller of an inexact name of ``y``."""
    out: list[str] = []
    for one, other in ((x, y), (y, x)):
        values = _named(other)
        out.extend(a for a in _named(one)
                   if _exact(a) and a not in other.principals.exclude
                   and any(_may_be(v, a) for v in values))
    ys = [w for w in _named(y) if not _exact(w)]
    out.extend(v for v in _named(x) if not _exact(v) and v not in y.principals.exclude
               and any(_may_meet(v, w) for w in ys))
    return out


def _class_meet(c: Grantee, e: Grantee, accounts: Constraint, orgs: Constraint
                ) -> Grantee | None:
    """The callers both in the class ``c`` and in ``e``."""
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
        return None  # two identity providers' users, or two services
    return Grantee(c.kind, label, accounts, orgs, ANY, meet_principals(c.principals, e.principals))


@lru_cache(maxsize=16_384)  # as do the pairs of them in one policy (console defaults...)
def common_callers(x: Grantee, y: Grantee) -> tuple[str, ...]:
    """The names of the callers who are both ``x`` and ``y`` (none when no caller is)."""
    if x.kind != y.kind:
        # "*" that nothing pins stands for the service principals too (access.py gives it no
        # service grantee of its own): it reaches every service named.
        star, service = (x, y) if x.kind == AWS else (y, x)
        is_open_star = star.label == "*" and star.arn is None and star.is_open
        return principal_keys(service) if is_open_star else ()
    accounts, orgs = x.accounts.meet(y.accounts), x.orgs.meet(y.orgs)
    if accounts.is_empty or orgs.is_empty:
        return ()
    if _is_class(x) or _is_class(y):
        c, e = (x, y) if _is_class(x) else (y, x)
        common = _class_meet(c, e, accounts, orgs)
        return () if common is None else principal_keys(common)
    if x.kind != AWS:  # two named services: the same one, acting where both pins allow
        return principal_keys(Grantee(SERVICE, x.label, accounts, orgs)) \
            if x.label == y.label else ()
    return tuple(dict.fromkeys(_as_key(a) for a in _named_by_both(x, y)))


def _distinct_principals(x: Grantee, y: Grantee) -> bool:
    """Two different exact principals, neither an account nor a role session (a role and its
    session are the only two ARNs of which one names the other): the common case, settled
    without ``common_callers``."""
    return (x.arn is not None and y.arn is not None and x.arn != y.arn
            and not x.is_root and not y.is_root
            and ":assumed-role/" not in x.arn and ":assumed-role/" not in y.arn)


def _holds_both(mask: int) -> bool:
    return bool(mask & kms.ADMIN_MASK and mask & kms.CRYPTO_MASK)


# The pairs of one policy's grantees depend on nothing but the grantees, their rights and the
# owner: policies sharing statements share them. Keyed by the grantees' identities, each entry
# keeps its grantees alive (so no id is reused while it stands) and is checked on a hit.
_PAIRS: dict[tuple[object, ...], tuple[tuple[Grantee, ...], tuple[tuple[str, int, int], ...]]] = {}
_PAIRS_LIMIT = 16_384


def forget_pairs() -> None:
    _PAIRS.clear()


def _shared_holdings(accesses: list[Access], held: dict[str, int], owner: str) -> list[Holding]:
    """What callers hold through two grantees that both reach them. A grantee already holding
    both kinds of rights by itself (``held``) is reported as itself, which covers every caller
    in it, so its pairs are not weighed again."""
    signature = (owner, *[(id(a.grantee), a.mask) for a in accesses])
    hit = _PAIRS.get(signature)
    if hit is not None and all(g is a.grantee for g, a in zip(hit[0], accesses, strict=True)):
        return [(key, mask, accesses[i]) for key, mask, i in hit[1]]

    def covered(acc: Access) -> bool:
        return all(_holds_both(held.get(k, 0)) for k in principal_keys(acc.grantee))

    admins = [i for i, a in enumerate(accesses) if a.mask & kms.ADMIN_MASK and not covered(a)]
    users = [i for i, a in enumerate(accesses) if a.mask & kms.CRYPTO_MASK and not covered(a)]
    found: list[tuple[str, int, int]] = []
    for i in admins:
        for j in users:
            if i == j or (j < i and j in admins and i in users):
                continue  # the same grantee, or a pair already weighed the other way round
            a, u = accesses[i], accesses[j]
            if _distinct_principals(a.grantee, u.grantee):
                continue
            mask = a.mask | u.mask
            found.extend((key, mask, i) for key in common_callers(a.grantee, u.grantee))
    if len(_PAIRS) >= _PAIRS_LIMIT:
        _PAIRS.clear()
    _PAIRS[signature] = (tuple([a.grantee for a in accesses]), tuple(found))
    return [(key, mask, accesses[i]) for key, mask, i in found]


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
    accesses = list({id(acc): acc for _, _, acc in items}.values())
    _add(held, first_admin, _shared_holdings(accesses, dict(held), owner_root), owner_root)
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
