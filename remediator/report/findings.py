"""A findings table for people, readable at 100 columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from remediator.report.printable import printable
from remediator.types import Finding

SEVERITY_STYLE = {
    "critical": "bold red",
    "high": "red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}


def _short(items: Sequence[str], limit: int = 3) -> str:
    """One principal a line (escaped, so that a line is one principal)."""
    shown = [printable(item) for item in items[:limit]]
    if len(items) <= limit:
        return "\n".join(shown)
    return "\n".join([*shown, f"(+{len(items) - limit} more)"])


def render_findings_table(findings: Sequence[Finding], out: TextIO, title: str) -> None:
    console = Console(file=out, width=100 if not out.isatty() else None, soft_wrap=False)
    if not findings:
        console.print(Text(printable(f"{title}: no findings.")))
        return
    console.print(Text(printable(f"{title}: {len(findings)} finding(s)")))
    table = Table(box=box.SIMPLE_HEAD, show_lines=False, pad_edge=False, expand=True,
                  collapse_padding=True)
    table.add_column("Severity", no_wrap=True)
    table.add_column("Rule", no_wrap=True)
    table.add_column("Stmt", justify="right", no_wrap=True)
    table.add_column("Principals", max_width=22, overflow="fold")
    table.add_column("Finding", ratio=1, min_width=40)
    for i, f in enumerate(findings):
        if i:
            table.add_section()
        table.add_row(  # Text, never markup, and printable: sids, principals and messages are
            # the user's
            Text(f.severity, style=SEVERITY_STYLE.get(f.severity, "")),
            Text(f.rule),
            Text("-" if f.statement is None else str(f.statement)),
            Text(_short(f.principals)),
            Text(printable(f.message)),
        )
    console.print(table)
