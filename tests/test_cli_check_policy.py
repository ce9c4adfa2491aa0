"""The check-policy contract: one JSON object on stdout, exit codes 0/1/2, errors on stderr."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

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


def _stdin(data: bytes) -> io.TextIOWrapper:
    """A standard input holding ``data``, with the byte buffer the real one has."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")


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
    monkeypatch.setattr(sys, "stdin", _stdin(json.dumps(PUBLIC_POLICY).encode()))
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
    # A name twice in one object: Python keeps the last, AWS's readers may not.
    "repeated-effect": ('{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kms:*", '
                        '"Resource": "*", "Effect": "Deny"}}', ["--account", OWNER]),
    # What PutKeyPolicy refuses: a principal that is none, an unknown element.
    "principal-not-a-principal": (json.dumps({"Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "ARN:AWS:IAM::444455556666:ROOT"},
        "Action": "kms:Decrypt", "Resource": "*"}]}), ["--account", OWNER]),
    "unknown-element": (json.dumps({"Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resources": "*"}]}),
        ["--account", OWNER]),
    "larger-than-a-mebibyte": (json.dumps(DEFAULT_POLICY) + " " * 2**20, ["--account", OWNER]),
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
    monkeypatch.setattr(sys, "stdin",
                        _stdin(b'{"Statement":' + b"[" * 2000 + b"]" * 2000 + b"}"))
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


def test_a_repeated_name_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = ('{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", '
           '"Resource": "*", "Effect": "Deny"}]}')
    code, out, err = _run(["check-policy", _write(tmp_path, doc), "--account", OWNER], capsys)
    assert (code, out) == (2, "")
    assert "the name 'Effect' appears twice in one JSON object" in err


def test_closed_standard_input_is_one_sentence(tmp_path: Path) -> None:
    """Python sets sys.stdin to None when the process starts with descriptor 0 closed."""
    proc = subprocess.run(
        ["sh", "-c", f'exec "{sys.executable}" -m remediator check-policy - '
                     f"--account {OWNER} <&-"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == ("remediator: error: standard input is closed, so there is nothing "
                           "to read\n")


def _same_on_stdin(data: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                   capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """The result of checking ``data`` as a file, the same on standard input but for the
    name."""
    path = tmp_path / "policy.json"
    path.write_bytes(data)
    from_file = _run(["check-policy", str(path), "--account", OWNER, "--format", "json"],
                     capsys)
    monkeypatch.setattr(sys, "stdin", _stdin(data))
    from_stdin = _run(["check-policy", "-", "--account", OWNER, "--format", "json"], capsys)
    code, out, err = from_stdin
    assert from_file == (code, out, err.replace("standard input", str(path)))
    return from_file


@pytest.mark.parametrize("data", [
    pytest.param(b'{"Statement": {"Sid": "\xff"}}', id="invalid-utf8"),
    pytest.param(json.dumps(DEFAULT_POLICY).encode("utf-16"), id="utf-16"),
])
def test_standard_input_is_decoded_as_strictly_as_a_file(
    data: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str]
) -> None:
    """Standard input used to be decoded with surrogateescape: invalid UTF-8 was accepted
    and came out as lone surrogates in the JSON output."""
    code, out, err = _same_on_stdin(data, tmp_path, monkeypatch, capsys)
    assert (code, out) == (2, "")
    assert "is not UTF-8 text (at byte" in err


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    data = b"\xef\xbb\xbf" + json.dumps(PUBLIC_POLICY).encode()
    code, out, err = _same_on_stdin(data, tmp_path, monkeypatch, capsys)
    assert (code, err) == (1, "")
    assert json.loads(out)["findings"]


class _Endless(io.RawIOBase):
    """A stream of zero bytes that never ends, counting what was read from it (it fails at
    16 MiB rather than fill the memory of a test run that reads on)."""

    def __init__(self) -> None:
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.served >= 16 * 2**20:
            raise OSError("the test stream was read past 16 MiB")
        view = memoryview(buffer).cast("B")
        view[:] = bytes(len(view))
        self.served += len(view)
        return len(view)


def test_an_endless_input_is_refused_after_a_mebibyte(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    endless = _Endless()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(endless)))
    code, out, err = _run(["check-policy", "-", "--account", OWNER], capsys)
    assert (code, out) == (2, "")
    assert err == ("remediator: error: standard input is larger than 1 MiB, far more than a "
                   "key policy can be (AWS allows 32 KB)\n")
    assert endless.served <= 2**20 + io.DEFAULT_BUFFER_SIZE


def test_without_key_arn_the_partition_is_that_of_the_owners_principals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by review: a GovCloud policy checked without --key-arn was read in the aws
    partition, so a Deny on arn:aws:kms:*:OWNER:key/* (which names no GovCloud key) counted."""
    def rules(resource: str) -> set[str]:
        policy = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws-us-gov:iam::111122223333:root"},
             "Action": "kms:*", "Resource": "*"},
            {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": resource,
             "Condition": {"StringNotEquals": {"kms:CallerAccount": "111122223333"}}}]}
        path = tmp_path / "gov.json"
        path.write_text(json.dumps(policy))
        _, out, _ = _run(["check-policy", str(path), "--account", "111122223333",
                          "--format", "json"], capsys)
        return {f["rule"] for f in json.loads(out)["findings"]}

    assert "KMS-PUBLIC" in rules("arn:aws:kms:*:111122223333:key/*")
    assert "KMS-PUBLIC" not in rules("arn:aws-us-gov:kms:*:111122223333:key/*")
