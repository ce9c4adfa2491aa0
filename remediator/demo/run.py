"""The demo: the product end to end against a moto server on 127.0.0.1, no credentials.

scan → plan → show → apply in the sandbox → scan (clean) → rollback → scan (restored).
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml
from rich.console import Console
from rich.text import Text

from remediator.assess import Assessment, assess
from remediator.commands.planning import config_sha256, plan_snapshot, render
from remediator.commands.scanning import live_snapshot
from remediator.commands.writes import run_apply, run_rollback
from remediator.config import Config, load_config
from remediator.demo.seed import REGION, ROLE, Estate, seed
from remediator.localaws import (
    LOCAL_CREDENTIALS_ENV,
    LOCAL_CREDENTIALS_UNSET,
    LocalAws,
    moto_server,
)
from remediator.plan import write_plan
from remediator.playbooks import load_playbooks
from remediator.snapshot import Snapshot

EXPOSURE = {"KMS-PUBLIC", "KMS-CROSS-ACCOUNT", "KMS-SERVICE-UNSCOPED", "KMS-GRANT-EXTERNAL"}


def _use_local_credentials(aws: LocalAws) -> None:
    """Fake static credentials for this process only; nothing is read from ~/.aws."""
    os.environ.update({**LOCAL_CREDENTIALS_ENV, "AWS_DEFAULT_REGION": REGION})
    for name in LOCAL_CREDENTIALS_UNSET:
        os.environ.pop(name, None)


def write_config(estate: Estate, endpoint: str, folder: Path) -> Path:
    accounts = [estate.sandbox, estate.production]
    data = {
        "accounts": [{"id": a, "role_name": ROLE} for a in accounts],
        "regions": [REGION],
        "endpoint_url": endpoint,
        "trust": {"trusted_accounts": accounts},
        "admins": [f"arn:aws:iam::{a}:role/KeyAdmin" for a in accounts],
        "via_services": [f"s3.{REGION}.amazonaws.com"],
        "sandbox_accounts": [estate.sandbox],
        "backup": {"bucket": estate.bucket, "prefix": "kms-remediator"},
    }
    path = folder / "config.yaml"
    path.write_text("# Written by remediator demo for its local AWS.\n" + yaml.safe_dump(data))
    return path


def _summary(console: Console, title: str, a: Assessment, estate: Estate) -> None:
    by_account = Counter((f.account, f.finding.rule in EXPOSURE) for f in a.findings
                         if f.region is not None)
    console.print(f"[bold]{title}[/]")
    for name, acct in (("sandbox", estate.sandbox), ("production", estate.production)):
        console.print(f"  {name:10} {acct}: {by_account[(acct, True)]} exposure finding(s), "
                      f"{by_account[(acct, False)]} other finding(s)")


def _policies(snap: Snapshot, account: str) -> dict[str, object]:
    return {k.arn: k.policy for k in snap.keys if k.account == account}


def _run(console: Console, aws: LocalAws, folder: Path) -> int:
    estate = seed(aws)
    _use_local_credentials(aws)
    cfg_path = write_config(estate, aws.endpoint_url, folder)
    config: Config = load_config(cfg_path)
    console.print(f"Seeded organisation {estate.org_id}: sandbox {estate.sandbox}, production "
                  f"{estate.production}, external {estate.external}; {len(estate.keys)} keys.")
    before = live_snapshot(config)
    _summary(console, "1. Scan", assess(before, config), estate)
    plan = plan_snapshot(before, config, config_sha256(cfg_path), load_playbooks().ids())
    plan_path = folder / "plan.json"
    write_plan(plan, plan_path)
    console.print(Text.assemble(  # Text, not markup: --workdir is the user's path
        ("2. Plan", "bold"), f" {plan_path}: {len(plan['changes'])} key(s) to change, "
        f"{len(plan['needs_a_person'])} item(s) for a person; digest {plan['digest']}"))
    shown = io.StringIO()
    render(plan, "markdown", shown)
    (folder / "plan.md").write_text(shown.getvalue())
    console.print(Text(f"   the review in Markdown: {folder / 'plan.md'}"))
    console.print("[bold]3. Apply[/] (approved by digest; only the sandbox may change)")
    result = run_apply(str(plan_path), plan["digest"], config, load_playbooks().ids(),
                       out=sys.stdout)
    after = live_snapshot(config)
    _summary(console, "4. Scan after apply", assess(after, config), estate)
    console.print(f"[bold]5. Rollback[/] of run {result.run_id}")
    run_rollback(result.run_id, config, None, False, False, False, out=sys.stdout)
    restored = live_snapshot(config)
    _summary(console, "6. Scan after rollback", assess(restored, config), estate)
    same = _policies(restored, estate.sandbox) == _policies(before, estate.sandbox)
    untouched = _policies(after, estate.production) == _policies(before, estate.production)
    console.print(f"Sandbox policies restored exactly: {'yes' if same else 'NO'}; production "
                  f"never changed: {'yes' if untouched else 'NO'}.")
    return 0 if same and untouched else 3


def run_demo(workdir: str | None = None) -> int:
    console = Console()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kms-remediator-demo-") as tmp:
        folder = Path(workdir) if workdir else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        with moto_server() as aws:
            console.print(f"Local AWS (moto) on {aws.endpoint_url}")
            code = _run(console, aws, folder)
    console.print(f"Demo finished in {time.monotonic() - started:.1f} s; local AWS stopped.")
    return code
