"""`remediator plan` and `remediator show`: plan from a snapshot, render a saved plan."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import structlog

from remediator.config import Config, load_config
from remediator.detectors import RULES, analyze_key_policy
from remediator.detectors.grants import detect_external_grants
from remediator.errors import BadInputError
from remediator.plan import build_plan, load_plan, write_plan
from remediator.planner import KeyPlan, plan_grants, plan_policy, plan_unread_key
from remediator.playbooks import PlaybookSet, load_playbooks
from remediator.report.plan_view import render_plan_markdown, render_plan_terminal
from remediator.rule_settings import apply_rule_settings
from remediator.snapshot import KeySnapshot, Snapshot

log = structlog.get_logger("remediator.plan")


def config_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def playbooks_for(config: Config) -> PlaybookSet:
    """The playbooks the config names, after checking every rule and playbook id it uses."""
    books = load_playbooks(config.playbooks.folders, config.playbooks.auto_fix)
    config.check_references(RULES, books.ids())
    return books


def plan_key(key: KeySnapshot, config: Config, books: PlaybookSet,
             include_manual: frozenset[str]) -> KeyPlan | None:
    """The proven change for one key; no change when its policy could not be read."""
    ctx = config.context_for(key.account)
    grants = apply_rule_settings(detect_external_grants(key.grants, ctx), config.rules, key.arn,
                                 key.account)
    if key.policy is None:
        return plan_unread_key(key.policy_error or "no reason recorded", grants)

    def detect(doc: Any) -> list[Any]:
        return apply_rule_settings(analyze_key_policy(doc, ctx), config.rules, key.arn,
                                   key.account)

    kp = plan_policy(key.policy, ctx, books, include_manual, detect)
    return plan_grants(kp, grants, books, include_manual)


def plan_snapshot(snapshot: Snapshot, config: Config, cfg_sha: str,
                  include_manual: Sequence[str] = ()) -> dict[str, Any]:
    books = playbooks_for(config)
    unknown = sorted(set(include_manual) - set(books.ids()))
    if unknown:
        raise BadInputError(f"--include-manual names unknown playbooks {unknown}; known "
                            f"playbooks are {', '.join(books.ids())}")
    manual = frozenset(include_manual)
    keyed = []
    for key in snapshot.keys:
        kp = plan_key(key, config, books, manual)
        keyed.append((key, kp))
        log.info("key_planned", key_arn=key.arn, changed=bool(kp and kp.changed),
                 steps=len(kp.steps) if kp else 0)
    auto = {b.id: books.allows_auto_fix(b) for b in books.playbooks}
    return build_plan(keyed, cfg_sha, auto)


def render(plan: dict[str, Any], fmt: str, out: TextIO) -> None:
    if fmt == "json":
        out.write(json.dumps(plan, indent=2, sort_keys=True) + "\n")
    elif fmt == "markdown":
        out.write(render_plan_markdown(plan) + "\n")
    else:
        render_plan_terminal(plan, out)


def run_plan(snapshot_path: str | None, config_path: str, out_path: str | None, fmt: str,
             include_manual: Sequence[str], out: TextIO | None = None,
             snapshot_out: str | None = None, profile: str | None = None,
             region: str | None = None) -> dict[str, Any]:
    """Plan from a snapshot file, or from a live scan of the configured targets."""
    from remediator.commands.scanning import get_snapshot

    config = load_config(config_path)
    snapshot = get_snapshot(config, snapshot_path, snapshot_out, profile, region)
    plan = plan_snapshot(snapshot, config, config_sha256(config_path), include_manual)
    if out_path:
        write_plan(plan, out_path)
        log.info("plan_written", path=out_path, digest=plan["digest"],
                 changes=len(plan["changes"]))
    render(plan, fmt, out or sys.stdout)
    return plan


def run_show(plan_path: str, fmt: str, out: TextIO | None = None) -> dict[str, Any]:
    plan = load_plan(plan_path)
    render(plan, fmt, out or sys.stdout)
    return plan
