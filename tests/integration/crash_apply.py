"""Test-only: run ``apply_plan`` in this process and SIGKILL it after the Nth PutKeyPolicy.

``python crash_apply.py PLAN CONFIG`` with ``REMEDIATOR_TEST_KILL_AFTER_PUTS=N`` in the
environment. The clients are built the way the CLI builds them (``factory_from_config``); the
kill hook is a botocore ``after-call`` handler registered on this process's KMS clients only,
so it fires once KMS has answered the Nth PutKeyPolicy and before apply can record it: the
worst moment for the run record, which is what ``test_apply_crash`` wants to survive.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from remediator.apply import apply_plan
from remediator.aws.backup import BackupStore
from remediator.aws.inventory import limiter_from_config
from remediator.aws.session import ClientFactory, factory_from_config, settings_from_config
from remediator.config import load_config
from remediator.localaws import LocalAws

KILL_AFTER = "REMEDIATOR_TEST_KILL_AFTER_PUTS"


def install_kill_hook(factory: ClientFactory, plan: dict[str, Any], after: int) -> None:
    puts = [0]

    def count(**_: Any) -> None:
        puts[0] += 1
        if puts[0] >= after:
            os.kill(os.getpid(), signal.SIGKILL)

    for account, region in {(c["account"], c["region"]) for c in plan["changes"]}:
        factory(account, region, "kms").meta.events.register("after-call.kms.PutKeyPolicy", count)


def main(plan_path: str, config_path: str) -> int:
    config = load_config(config_path)
    assert config.endpoint_url and config.backup, "a local endpoint and a backup bucket"
    plan = json.loads(Path(plan_path).read_text(encoding="utf-8"))
    limiter = limiter_from_config(config)
    base = LocalAws(config.endpoint_url, pid=0).session()
    factory = factory_from_config(config, base, settings_from_config(config), limiter)
    install_kill_hook(factory, plan, int(os.environ[KILL_AFTER]))
    store = BackupStore.from_config(factory.base_client("s3"), config.backup)
    result = apply_plan(plan, plan["digest"], config, factory, store, limiter=limiter)
    print(json.dumps(result.to_dict()))
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
