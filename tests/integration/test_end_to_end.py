"""Scan → plan → apply → rollback with the real planner, across two accounts and two Regions
of a moto server process, through the command layer the CLI uses.

Every touched policy returns to its original document, revoked grants are re-created, and keys
the plan does not touch never change.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from kms_estate import local_credentials

from remediator.assess import assess
from remediator.commands.planning import config_sha256, plan_snapshot
from remediator.commands.scanning import live_snapshot
from remediator.commands.writes import run_apply, run_rollback
from remediator.config import Config, load_config
from remediator.localaws import LocalAws
from remediator.plan import write_plan

pytestmark = pytest.mark.integration

ACCOUNTS = ("121212121212", "343434343434")
OUTSIDER = "999988887777"
REGIONS = ("eu-west-1", "us-east-1")
ROLE = "RemediatorRole"
BUCKET = "e2e-backups"
EXPOSURE = {"KMS-PUBLIC", "KMS-CROSS-ACCOUNT", "KMS-SERVICE-UNSCOPED", "KMS-GRANT-EXTERNAL"}


def _kms(aws: LocalAws, account: str, region: str) -> Any:
    creds = aws.client("sts", region).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/{ROLE}", RoleSessionName="seed")["Credentials"]
    return boto3.Session(aws_access_key_id=creds["AccessKeyId"],
                         aws_secret_access_key=creds["SecretAccessKey"],
                         aws_session_token=creds["SessionToken"], region_name=region
                         ).client("kms", endpoint_url=aws.endpoint_url)


def _policy(account: str, exposed: bool) -> str:
    stmts: list[dict[str, Any]] = [{
        "Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*",
        "Resource": "*"}]
    if exposed:
        stmts += [
            {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt",
             "Resource": "*"},
            {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": OUTSIDER},
             "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*"},
            {"Sid": "EventBridge", "Effect": "Allow",
             "Principal": {"Service": "events.amazonaws.com"},
             "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*"},
        ]
    return json.dumps({"Version": "2012-10-17", "Statement": stmts})


def _seed(aws: LocalAws) -> dict[str, str]:
    """An exposed key (with an outsider's grant) and a clean key per account and Region."""
    kind: dict[str, str] = {}
    for account in ACCOUNTS:
        for region in REGIONS:
            kms = _kms(aws, account, region)
            for exposed in (True, False):
                meta = kms.create_key(Policy=_policy(account, exposed))["KeyMetadata"]
                kind[meta["Arn"]] = "exposed" if exposed else "clean"
                if exposed:
                    kms.create_grant(KeyId=meta["KeyId"], Name="outsider",
                                     GranteePrincipal=f"arn:aws:iam::{OUTSIDER}:role/Batch",
                                     Operations=["Decrypt", "GenerateDataKey"])
    s3 = aws.client("s3", REGIONS[0])
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGIONS[0]})
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    return kind


@pytest.fixture(scope="module")
def estate(fresh_aws: LocalAws, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[Config, Path, dict[str, str]]]:
    kind = _seed(fresh_aws)
    folder = tmp_path_factory.mktemp("e2e")
    cfg = folder / "config.yaml"
    cfg.write_text(yaml.safe_dump({
        "accounts": [{"id": a, "role_name": ROLE} for a in ACCOUNTS],
        "regions": list(REGIONS), "endpoint_url": fresh_aws.endpoint_url,
        "sandbox_accounts": list(ACCOUNTS), "backup": {"bucket": BUCKET, "prefix": "e2e"},
    }))
    with local_credentials():
        yield load_config(cfg), cfg, kind


def _state(config: Config) -> dict[str, tuple[Any, list[tuple[str, tuple[str, ...]]]]]:
    snap = live_snapshot(config)
    return {k.arn: (k.policy, sorted((g["GranteePrincipal"], tuple(sorted(g["Operations"])))
                                     for g in k.grants)) for k in snap.keys}


def test_scan_plan_apply_rollback(estate: tuple[Config, Path, dict[str, str]]) -> None:
    config, cfg_path, kind = estate
    before_snapshot = live_snapshot(config)
    assert len(before_snapshot.keys) == len(kind) == 8
    found = assess(before_snapshot, config)
    assert {f.finding.rule for f in found.findings} >= EXPOSURE
    original = _state(config)

    plan = plan_snapshot(before_snapshot, config, config_sha256(cfg_path))
    assert {c["key_arn"] for c in plan["changes"]} == {a for a, k in kind.items()
                                                       if k == "exposed"}
    plan_path = cfg_path.parent / "plan.json"
    write_plan(plan, plan_path)

    applied = run_apply(str(plan_path), plan["digest"], config, (), out=io.StringIO())
    assert applied.exit_code == 0, applied.to_dict()
    after = _state(config)
    left = assess(live_snapshot(config), config)
    assert not {f.finding.rule for f in left.findings} & EXPOSURE
    for arn, k in kind.items():
        if k == "clean":
            assert after[arn] == original[arn], "a key the plan does not touch changed"
        else:
            assert after[arn][0] != original[arn][0] and after[arn][1] == []

    rolled = run_rollback(applied.run_id, config, None, False, False, False, out=io.StringIO())
    assert rolled.exit_code == 0, rolled.to_dict()
    assert _state(config) == original, "every policy and grant is back as it was"
