"""The planner on realistic policies: each playbook's patch closes its finding, passes the four
proof checks, leaves untouched statements as they were, and planning again proposes nothing."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from remediator.approval import keeps_owner_control
from remediator.detectors import analyze_key_policy
from remediator.planner import KeyPlan, plan_policy
from remediator.playbooks import load_playbooks
from remediator.policy import actions as kms
from remediator.policy.document import parse_policy
from remediator.policy.evaluate import AWS, Request, allowed_actions
from remediator.types import Context

OWNER, TRUSTED, OUTSIDER, ORG = "111122223333", "222233334444", "444455556666", "o-a1b2c3d4e5"
ROOT_ARN = f"arn:aws:iam::{OWNER}:root"
APP = f"arn:aws:iam::{OWNER}:role/App"
ADMIN = f"arn:aws:iam::{OWNER}:role/KeyAdmin"
USE = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
VIA = {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}
CTX = Context(OWNER, frozenset({TRUSTED}), ORG, (ADMIN,), ("s3.eu-west-1.amazonaws.com",))
CTX_NO_ADMINS = Context(OWNER, frozenset({TRUSTED}), ORG, (), ("s3.eu-west-1.amazonaws.com",))
CTX_NO_ORG = Context(OWNER, frozenset({TRUSTED}), None, (ADMIN,), ("s3.eu-west-1.amazonaws.com",))
BOOKS = load_playbooks()
ALL = frozenset(BOOKS.ids())
ROOT = {"Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": ROOT_ARN},
        "Action": "kms:*", "Resource": "*"}
ADMINS = {"Sid": "Allow access for Key Administrators", "Effect": "Allow",
          "Principal": {"AWS": ADMIN},
          "Action": ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*",
                     "kms:Update*", "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*",
                     "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion",
                     "kms:CancelKeyDeletion"], "Resource": "*"}


def allow(sid: str, principal: Any, action: Any, cond: dict[str, Any] | None = None
          ) -> dict[str, Any]:
    s: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Principal": principal,
                         "Action": action, "Resource": "*"}
    if cond:
        s["Condition"] = cond
    return s


def doc(*stmts: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(stmts)}


# (case id, policy, context, rule the playbook must close)
CASES: list[tuple[str, dict[str, Any], Context, str]] = [
    ("public-star", doc(ROOT, allow("Public", "*", "kms:Decrypt")), CTX, "KMS-PUBLIC"),
    ("public-star-no-org", doc(ROOT, allow("Public", {"AWS": "*"}, USE)), CTX_NO_ORG,
     "KMS-PUBLIC"),
    ("public-in-list-with-app", doc(ROOT, allow("Mixed", {"AWS": ["*", APP]}, USE, VIA)), CTX,
     "KMS-PUBLIC"),
    ("public-notprincipal", doc(ROOT, {"Sid": "AllBut", "Effect": "Allow",
                                       "NotPrincipal": {"AWS": APP}, "Action": "kms:Decrypt",
                                       "Resource": "*"}), CTX, "KMS-PUBLIC"),
    ("public-via-service-only", doc(ROOT, allow("ViaOnly", "*", USE, VIA)), CTX, "KMS-PUBLIC"),
    ("public-wildcard-account-arn", doc(ROOT, allow("AnyRoot", {"AWS": "arn:aws:iam::*:root"},
                                                    "kms:Decrypt")), CTX, "KMS-PUBLIC"),
    ("outsider-in-list", doc(ROOT, allow(
        "Partners", {"AWS": [APP, f"arn:aws:iam::{OUTSIDER}:root"]}, USE, VIA)), CTX,
     "KMS-CROSS-ACCOUNT"),
    ("outsider-alone", doc(ROOT, allow("Partner", {"AWS": OUTSIDER}, "kms:Decrypt")), CTX,
     "KMS-CROSS-ACCOUNT"),
    ("outsider-session", doc(ROOT, allow("Session", {
        "AWS": f"arn:aws:sts::{OUTSIDER}:assumed-role/Deploy/ci"}, "kms:Decrypt")), CTX,
     "KMS-CROSS-ACCOUNT"),
    ("star-pinned-to-outsider", doc(ROOT, allow("Pinned", "*", "kms:Decrypt", {
        "StringEquals": {"aws:PrincipalAccount": [OWNER, OUTSIDER]}})), CTX, "KMS-CROSS-ACCOUNT"),
    ("foreign-org", doc(ROOT, allow("OtherOrg", "*", "kms:Decrypt", {
        "StringEquals": {"aws:PrincipalOrgID": "o-zz9988776655"}})), CTX, "KMS-CROSS-ACCOUNT"),
    ("service-alone", doc(ROOT, allow("EventBridge", {"Service": "events.amazonaws.com"},
                                      ["kms:Decrypt", "kms:GenerateDataKey"])), CTX,
     "KMS-SERVICE-UNSCOPED"),
    ("service-alone-config", doc(ROOT, allow("Config", {"Service": "config.amazonaws.com"},
                                             ["kms:Decrypt", "kms:GenerateDataKey"])), CTX,
     "KMS-SERVICE-UNSCOPED"),
    ("service-no-org", doc(ROOT, allow("Logs", {"Service": "logs.eu-west-1.amazonaws.com"},
                                       USE)), CTX_NO_ORG, "KMS-SERVICE-UNSCOPED"),
    ("service-mixed-with-role", doc(ROOT, allow("Both", {
        "Service": "sns.amazonaws.com", "AWS": APP}, ["kms:Decrypt", "kms:GenerateDataKey*"],
        VIA)), CTX, "KMS-SERVICE-UNSCOPED"),
    # "*" under aws:PrincipalIsAWSService "true" stands for the services alone: the whole
    # statement is pinned to the trust's sources.
    ("star-for-any-service", doc(ROOT, allow("AnyService", "*", ["kms:GenerateDataKey*",
                                                                   "kms:Decrypt"], {
        "Bool": {"aws:PrincipalIsAWSService": "true"}})), CTX, "KMS-SERVICE-UNSCOPED"),
    ("star-for-any-topic-named-alerts", doc(ROOT, allow("Alerts", "*", "kms:GenerateDataKey*", {
        "ArnLike": {"aws:SourceArn": "arn:aws:sns:eu-west-1:*:alerts"}})), CTX,
     "KMS-SERVICE-UNSCOPED"),
    ("star-for-any-service-no-org", doc(ROOT, allow("AnyService", {"AWS": "*"}, "kms:Decrypt", {
        "Bool": {"aws:PrincipalIsAWSService": "true"}})), CTX_NO_ORG, "KMS-SERVICE-UNSCOPED"),
    ("missing-root", doc(allow("AdminOnly", {"AWS": ADMIN}, ["kms:Describe*", "kms:Put*"])), CTX,
     "IAM-KMS-1"),
    ("destructive-explicit", doc(ROOT, allow("Ops", {"AWS": f"arn:aws:iam::{OWNER}:role/Ops"},
                                             ["kms:DescribeKey", "kms:ScheduleKeyDeletion"])),
     CTX, "IAM-KMS-3"),
    ("destructive-console-admin-unconfigured", doc(ROOT, ADMINS), CTX_NO_ADMINS, "IAM-KMS-4"),
    ("destructive-wildcard-app", doc(ROOT, allow("AppAll", {"AWS": APP}, "kms:*", VIA)), CTX,
     "IAM-KMS-5"),
    ("via-service-direct-use", doc(ROOT, allow("Direct", {"AWS": APP}, ["kms:Encrypt",
                                                                         "kms:Decrypt"])), CTX,
     "IAM-KMS-6"),
    ("wildcard-to-app", doc(ROOT, allow("AppAll", {"AWS": APP}, "kms:*", VIA)), CTX,
     "KMS-WILDCARD-ACTION"),
    ("separation-of-duties", doc(ROOT, allow("Tagger", {"AWS": APP}, ["kms:TagResource",
                                                                       "kms:Encrypt"], VIA)),
     CTX, "IAM-KMS-8"),
]


def _rules(policy: dict[str, Any], ctx: Context) -> set[str]:
    return {f.rule for f in analyze_key_policy(policy, ctx)}


@pytest.mark.parametrize(("case", "policy", "ctx", "rule"), CASES, ids=[c[0] for c in CASES])
def test_playbook_closes_its_finding_with_a_full_proof(case: str, policy: dict[str, Any],
                                                       ctx: Context, rule: str) -> None:
    assert rule in _rules(policy, ctx), "the case must start with the finding"
    original = copy.deepcopy(policy)
    # Only the case's rule is acted on (as a config that enables no other would), so that its
    # own playbook is the one that closes it: another playbook may close it on the way (a Deny
    # of the destructive actions leaves kms:* to nobody).
    kp = plan_policy(policy, ctx, BOOKS, ALL,
                     lambda d: [f for f in analyze_key_policy(d, ctx) if f.rule == rule])
    assert policy == original, "planning must not mutate its input"
    assert rule not in _rules(kp.after, ctx), [u.reason for u in kp.unresolved]
    step = next(s for s in kp.steps if any(f.rule == rule for f in s.findings))
    assert step.proof.ok and [c.name for c in step.proof.checks] == [
        "findings-closed", "insider-access-kept", "no-outsider-access", "not-locked-out"]
    assert kp.proof is not None and kp.proof.ok, kp.proof.to_dict()
    # The root statement is never touched, byte for byte.
    if ROOT in policy["Statement"]:
        assert ROOT in kp.after["Statement"]
    # Idempotent: the patched policy needs no further patch, and planning every rule at once
    # closes them all too.
    assert not plan_policy(kp.after, ctx, BOOKS, ALL,
                           lambda d: [f for f in analyze_key_policy(d, ctx) if f.rule == rule]
                           ).steps
    whole = plan_policy(policy, ctx, BOOKS, ALL)
    assert whole.proof is not None and whole.proof.ok
    assert rule not in _rules(whole.after, ctx)


def test_manual_playbooks_are_proposals_unless_included() -> None:
    policy = doc(ROOT, allow("AppAll", {"AWS": APP}, "kms:*", VIA))
    auto_only = plan_policy(policy, CTX, BOOKS)
    assert not auto_only.steps and auto_only.after == policy
    proposal = next(u for u in auto_only.unresolved if u.finding.rule == "KMS-WILDCARD-ACTION")
    assert proposal.proposal is not None and "--include-manual" in proposal.reason


# "The aws:SourceArn and aws:SourceAccount condition keys are not supported in KMS key policies
# for event data stores" (create-kms-key-policy-for-cloudtrail): a CloudTrail statement not tied
# to trails may serve CloudTrail Lake, which scoping would cut off. It goes to a person.
def test_a_cloudtrail_statement_that_may_serve_lake_is_left_to_a_person() -> None:
    lake = allow("Lake", {"Service": "cloudtrail.amazonaws.com"},
                 ["kms:GenerateDataKey", "kms:Decrypt"])
    kp = plan_policy(doc(ROOT, lake), CTX, BOOKS, ALL)
    assert not kp.changed
    reason, = (u.reason for u in kp.unresolved if u.finding.rule == "KMS-SERVICE-UNSCOPED")
    assert "CloudTrail Lake" in reason and "kms:EncryptionContext:aws:cloudtrail:arn" in reason


def test_default_policy_needs_nothing() -> None:
    kp = plan_policy(doc(ROOT), CTX, BOOKS, ALL)
    assert not kp.steps and not kp.unresolved and kp.after == doc(ROOT)


def test_a_finding_no_strategy_can_close_goes_to_a_person() -> None:
    # A Deny takes PutKeyPolicy from the root: re-adding the root statement cannot help.
    policy = doc(ROOT, {"Sid": "NoPut", "Effect": "Deny", "Principal": "*",
                        "Action": "kms:PutKeyPolicy", "Resource": "*"})
    kp = plan_policy(policy, CTX, BOOKS, ALL)
    item = next(u for u in kp.unresolved if u.finding.rule == "IAM-KMS-1")
    assert "not-locked-out" in item.reason or "findings-closed" in item.reason
    assert kp.after == policy


# --- properties over generated policies ---------------------------------------------------

PRINCIPALS = ["*", {"AWS": "*"}, {"AWS": ROOT_ARN}, {"AWS": APP}, {"AWS": [APP, OUTSIDER]},
              {"AWS": f"arn:aws:iam::{TRUSTED}:root"}, {"AWS": ADMIN},
              {"Service": "cloudtrail.amazonaws.com"}, {"AWS": ["*", APP]}]
ACTIONS = ["kms:*", "kms:Decrypt", USE, ["kms:ScheduleKeyDeletion", "kms:DescribeKey"],
           ["kms:TagResource", "kms:Encrypt"], ["kms:Disable*", "kms:Get*"]]
CONDITIONS = [None, VIA, {"StringEquals": {"kms:CallerAccount": OWNER}},
              {"StringEquals": {"aws:PrincipalOrgID": ORG}},
              {"Bool": {"aws:SecureTransport": "true"}}]


@st.composite
def policies(draw: st.DrawFn) -> dict[str, Any]:
    stmts = [dict(ROOT)] if draw(st.booleans()) else []
    for i in range(draw(st.integers(1, 3))):
        cond = draw(st.sampled_from(CONDITIONS))
        stmts.append(allow(f"G{i}", draw(st.sampled_from(PRINCIPALS)),
                           draw(st.sampled_from(ACTIONS)), cond))
    return doc(*stmts)


def _check_plan(policy: dict[str, Any], kp: KeyPlan) -> None:
    for step in kp.steps:
        assert step.proof.ok, step.proof.to_dict()
    if kp.steps:
        assert kp.proof is not None and kp.proof.ok, kp.proof.to_dict()
    touched = {f.sid for s in kp.steps for f in s.findings}
    kept = [s for s in policy["Statement"] if s.get("Sid") not in touched]
    after = [s for s in kp.after["Statement"] if s in kept]
    assert after == kept, "untouched statements must stay as they were, in their order"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies(), st.sampled_from([CTX, CTX_NO_ADMINS, CTX_NO_ORG]))
def test_every_proposed_patch_verifies_and_replanning_proposes_nothing(
    policy: dict[str, Any], ctx: Context
) -> None:
    kp = plan_policy(policy, ctx, BOOKS, ALL)
    _check_plan(policy, kp)
    assert not plan_policy(kp.after, ctx, BOOKS, ALL).steps


def test_star_pinned_to_an_untrusted_organisation_is_pinned_not_deleted() -> None:
    """Found by review: removing the organisation left the statement empty and deleted it,
    which took the owner account's direct use of the key away (the root statement gives it
    back only through IAM policies), and the proof did not see it. Pinning to the trusted
    accounts keeps it."""
    org_use = allow("OrgUse", "*", ["kms:Decrypt", "kms:Encrypt"],
                    {"StringEquals": {"aws:PrincipalOrgID": "o-ourorg12345"}})
    ctx = Context(OWNER, frozenset(), None, (), ())
    kp = plan_policy(doc(ROOT, org_use), ctx, BOOKS, frozenset())
    assert [(s.playbook, s.strategy) for s in kp.steps] == [
        ("untrusted-account", "pin-trusted-accounts")]
    assert kp.proof is not None and kp.proof.ok
    (kept,) = [s for s in kp.after["Statement"] if s.get("Sid") == "OrgUse"]
    assert kept["Condition"]["StringEquals"]["kms:CallerAccount"] in (OWNER, [OWNER])


def test_limiting_an_owner_role_to_a_service_keeps_its_other_direct_rights() -> None:
    """Found by review: kms:ViaService on a statement naming an owner role took DescribeKey
    from it (not a cryptographic action the playbook may take); the proof missed it for the
    owner account. Reading the key now stays in a copy of the statement, unconditioned, as on
    the console's key-user statement."""
    use = allow("Use", {"AWS": APP}, ["kms:Decrypt", "kms:DescribeKey", "kms:GetPublicKey"])
    ctx = Context(OWNER, frozenset({TRUSTED}), None, (), ("ec2.us-east-1.amazonaws.com",))
    kp = plan_policy(doc(ROOT, use), ctx, BOOKS, ALL)
    assert [s.playbook for s in kp.steps] == ["via-service"] and kp.proof is not None
    assert kp.proof.ok
    by_sid = {s["Sid"]: s for s in kp.after["Statement"]}
    assert by_sid["Use"]["Action"] == ["kms:Decrypt"]
    assert by_sid["Use"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "ec2.us-east-1.amazonaws.com"}}
    (reads,) = [v for k, v in by_sid.items() if k.startswith("KmsRemediatorReadKey")]
    assert reads["Action"] == ["kms:DescribeKey", "kms:GetPublicKey"]
    assert reads["Principal"] == {"AWS": APP} and "Condition" not in reads


ADMIN_PATTERN_CTX = Context(OWNER, frozenset({TRUSTED}), None,
                            ("arn:aws:iam::*:role/KeyAdministrators",), ())
ADMINS_ROLE = f"arn:aws:iam::{OWNER}:role/KeyAdministrators"


def test_kms_star_to_an_administrator_pattern_and_others_is_split() -> None:
    """Found by review: administrators are ARN patterns, but the patch compared them as exact
    strings, so replacing kms:* for App took it from the administrator named beside it."""
    both = allow("AdminsAndOps", {"AWS": [ADMINS_ROLE, APP]}, "kms:*")
    kp = plan_policy(doc(ROOT, both), ADMIN_PATTERN_CTX, BOOKS, ALL,
                     lambda d: [f for f in analyze_key_policy(d, ADMIN_PATTERN_CTX)
                                if f.rule == "KMS-WILDCARD-ACTION"])
    assert [(s.playbook, s.proof.ok) for s in kp.steps] == [("wildcard-action", True)]
    by_sid = {s["Sid"]: s for s in kp.after["Statement"]}
    assert by_sid["AdminsAndOps"]["Principal"] == {"AWS": APP}
    assert "kms:*" not in by_sid["AdminsAndOps"]["Action"]
    (admins,) = [s for s in kp.after["Statement"] if s["Sid"].startswith("KmsRemediator")]
    assert admins["Principal"] == {"AWS": [ADMINS_ROLE]} and admins["Action"] == "kms:*"


def test_destructive_actions_are_not_removed_from_a_statement_naming_an_admin_pattern() -> None:
    both = allow("AdminsAndOps", {"AWS": [ADMINS_ROLE, APP]},
                 ["kms:ScheduleKeyDeletion", "kms:Decrypt"])
    kp = plan_policy(doc(ROOT, both), ADMIN_PATTERN_CTX, BOOKS, ALL,
                     lambda d: [f for f in analyze_key_policy(d, ADMIN_PATTERN_CTX)
                                if f.rule == "IAM-KMS-3"])
    assert [(s.strategy, s.proof.ok) for s in kp.steps] == [("narrow-deny", True)]
    assert both in kp.after["Statement"]


def test_a_change_whose_whole_proof_fails_is_left_to_a_person() -> None:
    """Found by review: each step passed its own proof, the whole change failed its, and the
    plan still proposed it. Here the evaluator (the proof's oracle) lets an organisation named
    "o-other1234" hold the partner account, though no organisation id has that shape (the
    detectors know it: ^o-[a-z0-9]{10,32}$), so shutting every outsider out is not proven."""
    ctx = Context(OWNER, frozenset({TRUSTED}), None, (), ())
    partner = allow("Partner", {"AWS": "arn:aws:iam::444455556666:root"}, "kms:Encrypt",
                    {"StringEquals": {"aws:PrincipalOrgID": "o-other1234"}})
    policy = doc(ROOT, allow("Public", "*", "kms:Decrypt"), partner)
    kp = plan_policy(policy, ctx, BOOKS, frozenset())
    assert not kp.changed and kp.after == policy
    assert kp.proof is not None and not kp.proof.ok
    (public,) = [u for u in kp.unresolved if u.finding.rule == "KMS-PUBLIC"]
    assert "pass one by one but not together" in public.reason
    assert "444455556666" in public.reason and public.proposal is not None


FORCE_S3 = {"Sid": "ForceS3OrSqs", "Effect": "Deny", "Principal": "*",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*",
            "Condition": {"StringNotEquals": {"kms:ViaService": [
                "s3.us-east-1.amazonaws.com", "sqs.us-east-1.amazonaws.com"]}}}


@pytest.mark.parametrize(("configured", "kept"), [
    (("ec2.us-east-1.amazonaws.com",), None),
    (("ec2.us-east-1.amazonaws.com", "s3.us-east-1.amazonaws.com"),
     "s3.us-east-1.amazonaws.com"),
])
def test_via_service_never_limits_an_allow_to_services_a_deny_takes_away(
    configured: tuple[str, ...], kept: str | None
) -> None:
    """Found by review: under a Deny forcing use through s3 (or sqs), limiting the Allow to ec2
    left it granting nothing (a dead statement), and its proof passed. The statement is limited
    to the configured services the Deny allows, or, when there are none, left to a person."""
    use = allow("Use", {"AWS": f"arn:aws:iam::{TRUSTED}:role/Reader"},
                ["kms:Decrypt", "kms:GenerateDataKey"])
    ctx = Context(OWNER, frozenset({TRUSTED}), None, (), configured)
    kp = plan_policy(doc(ROOT, use, FORCE_S3), ctx, BOOKS, ALL)
    if kept is None:
        assert not kp.steps and kp.after == doc(ROOT, use, FORCE_S3)
        (via,) = [u for u in kp.unresolved if u.finding.rule == "IAM-KMS-6"]
        assert "through every configured service" in via.reason
        return
    assert [s.playbook for s in kp.steps] == ["via-service"]
    (limited,) = [s for s in kp.after["Statement"] if s.get("Sid") == "Use"]
    assert limited["Condition"] == {"StringEquals": {"kms:ViaService": kept}}


GOV_KEY = f"arn:aws-us-gov:kms:us-gov-west-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
GOV_ROOT = f"arn:aws-us-gov:iam::{OWNER}:root"


def test_the_owner_root_is_written_and_checked_in_the_keys_partition() -> None:
    """Found by review: the narrow Deny spared arn:aws:iam::OWNER:root (the partition guessed
    from the first ARN in the policy, here none), which is not the root of a GovCloud key's
    account: the Deny took kms:PutKeyPolicy from its root, and the proof and apply's lockout
    check, both asking about the aws partition's root, passed it."""
    ops = allow("Ops", {"AWS": "*"}, ["kms:Put*"], {"StringEquals": {"kms:CallerAccount": OWNER}})
    policy = doc(allow("Root", {"AWS": OWNER}, "kms:*"), ops)
    ctx = Context(OWNER, frozenset(), None, (f"arn:aws-us-gov:iam::{OWNER}:role/KeyAdmin",), (),
                  key_arn=GOV_KEY)
    kp = plan_policy(policy, ctx, BOOKS, ALL)
    assert kp.proof is not None and kp.proof.ok
    (narrow,) = [s for s in kp.after["Statement"] if s["Effect"] == "Deny"]
    assert GOV_ROOT in narrow["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
    put = allowed_actions(parse_policy(kp.after), Request(AWS, GOV_ROOT, OWNER))
    assert "kms:PutKeyPolicy" in kms.full_names(put)
    wrong = {**narrow, "Condition": {"ArnNotLike": {"aws:PrincipalArn": ROOT_ARN}}}
    locked = doc(*[s for s in kp.after["Statement"] if s is not narrow], wrong)
    assert not keeps_owner_control(locked, ctx)
    assert any(f.rule == "IAM-KMS-1" for f in analyze_key_policy(locked, ctx))


def test_the_narrow_deny_spares_an_any_account_admin_pattern_in_the_trust_only() -> None:
    ops = allow("Ops", {"AWS": APP}, ["kms:ScheduleKeyDeletion", "kms:Decrypt", "kms:Put*"])
    kp = plan_policy(doc(ROOT, ops), ADMIN_PATTERN_CTX, BOOKS, ALL,
                     lambda d: [f for f in analyze_key_policy(d, ADMIN_PATTERN_CTX)
                                if f.rule in ("IAM-KMS-3", "IAM-KMS-5")])
    assert kp.proof is not None and kp.proof.ok
    (narrow,) = [s for s in kp.after["Statement"] if s["Effect"] == "Deny"]
    assert narrow["Condition"]["ArnNotLike"]["aws:PrincipalArn"] == [
        ROOT_ARN, ADMINS_ROLE, f"arn:aws:iam::{TRUSTED}:role/KeyAdministrators"]


def test_an_any_account_admin_pattern_is_spared_in_the_listed_organisation_members() -> None:
    """Found by review: the detectors and the proof took the organisation's listed members for
    trusted, the narrow Deny spared the pattern only in the owner and trusted accounts, and no
    request tried a member's administrator: the Deny took a member's KeyAdmin's rights and its
    proof passed."""
    member = "555566667777"
    pattern = "arn:aws:iam::*:role/KeyAdmin"
    ctx = Context(OWNER, frozenset(), ORG, (pattern,), (), org_accounts=frozenset({OWNER, member}))
    admins = allow("OrgKeyAdmins", "*", ["kms:Create*", "kms:Describe*", "kms:Enable*",
                                         "kms:Put*", "kms:Disable*", "kms:ScheduleKeyDeletion"],
                   {"StringEquals": {"aws:PrincipalOrgID": ORG},
                    "ArnLike": {"aws:PrincipalArn": pattern}})
    # (a wildcard action: only a Deny can take it, not an edit of the statement)
    unauthorised = allow("Ops", {"AWS": APP}, ["kms:Schedule*", "kms:Decrypt"])
    assert not {f.rule for f in analyze_key_policy(doc(ROOT, admins), ctx)} & {
        "IAM-KMS-2", "IAM-KMS-3", "IAM-KMS-4", "IAM-KMS-5", "IAM-KMS-7"}
    kp = plan_policy(doc(ROOT, admins, unauthorised), ctx, BOOKS, ALL)
    assert kp.proof is not None and kp.proof.ok
    (narrow,) = [s for s in kp.after["Statement"] if s["Sid"].startswith(
        "KmsRemediatorDenyUnauthorised")]
    assert f"arn:aws:iam::{member}:role/KeyAdmin" in narrow["Condition"]["ArnNotLike"][
        "aws:PrincipalArn"]


def test_a_large_organisation_is_not_written_out_in_the_narrow_deny() -> None:
    """Found by review: a pattern written out for 600 members made a 27 KB Deny and a 20 s
    plan. Beyond 25 members it is not; the proof tries some members' administrators, so a fix
    that would take their rights goes to a person."""
    from remediator.patches.privileges import authorised_arns
    pattern = "arn:aws:iam::*:role/KeyAdmin"
    for n, written in ((24, True), (25, False)):  # members: n and the owner
        members = frozenset({OWNER} | {f"{200000000000 + i:012d}" for i in range(n)})
        ctx = Context(OWNER, frozenset(), ORG, (pattern,), (), org_accounts=members)
        arns = authorised_arns(ctx, doc(ROOT))
        assert ("arn:aws:iam::200000000000:role/KeyAdmin" in arns) == written, n
        assert f"arn:aws:iam::{OWNER}:role/KeyAdmin" in arns
