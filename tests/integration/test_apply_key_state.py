"""apply and the key state, against a real moto server: a key scheduled for deletion since the
plan was made is refused before any backup or write; a disabled key is still fixed."""

from __future__ import annotations

from typing import Any

import pytest
from kms_estate import (
    BUCKET,
    REGIONS,
    SANDBOX_A,
    SANDBOX_B,
    SeededKey,
    apply,
    change,
    factory,
    fixed_policy,
    live_policy,
    make_key,
    make_plan,
    state_of,
    statuses,
    store,
)

from remediator.aws.session import ClientFactory
from remediator.localaws import LocalAws

pytestmark = pytest.mark.integration


def _versions_under(aws: LocalAws, prefix: str) -> list[str]:
    """Every object version (delete markers too) under ``prefix`` of the backup bucket: the
    bucket is versioned, so a backup written and then removed would still be listed."""
    listed = aws.client("s3").list_object_versions(Bucket=BUCKET, Prefix=prefix)
    return [v["Key"] for v in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]]


def _backup_versions(aws: LocalAws, prefix: str, run_id: str, key: SeededKey) -> list[str]:
    return _versions_under(aws, f"{prefix}/{run_id}/{key.account}/{key.region}/{key.key_id}")


def test_a_key_scheduled_for_deletion_after_the_plan_is_refused_before_any_backup(
    aws: LocalAws, clients: ClientFactory
) -> None:
    deleting, other = make_key(clients, SANDBOX_A, REGIONS[0]), make_key(
        clients, SANDBOX_A, REGIONS[0])
    plan = make_plan([change(deleting), change(other)])
    kms = clients(deleting.account, deleting.region, "kms")
    kms.schedule_key_deletion(KeyId=deleting.key_id, PendingWindowInDays=7)
    assert kms.describe_key(KeyId=deleting.key_id)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    before = state_of(clients, [deleting])

    result = apply(aws, clients, plan, "pending-deletion")

    assert statuses(result) == {deleting.arn: "refused-key-state", other.arn: "applied"}
    reason = result.outcomes[0].reason or ""
    assert "KeyState 'PendingDeletion'" in reason and "scheduled for deletion" in reason
    assert result.exit_code == 3
    # Nothing was written to the key, and no backup of it exists (nor ever existed).
    assert state_of(clients, [deleting]) == before
    assert live_policy(clients, deleting) == deleting.policy
    assert _backup_versions(aws, "pending-deletion", result.run_id, deleting) == []
    assert _backup_versions(aws, "pending-deletion", result.run_id, other) != []
    # The run record says the same, as for the other refusals.
    record = store(aws, "pending-deletion").get_run_record(result.run_id)
    entry = next(e for e in record["keys"] if e["key_arn"] == deleting.arn)
    assert (entry["status"], entry["reason"], entry["backup"], entry["policy_put"]) == (
        "refused-key-state", reason, None, False)

    alone = apply(aws, clients, make_plan([change(deleting)]), "pending-deletion-alone")
    assert statuses(alone) == {deleting.arn: "refused-key-state"} and alone.exit_code == 2
    assert _versions_under(aws, f"pending-deletion-alone/{alone.run_id}/{SANDBOX_A}/") == []
    assert state_of(clients, [deleting]) == before


def test_a_primary_key_pending_replica_deletion_is_refused(aws: LocalAws) -> None:
    # moto has no PendingReplicaDeletion, so DescribeKey's answer is rewritten for one key on
    # a client of this test's own (the shared factory caches its clients).
    clients = factory(aws)
    key = make_key(clients, SANDBOX_B, REGIONS[1])
    kms = clients(SANDBOX_B, REGIONS[1], "kms")

    def pending_replica_deletion(parsed: dict[str, Any], **_: Any) -> None:
        if parsed.get("KeyMetadata", {}).get("KeyId") == key.key_id:
            parsed["KeyMetadata"]["KeyState"] = "PendingReplicaDeletion"

    kms.meta.events.register("after-call.kms.DescribeKey", pending_replica_deletion)
    before = state_of(clients, [key])
    result = apply(aws, clients, make_plan([change(key)]), "replica-deletion")
    assert statuses(result) == {key.arn: "refused-key-state"} and result.exit_code == 2
    assert "KeyState 'PendingReplicaDeletion'" in (result.outcomes[0].reason or "")
    assert state_of(clients, [key]) == before
    assert _backup_versions(aws, "replica-deletion", result.run_id, key) == []


def test_a_disabled_key_is_still_fixed(aws: LocalAws, clients: ClientFactory) -> None:
    # Its policy applies again the moment it is re-enabled.
    key = make_key(clients, SANDBOX_A, REGIONS[1])
    plan = make_plan([change(key)])
    clients(key.account, key.region, "kms").disable_key(KeyId=key.key_id)
    result = apply(aws, clients, plan, "disabled")
    assert statuses(result) == {key.arn: "applied"} and result.exit_code == 0
    assert live_policy(clients, key) == fixed_policy(key.policy)
    assert _backup_versions(aws, "disabled", result.run_id, key) != []
