"""KMS-GRANT-EXTERNAL from grant to plan: who a grant's principals are is read from the grant
(service principal, or an ARN's account), and the plan revokes only grants whose grantee is
outside the trust, whatever severity the config gives the rule."""

from __future__ import annotations

from typing import Any

import pytest

from remediator.commands.planning import plan_snapshot
from remediator.config import Rules, parse_config
from remediator.detectors.grants import detect_external_grants, is_service_principal
from remediator.planner import KeyPlan, plan_grants, plan_unread_key
from remediator.playbooks import load_playbooks
from remediator.rule_settings import apply_rule_settings
from remediator.snapshot import snapshot_from_dict
from remediator.types import Context

OWNER, TRUSTED, OUTSIDER = "111122223333", "222233334444", "444455556666"
CTX = Context(OWNER, frozenset({TRUSTED}), "o-a1b2c3d4e5")
ROOT_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
     "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"}, "Action": "kms:*", "Resource": "*"}]}
SLR = "role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
EBS = "assumed-role/aws:ec2-infrastructure/i-0abc"

# name -> (grantee, retiring principal)
GRANTS: dict[str, tuple[str, str | None]] = {
    "outsider-role": (f"arn:aws:iam::{OUTSIDER}:role/Batch", None),
    "outsider-account": (OUTSIDER, None),
    "service-logs": ("logs.eu-west-1.amazonaws.com", None),
    "service-rds": ("rds.eu-west-1.amazonaws.com", "rds.eu-west-1.amazonaws.com"),
    "owner-role": (f"arn:aws:iam::{OWNER}:role/App", None),
    "owner-ebs": (f"arn:aws:sts::{OWNER}:{EBS}", f"arn:aws:sts::{OWNER}:{EBS}"),
    "owner-slr": (f"arn:aws:iam::{OWNER}:{SLR}", None),
    "outsider-ebs": (f"arn:aws:sts::{OUTSIDER}:{EBS}", None),
    "outsider-slr": (f"arn:aws:iam::{OUTSIDER}:{SLR}", None),
    "outsider-role-named-like-a-service": (f"arn:aws:iam::{OUTSIDER}:role/logs.amazonaws.com",
                                           None),
    "owner-role-outsider-retires": (f"arn:aws:iam::{OWNER}:role/App",
                                    f"arn:aws:iam::{OUTSIDER}:role/Retirer"),
    "trusted-role-outsider-retires": (f"arn:aws:iam::{TRUSTED}:role/App", OUTSIDER),
    "service-outsider-retires": ("rds.eu-west-1.amazonaws.com", f"arn:aws:iam::{OUTSIDER}:root"),
}
REVOKED = {"outsider-role", "outsider-account", "outsider-ebs", "outsider-slr",
           "outsider-role-named-like-a-service"}
SERVICE = {"service-logs", "service-rds"}
RETIRING_ONLY = {"owner-role-outsider-retires", "trusted-role-outsider-retires",
                 "service-outsider-retires"}
NO_FINDING = {"owner-role", "owner-ebs", "owner-slr"}
BOOKS = load_playbooks()


def grant(name: str) -> dict[str, Any]:
    grantee, retiring = GRANTS[name]
    g: dict[str, Any] = {"KeyId": f"arn:aws:kms:eu-west-1:{OWNER}:key/k", "GrantId": name,
                         "GranteePrincipal": grantee, "Operations": ["Decrypt"],
                         "IssuingAccount": f"arn:aws:iam::{OWNER}:root"}
    if retiring:
        g["RetiringPrincipal"] = retiring
    return g


def key(i: int, grants: list[dict[str, Any]], policy_error: str | None = None) -> dict[str, Any]:
    kid = f"0000{i:04d}-aaaa-4bbb-8ccc-000000000000"
    return {"arn": f"arn:aws:kms:eu-west-1:{OWNER}:key/{kid}", "account": OWNER,
            "region": "eu-west-1", "key_id": kid, "manager": "CUSTOMER", "state": "Enabled",
            "multi_region": False, "policy": None if policy_error else ROOT_POLICY,
            "policy_error": policy_error, "grants": grants, "aliases": [],
            "rotation_enabled": True, "tags": {}}


def config(severity: str | None) -> Any:
    rules = f"rules: {{severity: {{KMS-GRANT-EXTERNAL: {severity}}}}}\n" if severity else ""
    return parse_config(f'accounts: [{{id: "{OWNER}"}}]\nregions: [eu-west-1]\n'
                        f'trust: {{trusted_accounts: ["{TRUSTED}"], org_id: o-a1b2c3d4e5}}\n'
                        + rules)


def plan_all(severity: str | None) -> dict[str, Any]:
    snap = snapshot_from_dict({"version": 1, "taken_at": "2025-01-01T00:00:00Z",
                               "keys": [key(i, [grant(n)]) for i, n in enumerate(GRANTS)],
                               "iam_policies": [], "errors": []})
    return plan_snapshot(snap, config(severity), "0" * 64)


def outcome(plan: dict[str, Any]) -> dict[str, list[str]]:
    """Grant id -> what the plan does with it: "revoke", or each reason left to a person."""
    out: dict[str, list[str]] = {}
    for change in plan["changes"]:
        for g in change["revoke_grants"]:
            out.setdefault(g["GrantId"], []).append("revoke")
    for p in plan["needs_a_person"]:
        out.setdefault(p["finding"]["grant_id"], []).append(p["reason"])
    return out


# Fix 1: the planner used to decide "an AWS service's grant" by severity == "low", read after
# the config's overrides: critical revoked service grants, low kept every outsider's grant.
@pytest.mark.parametrize("severity", [None, "critical", "high", "low"])
def test_what_is_revoked_does_not_depend_on_the_configured_severity(severity: str | None) -> None:
    done = outcome(plan_all(severity))
    assert {g for g, what in done.items() if what == ["revoke"]} == REVOKED
    for g in SERVICE:
        assert done[g] == ["an AWS service's grant for its own resource: reported, not revoked"]
    assert set(done) == REVOKED | SERVICE | RETIRING_ONLY


def test_outsider_grant_messages_do_not_call_them_aws_services_under_a_low_override() -> None:
    plan = plan_all("low")
    findings = [f for c in plan["changes"] for f in c["findings"]]
    outsiders = [f for f in findings if f["grant_id"] in REVOKED]
    assert {f["grant_id"] for f in outsiders} == REVOKED
    assert all(f["severity"] == "low" for f in outsiders)  # the override still shows
    assert not any("AWS service" in f["message"] for f in outsiders)


# Fix 2: a grant whose grantee is inside the trust (or an AWS service) but whose retiring
# principal is outside used to be revoked, taking the insider's (or the resource's) access.
@pytest.mark.parametrize("name", sorted(RETIRING_ONLY))
def test_an_outside_retiring_principal_alone_is_left_to_a_person(name: str) -> None:
    plan = plan_all(None)
    assert not any(g["GrantId"] == name for c in plan["changes"] for g in c["revoke_grants"])
    (entry,) = [p for p in plan["needs_a_person"] if p["finding"]["grant_id"] == name]
    assert "re-create the grant without that retiring principal" in entry["reason"]
    assert entry["finding"]["principals"] == [GRANTS[name][1]]
    assert entry["finding"]["severity"] == "high"


# Fix 3: AWS-owned sessions and service-linked roles act for the account they are in.
def test_aws_sessions_and_service_linked_roles_of_the_owner_are_not_findings() -> None:
    for name in NO_FINDING:
        assert detect_external_grants([grant(name)], CTX) == [], name


@pytest.mark.parametrize("name", ["outsider-ebs", "outsider-slr",
                                  "outsider-role-named-like-a-service"])
def test_aws_sessions_and_roles_of_an_untrusted_account_are_ordinary_outsiders(name: str) -> None:
    (f,) = detect_external_grants([grant(name)], CTX)
    assert f.severity == "high" and f.principals == (GRANTS[name][0],)
    assert "AWS service" not in f.message


@pytest.mark.parametrize(("value", "expected"), [
    ("logs.eu-west-1.amazonaws.com", True),
    ("dynamodb.amazonaws.com", True),
    ("rds.cn-north-1.amazonaws.com.cn", True),
    (f"arn:aws:iam::{OUTSIDER}:role/logs.amazonaws.com", False),
    (f"arn:aws:iam::{OWNER}:{SLR}", False),
    (OUTSIDER, False),
    ("amazonaws.com", False),
])
def test_service_principals_are_names_under_amazonaws_com_never_arns(value: str,
                                                                     expected: bool) -> None:
    assert is_service_principal(value) is expected


def test_the_service_verdict_survives_a_severity_override() -> None:
    findings = detect_external_grants([grant("service-logs"), grant("outsider-role")], CTX)
    raised = apply_rule_settings(findings, Rules(severity={"KMS-GRANT-EXTERNAL": "critical"}),
                                 "arn", OWNER)
    kp = plan_grants(KeyPlan(ROOT_POLICY, ROOT_POLICY, ()), raised, BOOKS, frozenset())
    assert [f.grant_id for f in kp.revoke_grants] == ["outsider-role"]
    assert [u.finding.grant_id for u in kp.unresolved] == ["service-logs"]


def test_a_grant_finding_without_what_the_detector_read_is_never_revoked() -> None:
    (f,) = detect_external_grants([grant("outsider-role")], CTX)
    bare = f._replace(grant_parties=None)  # without what the detector read from the grant
    kp = plan_grants(KeyPlan(ROOT_POLICY, ROOT_POLICY, ()), [bare], BOOKS, frozenset())
    assert not kp.revoke_grants and "check it by hand" in kp.unresolved[0].reason


# Fix 5 (planner part): a key whose policy could not be read is not changed, and its grant
# findings are left to a person rather than dropped.
def test_grants_of_a_key_whose_policy_could_not_be_read_go_to_a_person() -> None:
    findings = detect_external_grants([grant("outsider-role"), grant("service-logs")], CTX)
    kp = plan_unread_key("AccessDeniedException", findings)
    assert not kp.changed and kp.policy_error == "AccessDeniedException"
    reasons = {u.finding.grant_id: u.reason for u in kp.unresolved}
    assert "could not be read (AccessDeniedException)" in reasons["outsider-role"]
    assert "AWS service" in reasons["service-logs"]


# A grant has no condition that could pin its grantee to the organisation: a member account is
# trusted when trusted_accounts lists it, or when the scan read the organisation's members
# (Context.org_accounts, tests/test_org_members.py); otherwise it is outside.
def test_an_organisation_member_is_trusted_only_when_listed() -> None:
    member = "arn:aws:iam::555566667777:role/App"
    g = {**grant("outsider-role"), "GranteePrincipal": member}
    assert detect_external_grants([g], CTX)[0].severity == "high"
    listed = Context(OWNER, frozenset({TRUSTED, "555566667777"}), "o-a1b2c3d4e5")
    assert detect_external_grants([g], listed) == []
    read = Context(OWNER, frozenset({TRUSTED}), "o-a1b2c3d4e5",
                   org_accounts=frozenset({"555566667777"}))
    assert detect_external_grants([g], read) == []


def test_a_key_whose_policy_could_not_be_read_lists_its_grant_findings_for_a_person() -> None:
    snap = snapshot_from_dict({"version": 1, "taken_at": "2025-01-01T00:00:00Z",
                               "keys": [key(0, [grant("outsider-role")], "AccessDenied")],
                               "iam_policies": [], "errors": []})
    plan = plan_snapshot(snap, config(None), "0" * 64)
    assert plan["changes"] == []
    unread, grant_entry = plan["needs_a_person"]
    assert unread["finding"] is None and "could not be read" in unread["reason"]
    assert grant_entry["finding"]["grant_id"] == "outsider-role"
    assert "revoke grant outsider-role by hand" in grant_entry["reason"]


# CreateGrant takes GranteePrincipal or GranteeServicePrincipal, never both; a service grantee
# needs a SourceArn constraint, and the retiring principal may be a service too
# (https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateGrant.html,
# https://docs.aws.amazon.com/kms/latest/APIReference/API_GrantListEntry.html).
def _service_grant(source_account: str | None, retiring: dict[str, str]) -> dict[str, Any]:
    g: dict[str, Any] = {"KeyId": f"arn:aws:kms:eu-west-1:{OWNER}:key/k", "GrantId": "svc",
                         "GranteeServicePrincipal": "logs.eu-west-1.amazonaws.com",
                         "Operations": ["Decrypt", "GenerateDataKey"], **retiring}
    if source_account is not None:
        arn = f"arn:aws:logs:eu-west-1:{source_account}:log-group:app"
        g["Constraints"] = {"SourceArn": arn}
    return g


@pytest.mark.parametrize(("source", "retiring", "severity", "principals"), [
    # Found by review: with GranteeServicePrincipal the grant had "no usable grantee" and was
    # never looked at, even with an outside retiring principal.
    (OWNER, {"RetiringServicePrincipal": "logs.eu-west-1.amazonaws.com"}, "low",
     ("logs.eu-west-1.amazonaws.com",)),
    (OWNER, {"RetiringPrincipal": f"arn:aws:iam::{OUTSIDER}:root"}, "high",
     (f"arn:aws:iam::{OUTSIDER}:root",)),
    # The service acts for a resource of an untrusted account: that account uses the key.
    (OUTSIDER, {"RetiringServicePrincipal": "logs.eu-west-1.amazonaws.com"}, "high",
     (f"arn:aws:logs:eu-west-1:{OUTSIDER}:log-group:app",)),
    (TRUSTED, {"RetiringServicePrincipal": "logs.eu-west-1.amazonaws.com"}, "low",
     ("logs.eu-west-1.amazonaws.com",)),
])
def test_grants_to_service_principals(source: str, retiring: dict[str, str], severity: str,
                                      principals: tuple[str, ...]) -> None:
    [found] = detect_external_grants([_service_grant(source, retiring)], CTX)
    assert (found.severity, found.principals) == (severity, principals)


def test_a_service_grant_for_an_outsiders_resource_is_revoked() -> None:
    [found] = detect_external_grants([_service_grant(OUTSIDER, {
        "RetiringServicePrincipal": "logs.eu-west-1.amazonaws.com"})], CTX)
    assert found.grant_parties is not None and found.grant_parties.is_revocable
    assert f"on behalf of arn:aws:logs:eu-west-1:{OUTSIDER}:log-group:app" in found.message
    plan = plan_grants(KeyPlan(ROOT_POLICY, ROOT_POLICY, ()), [found], BOOKS, frozenset())
    assert [f.grant_id for f in plan.revoke_grants] == ["svc"]
    # The same grant for the owner's own log group is the service's own: kept, reported low.
    [own] = detect_external_grants([_service_grant(OWNER, {
        "RetiringServicePrincipal": "logs.eu-west-1.amazonaws.com"})], CTX)
    kept = plan_grants(KeyPlan(ROOT_POLICY, ROOT_POLICY, ()), [own], BOOKS, frozenset())
    assert kept.revoke_grants == () and [u.finding for u in kept.unresolved] == [own]


def test_a_service_grant_an_untrusted_account_issued_serves_that_account() -> None:
    """Reported by review: such a grant was "an AWS service acting for its own resource", low
    and never revoked, though the outsider made it (the key policy let it) and it keeps
    working after the key policy is fixed."""
    g = {**grant("service-logs"), "IssuingAccount": f"arn:aws:iam::{OUTSIDER}:root"}
    [found] = detect_external_grants([g], CTX)
    assert found.severity == "high" and found.principals == (f"arn:aws:iam::{OUTSIDER}:root",)
    assert found.grant_parties is not None and found.grant_parties.is_revocable
    # Issued by a trusted account, the same grant is the service's own.
    trusted = {**grant("service-logs"), "IssuingAccount": f"arn:aws:iam::{TRUSTED}:root"}
    [own] = detect_external_grants([trusted], CTX)
    assert own.severity == "low" and not own.grant_parties.is_revocable  # type: ignore[union-attr]


def test_an_s3_source_arn_names_no_account_so_the_issuing_account_decides() -> None:
    """Found by review: a SourceArn without an account part (arn:aws:s3:::bucket) hid an
    untrusted issuing account."""
    g = {**grant("service-logs"), "IssuingAccount": f"arn:aws:iam::{OUTSIDER}:root",
         "Constraints": {"SourceArn": "arn:aws:s3:::outsider-bucket"}}
    [found] = detect_external_grants([g], CTX)
    assert found.severity == "high" and found.grant_parties is not None
    assert found.grant_parties.is_revocable
