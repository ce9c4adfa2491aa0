"""Helpers of the apply and rollback tests: seed keys on the moto server, build plans by hand.

Plans are built here, not by the planner, so that these tests pin the apply/rollback contract
whatever the playbooks propose: each change holds the key's live policy as "before" and a
fixed policy as "after", with the digests ``remediator.plan`` computes.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from remediator.apply import ApplyResult, apply_plan
from remediator.aws.backup import BackupStore
from remediator.aws.retry import RetryPolicy
from remediator.aws.session import AwsSettings, ClientFactory
from remediator.config import Config
from remediator.localaws import LOCAL_CREDENTIALS_ENV, LOCAL_CREDENTIALS_UNSET, LocalAws
from remediator.plan import PLAN_VERSION, plan_digest, policy_sha256
from remediator.rollback import RollbackResult, rollback_run

SANDBOX_A, SANDBOX_B, PROD, EXTERNAL = (
    "111111111111",
    "222222222222",
    "333333333333",
    "999999999999",
)
REGIONS = ("eu-west-1", "us-east-1")
ROLE = "KmsRemediatorRole"
BUCKET = "remediator-backups"
PLAYBOOK = "public-principal"  # a built-in playbook that may auto-fix
FAST_RETRY = RetryPolicy(attempts=6, base=0.005, max_wait=0.05)


def root(account: str) -> str:
    return f"arn:aws:iam::{account}:root"


def exposed_policy(account: str, extra_principal: str | None = None,
                   policy_id: str | None = None) -> dict[str, Any]:
    """The owner root with kms:*, and Decrypt for anyone (KMS-PUBLIC). Its Id is random unless
    given, so that two keys' policies differ."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "Owner",
            "Effect": "Allow",
            "Principal": {"AWS": root(account)},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "Everyone",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "kms:Decrypt",
            "Resource": "*",
        },
    ]
    if extra_principal:
        statements.append(
            {
                "Sid": "App",
                "Effect": "Allow",
                "Principal": {"AWS": [extra_principal, root(account)]},
                "Action": ["kms:Encrypt", "kms:Decrypt"],
                "Resource": "*",
            }
        )
    return {
        "Version": "2012-10-17",
        "Id": policy_id or f"exposed-{uuid.uuid4().hex[:6]}",
        "Statement": statements,
    }


def fixed_policy(policy: dict[str, Any]) -> dict[str, Any]:
    """``policy`` without the public statement: what the plan's "after" holds."""
    return {**policy, "Statement": [s for s in policy["Statement"] if s.get("Sid") != "Everyone"]}


@dataclass
class SeededKey:
    """A key on the server, the policy it was created with and its grants."""

    arn: str
    account: str
    region: str
    key_id: str
    policy: dict[str, Any]
    grants: list[dict[str, Any]] = field(default_factory=list)

    @property
    def revoke(self) -> list[dict[str, Any]]:
        """The grants the plan revokes: those to the external account, as ListGrants lists
        them (the planner writes them so, and apply compares them with the live grants)."""
        return [g for g in self.grants if g["GranteePrincipal"] == root(EXTERNAL)]

    @property
    def revoke_ids(self) -> list[str]:
        """The ids of the grants the plan revokes."""
        return [g["GrantId"] for g in self.revoke]


def factory(
    local: LocalAws, accounts: Iterable[str] = (SANDBOX_A, SANDBOX_B, PROD)
) -> ClientFactory:
    settings = AwsSettings(region=REGIONS[0], endpoint_url=local.endpoint_url)
    return ClientFactory(local.session(), settings, dict.fromkeys(accounts, ROLE))


def config(
    local: LocalAws,
    sandbox: Sequence[str] = (SANDBOX_A, SANDBOX_B),
    bucket: str = BUCKET,
    prefix: str = "runs",
) -> Config:
    return Config.model_validate(
        {
            "accounts": [{"id": a, "role_name": ROLE} for a in (SANDBOX_A, SANDBOX_B, PROD)],
            "regions": list(REGIONS),
            "endpoint_url": local.endpoint_url,
            "sandbox_accounts": list(sandbox),
            "backup": {"bucket": bucket, "prefix": prefix},
        }
    )


def make_bucket(local: LocalAws, name: str, versioned: bool = True) -> None:
    s3 = local.client("s3")
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGIONS[0]})
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def store(local: LocalAws, prefix: str, bucket: str = BUCKET, s3: Any = None) -> BackupStore:
    """A store on a prefix of its own, so each test sees only its runs."""
    return BackupStore(s3 or local.client("s3"), bucket, prefix, retry=FAST_RETRY)


def make_key(
    clients: ClientFactory,
    account: str,
    region: str,
    policy: dict[str, Any] | None = None,
    external_grants: int = 1,
) -> SeededKey:
    """A key with ``policy`` (the exposed one by default), ``external_grants`` grants to the
    external account and one grant to the owner account that the plans keep."""
    kms = clients(account, region, "kms")
    policy = policy or exposed_policy(account)
    meta = kms.create_key(Policy=json.dumps(policy), Description="apply-test")["KeyMetadata"]
    grantees = [root(EXTERNAL)] * external_grants + [root(account)]
    for i, grantee in enumerate(grantees):
        kms.create_grant(
            KeyId=meta["KeyId"],
            GranteePrincipal=grantee,
            RetiringPrincipal=root(account),
            Operations=["Decrypt", "GenerateDataKey"],
            Constraints={"EncryptionContextSubset": {"app": f"a{i}"}},
            Name=f"grant-{i}",
        )
    grants = kms.list_grants(KeyId=meta["KeyId"])["Grants"]
    return SeededKey(meta["Arn"], account, region, meta["KeyId"], policy, grants)


def change(
    key: SeededKey,
    after: dict[str, Any] | None = None,
    auto_fix: bool = True,
    playbooks: Sequence[str] = (PLAYBOOK,),
) -> dict[str, Any]:
    """One plan change for ``key``: before = its seeded policy, after = the fixed one."""
    after = after if after is not None else fixed_policy(key.policy)
    return {
        "key_arn": key.arn,
        "account": key.account,
        "region": key.region,
        "key_id": key.key_id,
        "findings": [],
        "before": {
            "policy": key.policy,
            "policy_sha256": policy_sha256(key.policy),
            "grants": key.grants,
        },
        "after": {"policy": after, "policy_sha256": policy_sha256(after)},
        "revoke_grants": key.revoke,
        "playbooks": list(playbooks),
        "auto_fix": auto_fix,
        # The apply tests exercise what apply does with a proven change (the proof is the
        # planner's: tests/test_verify.py); an unproven one is refused (test_apply_refusals).
        "proof": {"ok": True, "requests_evaluated": 0, "checks": []},
        "diff": [],
    }


def make_plan(changes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    plan: dict[str, Any] = {
        "version": PLAN_VERSION,
        "plan_id": str(uuid.uuid4()),
        "created_at": "2026-01-01T00:00:00Z",
        "tool_version": "test",
        "config_sha256": "0" * 64,
        "changes": list(changes),
        "needs_a_person": [],
    }
    plan["digest"] = plan_digest(plan)
    return plan


def live_policy(clients: ClientFactory, key: SeededKey) -> dict[str, Any]:
    kms = clients(key.account, key.region, "kms")
    text = kms.get_key_policy(KeyId=key.key_id, PolicyName="default")["Policy"]
    document: dict[str, Any] = json.loads(text)
    return document


def live_grants(clients: ClientFactory, key: SeededKey) -> list[dict[str, Any]]:
    grants: list[dict[str, Any]] = clients(key.account, key.region, "kms").list_grants(
        KeyId=key.key_id
    )["Grants"]
    return grants


def grant_shape(grant: dict[str, Any]) -> tuple[Any, ...]:
    """What a re-created grant must keep (its id and creation date are new)."""
    return (
        grant["GranteePrincipal"],
        grant.get("RetiringPrincipal"),
        tuple(sorted(grant["Operations"])),
        json.dumps(grant.get("Constraints"), sort_keys=True),
        grant.get("Name"),
    )


def state_of(
    clients: ClientFactory, keys: Iterable[SeededKey], exact: bool = True
) -> dict[str, Any]:
    """Each key's live policy and grants (with their ids when ``exact``; only what a re-created
    grant keeps otherwise), to compare before and after an operation."""
    state = {}
    for key in keys:
        grants = live_grants(clients, key)
        shapes = sorted((g["GrantId"] if exact else "", *grant_shape(g)) for g in grants)
        state[key.arn] = (live_policy(clients, key), shapes)
    return state


def apply(
    local: LocalAws, clients: Any, plan: dict[str, Any], prefix: str, **kw: Any
) -> ApplyResult:
    """``apply_plan`` approved with the plan's digest, the test config and a fast retry."""
    cfg = kw.pop("cfg", None) or config(local)
    backups = kw.pop("backups", None) or store(local, prefix)
    return apply_plan(plan, plan["digest"], cfg, clients, backups, retry=FAST_RETRY, **kw)


def rollback(local: LocalAws, clients: Any, run_id: str, prefix: str, **kw: Any) -> RollbackResult:
    """``rollback_run`` with the test config and a fast retry."""
    return rollback_run(
        run_id, store(local, prefix), clients, config(local), retry=FAST_RETRY, **kw
    )


def statuses(result: ApplyResult | RollbackResult) -> dict[str, str]:
    """Key ARN -> status, of an apply or a rollback."""
    outcomes = result.outcomes if isinstance(result, ApplyResult) else result.keys
    return {o.key_arn: o.status for o in outcomes}


def plan_after(plan: dict[str, Any], key: SeededKey) -> Any:
    return next(c["after"]["policy"] for c in plan["changes"] if c["key_arn"] == key.arn)


@contextmanager
def local_credentials() -> Iterator[None]:
    """Fake static credentials for the base session (as the demo uses), restored after."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in LOCAL_CREDENTIALS_ENV.items():
            mp.setenv(name, value)
        for name in LOCAL_CREDENTIALS_UNSET:
            mp.delenv(name, raising=False)
        yield
