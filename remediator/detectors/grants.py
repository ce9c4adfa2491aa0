"""KMS-GRANT-EXTERNAL: grants whose grantee or retiring principal is outside the trust.

Grants give access outside the key policy
(https://docs.aws.amazon.com/kms/latest/developerguide/grants.html). AWS services create grants
for their own resources (EBS volumes, RDS instances...): their grantee is a service principal
or an AWS-owned role (``assumed-role/aws:ec2-infrastructure/...``). Those are reported at low
severity and are not revoked by default, since revoking them breaks the resource.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from remediator.detectors.rules import RULES
from remediator.policy.principals import parse_aws_principal, split_arn
from remediator.types import Context, Finding


def is_aws_service_principal(value: str) -> bool:
    """A service principal, or a role AWS itself owns and assumes for a service."""
    if value.endswith(".amazonaws.com") or value.endswith(".amazonaws.com.cn"):
        return True
    arn = split_arn(value)
    if arn is None:
        return False
    resource = arn.resource
    return resource.startswith("assumed-role/aws:") or "/aws-service-role/" in resource


def _outsider(value: str | None, ctx: Context) -> bool:
    if not value:
        return False
    acct = parse_aws_principal(value).account
    return acct is not None and not ctx.is_trusted_account(acct)


def _grant_finding(grant: Mapping[str, Any], who: list[str], service: bool) -> Finding:
    rule = RULES["KMS-GRANT-EXTERNAL"]
    ops = tuple(f"kms:{op}" for op in grant.get("Operations", []))
    gid = str(grant.get("GrantId", ""))
    if service:
        msg = (f"Grant {gid} lets {', '.join(who)}, an AWS service acting for its own "
               "resource, use the key; it is reported, not revoked.")
    else:
        msg = (f"Grant {gid} lets {', '.join(who)}, outside the trusted accounts, use the key "
               f"({', '.join(ops) or 'no operations'}).")
    return Finding(rule=rule.id, severity="low" if service else rule.severity, message=msg,
                   principals=tuple(who), actions=ops, reference=rule.reference, grant_id=gid)


def detect_external_grants(grants: Sequence[Mapping[str, Any]], ctx: Context) -> list[Finding]:
    out = []
    for grant in grants:
        grantee = grant.get("GranteePrincipal")
        retiring = grant.get("RetiringPrincipal")
        who = [p for p in (grantee, retiring) if isinstance(p, str) and _outsider(p, ctx)]
        service = [p for p in (grantee,) if isinstance(p, str) and is_aws_service_principal(p)]
        if who and not all(is_aws_service_principal(p) for p in who):
            out.append(_grant_finding(grant, who, service=False))
        elif service or who:
            out.append(_grant_finding(grant, who or service, service=True))
    return out
