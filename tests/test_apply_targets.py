"""Which key each change of a plan names (``approval.plan_targets``), offline: a key is its
(account, Region, key id), so one key under two ARNs is refused as a key changed twice, and an
ARN whose partition is not its Region's is refused (found by review: two ARNs differing only
in partition passed, and apply changed the key twice)."""

from __future__ import annotations

from typing import Any

import pytest

from remediator.approval import grant_drift, plan_targets
from remediator.aws.keyops import region_partition
from remediator.errors import RefusedError
from remediator.plan import policy_sha256

ACCOUNT = "111111111111"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
     "Action": "kms:*", "Resource": "*"}]}


def _change(region: str, partition: str = "aws", key_id: str = KEY_ID) -> dict[str, Any]:
    marked = {"policy": POLICY, "policy_sha256": policy_sha256(POLICY)}
    return {"key_arn": f"arn:{partition}:kms:{region}:{ACCOUNT}:key/{key_id}",
            "account": ACCOUNT, "region": region, "key_id": key_id,
            "before": {**marked, "grants": []}, "after": marked, "revoke_grants": []}


@pytest.mark.parametrize(("region", "partition"), [
    ("eu-west-1", "aws"), ("us-east-1", "aws"), ("cn-north-1", "aws-cn"),
    ("cn-northwest-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov"),
    ("us-iso-east-1", "aws")])
def test_region_partition(region: str, partition: str) -> None:
    assert region_partition(region) == partition


@pytest.mark.parametrize(("region", "partition"), [
    ("eu-west-1", "aws"), ("cn-north-1", "aws-cn"), ("us-gov-east-1", "aws-us-gov")])
def test_an_arn_in_its_regions_partition_is_a_target(region: str, partition: str) -> None:
    [target] = plan_targets({"changes": [_change(region, partition)]})
    assert target.identity == (ACCOUNT, region, KEY_ID)


@pytest.mark.parametrize(("region", "partition", "expected"), [
    ("eu-west-1", "aws-cn", "aws"), ("eu-west-1", "aws-us-gov", "aws"),
    ("cn-north-1", "aws", "aws-cn"), ("us-gov-west-1", "aws", "aws-us-gov"),
    ("us-iso-east-1", "aws-iso", "aws")])
def test_an_arn_in_another_partition_than_its_regions_is_refused(
    region: str, partition: str, expected: str
) -> None:
    change = _change(region, partition)
    with pytest.raises(RefusedError, match=(
            rf"^Plan change 0 \({change['key_arn']}\) cannot be applied: .* is in partition "
            rf"{partition}, but Region {region} is in {expected}\.$")):
        plan_targets({"changes": [change]})


@pytest.mark.parametrize("second", [
    _change("eu-west-1"), _change("eu-west-1", key_id=KEY_ID.upper())])
def test_one_key_named_twice_is_refused(second: dict[str, Any]) -> None:
    with pytest.raises(RefusedError, match=(
            f"^The plan changes key {KEY_ID} of account {ACCOUNT} in eu-west-1 more than once "
            r"\(changes 0 and 2\)\.$")):
        plan_targets({"changes": [_change("eu-west-1"), _change("us-east-1"), second]})


def test_one_key_id_in_two_regions_is_two_keys() -> None:
    assert len(plan_targets({"changes": [_change("eu-west-1"), _change("us-east-1")]})) == 2


# Found by review: a grant to a service principal (GranteeServicePrincipal, which the planner
# revokes when its SourceArn names an outsider's resource) made plan_targets refuse the whole
# plan, and the drift check never compared the service fields
# (https://docs.aws.amazon.com/kms/latest/APIReference/API_GrantListEntry.html).
SERVICE_GRANT = {"GrantId": "g1", "GranteeServicePrincipal": "logs.eu-west-1.amazonaws.com",
                 "RetiringServicePrincipal": "logs.eu-west-1.amazonaws.com",
                 "Operations": ["Decrypt", "GenerateDataKey"],
                 "Constraints": {"SourceArn": "arn:aws:logs:eu-west-1:444455556666:log-group:x"}}


def test_a_grant_to_a_service_principal_is_a_grant_to_revoke() -> None:
    change = {**_change("eu-west-1"), "revoke_grants": [SERVICE_GRANT]}
    assert len(plan_targets({"changes": [change]})) == 1


@pytest.mark.parametrize(("field", "value"), [
    ("GranteeServicePrincipal", "sns.amazonaws.com"),
    ("RetiringServicePrincipal", "sns.amazonaws.com"),
    ("Constraints", {"SourceArn": "arn:aws:logs:eu-west-1:444455556666:log-group:y"}),
])
def test_a_live_service_grant_that_is_not_the_planned_one_is_drift(field: str,
                                                                 value: object) -> None:
    assert grant_drift([SERVICE_GRANT], [SERVICE_GRANT]) is None
    reordered = {**SERVICE_GRANT, "Operations": ["GenerateDataKey", "Decrypt"]}
    assert grant_drift([SERVICE_GRANT], [reordered]) is None
    drift = grant_drift([SERVICE_GRANT], [{**SERVICE_GRANT, field: value}])
    assert drift is not None and field in drift
