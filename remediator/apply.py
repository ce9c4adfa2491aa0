"""Apply an approved plan in sandbox accounts: back up, put the after-policy, revoke, verify.

The safety rules of DESIGN.md, in the order they are checked:

- the plan must match its digest and be approved (``--approve DIGEST``, or a person confirming
  at a terminal), each change's before- and after-policy must be the documents their
  SHA-256 markers name, and its ``revoke_grants`` grants as ListGrants lists them (not bare
  ids); no key may come twice (a key is its account, Region and key id, whatever its ARN) and
  each key ARN's partition must be its Region's (``keyops.region_partition``); otherwise
  ``RefusedError`` and nothing is touched (rule 2);
- the backup bucket must have versioning on; otherwise ``BackupError`` before any change (rule 1);
- per key, before anything is written: the account must be a configured sandbox *and* STS
  GetCallerIdentity through that account's client must report it (rule 3); every playbook a
  change names must be known, and one that may not auto-fix under the current config and
  playbooks (whatever the plan's ``auto_fix`` says) must be named in ``include_manual``; the
  after-policy must keep the owner root able to call kms:PutKeyPolicy (rule 4). A key that
  fails one of these is refused and left alone; the others go on.

Then, key by key: re-read the key's metadata and refuse an AWS managed key (its policy is
AWS's) or a key scheduled for deletion (``PendingDeletion``, ``PendingReplicaDeletion``);
re-read the live policy and skip the key as stale when it is not the plan's "before" (rule 2);
list the grants and skip the key as stale when a grant the plan revokes is listed with another
grantee, retiring principal, operations or constraints; write and verify the backup and
record it in the run record (rule 1, 6); re-read the live policy once more and skip the key as
stale when it moved while the backup was written (rollback then leaves it); PutKeyPolicy
(never with BypassPolicyLockoutSafetyCheck); RevokeGrant for each planned grant; re-read and
compare with the plan's "after". The run record is saved after each step, so a run killed at
any point can be rolled back (rule 6). An AWS error stops that key only, recorded as failed
with its reason. A run record that cannot be saved once the run has started stops the whole
run at that point, before any other write (rule 6): the result holds the outcomes so far, the
keys changed and the error (``record_error``, exit 3); the last saved record holds the backup
of every key changed, as each backup is recorded before its key is touched.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog

from remediator.apply_result import (
    REFUSED_AWS_MANAGED,
    REFUSED_KEY_STATE,
    ApplyResult,
    KeyOutcome,
)
from remediator.approval import Refusal, check_approval, grant_drift, plan_targets, preflight
from remediator.aws.backup import BackupStore, new_run_id
from remediator.aws.inventory import SKIPPED_STATES, ClientSource, jsonable, limiter_from_config
from remediator.aws.keyops import KEY_CALL_ERRORS, KeyOps, KeyTarget, LivePolicy, policy_text
from remediator.aws.ratelimit import RateLimiter
from remediator.aws.retry import DEFAULT_RETRY, RetryPolicy, error_reason
from remediator.commands.planning import playbooks_for
from remediator.config import Config
from remediator.errors import (
    BackupError,
    KeyFailedError,
    RunRecordError,
)
from remediator.runrecord import (
    APPLIED,
    BACKED_UP,
    FAILED,
    POLICY_PUT,
    SKIPPED_STALE,
    RunRecorder,
    new_key_entry,
)
from remediator.snapshot import utc_now

__all__ = ["ApplyResult", "KeyOutcome", "apply_plan"]

log = structlog.get_logger(__name__)

# Only customer managed keys are ever changed: apply re-reads the key's manager (DescribeKey)
# before anything else, whatever the plan says, and refuses an AWS managed key
# (REFUSED_AWS_MANAGED; https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html
# #aws-managed-key: their key policies cannot be changed).
CUSTOMER = "CUSTOMER"
# Nor is a key scheduled for deletion, whatever the plan says (REFUSED_KEY_STATE): the same
# DescribeKey must not report a KeyState of SKIPPED_STATES (PendingDeletion,
# PendingReplicaDeletion), the states scan and plan skip. KMS itself would accept PutKeyPolicy
# in them (https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html), so this is
# the tool's rule: a key on its way out is not changed (a cancelled deletion leaves the key
# Disabled, and Disabled keys are changed). Every other state is changed: a Disabled,
# PendingImport or Unavailable key keeps a policy that applies again once the key is enabled,
# imported or reconnected, and Creating and Updating are transient states of multi-Region
# keys in which PutKeyPolicy works.


@dataclass(frozen=True, slots=True)
class _Run:
    ops: KeyOps
    recorder: RunRecorder
    digest: str
    changed: list[str] = field(default_factory=list)

    def mark_changed(self, target: KeyTarget) -> None:
        if target.key_arn not in self.changed:
            self.changed.append(target.key_arn)


def apply_plan(
    plan: dict[str, Any],
    approve: str | None,
    config: Config,
    factory: ClientSource,
    store: BackupStore,
    include_manual: Sequence[str] = (),
    confirm: Callable[[str], bool] | None = None,
    *,
    limiter: RateLimiter | None = None,
    retry: RetryPolicy = DEFAULT_RETRY,
) -> ApplyResult:
    """Apply ``plan`` (see the module docstring); RefusedError or BackupError when the whole
    plan is refused (nothing changed), else one outcome per change. When the run record
    cannot be saved once the run has started, the run stops at that point: the result holds
    the outcomes so far and ``record_error`` (rule 6)."""
    digest = check_approval(plan, approve, confirm)
    books = playbooks_for(config)
    store.check_versioning()
    targets = plan_targets(plan)
    run_id = new_run_id()
    ops = KeyOps(factory, limiter or limiter_from_config(config), retry, run_id)
    refusals = preflight(plan, targets, ops, config, books, frozenset(include_manual))
    recorder = RunRecorder.start(store, run_id, plan, _entries(plan, targets, refusals))
    log.info("apply.start", run_id=run_id, plan_digest=digest, keys=len(targets))
    run = _Run(ops, recorder, digest)
    outcomes: list[KeyOutcome] = []
    try:
        for change, target in zip(plan["changes"], targets, strict=True):
            if target.key_arn in refusals:
                status, reason = refusals[target.key_arn]
                outcomes.append(_outcome(target, status, reason))
            else:
                outcomes.append(_apply_key(run, target, change))
        recorder.set(state="finished", finished_at=utc_now())
    except RunRecordError as exc:
        return _stopped(run, targets, outcomes, exc)
    result = ApplyResult(run_id, digest, tuple(outcomes), changed=tuple(run.changed))
    log.info("apply.done", run_id=run_id, exit_code=result.exit_code)
    return result


def _stopped(
    run: _Run, targets: Sequence[KeyTarget], outcomes: list[KeyOutcome], exc: RunRecordError
) -> ApplyResult:
    """The result of a run stopped because its record could not be saved: the outcomes so
    far, and the key it was at as failed with the step its record could not take."""
    if len(outcomes) < len(targets):
        target = targets[len(outcomes)]
        step = run.recorder.entry(target.key_arn)["status"]
        outcomes.append(_outcome(target, FAILED, (
            f"the run record could not be saved after this key's step {step!r}, so the run "
            "stopped here")))
    log.error("apply.record_failed", run_id=run.recorder.run_id, reason=str(exc),
              changed=list(run.changed))
    return ApplyResult(run.recorder.run_id, run.digest, tuple(outcomes), str(exc),
                       tuple(run.changed))


def _entries(
    plan: Mapping[str, Any], targets: Sequence[KeyTarget], refusals: Mapping[str, Refusal]
) -> list[dict[str, Any]]:
    """The first run-record entry of each key: pending, or refused with the reason."""
    entries = []
    for change, target in zip(plan["changes"], targets, strict=True):
        entry = new_key_entry(target.key_arn, target.account, target.region, target.key_id, change)
        if target.key_arn in refusals:
            entry["status"], entry["reason"] = refusals[target.key_arn]
        entries.append(entry)
    return entries


def _apply_key(run: _Run, target: KeyTarget, change: Mapping[str, Any]) -> KeyOutcome:
    step = "DescribeKey"
    try:
        meta = jsonable(run.ops.describe(target))
        if meta.get("KeyManager") != CUSTOMER:
            return _finish(run, target, REFUSED_AWS_MANAGED, _not_customer_reason(meta))
        if meta.get("KeyState") in SKIPPED_STATES:
            return _finish(run, target, REFUSED_KEY_STATE, _key_state_reason(meta))
        step = "GetKeyPolicy"
        live = run.ops.read_policy(target)
        planned = change["before"]["policy_sha256"]
        if live.sha256 != planned:
            return _finish(run, target, SKIPPED_STALE, _stale_reason(live.sha256, planned))
        step = "ListGrants"
        grants = jsonable(run.ops.list_grants(target))
        drift = grant_drift(change.get("revoke_grants", []), grants)
        if drift is not None:
            return _finish(run, target, SKIPPED_STALE, drift)
        step = "backup"
        _back_up(run, target, change, live, meta, grants)
        step = "GetKeyPolicy"
        now = run.ops.read_policy(target)
        if now.sha256 != live.sha256:
            return _finish(run, target, SKIPPED_STALE, _moved_reason(now.sha256, live.sha256))
        if change["after"]["policy_sha256"] != planned:  # a grants-only change puts nothing
            step = "PutKeyPolicy"
            run.ops.put_policy(target, policy_text(change["after"]["policy"]), purpose="apply")
            run.mark_changed(target)
            run.recorder.update(target.key_arn, status=POLICY_PUT, policy_put=True)
        step = "RevokeGrant"
        _revoke_grants(run, target)
        step = "verify"
        return _verify(run, target, change)
    except KEY_CALL_ERRORS as exc:
        return _finish(run, target, FAILED, f"{step} failed: {error_reason(exc)}")
    except KeyFailedError as exc:
        return _finish(run, target, FAILED, str(exc))


def _not_customer_reason(meta: Mapping[str, Any]) -> str:
    return (
        f"DescribeKey reports KeyManager {meta.get('KeyManager')!r}, not {CUSTOMER!r}: the key "
        "policy of an AWS managed key is AWS's and is never changed (scan and plan skip these "
        "keys; this plan was made elsewhere or edited)"
    )


def _key_state_reason(meta: Mapping[str, Any]) -> str:
    return (
        f"DescribeKey reports KeyState {meta.get('KeyState')!r}: a key scheduled for deletion "
        "is never changed (scan and plan skip these keys; its deletion was scheduled after "
        "this plan was made, or the plan was made elsewhere)"
    )


def _stale_reason(live: str, planned: str) -> str:
    return (
        f"the live policy (SHA-256 {live}) is not the plan's before ({planned}): "
        "it changed since the plan was made; plan again"
    )


def _moved_reason(now: str, backed_up: str) -> str:
    return (
        f"the live policy (SHA-256 {now}) changed while its backup ({backed_up}) was written, "
        "so the key was left alone; plan again"
    )


def _back_up(
    run: _Run,
    target: KeyTarget,
    change: Mapping[str, Any],
    live: LivePolicy,
    meta: Mapping[str, Any],
    grants: list[dict[str, Any]],
) -> None:
    """Rule 1: the original policy text, grants and DescribeKey output (``meta``, ``grants``,
    read just before), verified in S3 and recorded in the run record before the key is
    touched."""
    payload = {
        "version": 1,
        "run_id": run.recorder.run_id,
        "plan_digest": run.digest,
        "key_arn": target.key_arn,
        "taken_at": utc_now(),
        "policy_text": live.text,
        "policy": live.document,
        "policy_sha256": live.sha256,
        "grants": grants,
        "describe_key": dict(meta),
    }
    try:
        ref = run.recorder.store.put_backup(
            run.recorder.run_id, target.account, target.region, target.key_id, payload
        )
    except BackupError as exc:
        raise KeyFailedError(f"backup failed, so the key was not touched: {exc}") from exc
    planned = _planned_revokes(target, change, grants)
    run.recorder.update(
        target.key_arn, status=BACKED_UP, backup=ref.to_dict(), revoke_planned=planned
    )


def _planned_revokes(
    target: KeyTarget, change: Mapping[str, Any], grants: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The full ListGrants entries of the grants to revoke (kept for re-creation). A planned
    grant already gone needs no revoking and is only logged."""
    wanted = [g["GrantId"] for g in change.get("revoke_grants", [])]
    by_id = {g["GrantId"]: g for g in grants}
    for grant_id in wanted:
        if grant_id not in by_id:
            log.info("apply.grant_absent", key_arn=target.key_arn, grant_id=grant_id)
    return [by_id[g] for g in wanted if g in by_id]


def _revoke_grants(run: _Run, target: KeyTarget) -> None:
    entry = run.recorder.entry(target.key_arn)
    for grant in entry["revoke_planned"]:
        run.ops.revoke_grant(target, grant["GrantId"])
        run.mark_changed(target)
        revoked = [*entry["revoked_grant_ids"], grant["GrantId"]]
        run.recorder.update(target.key_arn, revoked_grant_ids=revoked)


def _verify(run: _Run, target: KeyTarget, change: Mapping[str, Any]) -> KeyOutcome:
    live = run.ops.read_policy(target)
    wanted = change["after"]["policy_sha256"]
    if live.sha256 != wanted:
        return _finish(
            run,
            target,
            FAILED,
            (
                f"after PutKeyPolicy the key reads back with SHA-256 {live.sha256}, "
                f"not the plan's after ({wanted})"
            ),
        )
    revoked = set(run.recorder.entry(target.key_arn)["revoked_grant_ids"])
    left = sorted(revoked & {g["GrantId"] for g in run.ops.list_grants(target)})
    if left:
        return _finish(run, target, FAILED, f"revoked grants are still listed: {left}")
    return _finish(run, target, APPLIED, None)


def _finish(run: _Run, target: KeyTarget, status: str, reason: str | None) -> KeyOutcome:
    run.recorder.update(target.key_arn, status=status, reason=reason)
    event = log.info if status == APPLIED else log.warning
    event(
        "apply.key",
        run_id=run.recorder.run_id,
        key_arn=target.key_arn,
        status=status,
        reason=reason,
    )
    return _outcome(target, status, reason)


def _outcome(target: KeyTarget, status: str, reason: str | None) -> KeyOutcome:
    return KeyOutcome(target.key_arn, target.account, target.region, status, reason)
