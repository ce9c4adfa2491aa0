"""IAM-KMS-1 decides the owner root's conditions as the evaluator does (``matchers``).

Found by review: the lockout check had a matcher of its own, which compared a Null's values as
a whole list, compared "FALSE" case-sensitively, let an ARN pattern's ``*`` span colons and
read policy variables as text; each hid a lockout the evaluator sees. Sources: several values of
one key are ORed
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html);
ARN operators match each of the six components
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN);
variables take the request's values
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html).
"""

from __future__ import annotations

from typing import Any

import pytest

from remediator.approval import keeps_owner_control
from remediator.detectors import analyze_key_policy
from remediator.policy import actions as kms
from remediator.policy.document import parse_policy
from remediator.policy.evaluate import AWS, Request, allowed_actions
from remediator.types import Context

OWNER = "111122223333"
ROOT = f"arn:aws:iam::{OWNER}:root"
CTX = Context(OWNER)
ROOT_ALLOW = {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*",
              "Resource": "*"}


def _deny(condition: dict[str, Any], action: str = "kms:*") -> dict[str, Any]:
    return {"Sid": "Deny", "Effect": "Deny", "Principal": "*", "Action": action,
            "Resource": "*", "Condition": condition}


LOCKED_OUT = {
    "null-both-values": [ROOT_ALLOW, _deny({"Null": {"kms:CallerAccount": ["false", "true"]}})],
    "null-both-values-on-the-bypass-key": [ROOT_ALLOW, _deny(
        {"Null": {"kms:BypassPolicyLockoutSafetyCheck": ["true", "false"]}},
        "kms:PutKeyPolicy")],
    "null-upper-case-false": [ROOT_ALLOW, _deny({"Null": {"kms:CallerAccount": "FALSE"}})],
    "arn-pattern-of-five-components": [ROOT_ALLOW, _deny(
        {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{OWNER}*"}})],
    "arn-pattern-spanning-the-account": [ROOT_ALLOW, _deny(
        {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam:*:root"}})],
    "root-granted-by-a-pattern-that-cannot-match": [
        {**ROOT_ALLOW, "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam:*:root"}}}],
    "variable-naming-the-callers-own-account": [ROOT_ALLOW, _deny(
        {"StringEquals": {"kms:CallerAccount": "${aws:PrincipalAccount}"}}, "kms:PutKeyPolicy")],
    "variable-in-an-arn-pattern": [ROOT_ALLOW, _deny(
        {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::${aws:PrincipalAccount}:*"}})],
}
NOT_LOCKED_OUT = {
    "null-false-on-a-key-the-root-lacks": [ROOT_ALLOW, _deny(
        {"Null": {"kms:ViaService": "false"}})],
    "arn-pattern-of-six-components": [ROOT_ALLOW, _deny(
        {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{OWNER}:*"}})],
    "variable-naming-another-key": [ROOT_ALLOW, _deny(
        {"StringNotEquals": {"kms:CallerAccount": "${aws:PrincipalAccount}"}})],
    "root-granted-by-its-own-arn-pattern": [
        {**ROOT_ALLOW, "Condition": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}}}],
}


def _evaluator_lets_the_root_put(document: dict[str, Any]) -> bool:
    """The owner root's plain PutKeyPolicy, stating the bypass parameter false or leaving it
    out, through the concrete evaluator."""
    policy = parse_policy(document)
    base = {"aws:securetransport": ("true",), "aws:viaawsservice": ("false",),
            "aws:resourceaccount": (OWNER,)}
    put = kms.bit("kms:PutKeyPolicy")
    return any(allowed_actions(policy, Request(AWS, ROOT, OWNER, context=c)) & put
               for c in (base, {**base, "kms:bypasspolicylockoutsafetycheck": ("false",)}))


@pytest.mark.parametrize(("statements", "locked"), [
    *[pytest.param(s, True, id=n) for n, s in LOCKED_OUT.items()],
    *[pytest.param(s, False, id=n) for n, s in NOT_LOCKED_OUT.items()],
])
def test_iam_kms_1_agrees_with_the_evaluator(statements: list[dict[str, Any]],
                                             locked: bool) -> None:
    document = {"Version": "2012-10-17", "Statement": statements}
    found = {f.rule for f in analyze_key_policy(document, CTX)}
    assert ("IAM-KMS-1" in found) == locked
    assert _evaluator_lets_the_root_put(document) == (not locked)


# Found by review: the lockout check substituted variables whatever the Version. Under
# 2008-10-17 a variable is its own text
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html),
# so "${aws:ResourceAccount}" is no account and StringNotEquals on it holds for the root.
@pytest.mark.parametrize(("version", "locked"), [("2008-10-17", True), ("2012-10-17", False)])
def test_variables_in_the_roots_conditions_follow_the_version(version: str,
                                                              locked: bool) -> None:
    document = {"Version": version, "Statement": [ROOT_ALLOW, _deny(
        {"StringNotEquals": {"aws:PrincipalAccount": "${aws:ResourceAccount}"}},
        "kms:PutKeyPolicy")]}
    assert ("IAM-KMS-1" in {f.rule for f in analyze_key_policy(document, CTX)}) == locked
    # the same statement judged in a policy of the other Version first changes nothing
    other = {**document, "Version": "2012-10-17" if locked else "2008-10-17"}
    analyze_key_policy(other, CTX)
    assert ("IAM-KMS-1" in {f.rule for f in analyze_key_policy(document, CTX)}) == locked
    assert keeps_owner_control(document, CTX) == (not locked)


# ... and in a Resource (found by review): under 2008-10-17 "arn:aws:kms:*:${aws:PrincipalAccount}:
# key/*" is text that names no key, so the root's only Allow grants nothing on this key.
@pytest.mark.parametrize(("version", "locked"), [("2008-10-17", True), ("2012-10-17", False)])
def test_variables_in_the_roots_resource_follow_the_version(version: str, locked: bool) -> None:
    document = {"Version": version, "Statement": [
        {**ROOT_ALLOW, "Resource": "arn:aws:kms:*:${aws:PrincipalAccount}:key/*"}]}
    assert ("IAM-KMS-1" in {f.rule for f in analyze_key_policy(document, CTX)}) == locked
    assert keeps_owner_control(document, CTX) == (not locked)
