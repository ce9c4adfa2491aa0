"""The planner's patches on policies the sixth audit found unsafe or unfixable:

1. A statement naming ``"*"`` beside a service (``{"AWS": "*", "Service": S}``): the public
   fix splits the service off, unpinned, so that the service keeps its access (a service's
   request carries neither aws:PrincipalOrgID nor kms:CallerAccount).
2. A statement with the tool's Deny Sid that the tool did not write for these administrators:
   never rewritten (that could loosen it); a new Deny with a fresh Sid goes beside it.
3. A public statement granting admin and crypto actions: pinning it narrows IAM-KMS-8, which
   is not a new finding, so the exposure can be closed.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from test_planner import ALL, BOOKS, CTX, CTX_NO_ORG, OWNER, ROOT, TRUSTED, allow, doc

from remediator.detectors import analyze_key_policy
from remediator.planner import plan_policy
from remediator.policy import actions as kms
from remediator.policy.document import parse_policy
from remediator.policy.evaluate import AWS, SERVICE, Request, allowed_actions

SNS = "sns.amazonaws.com"
CRYPTO = ["kms:Decrypt", "kms:GenerateDataKey*"]
ROOT_ARN = f"arn:aws:iam::{OWNER}:root"
KEY_ADMIN = f"arn:aws:iam::{OWNER}:role/KeyAdmin"
DENY_SID = "KmsRemediatorDenyUnauthorisedActions"
NONE: frozenset[str] = frozenset()


def _sns(account: str) -> Request:
    return Request(SERVICE, SNS, context={
        "aws:sourceaccount": (account,), "aws:sourcearn": (f"arn:aws:sns:eu-west-1:{account}:t",)})


def _session(role: str) -> Request:
    return Request(AWS, f"arn:aws:sts::{OWNER}:assumed-role/{role}/s", OWNER)


def _allowed(policy: dict[str, Any], request: Request) -> int:
    return allowed_actions(parse_policy(policy), request)


@pytest.mark.parametrize("aws", ["*", ["*", f"arn:aws:iam::{OWNER}:role/App"]])
@pytest.mark.parametrize("ctx", [CTX, CTX_NO_ORG], ids=["org", "accounts"])
def test_a_service_beside_star_keeps_its_access_when_the_star_is_pinned(aws: Any, ctx: Any
                                                                          ) -> None:
    policy = doc(ROOT, allow("M", {"AWS": aws, "Service": SNS}, CRYPTO))
    # Only the public finding is acted on: the service is left for the unscoped-service
    # playbook, so what it keeps here is the public fix's doing alone.
    kp = plan_policy(policy, ctx, BOOKS, NONE,
                     lambda d: [f for f in analyze_key_policy(d, ctx) if f.rule == "KMS-PUBLIC"])
    assert [(s.playbook, s.strategy) for s in kp.steps] == [
        ("public-principal", "pin-caller-account")], [u.reason for u in kp.unresolved]
    assert kp.steps[0].proof.ok
    for account in (OWNER, TRUSTED):
        had = _allowed(policy, _sns(account))
        assert had and _allowed(kp.after, _sns(account)) == had, account
    services = [s for s in kp.after["Statement"] if "Service" in s["Principal"]]
    assert services == [{"Sid": "KmsRemediatorServices", "Effect": "Allow",
                         "Principal": {"Service": SNS}, "Action": CRYPTO, "Resource": "*"}]
    assert not any(f.rule == "KMS-PUBLIC" for f in analyze_key_policy(kp.after, ctx))


def test_a_service_beside_star_is_then_scoped_by_its_own_playbook() -> None:
    policy = doc(ROOT, allow("M", {"AWS": "*", "Service": SNS}, CRYPTO))
    kp = plan_policy(policy, CTX, BOOKS, NONE)
    assert [s.playbook for s in kp.steps] == ["public-principal", "unscoped-service"]
    assert kp.proof is not None and kp.proof.ok, kp.proof.to_dict()
    assert _allowed(kp.after, _sns(OWNER)) == _allowed(policy, _sns(OWNER))
    assert not _allowed(kp.after, _sns("444455556666"))
    assert not plan_policy(kp.after, CTX, BOOKS, NONE).steps


def _prior_deny(authorised: list[str]) -> dict[str, Any]:
    return {"Sid": DENY_SID, "Effect": "Deny", "Principal": {"AWS": "*"},
            "Action": "kms:ScheduleKeyDeletion", "Resource": "*",
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": authorised}}}


OPS = allow("Ops", {"AWS": f"arn:aws:iam::{OWNER}:role/Ops"}, ["kms:DescribeKey", "kms:Disable*"])


@pytest.mark.parametrize(
    "existing",
    [
        # an earlier run with admins: [] (only the root spared): stricter than today's Deny
        _prior_deny([ROOT_ARN]),
        # a person's own statement under the tool's Sid
        {"Sid": DENY_SID, "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt",
         "Resource": "*", "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}},
        {"Sid": DENY_SID, "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:role/R"},
         "Action": "kms:DescribeKey", "Resource": "*"},
    ],
    ids=["earlier-run-stricter", "user-deny", "user-allow"],
)
def test_a_statement_with_the_tool_s_deny_sid_is_never_rewritten(existing: dict[str, Any]
                                                                   ) -> None:
    admin = allow("KA", {"AWS": KEY_ADMIN}, ["kms:ScheduleKeyDeletion", "kms:DescribeKey"])
    policy = doc(ROOT, copy.deepcopy(existing), admin, OPS)
    kp = plan_policy(policy, CTX, BOOKS, ALL)
    assert kp.steps and {s.playbook for s in kp.steps} == {"destructive-actions"}, [
        u.reason for u in kp.unresolved]
    assert kp.proof is not None and kp.proof.ok, kp.proof.to_dict()
    assert kp.after["Statement"][:4] == [ROOT, existing, admin, OPS], "untouched, byte for byte"
    added = kp.after["Statement"][4:]
    assert [s["Sid"] for s in added] == [f"{DENY_SID}2"]
    assert added[0]["Action"] == ["kms:DisableKey", "kms:DisableKeyRotation"]
    # Nobody gains: the key administrator is still denied ScheduleKeyDeletion if it was.
    for role in ("KeyAdmin", "Ops"):
        before, after = _allowed(policy, _session(role)), _allowed(kp.after, _session(role))
        assert not after & ~before, role
    if existing == _prior_deny([ROOT_ARN]):
        assert not _allowed(kp.after, _session("KeyAdmin")) & kms.bit("kms:ScheduleKeyDeletion")


def test_the_tool_s_own_deny_collects_every_destructive_action() -> None:
    """Several findings still make one readable Deny: the operation adds to a Deny it wrote
    for the same administrators (and only to that)."""
    kp = plan_policy(doc(ROOT, OPS), CTX, BOOKS, ALL)
    assert [s.strategy for s in kp.steps] == ["narrow-deny", "narrow-deny"]
    denies = [s for s in kp.after["Statement"] if s["Effect"] == "Deny"]
    assert [s["Sid"] for s in denies] == [DENY_SID]
    assert denies[0]["Action"] == ["kms:DisableKey", "kms:DisableKeyRotation"]
    replanned = plan_policy(kp.after, CTX, BOOKS, ALL)
    assert not replanned.steps and replanned.after == kp.after


@pytest.mark.parametrize("action", ["kms:*", ["kms:Decrypt", "kms:ScheduleKeyDeletion"]])
@pytest.mark.parametrize("ctx", [CTX, CTX_NO_ORG], ids=["org", "accounts"])
def test_a_public_statement_with_admin_and_crypto_rights_can_be_pinned(action: Any, ctx: Any
                                                                        ) -> None:
    policy = doc(ROOT, allow("A", "*", action))
    kp = plan_policy(policy, ctx, BOOKS, NONE)
    assert ("public-principal", "pin-caller-account") in [
        (s.playbook, s.strategy) for s in kp.steps], [u.reason for u in kp.unresolved]
    assert kp.proof is not None and kp.proof.ok, kp.proof.to_dict()
    after = analyze_key_policy(kp.after, ctx)
    assert not any(f.rule == "KMS-PUBLIC" for f in after)
    # IAM-KMS-8 is still there, narrowed, and still left to a person.
    assert all(p.startswith("* in ") for f in after if f.rule == "IAM-KMS-8" for p in f.principals)
    assert any(u.finding.rule == "IAM-KMS-8" for u in kp.unresolved)
