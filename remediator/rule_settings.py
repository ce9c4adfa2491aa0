"""The config's rule settings applied to findings: disabled rules, severity overrides, and
suppressions (each with a reason and an expiry date)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from remediator.config import Rules
from remediator.policy.principals import glob_match
from remediator.types import Finding


def _suppressed(f: Finding, rules: Rules, key_arn: str, account: str, today: date) -> bool:
    for s in rules.suppressions:
        if s.rule != f.rule or not s.is_active(today):
            continue
        if s.key_arn is not None and not glob_match(s.key_arn, key_arn):
            continue
        if s.account is not None and not glob_match(s.account, account):
            continue
        return True
    return False


def apply_rule_settings(findings: Sequence[Finding], rules: Rules, key_arn: str, account: str,
                        today: date | None = None) -> list[Finding]:
    today = today or date.today()
    disabled = set(rules.disable)
    out = []
    for f in findings:
        if f.rule in disabled or _suppressed(f, rules, key_arn, account, today):
            continue
        sev = rules.severity.get(f.rule)
        out.append(f._replace(severity=sev) if sev and sev != f.severity else f)
    return out


def filtered(detect: Callable[[], list[Finding]], rules: Rules, key_arn: str,
             account: str) -> list[Finding]:
    return apply_rule_settings(detect(), rules, key_arn, account)
