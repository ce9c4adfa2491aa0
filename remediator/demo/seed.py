"""Seed the local AWS with a small organisation whose keys are exposed in every way the rules
know: a sandbox account (the bot may change it), a production account (it may not), and an
external account (an outsider)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from remediator.localaws import LocalAws

REGION = "eu-west-1"
ROLE = "OrganizationAccountAccessRole"
USE = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]


@dataclass(frozen=True, slots=True)
class Estate:
    sandbox: str
    production: str
    external: str
    org_id: str
    bucket: str
    keys: dict[str, str]  # case name -> key ARN


def _root(account: str) -> dict[str, Any]:
    return {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": "kms:*",
            "Resource": "*"}


def _allow(sid: str, principal: Any, action: Any, cond: dict[str, Any] | None = None
           ) -> dict[str, Any]:
    s: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Principal": principal,
                         "Action": action, "Resource": "*"}
    if cond:
        s["Condition"] = cond
    return s


def exposed_policies(owner: str, external: str) -> dict[str, list[dict[str, Any]]]:
    """Statements for each case, after the owner-root statement (absent for missing-root)."""
    app = f"arn:aws:iam::{owner}:role/App"
    via = {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}}
    return {
        "public": [_allow("Public", "*", "kms:Decrypt")],
        "public-in-list": [_allow("AppAndEveryone", {"AWS": ["*", app]}, USE, via)],
        "cross-account": [_allow("Partner", {"AWS": f"arn:aws:iam::{external}:root"}, USE, via)],
        "foreign-org": [_allow("OtherOrg", "*", "kms:Decrypt",
                               {"StringEquals": {"aws:PrincipalOrgID": "o-zz9988776655"}})],
        # EventBridge with no aws:SourceAccount or aws:SourceArn: any account's rule could
        # have EventBridge use the key for it (confused deputy).
        "unscoped-service": [_allow("EventBridge", {"Service": "events.amazonaws.com"},
                                    ["kms:Decrypt", "kms:GenerateDataKey"])],
        "missing-root": [_allow("AdminOnly", {"AWS": f"arn:aws:iam::{owner}:role/KeyAdmin"},
                                ["kms:Describe*", "kms:Put*", "kms:Enable*"])],
        "destructive": [_allow("Ops", {"AWS": f"arn:aws:iam::{owner}:role/Ops"},
                               ["kms:DescribeKey", "kms:ScheduleKeyDeletion", "kms:DisableKey"])],
        "wildcard-action": [_allow("AppEverything", {"AWS": app}, "kms:*", via)],
        "direct-use": [_allow("AppDirect", {"AWS": app}, ["kms:Encrypt", "kms:Decrypt"])],
        "external-grant": [_allow("AppViaS3", {"AWS": app}, USE, via)],
        "clean": [_allow("AppViaS3", {"AWS": app}, USE, via)],
    }


def _policy(owner: str, case: str, stmts: list[dict[str, Any]]) -> str:
    body = stmts if case == "missing-root" else [_root(owner), *stmts]
    return json.dumps({"Version": "2012-10-17", "Id": f"demo-{case}", "Statement": body})


def _account_client(aws: LocalAws, account: str, service: str) -> Any:
    sts = aws.client("sts", REGION)
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{ROLE}",
                            RoleSessionName="demo-seed")["Credentials"]
    import boto3

    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"], region_name=REGION,
    ).client(service, endpoint_url=aws.endpoint_url)


def _organisation(aws: LocalAws) -> tuple[str, list[str]]:
    org = aws.client("organizations", REGION)
    org_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    ids = []
    for name in ("sandbox", "production", "external"):
        status = org.create_account(Email=f"{name}@example.com", AccountName=name)
        ids.append(status["CreateAccountStatus"]["AccountId"])
    return org_id, ids


_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def _seed_roles(aws: LocalAws, account: str) -> None:
    """The roles the key policies name, so that rollback finds them."""
    iam = _account_client(aws, account, "iam")
    for name in ("App", "KeyAdmin", "Ops"):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=_TRUST)


def _seed_keys(aws: LocalAws, owner: str, external: str, cases: list[str]) -> dict[str, str]:
    _seed_roles(aws, owner)
    kms = _account_client(aws, owner, "kms")
    arns = {}
    for case in cases:
        stmts = exposed_policies(owner, external)[case]
        meta = kms.create_key(Policy=_policy(owner, case, stmts), Description=f"demo {case}",
                              Tags=[{"TagKey": "case", "TagValue": case}])["KeyMetadata"]
        kms.create_alias(AliasName=f"alias/demo-{case}", TargetKeyId=meta["KeyId"])
        if case == "external-grant":
            kms.create_grant(KeyId=meta["KeyId"], Name="partner-batch",
                             GranteePrincipal=f"arn:aws:iam::{external}:role/Batch",
                             Operations=["Decrypt", "GenerateDataKey"])
        arns[f"{owner}/{case}"] = meta["Arn"]
    return arns


def seed(aws: LocalAws, bucket: str = "kms-remediator-demo-backups") -> Estate:
    """Create the organisation, its keys and the versioned backup bucket."""
    org_id, (sandbox, production, external) = _organisation(aws)
    keys = _seed_keys(aws, sandbox, external, list(exposed_policies(sandbox, external)))
    keys |= _seed_keys(aws, production, external, ["public", "cross-account", "clean"])
    s3 = aws.client("s3", REGION)  # the operator's own (management) account keeps the backups
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return Estate(sandbox, production, external, org_id, bucket, keys)
