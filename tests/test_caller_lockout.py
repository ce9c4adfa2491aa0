"""KMS's own lockout safety check, as apply makes it for the principal that applies a change.

KMS refuses a PutKeyPolicy whose policy would not "allow the principal that is making the
PutKeyPolicy request to make a subsequent PutKeyPolicy request on the KMS key", unless
BypassPolicyLockoutSafetyCheck is set
(https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html). moto does not make
the check, so apply does (remediator.policy.caller_lockout), comparing the before- and
after-policy for the caller.
"""

from __future__ import annotations

from typing import Any

import pytest

from remediator.policy.caller_lockout import (
    caller_principal,
    lost_put_key_policy,
    varied_context,
)
from remediator.policy.document import parse_policy
from remediator.policy.settle import settle_for_context
from remediator.types import Context

OWNER = "111122223333"
ROOT = f"arn:aws:iam::{OWNER}:root"
ADMIN = f"arn:aws:iam::{OWNER}:role/KeyAdmin"
TOOL_ROLE = f"arn:aws:iam::{OWNER}:role/KmsRemediatorRole"
TOOL_SESSION = f"arn:aws:sts::{OWNER}:assumed-role/KmsRemediatorRole/kms-remediator"
CTX = Context(OWNER, frozenset(), None, (ADMIN,),
              key_arn=f"arn:aws:kms:eu-west-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab")

ROOT_STATEMENT = {"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": ROOT},
                  "Action": "kms:*", "Resource": "*"}


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _deny_put_unless(*spared: str, key: str = "aws:PrincipalArn") -> dict[str, Any]:
    return {"Sid": "Deny", "Effect": "Deny", "Principal": "*",
            "Action": ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"], "Resource": "*",
            "Condition": {"ArnNotLike": {key: list(spared)}}}


def _lost(before: dict[str, Any], after: dict[str, Any], principal: str = TOOL_SESSION,
          role_arn: str | None = None, ctx: Context = CTX) -> bool:
    b = settle_for_context(parse_policy(before), ctx)
    a = settle_for_context(parse_policy(after), ctx)
    return lost_put_key_policy(b, a, ctx, principal, role_arn) is not None


def test_a_narrow_deny_that_does_not_spare_the_applying_role_locks_it_out() -> None:
    before = _policy(ROOT_STATEMENT)
    after = _policy(ROOT_STATEMENT, _deny_put_unless(ROOT, ADMIN))
    assert _lost(before, after)
    # The owner root and the administrator it spares keep kms:PutKeyPolicy.
    assert not _lost(before, after, principal=ROOT)
    assert not _lost(before, after,
                     principal=f"arn:aws:sts::{OWNER}:assumed-role/KeyAdmin/alice")
    # Sparing the tool's role too keeps it able to put the policy again (and roll back).
    assert not _lost(before, _policy(ROOT_STATEMENT, _deny_put_unless(ROOT, ADMIN, TOOL_ROLE)))


def test_an_iam_user_caller_is_checked_as_that_user() -> None:
    user = f"arn:aws:iam::{OWNER}:user/ops"
    after = _policy(ROOT_STATEMENT, _deny_put_unless(ROOT, user))
    assert not _lost(_policy(ROOT_STATEMENT), after, principal=user)
    assert _lost(_policy(ROOT_STATEMENT), after, principal=f"arn:aws:iam::{OWNER}:user/other")


# aws:PrincipalArn of a role session is the role's ARN with its path
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn),
# which GetCallerIdentity's session ARN leaves out: apply reads it with GetRole.
def test_a_role_with_a_path_is_matched_by_its_full_arn() -> None:
    with_path = f"arn:aws:iam::{OWNER}:role/automation/KmsRemediatorRole"
    after = _policy(ROOT_STATEMENT, _deny_put_unless(ROOT, with_path))
    assert not _lost(_policy(ROOT_STATEMENT), after, role_arn=with_path)
    # Without the path the session is taken for role/KmsRemediatorRole, which the Deny does
    # not spare: unknown paths can only refuse more.
    assert _lost(_policy(ROOT_STATEMENT), after)


def test_a_role_named_in_the_before_policy_and_reached_through_the_root_after() -> None:
    """Before, the key policy names the role; after, only the owner root's statement lets the
    account's IAM policies grant it. The check takes IAM to allow what it allowed before (it
    cannot see IAM policies), so the role keeps kms:PutKeyPolicy."""
    named = {"Sid": "Tool", "Effect": "Allow", "Principal": {"AWS": TOOL_ROLE},
             "Action": "kms:*", "Resource": "*"}
    assert not _lost(_policy(ROOT_STATEMENT, named), _policy(ROOT_STATEMENT))
    # Without the owner root's statement, removing the role's own statement locks it out.
    admin = {**named, "Sid": "Admin", "Principal": {"AWS": ADMIN}}
    assert _lost(_policy(admin, named), _policy(admin))


def test_a_caller_the_before_policy_already_refuses_is_not_the_changes_doing() -> None:
    before = _policy(ROOT_STATEMENT, _deny_put_unless(ROOT))
    after = _policy(ROOT_STATEMENT, _deny_put_unless(ROOT, ADMIN))
    assert not _lost(before, after)


def test_a_context_the_policies_name_is_tried() -> None:
    """The tool's role may put the policy only from the corporate network; the after-policy
    denies PutKeyPolicy from that network to all but the root: locked out there."""
    from_corp = {"Sid": "Tool", "Effect": "Allow", "Principal": {"AWS": TOOL_ROLE},
                 "Action": "kms:PutKeyPolicy", "Resource": "*",
                 "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}
    admin = {**ROOT_STATEMENT, "Sid": "Admin", "Principal": {"AWS": ADMIN}}
    deny_corp = {"Sid": "DenyCorp", "Effect": "Deny", "Principal": "*",
                 "Action": "kms:PutKeyPolicy", "Resource": "*",
                 "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"},
                               "ArnNotLike": {"aws:PrincipalArn": ROOT}}}
    before, after = (settle_for_context(parse_policy(_policy(admin, from_corp, *more)), CTX)
                     for more in ((), (deny_corp,)))
    lost = lost_put_key_policy(before, after, CTX, TOOL_SESSION)
    assert lost is not None
    # The refusal names the context in which the role loses it.
    assert varied_context(lost).startswith("aws:sourceip=203.0.113.")
    assert not _lost(_policy(admin, from_corp), _policy(admin, from_corp))


def test_the_request_is_a_direct_call_without_the_bypass_parameter() -> None:
    """A Deny of PutKeyPolicy through a service, or when the bypass is set to true, does not
    touch the tool's own direct call, which never sets it
    (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-bypass-policy-lockout-safety-check)."""
    via = {"Sid": "NoVia", "Effect": "Deny", "Principal": "*", "Action": "kms:PutKeyPolicy",
           "Resource": "*", "Condition": {"Bool": {"aws:ViaAWSService": "true"}}}
    bypass = {"Sid": "NoBypass", "Effect": "Deny", "Principal": "*", "Action": "kms:PutKeyPolicy",
              "Resource": "*",
              "Condition": {"Bool": {"kms:BypassPolicyLockoutSafetyCheck": "true"}}}
    assert not _lost(_policy(ROOT_STATEMENT), _policy(ROOT_STATEMENT, via, bypass))
    # Requiring the parameter stated false refuses the call that leaves it out (as the tool's does).
    stated = {"Sid": "StateIt", "Effect": "Deny", "Principal": "*", "Action": "kms:PutKeyPolicy",
              "Resource": "*",
              "Condition": {"Null": {"kms:BypassPolicyLockoutSafetyCheck": "true"}}}
    assert _lost(_policy(ROOT_STATEMENT), _policy(ROOT_STATEMENT, stated))


def test_an_organisation_perimeter_keeps_a_member_owner() -> None:
    org = "o-a1b2c3d4e5"
    ctx = Context(OWNER, frozenset(), org, (ADMIN,), key_arn=CTX.key_arn)
    perimeter = {"Sid": "Perimeter", "Effect": "Deny", "Principal": "*", "Action": "kms:*",
                 "Resource": "*", "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": org}}}
    assert not _lost(_policy(ROOT_STATEMENT), _policy(ROOT_STATEMENT, perimeter), ctx=ctx)
    other = {**perimeter, "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-zzzzzzzzzz"}}}
    assert _lost(_policy(ROOT_STATEMENT), _policy(ROOT_STATEMENT, other), ctx=ctx)


@pytest.mark.parametrize(("reported", "principal"), [
    (TOOL_SESSION, TOOL_SESSION),
    (f"arn:aws:iam::{OWNER}:user/ops", f"arn:aws:iam::{OWNER}:user/ops"),
    (ROOT, ROOT),
    (f"arn:aws:sts::{OWNER}:federated-user/bob", f"arn:aws:sts::{OWNER}:federated-user/bob"),
    # moto's GetCallerIdentity for static credentials
    (f"arn:aws:sts::{OWNER}:user/moto", f"arn:aws:iam::{OWNER}:user/moto"),
    (f"arn:aws-us-gov:sts::{OWNER}:assumed-role/R/s",
     f"arn:aws-us-gov:sts::{OWNER}:assumed-role/R/s"),
    ("", None),
    ("arn:aws:iam::123:root", None),
    (f"arn:aws:iam::{OWNER}:role/R", None),  # STS never reports a role itself
    (f"arn:aws:sts::{OWNER}:assumed-role/", None),
])
def test_the_principal_a_key_policy_sees_for_the_reported_caller(
    reported: str, principal: str | None
) -> None:
    assert caller_principal(reported) == principal
