"""`remediator apply`, `rollback` and `runs`: the commands that write to AWS (or read runs)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from remediator.apply import ApplyResult, apply_plan
from remediator.approval import check_approval
from remediator.aws.backup import BackupStore
from remediator.aws.inventory import limiter_from_config
from remediator.aws.session import (
    ClientFactory,
    base_session,
    factory_from_config,
    settings_from_config,
)
from remediator.commands.planning import playbooks_for
from remediator.config import Config
from remediator.errors import BadInputError
from remediator.plan import load_plan
from remediator.playbooks import check_playbook_names
from remediator.report.printable import printable
from remediator.rollback import RollbackResult, rollback_run
from remediator.runrecord import RunSummary, list_runs


def _factory(config: Config, profile: str | None, region: str | None) -> ClientFactory:
    settings = settings_from_config(config, profile, region)
    return factory_from_config(config, base_session(settings), settings,
                               limiter_from_config(config))


def backup_store(config: Config, factory: ClientFactory) -> BackupStore:
    """The run-record and backup store, in the operator's own account (base credentials)."""
    if config.backup is None:
        raise BadInputError("config.yaml has no backup section: apply, rollback and runs need "
                            "a versioned S3 bucket (backup.bucket)")
    return BackupStore.from_config(factory.base_client("s3"), config.backup)


def terminal_confirm(digest: str) -> bool:
    """Ask a person at a terminal to approve a plan by its digest (no terminal: refuse)."""
    if not sys.stdin.isatty():
        return False
    answer = input(f"Apply plan {digest[:12]}…? Type the first 12 characters of its digest: ")
    return answer.strip() == digest[:12]


def _table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]],
           out: TextIO) -> None:
    console = Console(file=out, width=None if out.isatty() else 100)
    # Text and printable: keys, run ids and reasons are data (reasons quote AWS's errors)
    table = Table(title=Text(printable(title)), title_justify="left")
    for c in columns:
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*(Text(printable(cell)) for cell in r))
    console.print(table)


def run_apply(plan_path: str, approve: str | None, config: Config,
              include_manual: Sequence[str], profile: str | None = None,
              region: str | None = None, out: TextIO | None = None,
              confirm: Callable[[str], bool] | None = terminal_confirm) -> ApplyResult:
    """Apply a saved plan. What needs no AWS is refused before any client or the backup store
    is made: an approval that is not the plan's digest, a playbook name that is not one."""
    plan = load_plan(plan_path)
    digest = check_approval(plan, approve, confirm)
    check_playbook_names(include_manual, playbooks_for(config).ids())
    factory = _factory(config, profile, region)
    result = apply_plan(plan, digest, config, factory, backup_store(config, factory),
                        include_manual)
    out = out or sys.stdout
    _table(f"Run {result.run_id}", ["Key", "Outcome", "Reason"],
           [(o["key_arn"], o["status"], o.get("reason") or "")
            for o in result.to_dict()["outcomes"]], out)
    out.write(f"run id: {result.run_id}\n")
    _record_error(result.record_message())
    return result


def _record_error(message: str | None) -> None:
    """The sentence saying a run stopped because its record could not be saved (exit 3)."""
    if message is not None:
        print(f"remediator: error: {printable(message)}", file=sys.stderr)


def run_rollback(run_id: str, config: Config, key_arn: str | None, dry_run: bool, force: bool,
                 drop_missing: bool, profile: str | None = None, region: str | None = None,
                 out: TextIO | None = None, apply_ended: bool = False) -> RollbackResult:
    factory = _factory(config, profile, region)
    result = rollback_run(run_id, backup_store(config, factory), factory, config, key_arn,
                          dry_run, force, drop_missing, apply_ended=apply_ended)
    rows = [(k["key_arn"], k["status"], k.get("reason") or "")
            for k in result.to_dict()["keys"]]
    _table(f"Rollback of {run_id}{' (dry run)' if dry_run else ''}: {result.state}",
           ["Key", "Outcome", "Reason"], rows, out or sys.stdout)
    _record_error(result.record_message())
    return result


def run_runs(config: Config, profile: str | None = None, region: str | None = None,
             out: TextIO | None = None) -> list[RunSummary]:
    factory = _factory(config, profile, region)
    runs = list_runs(backup_store(config, factory))
    rows = [[r.run_id, r.started_at or "", (r.plan_digest or "")[:12], r.state,
             str(len(r.keys_touched)), str(len(r.backups)), r.rollback_state] for r in runs]
    _table("Runs", ["Run", "Started", "Plan digest", "State", "Keys", "Backups", "Rollback"],
           rows, out or sys.stdout)
    return runs
