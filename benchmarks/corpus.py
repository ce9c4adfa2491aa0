"""A reproducible mixed corpus of realistic key policies for benchmarks and fuzzing."""

from __future__ import annotations

import random
from typing import Any

OWNER = "111122223333"
TRUSTED = "222233334444"
OUTSIDER = "444455556666"
ORG = "o-a1b2c3d4e5"

_PRINCIPALS: list[Any] = [
    {"AWS": f"arn:aws:iam::{OWNER}:root"},
    {"AWS": f"arn:aws:iam::{OWNER}:role/KeyAdmin"},
    {"AWS": [f"arn:aws:iam::{OWNER}:role/App", f"arn:aws:iam::{TRUSTED}:root"]},
    {"AWS": OUTSIDER},
    {"AWS": f"arn:aws:sts::{OUTSIDER}:assumed-role/Deploy/session"},
    "*",
    {"AWS": "*"},
    {"Service": "cloudtrail.amazonaws.com"},
    {"Service": ["logs.eu-west-1.amazonaws.com", "sns.amazonaws.com"]},
]
_ACTIONS: list[Any] = [
    "kms:*",
    ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
    ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
     "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
     "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"],
    ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
    "kms:Decrypt",
    "*",
]
_CONDITIONS: list[Any] = [
    None,
    {"StringEquals": {"kms:CallerAccount": OWNER, "kms:ViaService": "s3.eu-west-1.amazonaws.com"}},
    {"StringEquals": {"aws:PrincipalOrgID": ORG}},
    {"StringEquals": {"aws:SourceAccount": OWNER}},
    {"ArnLike": {"aws:SourceArn": f"arn:aws:cloudtrail:*:{OWNER}:trail/*"}},
    {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/Admin"}},
    {"Bool": {"kms:GrantIsForAWSResource": "true"}},
    {"StringEqualsIfExists": {"aws:SourceVpce": "vpce-0abc1234"}},
    {"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.0/24"]}},
]
_DENIES: list[Any] = [
    {"Sid": "DenyOutsideOrg", "Effect": "Deny", "Principal": "*", "Action": "kms:*",
     "Resource": "*", "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": ORG}}},
    {"Sid": "DenyInsecure", "Effect": "Deny", "Principal": "*", "Action": "kms:*",
     "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
]


def random_policy(rng: random.Random) -> dict[str, Any]:
    statements = []
    if rng.random() < 0.8:
        statements.append({"Sid": "Enable IAM User Permissions", "Effect": "Allow",
                           "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
                           "Action": "kms:*", "Resource": "*"})
    for i in range(rng.randint(1, 4)):
        stmt: dict[str, Any] = {
            "Sid": f"S{i}",
            "Effect": "Allow",
            "Principal": rng.choice(_PRINCIPALS),
            "Action": rng.choice(_ACTIONS),
            "Resource": "*",
        }
        cond = rng.choice(_CONDITIONS)
        if cond is not None:
            stmt["Condition"] = cond
        statements.append(stmt)
    if rng.random() < 0.25:
        statements.append(rng.choice(_DENIES))
    rng.shuffle(statements)
    return {"Version": "2012-10-17", "Statement": statements}


def corpus(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [random_policy(rng) for _ in range(n)]


def _console_default(rng: random.Random) -> dict[str, Any]:
    n = rng.randrange(2000)
    admin = f"arn:aws:iam::{OWNER}:role/KeyAdmin"
    user = f"arn:aws:iam::{OWNER}:role/app-{n}"
    return {"Version": "2012-10-17", "Id": "key-consolepolicy-3", "Statement": [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"}, "Action": "kms:*", "Resource": "*"},
        {"Sid": "Allow access for Key Administrators", "Effect": "Allow",
         "Principal": {"AWS": admin}, "Action": _ACTIONS[2], "Resource": "*"},
        {"Sid": "Allow use of the key", "Effect": "Allow", "Principal": {"AWS": user},
         "Action": _ACTIONS[1], "Resource": "*"},
        {"Sid": "Allow attachment of persistent resources", "Effect": "Allow",
         "Principal": {"AWS": user}, "Action": _ACTIONS[3], "Resource": "*",
         "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
    ]}


def _service_default(rng: random.Random) -> dict[str, Any]:
    service = rng.choice(["ec2", "s3", "rds", "secretsmanager", "sqs"])
    return {"Version": "2012-10-17", "Id": f"auto-{service}", "Statement": [
        {"Sid": "Allow access through the service for all principals in the account",
         "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": _ACTIONS[1] + ["kms:CreateGrant"],
         "Resource": "*", "Condition": {"StringEquals": {
             "kms:CallerAccount": OWNER, "kms:ViaService": f"{service}.eu-west-1.amazonaws.com"}}},
        {"Sid": "Allow direct access to key metadata to the account", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
         "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"],
         "Resource": "*"},
    ]}


def realistic_policy(rng: random.Random) -> dict[str, Any]:
    """An estate's mix: console defaults with per-key roles, AWS default and service
    policies, and a quarter exposed in assorted ways."""
    roll = rng.random()
    if roll < 0.4:
        return _console_default(rng)
    if roll < 0.55:
        return {"Version": "2012-10-17", "Id": "key-default-1", "Statement": [
            {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"}, "Action": "kms:*",
             "Resource": "*"}]}
    if roll < 0.75:
        return _service_default(rng)
    return random_policy(rng)


def realistic_corpus(n: int, seed: int = 11, unique_sids: bool = False,
                     unique_statements: bool = False) -> list[dict[str, Any]]:
    """``unique_sids`` gives every statement a distinct Sid, as the policy generator's numbered
    Sids do: the statements are still shared by content. ``unique_statements`` also adds to
    each statement's Action list a non-KMS action of its own, which grants nothing on a key
    (so no verdict changes) but makes every statement new, down to its action list: no parsed
    statement, nor any part of one, can be shared between policies. That is the cold path."""
    rng = random.Random(seed)
    docs = [realistic_policy(rng) for _ in range(n)]
    if unique_sids or unique_statements:
        for i, d in enumerate(docs):
            d["Statement"] = [dict(s) for s in d["Statement"]]  # the Denies are shared dicts
            for j, s in enumerate(d["Statement"]):
                s["Sid"] = f"p{i}s{j}"
                if unique_statements:
                    actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
                    s["Action"] = [*actions, f"s3:GetObjectTagging{i}x{j}"]
    return docs


_RANDOM_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                   "kms:DescribeKey", "kms:CreateGrant", "kms:PutKeyPolicy",
                   "kms:ScheduleKeyDeletion", "kms:*", "kms:Get*", "kms:List*", "kms:DisableKey",
                   "*"]


def _any_account(rng: random.Random) -> str:
    return str(rng.randrange(10**11, 10**12))


def _any_principal(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.15:
        return "*"
    if roll < 0.3:
        return {"AWS": f"arn:aws:iam::{_any_account(rng)}:root"}
    if roll < 0.5:
        account = rng.choice([OWNER, _any_account(rng)])
        return {"AWS": f"arn:aws:iam::{account}:role/r{rng.randrange(10**6)}"}
    if roll < 0.6:
        return {"AWS": _any_account(rng)}
    if roll < 0.7:
        return {"Service": rng.choice(["s3", "logs", "sns", "cloudtrail"]) + ".amazonaws.com"}
    return {"AWS": [f"arn:aws:iam::{_any_account(rng)}:user/u{rng.randrange(10**6)}"
                    for _ in range(rng.randint(1, 3))]}


def _any_condition(rng: random.Random) -> Any:
    roll = rng.random()
    if roll < 0.4:
        return None
    if roll < 0.55:
        return {"StringEquals": {"kms:CallerAccount": _any_account(rng)}}
    if roll < 0.65:
        return {"StringEquals": {"aws:PrincipalOrgID": f"o-{rng.randrange(10**10):010d}"}}
    if roll < 0.75:
        return {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::b{rng.randrange(10**6)}"}}
    if roll < 0.85:
        return {"IpAddress": {"aws:SourceIp": f"10.{rng.randrange(256)}.0.0/16"}}
    return {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com",
                             "kms:CallerAccount": _any_account(rng)}}


def random_policy_anew(rng: random.Random) -> dict[str, Any]:
    """A policy drawn at random with nothing reused: every account, role, user, Sid and
    condition value new, as a naive generator writes them (the engine's worst case: no
    statement, principal or condition can be shared)."""
    statements: list[dict[str, Any]] = [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"}, "Action": "kms:*", "Resource": "*"}]
    for _ in range(rng.randint(1, 4)):
        stmt: dict[str, Any] = {
            "Sid": f"S{rng.randrange(10**6)}", "Effect": rng.choice(["Allow"] * 4 + ["Deny"]),
            "Principal": _any_principal(rng),
            "Action": rng.sample(_RANDOM_ACTIONS, rng.randint(1, 4)), "Resource": "*"}
        cond = _any_condition(rng)
        if cond is not None:
            stmt["Condition"] = cond
        statements.append(stmt)
    rng.shuffle(statements)
    return {"Version": "2012-10-17", "Statement": statements}


def random_corpus(n: int, seed: int = 13) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [random_policy_anew(rng) for _ in range(n)]
