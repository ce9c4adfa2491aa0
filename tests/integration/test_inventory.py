"""Inventory against a real moto server: 2 accounts x 2 Regions, keys of every kind.

moto never throttles, never pages and does not enforce key policies (shared/LOCAL_AWS.md), so
throttling, paging and an unreadable policy are produced by botocore event hooks on the
clients the scan uses (``remediator.aws.faults``), never by patching the code under test.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kms_estate import FAST_RETRY, REGIONS, ROLE, exposed_policy

from remediator.aws.faults import (
    CallCounter,
    Fault,
    FaultInjector,
    HookedClients,
    PageSplitter,
    body_contains,
)
from remediator.aws.inventory import (
    ClientSource,
    ScanOptions,
    limiter_from_config,
    options_from_config,
    scan,
)
from remediator.aws.progress import ScanProgress
from remediator.aws.ratelimit import RateLimiter
from remediator.aws.session import AwsSettings, ClientFactory
from remediator.config import parse_config
from remediator.localaws import LocalAws
from remediator.snapshot import Snapshot, dump_snapshot, load_snapshot

pytestmark = pytest.mark.integration

ACCOUNT_A, ACCOUNT_B, EXTERNAL = "111111111111", "222222222222", "999999999999"
OPTIONS = ScanOptions(regions=REGIONS, max_shards=4, workers_per_shard=8, retry=FAST_RETRY)


def public_policy(account: str) -> dict[str, Any]:
    return exposed_policy(account, policy_id="custom")


@dataclass
class Estate:
    """What was seeded, to compare the scan with."""

    local: LocalAws
    kept: dict[str, dict[str, Any]] = field(default_factory=dict)  # arn -> expected facts
    pending: set[str] = field(default_factory=set)
    iam_policies: set[str] = field(default_factory=set)

    def factory(self) -> ClientFactory:
        settings = AwsSettings(region=REGIONS[0], endpoint_url=self.local.endpoint_url)
        return ClientFactory(self.local.session(), settings, {ACCOUNT_A: ROLE, ACCOUNT_B: ROLE})

    def arn_of(self, account: str, region: str, description: str) -> str:
        for arn, facts in self.kept.items():
            if facts["description"] == description and f":{region}:{account}:" in arn:
                return arn
        raise KeyError(description)


def _key(estate: Estate, kms: Any, description: str, **create: Any) -> dict[str, Any]:
    meta: dict[str, Any] = kms.create_key(Description=description, **create)["KeyMetadata"]
    estate.kept[meta["Arn"]] = {"description": description, "state": "Enabled"}
    return meta


def _seed_shard(estate: Estate, kms: Any, account: str, region: str) -> None:
    plain = _key(estate, kms, "plain")
    kms.create_alias(AliasName=f"alias/plain-{account}", TargetKeyId=plain["KeyId"])
    kms.create_alias(AliasName=f"alias/plain-2-{account}", TargetKeyId=plain["KeyId"])
    kms.enable_key_rotation(KeyId=plain["KeyId"])
    estate.kept[plain["Arn"]].update(rotation=True, aliases=2)
    disabled = _key(estate, kms, "disabled")
    kms.disable_key(KeyId=disabled["KeyId"])
    estate.kept[disabled["Arn"]]["state"] = "Disabled"
    shared = _key(
        estate,
        kms,
        "shared",
        Policy=json.dumps(public_policy(account)),
        Tags=[{"TagKey": f"t{i}", "TagValue": str(i)} for i in range(3)],
    )
    for i in range(3):
        kms.create_grant(
            KeyId=shared["KeyId"],
            GranteePrincipal=f"arn:aws:iam::{EXTERNAL}:root",
            RetiringPrincipal=f"arn:aws:iam::{account}:root",
            Operations=["Decrypt"],
            Name=f"g{i}",
        )
    pending = kms.create_key(Description="pending")["KeyMetadata"]
    kms.schedule_key_deletion(KeyId=pending["KeyId"], PendingWindowInDays=7)
    estate.pending.add(pending["Arn"])


@pytest.fixture(scope="module")
def estate(fresh_aws: LocalAws) -> Estate:
    estate = Estate(fresh_aws)
    factory = estate.factory()
    for account in (ACCOUNT_A, ACCOUNT_B):
        for region in REGIONS:
            _seed_shard(estate, factory(account, region, "kms"), account, region)
        iam = factory(account, REGIONS[0], "iam")
        for name in ("decrypt-all", "read-only"):
            doc = {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}],
            }
            arn = iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(doc))["Policy"][
                "Arn"
            ]
            estate.iam_policies.add(arn)
    kms_a = factory(ACCOUNT_A, REGIONS[0], "kms")
    signer = _key(estate, kms_a, "signer", KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")
    estate.kept[signer["Arn"]]["rotation"] = None
    primary = _key(estate, kms_a, "multi-region", MultiRegion=True)
    replica = kms_a.replicate_key(KeyId=primary["KeyId"], ReplicaRegion=REGIONS[1])
    estate.kept[replica["ReplicaKeyMetadata"]["Arn"]] = {
        "description": "multi-region",
        "state": "Enabled",
    }
    return estate


@pytest.fixture(scope="module")
def baseline(estate: Estate) -> Snapshot:
    return scan([ACCOUNT_A, ACCOUNT_B], estate.factory(), RateLimiter(), OPTIONS)


def _comparable(snapshot: Snapshot) -> dict[str, Any]:
    data = snapshot.to_dict()
    data.pop("taken_at")
    return data


def _scan(estate: Estate, clients: ClientSource, **options: Any) -> Snapshot:
    opts = dataclasses.replace(OPTIONS, **options)
    return scan([ACCOUNT_A, ACCOUNT_B], clients, RateLimiter(), opts)


def test_scan_keeps_every_customer_key_and_skips_pending_deletion(
    estate: Estate, baseline: Snapshot
) -> None:
    arns = {k.arn for k in baseline.keys}
    assert arns == set(estate.kept)
    assert not arns & estate.pending
    assert baseline.errors == ()
    for key in baseline.keys:
        assert key.manager == "CUSTOMER"
        assert key.state == estate.kept[key.arn]["state"]
        assert key.policy is not None and key.policy_error is None
        assert f":{key.region}:{key.account}:key/{key.key_id}" in key.arn


def test_scan_reads_policy_grants_aliases_rotation_and_tags(
    estate: Estate, baseline: Snapshot
) -> None:
    by_arn = {k.arn: k for k in baseline.keys}
    for account in (ACCOUNT_A, ACCOUNT_B):
        for region in REGIONS:
            shared = by_arn[estate.arn_of(account, region, "shared")]
            assert shared.policy == public_policy(account)  # round-trips exactly
            assert {g["GranteePrincipal"] for g in shared.grants} == {
                f"arn:aws:iam::{EXTERNAL}:root"
            }
            assert len(shared.grants) == 3
            assert shared.tags == {"t0": "0", "t1": "1", "t2": "2"}
            plain = by_arn[estate.arn_of(account, region, "plain")]
            assert plain.aliases == tuple(
                sorted([f"alias/plain-2-{account}", f"alias/plain-{account}"])
            )
            assert plain.rotation_enabled is True
            assert shared.rotation_enabled is False
    signer = by_arn[estate.arn_of(ACCOUNT_A, REGIONS[0], "signer")]
    assert signer.rotation_enabled is None  # asymmetric keys do not support rotation
    assert signer.key_spec == "RSA_2048"


def test_multi_region_replica_is_a_separate_key(estate: Estate, baseline: Snapshot) -> None:
    copies = [k for k in baseline.keys if k.description == "multi-region"]
    assert {k.region for k in copies} == set(REGIONS)
    assert len({k.key_id for k in copies}) == 1
    assert {k.multi_region_type for k in copies} == {"PRIMARY", "REPLICA"}
    assert all(k.multi_region for k in copies)


def test_iam_customer_managed_policies_default_versions(estate: Estate, baseline: Snapshot) -> None:
    assert {p.arn for p in baseline.iam_policies} == estate.iam_policies
    for policy in baseline.iam_policies:
        assert policy.version_id == "v1"
        assert policy.document["Statement"][0]["Action"] == "kms:Decrypt"


def test_requests_are_minimal(estate: Estate, baseline: Snapshot) -> None:
    kms_calls, iam_calls = CallCounter(), CallCounter()
    _scan(estate, HookedClients(estate.factory(), kms=[kms_calls], iam=[iam_calls]))
    shards = 2 * len(REGIONS)
    kept = len(baseline.keys)
    symmetric = sum(1 for k in baseline.keys if k.key_spec == "SYMMETRIC_DEFAULT")
    assert kms_calls.calls == {
        "ListKeys": shards,
        "ListAliases": shards,  # once per shard, joined to keys, never per key
        "DescribeKey": kept + len(estate.pending),
        "GetKeyPolicy": kept,
        "ListGrants": kept,
        "GetKeyRotationStatus": symmetric,
        "ListResourceTags": kept,
    }
    assert iam_calls.calls == {"ListPolicies": 2, "GetPolicyVersion": len(estate.iam_policies)}


def test_unreadable_policy_is_kept_with_its_error(estate: Estate, baseline: Snapshot) -> None:
    target = estate.arn_of(ACCOUNT_B, REGIONS[1], "shared")
    key_id = target.rsplit("/", 1)[1]
    denied = Fault("GetKeyPolicy", code="AccessDeniedException", match=_key_id_in_body(key_id))
    injector = FaultInjector(denied)
    snapshot = _scan(estate, HookedClients(estate.factory(), kms=[injector]))
    assert denied.injected == 1  # an access error is never retried
    key = next(k for k in snapshot.keys if k.arn == target)
    assert key.policy is None
    assert key.policy_error is not None and "AccessDeniedException" in key.policy_error
    assert key.grants == next(k for k in baseline.keys if k.arn == target).grants
    assert [(e["key_arn"], e["operation"], e["code"]) for e in snapshot.errors] == [
        (target, "GetKeyPolicy", "AccessDeniedException")
    ]
    others = [k.to_dict() for k in snapshot.keys if k.arn != target]
    assert others == [k.to_dict() for k in baseline.keys if k.arn != target]


def test_key_that_cannot_be_described_is_kept_as_unknown(estate: Estate) -> None:
    target = estate.arn_of(ACCOUNT_A, REGIONS[0], "plain")
    denied = Fault(
        "DescribeKey", code="AccessDeniedException", match=_key_id_in_body(target.rsplit("/", 1)[1])
    )
    snapshot = _scan(estate, HookedClients(estate.factory(), kms=[FaultInjector(denied)]))
    key = next(k for k in snapshot.keys if k.arn == target)
    assert (key.state, key.manager, key.policy) == ("Unknown", None, None)
    assert key.policy_error is not None and key.policy_error.startswith("DescribeKey failed")
    assert len(snapshot.keys) == len(estate.kept)


def test_throttling_and_5xx_are_retried_and_the_scan_is_complete(
    estate: Estate, baseline: Snapshot
) -> None:
    kms_faults = FaultInjector(
        Fault("ListKeys", times=2),
        Fault("ListAliases", code="TooManyRequestsException", times=1),
        Fault("DescribeKey", times=5),
        Fault("GetKeyPolicy", times=5),
        Fault("ListGrants", code="RequestLimitExceeded", times=3),
        Fault("GetKeyRotationStatus", code="KMSInternalException", status=500, times=3),
        Fault("ListResourceTags", code="ServiceUnavailable", status=503, times=2),
    )
    iam_faults = FaultInjector(
        Fault("ListPolicies", code="Throttling", times=1),
        Fault("GetPolicyVersion", code="Throttling", times=2),
    )
    clients = HookedClients(estate.factory(), kms=[kms_faults], iam=[iam_faults])
    snapshot = _scan(estate, clients)
    assert kms_faults.injected == 21 and iam_faults.injected == 3
    assert _comparable(snapshot) == _comparable(baseline)


def test_throttling_that_never_ends_is_recorded_not_hidden(estate: Estate) -> None:
    target = estate.arn_of(ACCOUNT_A, REGIONS[1], "disabled")
    always = Fault("GetKeyPolicy", match=_key_id_in_body(target.rsplit("/", 1)[1]))
    snapshot = _scan(estate, HookedClients(estate.factory(), kms=[FaultInjector(always)]))
    assert always.injected == FAST_RETRY.attempts
    key = next(k for k in snapshot.keys if k.arn == target)
    assert key.policy is None and "ThrottlingException" in (key.policy_error or "")


def test_every_page_is_read(estate: Estate, baseline: Snapshot) -> None:
    splitters = {
        "kms": [
            PageSplitter("ListKeys", "Keys", 2),
            PageSplitter("ListAliases", "Aliases", 3),
            PageSplitter("ListGrants", "Grants", 1),
            PageSplitter("ListResourceTags", "Tags", 1),
        ],
        "iam": [PageSplitter("ListPolicies", "Policies", 1)],
    }
    snapshot = _scan(estate, HookedClients(estate.factory(), **splitters))
    assert _comparable(snapshot) == _comparable(baseline)
    list_keys, _, grants, tags = splitters["kms"]
    listed = Counter(tuple(arn.split(":")[3:5]) for arn in estate.pending)
    listed.update(tuple(k.arn.split(":")[3:5]) for k in baseline.keys)
    assert list_keys.pages_served == sum(-(-n // 2) for n in listed.values())
    assert grants.pages_served >= sum(max(1, len(k.grants)) for k in baseline.keys)
    assert tags.pages_served >= sum(max(1, len(k.tags)) for k in baseline.keys)
    assert splitters["iam"][0].pages_served == len(estate.iam_policies)


def test_progress_is_reported_to_the_end(estate: Estate, baseline: Snapshot) -> None:
    seen: list[ScanProgress] = []
    scan([ACCOUNT_A], estate.factory(), RateLimiter(), OPTIONS, progress=seen.append)
    last = seen[-1]
    assert last.shards_done == last.shards_total == len(REGIONS) + 1
    assert last.keys_done == last.keys_total > 0


def test_unreachable_account_is_an_error_entry_not_a_crash(estate: Estate) -> None:
    denied = FaultInjector(Fault("AssumeRole", code="AccessDenied", status=403))
    factory = estate.factory()
    denied.install(factory.base_client("sts"))
    snapshot = scan([ACCOUNT_A], factory, RateLimiter(), OPTIONS)
    assert snapshot.keys == ()
    assert [(e["account"], e["operation"], e["code"]) for e in snapshot.errors] == [
        (ACCOUNT_A, "AssumeRole", "TargetAccessError")
    ] * (len(REGIONS) + 1)


def test_keys_are_read_without_aliases_when_listing_them_fails(
    estate: Estate, baseline: Snapshot
) -> None:
    denied = Fault("ListAliases", code="AccessDeniedException")
    snapshot = _scan(estate, HookedClients(estate.factory(), kms=[FaultInjector(denied)]))
    assert denied.injected == 2 * len(REGIONS)
    assert {k.arn for k in snapshot.keys} == {k.arn for k in baseline.keys}
    assert all(k.aliases == () for k in snapshot.keys)
    assert {(e["operation"], e["key_arn"]) for e in snapshot.errors} == {("ListAliases", None)}


def test_scan_settings_come_from_the_config() -> None:
    config = parse_config(
        "regions: [eu-west-1, us-east-1]\naccounts: [{id: '111111111111'}]\n"
        "limits: {share: 0.25, quotas: {ListGrants: 400}, max_shards: 2, workers_per_shard: 3}\n"
    )
    options = options_from_config(config)
    assert (options.regions, options.max_shards, options.workers_per_shard) == (REGIONS, 2, 3)
    assert limiter_from_config(config).rates["ListGrants"] == 100


def test_snapshot_file_round_trip(baseline: Snapshot, tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"
    dump_snapshot(baseline, path)
    assert load_snapshot(path) == baseline
    assert json.loads(path.read_text())["version"] == 1


def _key_id_in_body(key_id: str) -> Any:
    return body_contains(key_id)
