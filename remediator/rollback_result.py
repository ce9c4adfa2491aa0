"""What rollback did to each key of a run: its statuses, per-key outcomes, the result, the
reasons it leaves a key, and the run's rollback state.

Pure data and text, shared by ``rollback`` (which makes them) and the CLI (which prints
them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from remediator.runrecord import record_failure_message, touched

RESTORED = "restored"
ALREADY_ORIGINAL = "already-original"
WOULD_RESTORE = "would-restore"
LEFT_DIVERGED = "left-diverged"
LEFT_PENDING_DELETION = "left-pending-deletion"
REFUSED_MISSING = "refused-missing-principals"
REFUSED_INCONSISTENT = "refused-inconsistent-record"
FAILED = "failed"
DONE = frozenset({RESTORED, ALREADY_ORIGINAL})


@dataclass(frozen=True, slots=True)
class KeyRollback:
    """What rollback did (or, in a dry run, would do) to one key."""

    key_arn: str
    account: str
    region: str
    status: str
    reason: str | None = None
    policy_restored: bool = False
    recreated_grants: dict[str, str] = field(default_factory=dict)  # old id -> new id
    missing_principals: tuple[str, ...] = ()
    dropped_principals: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``--format json`` and reports)."""
        return {
            "key_arn": self.key_arn,
            "account": self.account,
            "region": self.region,
            "status": self.status,
            "reason": self.reason,
            "policy_restored": self.policy_restored,
            "recreated_grants": dict(self.recreated_grants),
            "missing_principals": list(self.missing_principals),
            "dropped_principals": list(self.dropped_principals),
        }


@dataclass(frozen=True, slots=True)
class RollbackResult:
    """The run, whether this was a dry run, each key's outcome and the run's rollback state."""

    run_id: str
    dry_run: bool
    keys: tuple[KeyRollback, ...]
    state: str
    # Set when the run record could not be saved: rollback stopped there, and ``keys`` ends
    # with the key it was at.
    record_error: str | None = None
    changed: tuple[str, ...] = ()  # keys PutKeyPolicy or CreateGrant changed, in order

    @property
    def exit_code(self) -> int:
        """0 when every key is restored (or would be), 3 when some key was not or the run
        record could not be saved."""
        ok = DONE | {WOULD_RESTORE}
        done = self.record_error is None and all(k.status in ok for k in self.keys)
        return 0 if done else 3

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``--format json`` and reports)."""
        return {
            "run_id": self.run_id,
            "dry_run": self.dry_run,
            "state": self.state,
            "keys": [k.to_dict() for k in self.keys],
            "record_error": self.record_error,
            "changed": list(self.changed),
        }

    def record_message(self) -> str | None:
        """The sentence for stderr when rollback stopped because the run record could not be
        saved, naming the keys it changed; None otherwise."""
        if self.record_error is None:
            return None
        return record_failure_message(
            self.run_id, self.record_error, "rollback", self.changed,
            f"run 'remediator rollback {self.run_id}' again once the bucket can be written "
            "(restored keys are recognised by their live policy, re-created grants by their "
            "grantee, operations, constraints and name).")


def pending_reason(state: str) -> str:
    """Why a key scheduled for deletion is left."""
    return (
        f"the key is {state}: restoring would put the original policy back on a key being "
        "deleted, and its revoked grants cannot be re-created in that state; cancel the "
        "deletion and roll back again, or use --force to restore the policy anyway"
    )


def missing_reason(missing: Sequence[str]) -> str:
    """Why a key whose backup names deleted principals is left."""
    return (
        f"the backup names principals that no longer exist: {', '.join(missing)}; "
        "use --drop-missing-principals to restore without them"
    )


def rollback_state(record: Mapping[str, Any]) -> str:
    """A run's rollback state: complete, every touched key restored; partial, some; none, no
    key yet."""
    keys = [e for e in record["keys"] if touched(e)]
    done = [e for e in keys if (e.get("rollback") or {}).get("status") in DONE]
    if keys and len(done) == len(keys):
        return "complete"
    return "partial" if done else "none"
