"""Key-policy detectors: pure functions ``(PolicyAnalysis, Context) -> list[Finding]``.

The registry below is the one place that says which rule ids exist and who checks them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from remediator.detectors.analysis import PolicyAnalysis, analyse, single_statement
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
from remediator.policy.access import compile_statement
from remediator.policy.document import Statement
from remediator.types import Context, Finding

KeyPolicyDetector = Callable[[PolicyAnalysis, Context], list[Finding]]

# Detectors that look at one Allow statement at a time -> the rule ids they can report.
STATEMENT_DETECTORS: dict[KeyPolicyDetector, tuple[str, ...]] = {
    detect_public: ("KMS-PUBLIC",),
    detect_cross_account: ("KMS-CROSS-ACCOUNT",),
    detect_unscoped_service: ("KMS-SERVICE-UNSCOPED",),
    detect_wildcard_action: ("KMS-WILDCARD-ACTION",),
    detect_destructive: tuple(DESTRUCTIVE_RULES),
    detect_via_service: ("IAM-KMS-6",),
}
# Detectors that need the whole policy.
POLICY_DETECTORS: dict[KeyPolicyDetector, tuple[str, ...]] = {
    detect_missing_root: ("IAM-KMS-1",),
    detect_separation_of_duties: ("IAM-KMS-8",),
}
KEY_POLICY_DETECTORS = STATEMENT_DETECTORS | POLICY_DETECTORS


def sort_findings(findings: list[Finding]) -> list[Finding]:
    return sorted(
        findings,
        key=lambda f: (SEVERITY_ORDER[f.severity], f.rule,
                       -1 if f.statement is None else f.statement),
    )


@lru_cache(maxsize=65_536)
def _statement_findings(stmt: Statement, ctx: Context) -> tuple[Finding, ...]:
    """Statement-level findings of a statement no Deny touched: shared by every policy that
    holds the same statement (statements are shared objects, see policy.document)."""
    one = single_statement(stmt, compile_statement(stmt).accesses)
    return tuple(f for d in STATEMENT_DETECTORS for f in d(one, ctx))


def run_key_policy_detectors(analysis: PolicyAnalysis, ctx: Context) -> list[Finding]:
    findings: list[Finding] = []
    for stmt, accs in analysis.groups:
        if stmt.index in analysis.pristine:
            findings.extend(_statement_findings(stmt, ctx))
        else:
            one = single_statement(stmt, accs)
            for detector in STATEMENT_DETECTORS:
                findings.extend(detector(one, ctx))
    for detector in POLICY_DETECTORS:
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
