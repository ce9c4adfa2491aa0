"""Key-policy detectors: pure functions ``(PolicyAnalysis, Context) -> list[Finding]``.

The registry below is the one place that says which rule ids exist and who checks them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from remediator.detectors.analysis import PolicyAnalysis, analyse
from remediator.detectors.exposure import (
    detect_cross_account,
    detect_public,
    detect_unscoped_service,
)
from remediator.detectors.lockout import detect_missing_root
from remediator.detectors.privileges import (
    DESTRUCTIVE_RULES,
    detect_destructive,
    detect_separation_of_duties,
    detect_wildcard_action,
)
from remediator.detectors.rules import RULES, SEVERITY_ORDER
from remediator.detectors.via_service import detect_via_service
from remediator.types import Context, Finding

KeyPolicyDetector = Callable[[PolicyAnalysis, Context], list[Finding]]

# detector -> the rule ids it can report
KEY_POLICY_DETECTORS: dict[KeyPolicyDetector, tuple[str, ...]] = {
    detect_public: ("KMS-PUBLIC",),
    detect_cross_account: ("KMS-CROSS-ACCOUNT",),
    detect_unscoped_service: ("KMS-SERVICE-UNSCOPED",),
    detect_wildcard_action: ("KMS-WILDCARD-ACTION",),
    detect_missing_root: ("IAM-KMS-1",),
    detect_destructive: tuple(DESTRUCTIVE_RULES),
    detect_via_service: ("IAM-KMS-6",),
    detect_separation_of_duties: ("IAM-KMS-8",),
}


def sort_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(
        findings,
        key=lambda f: (SEVERITY_ORDER[f.severity], f.rule,
                       -1 if f.statement is None else f.statement),
    )


def run_key_policy_detectors(analysis: PolicyAnalysis, ctx: Context) -> list[Finding]:
    findings: list[Finding] = []
    for detector in KEY_POLICY_DETECTORS:
        findings.extend(detector(analysis, ctx))
    return sort_findings(findings)


def analyze_key_policy(document: Any, context: Context) -> list[Finding]:
    """Every key-policy finding for one policy document (raises PolicyError when invalid)."""
    return run_key_policy_detectors(analyse(document), context)


__all__ = [
    "KEY_POLICY_DETECTORS",
    "RULES",
    "PolicyAnalysis",
    "analyse",
    "analyze_key_policy",
    "run_key_policy_detectors",
    "sort_findings",
]
