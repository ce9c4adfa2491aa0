"""KMS.1: a customer-managed IAM policy allows kms:Decrypt or kms:ReEncryptFrom on all keys.

Security Hub control KMS.1 (Config rule iam-customer-policy-blocked-kms-actions) fails a
policy whose default version allows those actions on any arbitrary KMS key
(https://docs.aws.amazon.com/securityhub/latest/userguide/kms-controls.html#kms-1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from remediator.detectors.rules import RULES
from remediator.policy import actions as kms
from remediator.policy.access import statement_mask
from remediator.policy.document import Statement, parse_policy
from remediator.policy.principals import glob_match, split_arn
from remediator.types import Finding

BLOCKED = kms.bit("kms:Decrypt") | kms.bit("kms:ReEncryptFrom")
_SOME_KEY = "arn:aws:kms:eu-west-1:000000000000:key/00000000-0000-0000-0000-000000000000"
_OTHER_KEY = "arn:aws:kms:us-east-2:999999999999:key/ffffffff-ffff-ffff-ffff-ffffffffffff"


def covers_every_key(resource: str) -> bool:
    """True when a Resource value matches any KMS key ARN (``*``, ``arn:aws:kms:*``...)."""
    if resource == "*":
        return True
    arn = split_arn(resource)
    if arn is None or not glob_match(arn.service, "kms"):
        return False
    # Any key: one in another account and Region matches as well.
    return glob_match(resource, _SOME_KEY) and glob_match(resource, _OTHER_KEY)


def _all_keys(stmt: Statement) -> bool:
    if stmt.not_resources is not None:
        return not any(covers_every_key(r) or r.startswith("arn:aws:kms:")
                       for r in stmt.not_resources)
    return stmt.resources is not None and any(covers_every_key(r) for r in stmt.resources)


def detect_broad_decrypt(policy_arn: str, document: Mapping[str, Any]) -> list[Finding]:
    """KMS.1 for one IAM policy document: the blocked actions on all keys, after Denies
    that are unconditional and cover all keys too."""
    policy = parse_policy(document, identity=True)
    allowed, denied, where = 0, 0, None
    for stmt in policy.statements:
        mask = statement_mask(stmt) & BLOCKED
        if not mask or not _all_keys(stmt):
            continue
        if not stmt.allow and not stmt.conditions:
            denied |= mask
        elif stmt.allow:
            allowed |= mask
            where = where or stmt
    left = allowed & ~denied
    if not left or where is None:
        return []
    rule = RULES["KMS.1"]
    names = kms.full_names(left)
    return [Finding(rule=rule.id, severity=rule.severity, statement=where.index, sid=where.sid,
                    actions=names, reference=rule.reference, resource=policy_arn,
                    message=f"IAM policy {policy_arn} allows {' and '.join(names)} on every KMS "
                    "key; name the keys the role needs in Resource.")]
