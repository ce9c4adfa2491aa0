"""`remediator plan` and `remediator show`: plan from a snapshot, render a saved plan."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import structlog

from remediator.assess import (
    grant_findings,
    iam_policy_findings,
    invalid_iam_policy_reason,
    skip_reason,
)
from remediator.config import Config, load_config
from remediator.detectors import RULES, analyze_key_policy
from remediator.errors import PolicyError
from remediator.outfile import check_writable
from remediator.plan import (
    build_plan,
    iam_policy_entry,
    load_plan,
    unread_entry,
    write_plan,
)
from remediator.planner import KeyPlan, plan_grants, plan_policy, plan_unread_key
from remediator.playbooks import PlaybookSet, check_playbook_names, load_playbooks
from remediator.policy import parse_policy
from remediator.report.plan_view import render_plan_markdown, render_plan_terminal
from remediator.rule_settings import apply_rule_settings
from remediator.snapshot import IamPolicySnapshot, KeySnapshot, Snapshot
from remediator.types import Finding
from remediator.unread import unread_grants, unread_resources

log = structlog.get_logger("remediator.plan")


def config_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def playbooks_for(config: Config) -> PlaybookSet:
    """The playbooks the config names, after checking every rule and playbook id it uses
    (the config's own messages name its file and field)."""
    books = load_playbooks(config.playbooks.folders)
    config.check_references(RULES, books.ids())
    return dataclasses.replace(books, auto_fix=dict(config.playbooks.auto_fix))


def plan_key(key: KeySnapshot, config: Config, books: PlaybookSet,
             include_manual: frozenset[str],
             org_accounts: frozenset[str] = frozenset()) -> KeyPlan:
    """The proven change for one key; no change when its policy could not be read or is not
    valid (the key and its grant findings are then left to a person, with the reason).
    ``org_accounts``: the trusted organisation's members (``Snapshot.members_of``)."""
    ctx = config.context_for(key.account, org_accounts, key.arn)
    grants = grant_findings(key, config, org_accounts)
    if key.policy is None:
        return plan_unread_key(key.policy_error or "no reason recorded", grants)
    try:
        parse_policy(key.policy)  # as scan does: an invalid policy is this key's problem only
    except PolicyError as exc:
        return plan_unread_key(str(exc), grants, problem="is not valid")

    def detect(doc: Any) -> list[Any]:
        return apply_rule_settings(analyze_key_policy(doc, ctx), config.rules, key.arn,
                                   key.account)

    kp = plan_policy(key.policy, ctx, books, include_manual, detect)
    return plan_grants(kp, grants, books, include_manual)


def kms1_reason(policy: IamPolicySnapshot, finding: Finding) -> str:
    """Why a KMS.1 finding is left to a person, naming the IAM policy."""
    actions = ", ".join(finding.actions) or "kms:Decrypt or kms:ReEncryptFrom"
    return (f"IAM policy {policy.arn} (version {policy.version_id}) allows {actions} on all "
            "KMS keys; this tool changes key policies and grants only, never IAM policies: "
            "limit its Resource to the key ARNs its users need, then scan again")


def plan_iam_policies(snapshot: Snapshot, config: Config) -> list[dict[str, Any]]:
    """One "needs a person" item per KMS.1 finding, and per IAM policy that could not be
    checked, so that plan reports what scan reports (no playbook changes an IAM policy)."""
    items = []
    for pol in snapshot.iam_policies:
        try:
            found = iam_policy_findings(pol, config)
        except PolicyError as exc:
            items.append(iam_policy_entry(pol, None, invalid_iam_policy_reason(pol, exc)))
            continue
        items.extend(iam_policy_entry(pol, f, kms1_reason(pol, f)) for f in found)
    return items


def plan_snapshot(snapshot: Snapshot, config: Config, cfg_sha: str,
                  include_manual: Sequence[str] = ()) -> dict[str, Any]:
    books = playbooks_for(config)
    check_playbook_names(include_manual, books.ids())
    manual = frozenset(include_manual)
    keyed: list[tuple[KeySnapshot, KeyPlan | None]] = []
    members = snapshot.members_of(config.trust.org_id)
    for key in snapshot.keys:
        why_skipped = skip_reason(key)
        if why_skipped is not None:  # as scan and the live inventory: never planned
            log.info("key_skipped", key_arn=key.arn, reason=why_skipped)
            continue
        kp = plan_key(key, config, books, manual, members)
        keyed.append((key, kp))
        log.info("key_planned", key_arn=key.arn, changed=kp.changed, steps=len(kp.steps))
    auto = {b.id: books.allows_auto_fix(b) for b in books.playbooks}
    proven_with = snapshot.organization if members else None
    unread = [u for u in (unread_grants(k) for k, _ in keyed) if u is not None]
    unread += unread_resources(snapshot)
    people = [*map(unread_entry, unread), *plan_iam_policies(snapshot, config)]
    return build_plan(keyed, cfg_sha, auto, people, proven_with)


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
    for path, option in ((out_path, "--out"), (snapshot_out, "--snapshot-out")):
        if path:  # before the scan and the proofs, whose work the file would hold
            check_writable(path, option)
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
