"""Crash safety: an apply process SIGKILLed mid-run can be rolled back from its run record.

The apply runs in a child process (``crash_apply.py``) that kills itself with SIGKILL right
after KMS answered its 3rd PutKeyPolicy: the 3rd key was changed but the record does not say
so yet. Rollback of that run must restore all three keys and leave the other three alone.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from kms_estate import (
    BUCKET,
    FAST_RETRY,
    REGIONS,
    ROLE,
    SANDBOX_A,
    change,
    config,
    factory,
    live_policy,
    make_bucket,
    make_key,
    make_plan,
    state_of,
    store,
)

import remediator
from remediator.errors import RefusedError
from remediator.localaws import LocalAws
from remediator.rollback import rollback_run

pytestmark = pytest.mark.integration

HERE = Path(__file__).parent
REPO = Path(remediator.__file__).resolve().parent.parent
PREFIX = "crash-runs"


def _write_config(path: Path, aws: LocalAws) -> None:
    path.write_text(
        yaml.safe_dump(
            {
                "accounts": [{"id": SANDBOX_A, "role_name": ROLE}],
                "regions": list(REGIONS),
                "endpoint_url": aws.endpoint_url,
                "sandbox_accounts": [SANDBOX_A],
                "backup": {"bucket": BUCKET, "prefix": PREFIX},
            }
        ),
        encoding="utf-8",
    )


def _run_and_kill(tmp_path: Path, plan: dict[str, object], aws: LocalAws) -> int:
    plan_path, config_path = tmp_path / "plan.json", tmp_path / "config.yaml"
    plan_path.write_text(json.dumps(plan), encoding="utf-8")
    _write_config(config_path, aws)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["REMEDIATOR_TEST_KILL_AFTER_PUTS"] = "3"
    child = subprocess.run(
        [sys.executable, str(HERE / "crash_apply.py"), str(plan_path), str(config_path)],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    return child.returncode


def test_a_killed_apply_is_rolled_back_from_its_record(fresh_aws: LocalAws, tmp_path: Path) -> None:
    aws = fresh_aws
    make_bucket(aws, BUCKET)
    clients = factory(aws)
    keys = [make_key(clients, SANDBOX_A, REGIONS[i % 2]) for i in range(6)]
    original = state_of(clients, keys, exact=False)
    plan = make_plan([change(k) for k in keys])

    _run_and_kill(tmp_path, plan, aws)

    backups = store(aws, PREFIX)
    [run_id] = backups.list_runs()
    record = backups.get_run_record(run_id)
    assert record["state"] == "running"
    statuses = [e["status"] for e in record["keys"]]
    # Killed after KMS answered the 3rd put, before the record could say so.
    assert statuses == ["applied", "applied", "backed-up", "pending", "pending", "pending"]
    for i, key in enumerate(keys):
        after = plan["changes"][i]["after"]["policy"]
        assert live_policy(clients, key) == (after if i < 3 else key.policy)

    # Its record says "running" and was just written: it may be a live apply, which a
    # rollback would race (found by review), until the person says the apply has ended.
    with pytest.raises(RefusedError, match="still marked running"):
        rollback_run(run_id, backups, clients, config(aws), retry=FAST_RETRY)
    assert backups.get_run_record(run_id) == record
    back = rollback_run(run_id, backups, clients, config(aws), retry=FAST_RETRY,
                        apply_ended=True)
    assert back.exit_code == 0, back.to_dict()
    assert [k.key_arn for k in back.keys] == [k.arn for k in keys[:3]]
    assert {k.status for k in back.keys} == {"restored"}
    assert state_of(clients, keys, exact=False) == original
    assert backups.get_run_record(run_id)["rollback"]["state"] == "complete"
