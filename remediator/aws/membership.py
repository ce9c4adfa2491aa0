"""The trusted organisation's member accounts, read from Organizations for the snapshot.

``trust.org_id`` says that members of that organisation are trusted. A key policy or grant may
name a member account by its id or ARN, with no ``aws:PrincipalOrgID`` condition to say so, and
only Organizations knows that the account is a member. The scan asks it once, with the base
credentials: DescribeOrganization says which organisation those credentials are in, and
ListAccounts (management account or delegated administrator only) lists its accounts
(https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccounts.html).

When the list cannot be read (another organisation, no permission, no organisation at all), the
snapshot says nothing about membership and every account the trust does not list counts as
outside: more findings, never hidden exposure. That is logged as a warning, not recorded as a
scan error: a scan from a member account is normal and complete for the keys it read.
"""

from __future__ import annotations

import structlog

from remediator.aws.calls import ShardCaller
from remediator.aws.ratelimit import RateLimiter
from remediator.aws.retry import AWS_ERRORS, error_reason
from remediator.aws.session import ClientFactory
from remediator.snapshot import OrganizationSnapshot

log = structlog.get_logger(__name__)


def read_membership(factory: ClientFactory, limiter: RateLimiter,
                    org_id: str) -> OrganizationSnapshot | None:
    """Every account of ``org_id``, or None (and a warning) when it cannot be listed."""
    org = factory.base_client("organizations")
    caller = ShardCaller("organization", factory.settings.region, limiter)
    try:
        described = (caller.call(org, "DescribeOrganization").get("Organization") or {}).get("Id")
        if described != org_id:
            _unknown(org_id, f"the credentials are in organisation {described}, not {org_id}")
            return None
        accounts = caller.items(org, "ListAccounts", "Accounts")
    except AWS_ERRORS as exc:
        _unknown(org_id, error_reason(exc))
        return None
    members = tuple(sorted({a["Id"] for a in accounts}))
    log.info("organization.members", org_id=org_id, accounts=len(members))
    return OrganizationSnapshot(org_id, members)


def _unknown(org_id: str, why: str) -> None:
    log.warning("organization.members_unknown", org_id=org_id, reason=why,
                consequence="accounts not in trust.trusted_accounts count as outside, "
                            "unless a policy's condition pins them to the organisation")
