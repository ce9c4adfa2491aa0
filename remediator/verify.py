"""A proof for every patch: four checks that a key-policy change is safe to propose.

The checks evaluate both policies concretely (``policy.evaluate``) on a finite set of
representative requests (``policy.requests``) and run the detectors on both:

1. ``findings-closed`` — the targeted findings are gone and no new finding appears;
2. ``insider-access-kept`` — every request the owner's, trusted accounts' or trusted
   organisation's principals could make before is still allowed, except the actions the
   playbook exists to take away from principals that are not authorised; and no request,
   insider or not, gains an action it did not have, except what closing a targeted finding
   means to grant (the owner account's, for IAM-KMS-1);
3. ``no-outsider-access`` — outsiders gain nothing (and, when asked, are allowed nothing);
4. ``not-locked-out`` — the owner root can still call ``kms:PutKeyPolicy``, and the document is
   one ``PutKeyPolicy`` accepts.

Pure: no AWS calls. A patch whose proof fails is not proposed (the planner says why).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from remediator.detectors import analyze_key_policy
from remediator.errors import PolicyError
from remediator.findings_closed import check_findings
from remediator.policy import actions as kms
from remediator.policy.direct_grants import directly_held
from remediator.policy.document import Policy, parse_policy
from remediator.policy.evaluate import (
    AWS,
    Request,
    allowed_actions,
    request_facts,
)
from remediator.policy.principals import glob_match, root_arn
from remediator.policy.requests import exposed_actions, representative_requests
from remediator.policy.settle import settle_for_context
from remediator.proof import (
    CHECK_NAMES,
    FINDINGS_CLOSED,
    INSIDER_ACCESS_KEPT,
    NO_OUTSIDER_ACCESS,
    NOT_LOCKED_OUT,
    Check,
    Proof,
)
from remediator.put_policy import put_key_policy_problem
from remediator.types import Context, Finding

_PUT = kms.bit("kms:PutKeyPolicy")

__all__ = [
    "CHECK_NAMES",
    "FINDINGS_CLOSED",
    "INSIDER_ACCESS_KEPT",
    "NOT_LOCKED_OUT",
    "NO_OUTSIDER_ACCESS",
    "Check",
    "Proof",
    "check_findings",
    "check_insiders",
    "check_lockout",
    "check_outsiders",
    "verify_change",
]

# --- the checks ------------------------------------------------------------------------

Evaluated = list[tuple[Request, int, int]]  # request, allowed before, allowed after


# The key's account and organisation: in every request, so saying nothing of this one.
_SAME_FOR_EVERY_REQUEST = frozenset({"aws:resourceaccount", "aws:resourceorgid"})


def describe(request: Request) -> str:
    """A request in one line: who, and the context values that are set."""
    who = request.principal
    if request.role_arn:
        who += f" (a session of {request.role_arn})"
    if request.kind == AWS and request.org_id:
        who += f" (organisation {request.org_id})"
    ctx = ", ".join(f"{k}={'|'.join(v)}" for k, v in sorted(request.context.items())
                    if k not in _SAME_FOR_EVERY_REQUEST)
    return f"{who} [{ctx}]" if ctx else who


def is_authorised(request: Request, ctx: Context) -> bool:
    """The owner root or a configured key administrator (matched on the caller's ARN and, for a
    role session, the role's ARN)."""
    if request.kind != AWS:
        return False
    if request.principal == root_arn(ctx.owner_account, ctx.partition):
        return True
    if request.account is None or not ctx.is_trusted_account(request.account):
        return False  # an administrator pattern speaks of the trust's accounts only
    _, facts = request_facts(request)
    arns = {request.principal, *facts.get("aws:principalarn", ())}
    return any(glob_match(p, a) for p in ctx.admins for a in arns)


def _first_action(mask: int) -> str:
    return kms.full_names(mask)[0]


def relied_on(policy: Policy, request: Request) -> int:
    """What a request had that the insider check protects.

    An IAM principal: all it was allowed. A service principal: what statements naming it
    explicitly allowed, including a statement that names ``"*"`` beside it (``{"AWS": "*",
    "Service": S}`` names S on purpose). What ``"*"`` alone (or NotPrincipal) gave a service
    is nobody's intent, so closing a public statement does not count as taking it away.
    """
    return allowed_actions(policy, request, by_name=request.kind != AWS)


def _owner_account(request: Request, ctx: Context) -> int:
    in_owner_account = request.kind == AWS and request.account == ctx.owner_account
    return kms.ALL_KEY_ACTIONS if in_owner_account else 0


# Rules whose fix exists to grant access: closing IAM-KMS-1 means re-adding the owner root
# (the missing-root playbook), which through IAM delegation lets the owner account's
# principals in again. Keyed by rule, not playbook: any fix that closes the finding grants it.
GRANTING_RULES: dict[str, Callable[[Request, Context], int]] = {"IAM-KMS-1": _owner_account}


@dataclass(frozen=True, slots=True)
class Grants:
    """What closing the targeted findings may give requests that did not have it."""

    rules: tuple[str, ...]
    ctx: Context

    @classmethod
    def of(cls, targeted: Sequence[Finding], ctx: Context) -> Grants:
        rules = tuple(r for r in dict.fromkeys(t.rule for t in targeted) if r in GRANTING_RULES)
        return cls(rules, ctx)

    def mask(self, request: Request) -> int:
        """The actions ``request`` may gain."""
        out = 0
        for rule in self.rules:
            out |= GRANTING_RULES[rule](request, self.ctx)
        return out


def _may_lose(request: Request, ctx: Context, removable: int) -> int:
    """The removable actions a request may lose: all of them, but for the configured
    administrators only cryptographic use, which the guardrails keep from key administrators
    (IAM-KMS-8), never a right to manage the key; and nothing for the owner root, through
    which every principal of the account may hold what it holds."""
    if request.kind == AWS and request.principal == root_arn(ctx.owner_account, ctx.partition):
        return 0
    return removable & kms.CRYPTO_MASK if is_authorised(request, ctx) else removable


def check_insiders(
    evaluated: Evaluated,
    ctx: Context,
    removable: int,
    relied: Evaluated | None = None,
    grants: Grants | None = None,
    direct: Evaluated | None = None,
) -> Check:
    """Every insider request keeps what it had, but for removable actions of the unauthorised;
    no request that is not an outsider's (``no-outsider-access`` judges those) gains an action
    it did not have, but for what closing a targeted finding grants (``grants``; by default
    nothing).

    ``relied``: the same requests with what each had that counts (``relied_on``); by default
    all it had. ``direct``: owner-account requests with what the key policy gave them without
    any IAM policy (``directly_held``), which they must keep too.
    """
    kept = relied if relied is not None else evaluated
    insiders = [(r, b, a) for r, b, a in kept if r.is_insider]
    loss = (_first_loss(insiders, ctx, removable, "")
            or _first_loss(direct or [], ctx, removable,
                           ", which the key policy gave it without any IAM policy (the owner "
                           "root's statement needs one)"))
    if loss is not None:
        return Check(INSIDER_ACCESS_KEPT, False, loss)
    gained, granted = _first_gain(evaluated, grants)
    if gained is not None:
        return Check(INSIDER_ACCESS_KEPT, False, gained)
    rules = ", ".join(grants.rules) if grants is not None else ""
    but = f" but what closing {rules} grants" if granted and rules else ""
    return Check(
        INSIDER_ACCESS_KEPT,
        True,
        f"all {len(insiders)} insider requests keep every action they had and none gains "
        f"one{but}",
    )


def _first_loss(evaluated: Evaluated, ctx: Context, removable: int, why: str) -> str | None:
    for request, before, after in evaluated:
        lost = before & ~after & ~_may_lose(request, ctx, removable)
        if lost:
            return f"{describe(request)} loses {_first_action(lost)}{why}"
    return None


def _first_gain(evaluated: Evaluated, grants: Grants | None) -> tuple[str | None, bool]:
    """The first request that is not an outsider's gaining an action no targeted finding's fix
    grants, and whether any gained one that a fix grants."""
    granted = False
    for request, before, after in evaluated:
        gained = after & ~before
        if gained and not request.is_outsider:
            granted = True
            if grants is not None:
                gained &= ~grants.mask(request)
            if gained:
                return (f"{describe(request)} gains {_first_action(gained)}, which no targeted "
                        "finding's fix grants"), granted
    return None, granted


def check_outsiders(evaluated: Evaluated, must_close: bool, after: Policy) -> Check:
    """Outsiders gain nothing; with ``must_close``, none is allowed anything the detectors
    count as exposure (from a network a policy names, ``"*"`` alone is not exposure: Access
    Analyzer's reading, which the detectors follow)."""
    outsiders = [(r, b, a) for r, b, a in evaluated if r.is_outsider]
    for request, before, after_mask in outsiders:
        gained = after_mask & ~before
        if gained:
            return Check(
                NO_OUTSIDER_ACCESS, False, f"{describe(request)} gains {_first_action(gained)}"
            )
    if must_close:
        for request, _, after_mask in outsiders:
            exposed = after_mask and exposed_actions(after, request)
            if exposed:
                return Check(
                    NO_OUTSIDER_ACCESS,
                    False,
                    f"{describe(request)} can still call {_first_action(exposed)}",
                )
    closed = " and none keeps access the detectors count as exposure" if must_close else ""
    return Check(
        NO_OUTSIDER_ACCESS, True, f"none of {len(outsiders)} outsider requests gains access{closed}"
    )


def check_lockout(
    evaluated: Evaluated, after: Sequence[Finding], ctx: Context, problem: str | None
) -> Check:
    """The owner root can call kms:PutKeyPolicy in every request it makes, the detectors agree
    (no IAM-KMS-1), and the document is valid for PutKeyPolicy."""
    if problem is not None:
        return Check(NOT_LOCKED_OUT, False, problem)
    root = root_arn(ctx.owner_account, ctx.partition)
    roots = [(r, a) for r, _, a in evaluated if r.kind == AWS and r.principal == root]
    refused = next((r for r, a in roots if not a & _PUT), None)
    if refused is not None:
        return Check(
            NOT_LOCKED_OUT,
            False,
            f"the owner root cannot call kms:PutKeyPolicy: {describe(refused)}",
        )
    if any(f.rule == "IAM-KMS-1" for f in after):
        return Check(NOT_LOCKED_OUT, False, "IAM-KMS-1 is reported after the patch")
    return Check(
        NOT_LOCKED_OUT,
        True,
        f"the owner root can call kms:PutKeyPolicy in all {len(roots)} of its "
        "requests and the document is valid for PutKeyPolicy",
    )


def _refused(problem: str) -> Proof:
    """Every check fails when the after document cannot even be parsed."""
    detail = f"not evaluated: {problem}"
    checks = [Check(n, False, detail) for n in CHECK_NAMES[:3]]
    return Proof((*checks, Check(NOT_LOCKED_OUT, False, problem)), 0)


def verify_change(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    ctx: Context,
    targeted: Sequence[Finding],
    removable_actions: frozenset[str] = frozenset(),
    must_close_outsiders: bool = False,
) -> Proof:
    """Prove that changing a key policy from ``before`` to ``after`` is safe (see the module)."""
    before_policy = settle_for_context(parse_policy(before), ctx)
    problem = put_key_policy_problem(after)
    try:
        after_policy = settle_for_context(parse_policy(after), ctx)
    except PolicyError:
        return _refused(problem or "the policy does not parse")
    requests = representative_requests(before_policy, after_policy, ctx)
    evaluated = [
        (r, allowed_actions(before_policy, r), allowed_actions(after_policy, r)) for r in requests
    ]
    found_before = analyze_key_policy(before, ctx)
    found_after = analyze_key_policy(after, ctx)
    removable = 0
    for name in removable_actions:
        removable |= kms.bit(name)
    relied = [(r, relied_on(before_policy, r) if r.kind != AWS else b, a)
              for r, b, a in evaluated]
    checks = (
        check_findings(found_before, found_after, targeted),
        check_insiders(evaluated, ctx, removable, relied, Grants.of(targeted, ctx),
                       directly_held(before_policy, after_policy, requests, ctx)),
        check_outsiders(evaluated, must_close_outsiders, after_policy),
        check_lockout(evaluated, found_after, ctx, problem),
    )
    return Proof(checks, len(requests))
