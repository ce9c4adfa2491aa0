"""Builds tests/data/example-snapshot.json: a dozen realistically exposed keys.

Run `python tests/data/build_example_snapshot.py` after changing a case; the JSON is committed
so that the README's example plan and the tests read the same estate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OWNER, TRUSTED, OUTSIDER = "111122223333", "222233334444", "444455556666"
REGION = "eu-west-1"
ROOT = {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"}, "Action": "kms:*", "Resource": "*"}
USE = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
ADMIN = f"arn:aws:iam::{OWNER}:role/KeyAdmin"
APP = f"arn:aws:iam::{OWNER}:role/App"


def policy(*stmts: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Id": "key-policy", "Statement": list(stmts)}


def allow(sid: str, principal: Any, action: Any, cond: dict[str, Any] | None = None
          ) -> dict[str, Any]:
    s = {"Sid": sid, "Effect": "Allow", "Principal": principal, "Action": action,
         "Resource": "*"}
    if cond:
        s["Condition"] = cond
    return s


CONSOLE_DEFAULT = policy(
    ROOT,
    allow("Allow access for Key Administrators", {"AWS": ADMIN},
          ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
           "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
           "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"]),
    allow("Allow use of the key", {"AWS": APP}, USE,
          {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}}),
)

CASES: list[tuple[str, dict[str, Any] | None, list[dict[str, Any]]]] = [
    ("public-decrypt", policy(ROOT, allow("Public", "*", "kms:Decrypt")), []),
    ("public-in-principal-list", policy(ROOT, allow("AppAndEveryone", {"AWS": ["*", APP]}, USE,
            {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}})), []),
    ("public-notprincipal", policy(ROOT, {"Sid": "AllButOne", "Effect": "Allow",
            "NotPrincipal": {"AWS": APP}, "Action": "kms:Decrypt", "Resource": "*"}), []),
    ("cross-account-root", policy(ROOT, allow("Partner", {"AWS": f"arn:aws:iam::{OUTSIDER}:root"},
            USE)), []),
    ("foreign-organisation", policy(ROOT, allow("OtherOrg", {"AWS": "*"}, "kms:Decrypt",
            {"StringEquals": {"aws:PrincipalOrgID": "o-zz9988776655"}})), []),
    ("unscoped-eventbridge", policy(ROOT, allow(
        "EventBridge", {"Service": "events.amazonaws.com"},
        ["kms:Decrypt", "kms:GenerateDataKey"])), []),
    ("missing-root", policy(allow("AdminOnly", {"AWS": ADMIN}, "kms:*")), []),
    ("destructive-ops-role", policy(ROOT, allow("Ops", {"AWS": f"arn:aws:iam::{OWNER}:role/Ops"},
            ["kms:DescribeKey", "kms:ScheduleKeyDeletion", "kms:DisableKey"])), []),
    ("wildcard-to-app", policy(ROOT, allow("AppEverything", {"AWS": APP}, "kms:*")), []),
    ("direct-use-no-via-service", policy(ROOT, allow("AppDirect", {"AWS": APP},
            ["kms:Encrypt", "kms:Decrypt"])), []),
    ("external-grant", CONSOLE_DEFAULT, [{
        "KeyId": "k", "GrantId": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "Name": "partner-batch", "CreationDate": "2026-01-01T00:00:00Z",
        "GranteePrincipal": f"arn:aws:iam::{OUTSIDER}:role/Batch",
        "IssuingAccount": f"arn:aws:iam::{OWNER}:root",
        "Operations": ["Decrypt", "GenerateDataKey"]}]),
    ("console-default-clean", CONSOLE_DEFAULT, []),
    ("unreadable-policy", None, []),
]


def key(index: int, name: str, doc: dict[str, Any] | None, grants: list[dict[str, Any]]
        ) -> dict[str, Any]:
    key_id = f"0000{index:04d}-aaaa-4bbb-8ccc-{index:012d}"
    return {
        "arn": f"arn:aws:kms:{REGION}:{OWNER}:key/{key_id}", "account": OWNER, "region": REGION,
        "key_id": key_id, "manager": "CUSTOMER", "state": "Enabled", "multi_region": False,
        "policy": doc,
        "policy_error": None if doc else "AccessDeniedException: kms:GetKeyPolicy denied",
        "grants": grants, "aliases": [f"alias/{name}"], "rotation_enabled": True,
        "tags": {"case": name},
    }


def build() -> dict[str, Any]:
    return {
        "version": 1, "taken_at": "2026-11-23T12:00:00Z",
        "keys": [key(i, n, d, g) for i, (n, d, g) in enumerate(CASES, 1)],
        "iam_policies": [{
            "arn": f"arn:aws:iam::{OWNER}:policy/DecryptEverything", "account": OWNER,
            "version_id": "v1",
            "document": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": "*"}]}}],
        "errors": [],
    }


if __name__ == "__main__":
    out = Path(__file__).with_name("example-snapshot.json")
    out.write_text(json.dumps(build(), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
