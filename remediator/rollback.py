"""Roll a run back from its backups: restore each key's policy, re-create revoked grants.

For every key the run touched (a key whose verified backup is in the run record, including a
run killed mid-apply, but not one apply then skipped as stale before any write), the live
policy decides what to do, because KMS has no policy versions:

- live = the run's "after": the run changed it; restore the backed-up text (PutKeyPolicy);
- live = the backup's "before": the policy was never changed (or is restored already);
- anything else: someone changed the key since; leave it and say so, unless ``force``.

A key scheduled for deletion (``PendingDeletion``, ``PendingReplicaDeletion``) is left too,
unless ``force``, as apply refuses one: restoring would put the original, exposed policy back
on a key its owner is deleting, and KMS accepts no CreateGrant in those states
(https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html), so the revoked grants
could not come back. Once the deletion is cancelled (the key comes back Disabled), rollback
restores it; the backups stay.

Planned grant revocations come from the run record (full ListGrants entries, recorded before
any was revoked); each planned grant that is no longer listed is re-created with CreateGrant
(same grantee, operations, constraints, retiring principal and name) and its new id recorded,
so running a rollback twice creates nothing twice. A key whose run-record entry does not
agree with itself (its ARN with its account, Region or key id) or with its backup (the object
names its own key and run) is refused (``refused-inconsistent-record``) and left alone.
Before restoring, every IAM role and user of the owner account the backup names is looked up
(GetRole/GetUser): KMS refuses a policy naming a principal that no longer exists. Missing
ones are reported and the key is left, unless ``drop_missing_principals`` (then they are left
out, and the result says which). Everything is re-read and verified, and the outcome recorded
in the run record. When the run record
cannot be saved, rollback stops at that point, before any other write: the result holds the
keys so far, the keys it changed and the error (``record_error``, exit 3); running it again
once the bucket takes writes goes on from the live policies.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import structlog

from remediator.approval import keeps_owner_control
from remediator.aws.backup import BackupStore
from remediator.aws.inventory import SKIPPED_STATES, ClientSource, limiter_from_config
from remediator.aws.keyops import KEY_CALL_ERRORS, KeyOps, KeyTarget, LivePolicy, policy_text
from remediator.aws.ratelimit import RateLimiter
from remediator.aws.retry import DEFAULT_RETRY, RetryPolicy, error_reason
from remediator.config import Config
from remediator.errors import (
    BackupError,
    KeyFailedError,
    RunRecordError,
    UnknownRunError,
)
from remediator.plan import policy_sha256
from remediator.principal_check import (
    drop_from_grants,
    drop_principals,
    find_missing,
    grant_principals,
    policy_principals,
)
from remediator.rollback_grants import grants_to_recreate
from remediator.rollback_result import (
    ALREADY_ORIGINAL,
    DONE,
    FAILED,
    LEFT_DIVERGED,
    LEFT_PENDING_DELETION,
    REFUSED_INCONSISTENT,
    REFUSED_MISSING,
    RESTORED,
    WOULD_RESTORE,
    KeyRollback,
    RollbackResult,
    missing_reason,
    pending_reason,
    rollback_state,
)
from remediator.runrecord import (
    RunRecorder,
    RunSummary,
    backup_ref,
    list_runs,
    refuse_a_live_run,
    touched,
)
from remediator.snapshot import utc_now

__all__ = ["KeyRollback", "RollbackResult", "RunSummary", "list_runs", "rollback_run"]

log = structlog.get_logger(__name__)

@dataclass(frozen=True, slots=True)
class _Work:
    """What restoring one key takes: the policy text to put (None: the live one is the
    original) and the grants to re-create."""

    policy_text: str | None
    grants: list[dict[str, Any]]
    missing: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Rollback:
    ops: KeyOps
    recorder: RunRecorder
    config: Config
    dry_run: bool
    force: bool
    drop_missing: bool
    changed: list[str] = field(default_factory=list)

    def mark_changed(self, target: KeyTarget) -> None:
        if target.key_arn not in self.changed:
            self.changed.append(target.key_arn)


def rollback_run(
    run_id: str,
    store: BackupStore,
    factory: ClientSource,
    config: Config,
    key_arn: str | None = None,
    dry_run: bool = False,
    force: bool = False,
    drop_missing_principals: bool = False,
    *,
    apply_ended: bool = False,
    limiter: RateLimiter | None = None,
    retry: RetryPolicy = DEFAULT_RETRY,
) -> RollbackResult:
    """Restore every key ``run_id`` touched (or only ``key_arn``); see the module docstring.
    UnknownRunError for a run or key the store does not know. When the run record cannot be
    saved, rollback stops at that point: the result holds the keys so far and
    ``record_error``."""
    recorder = RunRecorder.load(store, run_id)
    if not (dry_run or apply_ended):
        refuse_a_live_run(recorder.record, run_id)
    entries = [e for e in recorder.record["keys"] if touched(e)]
    if key_arn is not None:
        entries = [e for e in entries if e["key_arn"] == key_arn]
        if not entries:
            raise UnknownRunError(f"Run {run_id} did not touch key {key_arn}.")
    ops = KeyOps(factory, limiter or limiter_from_config(config), retry, run_id)
    rb = _Rollback(ops, recorder, config, dry_run, force, drop_missing_principals)
    log.info("rollback.start", run_id=run_id, keys=len(entries), dry_run=dry_run, force=force)
    keys: list[KeyRollback] = []
    try:
        for entry in entries:
            keys.append(_rollback_key(rb, entry))
        state = rollback_state(recorder.record)
        if not dry_run:
            recorder.set(rollback={"state": state, "updated_at": utc_now()})
    except RunRecordError as exc:
        return _stopped(rb, entries, keys, exc)
    log.info("rollback.done", run_id=run_id, state=state)
    return RollbackResult(run_id, dry_run, tuple(keys), state, changed=tuple(rb.changed))


def _stopped(
    rb: _Rollback, entries: Sequence[Mapping[str, Any]], keys: list[KeyRollback],
    exc: RunRecordError,
) -> RollbackResult:
    """The result of a rollback stopped because the run record could not be saved: the keys
    so far, and the key it was at as failed."""
    if len(keys) < len(entries):
        target = _entry_target(entries[len(keys)])
        keys.append(_result(target, FAILED, (
            "the run record could not be saved while restoring this key, so rollback stopped "
            "here")))
    log.error("rollback.record_failed", run_id=rb.recorder.run_id, reason=str(exc),
              changed=list(rb.changed))
    return RollbackResult(rb.recorder.run_id, rb.dry_run, tuple(keys),
                          rollback_state(rb.recorder.record), str(exc), tuple(rb.changed))


def _entry_target(entry: Mapping[str, Any]) -> KeyTarget:
    """The key an entry names, as written (unchecked): for reporting an entry only."""
    return KeyTarget(*(str(entry.get(k)) for k in ("key_arn", "account", "region", "key_id")))


def _rollback_key(rb: _Rollback, entry: dict[str, Any]) -> KeyRollback:
    try:
        target = KeyTarget.from_entry(entry)
    except ValueError as exc:
        return _finish(rb, _entry_target(entry), REFUSED_INCONSISTENT, (
            f"the run record's entry is not consistent ({exc}), so the key is left alone"))
    step = "reading the backup"
    try:
        backup = _read_backup(rb, entry)
        mismatch = backup_mismatch(entry, backup, rb.recorder.run_id)
        if mismatch is not None:
            return _finish(rb, target, REFUSED_INCONSISTENT, mismatch)
        step = "DescribeKey"
        state = rb.ops.describe(target).get("KeyState")
        if state in SKIPPED_STATES and not rb.force:
            return _finish(rb, target, LEFT_PENDING_DELETION, pending_reason(state))
        step = "GetKeyPolicy"
        live = rb.ops.read_policy(target)
        diverged = _divergence(entry, backup, live)
        if diverged and not rb.force:
            return _finish(rb, target, LEFT_DIVERGED, diverged + "; use --force to restore anyway")
        step = "checking principals"
        work = _work(rb, target, entry, backup, restore_policy=live.sha256 != backup_sha(backup))
        if work.missing and not rb.drop_missing:
            return _finish(rb, target, REFUSED_MISSING, missing_reason(work.missing), work)
        if rb.dry_run:
            status = WOULD_RESTORE if work.policy_text or work.grants else ALREADY_ORIGINAL
            return _result(target, status, None, work)
        step = "restoring"
        return _restore(rb, target, work)
    except KEY_CALL_ERRORS as exc:
        return _finish(rb, target, FAILED, f"{step} failed: {error_reason(exc)}")
    except KeyFailedError as exc:
        return _finish(rb, target, FAILED, str(exc))


def _read_backup(rb: _Rollback, entry: Mapping[str, Any]) -> dict[str, Any]:
    ref = backup_ref(entry)
    if ref is None:  # entries without a backup were filtered out by the caller
        raise KeyFailedError(f"{entry['key_arn']} has no backup in the run record")
    try:
        backup = rb.recorder.store.get_backup(ref)
    except BackupError as exc:
        raise KeyFailedError(f"the backup cannot be used: {exc}") from exc
    if not isinstance(backup.get("policy_text"), str):
        raise KeyFailedError(f"the backup s3://{ref.bucket}/{ref.key} holds no policy text")
    return backup


def backup_mismatch(
    entry: Mapping[str, Any], backup: Mapping[str, Any], run_id: str
) -> str | None:
    """Why ``backup`` is not the backup of this entry's key taken by run ``run_id`` (the
    object names its own key and run), or None when it is."""
    for name, wanted in (("key_arn", entry.get("key_arn")), ("run_id", run_id)):
        if backup.get(name) != wanted:
            return (
                f"the backup the run record names is of {name} {backup.get(name)!r}, not "
                f"{wanted!r}, so it is not this key's backup from this run and the key is left "
                "alone"
            )
    return None


def backup_sha(backup: Mapping[str, Any]) -> str:
    """The marker of the backed-up policy, recomputed from the text as read at apply."""
    return policy_sha256(json.loads(backup["policy_text"]))


def _divergence(entry: Mapping[str, Any], backup: Mapping[str, Any], live: LivePolicy) -> str:
    """Empty when the live policy is the run's after or its before; else why not."""
    if live.sha256 in (entry.get("after_sha256"), backup_sha(backup)):
        return ""
    return (
        f"the live policy (SHA-256 {live.sha256}) is neither what the run applied "
        f"({entry.get('after_sha256')}) nor the original ({backup_sha(backup)}): "
        "it changed after the run"
    )


def _work(
    rb: _Rollback,
    target: KeyTarget,
    entry: Mapping[str, Any],
    backup: Mapping[str, Any],
    restore_policy: bool,
) -> _Work:
    listed = rb.ops.list_grants(target) if entry.get("revoke_planned") else []
    grants = grants_to_recreate(listed, entry, backup.get("grants") or [])
    names = grant_principals(grants)
    policy = json.loads(backup["policy_text"])
    if restore_policy:
        names |= policy_principals(policy)
    missing = find_missing(rb.ops, target, names)
    text = backup["policy_text"] if restore_policy else None
    work = _Work(text, grants, missing)
    if missing and rb.drop_missing:
        work = _without(rb, target, work, policy if restore_policy else None)
    return work


def _without(rb: _Rollback, target: KeyTarget, work: _Work, policy: Any) -> _Work:
    """``work`` with the missing principals left out (only with --drop-missing-principals)."""
    missing = set(work.missing)
    grants = drop_from_grants(work.grants, missing)
    text = work.policy_text
    if policy is not None:
        reduced = drop_principals(policy, missing)
        ctx = rb.config.context_for(target.account, key_arn=target.key_arn)
        if keeps_owner_control(policy, ctx) and not keeps_owner_control(reduced, ctx):
            raise KeyFailedError(
                "leaving out the missing principals would lock the owner root out of the key"
            )
        text = policy_text(reduced)
    return replace(work, policy_text=text, grants=grants, dropped=work.missing)


def _restore(rb: _Rollback, target: KeyTarget, work: _Work) -> KeyRollback:
    recreated = dict(_rollback_entry(rb, target).get("recreated_grants", {}))
    if work.policy_text is not None:
        rb.ops.put_policy(target, work.policy_text, purpose="rollback")
        rb.mark_changed(target)
        _record(rb, target, status="policy-restored", recreated_grants=recreated)
    for grant in work.grants:
        recreated[grant["GrantId"]] = rb.ops.create_grant(target, grant)
        rb.mark_changed(target)
        _record(rb, target, status="recreating-grants", recreated_grants=recreated)
    problem = _verify(rb, target, work, recreated)
    if problem:
        return _finish(rb, target, FAILED, problem, work, recreated)
    status = RESTORED if work.policy_text is not None or work.grants else ALREADY_ORIGINAL
    return _finish(rb, target, status, None, work, recreated)


def _verify(rb: _Rollback, target: KeyTarget, work: _Work, recreated: Mapping[str, str]) -> str:
    """Empty when the key reads back as restored; else what differs."""
    if work.policy_text is not None:
        live = rb.ops.read_policy(target)
        wanted = policy_sha256(json.loads(work.policy_text))
        if live.sha256 != wanted:
            return f"after PutKeyPolicy the key reads back with SHA-256 {live.sha256}, not {wanted}"
    if work.grants:
        listed = {g["GrantId"] for g in rb.ops.list_grants(target)}
        absent = sorted(
            recreated[g["GrantId"]] for g in work.grants if recreated[g["GrantId"]] not in listed
        )
        if absent:
            return f"re-created grants are not listed: {absent}"
    return ""


def _rollback_entry(rb: _Rollback, target: KeyTarget) -> dict[str, Any]:
    found: dict[str, Any] = rb.recorder.entry(target.key_arn).get("rollback") or {}
    return found


def _record(rb: _Rollback, target: KeyTarget, **fields: Any) -> None:
    merged = {**_rollback_entry(rb, target), **fields, "at": utc_now()}
    rb.recorder.update(target.key_arn, rollback=merged)


def _finish(
    rb: _Rollback,
    target: KeyTarget,
    status: str,
    reason: str | None,
    work: _Work | None = None,
    recreated: Mapping[str, str] | None = None,
) -> KeyRollback:
    result = _result(target, status, reason, work, recreated)
    if not rb.dry_run:
        fields: dict[str, Any] = {
            "status": status,
            "reason": reason,
            "missing_principals": list(result.missing_principals),
            "dropped_principals": list(result.dropped_principals),
        }
        if recreated is not None:
            fields["recreated_grants"] = dict(recreated)
        _record(rb, target, **fields)
    event = log.info if status in DONE else log.warning
    event(
        "rollback.key",
        run_id=rb.recorder.run_id,
        key_arn=target.key_arn,
        status=status,
        reason=reason,
    )
    return result


def _result(
    target: KeyTarget,
    status: str,
    reason: str | None,
    work: _Work | None = None,
    recreated: Mapping[str, str] | None = None,
) -> KeyRollback:
    return KeyRollback(
        target.key_arn,
        target.account,
        target.region,
        status,
        reason,
        policy_restored=status == RESTORED and work is not None and work.policy_text is not None,
        recreated_grants=dict(recreated or {}),
        missing_principals=work.missing if work else (),
        dropped_principals=work.dropped if work else (),
    )
