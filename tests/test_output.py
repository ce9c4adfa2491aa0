"""Standard output that is gone (a reader that left, a closed descriptor, a full disk) costs the
output, never the exit code, and never shows a traceback. Run as real processes: only they
have the descriptors these cases are about."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

OWNER = "111122223333"
ROOT = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
        "Action": "kms:*", "Resource": "*"}
PUBLIC = {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}
WARNING = "remediator: warning: could not write to standard output ({}); the exit code still " \
          "gives the result\n"


@pytest.fixture(params=["clean", "public"])
def policy(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, int]:
    """A policy file and the exit code its check gives."""
    statements = [ROOT] if request.param == "clean" else [ROOT, PUBLIC]
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"Version": "2012-10-17", "Statement": statements}))
    return str(path), 0 if request.param == "clean" else 1


def _remediator(*args: str, stdout: int | None = None, shell_redirect: str = ""
                ) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "remediator", *args]
    if shell_redirect:
        command = ["sh", "-c", 'exec "$@" ' + shell_redirect, "sh", *command]
    return subprocess.run(command, stdout=stdout, stderr=subprocess.PIPE, text=True,
                          timeout=60, check=False)


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_a_reader_that_left_costs_nothing_but_the_output(policy: tuple[str, int],
                                                         fmt: str) -> None:
    """``| head -0``: a BrokenPipeError traceback and exit 1 (json), a silent exit 1 (table)."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first write
    try:
        proc = _remediator("check-policy", policy[0], "--account", OWNER, "--format", fmt,
                           stdout=write_end)
    finally:
        os.close(write_end)
    assert (proc.returncode, proc.stderr) == (policy[1], "")


def test_closed_standard_output(policy: tuple[str, int]) -> None:
    """``>&-``: sys.stdout is None, which was an AttributeError traceback."""
    proc = _remediator("check-policy", policy[0], "--account", OWNER, shell_redirect=">&-")
    assert (proc.returncode, proc.stderr) == (policy[1], WARNING.format("it is closed"))


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk(policy: tuple[str, int]) -> None:
    """``>/dev/full``: an OSError traceback."""
    proc = _remediator("check-policy", policy[0], "--account", OWNER, "--format", "json",
                       shell_redirect=">/dev/full")
    assert (proc.returncode, proc.stderr) == (policy[1],
                                             WARNING.format("No space left on device"))


def test_the_exit_code_survives_standard_error_gone_too(tmp_path: Path) -> None:
    """``2>&1 | head -0``: printing the error itself failed, and the exit code was 1."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "remediator", "check-policy", str(tmp_path / "missing.json"),
             "--account", OWNER], stdout=write_end, stderr=write_end, timeout=60, check=False)
    finally:
        os.close(write_end)
    assert proc.returncode == 2
