"""IAM-KMS-1: the owner root must be able to call kms:PutKeyPolicy, or the key can be locked out.

The default key policy's first statement gives the account root ``kms:*`` so that the account
can always recover the key through IAM
(https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam).
Being named is not enough: the Allow must hold for the root whatever the request, and no Deny
may take it away.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from remediator.detectors.analysis import PolicyAnalysis, finding
from remediator.policy import actions as kms
from remediator.policy.access import statement_mask
from remediator.policy.document import Policy, Statement
from remediator.policy.evaluate import VARIABLES_VERSION
from remediator.policy.plain_request import BYPASS_KEY, Identity, holds_for
from remediator.policy.principals import names_account_root, parse_aws_principal, root_arn
from remediator.policy.resources import may_name_owner_key
from remediator.types import Context, Finding

_PUT = kms.bit("kms:PutKeyPolicy")


def _names_root(stmt: Statement, owner: str) -> bool:
    return stmt.principal is not None and any(
        names_account_root(v, owner) for v in stmt.principal.aws
    )


def _deny_may_apply_to_root(stmt: Statement, owner: str) -> bool:
    if stmt.principal is not None:
        pr = stmt.principal
        if not (pr.anyone or any(
            parse_aws_principal(v).is_wildcard or names_account_root(v, owner) for v in pr.aws
        )):
            return False
    elif stmt.not_principal is not None and (
            stmt.not_principal.anyone or _names_root_in(stmt.not_principal.aws, owner)):
        return False  # NotPrincipal "*" spares everyone; naming the root spares the root
    return True


def _names_root_in(values: tuple[str, ...], owner: str) -> bool:
    return any(names_account_root(v, owner) for v in values)


GRANTS, TAKES_AWAY = "grants", "takes-away"
# A statement's verdict on each of the root's two plain requests: stating
# BypassPolicyLockoutSafetyCheck false, and leaving it out (plain_request.Identity).
RootVerdicts = tuple[str | None, str | None]
_NO_VERDICT: RootVerdicts = (None, None)


@lru_cache(maxsize=1024)
def _root_identity(owner: str, org_id: str | None, states_bypass: bool = True,
                   partition: str = "aws") -> Identity:
    return Identity(owner, root_arn(owner, partition), org_id, states_bypass)


@lru_cache(maxsize=65_536)
def root_org(ctx: Context) -> str | None:
    """The owner root's organisation: the trusted one, unless the members Organizations
    listed leave the owner out (``Context.owner_in_org``)."""
    return ctx.org_id if ctx.owner_in_org() else None


def root_verdict(stmt: Statement, owner: str, org_id: str | None,
                 partition: str = "aws", variables: bool = True) -> RootVerdicts:
    """Whether one statement certainly grants the owner root kms:PutKeyPolicy, may take it
    away (a Deny whose conditions are not certainly false for the root), or neither: for each
    of the root's two plain requests (``RootVerdicts``). ``variables``: the policy's Version
    is 2012-10-17, so policy variables in condition values take the request's values."""
    if not (statement_mask(stmt) & _PUT and may_name_owner_key(stmt, owner)):
        return _NO_VERDICT
    stating = _verdict(stmt, owner, _root_identity(owner, org_id, True, partition), variables)
    if not any(c.key == BYPASS_KEY for c in stmt.conditions):
        return (stating, stating)
    return (stating, _verdict(stmt, owner, _root_identity(owner, org_id, False, partition),
                              variables))


def names_a_variable(stmt: Statement) -> bool:
    """Whether a condition value holds a policy variable (its verdict depends on the Version)."""
    return any("${" in v for c in stmt.conditions for v in c.values)


def _verdict(stmt: Statement, owner: str, root: Identity, variables: bool) -> str | None:
    verdicts = [holds_for(c, root, variables) for c in stmt.conditions]
    if stmt.allow:
        return GRANTS if _names_root(stmt, owner) and all(v is True for v in verdicts) else None
    if _deny_may_apply_to_root(stmt, owner) and False not in verdicts:
        return TAKES_AWAY
    return None


def root_can_call(verdicts: Iterable[RootVerdicts]) -> bool:
    """Whether one of the root's plain requests is granted by some statement and taken away
    by none."""
    stating = omitting = 0  # 1: granted, 2: taken away
    for first, second in verdicts:
        if first is not None:
            stating |= 2 if first == TAKES_AWAY else 1
        if second is not None:
            omitting |= 2 if second == TAKES_AWAY else 1
    return stating == 1 or omitting == 1


def root_can_put_key_policy(policy: Policy, ctx: Context) -> bool:
    org = root_org(ctx)
    variables = policy.version == VARIABLES_VERSION
    return root_can_call(root_verdict(s, ctx.owner_account, org, ctx.partition, variables)
                         for s in policy.statements)


def missing_root_finding(ctx: Context) -> Finding:
    root = root_arn(ctx.owner_account, ctx.partition)
    return finding(
        "IAM-KMS-1",
        None,
        (root,),
        ("kms:PutKeyPolicy",),
        f"No statement naming the owner root {root} lets it call kms:PutKeyPolicy without "
        "conditions and untouched by a Deny, so losing the principals the policy relies on "
        "would lock the key out.",
    )


def detect_missing_root(analysis: PolicyAnalysis, ctx: Context) -> list[Finding]:
    if root_can_put_key_policy(analysis.policy, ctx):
        return []
    return [missing_root_finding(ctx)]
