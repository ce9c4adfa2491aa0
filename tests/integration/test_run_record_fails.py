"""The run record cannot be saved once a run has changed keys (found by review: the
BackupError escaped apply and rollback, the CLI said "refused, nothing changed" with exit 2
and no run id, although keys were changed). The run stops at that point (DESIGN.md rule 6:
no key is changed that the record cannot describe), and apply and rollback report the run id,
the outcomes so far and the keys they changed, with exit 3."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from kms_estate import (
    BUCKET,
    EXTERNAL,
    FAST_RETRY,
    REGIONS,
    ROLE,
    SANDBOX_A,
    apply,
    change,
    config,
    factory,
    live_grants,
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
from remediator.aws.backup import BackupStore
from remediator.aws.faults import Fault, FaultInjector
from remediator.aws.session import ClientFactory
from remediator.commands import writes
from remediator.config import Config
from remediator.localaws import LocalAws
from remediator.rollback import rollback_run

pytestmark = pytest.mark.integration


def _run_record_once(put_keys: int) -> Any:
    """Matches a PutObject of run.json whose record says ``put_keys`` keys had their policy
    put: the save right after the PutKeyPolicy of the ``put_keys``-th key changed, and every
    save after it."""
    def match(request: Any) -> bool:
        body = request.body.getvalue() if hasattr(request.body, "getvalue") else request.body
        body = body if isinstance(body, bytes) else b""
        return "/run.json" in str(request.url) and body.count(b'"policy_put":true') >= put_keys
    return match


def _failing_store(aws: LocalAws, prefix: str, match: Any) -> BackupStore:
    s3 = aws.client("s3")
    FaultInjector(Fault("PutObject", code="InternalError", status=500, match=match)).install(s3)
    return store(aws, prefix, s3=s3)


def test_apply_stops_when_the_record_cannot_be_saved_after_a_change(
    aws: LocalAws, clients: ClientFactory
) -> None:
    keys = [make_key(clients, SANDBOX_A, REGIONS[0]) for _ in range(3)]
    before = state_of(clients, keys)
    plan = make_plan([change(k) for k in keys])
    failing = _failing_store(aws, "record-fails", _run_record_once(2))
    result = apply(aws, clients, plan, "record-fails", backups=failing)
    assert statuses(result) == {keys[0].arn: "applied", keys[1].arn: "failed"}
    assert result.outcomes[1].reason == (
        "the run record could not be saved after this key's step 'policy-put', so the run "
        "stopped here")
    assert result.exit_code == 3
    assert result.changed == (keys[0].arn, keys[1].arn)
    assert "InternalError" in (result.record_error or "")
    message = result.record_message() or ""
    assert message.startswith(f"The record of run {result.run_id} could not be saved (Cannot ")
    assert f"keys changed: {keys[0].arn}, {keys[1].arn};" in message
    assert [live_policy(clients, k) == plan_after(plan, k) for k in keys] == [True, True, False]
    assert state_of(clients, keys[2:]) == {keys[2].arn: before[keys[2].arn]}
    # The last saved record holds the backup of every key changed: rollback restores them,
    # once told the apply has ended (its record still says "running").
    assert f"'remediator rollback {result.run_id} --apply-ended'" in message
    back = rollback(aws, clients, result.run_id, "record-fails", apply_ended=True)
    assert statuses(back) == {keys[0].arn: "restored", keys[1].arn: "restored"}
    assert state_of(clients, keys, exact=False) == _shapes(before)


def _shapes(state: dict[str, Any]) -> dict[str, Any]:
    """``state_of(exact=True)`` as ``exact=False`` reads it: re-created grants have new ids."""
    return {arn: (policy, sorted(("", *g[1:]) for g in grants))
            for arn, (policy, grants) in state.items()}


def test_rollback_stops_when_the_record_cannot_be_saved_after_a_change(
    aws: LocalAws, clients: ClientFactory
) -> None:
    keys = [make_key(clients, SANDBOX_A, REGIONS[0]) for _ in range(2)]
    before = state_of(clients, keys)
    applied = apply(aws, clients, make_plan([change(k) for k in keys]), "rollback-record")
    changed = state_of(clients, keys)
    failing = _failing_store(aws, "rollback-record", lambda r: "/run.json" in str(r.url))
    back = rollback_run(applied.run_id, failing, clients, config(aws, prefix="rollback-record"),
                        retry=FAST_RETRY)
    assert statuses(back) == {keys[0].arn: "failed"}
    assert back.keys[0].reason == (
        "the run record could not be saved while restoring this key, so rollback stopped here")
    assert back.exit_code == 3 and back.changed == (keys[0].arn,)
    assert f"keys changed: {keys[0].arn};" in (back.record_message() or "")
    assert live_policy(clients, keys[0]) == keys[0].policy
    assert state_of(clients, keys[1:]) == {keys[1].arn: changed[keys[1].arn]}
    again = rollback(aws, clients, applied.run_id, "rollback-record")
    assert set(statuses(again).values()) == {"restored"} and again.exit_code == 0
    assert state_of(clients, keys, exact=False) == _shapes(before)


def _cli_config(path: Path, aws: LocalAws, prefix: str) -> str:
    path.write_text(yaml.safe_dump({
        "accounts": [{"id": SANDBOX_A, "role_name": ROLE}], "regions": list(REGIONS),
        "endpoint_url": aws.endpoint_url, "sandbox_accounts": [SANDBOX_A],
        "backup": {"bucket": BUCKET, "prefix": prefix}}), encoding="utf-8")
    return str(path)


def _failing_backup_store(monkeypatch: pytest.MonkeyPatch, match: Any) -> None:
    """The CLI's store, with run.json writes failing as ``match`` says."""
    made = writes.backup_store

    def failing(config: Config, clients: ClientFactory) -> BackupStore:
        backups = made(config, clients)
        FaultInjector(Fault("PutObject", code="InternalError", status=500,
                            match=match)).install(backups.s3)
        return BackupStore(backups.s3, backups.bucket, backups.prefix, retry=FAST_RETRY)

    monkeypatch.setattr(writes, "backup_store", failing)


def test_the_cli_reports_the_run_and_the_keys_changed(
    aws: LocalAws, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    clients = factory(aws)
    keys = [make_key(clients, SANDBOX_A, REGIONS[0]) for _ in range(2)]
    plan = make_plan([change(k) for k in keys])
    plan_path = tmp_path / "plan.json"
    plan_path.write_text(json.dumps(plan), encoding="utf-8")
    cfg = _cli_config(tmp_path / "config.yaml", aws, "cli-record")
    with monkeypatch.context() as patched, local_credentials():
        _failing_backup_store(patched, _run_record_once(1))
        code = cli.main(["apply", str(plan_path), "--approve", plan["digest"], "--config", cfg])
    out, err = capsys.readouterr()
    [run_id] = store(aws, "cli-record").list_runs()
    assert code == 3
    assert f"run id: {run_id}" in out
    assert (f"remediator: error: The record of run {run_id} could not be saved (Cannot write "
            f"s3://{BUCKET}/cli-record/{run_id}/run.json: InternalError") in err
    assert f"keys changed: {keys[0].arn}; " in err.replace("\n", "")
    with local_credentials():  # the record says "running", written seconds ago: refused
        code = cli.main(["rollback", run_id, "--config", cfg])
    out, err = capsys.readouterr()
    assert code == 2 and "still marked running" in err and "--apply-ended" in err
    assert live_policy(clients, keys[0]) != keys[0].policy
    with monkeypatch.context() as patched, local_credentials():
        _failing_backup_store(patched, lambda r: "/run.json" in str(r.url))
        code = cli.main(["rollback", run_id, "--config", cfg, "--apply-ended"])
    out, err = capsys.readouterr()
    assert code == 3
    assert f"remediator: error: The record of run {run_id} could not be saved" in err
    assert f"so rollback stopped and changed no other key; keys changed: {keys[0].arn};" in err
    assert live_policy(clients, keys[0]) == keys[0].policy


def _body(request: Any) -> bytes:
    body = request.body.getvalue() if hasattr(request.body, "getvalue") else request.body
    return body if isinstance(body, bytes) else b""


def test_a_rollback_run_again_after_its_record_failed_creates_no_grant_twice(
    aws: LocalAws, clients: ClientFactory
) -> None:
    """Found by review: rollback re-created a revoked grant, could not save the new grant id,
    stopped, and run again (as its message advises) created the grant a second time: an
    unnamed grant is not idempotent in KMS
    (https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateGrant.html, Name)."""
    key = make_key(clients, SANDBOX_A, REGIONS[0], external_grants=0)
    kms = clients(key.account, key.region, "kms")
    kms.create_grant(KeyId=key.key_id, GranteePrincipal=root(EXTERNAL), Operations=["Decrypt"])
    key.grants = live_grants(clients, key)

    def external() -> list[dict[str, Any]]:
        return [g for g in live_grants(clients, key) if g["GranteePrincipal"] == root(EXTERNAL)]

    applied = apply(aws, clients, make_plan([change(key)]), "dup-grant")
    assert statuses(applied) == {key.arn: "applied"} and external() == []
    failing = _failing_store(aws, "dup-grant", lambda r: "/run.json" in str(r.url)
                             and b"recreating-grants" in _body(r))
    first = rollback_run(applied.run_id, failing, clients, config(aws, prefix="dup-grant"),
                         retry=FAST_RETRY)
    assert first.exit_code == 3 and len(external()) == 1
    again = rollback(aws, clients, applied.run_id, "dup-grant")
    assert statuses(again) == {key.arn: "already-original"}
    assert len(external()) == 1


def _alike_kept_then_rollback_fails(aws: LocalAws, clients: ClientFactory, prefix: str,
                                    constraints: dict[str, Any] | None) -> tuple[Any, Any, str]:
    """A1 revoked by the run; A2 alike to it, made after the plan and kept by apply; the first
    rollback re-creates A1 and cannot save the copy's id."""
    key = make_key(clients, SANDBOX_A, REGIONS[0], external_grants=0)
    kms = clients(key.account, key.region, "kms")
    extra = {"Constraints": constraints} if constraints else {}
    kms.create_grant(KeyId=key.key_id, GranteePrincipal=root(EXTERNAL), Operations=["Decrypt"],
                     **extra)
    key.grants = live_grants(clients, key)
    plan = make_plan([change(key)])
    a2 = kms.create_grant(KeyId=key.key_id, GranteePrincipal=root(EXTERNAL),
                          Operations=["Decrypt"], **extra)["GrantId"]
    applied = apply(aws, clients, plan, prefix)
    assert statuses(applied) == {key.arn: "applied"}
    return key, applied, a2


def _rollback_failing_at_grants(aws: LocalAws, clients: ClientFactory, run_id: str,
                                prefix: str) -> None:
    failing = _failing_store(aws, prefix, lambda r: "/run.json" in str(r.url)
                             and b"recreating-grants" in _body(r))
    first = rollback_run(run_id, failing, clients, config(aws, prefix=prefix), retry=FAST_RETRY)
    assert first.exit_code == 3


def test_a_kept_alike_grant_retired_since_is_no_copy_of_the_revoked_one(
    aws: LocalAws, clients: ClientFactory
) -> None:
    """Found by review: the count of alike grants took in one the run never revoked, so once
    its grantee retired it, the re-run created the revoked grant a second time."""
    key, applied, a2 = _alike_kept_then_rollback_fails(aws, clients, "alike-retired", None)
    kms = clients(key.account, key.region, "kms")
    kms.retire_grant(KeyId=key.key_id, GrantId=a2)
    _rollback_failing_at_grants(aws, clients, applied.run_id, "alike-retired")
    rollback(aws, clients, applied.run_id, "alike-retired")
    assert len([g for g in live_grants(clients, key)
                if g["GranteePrincipal"] == root(EXTERNAL)]) == 1


@pytest.mark.parametrize("context", [{"b": "1", "a": "2"}, {"a": "2", "b": "1"}])
def test_grants_alike_but_for_the_order_of_their_context_keys_are_alike(
    context: dict[str, str], aws: LocalAws, clients: ClientFactory
) -> None:
    """Found by review: grants were compared by repr, so the order ListGrants gives an
    encryption context's keys in decided whether a grant was alike."""
    prefix = "alike-order-" + "".join(context)
    key, applied, _ = _alike_kept_then_rollback_fails(
        aws, clients, prefix, {"EncryptionContextSubset": context})
    _rollback_failing_at_grants(aws, clients, applied.run_id, prefix)
    rollback(aws, clients, applied.run_id, prefix)
    assert len([g for g in live_grants(clients, key)
                if g["GranteePrincipal"] == root(EXTERNAL)]) == 2  # A2 and one copy of A1
