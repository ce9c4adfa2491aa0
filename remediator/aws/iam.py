"""Customer-managed IAM policies of one account, default versions only (for rule KMS.1).

ListPolicies(Scope=Local) pages, then one GetPolicyVersion per policy for its default version,
in parallel. IAM is global: one read per account, whatever the Regions.
"""

from __future__ import annotations

import json
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import structlog

from remediator.aws.calls import ShardCaller
from remediator.aws.retry import AWS_ERRORS, error_code
from remediator.snapshot import IamPolicySnapshot

log = structlog.get_logger(__name__)

_POLICY_ERRORS: tuple[type[Exception], ...] = (*AWS_ERRORS, ValueError)
LIST_POLICIES_MAX_ITEMS = 1000  # the most IAM returns in one page


def read_iam_policies(
    caller: ShardCaller, iam: Any, workers: int
) -> tuple[list[IamPolicySnapshot], list[dict[str, Any]]]:
    """Every customer-managed policy's default version, and the errors met reading them.

    A failure to list raises (the caller records it); a failure on one policy is recorded and
    the others are still read.
    """
    listed = caller.items(
        iam, "ListPolicies", "Policies", Scope="Local", MaxItems=LIST_POLICIES_MAX_ITEMS
    )
    with ThreadPoolExecutor(workers, thread_name_prefix="iam") as pool:
        outcomes = list(pool.map(lambda p: _read_policy(caller, iam, p), listed))
    policies = [p for p in outcomes if isinstance(p, IamPolicySnapshot)]
    errors = [e for e in outcomes if isinstance(e, dict)]
    log.info(
        "inventory.iam.read", account=caller.account, policies=len(policies), errors=len(errors)
    )
    return policies, errors


def _read_policy(
    caller: ShardCaller, iam: Any, listed: dict[str, Any]
) -> IamPolicySnapshot | dict[str, Any]:
    arn, version = listed["Arn"], listed["DefaultVersionId"]
    try:
        response = caller.call(iam, "GetPolicyVersion", PolicyArn=arn, VersionId=version)
        document = _document(response["PolicyVersion"]["Document"])
    except _POLICY_ERRORS as exc:
        return {
            "account": caller.account,
            "region": "global",
            "key_arn": None,
            "policy_arn": arn,
            "operation": "GetPolicyVersion",
            "code": error_code(exc),
            "message": str(exc),
        }
    return IamPolicySnapshot(
        arn=arn,
        account=caller.account,
        version_id=version,
        document=document,
        name=listed.get("PolicyName"),
        attachment_count=listed.get("AttachmentCount"),
    )


def _document(raw: Any) -> dict[str, Any]:
    """boto3 decodes IAM policy documents to dicts; a raw API answer is URL-encoded JSON."""
    document = json.loads(urllib.parse.unquote(raw)) if isinstance(raw, str) else raw
    if not isinstance(document, dict):
        raise ValueError("the policy document is not a JSON object")
    return document
