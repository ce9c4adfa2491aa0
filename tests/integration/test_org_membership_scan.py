"""The trusted organisation's members, read from Organizations on a real moto server.

A key policy or grant naming a member account is inside the trust when ``trust.org_id`` names
the organisation the scan listed; when the list cannot be read, the member counts as outside
(more findings, never hidden exposure) and nothing else changes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from kms_estate import local_credentials
from structlog.testing import capture_logs

from remediator.assess import assess
from remediator.aws.faults import Fault, FaultInjector
from remediator.aws.membership import read_membership
from remediator.aws.ratelimit import RateLimiter
from remediator.aws.session import AwsSettings, ClientFactory
from remediator.commands.planning import plan_snapshot
from remediator.commands.scanning import live_snapshot
from remediator.config import Config
from remediator.localaws import DEFAULT_ACCOUNT, LocalAws
from remediator.snapshot import snapshot_from_dict

pytestmark = pytest.mark.integration

REGION = "eu-west-1"
OUTSIDER = "999988887777"
OTHER_ORG = "o-zzzzzzzzzz"


@pytest.fixture(scope="module")
def org(fresh_aws: LocalAws) -> tuple[str, str]:
    """An organisation managed from the default account, with one member; (org id, member)."""
    client = fresh_aws.client("organizations", REGION)
    org_id = client.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    member = client.create_account(Email="member@example.com", AccountName="member")[
        "CreateAccountStatus"]["AccountId"]
    return org_id, member


@pytest.fixture(scope="module")
def key_arn(fresh_aws: LocalAws, org: tuple[str, str]) -> str:
    """A key in the management account shared with the member and with an outsider, and a
    grant to each."""
    _, member = org
    kms = fresh_aws.client("kms", REGION)
    policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Root", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{DEFAULT_ACCOUNT}:root"}, "Action": "kms:*",
         "Resource": "*"},
        {"Sid": "Member", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{member}:root"},
         "Action": "kms:Decrypt", "Resource": "*"},
        {"Sid": "Outsider", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{OUTSIDER}:root"}, "Action": "kms:Decrypt",
         "Resource": "*"},
    ]}
    meta = kms.create_key(Policy=json.dumps(policy))["KeyMetadata"]
    for name, account in (("member-grant", member), ("outsider-grant", OUTSIDER)):
        kms.create_grant(KeyId=meta["KeyId"], Name=name, Operations=["Decrypt"],
                         GranteePrincipal=f"arn:aws:iam::{account}:role/Batch")
    return str(meta["Arn"])


@pytest.fixture(autouse=True)
def fake_credentials() -> Iterator[None]:
    with local_credentials():
        yield


def _config(aws: LocalAws, org_id: str | None) -> Config:
    return Config.model_validate({
        "accounts": [{"id": DEFAULT_ACCOUNT}], "regions": [REGION],
        "endpoint_url": aws.endpoint_url,
        "trust": {"org_id": org_id} if org_id else {},
    })


def _flagged(config: Config, key_arn: str) -> dict[str, set[str]]:
    """rule -> the principals its findings on the key name."""
    out: dict[str, set[str]] = {}
    for item in assess(live_snapshot(config), config).findings:
        if item.resource == key_arn:
            out.setdefault(item.finding.rule, set()).update(item.finding.principals)
    return out


def test_a_member_of_the_trusted_organisation_is_inside_the_trust(
        fresh_aws: LocalAws, org: tuple[str, str], key_arn: str) -> None:
    org_id, member = org
    config = _config(fresh_aws, org_id)
    snap = live_snapshot(config)
    assert snap.organization is not None and snap.organization.id == org_id
    assert {member, DEFAULT_ACCOUNT} <= set(snap.organization.accounts)
    flagged = _flagged(config, key_arn)
    assert flagged["KMS-CROSS-ACCOUNT"] == {f"arn:aws:iam::{OUTSIDER}:root"}
    assert flagged["KMS-GRANT-EXTERNAL"] == {f"arn:aws:iam::{OUTSIDER}:role/Batch"}


def test_the_snapshot_keeps_the_members_for_planning_offline(
        fresh_aws: LocalAws, org: tuple[str, str], key_arn: str) -> None:
    org_id, member = org
    config = _config(fresh_aws, org_id)
    saved = json.loads(json.dumps(live_snapshot(config).to_dict()))  # as a file holds it
    plan = plan_snapshot(snapshot_from_dict(saved), config, "0" * 64)
    change, = (c for c in plan["changes"] if c["key_arn"] == key_arn)
    after = json.dumps(change["after"]["policy"])
    assert member in after and OUTSIDER not in after
    assert [g["GrantId"] for g in change["revoke_grants"]] == [
        g["GrantId"] for g in change["before"]["grants"] if OUTSIDER in g["GranteePrincipal"]]


@pytest.mark.parametrize("trusted_org", [OTHER_ORG, None])
def test_members_of_another_or_no_trusted_organisation_stay_outside(
        fresh_aws: LocalAws, org: tuple[str, str], key_arn: str, trusted_org: str | None) -> None:
    _, member = org
    config = _config(fresh_aws, trusted_org)
    snap = live_snapshot(config)
    assert snap.organization is None
    flagged = _flagged(config, key_arn)
    assert f"arn:aws:iam::{member}:root" in flagged["KMS-CROSS-ACCOUNT"]
    assert f"arn:aws:iam::{member}:role/Batch" in flagged["KMS-GRANT-EXTERNAL"]


@pytest.mark.parametrize("fault", [
    Fault("ListAccounts", code="AccessDeniedException", status=400),
    Fault("DescribeOrganization", code="AWSOrganizationsNotInUseException", status=400),
])
def test_an_unreadable_membership_is_unknown_not_an_error(
        fresh_aws: LocalAws, org: tuple[str, str], fault: Fault) -> None:
    factory = ClientFactory(fresh_aws.session(),
                            AwsSettings(region=REGION, endpoint_url=fresh_aws.endpoint_url), {})
    FaultInjector(fault).install(factory.base_client("organizations"))
    with capture_logs() as logs:
        assert read_membership(factory, RateLimiter(), org[0]) is None
    warning, = (e for e in logs if e["event"] == "organization.members_unknown")
    assert fault.code in warning["reason"] and warning["log_level"] == "warning"
