"""Rollback's own decisions against a real moto server: a key changed after the run, principals
deleted since, a dry run, one key of a run."""

from __future__ import annotations

import json

import pytest
from kms_estate import (
    REGIONS,
    SANDBOX_A,
    SANDBOX_B,
    apply,
    change,
    config,
    exposed_policy,
    live_policy,
    make_key,
    make_plan,
    plan_after,
    rollback,
    root,
    state_of,
    statuses,
    store,
)

from remediator.aws.session import ClientFactory
from remediator.errors import UnknownRunError
from remediator.localaws import LocalAws
from remediator.rollback import rollback_run

pytestmark = pytest.mark.integration


def test_a_key_changed_after_the_run_is_left_unless_forced(
    aws: LocalAws, clients: ClientFactory
) -> None:
    key = make_key(clients, SANDBOX_A, REGIONS[0])
    result = apply(aws, clients, make_plan([change(key)]), "diverged")
    someone = {**key.policy, "Statement": key.policy["Statement"][:1], "Id": "someone-else"}
    kms = clients(key.account, key.region, "kms")
    kms.put_key_policy(KeyId=key.key_id, PolicyName="default", Policy=json.dumps(someone))
    left = rollback(aws, clients, result.run_id, "diverged")
    assert statuses(left) == {key.arn: "left-diverged"}
    assert "--force" in (left.keys[0].reason or "") and left.exit_code == 3
    assert live_policy(clients, key) == someone
    forced = rollback(aws, clients, result.run_id, "diverged", force=True)
    assert statuses(forced) == {key.arn: "restored"}
    assert live_policy(clients, key) == key.policy


def test_missing_principals_are_reported_and_dropped_only_when_asked(
    aws: LocalAws, clients: ClientFactory
) -> None:
    iam = clients(SANDBOX_A, REGIONS[0], "iam")
    role = iam.create_role(RoleName="short-lived", Path="/apps/", AssumeRolePolicyDocument="{}")
    role_arn = role["Role"]["Arn"]
    key = make_key(clients, SANDBOX_A, REGIONS[0], policy=exposed_policy(SANDBOX_A, role_arn))
    plan = make_plan([change(key)])
    result = apply(aws, clients, plan, "missing")
    iam.delete_role(RoleName="short-lived")

    refused = rollback(aws, clients, result.run_id, "missing")
    assert statuses(refused) == {key.arn: "refused-missing-principals"}
    assert refused.keys[0].missing_principals == (role_arn,)
    assert live_policy(clients, key) == plan_after(plan, key)

    dropped = rollback(aws, clients, result.run_id, "missing", drop_missing_principals=True)
    assert statuses(dropped) == {key.arn: "restored"}
    assert dropped.keys[0].dropped_principals == (role_arn,)
    restored = live_policy(clients, key)
    assert [s["Sid"] for s in restored["Statement"]] == ["Owner", "Everyone", "App"]
    assert restored["Statement"][2]["Principal"] == {"AWS": [root(SANDBOX_A)]}


def test_a_dry_run_changes_nothing_and_one_key_can_be_rolled_back(
    aws: LocalAws, clients: ClientFactory
) -> None:
    keys = [make_key(clients, SANDBOX_B, REGIONS[0]) for _ in range(2)]
    result = apply(aws, clients, make_plan([change(k) for k in keys]), "dry")
    applied = state_of(clients, keys)
    dry = rollback(aws, clients, result.run_id, "dry", dry_run=True)
    assert {k.status for k in dry.keys} == {"would-restore"}
    assert state_of(clients, keys) == applied
    assert store(aws, "dry").get_run_record(result.run_id)["rollback"]["state"] == "none"

    one = rollback(aws, clients, result.run_id, "dry", key_arn=keys[0].arn)
    assert (statuses(one), one.state) == ({keys[0].arn: "restored"}, "partial")
    assert live_policy(clients, keys[0]) == keys[0].policy
    assert live_policy(clients, keys[1]) == applied[keys[1].arn][0]


def test_an_unknown_run_or_key_is_bad_input(aws: LocalAws, clients: ClientFactory) -> None:
    key = make_key(clients, SANDBOX_A, REGIONS[1])
    result = apply(aws, clients, make_plan([change(key)]), "unknown")
    backups = store(aws, "unknown")
    with pytest.raises(UnknownRunError, match="no run"):
        rollback_run("20200101T000000Z-deadbeef", backups, clients, config(aws))
    with pytest.raises(UnknownRunError, match="did not touch"):
        rollback_run(result.run_id, backups, clients, config(aws), key_arn=f"{key.arn}0")


def test_a_key_scheduled_for_deletion_is_left_until_the_deletion_is_cancelled(
    aws: LocalAws, clients: ClientFactory
) -> None:
    key = make_key(clients, SANDBOX_A, REGIONS[0])
    result = apply(aws, clients, make_plan([change(key)]), "pending")
    applied = live_policy(clients, key)
    kms = clients(key.account, key.region, "kms")
    kms.schedule_key_deletion(KeyId=key.key_id, PendingWindowInDays=7)
    for dry_run in (True, False):
        left = rollback(aws, clients, result.run_id, "pending", dry_run=dry_run)
        assert statuses(left) == {key.arn: "left-pending-deletion"} and left.exit_code == 3
        assert "PendingDeletion" in (left.keys[0].reason or "")
        assert "--force" in (left.keys[0].reason or "")
    assert live_policy(clients, key) == applied  # nothing written
    kms.cancel_key_deletion(KeyId=key.key_id)  # the key comes back Disabled
    restored = rollback(aws, clients, result.run_id, "pending")
    assert statuses(restored) == {key.arn: "restored"} and restored.exit_code == 0
    assert live_policy(clients, key) == key.policy
