"""Whether a new key policy still lets the principal that puts it call kms:PutKeyPolicy.

Unless BypassPolicyLockoutSafetyCheck is set, which this tool never does, KMS refuses a
PutKeyPolicy whose policy would not "allow the principal that is making the PutKeyPolicy
request to make a subsequent PutKeyPolicy request on the KMS key"
(https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html). moto does not
check it (LOCAL_AWS.md), and a change the tool cannot put again is one it cannot roll back,
so apply checks it itself before writing anything.

Only the key policy is known here. A principal of the key's account that the key policy lets
through the account (the owner root's statement lets IAM policies grant access) is taken to
be allowed by its IAM policies, before as after. So the check compares the two policies for
the caller: in no request context either policy names may the after-policy refuse it
PutKeyPolicy where the before-policy allowed it. A caller the before-policy already refuses
gains nothing from the check (KMS answers that request itself).

The caller's request is the tool's own PutKeyPolicy: a direct call over TLS, not through a
service, without the bypass parameter (the key absent) or stating it false, carrying none of
the keys only a service or a cryptographic request carries (plain_request).
"""

from __future__ import annotations

from remediator.policy import actions as kms
from remediator.policy.document import Policy
from remediator.policy.evaluate import AWS, INSIDER, Request, allowed_actions
from remediator.policy.plain_request import (
    ABSENT_FROM_A_DIRECT_CALL,
    ABSENT_PREFIXES,
    BYPASS_KEY,
)
from remediator.policy.principals import is_account_id, split_arn
from remediator.policy.requests import collect, contexts, org_variants, resource_keys
from remediator.types import Context

_PUT = kms.bit("kms:PutKeyPolicy")
_DIRECT_CALL = {"aws:securetransport": ("true",), "aws:viaawsservice": ("false",)}


def caller_principal(identity_arn: str) -> str | None:
    """The principal ARN a key policy sees for the ARN STS GetCallerIdentity reports, or None
    when it is not the ARN of an IAM principal: an assumed-role session, IAM user, federated
    user or account root as it is; ``arn:aws:sts::ID:user/NAME`` (moto's form for static
    credentials) as the IAM user ``arn:aws:iam::ID:user/NAME``."""
    arn = split_arn(identity_arn.strip())
    if arn is None or not is_account_id(arn.account):
        return None
    kind, _, name = arn.resource.partition("/")
    if arn.service == "iam" and (arn.resource == "root" or (kind == "user" and name)):
        return identity_arn.strip()
    if arn.service == "sts" and kind in ("assumed-role", "federated-user") and name:
        return identity_arn.strip()
    if arn.service == "sts" and kind == "user" and name:
        return f"arn:{arn.partition}:iam::{arn.account}:user/{name}"
    return None


def caller_requests(
    before: Policy, after: Policy, ctx: Context, principal: str, role_arn: str | None = None
) -> list[Request]:
    """The caller's PutKeyPolicy request in every context either policy names (the contexts
    the proof tries), in each organisation and path the owner may be in, with and without
    the bypass parameter. ``role_arn``: a role session's role with its path, when known."""
    named = collect((before, after), ctx)
    fixed = {**resource_keys(ctx), **_DIRECT_CALL}
    out = []
    for c in contexts(named):
        plain = {k: v for k, v in c.items()
                 if k not in ABSENT_FROM_A_DIRECT_CALL and not k.startswith(ABSENT_PREFIXES)
                 and k != "aws:tagkeys" and k != BYPASS_KEY}
        for bypass in ({}, {BYPASS_KEY: ("false",)}):
            for org, paths in org_variants(ctx.owner_account, named, ctx, None):
                out.append(Request(AWS, principal, ctx.owner_account, org, paths,
                                   {**plain, **fixed, **bypass}, role_arn, None, INSIDER))
    return out


def varied_context(request: Request) -> str:
    """The condition keys of one of ``caller_requests`` beyond those every one of them sets,
    as ``key=value`` pairs (empty when there are none)."""
    same = {*_DIRECT_CALL, "aws:resourceaccount", "aws:resourceorgid"}
    return ", ".join(f"{k}={'|'.join(v)}" for k, v in sorted(request.context.items())
                     if k not in same)


def lost_put_key_policy(
    before: Policy, after: Policy, ctx: Context, principal: str, role_arn: str | None = None
) -> Request | None:
    """The first request of the caller (``caller_requests``) that ``before`` lets call
    kms:PutKeyPolicy and ``after`` does not, or None. Both policies settled for ``ctx``."""
    for request in caller_requests(before, after, ctx, principal, role_arn):
        if allowed_actions(before, request) & _PUT and not allowed_actions(after, request) & _PUT:
            return request
    return None
