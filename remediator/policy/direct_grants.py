"""What the key policy itself gives a principal of the owner account, without any IAM policy:
the least it holds, which a patch must keep (``verify.check_insiders``).

An Allow naming the owner account (its root) lets the account's other principals in only
through IAM policies, "in addition to the key policy"
(https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam),
which an offline reading cannot see; one naming the principal itself, or ``"*"`` that an
outsider cannot use, needs none (https://docs.aws.amazon.com/kms/latest/developerguide/control-access.html).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from remediator.policy.document import Policy, Principals
from remediator.policy.evaluate import (
    AWS,
    OUTSIDER,
    Link,
    Request,
    allowed_actions,
    names,
    request_facts,
)
from remediator.policy.principals import root_arn, split_arn
from remediator.policy.requests import collect, fresh_accounts
from remediator.types import Context

Evaluated = list[tuple[Request, int, int]]  # request, held before, held after


def _names_by_name(element: Principals, link: Link) -> bool:
    """Whether a Principal names an IAM caller by a value of its own: not ``"*"``, and not
    its account (an account names the root user itself, and its other principals only through
    IAM policies the key policy cannot see:
    https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam)."""
    for v in element.aws:
        if v.strip() == "*" or not names(v, link):
            continue
        arn = split_arn(v.strip())
        if arn is not None and not (arn.service == "iam" and arn.resource == "root"):
            return True
    return False


def allowed_directly(policy: Policy, request: Request, outsider: Request) -> int:
    """What the key policy gives an IAM caller of its own account on purpose, without any IAM
    policy: the least that caller holds, which a patch must not take away.

    An Allow naming the caller's account (its root) lets the account's other principals in
    only through IAM policies, which this offline reading cannot see: here it lets in the
    root user alone
    (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam).
    An Allow that reaches the caller only through ``"*"`` and also lets ``outsider`` in (the
    same request from an account nobody names), the policy's Denies counted, gives the caller
    nothing on purpose: it is open to everyone, and closing it is the fix. One naming the
    caller by a value of its own does, beside ``"*"`` or not. Denies count as always."""
    who = request_facts(request)[0]
    if len(who.chain) == 1:  # the root user itself
        return allowed_actions(policy, request)
    denies = tuple(s for s in policy.statements if not s.allow)
    named = tuple(s for s in policy.statements if s.allow and s.principal is not None
                  and _names_by_name(s.principal, who.chain[-1]))
    held = allowed_actions(policy._replace(statements=(*named, *denies)), request)
    for stmt in policy.statements:
        if stmt.allow and stmt.principal is not None and stmt.principal.anyone \
                and stmt not in named:
            # Per action: what the Denies keep outsiders from is a grant to the owner's
            # principals even where they leave outsiders other actions.
            alone = policy._replace(statements=(stmt, *denies))
            held |= allowed_actions(alone, request) & ~allowed_actions(alone, outsider)
    return held


def _owner_principal(request: Request, ctx: Context) -> bool:
    """An IAM caller of the owner account other than its root user."""
    return (request.kind == AWS and request.account == ctx.owner_account
            and request.principal != root_arn(ctx.owner_account, ctx.partition))


def directly_held(before: Policy, after: Policy, requests: Iterable[Request],
                  ctx: Context) -> Evaluated:
    """What the key policy itself grants each insider of the owner account (not its root)
    before and after (``evaluate.allowed_directly``): the owner root's statement lets them in
    only through IAM policies this check cannot see, so keeping it is no proof they keep a
    grant the key policy made them."""
    outsider = fresh_outsider(before, after, ctx)
    out: Evaluated = []
    for r in requests:
        if r.is_insider and _owner_principal(r, ctx):
            twin = outsider_twin(r, outsider)
            out.append((r, allowed_directly(before, r, twin), allowed_directly(after, r, twin)))
    return out


def fresh_outsider(before: Policy, after: Policy, ctx: Context) -> str:
    """The account ``representative_requests`` calls the outsider: neither policy nor the
    context names it, and it is not a member of the trusted organisation."""
    return fresh_accounts(collect((before, after), ctx), 1, ctx.org_accounts)[0]


def outsider_twin(request: Request, outsider: str) -> Request:
    """The same IAM request made from the ``outsider`` account: the same kind of principal
    under the same name, in no organisation, with the same context."""
    account = request.account or ""

    def moved(arn: str) -> str:
        return arn.replace(f":{account}:", f":{outsider}:", 1)

    return replace(request, principal=moved(request.principal), account=outsider, org_id=None,
                   org_paths=(), role_arn=moved(request.role_arn) if request.role_arn else None,
                   userid=None, zone=OUTSIDER)
