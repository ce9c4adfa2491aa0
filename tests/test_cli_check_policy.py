"""The check-policy contract: one JSON object on stdout, exit codes 0/1/2, errors on stderr."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from remediator.cli import main

OWNER = "111122223333"
DEFAULT_POLICY = {
    "Version": "2012-10-17",
    "Id": "key-default-1",
    "Statement": [
        {
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ],
}
PUBLIC_POLICY = {
    "Version": "2012-10-17",
    "Statement": DEFAULT_POLICY["Statement"]
    + [{"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt",
        "Resource": "*"}],
}


def _write(tmp_path: Path, doc: object, name: str = "policy.json") -> str:
    p = tmp_path / name
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return str(p)


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_clean_default_policy_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        ["check-policy", _write(tmp_path, DEFAULT_POLICY), "--account", OWNER, "--format", "json"],
        capsys,
    )
    assert code == 0
    assert json.loads(out) == {"account": OWNER, "findings": []}


def test_public_policy_json_contract_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(
        ["check-policy", _write(tmp_path, PUBLIC_POLICY), "--account", OWNER, "--format", "json"],
        capsys,
    )
    assert code == 1
    payload = json.loads(out)
    public = [f for f in payload["findings"] if f["rule"] == "KMS-PUBLIC"]
    assert len(public) == 1
    f = public[0]
    assert f["severity"] == "critical"
    assert f["statement"] == 1 and f["sid"] == "Open"
    assert f["principals"] == ["*"] and f["actions"] == ["kms:Decrypt"]
    assert set(f) >= {"rule", "severity", "statement", "sid", "principals", "actions", "message"}


def test_table_format_fits_100_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["check-policy", _write(tmp_path, PUBLIC_POLICY), "--account", OWNER],
                        capsys)
    assert code == 1
    assert "KMS-PUBLIC" in out
    assert max(len(line) for line in out.splitlines()) <= 100


def test_reads_standard_input(monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(PUBLIC_POLICY)))
    code, out, _ = _run(["check-policy", "-", "--account", OWNER, "--format", "json"], capsys)
    assert code == 1
    assert json.loads(out)["findings"]


def test_trusted_account_and_org_options(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    doc = {"Statement": DEFAULT_POLICY["Statement"] + [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222233334444:root"},
         "Action": "kms:Decrypt", "Resource": "*"},
        {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}},
    ]}
    path = _write(tmp_path, doc)
    _, out, _ = _run(["check-policy", path, "--account", OWNER, "--format", "json"], capsys)
    rules = {f["rule"] for f in json.loads(out)["findings"]}
    assert "KMS-CROSS-ACCOUNT" in rules
    _, out, _ = _run(["check-policy", path, "--account", OWNER, "--format", "json",
                         "--trusted-account", "222233334444", "--org-id", "o-a1b2c3d4e5"], capsys)
    rules = {f["rule"] for f in json.loads(out)["findings"]}
    assert "KMS-CROSS-ACCOUNT" not in rules


BAD_INPUTS = {
    "unreadable-file": (None, ["--account", OWNER]),
    "invalid-json": ("{not json", ["--account", OWNER]),
    "not-an-object": ("[1, 2]", ["--account", OWNER]),
    "no-statement": ('{"Version": "2012-10-17"}', ["--account", OWNER]),
    "statement-without-effect": ('{"Statement": [{"Principal": "*", "Action": "kms:*"}]}',
                                 ["--account", OWNER]),
    "unknown-operator": (json.dumps({"Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*",
        "Condition": {"StringEqualz": {"aws:PrincipalAccount": OWNER}}}]}),
        ["--account", OWNER]),
    "account-11-digits": (json.dumps(DEFAULT_POLICY), ["--account", "11112222333"]),
    "account-not-digits": (json.dumps(DEFAULT_POLICY), ["--account", "abcdefghijkl"]),
    "trusted-account-bad": (json.dumps(DEFAULT_POLICY),
                            ["--account", OWNER, "--trusted-account", "1234"]),
    "org-id-bad": (json.dumps(DEFAULT_POLICY), ["--account", OWNER, "--org-id", "org-1"]),
    # Hostile JSON: a RecursionError traceback before; AWS refuses NaN and Infinity.
    "deeply-nested": ('{"Statement":' + "[" * 2000 + "]" * 2000 + "}", ["--account", OWNER]),
    "nan": (json.dumps(DEFAULT_POLICY)[:-1] + ', "X": NaN}', ["--account", OWNER]),
    "infinity": (json.dumps(DEFAULT_POLICY)[:-1] + ', "X": Infinity}', ["--account", OWNER]),
    "minus-infinity": (json.dumps(DEFAULT_POLICY)[:-1] + ', "X": -Infinity}',
                       ["--account", OWNER]),
    # Exactly 12 ASCII digits, the whole value: no trailing newline, no other scripts' digits.
    "account-trailing-newline": (json.dumps(DEFAULT_POLICY), ["--account", OWNER + "\n"]),
    "account-full-width-digits": (json.dumps(DEFAULT_POLICY), ["--account", "１" * 12]),
    "account-arabic-indic-digits": (json.dumps(DEFAULT_POLICY), ["--account", "\u0661" * 12]),
    "trusted-account-trailing-newline": (json.dumps(DEFAULT_POLICY),
                                         ["--account", OWNER, "--trusted-account",
                                          "222233334444\n"]),
    "trusted-account-full-width-digits": (json.dumps(DEFAULT_POLICY),
                                          ["--account", OWNER, "--trusted-account", "２" * 12]),
    "org-id-trailing-newline": (json.dumps(DEFAULT_POLICY),
                                ["--account", OWNER, "--org-id", "o-a1b2c3d4e5\n"]),
    "org-id-empty": (json.dumps(DEFAULT_POLICY), ["--account", OWNER, "--org-id", ""]),
    "org-id-too-short": (json.dumps(DEFAULT_POLICY),
                         ["--account", OWNER, "--org-id", "o-a1b2c3d4e"]),
    "org-id-upper-case": (json.dumps(DEFAULT_POLICY),
                          ["--account", OWNER, "--org-id", "o-A1B2C3D4E5"]),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_exits_2_with_one_sentence_and_no_stdout(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, options = BAD_INPUTS[case]
    path = str(tmp_path / "missing.json") if text is None else _write(tmp_path, text)
    code, out, err = _run(["check-policy", path, *options, "--format", "json"], capsys)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("remediator: error: ")


def test_deeply_nested_standard_input_exits_2(monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"Statement":' + "[" * 2000 + "]" * 2000 + "}"))
    code, out, err = _run(["check-policy", "-", "--account", OWNER], capsys)
    assert (code, out) == (2, "")
    assert err == ("remediator: error: standard input is nested too deeply to be a key "
                   "policy\n")


@pytest.mark.parametrize("sid", ["[/]", "[bold red]x", ":thumbs_up:", "[link=https://e.x]y"])
def test_table_shows_user_text_as_written(sid: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A Sid is data, never rich markup or an emoji code (it used to crash or be rewritten)."""
    doc = {"Statement": [{**PUBLIC_POLICY["Statement"][1], "Sid": sid}]}
    code, out, err = _run(["check-policy", _write(tmp_path, doc), "--account", OWNER], capsys)
    assert (code, err) == (1, "")
    assert f"Statement 0 ({sid}) lets any AWS principal" in " ".join(out.split())


def test_console_script_end_to_end(tmp_path: Path) -> None:
    """The installed entry point behaves like main(): JSON on stdout, exit 1 on findings."""
    proc = subprocess.run(
        [sys.executable, "-m", "remediator", "check-policy", _write(tmp_path, PUBLIC_POLICY),
         "--account", OWNER, "--format", "json"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["account"] == OWNER
