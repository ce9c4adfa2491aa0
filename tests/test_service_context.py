"""A service principal tied to the owner by its own encryption context.

Found by review of real-world key policies: CloudWatch Logs' documented statement
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html: the
``kms:EncryptionContext:aws:logs:arn`` condition "restricts the key to be used with a single
account and log group"), CloudTrail's trail statement and SES's source-account statement were
reported KMS-SERVICE-UNSCOPED "on behalf of any customer", and the plan auto-fixed them by adding
aws:SourceAccount. The service writes the resource it acts for into its own encryption-context
key, so such a statement serves those resources' accounts only. The rule still asks for
aws:SourceArn/aws:SourceAccount (DESIGN.md; AWS recommends aws:SourceArn beside the context for
CloudTrail:
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html),
so it is reported, low when those accounts are trusted, naming them, and left to a person: a
service that does not send aws:SourceAccount would be shut out by the patch.
"""

from __future__ import annotations

from typing import Any

import pytest

from remediator.detectors import analyze_key_policy
from remediator.planner import plan_policy
from remediator.playbooks import load_playbooks
from remediator.policy.document import parse_policy
from remediator.policy.requests import exposed_actions, representative_requests
from remediator.types import Context

OWNER, TRUSTED, OUTSIDER = "111122223333", "222233334444", "444455556666"
CTX = Context(OWNER, frozenset({TRUSTED}))
BOOKS = load_playbooks()
ROOT = {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
        "Action": "kms:*", "Resource": "*"}
LOGS_ACTIONS = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                "kms:Describe*"]


def _service(service: str, condition: dict[str, Any], actions: Any = LOGS_ACTIONS,
             principal: Any = None) -> dict[str, Any]:
    return {"Sid": "Service", "Effect": "Allow",
            "Principal": principal or {"Service": service}, "Action": actions,
            "Resource": "*", "Condition": condition}


def _found(*statements: dict[str, Any]) -> list[Any]:
    document = {"Version": "2012-10-17", "Statement": [ROOT, *statements]}
    return analyze_key_policy(document, CTX)


def _rules(*statements: dict[str, Any]) -> set[str]:
    return {f.rule for f in _found(*statements)}


LOGS = "logs.us-east-1.amazonaws.com"
SCOPED = {
    "cloudwatch-logs-documented": _service(LOGS, {"ArnLike": {
        "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:us-east-1:{OWNER}:*"}}),
    "cloudwatch-logs-one-log-group": _service(LOGS, {"ArnEquals": {
        "kms:EncryptionContext:aws:logs:arn":
            f"arn:aws:logs:us-east-1:{OWNER}:log-group:app"}}),
    "cloudtrail-trails-of-the-owner": _service("cloudtrail.amazonaws.com", {"StringLike": {
        "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{OWNER}:trail/*"}},
        "kms:GenerateDataKey*"),
    "ses-source-account": _service("ses.amazonaws.com", {"StringEquals": {
        "kms:EncryptionContext:aws:ses:source-account": OWNER}},
        ["kms:Decrypt", "kms:GenerateDataKey*"]),
    "a-trusted-account": _service(LOGS, {"ArnLike": {
        "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:*:{TRUSTED}:*"}}),
}
UNSCOPED = {
    # any account's log groups
    "any-account": _service(LOGS, {"ArnLike": {
        "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:*:*"}}),
    # another service's key: the SNS topic says which data is encrypted, not for whom S3 acts
    "another-services-key": _service("s3.amazonaws.com", {"StringLike": {
        "kms:EncryptionContext:aws:sns:topicArn": f"arn:aws:sns:us-east-1:{OWNER}:t"}},
        ["kms:GenerateDataKey", "kms:Decrypt"]),
    # the key may be missing, and then the condition holds
    "if-exists": _service(LOGS, {"ArnLikeIfExists": {
        "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:us-east-1:{OWNER}:*"}}),
    # a customer's own context key (not the service's)
    "customer-key": _service(LOGS, {"StringEquals": {"kms:EncryptionContext:app": OWNER}}),
}


@pytest.mark.parametrize("statement", SCOPED.values(), ids=SCOPED.keys())
def test_a_service_tied_by_its_own_context_to_the_trust_is_low_and_left_to_a_person(
    statement: dict[str, Any]
) -> None:
    [found] = [f for f in _found(statement) if f.rule == "KMS-SERVICE-UNSCOPED"]
    assert found.severity == "low"
    assert "any customer" not in found.message and "encryption context" in found.message
    assert not _rules(statement) & {"KMS-CROSS-ACCOUNT", "KMS-PUBLIC"}
    document = {"Version": "2012-10-17", "Statement": [ROOT, statement]}
    kp = plan_policy(document, CTX, BOOKS, frozenset(),
                     lambda d: analyze_key_policy(d, CTX))
    assert not kp.changed
    assert any("already tied to resources of" in u.reason for u in kp.unresolved)


@pytest.mark.parametrize("statement", UNSCOPED.values(), ids=UNSCOPED.keys())
def test_a_context_that_pins_no_one_customer_leaves_the_service_unscoped(
    statement: dict[str, Any]
) -> None:
    assert "KMS-SERVICE-UNSCOPED" in _rules(statement)


def test_a_service_tied_to_an_untrusted_account_says_so_at_the_rules_severity() -> None:
    statement = _service(LOGS, {"ArnLike": {
        "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:*:{OUTSIDER}:*"}})
    [found] = [f for f in _found(statement) if f.rule == "KMS-SERVICE-UNSCOPED"]
    assert found.severity == "medium"
    assert f"resources of {OUTSIDER}, outside the trusted accounts" in found.message


@pytest.mark.parametrize("statement", UNSCOPED.values(), ids=UNSCOPED.keys())
def test_a_context_that_pins_no_one_customer_says_any_customer(
    statement: dict[str, Any]
) -> None:
    [found] = [f for f in _found(statement) if f.rule == "KMS-SERVICE-UNSCOPED"]
    assert found.severity == "medium" and "any customer" in found.message


def test_for_an_iam_caller_the_context_pins_nobody() -> None:
    """An IAM caller chooses its own encryption context: "*" under such a condition is open."""
    statement = _service(LOGS, {"ArnLike": {
        "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:us-east-1:{OWNER}:*"}},
        ["kms:Decrypt"], principal="*")
    assert "KMS-PUBLIC" in _rules(statement)


def test_the_proofs_requests_agree_the_service_acts_for_the_owner_only() -> None:
    """The representative requests give the service its own context for the account it acts
    for, so the concrete evaluator lets the logs service in for the owner, not an outsider."""
    document = {"Version": "2012-10-17",
                "Statement": [ROOT, SCOPED["cloudwatch-logs-documented"]]}
    policy = parse_policy(document)
    logs = [r for r in representative_requests(policy, policy, CTX) if r.principal == LOGS]
    outsiders = [r for r in logs if r.is_outsider]
    assert outsiders and not any(exposed_actions(policy, r) for r in outsiders)
    assert any(exposed_actions(policy, r) for r in logs if r.is_insider)
