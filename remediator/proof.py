"""A proof: the four named checks a key-policy change passed or failed (``verify``), as the
plan file carries them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FINDINGS_CLOSED = "findings-closed"
INSIDER_ACCESS_KEPT = "insider-access-kept"
NO_OUTSIDER_ACCESS = "no-outsider-access"
NOT_LOCKED_OUT = "not-locked-out"
CHECK_NAMES = (FINDINGS_CLOSED, INSIDER_ACCESS_KEPT, NO_OUTSIDER_ACCESS, NOT_LOCKED_OUT)


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    passed: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """The check as the plan file carries it."""
        return {"name": self.name, "passed": self.passed, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Proof:
    """The four checks, in order, and how many requests each policy was evaluated on."""

    checks: tuple[Check, ...]
    requests: int

    @property
    def ok(self) -> bool:
        """Every check passed: the patch may be proposed."""
        return all(c.passed for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able: the verdict, the number of requests evaluated and each check."""
        return {
            "ok": self.ok,
            "requests_evaluated": self.requests,
            "checks": [c.to_dict() for c in self.checks],
        }
