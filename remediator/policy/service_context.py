"""The accounts a service's own encryption context ties a service principal to.

AWS services that encrypt with a customer's key put the resource they act for in the
encryption context, under keys of their own: CloudWatch Logs the log group's ARN
(``aws:logs:arn``), CloudTrail the trail's (``aws:cloudtrail:arn``), SES the sending account
(``aws:ses:source-account``). AWS documents a condition on such a key as the way to "restrict
the key to be used with a single account and log group"
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html, and
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html
for trails). Acting for another customer's resource, the service writes that customer's ARN
there, so for a *service principal* such a condition pins the customer as ``aws:SourceAccount``
does. (An IAM caller chooses its own encryption context, so for it the condition pins nobody.)

Only a key of the principal's own service counts: ``aws:logs:arn`` for
``logs.REGION.amazonaws.com``. A key another service writes (S3 publishing to an SNS topic whose
``aws:sns:topicArn`` is named) says which resource is encrypted, not for whom the principal
acts, so it pins nobody.
"""

from __future__ import annotations

from functools import lru_cache

from remediator.policy.document import Condition
from remediator.policy.principals import account_of_arn_value, is_account_id

SERVICE_CONTEXT_PREFIX = "kms:encryptioncontext:aws:"


def service_of_key(key: str) -> str | None:
    """``logs`` for ``kms:encryptioncontext:aws:logs:arn``; None for another key."""
    if not key.startswith(SERVICE_CONTEXT_PREFIX):
        return None
    return key[len(SERVICE_CONTEXT_PREFIX):].split(":", 1)[0] or None


def service_name(principal: str) -> str:
    """``logs`` for ``logs.eu-west-1.amazonaws.com``."""
    return principal.strip().lower().split(".", 1)[0]


def _accounts(cond: Condition, services: frozenset[str]) -> frozenset[str] | None:
    op = cond.operator
    if (service_of_key(cond.key) not in services or not op.is_positive
            or op.holds_when_missing or op.family not in ("string", "arn")):
        return None
    out = set()
    for value in cond.values:
        v = value.strip()
        account = v if is_account_id(v) else account_of_arn_value(v, op.wildcards)
        if account is None:
            return None  # a volume id, a wildcard account: no one customer
        out.add(account)
    return frozenset(out)


@lru_cache(maxsize=16_384)
def service_context_accounts(conditions: tuple[Condition, ...],
                             services: tuple[str, ...]) -> frozenset[str] | None:
    """The accounts a positive condition on the services' own encryption-context key names
    (the intersection when several do), or None when none pins one. ``services``: the
    statement's service principals; every one must be the key's service."""
    names = frozenset(service_name(s) for s in services)
    if len(names) != 1:
        return None
    pinned: frozenset[str] | None = None
    for cond in conditions:
        accounts = _accounts(cond, names)
        if accounts is not None:
            pinned = accounts if pinned is None else pinned & accounts
    return pinned


def context_value_for(values: tuple[str, ...], account: str) -> str | None:
    """A value of such a key as the service writes it acting for ``account``: the first named
    ARN with its account part replaced, or the account itself when the values are account ids;
    None when no value names an account."""
    for value in values:
        v = value.strip()
        if is_account_id(v):
            return account
        parts = v.split(":", 5)
        if len(parts) == 6 and is_account_id(parts[4]):
            return ":".join([*parts[:4], account, parts[5]]).replace("*", "x").replace("?", "x")
    return None
