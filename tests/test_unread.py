"""What a scan could not read is never "no findings": scan lists it as unknown and exits 1,
plan leaves it to a person. Found by review: a denied ListKeys, ListPolicies or
GetPolicyVersion, or a failed ListGrants, was recorded in the snapshot and then ignored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from remediator.cli import main

DATA = Path(__file__).parent / "data"
CONFIG = str(DATA / "example-config.yaml")
OWNER = "111122223333"
KEY_ARN = f"arn:aws:kms:eu-west-1:{OWNER}:key/00000000-0000-4000-8000-000000000000"
POLICY_ARN = f"arn:aws:iam::{OWNER}:policy/DecryptEverything"
ROOT_ONLY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
     "Action": "kms:*", "Resource": "*"}]}


def _error(operation: str, region: str, code: str = "AccessDenied",
           **where: Any) -> dict[str, Any]:
    return {"account": OWNER, "region": region, "key_arn": None, "operation": operation,
            "code": code, "message": f"not authorized to perform {operation}", **where}


def _key(**fields: Any) -> dict[str, Any]:
    return {"arn": KEY_ARN, "account": OWNER, "region": "eu-west-1",
            "key_id": KEY_ARN.rsplit("/", 1)[1], "manager": "CUSTOMER", "state": "Enabled",
            "multi_region": False, "policy": ROOT_ONLY, "policy_error": None, "grants": [],
            "aliases": [], "rotation_enabled": True, "tags": {}, **fields}


def _snapshot(tmp_path: Path, keys: list[dict[str, Any]],
              errors: list[dict[str, Any]]) -> str:
    path = tmp_path / "snap.json"
    path.write_text(json.dumps({"version": 1, "taken_at": "2026-01-01T00:00:00Z", "keys": keys,
                                "iam_policies": [], "errors": errors}))
    return str(path)


def _scan(snapshot: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main(["scan", "--snapshot", snapshot, "--config", CONFIG, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def _plan(snapshot: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    main(["plan", "--snapshot", snapshot, "--config", CONFIG, "--format", "json"])
    plan: dict[str, Any] = json.loads(capsys.readouterr().out)
    return plan


UNREAD_CASES = [
    pytest.param(_error("ListKeys", "eu-west-1", "AccessDeniedException"),
                 f"KMS keys of account {OWNER} in eu-west-1", "ListKeys failed", id="list-keys"),
    pytest.param(_error("AssumeRole", "eu-west-1"),
                 f"KMS keys of account {OWNER} in eu-west-1", "AssumeRole failed",
                 id="assume-role"),
    pytest.param(_error("ListPolicies", "global"), f"IAM policies of account {OWNER}",
                 "ListPolicies failed", id="list-policies"),
    pytest.param(_error("GetPolicyVersion", "global", policy_arn=POLICY_ARN), POLICY_ARN,
                 "GetPolicyVersion failed", id="get-policy-version"),
]


@pytest.mark.parametrize(("error", "resource", "why"), UNREAD_CASES)
def test_what_could_not_be_read_is_unknown_and_left_to_a_person(
    error: dict[str, Any], resource: str, why: str, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    snapshot = _snapshot(tmp_path, [], [error])
    code, scanned = _scan(snapshot, capsys)
    assert code == 1
    assert scanned["findings"] == []
    assert [u["resource"] for u in scanned["unknown"]] == [resource]
    assert why in scanned["unknown"][0]["reason"]
    people = _plan(snapshot, capsys)["needs_a_person"]
    assert [(p["resource"], p["key_arn"]) for p in people] == [(resource, None)]
    assert why in people[0]["reason"]


@pytest.mark.parametrize("error", [
    _error("ListAliases", "eu-west-1"),  # keys are still read; no rule reads aliases alone
    _error("GetKeyRotationStatus", "eu-west-1", key_arn=KEY_ARN),
    _error("ListResourceTags", "eu-west-1", key_arn=KEY_ARN),
])
def test_a_failed_read_no_rule_depends_on_leaves_the_key_assessed(
    error: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, scanned = _scan(_snapshot(tmp_path, [_key()], [error]), capsys)
    assert (code, scanned["unknown"], scanned["findings"]) == (0, [], [])


def test_a_key_whose_grants_could_not_be_read_is_unknown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    error = _error("ListGrants", "eu-west-1", "AccessDeniedException", key_arn=KEY_ARN)
    snapshot = _snapshot(tmp_path, [_key(grants_error=error["message"])], [error])
    code, scanned = _scan(snapshot, capsys)
    assert code == 1
    assert [u["key_arn"] for u in scanned["unknown"]] == [KEY_ARN]
    assert "grants could not be read" in scanned["unknown"][0]["reason"]
    people = _plan(snapshot, capsys)["needs_a_person"]
    assert [(p["key_arn"], p["resource"]) for p in people] == [(KEY_ARN, KEY_ARN)]
    # The same key with its grants read is clean.
    clean = _snapshot(tmp_path, [_key()], [])
    assert _scan(clean, capsys) == (0, {"findings": [], "unknown": [], "skipped": []})
