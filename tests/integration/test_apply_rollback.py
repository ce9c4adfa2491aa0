"""Apply, then roll back, against a real moto server: two sandbox accounts, two Regions.

Every test seeds its own keys and uses a run-record prefix of its own, so the tests of this
module share one server without seeing each other's keys or runs.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from kms_estate import (
    REGIONS,
    SANDBOX_A,
    SANDBOX_B,
    apply,
    change,
    factory,
    live_grants,
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

from remediator.aws.backup import BackupRef
from remediator.aws.faults import Fault, FaultInjector, HookedClients, body_contains
from remediator.aws.session import ClientFactory
from remediator.localaws import LocalAws
from remediator.rollback import list_runs

pytestmark = pytest.mark.integration


def test_apply_then_rollback_restores_every_key_in_two_accounts_and_regions(
    aws: LocalAws, clients: ClientFactory
) -> None:
    shards = [(a, r) for a in (SANDBOX_A, SANDBOX_B) for r in REGIONS]
    touched = [make_key(clients, a, r, external_grants=2) for a, r in shards]
    untouched = [make_key(clients, a, r) for a, r in shards]
    original, bystanders = state_of(clients, touched, exact=False), state_of(clients, untouched)
    plan = make_plan([change(k) for k in touched])

    result = apply(aws, clients, plan, "happy")
    assert result.exit_code == 0, result.to_dict()
    assert set(statuses(result).values()) == {"applied"}
    for key in touched:
        assert live_policy(clients, key) == plan_after(plan, key)
        assert {g["GranteePrincipal"] for g in live_grants(clients, key)} == {root(key.account)}
    assert state_of(clients, untouched) == bystanders

    back = rollback(aws, clients, result.run_id, "happy")
    assert back.exit_code == 0, back.to_dict()
    assert (back.state, {k.status for k in back.keys}) == ("complete", {"restored"})
    assert state_of(clients, touched, exact=False) == original  # policies and grant shapes
    assert state_of(clients, untouched) == bystanders
    for key, outcome in zip(touched, back.keys, strict=True):
        assert outcome.key_arn == key.arn
        assert set(outcome.recreated_grants) == set(key.revoke_ids)
        assert set(outcome.recreated_grants.values()) <= {
            g["GrantId"] for g in live_grants(clients, key)
        }

    again = rollback(aws, clients, result.run_id, "happy")
    assert {k.status for k in again.keys} == {"already-original"}  # nothing created twice
    assert state_of(clients, touched, exact=False) == original


def test_runs_lists_the_run_with_its_backups_and_rollback_state(
    aws: LocalAws, clients: ClientFactory
) -> None:
    keys = [make_key(clients, SANDBOX_B, r) for r in REGIONS]
    plan = make_plan([change(k) for k in keys])
    result = apply(aws, clients, plan, "listed")
    [summary] = list_runs(store(aws, "listed"))
    assert (summary.run_id, summary.plan_digest) == (result.run_id, plan["digest"])
    assert (summary.state, summary.rollback_state) == ("finished", "none")
    assert set(summary.keys_touched) == {k.arn for k in keys}
    assert len(summary.backups) == 2
    rollback(aws, clients, result.run_id, "listed")
    assert list_runs(store(aws, "listed"))[0].rollback_state == "complete"


def test_the_backup_holds_the_original_and_the_record_every_step(
    aws: LocalAws, clients: ClientFactory
) -> None:
    key = make_key(clients, SANDBOX_A, REGIONS[0])
    plan = make_plan([change(key)])
    backups = store(aws, "record")
    result = apply(aws, clients, plan, "record", backups=backups)
    record = backups.get_run_record(result.run_id)
    entry = record["keys"][0]
    assert record["state"] == "finished" and record["plan_digest"] == plan["digest"]
    assert entry["status"] == "applied" and entry["policy_put"] is True
    assert entry["revoked_grant_ids"] == key.revoke_ids
    assert [g["GrantId"] for g in entry["revoke_planned"]] == key.revoke_ids
    saved = backups.get_backup(BackupRef(**entry["backup"]))
    assert json.loads(saved["policy_text"]) == key.policy
    assert saved["plan_digest"] == plan["digest"] and saved["run_id"] == result.run_id
    assert {g["GrantId"] for g in saved["grants"]} == {g["GrantId"] for g in key.grants}
    assert saved["describe_key"]["KeyId"] == key.key_id


def test_throttled_writes_are_retried_and_the_apply_completes(
    aws: LocalAws, clients: ClientFactory
) -> None:
    keys = [make_key(clients, SANDBOX_B, r) for r in REGIONS for _ in range(2)]
    plan = make_plan([change(k) for k in keys])
    puts, revokes = Fault("PutKeyPolicy", times=5), Fault("RevokeGrant", times=2)
    throttled = HookedClients(factory(aws), kms=[FaultInjector(puts, revokes)])
    result = apply(aws, throttled, plan, "throttled")
    assert result.exit_code == 0, result.to_dict()
    assert (puts.injected, revokes.injected) == (5, 2)
    for key in keys:
        assert live_policy(clients, key) == plan_after(plan, key)


def test_an_aws_error_on_one_key_fails_that_key_only(aws: LocalAws, clients: ClientFactory) -> None:
    keys = [make_key(clients, SANDBOX_A, REGIONS[1]) for _ in range(2)]
    before = state_of(clients, [keys[0]])
    plan = make_plan([change(k) for k in keys])
    denied = Fault(
        "PutKeyPolicy", code="AccessDeniedException", match=body_contains(keys[0].key_id)
    )
    hooked: Any = HookedClients(factory(aws), kms=[FaultInjector(denied)])
    result = apply(aws, hooked, plan, "denied")
    assert statuses(result) == {keys[0].arn: "failed", keys[1].arn: "applied"}
    assert "PutKeyPolicy failed: AccessDeniedException" in (result.outcomes[0].reason or "")
    assert result.exit_code == 3
    assert state_of(clients, [keys[0]]) == before
    back = rollback(aws, clients, result.run_id, "denied")
    assert statuses(back) == {keys[0].arn: "already-original", keys[1].arn: "restored"}
    assert back.exit_code == 0
