"""A parsed policy as it reads on one key of the context's owner: what every reader of a key
policy (the detectors, the proof, apply's lockout check) settles first, so that all of them
read it alike."""

from __future__ import annotations

from functools import lru_cache

from remediator.policy.document import Policy, Statement
from remediator.policy.resource_variables import (
    mentions_resource_variables,
    resources_as_text,
    settle_resource_variables,
)
from remediator.policy.resources import (
    MAYBE,
    resource_coverage,
    settle_for_owner,
    settle_resources,
)
from remediator.types import Context


def settle_for_context(policy: Policy, ctx: Context) -> Policy:
    """Variables in Resource made text in a policy whose Version is not 2012-10-17;
    ``${aws:ResourceAccount}``/``${aws:ResourceOrgID}`` replaced (the organisation only when
    the owner is in the trusted one); then each Resource settled for the key (``key_arn``), or,
    without it, for any key of the owner account in the context's partition."""
    # Rare: most statements read alike for every owner. Asked of the first statement with the
    # same content (``Statement.origin``): a Sid changes nothing here.
    policy = resources_as_text(policy)
    by_owner = any(_reads_by_owner(s.origin or s) for s in policy.statements)
    if by_owner:
        org = ctx.org_id if ctx.owner_in_org() else None
        policy = settle_resource_variables(policy, ctx.owner_account, org)
    if ctx.key_arn is not None:
        return settle_resources(policy, ctx.key_arn)
    return settle_for_owner(policy, ctx.owner_account, ctx.partition) if by_owner else policy


@lru_cache(maxsize=65_536)  # statements are shared objects across an estate
def _reads_by_owner(stmt: Statement) -> bool:
    """Whether the statement reads differently for different owners: a Resource that may or
    may not name the key, or the key's own account or organisation as a variable."""
    return resource_coverage(stmt) == MAYBE or mentions_resource_variables(stmt)
