"""The verifier's four checks on realistic key policies: correct patches pass, wrong ones fail.

Policies follow AWS's own defaults: the console policy with key administrators and key users
(https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html) and CloudTrail's
key policy (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/default-kms-key-policy.html).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from remediator.detectors import analyze_key_policy
from remediator.put_policy import put_key_policy_problem
from remediator.types import Context, Finding
from remediator.verify import (
    CHECK_NAMES,
    FINDINGS_CLOSED,
    INSIDER_ACCESS_KEPT,
    NO_OUTSIDER_ACCESS,
    NOT_LOCKED_OUT,
    Proof,
    verify_change,
)

OWNER, TRUSTED, UNTRUSTED = "111122223333", "444455556666", "999988887777"
ORG = "o-a1b2c3d4e5"
KEY_ADMIN = f"arn:aws:iam::{OWNER}:role/KeyAdmin"
KEY_USER = f"arn:aws:iam::{OWNER}:role/KeyUser"
TRUSTED_ROLE = f"arn:aws:iam::{TRUSTED}:role/team/Reader"
CTX = Context(OWNER, trusted_accounts=frozenset({TRUSTED}), admins=(KEY_ADMIN,))

Json = dict[str, Any]

# fmt: off
ROOT_STATEMENT: Json = {
    "Sid": "Enable IAM User Permissions", "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"}, "Action": "kms:*", "Resource": "*",
}
ADMIN_ACTIONS = ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*",
                 "kms:Update*", "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*",
                 "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion",
                 "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand"]
USER_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                "kms:DescribeKey"]


def statement(sid: str, principal: Any, action: Any, condition: Json | None = None) -> Json:
    out: Json = {"Sid": sid, "Effect": "Allow", "Principal": principal, "Action": action,
                 "Resource": "*"}
    if condition is not None:
        out["Condition"] = condition
    return out


def console_policy(users: list[str]) -> Json:
    """The console default policy, with ``users`` as the key users."""
    return {"Id": "key-consolepolicy-3", "Version": "2012-10-17", "Statement": [
        ROOT_STATEMENT,
        statement("Allow access for Key Administrators", {"AWS": KEY_ADMIN}, ADMIN_ACTIONS),
        statement("Allow use of the key", {"AWS": users}, USER_ACTIONS),
        statement("Allow attachment of persistent resources", {"AWS": users},
                  ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                  {"Bool": {"kms:GrantIsForAWSResource": "true"}}),
    ]}


TRAIL = "cloudtrail.amazonaws.com"
TRAIL_CONTEXT = {"StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn":
                                f"arn:aws:cloudtrail:*:{OWNER}:trail/*"}}


def cloudtrail_policy(describe_condition: Json | None = None) -> Json:
    """CloudTrail's default key policy (the describe statement carries no condition)."""
    trail = f"arn:aws:cloudtrail:us-east-1:{OWNER}:trail/main"
    return {"Version": "2012-10-17", "Statement": [
        ROOT_STATEMENT,
        statement("Allow CloudTrail to encrypt logs", {"Service": TRAIL}, "kms:GenerateDataKey*",
                  {"StringEquals": {"aws:SourceArn": trail}, **TRAIL_CONTEXT}),
        statement("Allow CloudTrail access", {"Service": TRAIL}, "kms:DescribeKey",
                  describe_condition),
        statement("Allow principals in the account to decrypt log files", {"AWS": "*"},
                  ["kms:Decrypt", "kms:ReEncryptFrom"],
                  {"StringEquals": {"kms:CallerAccount": OWNER}, **TRAIL_CONTEXT}),
    ]}
# fmt: on


def findings(doc: Json, rule: str, ctx: Context = CTX) -> list[Finding]:
    found = [f for f in analyze_key_policy(doc, ctx) if f.rule == rule]
    assert found, f"expected {rule} in the policy under test"
    return found


def check(proof: Proof, name: str) -> tuple[bool, str]:
    c = next(c for c in proof.checks if c.name == name)
    return c.passed, c.detail


def assert_proven(proof: Proof) -> None:
    assert [c.name for c in proof.checks] == list(CHECK_NAMES)
    failed = [f"{c.name}: {c.detail}" for c in proof.checks if not c.passed]
    assert not failed, failed


def assert_fails(proof: Proof, name: str, *words: str) -> str:
    passed, detail = check(proof, name)
    assert not passed, f"{name} passed: {detail}"
    assert not proof.ok
    for w in words:
        assert w in detail, detail
    return detail


# --- correct patches pass all four checks --------------------------------------------------


def test_removing_star_from_a_principal_list_is_proven() -> None:
    before = console_policy([KEY_USER, f"arn:aws:iam::{TRUSTED}:root", "*"])
    after = console_policy([KEY_USER, f"arn:aws:iam::{TRUSTED}:root"])
    proof = verify_change(
        before, after, CTX, findings(before, "KMS-PUBLIC"), must_close_outsiders=True
    )
    assert_proven(proof)


def test_removing_star_from_a_mixed_list_with_services_is_proven() -> None:
    trusted_root = f"arn:aws:iam::{TRUSTED}:root"
    mixed = {
        "AWS": [KEY_USER, TRUSTED_ROLE, trusted_root, "*"],
        "Service": "logs.us-east-1.amazonaws.com",
    }
    before = console_policy([KEY_USER])
    before["Statement"][2]["Principal"] = mixed
    after = copy.deepcopy(before)
    after["Statement"][2]["Principal"] = {
        "AWS": [KEY_USER, TRUSTED_ROLE, trusted_root],
        "Service": "logs.us-east-1.amazonaws.com",
    }
    proof = verify_change(before, after, CTX, findings(before, "KMS-PUBLIC"))
    assert_proven(proof)


def public_statement(condition: Json | None = None) -> Json:
    stmt: Json = {
        "Sid": "Public",
        "Effect": "Allow",
        "Principal": "*",
        "Action": ["kms:Decrypt", "kms:DescribeKey"],
        "Resource": "*",
    }
    if condition is not None:
        stmt["Condition"] = condition
    return stmt


def test_adding_a_caller_account_condition_to_a_public_statement_is_proven() -> None:
    before = console_policy([KEY_USER])
    before["Statement"].append(public_statement())
    after = copy.deepcopy(before)
    after["Statement"][-1] = public_statement(
        {"StringEquals": {"kms:CallerAccount": [OWNER, TRUSTED]}}
    )
    proof = verify_change(
        before, after, CTX, findings(before, "KMS-PUBLIC"), must_close_outsiders=True
    )
    assert_proven(proof)


def test_pinning_a_public_statement_to_the_trusted_organisation_is_proven() -> None:
    ctx = Context(OWNER, org_id=ORG, admins=(KEY_ADMIN,))
    before = console_policy([KEY_USER])
    before["Statement"].append(public_statement())
    after = copy.deepcopy(before)
    after["Statement"][-1] = public_statement({"StringEquals": {"aws:PrincipalOrgID": ORG}})
    proof = verify_change(
        before, after, ctx, findings(before, "KMS-PUBLIC", ctx), must_close_outsiders=True
    )
    assert_proven(proof)


def test_adding_source_account_to_a_service_statement_is_proven() -> None:
    before = cloudtrail_policy()
    after = cloudtrail_policy({"StringEquals": {"aws:SourceAccount": [OWNER, TRUSTED]}})
    proof = verify_change(
        before, after, CTX, findings(before, "KMS-SERVICE-UNSCOPED"), must_close_outsiders=True
    )
    assert_proven(proof)


def trusted_role_policy(actions: list[str]) -> Json:
    """The console policy plus a trusted account's role. Principals of the owner account keep
    everything through the root statement (it names the whole account), so the role that can
    lose an action is another account's."""
    doc = console_policy([KEY_USER])
    doc["Statement"].append(
        {
            "Sid": "Trusted reader",
            "Effect": "Allow",
            "Principal": {"AWS": TRUSTED_ROLE},
            "Action": actions,
            "Resource": "*",
        }
    )
    return doc


def test_taking_a_destructive_action_from_an_unauthorised_principal() -> None:
    """IAM-KMS-3: the playbook may take kms:ScheduleKeyDeletion from principals that are not
    authorised; without that allowance the loss is caught."""
    before = trusted_role_policy(["kms:Decrypt", "kms:ScheduleKeyDeletion"])
    after = trusted_role_policy(["kms:Decrypt"])
    targeted = findings(before, "IAM-KMS-3")
    removable = frozenset({"kms:ScheduleKeyDeletion"})
    assert_proven(verify_change(before, after, CTX, targeted, removable))
    assert_fails(
        verify_change(before, after, CTX, targeted),
        INSIDER_ACCESS_KEPT,
        "team/Reader",
        "kms:ScheduleKeyDeletion",
    )


def test_removable_actions_are_never_taken_from_an_administrator() -> None:
    ctx = Context(OWNER, trusted_accounts=frozenset({TRUSTED}), admins=(TRUSTED_ROLE,))
    before = trusted_role_policy(["kms:Decrypt", "kms:ScheduleKeyDeletion"])
    after = trusted_role_policy(["kms:Decrypt"])
    proof = verify_change(before, after, ctx, [], frozenset({"kms:ScheduleKeyDeletion"}))
    assert_fails(proof, INSIDER_ACCESS_KEPT, "team/Reader", "kms:ScheduleKeyDeletion")


# --- wrong patches are caught --------------------------------------------------------------


def test_dropping_the_root_statement_is_a_lockout() -> None:
    before = console_policy([KEY_USER, "*"])
    after = copy.deepcopy(before)
    del after["Statement"][0]
    after["Statement"][1]["Principal"] = {"AWS": [KEY_USER]}
    after["Statement"][2]["Principal"] = {"AWS": [KEY_USER]}
    proof = verify_change(before, after, CTX, findings(before, "KMS-PUBLIC"))
    assert_fails(proof, NOT_LOCKED_OUT, "owner root cannot call kms:PutKeyPolicy")
    assert_fails(proof, INSIDER_ACCESS_KEPT)
    assert_fails(proof, FINDINGS_CLOSED, "IAM-KMS-1")


def test_removing_a_trusted_account_loses_insider_access() -> None:
    before = console_policy([KEY_USER, TRUSTED_ROLE, "*"])
    after = console_policy([KEY_USER])
    proof = verify_change(before, after, CTX, findings(before, "KMS-PUBLIC"))
    assert_fails(proof, INSIDER_ACCESS_KEPT, TRUSTED)
    assert check(proof, NO_OUTSIDER_ACCESS)[0]


def test_widening_a_principal_to_star_is_caught_twice() -> None:
    before = console_policy([KEY_USER])
    after = console_policy([KEY_USER, "*"])
    proof = verify_change(before, after, CTX, [])
    assert_fails(proof, NO_OUTSIDER_ACCESS, "gains")
    assert_fails(proof, FINDINGS_CLOSED, "adds a finding: KMS-PUBLIC")


def test_a_half_done_patch_leaves_its_finding() -> None:
    wildcard_root = "arn:aws:iam::*:root"
    before = console_policy([KEY_USER, wildcard_root, "*"])
    after = console_policy([KEY_USER, wildcard_root])
    proof = verify_change(before, after, CTX, findings(before, "KMS-PUBLIC"))
    assert_fails(proof, FINDINGS_CLOSED, "KMS-PUBLIC", "still reported")


def test_must_close_outsiders_refuses_remaining_cross_account_access() -> None:
    before = console_policy([KEY_USER, f"arn:aws:iam::{UNTRUSTED}:root", "*"])
    after = console_policy([KEY_USER, f"arn:aws:iam::{UNTRUSTED}:root"])
    targeted = findings(before, "KMS-PUBLIC")
    assert check(verify_change(before, after, CTX, targeted), NO_OUTSIDER_ACCESS)[0]
    proof = verify_change(before, after, CTX, targeted, must_close_outsiders=True)
    assert_fails(proof, NO_OUTSIDER_ACCESS, UNTRUSTED, "can still call")


# aws:PrincipalType is "User" for an IAM user and "FederatedUser" for a GetFederationToken
# session, and aws:userid of the latter is "account:caller-specified-name"
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
# #condition-keys-principaltype; https://docs.aws.amazon.com/STS/latest/APIReference/
# API_FederatedUser.html): a patch that lets in only those principal types of other accounts
# must be caught, though no root or role session of any account gains anything.
@pytest.mark.parametrize("condition", [
    {"StringEquals": {"aws:PrincipalType": "User"}},
    {"StringEquals": {"aws:PrincipalType": "FederatedUser"}},
    {"StringLike": {"aws:username": "*"}},
    {"StringLike": {"aws:userid": "????????????:*"}},  # a 12-digit account, then a name
])
def test_letting_in_outside_users_only_is_caught(condition: Json) -> None:
    before = console_policy([KEY_USER])
    after = copy.deepcopy(before)
    after["Statement"].append(public_statement(condition))
    proof = verify_change(before, after, CTX, [])
    assert_fails(proof, NO_OUTSIDER_ACCESS, "gains")


def test_a_statement_without_resource_is_invalid_for_put_key_policy() -> None:
    before = console_policy([KEY_USER])
    after = copy.deepcopy(before)
    after["Statement"].append(
        {
            "Sid": "NoResource",
            "Effect": "Allow",
            "Principal": {"AWS": KEY_USER},
            "Action": "kms:DescribeKey",
        }
    )
    proof = verify_change(before, after, CTX, [])
    assert_fails(proof, NOT_LOCKED_OUT, "statement 4 has no Resource or NotResource")


def test_a_policy_over_32_kb_is_invalid() -> None:
    before = console_policy([KEY_USER])
    after = copy.deepcopy(before)
    roles = [f"arn:aws:iam::{OWNER}:role/app-{i:04d}" for i in range(950)]
    after["Statement"][2]["Principal"] = {"AWS": [KEY_USER, *roles]}
    size = len(json.dumps(after, separators=(",", ":")))
    assert 38_000 < size < 45_000
    proof = verify_change(before, after, CTX, [])
    assert_fails(proof, NOT_LOCKED_OUT, f"{size} bytes", "32768-byte limit")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"BypassPolicyLockoutSafetyCheck": True}, ("BypassPolicyLockoutSafetyCheck",)),
        ({"Sid": "caf\u00e9 \u2713"}, ("U+2713",)),
    ],
)
def test_other_put_key_policy_refusals(change: Json, words: tuple[str, ...]) -> None:
    after = console_policy([KEY_USER])
    after["Statement"][1] = {**after["Statement"][1], **change}
    problem = put_key_policy_problem(after)
    assert problem is not None
    for w in words:
        assert w in problem


def test_an_unparseable_after_policy_fails_every_check() -> None:
    before = console_policy([KEY_USER])
    after = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*"}]}
    proof = verify_change(before, after, CTX, [])
    assert [c.passed for c in proof.checks] == [False] * 4
    assert "Principal" in check(proof, NOT_LOCKED_OUT)[1]


# --- the proof as a plan carries it ----------------------------------------------------------


def test_proof_to_dict_is_json() -> None:
    before = console_policy([KEY_USER, f"arn:aws:iam::{TRUSTED}:root", "*"])
    after = console_policy([KEY_USER, f"arn:aws:iam::{TRUSTED}:root"])
    proof = verify_change(before, after, CTX, findings(before, "KMS-PUBLIC"))
    data = json.loads(json.dumps(proof.to_dict()))
    assert data["ok"] is True
    assert data["requests_evaluated"] == proof.requests > 0
    assert [c["name"] for c in data["checks"]] == list(CHECK_NAMES)
    assert all(set(c) == {"name", "passed", "detail"} for c in data["checks"])


# --- sixth audit: services beside "*", insiders gaining access, the size sent, narrowing ------

SNS = "sns.amazonaws.com"
ORG_CTX = Context(OWNER, trusted_accounts=frozenset({TRUSTED}), org_id=ORG, admins=(KEY_ADMIN,))
ROOT_ARN = f"arn:aws:iam::{OWNER}:root"
CRYPTO = ["kms:Decrypt", "kms:GenerateDataKey*"]


def test_a_service_named_beside_star_keeps_its_access() -> None:
    """``{"AWS": "*", "Service": S}`` names S explicitly: pinning that statement with
    aws:PrincipalOrgID / kms:CallerAccount (keys a service principal's request never carries)
    shuts S out, and the insider check must say so rather than treat the statement as "*"."""
    mixed = {"AWS": "*", "Service": SNS}
    before = {"Version": "2012-10-17", "Statement": [ROOT_STATEMENT, statement("M", mixed, CRYPTO)]}
    after = copy.deepcopy(before)
    after["Statement"][1]["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": ORG}}
    after["Statement"].append(statement("KmsRemediatorTrustedAccounts", mixed, CRYPTO,
                                        {"StringEquals": {"kms:CallerAccount": [OWNER, TRUSTED]}}))
    proof = verify_change(before, after, ORG_CTX, findings(before, "KMS-PUBLIC", ORG_CTX))
    assert_fails(proof, INSIDER_ACCESS_KEPT, SNS, "loses kms:Decrypt")


def test_a_service_only_star_reached_is_not_an_insider_to_keep() -> None:
    """What "*" alone gave a service is nobody's intent: pinning it is still proven."""
    before = {"Version": "2012-10-17", "Statement": [ROOT_STATEMENT, statement("P", "*", CRYPTO)]}
    after = copy.deepcopy(before)
    after["Statement"][1]["Condition"] = {"StringEquals": {"kms:CallerAccount": [OWNER, TRUSTED]}}
    assert_proven(verify_change(before, after, CTX, findings(before, "KMS-PUBLIC")))


DENY_SID = "KmsRemediatorDenyUnauthorisedActions"


def _deny_schedule(authorised: list[str]) -> Json:
    return {"Sid": DENY_SID, "Effect": "Deny", "Principal": {"AWS": "*"},
            "Action": "kms:ScheduleKeyDeletion", "Resource": "*",
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": authorised}}}


def test_an_insider_gaining_an_action_is_caught() -> None:
    """A Deny loosened to spare the key administrator gives it kms:ScheduleKeyDeletion: no
    playbook exists to grant that, so the proof fails even though nobody loses anything."""
    admin = statement("KA", {"AWS": KEY_ADMIN}, ["kms:ScheduleKeyDeletion", "kms:DescribeKey"])
    before = {"Version": "2012-10-17",
              "Statement": [ROOT_STATEMENT, _deny_schedule([ROOT_ARN]), admin]}
    after = copy.deepcopy(before)
    after["Statement"][1] = _deny_schedule([ROOT_ARN, KEY_ADMIN])
    proof = verify_change(before, after, CTX, [], frozenset({"kms:ScheduleKeyDeletion"}))
    assert_fails(proof, INSIDER_ACCESS_KEPT, "KeyAdmin", "gains kms:ScheduleKeyDeletion")
    assert check(proof, NO_OUTSIDER_ACCESS)[0]


def _without_root() -> Json:
    return {"Version": "2012-10-17", "Statement": [
        statement("Admin", {"AWS": KEY_ADMIN}, ["kms:Describe*", "kms:Put*"])]}


def test_re_adding_the_owner_root_may_grant_the_owner_account_only() -> None:
    """Closing IAM-KMS-1 exists to let the owner account in again (missing-root playbook);
    the same gain without that finding targeted, or a trusted account gaining with it, fails."""
    before = _without_root()
    after = copy.deepcopy(before)
    after["Statement"].append(ROOT_STATEMENT)
    targeted = findings(before, "IAM-KMS-1")
    proof = verify_change(before, after, CTX, targeted)
    assert_proven(proof)
    assert "IAM-KMS-1" in check(proof, INSIDER_ACCESS_KEPT)[1]
    assert_fails(verify_change(before, after, CTX, []), INSIDER_ACCESS_KEPT, "gains")
    wider = copy.deepcopy(after)
    wider["Statement"][-1] = statement(
        "Root", {"AWS": [ROOT_ARN, f"arn:aws:iam::{TRUSTED}:root"]}, "kms:*")
    assert_fails(verify_change(before, wider, CTX, targeted), INSIDER_ACCESS_KEPT, TRUSTED,
                 "gains")


def _padded(n: int) -> Json:
    doc = console_policy([KEY_USER])
    doc["Statement"][2]["Principal"] = {
        "AWS": [KEY_USER, *(f"arn:aws:iam::{OWNER}:role/app-{i:04d}" for i in range(n))]}
    return doc


def test_the_size_check_measures_the_text_apply_sends() -> None:
    """PutKeyPolicy receives ``keyops.policy_text``; a document whose compact JSON fits in
    32 KB but whose indented JSON does not must be sent in a form that fits, and the check
    must measure that very text."""
    from remediator.aws.keyops import policy_text
    from remediator.put_policy import MAX_POLICY_BYTES, put_key_policy_text

    doc = _padded(650)
    compact = len(json.dumps(doc, separators=(",", ":")).encode())
    indented = len(json.dumps(doc, indent=2).encode())
    assert compact < MAX_POLICY_BYTES < indented, (compact, indented)
    assert put_key_policy_problem(doc) is None
    sent = policy_text(doc)
    assert sent == put_key_policy_text(doc)
    assert len(sent.encode("utf-8")) <= MAX_POLICY_BYTES
    assert json.loads(sent) == doc
    small = console_policy([KEY_USER])
    assert policy_text(small) == json.dumps(small, indent=2), "readable when it fits"


def _f(rule: str, *principals: str, statement: int = 1) -> Finding:
    return Finding(rule, "high", "m", statement, None, principals)


def test_narrowing_a_finding_s_principals_is_not_a_new_finding() -> None:
    """Pinning a public kms:* statement turns IAM-KMS-8 for ``*`` into IAM-KMS-8 for ``* in
    organisation O`` (and, in the trusted-accounts copy, ``* in account A, B``): the same
    exposure, narrowed."""
    from remediator.verify import check_findings

    before = [_f("KMS-PUBLIC", "*"), _f("IAM-KMS-8", "*")]
    after = [_f("IAM-KMS-8", f"* in organisation {ORG}"),
             _f("IAM-KMS-8", f"* in account {OWNER}, {TRUSTED}", statement=2)]
    assert check_findings(before, after, [before[0]]).passed
    pinned = [_f("IAM-KMS-8", f"* in account {OWNER}, {TRUSTED}")]
    tighter = [_f("IAM-KMS-8", f"* in account {OWNER}; organisation {ORG}")]
    assert check_findings(pinned, tighter, []).passed


@pytest.mark.parametrize(
    ("before", "after"),
    [
        # a principal the rule did not name before
        ([_f("IAM-KMS-8", "*")], [_f("IAM-KMS-8", KEY_USER)]),
        # pinned more widely: more accounts, or a pin dropped
        ([_f("IAM-KMS-8", f"* in account {OWNER}")],
         [_f("IAM-KMS-8", f"* in account {OWNER}, {UNTRUSTED}")]),
        ([_f("IAM-KMS-8", f"* in account {OWNER}")], [_f("IAM-KMS-8", "*")]),
        ([_f("IAM-KMS-8", f"* in account {OWNER}; organisation {ORG}")],
         [_f("IAM-KMS-8", f"* in organisation {ORG}")]),
        # another rule for the same principal
        ([_f("IAM-KMS-8", "*")], [_f("IAM-KMS-3", f"* in organisation {ORG}")]),
    ],
)
def test_a_new_or_wider_finding_is_still_new(before: list[Finding], after: list[Finding]) -> None:
    from remediator.verify import check_findings

    result = check_findings(before, after, [])
    assert not result.passed and "adds a finding" in result.detail


def test_a_narrowed_targeted_finding_is_still_reported() -> None:
    from remediator.verify import check_findings

    target = _f("IAM-KMS-8", "*")
    result = check_findings([target], [_f("IAM-KMS-8", f"* in organisation {ORG}")], [target])
    assert not result.passed and "still reported" in result.detail


def test_pinning_a_public_kms_star_statement_is_proven() -> None:
    """The regression: a public statement granting admin and crypto actions could never be
    pinned, because the pinned IAM-KMS-8 label counted as a new finding."""
    by_account = {"StringEquals": {"kms:CallerAccount": [OWNER, TRUSTED]}}
    before = {"Version": "2012-10-17", "Statement": [ROOT_STATEMENT, statement("A", "*", "kms:*")]}
    after = copy.deepcopy(before)
    after["Statement"][1]["Condition"] = by_account
    assert_proven(verify_change(before, after, CTX, findings(before, "KMS-PUBLIC")))
    in_org = copy.deepcopy(before)
    in_org["Statement"][1]["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": ORG}}
    in_org["Statement"].append(statement("KmsRemediatorTrustedAccounts", "*", "kms:*", by_account))
    assert_proven(verify_change(before, in_org, ORG_CTX, findings(before, "KMS-PUBLIC", ORG_CTX)))


def test_pinning_that_adds_admin_rights_is_a_new_finding() -> None:
    """A patch that pins a public Decrypt but also grants ScheduleKeyDeletion creates IAM-KMS-8
    (and IAM-KMS-3) where there was none: refused."""
    before = {"Version": "2012-10-17",
              "Statement": [ROOT_STATEMENT, statement("A", "*", "kms:Decrypt")]}
    after = copy.deepcopy(before)
    after["Statement"][1] = statement(
        "A", "*", ["kms:Decrypt", "kms:ScheduleKeyDeletion"],
        {"StringEquals": {"kms:CallerAccount": [OWNER, TRUSTED]}})
    proof = verify_change(before, after, CTX, findings(before, "KMS-PUBLIC"))
    assert_fails(proof, FINDINGS_CLOSED, "adds a finding")


# --- the owner account's principals keep what the key policy itself gave them ---------------
# The root statement lets the account's principals in only through IAM policies, "in addition
# to the key policy" (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam):
# a role the key policy names, or "*" pinned to the account, needs none. Found by review: the
# proof read the root statement as giving them everything, so it passed patches that took
# such grants away.

APP = f"arn:aws:iam::{OWNER}:role/App"


def test_deleting_a_grant_to_an_owner_role_fails_though_the_root_statement_stays() -> None:
    before = console_policy([APP])
    after = copy.deepcopy(before)
    del after["Statement"][2:]
    proof = verify_change(before, after, CTX, [])
    detail = assert_fails(proof, INSIDER_ACCESS_KEPT, "role/App", "without any IAM policy")
    assert "kms:Decrypt" in detail or "kms:Encrypt" in detail


def test_deleting_star_pinned_to_an_organisation_fails_for_the_owner_account() -> None:
    # The organisation is not the trusted one: the statement is an exposure, but the owner
    # account's principals use the key through it too (pin it, don't delete it).
    org_use = statement("OrgUse", "*", ["kms:Decrypt", "kms:Encrypt"],
                        {"StringEquals": {"aws:PrincipalOrgID": "o-ourorg12345"}})
    before = {"Version": "2012-10-17", "Statement": [ROOT_STATEMENT, org_use]}
    after = {"Version": "2012-10-17", "Statement": [ROOT_STATEMENT]}
    no_admin = Context(OWNER)
    found = findings(before, "KMS-CROSS-ACCOUNT", no_admin)
    assert found
    assert_fails(verify_change(before, after, no_admin, found), INSIDER_ACCESS_KEPT,
                 f":{OWNER}:", "without any IAM policy")
    pinned = copy.deepcopy(before)
    pinned["Statement"][1]["Condition"] = {"StringEquals": {"kms:CallerAccount": OWNER}}
    assert_proven(verify_change(before, pinned, no_admin, found))


def test_an_administrator_reached_only_through_star_keeps_its_rights() -> None:
    # The administrator is named nowhere: "*" pinned to the account gives it the key's
    # destructive actions, and taking them from "*" takes them from it too.
    account_star = statement("Account", "*", ["kms:ScheduleKeyDeletion", "kms:Decrypt"],
                             {"StringEquals": {"kms:CallerAccount": OWNER}})
    before = {"Version": "2012-10-17", "Statement": [ROOT_STATEMENT, account_star]}
    after = copy.deepcopy(before)
    after["Statement"][1]["Action"] = ["kms:Decrypt"]
    proof = verify_change(before, after, CTX, findings(before, "IAM-KMS-3"),
                          frozenset({"kms:ScheduleKeyDeletion"}))
    assert_fails(proof, INSIDER_ACCESS_KEPT, "role/KeyAdmin", "kms:ScheduleKeyDeletion")


def test_an_administrator_may_lose_removable_cryptographic_use_only() -> None:
    """IAM-KMS-8 keeps cryptographic use from key administrators: a playbook that exists to
    remove it (separation of duties, kms:ViaService) may take it from one, never a right to
    manage the key (test_removable_actions_are_never_taken_from_an_administrator)."""
    ctx = Context(OWNER, trusted_accounts=frozenset({TRUSTED}), admins=(TRUSTED_ROLE,))
    before = trusted_role_policy(["kms:Decrypt", "kms:DisableKey"])
    after = trusted_role_policy(["kms:DisableKey"])
    assert_proven(verify_change(before, after, ctx, [], frozenset({"kms:Decrypt"})))
    assert_fails(verify_change(before, after, ctx, []), INSIDER_ACCESS_KEPT, "kms:Decrypt")


def test_the_owner_root_loses_nothing_even_what_a_playbook_may_remove() -> None:
    """Found by review: the owner root was excused losing removable cryptographic use like an
    administrator, though every principal of the account holds what it holds through it."""
    before = console_policy([KEY_USER])
    after = copy.deepcopy(before)
    after["Statement"][0] = {**ROOT_STATEMENT, "Action": None, "NotAction": ["kms:Decrypt"]}
    del after["Statement"][0]["Action"]
    proof = verify_change(before, after, CTX, [], frozenset({"kms:Decrypt"}))
    assert_fails(proof, INSIDER_ACCESS_KEPT, f"arn:aws:iam::{OWNER}:root loses kms:Decrypt")


def test_the_proof_reads_an_owner_account_resource_as_the_detectors_do() -> None:
    """Found by review: without a key ARN the detectors took a Deny on every key of the owner
    account as certain and the proof did not, so every whole-change proof failed."""
    perimeter = {"Sid": "OnlyOurAccount", "Effect": "Deny", "Principal": "*", "Action": "kms:*",
                 "Resource": f"arn:aws:kms:*:{OWNER}:key/*",
                 "Condition": {"StringNotEquals": {"kms:CallerAccount": [OWNER, TRUSTED]}}}
    everyone = statement("Everyone", "*", ["kms:Decrypt"])
    before = {"Version": "2012-10-17", "Statement": [ROOT_STATEMENT, everyone, perimeter]}
    assert not any(f.rule == "KMS-PUBLIC" for f in analyze_key_policy(before, CTX))
    proof = verify_change(before, copy.deepcopy(before), CTX, [], must_close_outsiders=True)
    assert check(proof, NO_OUTSIDER_ACCESS)[0], check(proof, NO_OUTSIDER_ACCESS)[1]


def test_a_principal_named_beside_star_keeps_what_its_name_gave_it() -> None:
    """Found by review: a statement open to everyone was not counted for the owner account's
    principals, even one it also names: dropping that name with the "*" passed."""
    trusted_root = f"arn:aws:iam::{TRUSTED}:root"
    before = console_policy([KEY_USER, trusted_root, "*"])
    after = console_policy([trusted_root])
    proof = verify_change(before, after, CTX, findings(before, "KMS-PUBLIC"))
    assert_fails(proof, INSIDER_ACCESS_KEPT, "KeyUser", "without any IAM policy")


def test_star_closed_to_outsiders_by_a_deny_is_a_grant_to_the_owner_account() -> None:
    """Found by review: "*" under a Deny of every other account gives the owner's principals
    the key on purpose, as "*" pinned by kms:CallerAccount does: deleting it is a loss."""
    everyone = statement("Everyone", "*", ["kms:Decrypt"])
    perimeter = {"Sid": "Perimeter", "Effect": "Deny", "Principal": "*", "Action": "kms:*",
                 "Resource": "*", "Condition": {"StringNotEquals": {
                     "aws:PrincipalAccount": [OWNER]}}}
    before = {"Version": "2012-10-17", "Statement": [ROOT_STATEMENT, everyone, perimeter]}
    after = {"Version": "2012-10-17", "Statement": [ROOT_STATEMENT, perimeter]}
    proof = verify_change(before, after, CTX, [])
    assert_fails(proof, INSIDER_ACCESS_KEPT, "loses kms:Decrypt", "without any IAM policy")


def test_an_any_account_admin_in_a_listed_member_is_among_the_requests() -> None:
    member, pattern = "555566667777", "arn:aws:iam::*:role/KeyAdmin"
    ctx = Context(OWNER, org_id="o-a1b2c3d4e5", admins=(pattern,),
                  org_accounts=frozenset({OWNER, member}))
    admins = statement("OrgKeyAdmins", "*", ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"],
                       {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"},
                        "ArnLike": {"aws:PrincipalArn": pattern}})
    before = {"Version": "2012-10-17", "Statement": [ROOT_STATEMENT, admins]}
    spares_owner_only = {"Sid": "D", "Effect": "Deny", "Principal": "*",
                         "Action": "kms:ScheduleKeyDeletion", "Resource": "*",
                         "Condition": {"ArnNotLike": {"aws:PrincipalArn": [
                             ROOT_ARN, f"arn:aws:iam::{OWNER}:role/KeyAdmin"]}}}
    after = {**before, "Statement": [*before["Statement"], spares_owner_only]}
    proof = verify_change(before, after, ctx, [], frozenset({"kms:ScheduleKeyDeletion"}))
    assert_fails(proof, INSIDER_ACCESS_KEPT, f"{member}:assumed-role/KeyAdmin",
                 "kms:ScheduleKeyDeletion")


def test_star_closed_to_outsiders_for_some_actions_is_a_grant_of_those() -> None:
    """Found by review: "*" closed by a Deny for Decrypt only was dropped whole (it still let
    outsiders Encrypt), so taking the "*" out passed though every other principal of the owner
    account lost Decrypt, which the Deny reserved for them."""
    ctx = Context(OWNER, admins=(KEY_ADMIN,))
    reserve = {"Sid": "OnlyMine", "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt",
               "Resource": "*", "Condition": {"StringNotEquals": {"aws:PrincipalAccount": OWNER}}}
    pub = statement("Pub", {"AWS": ["*", KEY_USER]}, ["kms:Encrypt", "kms:Decrypt"])
    before = {"Version": "2012-10-17", "Statement": [ROOT_STATEMENT, pub, reserve]}
    after = copy.deepcopy(before)
    after["Statement"][1]["Principal"] = {"AWS": [KEY_USER]}
    proof = verify_change(before, after, ctx, findings(before, "KMS-PUBLIC", ctx))
    assert_fails(proof, INSIDER_ACCESS_KEPT, "fresh-role", "loses kms:Decrypt")
