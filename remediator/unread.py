"""What a snapshot could not read: scan reports each as unknown and plan leaves each to a
person, so that a denied or failed read is never taken for "no findings".

The inventory records every failed AWS call in the snapshot's ``errors`` and goes on. Most
concern one key, and that key carries them itself (``policy_error``, ``grants_error``). These
leave whole resources unread: a shard's keys (AssumeRole or ListKeys failed in one account and
Region), an account's customer-managed IAM policies (AssumeRole or ListPolicies failed), or one
IAM policy (GetPolicyVersion failed, or its document did not decode). ListAliases,
GetKeyRotationStatus and ListResourceTags failures are not here: no rule reads what they return
(a key's manager comes from DescribeKey).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from remediator.snapshot import KeySnapshot, Snapshot

IAM_REGION = "global"  # the inventory's Region for IAM reads


@dataclass(frozen=True, slots=True)
class Unread:
    """A resource the snapshot does not hold, or holds only in part, and why."""

    resource: str  # an IAM policy ARN, a key ARN, or a description of a shard
    account: str
    region: str | None
    reason: str
    key_arn: str | None = None  # when it is about one key


def _failed(error: Mapping[str, Any]) -> str:
    return f"{error.get('operation')} failed: {error.get('code')}: {error.get('message')}"


def _from_error(error: Mapping[str, Any]) -> Unread | None:
    operation, region = error.get("operation"), error.get("region")
    account = str(error.get("account"))
    if operation == "GetPolicyVersion" and error.get("policy_arn"):
        return Unread(str(error["policy_arn"]), account, None,
                      f"the IAM policy could not be read ({_failed(error)}), so it was not "
                      "checked for KMS.1")
    if error.get("key_arn") or operation not in ("AssumeRole", "ListKeys", "ListPolicies"):
        return None
    if region == IAM_REGION:
        return Unread(f"IAM policies of account {account}", account, None,
                      f"the account's customer-managed IAM policies could not be listed "
                      f"({_failed(error)}), so none was checked for KMS.1")
    return Unread(f"KMS keys of account {account} in {region}", account, str(region),
                  f"the keys could not be listed ({_failed(error)}), so none was assessed")


def unread_resources(snapshot: Snapshot) -> list[Unread]:
    """Every shard, IAM listing and IAM policy the snapshot's ``errors`` say was not read."""
    return [u for u in map(_from_error, snapshot.errors) if u is not None]


def unread_grants(key: KeySnapshot) -> Unread | None:
    """The key's grants, when ListGrants failed: they were not checked (an empty list read
    as "no risky grants" would hide any)."""
    if key.grants_error is None:
        return None
    return Unread(key.arn, key.account, key.region,
                  f"the key's grants could not be read (ListGrants failed: {key.grants_error}), "
                  "so they were not checked", key.arn)
