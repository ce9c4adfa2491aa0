"""Terminal output shows text from policies, plans and runs exactly as written, and
terminal control in it escaped.

Sids, principals, ARNs, grant ids and reasons come from the user's files and AWS; rich would
read ``[...]`` in them as markup (crashing on ``[/]``) and ``:name:`` as an emoji code, and
passes an escape sequence through to the terminal.
"""

from __future__ import annotations

import io
from typing import Any

import pytest

from remediator.assess import Assessment, Located
from remediator.cli import main
from remediator.commands.scanning import render_assessment
from remediator.commands.writes import _table
from remediator.report.findings import render_findings_table
from remediator.report.formats import to_markdown
from remediator.report.plan_view import render_plan_markdown, render_plan_terminal
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


# Terminal control: clear the screen, retitle the window, ring, return to the line start, a new
# line (a forged row), a right-to-left override, a line separator.
CONTROL = "\x1b[2J\x1b]0\x07\r\nrow\u202e\u2028"
ESCAPED = "\\x1b[2J\\x1b]0\\x07\\r\\nrow\\u202e\\u2028"
RAW = ("\x1b", "\x07", "\r", "\u202e", "\u2028")


def _shows_escaped(text: str, *values: str) -> None:
    """No control character in ``text``, and each of ``values`` (in cells wide enough not to
    be folded) shown escaped."""
    assert not any(c in text for c in RAW), "no control character reaches the terminal"
    flat = " ".join(text.split())
    for value in values:
        assert value.replace(CONTROL, ESCAPED) in flat, value


def test_findings_table_escapes_terminal_control() -> None:
    finding = Finding(rule="KMS-PUBLIC", severity="high", statement=0, sid=CONTROL,
                      principals=(f"p{CONTROL}", "q"), actions=("kms:Decrypt",),
                      message=f"m{CONTROL}")
    out = io.StringIO()
    render_findings_table([finding], out, title=f"t{CONTROL}")
    _shows_escaped(out.getvalue(), f"t{CONTROL}", f"m{CONTROL}")
    assert "\nq" in out.getvalue().replace(" ", ""), "principals are still one a line"


def _control_plan() -> dict[str, Any]:
    plan = _plan()
    change = plan["changes"][0]
    change["key_arn"] = f"arn{CONTROL}"
    change["findings"][0].update(message=f"m{CONTROL}", statement=0)
    change["revoke_grants"][0]["GranteePrincipal"] = f"gp{CONTROL}"
    plan["needs_a_person"][0]["reason"] = f"r{CONTROL}"
    plan["tool_version"] = "0"
    return plan


def test_plan_views_escape_terminal_control() -> None:
    out = io.StringIO()
    render_plan_terminal(_control_plan(), out)
    _shows_escaped(out.getvalue(), f"arn{CONTROL}", f"m{CONTROL}", f"gp{CONTROL}",
                   f"r{CONTROL}")
    markdown = render_plan_markdown(_control_plan())
    _shows_escaped(markdown, f"arn{CONTROL}", f"m{CONTROL}", f"gp{CONTROL}", f"r{CONTROL}")
    assert "\nrow" not in markdown, "a newline in a reason does not end its table row"


def test_scan_views_escape_terminal_control() -> None:
    finding = Finding(rule="KMS-PUBLIC", severity="high", statement=0, sid=None,
                      principals=("*",), actions=("kms:Decrypt",), message=f"m{CONTROL}")
    assessment = Assessment(
        findings=(Located(f"arn:aws:kms:eu-west-1:111122223333:key/k{CONTROL}",
                          "111122223333", "eu-west-1", finding),),
        unknown=((f"u{CONTROL}", f"why{CONTROL}"),), skipped=((f"s{CONTROL}", "why"),))
    out = io.StringIO()
    render_assessment(assessment, "table", out)
    _shows_escaped(out.getvalue(), f"m{CONTROL}", f"u{CONTROL}: why{CONTROL}", f"s{CONTROL}")
    markdown = to_markdown(assessment)
    _shows_escaped(markdown, f"m{CONTROL}", f"u{CONTROL}", f"why{CONTROL}", f"s{CONTROL}")


def test_run_tables_escape_terminal_control() -> None:
    out = io.StringIO()
    _table(f"Run {CONTROL}", ["Key", "Reason"], [(f"k{CONTROL}", f"r{CONTROL}")], out)
    _shows_escaped(out.getvalue(), f"Run {CONTROL}", f"k{CONTROL}", f"r{CONTROL}")


def test_error_messages_escape_terminal_control(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", f"/nonexistent/{CONTROL}.json"]) == 2
    err = capsys.readouterr().err
    _shows_escaped(err, f"{CONTROL}.json")
    assert err.count("\n") == 1


def test_printable_text_is_left_as_it_is() -> None:
    from remediator.report.printable import printable

    text = "Statement 1 (Ünïcödé – ok, 鍵) lets arn:aws:iam::111122223333:role/a b"
    assert printable(text) is text
