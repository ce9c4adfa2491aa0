"""KMS-GRANT-EXTERNAL: grants whose grantee or retiring principal is outside the trust.

Grants give access outside the key policy
(https://docs.aws.amazon.com/kms/latest/developerguide/grants.html). Who a grant's principals
are is read from the grant itself, one principal at a time:

- a service principal (``logs.eu-west-1.amazonaws.com``, no ARN) is an AWS service; services
  make grants for their own resources and revoking those breaks the resource;
- an ARN or account id is inside or outside by its account alone. An AWS-owned session or a
  service-linked role (``assumed-role/aws:ec2-infrastructure/...``,
  ``role/aws-service-role/...``) acts for the account it is in: in the owner's account it is
  the owner's own resource (no finding), in an untrusted account it is that account using the
  key (a finding like any other);
- a unique id (``AROA...``, what remains of a deleted principal) names no reachable account.

Accounts are inside when they are the owner, trusted, or members of the trusted organisation
as the scan read them from Organizations (``Context.org_accounts``). A grant carries no
organisation condition, so when the members could not be read, a member account that is not
listed in ``trusted_accounts`` counts as outside.

What the detector read is kept on the finding (``Finding.grant_parties``) so that the planner
decides what to do from the grant, never from the severity, which the config may rewrite.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from remediator.detectors.rules import RULES
from remediator.policy.principals import account_of_arn_value, parse_aws_principal
from remediator.types import Context, Finding, GrantParties, Party

# A service principal is a DNS-like name under amazonaws.com (amazonaws.com.cn in China), never
# an ARN: a role named "logs.amazonaws.com" in another account is that account, not a service.
_SERVICE_RE = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com(\.cn)?")


def is_service_principal(value: str) -> bool:
    """``value`` is an AWS service principal such as ``rds.eu-west-1.amazonaws.com``."""
    return bool(_SERVICE_RE.fullmatch(value.strip()))


def party_of(value: str, ctx: Context) -> Party:
    """Where one grant principal stands: inside the trust, an AWS service, outside, or unknown
    (a unique id or a wildcard: no fixed account)."""
    if is_service_principal(value):
        return "service"
    account = parse_aws_principal(value).account
    if account is None:
        return "unknown"
    return "insider" if ctx.is_trusted_account(account) else "outsider"


def _principal(grant: Mapping[str, Any], field: str) -> str | None:
    value = grant.get(field)
    return value if isinstance(value, str) and value else None


def _source_arn(grant: Mapping[str, Any]) -> str | None:
    constraints = grant.get("Constraints")
    source = constraints.get("SourceArn") if isinstance(constraints, Mapping) else None
    return source if isinstance(source, str) and source else None


def _party(grant: Mapping[str, Any], field: str, service_field: str,
           ctx: Context) -> tuple[str, Party] | None:
    """A grant's grantee or retiring principal: an ARN or id (``field``), or a service
    principal (``service_field``: KMS takes one or the other, never both)."""
    principal = _principal(grant, field)
    if principal is not None:
        return principal, party_of(principal, ctx)
    service = _principal(grant, service_field)
    return None if service is None else (service, "service")


def _outsider_served(grant: Mapping[str, Any], ctx: Context) -> str | None:
    """For a service grantee: the SourceArn resource, or else the issuing account, when it is
    outside the trust. A grant an untrusted account issued to a service serves that account's
    resources (the key policy let it create the grant), and keeps doing so after the key
    policy is fixed."""
    source = _source_arn(grant)
    account = None if source is None else account_of_arn_value(source, wildcards=False)
    if account is not None:
        return source if not ctx.is_trusted_account(account) else None
    # No SourceArn, or one without an account part (an S3 bucket's): the issuing account says
    issuing = grant.get("IssuingAccount")
    if isinstance(issuing, str) and issuing:
        account = parse_aws_principal(issuing).account
        if account is not None and not ctx.is_trusted_account(account):
            return issuing
    return None


def grant_parties(grant: Mapping[str, Any], ctx: Context) -> GrantParties | None:
    """The grant's principals and where they stand; None when it has no usable grantee.

    A service grantee with a ``SourceArn`` constraint may use the key only "on behalf of the
    specified resource" (https://docs.aws.amazon.com/kms/latest/APIReference/API_GrantConstraints.html):
    when that resource's account is outside the trust, the grant serves an outsider, as a
    service principal scoped by ``aws:SourceAccount`` to one does in a key policy."""
    grantee = _party(grant, "GranteePrincipal", "GranteeServicePrincipal", ctx)
    if grantee is None:
        return None
    name, party = grantee
    acts_for = _outsider_served(grant, ctx) if party == "service" else None
    if acts_for is not None:
        party = "outsider"
    retiring = _party(grant, "RetiringPrincipal", "RetiringServicePrincipal", ctx)
    if retiring is None:
        return GrantParties(name, party, acts_for=acts_for)
    return GrantParties(name, party, retiring[0], retiring[1], acts_for)


STANDING = {"insider": "inside the trust", "service": "an AWS service",
            "unknown": "of no known account", "outsider": "outside the trusted accounts"}


def _message(gid: str, parties: GrantParties, ops: tuple[str, ...]) -> str:
    uses = ", ".join(ops) or "no operations"
    if parties.is_revocable:
        also = ""
        if parties.retiring_party == "outsider" and parties.retiring != parties.grantee:
            also = f"; {parties.retiring}, also outside, can retire it"
        if parties.acts_for is not None:
            return (f"Grant {gid} lets {parties.grantee} use the key ({uses}) on behalf of "
                    f"{parties.acts_for}, outside the trusted accounts{also}.")
        return (f"Grant {gid} lets {parties.grantee}, outside the trusted accounts, use the key "
                f"({uses}){also}.")
    if parties.is_service_grant:
        return (f"Grant {gid} lets {parties.grantee}, an AWS service acting for its own "
                "resource, use the key; it is reported, not revoked.")
    who = STANDING[parties.grantee_party]
    return (f"Grant {gid} gives {parties.grantee} ({who}) {uses}, but {parties.retiring}, "
            "outside the trusted accounts, can retire it and take that access away.")


def _grant_finding(grant: Mapping[str, Any], parties: GrantParties) -> Finding:
    rule = RULES["KMS-GRANT-EXTERNAL"]
    ops = tuple(f"kms:{op}" for op in grant.get("Operations", []))
    gid = str(grant.get("GrantId", ""))
    service = parties.is_service_grant
    return Finding(
        rule=rule.id, severity="low" if service else rule.severity,
        message=_message(gid, parties, ops),
        principals=(parties.grantee,) if service else parties.outsiders,
        actions=ops, reference=rule.reference, grant_id=gid, grant_parties=parties,
    )


def detect_external_grants(grants: Sequence[Mapping[str, Any]], ctx: Context) -> list[Finding]:
    """A finding for each grant with a principal outside the trust, or made by an AWS service
    (reported at low severity); grants among the owner and trusted accounts are fine."""
    out: list[Finding] = []
    for grant in grants:
        parties = grant_parties(grant, ctx)
        if parties is not None and (parties.outsiders or parties.is_service_grant):
            out.append(_grant_finding(grant, parties))
    return out
