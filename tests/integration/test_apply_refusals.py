"""What apply refuses, against a real moto server; every refusal leaves every key unchanged."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kms_estate import (
    EXTERNAL,
    FAST_RETRY,
    REGIONS,
    ROLE,
    SANDBOX_A,
    SANDBOX_B,
    apply,
    change,
    config,
    factory,
    live_grants,
    make_bucket,
    make_key,
    make_plan,
    root,
    state_of,
    statuses,
    store,
)

from remediator.apply import apply_plan
from remediator.aws.faults import Fault, FaultInjector
from remediator.aws.session import ClientFactory
from remediator.config import Config, Trust
from remediator.errors import BackupError, RefusedError
from remediator.localaws import LocalAws
from remediator.plan import plan_digest
from remediator.rollback import list_runs, rollback_run

pytestmark = pytest.mark.integration


def test_a_wrong_digest_is_refused(aws: LocalAws, clients: ClientFactory) -> None:
    keys = [make_key(clients, SANDBOX_A, r) for r in REGIONS]
    before = state_of(clients, keys)
    plan = make_plan([change(k) for k in keys])
    backups = store(aws, "wrong-digest")
    with pytest.raises(RefusedError, match="is not the digest of this plan"):
        apply_plan(plan, "0" * 64, config(aws), clients, backups)
    with pytest.raises(RefusedError, match="not approved"):
        apply_plan(plan, None, config(aws), clients, backups, confirm=lambda digest: False)
    with pytest.raises(RefusedError, match="not approved"):
        apply_plan(plan, None, config(aws), clients, backups)
    edited = {**plan, "needs_a_person": [{"note": "edited after review"}]}
    with pytest.raises(RefusedError, match="does not match its digest"):
        apply_plan(edited, plan["digest"], config(aws), clients, backups)
    assert state_of(clients, keys) == before
    assert list_runs(backups) == []


def test_a_person_confirming_at_a_terminal_approves(aws: LocalAws, clients: ClientFactory) -> None:
    key = make_key(clients, SANDBOX_B, REGIONS[1])
    plan = make_plan([change(key)])
    asked: list[str] = []

    def person(digest: str) -> bool:
        asked.append(digest)
        return True

    result = apply_plan(plan, None, config(aws), clients, store(aws, "confirm"), confirm=person)
    assert asked == [plan["digest"]]
    assert result.exit_code == 0


def test_a_non_sandbox_account_is_refused(aws: LocalAws, clients: ClientFactory) -> None:
    keys = [make_key(clients, SANDBOX_B, r) for r in REGIONS]
    before = state_of(clients, keys)
    plan = make_plan([change(k) for k in keys])
    result = apply(aws, clients, plan, "not-sandbox", cfg=config(aws, sandbox=[SANDBOX_A]))
    assert set(statuses(result).values()) == {"refused-not-sandbox"}
    assert result.exit_code == 2
    assert "not in sandbox_accounts" in (result.outcomes[0].reason or "")
    assert state_of(clients, keys) == before


def test_an_account_sts_does_not_confirm_is_refused(aws: LocalAws, clients: ClientFactory) -> None:
    key_b, key_a = (
        make_key(clients, SANDBOX_B, REGIONS[0]),
        make_key(clients, SANDBOX_A, REGIONS[0]),
    )
    before = state_of(clients, [key_b])

    def mixed_up(account: str, region: str, service: str) -> Any:
        # Credentials for B that really belong to A: STS says so, the config cannot.
        return clients(SANDBOX_A if account == SANDBOX_B else account, region, service)

    result = apply(aws, mixed_up, make_plan([change(key_b), change(key_a)]), "sts")
    assert statuses(result) == {key_b.arn: "refused-not-sandbox", key_a.arn: "applied"}
    assert f"reports {SANDBOX_A}" in (result.outcomes[0].reason or "")
    assert result.exit_code == 3
    assert state_of(clients, [key_b]) == before


def test_an_unversioned_bucket_is_refused_before_any_change(
    aws: LocalAws, clients: ClientFactory
) -> None:
    make_bucket(aws, "plain-bucket", versioned=False)
    key = make_key(clients, SANDBOX_A, REGIONS[1])
    before = state_of(clients, [key])
    plain = store(aws, "x", bucket="plain-bucket")
    with pytest.raises(BackupError, match="does not have versioning enabled"):
        apply(aws, clients, make_plan([change(key)]), "x", backups=plain)
    assert state_of(clients, [key]) == before


def test_a_backup_write_failure_leaves_the_key_alone(aws: LocalAws, clients: ClientFactory) -> None:
    keys = [make_key(clients, SANDBOX_A, r) for r in REGIONS]
    before = state_of(clients, keys)
    s3 = aws.client("s3")
    failing = Fault("PutObject", code="InternalError", status=500, match=_not_the_run_record)
    FaultInjector(failing).install(s3)
    backups = store(aws, "backup-fails", s3=s3)
    result = apply(aws, clients, make_plan([change(k) for k in keys]), "", backups=backups)
    assert set(statuses(result).values()) == {"failed"}
    assert all("backup failed" in (o.reason or "") for o in result.outcomes)
    assert result.exit_code == 3 and failing.injected > 0
    assert state_of(clients, keys) == before
    record = backups.get_run_record(result.run_id)
    assert [e["backup"] for e in record["keys"]] == [None, None]


def _not_the_run_record(request: Any) -> bool:
    return "/run.json" not in str(request.url)


def test_a_run_record_that_cannot_be_written_stops_before_any_change(
    aws: LocalAws, clients: ClientFactory
) -> None:
    key = make_key(clients, SANDBOX_B, REGIONS[0])
    before = state_of(clients, [key])
    s3 = aws.client("s3")
    FaultInjector(Fault("PutObject", code="AccessDenied", status=403)).install(s3)
    with pytest.raises(BackupError, match="AccessDenied"):
        apply(aws, clients, make_plan([change(key)]), "", backups=store(aws, "deny", s3=s3))
    assert state_of(clients, [key]) == before


def test_a_key_changed_since_the_plan_is_skipped_and_the_others_go_on(
    aws: LocalAws, clients: ClientFactory
) -> None:
    keys = [make_key(clients, SANDBOX_A, REGIONS[0]) for _ in range(3)]
    plan = make_plan([change(k) for k in keys])
    stale = keys[1]
    moved = {**stale.policy, "Id": "changed-by-someone-else"}
    kms = clients(stale.account, stale.region, "kms")
    kms.put_key_policy(KeyId=stale.key_id, PolicyName="default", Policy=json.dumps(moved))
    stale_before = state_of(clients, [stale])
    result = apply(aws, clients, plan, "stale")
    assert statuses(result) == {
        keys[0].arn: "applied",
        stale.arn: "skipped-stale",
        keys[2].arn: "applied",
    }
    assert result.exit_code == 3
    assert state_of(clients, [stale]) == stale_before


def test_a_key_changed_while_its_backup_is_written_is_skipped(
    aws: LocalAws, clients: ClientFactory
) -> None:
    """Found by review: a policy change made between the stale check and PutKeyPolicy (while
    the backup was written) was overwritten, and was in no backup. Apply re-reads the policy
    just before PutKeyPolicy and skips the key; rollback leaves it, as nothing was written."""
    key, other = make_key(clients, SANDBOX_A, REGIONS[0]), make_key(clients, SANDBOX_A, REGIONS[0])
    someone = {**key.policy, "Id": "someone-elses-change"}
    twin = factory(aws)(SANDBOX_A, REGIONS[0], "kms")
    s3 = aws.client("s3")

    def during_the_backup(request: Any, **_: Any) -> None:
        if f"/{key.key_id}.json" in str(request.url):
            twin.put_key_policy(KeyId=key.key_id, PolicyName="default", Policy=json.dumps(someone))

    s3.meta.events.register("before-send.s3.PutObject", during_the_backup)
    backups = store(aws, "moved-during-backup", s3=s3)
    result = apply(aws, clients, make_plan([change(key), change(other)]), "", backups=backups)
    assert statuses(result) == {key.arn: "skipped-stale", other.arn: "applied"}
    assert "changed while its backup" in (result.outcomes[0].reason or "")
    assert result.changed == (other.arn,)
    moved = state_of(clients, [key])
    assert moved[key.arn][0] == someone
    [run] = list_runs(backups)
    assert run.keys_touched == (other.arn,)
    back = rollback_run(result.run_id, backups, clients, config(aws), retry=FAST_RETRY)
    assert statuses(back) == {other.arn: "restored"}
    assert state_of(clients, [key]) == moved


def test_a_manual_playbook_needs_include_manual(aws: LocalAws, clients: ClientFactory) -> None:
    key = make_key(clients, SANDBOX_B, REGIONS[1])
    before = state_of(clients, [key])
    plan = make_plan([change(key, auto_fix=False, playbooks=["wildcard-action"])])
    refused = apply(aws, clients, plan, "manual")
    assert statuses(refused) == {key.arn: "refused-manual"}
    assert "--include-manual" in (refused.outcomes[0].reason or "")
    assert state_of(clients, [key]) == before
    applied = apply(aws, clients, plan, "manual", include_manual=["wildcard-action"])
    assert statuses(applied) == {key.arn: "applied"}


def _with_auto_fix(cfg: Config, overrides: dict[str, bool]) -> Config:
    return cfg.model_copy(update={"playbooks": cfg.playbooks.model_copy(
        update={"auto_fix": overrides})})


def test_auto_fix_is_decided_by_the_config_at_apply_time(
    aws: LocalAws, clients: ClientFactory
) -> None:
    """Found by review: apply trusted the plan's auto_fix flag. A playbook the config no longer
    lets auto-fix needs --include-manual, and one that a config override now lets auto-fix
    needs nothing, whatever the plan says."""
    keys = [make_key(clients, SANDBOX_A, REGIONS[0]) for _ in range(2)]
    before = state_of(clients, keys)
    public = change(keys[0], playbooks=["public-principal"], auto_fix=True)
    wildcard = change(keys[1], playbooks=["wildcard-action"], auto_fix=False)
    plan = make_plan([public, wildcard])
    turned = _with_auto_fix(config(aws), {"public-principal": False, "wildcard-action": True})
    result = apply(aws, clients, plan, "auto-fix-config", cfg=turned)
    assert statuses(result) == {keys[0].arn: "refused-manual", keys[1].arn: "applied"}
    assert (result.outcomes[0].reason or "").startswith(
        "playbooks public-principal may not auto-fix under the current config")
    assert state_of(clients, [keys[0]]) == {keys[0].arn: before[keys[0].arn]}
    included = apply(aws, clients, make_plan([public]), "auto-fix-config", cfg=turned,
                     include_manual=["public-principal"])
    assert statuses(included) == {keys[0].arn: "applied"}


def test_a_plan_claiming_auto_fix_for_a_manual_playbook_is_refused(
    aws: LocalAws, clients: ClientFactory
) -> None:
    key = make_key(clients, SANDBOX_A, REGIONS[0])
    before = state_of(clients, [key])
    claimed = change(key, playbooks=["public-principal", "destructive-actions"], auto_fix=True)
    result = apply(aws, clients, make_plan([claimed]), "claimed-auto")
    assert statuses(result) == {key.arn: "refused-manual"}
    assert (result.outcomes[0].reason or "").startswith("playbooks destructive-actions may not")
    assert state_of(clients, [key]) == before


def test_a_playbook_the_config_does_not_know_is_refused(
    aws: LocalAws, clients: ClientFactory
) -> None:
    key = make_key(clients, SANDBOX_A, REGIONS[0])
    before = state_of(clients, [key])
    plan = make_plan([change(key, playbooks=["public-principal", "made-elsewhere"])])
    result = apply(aws, clients, plan, "unknown-playbook", include_manual=["made-elsewhere"])
    assert statuses(result) == {key.arn: "refused-unknown-playbook"}
    assert (result.outcomes[0].reason or "").startswith(
        "playbooks made-elsewhere are not among the configured playbooks")
    assert result.exit_code == 2
    assert state_of(clients, [key]) == before


def test_an_after_policy_that_locks_the_owner_out_is_refused(
    aws: LocalAws, clients: ClientFactory
) -> None:
    key = make_key(clients, SANDBOX_A, REGIONS[0])
    before = state_of(clients, [key])
    only_a_role = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{SANDBOX_A}:role/Only"},
        "Action": "kms:*",
        "Resource": "*",
    }
    lockout = {"Version": "2012-10-17", "Statement": [only_a_role]}
    result = apply(aws, clients, make_plan([change(key, after=lockout)]), "lockout")
    assert statuses(result) == {key.arn: "refused-lockout"}
    assert state_of(clients, [key]) == before


def _deny_put_to_all_but(account: str, spared: list[str]) -> dict[str, Any]:
    """The tool's narrow Deny of kms:PutKeyPolicy (and a destructive action) for every
    principal but ``spared``, beside the owner root's statement."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": root(account)},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "KmsRemediatorDenyUnauthorisedActions", "Effect": "Deny", "Principal": "*",
         "Action": ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"], "Resource": "*",
         "Condition": {"ArnNotLike": {"aws:PrincipalArn": [root(account), *spared]}}}]}


# KMS refuses a PutKeyPolicy whose policy would not let the principal making it make a
# subsequent PutKeyPolicy request
# (https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html); moto does not
# (LOCAL_AWS.md), so apply checks it for the caller STS reports: here a session of ROLE.
def test_an_after_policy_that_locks_the_applying_principal_out_is_refused(
    aws: LocalAws, clients: ClientFactory
) -> None:
    keys = [make_key(clients, SANDBOX_A, r) for r in REGIONS]
    before = state_of(clients, keys)
    admin = f"arn:aws:iam::{SANDBOX_A}:role/KeyAdmin"
    plan = make_plan([change(k, after=_deny_put_to_all_but(SANDBOX_A, [admin])) for k in keys])
    backups = store(aws, "caller-lockout")
    result = apply(aws, clients, plan, "caller-lockout", backups=backups)
    assert set(statuses(result).values()) == {"refused-lockout"}
    assert result.exit_code == 2
    reason = result.outcomes[0].reason or ""
    assert f"assumed-role/{ROLE}/" in reason and "the principal applying it" in reason
    assert state_of(clients, keys) == before
    # The same Deny sparing the applying role (as it would a configured administrator) is
    # applied: the role keeps kms:PutKeyPolicy, and so can roll the change back.
    tool = f"arn:aws:iam::{SANDBOX_A}:role/{ROLE}"
    spared = make_plan([change(k, after=_deny_put_to_all_but(SANDBOX_A, [admin, tool]))
                        for k in keys])
    assert set(statuses(apply(aws, clients, spared, "caller-kept")).values()) == {"applied"}


def test_a_change_whose_proof_did_not_pass_is_refused(
    aws: LocalAws, clients: ClientFactory
) -> None:
    """Found by review: the planner kept a change whose whole proof failed, and apply did not
    look at the proof. A plan written so (by an earlier version) is refused, key by key."""
    keys = [make_key(clients, SANDBOX_A, r) for r in REGIONS]
    before = state_of(clients, keys)
    failed = {"ok": False, "requests_evaluated": 3, "checks": [
        {"name": "no-outsider-access", "passed": False, "detail": "an outsider can still"}]}
    unproven = change(keys[0]) | {"proof": failed}
    missing = change(keys[1]) | {"proof": {}}
    result = apply(aws, clients, make_plan([unproven, missing]), "unproven")
    assert statuses(result) == {k.arn: "refused-unproven" for k in keys}
    assert "proof did not pass" in (result.outcomes[0].reason or "")
    assert state_of(clients, keys) == before


def test_a_before_policy_that_is_not_its_marker_is_refused(
    aws: LocalAws, clients: ClientFactory
) -> None:
    """Found by review: the stale check compares the live policy with before.policy_sha256,
    while show, the proof and the caller-lockout check read before.policy. A plan whose
    before.policy is a copy of its after.policy (marker: the live policy's) read as "no policy
    change" everywhere and skipped every gate, yet apply replaced the live policy."""
    key = make_key(clients, SANDBOX_A, REGIONS[0])
    before = state_of(clients, [key])
    after = _deny_put_to_all_but(SANDBOX_A, [])
    unbound = change(key, after=after) | {"proof": {}}
    unbound["before"] = {**unbound["before"], "policy": after}
    backups = store(aws, "before-unbound")
    plan = make_plan([unbound])
    with pytest.raises(RefusedError, match=(
            rf"Plan change 0 \({key.arn}\) cannot be applied: its before.policy_sha256 is not "
            "the SHA-256 of its before.policy")):
        apply_plan(plan, plan["digest"], config(aws), clients, backups)
    assert state_of(clients, [key]) == before
    assert list_runs(backups) == []


def test_a_revoked_grant_that_is_not_the_planned_one_skips_the_key(
    aws: LocalAws, clients: ClientFactory
) -> None:
    """Found by review: apply revoked the plan's grant ids without comparing the live grant
    with the plan's entry, so a plan whose entry showed "grant G to the external account"
    while G was the owner's own grant revoked the owner's grant. That key is now skipped as
    stale, and the others go on."""
    key, other = make_key(clients, SANDBOX_A, REGIONS[0]), make_key(clients, SANDBOX_A, REGIONS[0])
    before = state_of(clients, [key])
    own = next(g for g in key.grants if g["GranteePrincipal"] == root(SANDBOX_A))
    relabelled = change(key) | {"revoke_grants": [{**own, "GranteePrincipal": root(EXTERNAL)}]}
    result = apply(aws, clients, make_plan([relabelled, change(other)]), "grant-drift")
    assert statuses(result) == {key.arn: "skipped-stale", other.arn: "applied"}
    reason = result.outcomes[0].reason or ""
    assert reason.startswith(f"grant {own['GrantId']} is not the grant the plan revokes")
    assert f"GranteePrincipal is '{root(SANDBOX_A)}', not '{root(EXTERNAL)}'" in reason
    assert result.exit_code == 3
    assert state_of(clients, [key]) == before


@pytest.mark.parametrize("field", ["RetiringPrincipal", "Operations", "Constraints"])
def test_each_field_that_makes_a_grant_the_planned_one_is_compared(
    aws: LocalAws, clients: ClientFactory, field: str
) -> None:
    key = make_key(clients, SANDBOX_A, REGIONS[0])
    before = state_of(clients, [key])
    edited = {"RetiringPrincipal": root(EXTERNAL), "Operations": ["Decrypt"],
              "Constraints": {"EncryptionContextSubset": {"app": "other"}}}[field]
    planned = change(key) | {"revoke_grants": [{**key.revoke[0], field: edited}]}
    result = apply(aws, clients, make_plan([planned]), f"grant-drift-{field}")
    assert statuses(result) == {key.arn: "skipped-stale"}
    assert f"its {field} is " in (result.outcomes[0].reason or "")
    assert state_of(clients, [key]) == before


def test_operations_listed_in_another_order_are_the_same_grant(
    aws: LocalAws, clients: ClientFactory
) -> None:
    key = make_key(clients, SANDBOX_A, REGIONS[0])
    grant = key.revoke[0]
    planned = change(key) | {"revoke_grants": [
        {**grant, "Operations": list(reversed(grant["Operations"]))}]}
    result = apply(aws, clients, make_plan([planned]), "grant-order")
    assert statuses(result) == {key.arn: "applied"}


def test_revoke_grants_given_as_bare_ids_are_refused(
    aws: LocalAws, clients: ClientFactory
) -> None:
    key = make_key(clients, SANDBOX_A, REGIONS[0])
    before = state_of(clients, [key])
    plan = make_plan([change(key) | {"revoke_grants": key.revoke_ids}])
    backups = store(aws, "bare-ids")
    with pytest.raises(RefusedError, match="its revoke_grants are not grants as ListGrants lists"):
        apply_plan(plan, plan["digest"], config(aws), clients, backups)
    assert state_of(clients, [key]) == before
    assert list_runs(backups) == []


def test_one_key_under_an_arn_of_another_partition_is_refused(
    aws: LocalAws, clients: ClientFactory
) -> None:
    """Found by review: the "a key comes twice" check compared ARN strings, and KMS is called
    with the key id, so the same key under an aws-cn ARN was changed twice in one run (and
    rollback could not bring the original back). Nothing is changed now."""
    key = make_key(clients, SANDBOX_A, REGIONS[0], external_grants=0)
    before = state_of(clients, [key])
    first = change(key)
    again = change(key, after=first["before"]["policy"]) | {
        "key_arn": key.arn.replace("arn:aws:", "arn:aws-cn:", 1),
        "before": {**first["after"], "grants": key.grants}}
    plan = make_plan([first, again])
    backups = store(aws, "same-key-twice")
    with pytest.raises(RefusedError, match=(
            f"Plan change 1 .* is in partition aws-cn, but Region {REGIONS[0]} is in aws")):
        apply_plan(plan, plan["digest"], config(aws), clients, backups)
    twice = make_plan([first, change(key)])
    with pytest.raises(RefusedError, match="more than once"):
        apply_plan(twice, twice["digest"], config(aws), clients, backups)
    assert state_of(clients, [key]) == before
    assert list_runs(backups) == []


ORG = "o-a1b2c3d4e5"


def _redigest(plan: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in plan.items() if k != "digest"}
    return body | {"digest": plan_digest(body)}


# aws:PrincipalOrgID is the organisation "to which the requesting principal belongs"
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
# #condition-keys-principalorgid): when the members the plan was proven with leave the owner
# out, the perimeter Deny takes kms:PutKeyPolicy from the owner root too, and apply's own
# lockout check must see that, not take the owner for a member.
def test_the_lockout_check_uses_the_members_the_plan_was_proven_with(
    aws: LocalAws, clients: ClientFactory
) -> None:
    key = make_key(clients, SANDBOX_A, REGIONS[0])
    before = state_of(clients, [key])
    perimeter = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{SANDBOX_A}:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "Perimeter", "Effect": "Deny", "Principal": "*", "Action": "kms:*",
         "Resource": "*", "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": ORG}}}]}
    cfg = config(aws).model_copy(update={"trust": Trust(org_id=ORG)})
    plan = make_plan([change(key, after=perimeter)])
    outside = _redigest({**plan, "organization": {"id": ORG, "accounts": [SANDBOX_B]}})
    result = apply(aws, clients, outside, "org-outside", cfg=cfg)
    assert statuses(result) == {key.arn: "refused-lockout"}
    assert state_of(clients, [key]) == before
    # The same members under another organisation's id say nothing of the trusted one.
    other = _redigest({**plan, "organization": {"id": "o-zzzzzzzzzz", "accounts": [SANDBOX_B]}})
    inside = _redigest({**plan, "organization": {"id": ORG, "accounts": [SANDBOX_A, SANDBOX_B]}})
    for name, member_plan in (("org-other", other), ("org-inside", inside)):
        key_now = make_key(clients, SANDBOX_A, REGIONS[0])
        retargeted = _redigest({**member_plan, "changes": [change(key_now, after=perimeter)]})
        assert statuses(apply(aws, clients, retargeted, name, cfg=cfg)) == {
            key_now.arn: "applied"}


@pytest.mark.parametrize("organization", [
    {"id": ORG}, {"id": ORG, "accounts": ["12345"]}, {"accounts": []}, [ORG], "o-a1b2c3d4e5"])
def test_a_plan_whose_organization_is_malformed_is_refused(
    aws: LocalAws, clients: ClientFactory, organization: Any
) -> None:
    key = make_key(clients, SANDBOX_A, REGIONS[0])
    before = state_of(clients, [key])
    plan = _redigest({**make_plan([change(key)]), "organization": organization})
    backups = store(aws, "org-malformed")
    with pytest.raises(RefusedError, match="organization is not an id"):
        apply_plan(plan, plan["digest"], config(aws), clients, backups)
    assert state_of(clients, [key]) == before
    assert list_runs(backups) == []


def test_an_aws_managed_key_is_refused_whatever_the_plan_says(aws: LocalAws) -> None:
    # moto makes only customer managed keys, so DescribeKey's answer is rewritten for one key
    # on a client of this test's own (the shared factory caches its clients).
    clients = factory(aws)
    managed, customer = make_key(clients, SANDBOX_A, REGIONS[0]), make_key(
        clients, SANDBOX_A, REGIONS[0])
    kms = clients(SANDBOX_A, REGIONS[0], "kms")

    def only_managed(parsed: dict[str, Any], **_: Any) -> None:
        if parsed.get("KeyMetadata", {}).get("KeyId") == managed.key_id:
            parsed["KeyMetadata"]["KeyManager"] = "AWS"

    kms.meta.events.register("after-call.kms.DescribeKey", only_managed)
    before = state_of(clients, [managed])
    result = apply(aws, clients, make_plan([change(managed), change(customer)]), "aws-managed")
    assert statuses(result) == {managed.arn: "refused-aws-managed", customer.arn: "applied"}
    assert "KeyManager 'AWS'" in (result.outcomes[0].reason or "")
    assert result.exit_code == 3
    assert state_of(clients, [managed]) == before
    record = store(aws, "aws-managed").get_run_record(result.run_id)
    assert [e["backup"] is None for e in record["keys"]] == [True, False]
    alone = apply(aws, clients, make_plan([change(managed)]), "aws-managed-alone")
    assert statuses(alone) == {managed.arn: "refused-aws-managed"} and alone.exit_code == 2
    assert state_of(clients, [managed]) == before


def test_a_grants_only_change_puts_no_policy(aws: LocalAws) -> None:
    """Found by review: apply put the unchanged policy back for a change that only revokes
    grants, which needs kms:PutKeyPolicy for nothing and rewrites the policy text. Here every
    PutKeyPolicy is refused: the grants-only change is applied all the same."""
    clients = factory(aws)
    key = make_key(clients, SANDBOX_A, REGIONS[0])
    refuse_puts = FaultInjector(Fault("PutKeyPolicy", code="AccessDeniedException"))
    refuse_puts.install(clients(SANDBOX_A, REGIONS[0], "kms"))
    result = apply(aws, clients, make_plan([change(key, after=key.policy)]), "grants-only")
    assert statuses(result) == {key.arn: "applied"}
    assert refuse_puts.injected == 0
    assert not [g for g in live_grants(clients, key) if g["GrantId"] in key.revoke_ids]
