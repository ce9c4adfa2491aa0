"""`scan` and `plan` read one snapshot the same way (fourth audit):

1. AWS managed keys and keys pending deletion are skipped by both, as the live inventory skips
   them (they are never planned; scan lists them as skipped, not as findings); disabled keys
   are assessed and planned like enabled ones.
2. A key policy that does not parse is that key's problem only: scan lists the key as unknown,
   plan lists it for a person with the parser's reason and plans every other key. An IAM
   policy that does not parse is named, reported as unknown (scan) or for a person (plan), and
   every other policy is still checked.
3. KMS.1 findings (IAM policies) have no playbook, as the tool never changes IAM policies:
   plan lists each for a person, naming the policy, so plan's exit code agrees with scan's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from remediator import assess as assess_module
from remediator.assess import assess
from remediator.aws import inventory
from remediator.cli import main
from remediator.commands.planning import plan_snapshot
from remediator.config import load_config
from remediator.snapshot import snapshot_from_dict

DATA = Path(__file__).parent / "data"
CONFIG = DATA / "example-config.yaml"
OWNER, EXTERNAL = "111122223333", "444455556666"
ROOT = {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
        "Action": "kms:*", "Resource": "*"}
PUBLIC = {"Sid": "Public", "Effect": "Allow", "Principal": "*",
          "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"}
PARTNER = {"Sid": "Partner", "Effect": "Allow",
           "Principal": {"AWS": f"arn:aws:iam::{EXTERNAL}:root"},
           "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*"}
# alias/aws/ebs's policy as AWS writes it: the root may not call kms:PutKeyPolicy (IAM-KMS-1)
EBS_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Allow access through EBS", "Effect": "Allow", "Principal": {"AWS": "*"},
     "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                "kms:CreateGrant", "kms:DescribeKey"], "Resource": "*",
     "Condition": {"StringEquals": {"kms:CallerAccount": OWNER,
                                    "kms:ViaService": "ec2.eu-west-1.amazonaws.com"}}},
    {"Sid": "Allow direct access to key metadata", "Effect": "Allow",
     "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
     "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"], "Resource": "*"}]}
EXTERNAL_GRANT = {"GrantId": "outsider", "GranteePrincipal": f"arn:aws:iam::{EXTERNAL}:role/B",
                  "Operations": ["Decrypt"]}
DECRYPT_ALL = {"Version": "2012-10-17",
               "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [ROOT, *statements]}


def key(n: int, doc: Any, **fields: Any) -> dict[str, Any]:
    kid = f"{n:08d}-aaaa-4bbb-8ccc-{n:012d}"
    return {"arn": f"arn:aws:kms:eu-west-1:{OWNER}:key/{kid}", "account": OWNER,
            "region": "eu-west-1", "key_id": kid, "manager": "CUSTOMER", "state": "Enabled",
            "multi_region": False, "policy": doc, "policy_error": None, "grants": [],
            "aliases": [], "rotation_enabled": True, "tags": {}, **fields}


def iam(name: str, document: Any) -> dict[str, Any]:
    return {"arn": f"arn:aws:iam::{OWNER}:policy/{name}", "account": OWNER,
            "version_id": "v1", "document": document}


def snapshot(keys: list[dict[str, Any]], policies: list[dict[str, Any]] = ()) -> dict[str, Any]:
    return {"version": 1, "taken_at": "2025-01-01T00:00:00Z", "keys": keys,
            "iam_policies": list(policies), "errors": []}


def scan_and_plan(data: dict[str, Any], *manual: str) -> tuple[Any, dict[str, Any]]:
    snap, config = snapshot_from_dict(data), load_config(CONFIG)
    return assess(snap, config), plan_snapshot(snap, config, "0" * 64, manual)


def run_cli(capsys: pytest.CaptureFixture[str], tmp_path: Path, data: dict[str, Any],
            *args: str) -> tuple[int, int, dict[str, Any], dict[str, Any]]:
    """Exit codes of `scan` and `plan` on ``data``, scan's JSON, and the plan file."""
    path, out = tmp_path / "snapshot.json", tmp_path / "plan.json"
    path.write_text(json.dumps(data))
    common = ["--snapshot", str(path), "--config", str(CONFIG)]
    capsys.readouterr()
    scan_code = main(["scan", *common, "--format", "json"])
    scanned = json.loads(capsys.readouterr().out)
    plan_code = main(["plan", *common, "--out", str(out), "--format", "json", *args])
    return scan_code, plan_code, scanned, json.loads(out.read_text())


def arn(n: int) -> str:
    return str(key(n, None)["arn"])


# --- 1. AWS managed keys and keys on their way out -------------------------------------------

SKIPPED = {
    1: {"manager": "AWS", "aliases": ["alias/aws/ebs"]},
    2: {"manager": None, "aliases": ["alias/aws/s3"]},  # DescribeKey unread: the alias says
    3: {"state": "PendingDeletion"},
    4: {"state": "PendingReplicaDeletion"},
}


def skipped_estate() -> dict[str, Any]:
    keys = [key(1, EBS_POLICY, **SKIPPED[1]), key(2, EBS_POLICY, **SKIPPED[2]),
            key(3, policy(PARTNER), grants=[EXTERNAL_GRANT], **SKIPPED[3]),
            key(4, policy(PUBLIC), **SKIPPED[4]),
            key(5, policy(PUBLIC), state="Disabled"), key(6, policy(PUBLIC))]
    return snapshot(keys)


def test_the_snapshot_path_skips_what_the_live_inventory_skips() -> None:
    assert assess_module.SKIPPED_STATES == inventory.SKIPPED_STATES
    assert assess_module.AWS_MANAGED_ALIAS_PREFIX == inventory.AWS_MANAGED_ALIAS_PREFIX


def test_aws_managed_and_pending_deletion_keys_are_skipped_by_scan_and_plan() -> None:
    result, plan = scan_and_plan(skipped_estate(), "missing-root")
    assert {f.resource for f in result.findings} == {arn(5), arn(6)}
    assert [a for a, _ in result.skipped] == [arn(1), arn(2), arn(3), arn(4)]
    reasons = dict(result.skipped)
    assert "AWS managed key" in reasons[arn(1)] and "AWS managed key" in reasons[arn(2)]
    assert "PendingDeletion" in reasons[arn(3)]
    assert result.unknown == ()
    # never planned, not even with --include-manual missing-root (IAM-KMS-1 on alias/aws/ebs)
    assert {c["key_arn"] for c in plan["changes"]} == {arn(5), arn(6)}
    assert not {p["key_arn"] for p in plan["needs_a_person"]} & {arn(n) for n in SKIPPED}


def test_a_disabled_key_is_assessed_and_planned_like_an_enabled_one() -> None:
    result, plan = scan_and_plan(skipped_estate())
    assert "KMS-PUBLIC" in {f.finding.rule for f in result.findings if f.resource == arn(5)}
    (disabled,) = [c for c in plan["changes"] if c["key_arn"] == arn(5)]
    assert disabled["playbooks"] == ["public-principal"] and disabled["auto_fix"]


def test_skipped_keys_are_listed_by_scan_and_change_no_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    only_skipped = snapshot([key(1, EBS_POLICY, **SKIPPED[1]),
                             key(3, policy(PARTNER), **SKIPPED[3])])
    scan_code, plan_code, scanned, plan = run_cli(capsys, tmp_path, only_skipped,
                                                  "--include-manual", "missing-root")
    assert (scan_code, plan_code) == (0, 0)
    assert scanned["findings"] == [] and scanned["unknown"] == []
    assert [s["key_arn"] for s in scanned["skipped"]] == [arn(1), arn(3)]
    assert plan["changes"] == [] and plan["needs_a_person"] == []
    path = tmp_path / "snapshot.json"
    assert main(["scan", "--snapshot", str(path), "--config", str(CONFIG)]) == 0
    assert f"skipped: {arn(1)}: an AWS managed key" in capsys.readouterr().out


# --- 2. Policies that do not parse -----------------------------------------------------------

INVALID_KEY_POLICIES = {
    "effect-maybe": ({"Version": "2012-10-17", "Statement": [{**PUBLIC, "Effect": "Maybe"}]},
                     'Effect must be "Allow" or "Deny"'),
    "empty-object": ({}, "no Statement element"),
    "no-statements": ({"Version": "2012-10-17", "Statement": []}, "must not be empty"),
    "condition-list": (policy({**PARTNER, "Condition": []}), "Condition must be an object"),
}


@pytest.mark.parametrize("name", sorted(INVALID_KEY_POLICIES))
def test_an_invalid_key_policy_is_left_to_a_person_and_the_other_keys_are_planned(
    name: str,
) -> None:
    doc, message = INVALID_KEY_POLICIES[name]
    data = snapshot([key(1, doc, grants=[EXTERNAL_GRANT]), key(2, policy(PUBLIC))])
    result, plan = scan_and_plan(data)
    assert [a for a, _ in result.unknown] == [arn(1)] and message in result.unknown[0][1]
    assert [c["key_arn"] for c in plan["changes"]] == [arn(2)]
    bad = [p for p in plan["needs_a_person"] if p["key_arn"] == arn(1)]
    assert bad[0]["finding"] is None and bad[0]["resource"] == arn(1)
    assert bad[0]["reason"].startswith("the key policy is not valid: ")
    assert message in bad[0]["reason"] and "not changed" in bad[0]["reason"]
    # its grant finding is reported by scan and left to a person by plan, not dropped
    assert [f.finding.grant_id for f in result.findings if f.resource == arn(1)] == ["outsider"]
    (grant_item,) = [p for p in bad if p["finding"]]
    assert grant_item["finding"]["grant_id"] == "outsider"
    assert "is not valid" in grant_item["reason"]


def test_plan_exits_1_on_an_invalid_key_policy_as_scan_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc, _ = INVALID_KEY_POLICIES["effect-maybe"]
    scan_code, plan_code, _, plan = run_cli(capsys, tmp_path, snapshot([key(1, doc)]))
    assert (scan_code, plan_code) == (1, 1)
    assert [p["key_arn"] for p in plan["needs_a_person"]] == [arn(1)]


INVALID_IAM_DOCUMENTS = {
    "empty": ({}, "no Statement element"),
    "statement-string": ({"Version": "2012-10-17", "Statement": "x"},
                         "Statement must be an object"),
    "effect-lowercase": ({"Version": "2012-10-17", "Statement": [
        {"Effect": "allow", "Action": "kms:Decrypt", "Resource": "*"}]}, "Effect must be"),
}


@pytest.mark.parametrize("name", sorted(INVALID_IAM_DOCUMENTS))
def test_an_invalid_iam_policy_is_named_and_the_others_are_still_checked(name: str) -> None:
    document, message = INVALID_IAM_DOCUMENTS[name]
    bad, good = iam("a-bad", document), iam("b-decrypt-all", DECRYPT_ALL)
    result, plan = scan_and_plan(snapshot([key(1, policy())], [bad, good]))
    assert [(f.resource, f.finding.rule) for f in result.findings] == [(good["arn"], "KMS.1")]
    ((resource, reason),) = result.unknown
    assert resource == bad["arn"] and bad["arn"] in reason and message in reason
    items = {p["resource"]: p for p in plan["needs_a_person"]}
    assert set(items) == {bad["arn"], good["arn"]}
    assert items[bad["arn"]]["finding"] is None and bad["arn"] in items[bad["arn"]]["reason"]
    assert message in items[bad["arn"]]["reason"]


def test_scan_reports_an_invalid_iam_policy_instead_of_stopping(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document, _ = INVALID_IAM_DOCUMENTS["statement-string"]
    bad = iam("bad", document)
    scan_code, plan_code, scanned, _ = run_cli(capsys, tmp_path,
                                               snapshot([key(1, policy(PUBLIC))], [bad]))
    assert (scan_code, plan_code) == (1, 1)
    assert {f["rule"] for f in scanned["findings"]} >= {"KMS-PUBLIC"}
    (unknown,) = scanned["unknown"]
    assert unknown["resource"] == bad["arn"] and "key_arn" not in unknown
    assert bad["arn"] in unknown["reason"]


# --- 3. KMS.1 in the plan ---------------------------------------------------------------------

def test_kms1_findings_are_listed_for_a_person_naming_the_policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pol = iam("decrypt-all", DECRYPT_ALL)
    scan_code, plan_code, scanned, plan = run_cli(capsys, tmp_path, snapshot([], [pol]))
    assert (scan_code, plan_code) == (1, 1)
    assert [f["rule"] for f in scanned["findings"]] == ["KMS.1"] and plan["changes"] == []
    (item,) = plan["needs_a_person"]
    assert item["finding"]["rule"] == "KMS.1" and item["finding"]["resource"] == pol["arn"]
    assert (item["resource"], item["key_arn"], item["account"]) == (pol["arn"], None, OWNER)
    assert pol["arn"] in item["reason"] and "never IAM policies" in item["reason"]


def test_plan_lists_every_kms1_finding_scan_reports() -> None:
    policies = [iam("a", DECRYPT_ALL), iam("b", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:ReEncryptFrom"], "Resource": "*"}]}),
        iam("c", {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "kms:Decrypt",
             "Resource": f"arn:aws:kms:eu-west-1:{OWNER}:key/one"}]})]
    result, plan = scan_and_plan(snapshot([], policies))
    scanned = sorted((f.resource, f.finding.rule) for f in result.findings)
    planned = sorted((p["resource"], p["finding"]["rule"]) for p in plan["needs_a_person"])
    assert scanned == planned and {r for r, _ in planned} == {policies[0]["arn"],
                                                              policies[1]["arn"]}


def test_the_review_shows_the_iam_policy(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    pol = iam("decrypt-all", DECRYPT_ALL)
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(snapshot([], [pol])))
    args = ["plan", "--snapshot", str(path), "--config", str(CONFIG)]
    assert main([*args, "--format", "markdown"]) == 1
    assert f"| `{pol['arn']}` | KMS.1 |" in capsys.readouterr().out
    assert main(args) == 1
    assert "policy/decrypt-all" in capsys.readouterr().out.replace("\n", "").replace("│", "")
