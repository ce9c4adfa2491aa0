"""apply through the command line, its report's reader gone: the keys it changed are still
its exit code's business (a BrokenPipeError after PutKeyPolicy used to end in exit 1)."""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
import yaml
from kms_estate import (
    BUCKET,
    PROD,
    REGIONS,
    ROLE,
    SANDBOX_A,
    SANDBOX_B,
    change,
    live_policy,
    local_credentials,
    make_key,
    make_plan,
    plan_after,
)

from remediator.aws.session import ClientFactory
from remediator.cli import main
from remediator.localaws import LocalAws
from remediator.plan import write_plan

pytestmark = pytest.mark.integration


@contextmanager
def gone_stdout() -> Iterator[None]:
    """The process's own standard output, a pipe whose reader has left. Written through, as
    a report longer than the buffer is: each write meets the broken pipe at once. Entered in
    the test itself: capsys puts its own stream in place once the fixtures are set up."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    stream = io.TextIOWrapper(io.FileIO(write_end, "w"), encoding="utf-8", write_through=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "stdout", stream)
        mp.setattr(sys, "__stdout__", stream)
        yield
    with suppress(BrokenPipeError):
        stream.close()


def test_apply_exits_0_when_its_report_cannot_be_printed(
    aws: LocalAws, clients: ClientFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    key = make_key(clients, SANDBOX_A, REGIONS[0])
    plan = make_plan([change(key)])
    plan_path, cfg_path = tmp_path / "plan.json", tmp_path / "config.yaml"
    write_plan(plan, plan_path)
    cfg_path.write_text(yaml.safe_dump({
        "accounts": [{"id": a, "role_name": ROLE} for a in (SANDBOX_A, SANDBOX_B, PROD)],
        "regions": list(REGIONS), "endpoint_url": aws.endpoint_url,
        "sandbox_accounts": [SANDBOX_A, SANDBOX_B],
        "backup": {"bucket": BUCKET, "prefix": "reader-gone"}}))
    with local_credentials(), gone_stdout():
        code = main(["apply", str(plan_path), "--approve", plan["digest"],
                     "--config", str(cfg_path)])
    assert code == 0
    assert live_policy(clients, key) == plan_after(plan, key)
    started = [json.loads(line) for line in capsys.readouterr().err.splitlines()
               if '"apply.start"' in line]
    assert started and started[0]["run_id"], "the run id is on stderr for rollback"
