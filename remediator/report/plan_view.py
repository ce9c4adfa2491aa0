"""Render a plan for review: a terminal view with a coloured diff, and Markdown for tickets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from remediator.diffs import unified_diff
from remediator.report.findings import SEVERITY_STYLE
from remediator.report.printable import printable

Plan = Mapping[str, Any]


def _verdict(change: Mapping[str, Any]) -> str:
    checks = change.get("proof", {}).get("checks", [])
    if not checks:
        return "no policy change" if change["before"]["policy"] == change["after"]["policy"] \
            else "not proven"
    failed = [c["name"] for c in checks if not c["passed"]]
    return "proven: " + ", ".join(c["name"] for c in checks) if not failed else (
        "FAILED: " + ", ".join(failed))


def _summary_line(plan: Plan) -> str:
    changes, people = plan["changes"], plan["needs_a_person"]
    auto = sum(1 for c in changes if c["auto_fix"])
    return (f"Plan {plan['plan_id']} ({plan['created_at']}): {len(changes)} key(s) to change "
            f"({auto} auto-fix), {len(people)} item(s) need a person. Digest {plan['digest']}")


def _members_line(plan: Plan) -> str:
    """The organisation members the plan was proven with, which apply's lockout check uses
    again: a stale or missing list is for the reviewer to see."""
    org = plan.get("organization")
    if not isinstance(org, Mapping):
        return "organisation members: not read at scan time"
    accounts = org.get("accounts") or []
    return (f"organisation members: {len(accounts)} account(s) of {org.get('id')}, "
            "as Organizations listed them at scan time")


def _resource(item: Mapping[str, Any]) -> Any:
    """The key or IAM policy an item is about (plans made before items had ``resource`` name
    only ``key_arn``)."""
    return item.get("resource") or item.get("key_arn") or "-"


def _grant_words(entry: Any, code: str = "") -> str:
    """``ID to GRANTEE (OPERATIONS)`` of a grant to revoke, each name between ``code`` marks.
    The planner writes the grant's ListGrants entry, whose grantee and operations the API
    marks optional (left out when absent); apply also reads a bare grant id (``plan_shape``)."""
    if isinstance(entry, str):
        return f"{code}{entry}{code}"
    words = f"{code}{entry.get('GrantId')}{code}"
    grantee = entry.get("GranteePrincipal") or entry.get("GranteeServicePrincipal")
    if grantee:
        words += f" to {code}{grantee}{code}"
    source = (entry.get("Constraints") or {}).get("SourceArn")
    if source:
        words += f" for {code}{source}{code}"
    if entry.get("Operations"):
        words += f" ({', '.join(entry['Operations'])})"
    return words


def _diff_lines(change: Mapping[str, Any]) -> list[str]:
    return unified_diff(change["before"]["policy"], change["after"]["policy"])


def _text(value: object, style: str = "") -> Text:
    """rich Text, never markup, and printable: the plan file is the user's."""
    return Text(printable(str(value)), style=style)


def render_plan_terminal(plan: Plan, out: TextIO) -> None:
    """Every value from the plan is printable rich Text (``_text``)."""
    console = Console(file=out, width=None if out.isatty() else 100, highlight=False)
    console.print(_text(_summary_line(plan)))
    console.print(_text(_members_line(plan)))
    for change in plan["changes"]:
        console.rule(_text(change["key_arn"]))
        for f in change["findings"]:
            sev = f["severity"]
            console.print(Text.assemble("  ", _text(f"{sev:8}", SEVERITY_STYLE.get(sev, "")),
                                        _text(f" {f['rule']:20} {f['message']}")))
        console.print(_text(f"  playbooks: {', '.join(change['playbooks'])}   "
                            f"auto-fix: {'yes' if change['auto_fix'] else 'no'}   "
                            f"proof: {_verdict(change)}"))
        for g in change["revoke_grants"]:
            console.print(Text.assemble("  ", ("revoke grant", "red"),
                                        _text(f" {_grant_words(g)}")))
        for line in _diff_lines(change):
            style = ("green" if line.startswith("+") else "red" if line.startswith("-")
                     else "cyan" if line.startswith("@@") else "")
            console.print(_text(line, style))
    if plan["needs_a_person"]:
        _people_table(plan, console)


def _people_table(plan: Plan, console: Console) -> None:
    table = Table(title="Needs a person", title_justify="left", show_lines=True)
    table.add_column("Resource", overflow="fold", max_width=34)
    table.add_column("Rule", no_wrap=True)
    table.add_column("Why", ratio=1)
    for item in plan["needs_a_person"]:
        rule = item["finding"]["rule"] if item.get("finding") else "-"
        table.add_row(_text(_resource(item)), _text(rule), _text(item["reason"]))
    console.print(table)


def render_plan_markdown(plan: Plan) -> str:
    """Markdown fit for a change ticket or a pull request."""
    lines = [f"# KMS remediation plan `{plan['plan_id']}`", "",
             f"- created: {plan['created_at']} by kms-remediator {plan['tool_version']}",
             f"- digest: `{plan['digest']}` (approve with `remediator apply PLAN --approve "
             f"{plan['digest']}`)",
             f"- keys to change: {len(plan['changes'])}; items that need a person: "
             f"{len(plan['needs_a_person'])}",
             f"- {_members_line(plan)}", ""]
    for change in plan["changes"]:
        lines += [f"## `{change['key_arn']}`", "",
                  f"Playbooks: {', '.join(change['playbooks'])} · auto-fix: "
                  f"{'yes' if change['auto_fix'] else 'no'} · proof: {_verdict(change)}", "",
                  "| Severity | Rule | Statement | Finding |", "|---|---|---|---|"]
        for f in change["findings"]:
            stmt = "-" if f["statement"] is None else str(f["statement"])
            lines.append(f"| {f['severity']} | {f['rule']} | {stmt} | "
                         f"{f['message'].replace('|', '/')} |")
        lines += [""]
        for g in change["revoke_grants"]:
            lines.append(f"- revoke grant {_grant_words(g, '`')}")
        diff = _diff_lines(change)
        lines += (["", "```diff", *diff, "```", ""] if diff else [""])
    if plan["needs_a_person"]:
        lines += ["## Needs a person", "", "| Resource | Rule | Why |", "|---|---|---|"]
        for item in plan["needs_a_person"]:
            rule = item["finding"]["rule"] if item.get("finding") else "-"
            lines.append(f"| `{_resource(item)}` | {rule} | {item['reason'].replace('|', '/')} |")
        lines.append("")
    return "\n".join(map(printable, lines))  # a line is a line: user text cannot break one
