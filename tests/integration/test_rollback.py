"""Rollback's own decisions against a real moto server: a key changed after the run, principals
deleted since, a dry run, one key of a run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from kms_estate import (
    BUCKET,
    REGIONS,
    ROLE,
    SANDBOX_A,
    SANDBOX_B,
    apply,
    change,
    config,
    exposed_policy,
    live_policy,
    local_credentials,
    make_key,
    make_plan,
    plan_after,
    rollback,
    root,
    state_of,
    statuses,
    store,
)

from remediator import cli
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


def test_a_run_record_entry_that_disagrees_with_itself_or_its_backup_is_refused(
    aws: LocalAws, clients: ClientFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by review: rollback restored the backup an entry pointed at without checking that
    the object was that key's backup from that run (an entry pointing at another key's backup
    put the other key's policy on it), and an entry whose account disagreed with its ARN
    stopped rollback with a ValueError traceback. Both keys are refused and left alone."""
    keys = [make_key(clients, SANDBOX_A, REGIONS[0]) for _ in range(3)]
    result = apply(aws, clients, make_plan([change(k) for k in keys]), "inconsistent")
    changed = state_of(clients, keys)
    backups = store(aws, "inconsistent")
    record = backups.get_run_record(result.run_id)
    record["keys"][0]["backup"] = record["keys"][1]["backup"]
    record["keys"][1]["account"] = SANDBOX_B
    backups.put_run_record(result.run_id, record)
    back = rollback(aws, clients, result.run_id, "inconsistent")
    assert statuses(back) == {k.arn: s for k, s in zip(keys, [
        "refused-inconsistent-record", "refused-inconsistent-record", "restored"], strict=True)}
    assert back.keys[0].reason == (
        f"the backup the run record names is of key_arn {keys[1].arn!r}, not {keys[0].arn!r}, "
        "so it is not this key's backup from this run and the key is left alone")
    assert back.keys[1].reason == (
        f"the run record's entry is not consistent ({keys[1].arn} does not match its account, "
        "Region or key id), so the key is left alone")
    assert back.exit_code == 3
    assert state_of(clients, keys[:2]) == {k.arn: changed[k.arn] for k in keys[:2]}
    assert live_policy(clients, keys[2]) == keys[2].policy
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump({
        "accounts": [{"id": a, "role_name": ROLE} for a in (SANDBOX_A, SANDBOX_B)],
        "regions": list(REGIONS), "endpoint_url": aws.endpoint_url,
        "sandbox_accounts": [SANDBOX_A], "backup": {"bucket": BUCKET, "prefix": "inconsistent"}}),
        encoding="utf-8")
    with local_credentials():
        code = cli.main(["rollback", result.run_id, "--config", str(cfg)])
    out, err = capsys.readouterr()
    assert code == 3 and "Traceback" not in err
    assert "refused-inconsistent-record" in out
    assert state_of(clients, keys[:2]) == {k.arn: changed[k.arn] for k in keys[:2]}


def test_a_backup_of_another_run_is_refused(aws: LocalAws, clients: ClientFactory) -> None:
    key = make_key(clients, SANDBOX_A, REGIONS[0])
    first = apply(aws, clients, make_plan([change(key)]), "other-run")
    backups = store(aws, "other-run")
    rollback(aws, clients, first.run_id, "other-run")
    second = apply(aws, clients, make_plan([change(key)]), "other-run")
    record = backups.get_run_record(second.run_id)
    record["keys"][0]["backup"] = backups.get_run_record(first.run_id)["keys"][0]["backup"]
    backups.put_run_record(second.run_id, record)
    back = rollback(aws, clients, second.run_id, "other-run")
    assert statuses(back) == {key.arn: "refused-inconsistent-record"}
    assert f"is of run_id {first.run_id!r}, not {second.run_id!r}" in (back.keys[0].reason or "")
    assert live_policy(clients, key) == plan_after(make_plan([change(key)]), key)
