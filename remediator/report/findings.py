"""A findings table for people, readable at 100 columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from rich.console import Console
from rich.table import Table

from remediator.types import Finding

SEVERITY_STYLE = {
    "critical": "bold red",
    "high": "red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}


def _short(items: Sequence[str], limit: int = 3) -> str:
    if len(items) <= limit:
        return "\n".join(items)
    return "\n".join([*items[:limit], f"(+{len(items) - limit} more)"])


def render_findings_table(findings: Sequence[Finding], out: TextIO, title: str) -> None:
    console = Console(file=out, width=100 if not out.isatty() else None, soft_wrap=False)
    if not findings:
        console.print(f"{title}: no findings.")
        return
    table = Table(
        title=f"{title}: {len(findings)} finding(s)", show_lines=True, title_justify="left"
    )
    table.add_column("Severity", no_wrap=True)
    table.add_column("Rule", no_wrap=True)
    table.add_column("Stmt", justify="right", no_wrap=True)
    table.add_column("Principals", max_width=28, overflow="fold")
    table.add_column("Finding", ratio=1)
    for f in findings:
        stmt = "-" if f.statement is None else str(f.statement)
        if f.sid:
            stmt += f"\n{f.sid[:12]}"
        table.add_row(
            f"[{SEVERITY_STYLE.get(f.severity, '')}]{f.severity}[/]",
            f.rule,
            stmt,
            _short(f.principals),
            f.message,
        )
    console.print(table)
