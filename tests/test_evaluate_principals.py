"""The concrete evaluator (``policy.evaluate``): principals, NotPrincipal, Allow and Deny,
actions and resources, case by case against the IAM documentation. Pages:

  PRIN https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
  NOTP https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
  EVAL https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
"""

from __future__ import annotations

from typing import Any

import pytest
from evaluate_builders import OTHER, OTHER_ROOT, OWNER, allow, caller, deny, policy

from remediator.policy import actions as kms
from remediator.policy.evaluate import AWS, SERVICE, Request, allowed_actions

DECRYPT, ENCRYPT, PUT = (kms.bit(a) for a in ("kms:Decrypt", "kms:Encrypt", "kms:PutKeyPolicy"))



# --- principals (PRIN, NOTP) ---------------------------------------------------------------

ROLE = f"arn:aws:iam::{OTHER}:role/team/App"
SESSION = f"arn:aws:sts::{OTHER}:assumed-role/App/s1"
USER = f"arn:aws:iam::{OTHER}:user/bob"


@pytest.mark.parametrize(
    ("principal", "request_principal", "expected"),
    [
        ("*", USER, True),
        ({"AWS": "*"}, USER, True),
        ({"AWS": OTHER_ROOT}, USER, True),  # "does not limit permissions to only the root user"
        ({"AWS": OTHER}, SESSION, True),  # the bare account id behaves the same way
        ({"AWS": f"arn:aws:iam::{OWNER}:root"}, USER, False),
        ({"AWS": ROLE}, SESSION, True),  # a role names its sessions (path not in the session ARN)
        ({"AWS": f"arn:aws:iam::{OTHER}:role/App"}, SESSION, True),
        ({"AWS": f"arn:aws:iam::{OTHER}:role/Other"}, SESSION, False),
        ({"AWS": f"arn:aws:iam::{OWNER}:role/App"}, SESSION, False),
        ({"AWS": f"arn:aws:iam::{OTHER}:user/App"}, SESSION, False),
        ({"AWS": SESSION}, SESSION, True),
        ({"AWS": f"arn:aws:sts::{OTHER}:assumed-role/App/s2"}, SESSION, False),
        ({"AWS": USER}, USER, True),
        ({"AWS": f"arn:aws:iam::{OTHER}:user/Bob"}, USER, False),  # user names are case-sensitive
        ({"AWS": "arn:aws:iam::*:root"}, USER, False),  # "You cannot use a wildcard to match part"
        ({"AWS": "AROAEXAMPLEID"}, USER, False),  # a deleted principal's unique id
        ({"Service": "cloudtrail.amazonaws.com"}, USER, False),
    ],
)
def test_principal_matching(principal: Any, request_principal: str, expected: bool) -> None:
    req = Request(
        AWS, request_principal, OTHER, role_arn=ROLE if "assumed" in request_principal else None
    )
    assert bool(allowed_actions(policy(allow(principal)), req)) is expected


def test_service_principals_match_service_and_star() -> None:
    svc = Request(SERVICE, "logs.us-east-1.amazonaws.com")
    assert allowed_actions(policy(allow({"Service": "logs.us-east-1.amazonaws.com"})), svc)
    assert not allowed_actions(policy(allow({"Service": "cloudtrail.amazonaws.com"})), svc)
    assert allowed_actions(policy(allow("*")), svc)
    assert not allowed_actions(policy(allow({"AWS": OTHER_ROOT})), svc)


@pytest.mark.parametrize(
    ("exempt", "denied"),
    [
        ([ROLE, OTHER_ROOT], False),  # role and its account listed: the session is spared
        ([SESSION, ROLE, OTHER_ROOT], False),  # the page's own example
        ([ROLE], True),  # "AWS might validate the account first": the account is not listed
        ([OTHER_ROOT], True),  # the account is spared, not the role's session in it
        ([f"arn:aws:iam::{OWNER}:root"], True),
        (["*"], False),  # every principal is spared: the Deny denies no one
    ],
)
def test_not_principal_with_deny(exempt: list[str], denied: bool) -> None:
    p = policy(allow(), deny(NotPrincipal={"AWS": exempt}, principal=None))
    session = Request(AWS, SESSION, OTHER, role_arn=ROLE)
    assert (not allowed_actions(p, session) & DECRYPT) is denied


def test_not_principal_with_allow_lets_everyone_else_in() -> None:
    p = policy(allow(principal=None, NotPrincipal={"AWS": f"arn:aws:iam::{OWNER}:root"}))
    assert allowed_actions(p, caller()) & DECRYPT
    assert not allowed_actions(p, caller(principal=f"arn:aws:iam::{OWNER}:root", account=OWNER))


# --- Allow, Deny, actions and resources (EVAL) -----------------------------------------------


def test_deny_overrides_allow() -> None:
    """EVAL: "An explicit deny overrides an explicit allow"."""
    p = policy(allow(action="kms:*"), deny(action="kms:Decrypt"))
    got = allowed_actions(p, caller())
    assert got == kms.ALL_KEY_ACTIONS & ~DECRYPT


def test_deny_applies_only_where_its_condition_holds() -> None:
    p = policy(
        allow(action="kms:*"), deny(action="kms:*", cond={"Bool": {"aws:SecureTransport": "false"}})
    )
    assert not allowed_actions(p, caller({"aws:securetransport": ("false",)}))
    assert allowed_actions(p, caller({"aws:securetransport": ("true",)})) == kms.ALL_KEY_ACTIONS


def test_not_action_and_wildcard_actions() -> None:
    p = policy(allow(action=None, NotAction="kms:Decrypt"))
    assert allowed_actions(p, caller()) == kms.ALL_KEY_ACTIONS & ~DECRYPT
    p = policy(allow(action="kms:*"), deny(action=None, NotAction=["kms:Encrypt*", "kms:Put*"]))
    assert allowed_actions(p, caller()) == ENCRYPT | PUT
    p = policy(allow(action="s3:GetObject"))
    assert allowed_actions(p, caller()) == 0


def test_resource_reading_follows_applies_to_key() -> None:
    """A key policy's "*" is the key; other services' ARNs never are; NotResource "*" excludes
    it; a NotResource naming KMS ARNs may name this key: an Allow applies, a Deny does not."""
    mine = f"arn:aws:kms:us-east-1:{OWNER}:key/1234"
    assert allowed_actions(policy(allow(Resource=mine)), caller())
    assert not allowed_actions(policy(allow(Resource="arn:aws:s3:::bucket")), caller())
    base = {k: v for k, v in allow().items() if k != "Resource"}
    assert not allowed_actions(policy({**base, "NotResource": "*"}), caller())
    assert allowed_actions(policy({**base, "NotResource": mine}), caller())
    no_resource_deny = {k: v for k, v in deny().items() if k != "Resource"}
    assert (
        allowed_actions(policy(allow(), {**no_resource_deny, "NotResource": mine}), caller())
        & DECRYPT
    )
