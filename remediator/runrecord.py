"""The run record (``PREFIX/RUN_ID/run.json``): what a run did, saved after every step.

DESIGN.md safety rule 6: the record is written to the versioned backup bucket as the run goes,
so a run killed at any point (SIGKILL included) leaves a record that rollback can use. It is
saved before a key is touched (with the key's verified backup), after each write to the key,
and when the run ends. Every earlier version stays in the bucket.

Shape (version 1)::

    {"version": 1, "run_id", "started_at", "updated_at", "plan_digest", "plan_id",
     "state": "running" | "finished",
     "keys": [{"key_arn", "account", "region", "key_id", "status", "reason",
               "before_sha256", "after_sha256", "backup": BackupRef | null,
               "policy_put": bool, "revoke_planned": [ListGrants entries],
               "revoked_grant_ids": [...], "rollback": {...} | null}],
     "rollback": {"state": "none" | "partial" | "complete", "updated_at"}}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from remediator.aws.backup import BackupRef, BackupStore
from remediator.errors import BackupError, RefusedError, RunRecordError, UnknownRunError
from remediator.snapshot import utc_now

log = structlog.get_logger(__name__)

RUN_RECORD_VERSION = 1

# The apply status of a key, in the order a key goes through them.
PENDING = "pending"
BACKED_UP = "backed-up"
POLICY_PUT = "policy-put"
APPLIED = "applied"
# Final statuses of a key that was not changed (or not completely).
SKIPPED_STALE = "skipped-stale"
REFUSED_NOT_SANDBOX = "refused-not-sandbox"
REFUSED_MANUAL = "refused-manual"
REFUSED_LOCKOUT = "refused-lockout"
REFUSED_UNPROVEN = "refused-unproven"
REFUSED_UNKNOWN_PLAYBOOK = "refused-unknown-playbook"
FAILED = "failed"
REFUSALS = frozenset({REFUSED_NOT_SANDBOX, REFUSED_MANUAL, REFUSED_LOCKOUT, REFUSED_UNPROVEN,
                      REFUSED_UNKNOWN_PLAYBOOK})


def new_key_entry(
    key_arn: str, account: str, region: str, key_id: str, change: Mapping[str, Any]
) -> dict[str, Any]:
    """A key's entry before anything happened to it."""
    return {
        "key_arn": key_arn,
        "account": account,
        "region": region,
        "key_id": key_id,
        "status": PENDING,
        "reason": None,
        "before_sha256": change.get("before", {}).get("policy_sha256"),
        "after_sha256": change.get("after", {}).get("policy_sha256"),
        "backup": None,
        "policy_put": False,
        "revoke_planned": [],
        "revoked_grant_ids": [],
        "rollback": None,
    }


def backup_ref(entry: Mapping[str, Any]) -> BackupRef | None:
    """The verified backup of a key entry, or None when the key was never backed up."""
    ref = entry.get("backup")
    if not isinstance(ref, Mapping):
        return None
    return BackupRef(ref["bucket"], ref["key"], ref["version_id"], ref["sha256"])


def touched(entry: Mapping[str, Any]) -> bool:
    """Whether the run may have changed the key: its backup was written, and apply did not
    then skip it as stale (a key whose policy moved while its backup was written is left
    before any write; rollback leaves it too)."""
    return backup_ref(entry) is not None and entry.get("status") != SKIPPED_STALE


class RunRecorder:
    """One run's record, held in memory and saved to the store after every change."""

    def __init__(self, store: BackupStore, record: dict[str, Any]) -> None:
        self.store = store
        self.record = record

    @property
    def run_id(self) -> str:
        """The id of the run this record belongs to."""
        return str(self.record["run_id"])

    @classmethod
    def start(
        cls,
        store: BackupStore,
        run_id: str,
        plan: Mapping[str, Any],
        keys: list[dict[str, Any]],
    ) -> RunRecorder:
        """Write the first record of a run: the plan it applies and every key, pending."""
        now = utc_now()
        record: dict[str, Any] = {
            "version": RUN_RECORD_VERSION,
            "run_id": run_id,
            "started_at": now,
            "updated_at": now,
            "plan_digest": plan.get("digest"),
            "plan_id": plan.get("plan_id"),
            "state": "running",
            "keys": keys,
            "rollback": {"state": "none", "updated_at": None},
        }
        recorder = cls(store, record)
        recorder.save()
        return recorder

    @classmethod
    def load(cls, store: BackupStore, run_id: str) -> RunRecorder:
        """The latest record of ``run_id``; UnknownRunError when the store has no such run."""
        if run_id not in store.list_runs():
            raise UnknownRunError(
                f"There is no run {run_id} in s3://{store.bucket}/{store.prefix}/; "
                "'remediator runs' lists the runs."
            )
        record = store.get_run_record(run_id)
        if record.get("version") != RUN_RECORD_VERSION or not isinstance(record.get("keys"), list):
            raise BackupError(f"The record of run {run_id} is not a version 1 run record.")
        return cls(store, record)

    def entry(self, key_arn: str) -> dict[str, Any]:
        """The live (mutable) entry of one key."""
        for entry in self.record["keys"]:
            if entry["key_arn"] == key_arn:
                found: dict[str, Any] = entry
                return found
        raise UnknownRunError(f"Run {self.run_id} has no key {key_arn}.")

    def update(self, key_arn: str, **fields: Any) -> None:
        """Change fields of one key's entry and save the record."""
        self.entry(key_arn).update(fields)
        self.save()

    def set(self, **fields: Any) -> None:
        """Change top-level fields and save the record."""
        self.record.update(fields)
        self.save()

    def save(self) -> None:
        """Write the record (RunRecordError when it cannot be written and read back)."""
        self.record["updated_at"] = utc_now()
        try:
            self.store.put_run_record(self.run_id, self.record)
        except BackupError as exc:
            raise RunRecordError(str(exc)) from exc


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One line of ``remediator runs``."""

    run_id: str
    started_at: str | None
    plan_digest: str | None
    state: str
    keys_touched: tuple[str, ...]
    backups: tuple[str, ...]
    rollback_state: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``--format json`` and reports)."""
        return {
            "run_id": self.run_id,
            "started_at": self.started_at,
            "plan_digest": self.plan_digest,
            "state": self.state,
            "keys_touched": list(self.keys_touched),
            "backups": list(self.backups),
            "rollback_state": self.rollback_state,
        }


def summarize(record: Mapping[str, Any]) -> RunSummary:
    """A run's summary; a key is touched when it may have changed (``touched``)."""
    keys = [e for e in record.get("keys", []) if touched(e)]
    refs = [backup_ref(e) for e in keys]
    return RunSummary(
        run_id=str(record.get("run_id")),
        started_at=record.get("started_at"),
        plan_digest=record.get("plan_digest"),
        state=str(record.get("state", "unknown")),
        keys_touched=tuple(e["key_arn"] for e in keys),
        backups=tuple(f"s3://{r.bucket}/{r.key}?versionId={r.version_id}" for r in refs if r),
        rollback_state=str((record.get("rollback") or {}).get("state", "none")),
    )


def list_runs(store: BackupStore) -> list[RunSummary]:
    """Every run in the store, oldest first. A run whose record cannot be read is listed with
    the reason as its state instead of hiding it."""
    summaries = []
    for run_id in store.list_runs():
        try:
            summaries.append(summarize(store.get_run_record(run_id)))
        except BackupError as exc:
            log.warning("runs.unreadable", run_id=run_id, reason=str(exc))
            summaries.append(RunSummary(run_id, None, None, f"unreadable: {exc}", (), (), "none"))
    return summaries


def record_failure_message(run_id: str, error: str, command: str,
                           changed: tuple[str, ...] | list[str], then: str) -> str:
    """The sentence for stderr when ``command`` (apply, rollback) stopped because the run
    record could not be saved: the error, the keys changed, and ``then``, what to do."""
    return (
        f"The record of run {run_id} could not be saved ({error.rstrip('.')}), so {command} "
        f"stopped and changed no other key; keys changed: {', '.join(changed) or 'none'}; "
        f"{then}"
    )


# A run whose record says "running" and was written this recently may still be applying: its
# apply writes the record after every step (seconds apart, a minute with retries), and the two
# processes' records would overwrite each other (found by review). A run killed mid-apply stays
# "running"; after this long, or with apply_ended, it is rolled back.
LIVE_RUN_SECONDS = 600


def refuse_a_live_run(record: Mapping[str, Any], run_id: str) -> None:
    """RefusedError when ``record`` may belong to an apply still running."""
    if record.get("state") != "running":
        return
    try:
        written = datetime.fromisoformat(str(record.get("updated_at")).replace("Z", "+00:00"))
    except ValueError:
        return  # no time to judge by: a record this tool did not write
    age = (datetime.now(UTC) - written).total_seconds()
    if 0 <= age < LIVE_RUN_SECONDS:
        raise RefusedError(
            f"Run {run_id} is still marked running and its record was written {age:.0f} s ago, "
            "so its apply may still be changing keys; wait until it ends, or pass "
            "--apply-ended if that apply was stopped or killed."
        )
