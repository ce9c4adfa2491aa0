"""`remediator scan` offline, from the example snapshot: every format, exit codes, and config
references checked before anything runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from remediator.cli import main

DATA = Path(__file__).parent / "data"
ARGS = ["scan", "--snapshot", str(DATA / "example-snapshot.json"),
        "--config", str(DATA / "example-config.yaml")]


def test_json_lists_every_finding_with_its_resource(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*ARGS, "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    rules = {f["rule"] for f in data["findings"]}
    assert {"KMS-PUBLIC", "KMS-CROSS-ACCOUNT", "KMS-SERVICE-UNSCOPED", "KMS-GRANT-EXTERNAL",
            "IAM-KMS-1", "KMS.1"} <= rules
    assert all(f["resource"].startswith("arn:aws:") for f in data["findings"])
    assert [u["reason"] for u in data["unknown"]] == [
        "policy could not be read: AccessDeniedException: kms:GetKeyPolicy denied"]
    grant = next(f for f in data["findings"] if f["rule"] == "KMS-GRANT-EXTERNAL")
    assert grant["grant_id"] and grant["severity"] == "high"


def test_sarif_and_asff_are_well_formed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*ARGS, "--format", "sarif"]) == 1
    sarif = json.loads(capsys.readouterr().out)
    results = sarif["runs"][0]["results"]
    assert sarif["version"] == "2.1.0" and results
    assert {r["level"] for r in results} <= {"error", "warning", "note"}
    fingerprints = [r["partialFingerprints"]["kmsRemediator/v1"] for r in results]
    assert len(set(fingerprints)) == len(fingerprints)
    assert main([*ARGS, "--format", "asff"]) == 1
    asff = json.loads(capsys.readouterr().out)
    assert {f["Severity"]["Label"] for f in asff} <= {"CRITICAL", "HIGH", "MEDIUM", "LOW"}
    assert all(f["SchemaVersion"] == "2018-10-08" and f["Resources"] for f in asff)


def test_markdown_and_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*ARGS, "--format", "markdown"]) == 1
    assert "| critical | KMS-PUBLIC |" in capsys.readouterr().out
    assert main(ARGS) == 1
    assert "KMS-PUBLIC" in capsys.readouterr().out


def test_disabled_rule_and_suppression(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = (DATA / "example-config.yaml").read_text() + (
        "rules:\n  disable: [IAM-KMS-6]\n  suppressions:\n"
        "    - rule: KMS.1\n      account: '111122223333'\n"
        "      reason: accepted until the role is split\n      expires: 2999-01-01\n")
    path = tmp_path / "config.yaml"
    path.write_text(cfg)
    main(["scan", "--snapshot", str(DATA / "example-snapshot.json"), "--config", str(path),
          "--format", "json"])
    rules = {f["rule"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert "IAM-KMS-6" not in rules and "KMS.1" not in rules and "KMS-PUBLIC" in rules


def test_unknown_rule_in_config_is_refused(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.yaml"
    path.write_text((DATA / "example-config.yaml").read_text()
                    + "rules:\n  disable: [KMS-NOPE]\n")
    assert main([*ARGS[:3], "--config", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "KMS-NOPE" in captured.err


@pytest.mark.parametrize(("statements", "found"), [
    ([{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:*"}], True),
    ([{"Effect": "Allow", "Action": "kms:Decrypt", "NotResource": "arn:aws:kms:*:*:alias/*"}],
     True),
    ([{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"},
      {"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:*"}], False),
])
def test_kms_1_from_a_snapshot(statements: list[dict[str, str]], found: bool, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    policy = {"arn": "arn:aws:iam::111122223333:policy/p", "account": "111122223333",
              "version_id": "v1", "document": {"Version": "2012-10-17", "Statement": statements}}
    path = tmp_path / "snap.json"
    path.write_text(json.dumps({"version": 1, "taken_at": "2025-01-01T00:00:00Z", "keys": [],
                                "iam_policies": [policy], "errors": []}))
    code = main(["scan", "--snapshot", str(path), "--config", str(DATA / "example-config.yaml"),
                 "--format", "json"])
    rules = [f["rule"] for f in json.loads(capsys.readouterr().out)["findings"]]
    assert (code, rules) == ((1, ["KMS.1"]) if found else (0, []))


@pytest.mark.parametrize("statement", [
    {"Effect": "Allow", "Principal": {"AWS": "foo"}, "Action": "kms:Decrypt", "Resource": "*"},
    {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resources": "*"},
])
def test_a_key_policy_aws_would_refuse_is_unknown_not_clean(
    statement: dict[str, object], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """scan and check-policy read a policy alike: one AWS's PutKeyPolicy refuses is not valid
    (it was read as granting nobody, or as having no Resource, and the key came out clean)."""
    arn = "arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-4000-8000-000000000000"
    key = {"arn": arn, "account": "111122223333", "region": "eu-west-1",
           "key_id": arn.rsplit("/", 1)[1], "manager": "CUSTOMER", "state": "Enabled",
           "multi_region": False, "policy": {"Version": "2012-10-17", "Statement": [statement]},
           "policy_error": None, "grants": [], "aliases": [], "rotation_enabled": True,
           "tags": {}}
    path = tmp_path / "snap.json"
    path.write_text(json.dumps({"version": 1, "taken_at": "2025-01-01T00:00:00Z",
                                "keys": [key], "iam_policies": [], "errors": []}))
    code = main(["scan", "--snapshot", str(path), "--config", str(DATA / "example-config.yaml"),
                 "--format", "json"])
    unknown = json.loads(capsys.readouterr().out)["unknown"]
    assert code == 1
    assert [u["resource"] for u in unknown] == [arn]
    assert unknown[0]["reason"].startswith("policy is not valid: Statement[0]")
