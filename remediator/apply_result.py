"""What apply did to each key of a plan: its statuses, per-key outcomes, the result and exit code.

Pure data, shared by ``apply`` (which makes them) and the CLI (which prints them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from remediator.runrecord import APPLIED, REFUSALS, record_failure_message

EXIT_OK, EXIT_REFUSED, EXIT_PARTIAL = 0, 2, 3
# apply's own refusals, made when it re-reads the key before changing it (apply.py says why).
REFUSED_AWS_MANAGED = "refused-aws-managed"
REFUSED_KEY_STATE = "refused-key-state"
_REFUSALS = REFUSALS | {REFUSED_AWS_MANAGED, REFUSED_KEY_STATE}


@dataclass(frozen=True, slots=True)
class KeyOutcome:
    """What happened to one key: ``applied``, ``skipped-stale``, ``refused-not-sandbox``,
    ``refused-manual``, ``refused-unknown-playbook``, ``refused-lockout``, ``refused-unproven``,
    ``refused-aws-managed``, ``refused-key-state`` or ``failed``, with the reason when not
    applied."""

    key_arn: str
    account: str
    region: str
    status: str
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``--format json`` and reports)."""
        return {
            "key_arn": self.key_arn,
            "account": self.account,
            "region": self.region,
            "status": self.status,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """The run id (for ``rollback``) and one outcome per change of the plan, in plan order."""

    run_id: str
    plan_digest: str
    outcomes: tuple[KeyOutcome, ...]
    # Set when the run record could not be saved mid-run: the run stopped there, and
    # ``outcomes`` ends with the key it was at.
    record_error: str | None = None
    changed: tuple[str, ...] = ()  # keys PutKeyPolicy or RevokeGrant changed, in order

    @property
    def exit_code(self) -> int:
        """0 every key applied; 2 no key changed because each was refused; 3 otherwise (and
        whenever the run stopped because its record could not be saved)."""
        if self.record_error is not None:
            return EXIT_PARTIAL
        statuses = {o.status for o in self.outcomes}
        if statuses <= {APPLIED}:
            return EXIT_OK
        if statuses <= _REFUSALS:
            return EXIT_REFUSED
        return EXIT_PARTIAL

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``--format json`` and reports)."""
        return {
            "run_id": self.run_id,
            "plan_digest": self.plan_digest,
            "outcomes": [o.to_dict() for o in self.outcomes],
            "record_error": self.record_error,
            "changed": list(self.changed),
        }

    def record_message(self) -> str | None:
        """The sentence for stderr when the run stopped because its record could not be
        saved, naming the keys it changed; None otherwise."""
        if self.record_error is None:
            return None
        return record_failure_message(
            self.run_id, self.record_error, "apply", self.changed,
            f"the run's last saved record holds their backups, so 'remediator rollback "
            f"{self.run_id} --apply-ended' can restore them once the bucket can be written "
            "again.")
