"""Sessions against a real moto server: assume-role per account, Organizations targets."""

from __future__ import annotations

import pytest

from remediator.aws.faults import Fault, FaultInjector, PageSplitter
from remediator.aws.ratelimit import RateLimiter
from remediator.aws.session import (
    AwsSettings,
    ClientFactory,
    client_config,
    factory_from_config,
    organization_accounts,
    settings_from_config,
    target_roles,
)
from remediator.config import parse_config
from remediator.errors import BadInputError, TargetAccessError
from remediator.localaws import DEFAULT_ACCOUNT, LocalAws

pytestmark = pytest.mark.integration

REGION = "eu-west-1"
MEMBER = "111111111111"


@pytest.fixture(scope="module")
def org(fresh_aws: LocalAws) -> list[str]:
    """An organisation in the default account with three members; returns their ids."""
    client = fresh_aws.client("organizations")
    client.create_organization(FeatureSet="ALL")
    for i in range(3):
        client.create_account(Email=f"member{i}@example.com", AccountName=f"member-{i}")
    members = [a["Id"] for a in client.list_accounts()["Accounts"] if a["Id"] != DEFAULT_ACCOUNT]
    return sorted(members)


def _settings(aws: LocalAws) -> AwsSettings:
    return AwsSettings(region=REGION, endpoint_url=aws.endpoint_url)


def test_clients_work_inside_the_assumed_account(fresh_aws: LocalAws) -> None:
    factory = ClientFactory(fresh_aws.session(), _settings(fresh_aws), {MEMBER: "Auditor"})
    identity = factory(MEMBER, REGION, "sts").get_caller_identity()
    assert identity["Account"] == MEMBER
    assert identity["Arn"].startswith(f"arn:aws:sts::{MEMBER}:assumed-role/Auditor/")
    assert factory(MEMBER, REGION, "kms") is factory(MEMBER, REGION, "kms")  # cached


def test_clients_have_botocore_retries_off_and_timeouts() -> None:
    config = client_config(AwsSettings(region=REGION, read_timeout=7))
    assert config.retries == {"mode": "standard", "total_max_attempts": 1}
    assert config.read_timeout == 7


def test_a_refused_role_is_a_target_access_error(fresh_aws: LocalAws) -> None:
    factory = ClientFactory(fresh_aws.session(), _settings(fresh_aws), {MEMBER: "Auditor"})
    FaultInjector(Fault("AssumeRole", code="AccessDenied", status=403)).install(
        factory.base_client("sts")
    )
    with pytest.raises(TargetAccessError, match=r"Cannot assume role .*Auditor: AccessDenied"):
        factory(MEMBER, REGION, "kms")


def test_no_role_means_the_credentials_must_be_that_account(fresh_aws: LocalAws) -> None:
    roles: dict[str, str | None] = {DEFAULT_ACCOUNT: None, MEMBER: None}
    factory = ClientFactory(fresh_aws.session(), _settings(fresh_aws), roles)
    assert factory(DEFAULT_ACCOUNT, REGION, "sts").get_caller_identity()["Account"] == (
        DEFAULT_ACCOUNT
    )
    with pytest.raises(TargetAccessError, match=f"belong to account {DEFAULT_ACCOUNT}"):
        factory(MEMBER, REGION, "kms")


def test_an_account_outside_the_targets_is_refused(fresh_aws: LocalAws) -> None:
    factory = ClientFactory(fresh_aws.session(), _settings(fresh_aws), {})
    with pytest.raises(BadInputError, match="not a target"):
        factory(MEMBER, REGION, "kms")


def test_organization_accounts_reads_every_page(fresh_aws: LocalAws, org: list[str]) -> None:
    factory = ClientFactory(fresh_aws.session(), _settings(fresh_aws), {})
    splitter = PageSplitter("ListAccounts", "Accounts", 1)
    splitter.install(factory.base_client("organizations"))
    assert organization_accounts(factory, RateLimiter()) == sorted([DEFAULT_ACCOUNT, *org])
    assert splitter.pages_served == len(org) + 1


def test_organization_targets_use_the_org_role_except_for_the_management_account(
    fresh_aws: LocalAws, org: list[str]
) -> None:
    config = parse_config(
        f"regions: [{REGION}]\n"
        f"endpoint_url: {fresh_aws.endpoint_url}\n"
        f"organization: {{exclude: ['{org[0]}']}}\n"
        f"accounts: [{{id: '{org[1]}', role_name: Special}}]\n"
    )
    probe = ClientFactory(fresh_aws.session(), settings_from_config(config), {})
    roles = target_roles(config, probe, RateLimiter())
    assert roles == {
        DEFAULT_ACCOUNT: None,
        org[1]: "Special",
        org[2]: "OrganizationAccountAccessRole",
    }
    factory = factory_from_config(
        config, fresh_aws.session(), settings_from_config(config), RateLimiter()
    )
    sts = factory(org[2], REGION, "sts")
    assert sts.get_caller_identity()["Account"] == org[2]


def test_organizations_throttling_is_retried(fresh_aws: LocalAws, org: list[str]) -> None:
    factory = ClientFactory(fresh_aws.session(), _settings(fresh_aws), {})
    throttled = Fault("ListAccounts", code="TooManyRequestsException", times=2)
    FaultInjector(throttled).install(factory.base_client("organizations"))
    assert len(organization_accounts(factory, RateLimiter())) == len(org) + 1
    assert throttled.injected == 2
