"""`remediator apply` refuses what needs no AWS before it makes any AWS client or touches the
backup store: an approval that is not the plan's digest, a playbook name that is not one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from remediator.cli import main
from remediator.commands import writes
from remediator.commands.planning import plan_snapshot
from remediator.config import load_config
from remediator.plan import write_plan
from remediator.snapshot import load_snapshot

DATA = Path(__file__).parent / "data"
CONFIG = DATA / "example-config.yaml"


class _ReachedAws(Exception):
    pass


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Making the AWS clients fails the test's way: nothing here may reach AWS."""
    def factory(*_args: Any) -> Any:
        raise _ReachedAws

    monkeypatch.setattr(writes, "_factory", factory)


@pytest.fixture(scope="module")
def plan_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    plan = plan_snapshot(load_snapshot(DATA / "example-snapshot.json"), load_config(CONFIG),
                         "0" * 64)
    path = tmp_path_factory.mktemp("apply") / "plan.json"
    write_plan(plan, path)
    return str(path), plan["digest"]


@pytest.mark.parametrize(("options", "message"), [
    (["--approve", "DEADBEEF"], "--approve DEADBEEF is not the digest of this plan"),
    (["--include-manual", "nosuch"], "--include-manual names unknown playbooks (nosuch); "
     "known playbooks are missing-root, "),
])
def test_refused_before_any_aws_client(
    options: list[str], message: str, plan_file: tuple[str, str], no_aws: None,
    capsys: pytest.CaptureFixture[str]
) -> None:
    path, digest = plan_file
    argv = ["apply", path, "--config", str(CONFIG), *options]
    if "--approve" not in options:
        argv += ["--approve", digest]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"remediator: error: {message}")


def test_a_known_playbook_and_the_digest_go_on_to_aws(plan_file: tuple[str, str],
                                                     no_aws: None) -> None:
    path, digest = plan_file
    with pytest.raises(_ReachedAws):
        main(["apply", path, "--config", str(CONFIG), "--approve", digest,
              "--include-manual", "via-service"])
