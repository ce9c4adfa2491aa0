"""Terminal output shows text from policies, plans and runs exactly as written.

Sids, principals, ARNs, grant ids and reasons come from the user's files and AWS; rich would
read ``[...]`` in them as markup (crashing on ``[/]``) and ``:name:`` as an emoji code.
"""

from __future__ import annotations

import io
from typing import Any

from remediator.commands.writes import _table
from remediator.report.findings import render_findings_table
from remediator.report.plan_view import render_plan_terminal
from remediator.types import Finding

HOSTILE = "[/]x[b]:smile:"  # markup that crashes, markup that hides, an emoji code


def _flat(out: io.StringIO) -> str:
    return " ".join(out.getvalue().split())


def test_findings_table_shows_rule_principals_and_message_as_written() -> None:
    finding = Finding(rule=f"R{HOSTILE}", severity="high", statement=0, sid=HOSTILE,
                      principals=(f"p{HOSTILE}",), actions=("kms:Decrypt",),
                      message=f"m{HOSTILE}")
    out = io.StringIO()
    render_findings_table([finding], out, title=f"t{HOSTILE}")
    text = out.getvalue()
    for value in (f"t{HOSTILE}", f"R{HOSTILE}", f"p{HOSTILE}", f"m{HOSTILE}"):
        assert value in text


def _plan() -> dict[str, Any]:
    policy = {"Statement": [{"Sid": HOSTILE}]}
    return {
        "plan_id": f"id{HOSTILE}", "created_at": "2025-01-01T00:00:00Z", "digest": "0" * 64,
        "changes": [{
            "key_arn": f"arn{HOSTILE}",
            "findings": [{"severity": "high", "rule": "KMS-PUBLIC", "message": f"m{HOSTILE}"}],
            "playbooks": [f"book{HOSTILE}"], "auto_fix": False, "proof": {"checks": []},
            "before": {"policy": policy}, "after": {"policy": {"Statement": []}},
            "revoke_grants": [{"GrantId": f"g{HOSTILE}", "GranteePrincipal": f"gp{HOSTILE}",
                               "Operations": ["Decrypt"]}],
        }],
        "needs_a_person": [{"key_arn": "k", "finding": {"rule": "R"}, "reason": f"r{HOSTILE}"}],
    }


def test_plan_view_shows_plan_text_as_written() -> None:
    out = io.StringIO()
    render_plan_terminal(_plan(), out)
    text = _flat(out)
    for value in (f"id{HOSTILE}", f"arn{HOSTILE}", f"m{HOSTILE}", f"book{HOSTILE}",
                  f"g{HOSTILE}", f"gp{HOSTILE}", f"r{HOSTILE}", f'"Sid": "{HOSTILE}"'):
        assert value in text, value


def test_run_tables_show_keys_and_reasons_as_written() -> None:
    out = io.StringIO()
    _table(f"Rollback of {HOSTILE}", ["Key", "Reason"], [(f"k{HOSTILE}", f"r{HOSTILE}")], out)
    text = _flat(out)
    for value in (f"Rollback of {HOSTILE}", f"k{HOSTILE}", f"r{HOSTILE}"):
        assert value in text, value
