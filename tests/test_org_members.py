"""Members of the trusted organisation, as the scan read them from Organizations.

``trust.org_id`` says members are trusted. A policy may name a member account with no
``aws:PrincipalOrgID`` condition; only the member list says it is one. With the list
(``Context.org_accounts``) such a member is inside the trust for the detectors, the grants
and the proofs; without it, it is an outsider, as before.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from remediator.approval import keeps_owner_control, plan_members
from remediator.commands.planning import plan_snapshot
from remediator.config import parse_config
from remediator.detectors import analyze_key_policy
from remediator.detectors.grants import detect_external_grants
from remediator.errors import BadInputError
from remediator.planner import plan_policy
from remediator.playbooks import load_playbooks
from remediator.policy import actions as kms
from remediator.policy.document import parse_policy
from remediator.policy.evaluate import AWS, INSIDER, Request, allowed_actions
from remediator.policy.requests import collect, fresh_accounts
from remediator.snapshot import snapshot_from_dict
from remediator.types import Context
from remediator.verify import verify_change

OWNER, MEMBER, OUTSIDER = "111122223333", "555566667777", "444455556666"
ORG = "o-a1b2c3d4e5"
KNOWN = Context(OWNER, frozenset(), ORG, org_accounts=frozenset({OWNER, MEMBER}))
UNKNOWN = Context(OWNER, frozenset(), ORG)
ROOT = {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
        "Action": "kms:*", "Resource": "*"}


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [ROOT, *statements]}


EXPOSURE = {"KMS-PUBLIC", "KMS-CROSS-ACCOUNT"}


def rules(doc: dict[str, Any], ctx: Context) -> set[tuple[str, str]]:
    """(exposure rule, principal) for each principal an exposure finding names."""
    return {(f.rule, p) for f in analyze_key_policy(doc, ctx) for p in f.principals
            if f.rule in EXPOSURE}


NAMED_MEMBER = policy({"Sid": "Member", "Effect": "Allow",
                       "Principal": {"AWS": [f"arn:aws:iam::{MEMBER}:role/App", OUTSIDER]},
                       "Action": "kms:Decrypt", "Resource": "*"})
# "*" pinned to the member by kms:CallerAccount: the AWS default service policy's shape.
PINNED_TO_MEMBER = policy({"Sid": "ViaS3", "Effect": "Allow", "Principal": {"AWS": "*"},
                           "Action": "kms:Decrypt", "Resource": "*",
                           "Condition": {"StringEquals": {"kms:CallerAccount": MEMBER}}})


def test_a_named_member_is_inside_only_when_the_members_are_known() -> None:
    assert rules(NAMED_MEMBER, KNOWN) == {("KMS-CROSS-ACCOUNT", OUTSIDER)}
    assert ("KMS-CROSS-ACCOUNT", f"arn:aws:iam::{MEMBER}:role/App") in rules(NAMED_MEMBER,
                                                                             UNKNOWN)


def test_star_pinned_to_a_member_account_is_not_public_or_cross_account() -> None:
    assert rules(PINNED_TO_MEMBER, KNOWN) == set()
    assert {r for r, _ in rules(PINNED_TO_MEMBER, UNKNOWN)} == {"KMS-CROSS-ACCOUNT"}


def test_a_grant_to_a_member_is_no_finding_when_the_members_are_known() -> None:
    grant = {"GrantId": "g", "GranteePrincipal": f"arn:aws:iam::{MEMBER}:role/Batch",
             "Operations": ["Decrypt"]}
    assert detect_external_grants([grant], KNOWN) == []
    assert [f.rule for f in detect_external_grants([grant], UNKNOWN)] == ["KMS-GRANT-EXTERNAL"]


CONFIG = (f'accounts: [{{id: "{OWNER}"}}]\nregions: [eu-west-1]\n'
          f"trust: {{org_id: {ORG}}}\n")


def snapshot(doc: dict[str, Any], org: dict[str, Any] | None) -> dict[str, Any]:
    kid = "00000001-aaaa-4bbb-8ccc-000000000000"
    return {"version": 1, "taken_at": "2025-01-01T00:00:00Z", "iam_policies": [],
            "errors": [], "organization": org,
            "keys": [{"arn": f"arn:aws:kms:eu-west-1:{OWNER}:key/{kid}", "account": OWNER,
                      "region": "eu-west-1", "key_id": kid, "manager": "CUSTOMER",
                      "state": "Enabled", "multi_region": False, "policy": doc,
                      "policy_error": None, "grants": [], "aliases": [],
                      "rotation_enabled": True, "tags": {}}]}


def test_members_are_read_from_the_snapshot_only_for_the_trusted_organisation() -> None:
    config = parse_config(CONFIG)
    for org, expected in (({"id": ORG, "accounts": [MEMBER]}, frozenset({MEMBER})),
                          ({"id": "o-zzzzzzzzzz", "accounts": [MEMBER]}, frozenset()),
                          (None, frozenset())):
        snap = snapshot_from_dict(snapshot(NAMED_MEMBER, org))
        assert snap.members_of(config.trust.org_id) == expected
        assert snapshot_from_dict(snap.to_dict()) == snap  # the file round-trips
    without_org_trust = parse_config(f'accounts: [{{id: "{OWNER}"}}]\nregions: [eu-west-1]\n')
    assert without_org_trust.context_for(OWNER, frozenset({MEMBER})).org_accounts == frozenset()


@pytest.mark.parametrize(("org", "problem"), [
    ({"id": "o-1", "accounts": []}, "organization: id: expected an organization id"),
    ({"id": ORG, "accounts": ["5555"]}, r"organization: accounts\[0\]: expected a 12-digit"),
    ({"id": ORG}, "organization.accounts"),
])
def test_a_malformed_organization_in_a_snapshot_is_bad_input(org: dict[str, Any],
                                                             problem: str) -> None:
    with pytest.raises(BadInputError, match=problem):
        snapshot_from_dict(snapshot(NAMED_MEMBER, org))


# The member holds kms:DescribeKey by name and kms:Decrypt only through the public "*". The
# patch pins "*" to the organisation (aws:PrincipalOrgID): the member keeps kms:Decrypt, so
# the proof must probe it as what it is, a member of the organisation, and never as an account
# of no organisation, which would make the patch look like it takes the member's access.
PUBLIC_WITH_MEMBER = policy(
    {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt",
     "Resource": "*"},
    {"Sid": "Member", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MEMBER}:root"},
     "Action": "kms:DescribeKey", "Resource": "*"})


def test_pinning_star_to_the_organisation_is_proven_to_keep_a_named_members_access() -> None:
    config = parse_config(CONFIG)
    plan = plan_snapshot(snapshot_from_dict(snapshot(
        PUBLIC_WITH_MEMBER, {"id": ORG, "accounts": [OWNER, MEMBER]})), config, "0" * 64)
    change, = plan["changes"]
    public = next(s for s in change["after"]["policy"]["Statement"] if s["Sid"] == "Public")
    assert public["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ORG}}
    assert change["proof"]["ok"] is True and change["auto_fix"] is True, json.dumps(
        change["proof"])
    assert not [p for p in plan["needs_a_person"] if p["finding"]["rule"] in EXPOSURE]


# Apply checks each after-policy for lockout again (approval.plan_members): the plan carries
# the members it was proven with, and only the trusted organisation's.
def test_the_plan_carries_the_members_it_was_proven_with() -> None:
    config = parse_config(CONFIG)
    for org, carried in (({"id": ORG, "accounts": [MEMBER]}, {"id": ORG, "accounts": [MEMBER]}),
                         ({"id": "o-zzzzzzzzzz", "accounts": [MEMBER]}, None),
                         (None, None)):
        plan = plan_snapshot(snapshot_from_dict(snapshot(PUBLIC_WITH_MEMBER, org)), config,
                             "0" * 64)
        assert plan["organization"] == carried
        assert plan_members(plan, config.trust.org_id) == frozenset(
            carried["accounts"] if carried else ())


# The trust names an organisation the owner is not in (Organizations listed its members, and
# not the owner): pinning "*" to the organisation would shut the owner's own principals out,
# so the patch also keeps the owner in by kms:CallerAccount, and the proof probes the owner
# as what it is, outside the organisation.
def test_an_owner_outside_the_trusted_organisation_keeps_its_access() -> None:
    owner = "999988887777"
    ctx = Context(owner, org_id=ORG, org_accounts=frozenset({MEMBER}))
    assert not ctx.owner_in_org() and KNOWN.owner_in_org() and UNKNOWN.owner_in_org()
    doc = {"Version": "2012-10-17", "Statement": [
        {"Sid": "RootAdmin", "Effect": "Allow",
         "Principal": {"AWS": f"arn:aws:iam::{owner}:root"},
         "Action": ["kms:PutKeyPolicy", "kms:GetKeyPolicy"], "Resource": "*"},
        {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt",
         "Resource": "*"}]}
    kp = plan_policy(doc, ctx, load_playbooks())
    assert kp.proof is not None and kp.proof.ok, kp.proof and kp.proof.to_dict()
    role = Request(AWS, f"arn:aws:sts::{owner}:assumed-role/App/s", owner, None, (), {},
                   f"arn:aws:iam::{owner}:role/App", None, INSIDER, False)
    assert allowed_actions(parse_policy(kp.after), role) & kms.bit("kms:Decrypt")
    assert "KMS-PUBLIC" not in {f.rule for f in analyze_key_policy(kp.after, ctx)}


def test_the_proofs_fresh_outsider_is_never_a_member() -> None:
    named = collect((), UNKNOWN)
    first, second = fresh_accounts(named, 2)
    assert fresh_accounts(named, 2, frozenset({first})) == [second, fresh_accounts(
        named, 3)[2]]


def test_pinning_to_the_organisation_alone_is_refused_for_an_owner_outside_it() -> None:
    owner = "999988887777"
    ctx = Context(owner, org_id=ORG, org_accounts=frozenset({MEMBER}))
    root = {"Sid": "RootAdmin", "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{owner}:root"},
            "Action": ["kms:PutKeyPolicy", "kms:GetKeyPolicy"], "Resource": "*"}
    public = {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt",
              "Resource": "*"}
    pinned = {**public, "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}}}
    before = {"Version": "2012-10-17", "Statement": [root, public]}
    after = {"Version": "2012-10-17", "Statement": [root, pinned]}
    targeted = [f for f in analyze_key_policy(before, ctx) if f.rule == "KMS-PUBLIC"]
    checks = {c.name: c for c in verify_change(before, after, ctx, targeted).checks}
    assert not checks["insider-access-kept"].passed
    assert owner in checks["insider-access-kept"].detail


# aws:PrincipalOrgID is the organisation "to which the requesting principal belongs"
# (condition keys page): an owner the members list leaves out is not in the trusted one, so a
# Deny on everyone outside it takes kms:PutKeyPolicy from the owner root too.
def test_an_owner_outside_the_organisation_is_locked_out_by_the_perimeter_deny() -> None:
    doc = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "Perimeter", "Effect": "Deny", "Principal": "*", "Action": "kms:*",
         "Resource": "*", "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": ORG}}}]}
    outside = Context(OWNER, org_id=ORG, org_accounts=frozenset({MEMBER}))
    assert "IAM-KMS-1" in {f.rule for f in analyze_key_policy(doc, outside)}
    assert "IAM-KMS-1" not in {f.rule for f in analyze_key_policy(doc, KNOWN)}
    assert "IAM-KMS-1" not in {f.rule for f in analyze_key_policy(doc, UNKNOWN)}
    assert not keeps_owner_control(doc, outside) and keeps_owner_control(doc, KNOWN)
