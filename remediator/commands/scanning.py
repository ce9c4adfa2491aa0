"""`remediator scan`: inventory (live, or a saved snapshot) → findings in the chosen format."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from remediator.assess import Assessment, assess
from remediator.aws.inventory import limiter_from_config, options_from_config, scan
from remediator.aws.membership import read_membership
from remediator.aws.progress import ProgressCallback, ScanProgress
from remediator.aws.session import base_session, factory_from_config, settings_from_config
from remediator.commands.planning import playbooks_for
from remediator.config import Config
from remediator.gc_tuning import tune_for_batch
from remediator.outfile import check_writable
from remediator.report import formats
from remediator.report.findings import render_findings_table
from remediator.report.printable import printable
from remediator.snapshot import Snapshot, dump_snapshot, load_snapshot


@contextmanager
def progress_bar(enabled: bool) -> Iterator[ProgressCallback | None]:
    """A rich progress bar on a terminal (stderr); nothing otherwise."""
    if not enabled:
        yield None
        return
    with Progress(TextColumn("scanning keys"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=Console(file=sys.stderr), transient=True) as bar:
        task = bar.add_task("keys", total=None)

        def update(p: ScanProgress) -> None:
            bar.update(task, total=p.keys_total or None, completed=p.keys_done)

        yield update


def live_snapshot(config: Config, profile: str | None = None,
                  region: str | None = None) -> Snapshot:
    """Read every configured account and Region (assuming the configured roles), and the
    trusted organisation's members when ``trust.org_id`` names one."""
    settings = settings_from_config(config, profile, region)
    limiter = limiter_from_config(config)
    factory = factory_from_config(config, base_session(settings), settings, limiter)
    with progress_bar(sys.stderr.isatty()) as on_progress:
        snap = scan(sorted(factory.roles), factory, limiter, options_from_config(config),
                    on_progress)
    if config.trust.org_id is None:
        return snap
    return dataclasses.replace(
        snap, organization=read_membership(factory, limiter, config.trust.org_id))


def get_snapshot(config: Config, snapshot_path: str | None, snapshot_out: str | None,
                 profile: str | None = None, region: str | None = None) -> Snapshot:
    snap = load_snapshot(snapshot_path) if snapshot_path else live_snapshot(config, profile,
                                                                             region)
    if snapshot_out:
        dump_snapshot(snap, snapshot_out)
    tune_for_batch()
    return snap


def render_assessment(a: Assessment, fmt: str, out: TextIO) -> None:
    if fmt == "table":
        flat = [item.finding._replace(message=f"{item.resource}: {item.finding.message}")
                for item in a.findings]
        render_findings_table(flat, out, title="KMS key exposure scan")
        for arn, why in a.unknown:
            out.write(printable(f"unknown: {arn}: {why}") + "\n")
        for arn, why in a.skipped:
            out.write(printable(f"skipped: {arn}: {why}") + "\n")
        return
    render = {"json": formats.to_json, "markdown": formats.to_markdown,
              "sarif": formats.to_sarif, "asff": formats.to_asff}[fmt]
    out.write(render(a) + "\n")


def run_scan(config: Config, fmt: str, snapshot_path: str | None, snapshot_out: str | None,
             profile: str | None = None, region: str | None = None,
             out: TextIO | None = None) -> Assessment:
    playbooks_for(config)  # rule ids in the config must exist, before any AWS call
    if snapshot_out:
        check_writable(snapshot_out, "--snapshot-out")
    snap = get_snapshot(config, snapshot_path, snapshot_out, profile, region)
    result = assess(snap, config)
    render_assessment(result, fmt, out or sys.stdout)
    return result
