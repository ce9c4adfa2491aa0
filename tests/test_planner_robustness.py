"""The planner on policies that broke it (fifth audit):

1. A patch that drops a statement shifts the ones after it: the next group of the same playbook
   must be patched at its statement as the document now is, not where it was first found.
2. A patch operation that cannot be built for a policy (every spelling of the condition key it
   adds is taken) means its strategy does not apply: the finding goes to a person with the
   reason, and the key's other findings and the other keys are still planned.
3. ``Principal: {"AWS": []}`` is an invalid policy: plan lists the key for a person, naming it.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_planner import ALL, BOOKS, CTX, CTX_NO_ORG, OWNER, ROOT, allow, doc
from test_scan_plan_agree import CONFIG, PUBLIC, arn, key, policy, snapshot

from remediator.commands.planning import plan_snapshot
from remediator.config import load_config
from remediator.detectors import analyze_key_policy
from remediator.patches import OPERATIONS
from remediator.patches.document import Operation
from remediator.planner import plan_policy
from remediator.snapshot import snapshot_from_dict

OPS1 = allow("Ops1", {"AWS": f"arn:aws:iam::{OWNER}:role/Ops1"}, "kms:ScheduleKeyDeletion")
OPS2 = allow("Ops2", {"AWS": f"arn:aws:iam::{OWNER}:role/Ops2"},
             ["kms:DescribeKey", "kms:ScheduleKeyDeletion"])


def _destructive(d: dict[str, Any]) -> list[Any]:
    return [f for f in analyze_key_policy(d, CTX) if f.rule == "IAM-KMS-3"]


# --- 1. statement indexes after a statement is dropped ---------------------------------------

@pytest.mark.parametrize("include", [frozenset({"destructive-actions"}), ALL])
def test_a_dropped_statement_does_not_leave_the_next_group_at_a_stale_index(
    include: frozenset[str],
) -> None:
    # Removing Ops1's only action drops statement 1; Ops2's finding was found at statement 2.
    policy_ = doc(ROOT, OPS1, OPS2)
    kp = plan_policy(policy_, CTX, BOOKS, include, _destructive)
    assert not _destructive(kp.after), [u.reason for u in kp.unresolved]
    assert kp.after["Statement"] == [ROOT, {**OPS2, "Action": ["kms:DescribeKey"]}]
    assert [(s.strategy, s.proof.ok) for s in kp.steps] == [("remove-named-actions", True)] * 2
    assert kp.proof is not None and kp.proof.ok, kp.proof.to_dict()
    # Each step reports its finding where the reviewer sees it: in the policy planned against.
    assert [(f.sid, f.statement) for s in kp.steps for f in s.findings] == [
        ("Ops1", 1), ("Ops2", 2)]


def test_a_dropped_statement_before_a_group_whose_statement_is_kept_in_place() -> None:
    # Three groups; the first and second drop statements, the third is narrowed in place.
    ops3 = allow("Ops3", {"AWS": f"arn:aws:iam::{OWNER}:role/Ops3"},
                 ["kms:Decrypt", "kms:ScheduleKeyDeletion"])
    ops0 = {**OPS1, "Sid": "Ops0", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:role/Ops0"}}
    kp = plan_policy(doc(ROOT, ops0, OPS1, ops3), CTX, BOOKS, ALL, _destructive)
    assert not _destructive(kp.after)
    assert kp.after["Statement"] == [ROOT, {**ops3, "Action": ["kms:Decrypt"]}]
    assert all(s.proof.ok for s in kp.steps) and kp.proof is not None and kp.proof.ok


def test_the_cli_plans_the_audited_snapshot_with_a_dropped_statement() -> None:
    data = snapshot([key(1, policy(OPS1, OPS2))])
    plan = plan_snapshot(snapshot_from_dict(data), load_config(CONFIG), "0" * 64,
                         ["destructive-actions"])
    (change,) = plan["changes"]
    assert [s["proof"]["ok"] for s in change["steps"]] == [True, True]
    assert change["proof"]["ok"] and plan["needs_a_person"] == []


# --- 2. an operation that cannot be built for this policy ------------------------------------

def _every_spelling(key_: str, value: str) -> dict[str, Any]:
    """A condition block where StringEquals, StringLike and their ForAnyValue forms all hold
    ``key_``: the patch operations have no spelling left to add their own condition under."""
    return {"StringLike": {key_: value}, "ForAnyValue:StringLike": {key_: value},
            "StringEquals": {key_: f"${{{key_}}}"},
            "ForAnyValue:StringEquals": {key_: f"${{{key_}}}"}}


PUBLIC_ALL_TAKEN = allow("S", "*", "kms:Decrypt", _every_spelling("aws:PrincipalOrgID", "o-*"))
SERVICE_ALL_TAKEN = allow("S", {"Service": "sns.amazonaws.com"}, "kms:Decrypt",
                          _every_spelling("aws:SourceAccount", "*"))


@pytest.mark.parametrize(("stmt", "ctx", "rule", "strategy", "condition_key"), [
    (PUBLIC_ALL_TAKEN, CTX, "KMS-PUBLIC", "pin-caller-account", "aws:PrincipalOrgID"),
    (SERVICE_ALL_TAKEN, CTX_NO_ORG, "KMS-SERVICE-UNSCOPED", "add-source-account",
     "aws:SourceAccount"),
], ids=["public-org-id", "service-source-account"])
def test_an_operation_that_cannot_be_built_leaves_the_finding_to_a_person(
    stmt: dict[str, Any], ctx: Any, rule: str, strategy: str, condition_key: str,
) -> None:
    policy_ = doc(ROOT, stmt)
    kp = plan_policy(policy_, ctx, BOOKS, frozenset())
    item = next(u for u in kp.unresolved if u.finding.rule == rule)
    assert f"{strategy}: does not apply to this policy" in item.reason
    assert f"condition on {condition_key}: every spelling is taken" in item.reason
    assert item.proposal is None and not any(
        f.rule == rule for s in kp.steps for f in s.findings)


def test_the_other_findings_of_the_key_are_still_planned() -> None:
    # The public statement cannot be pinned, but kms:ViaService can still be added to it (the
    # configured administrator, let in by "*", may lose its direct cryptographic use: IAM-KMS-8
    # keeps that from key administrators).
    kp = plan_policy(doc(ROOT, PUBLIC_ALL_TAKEN), CTX, BOOKS, ALL)
    assert any(u.finding.rule == "KMS-PUBLIC" for u in kp.unresolved)
    assert [s.playbook for s in kp.steps] == ["via-service"]
    assert all(s.proof.ok for s in kp.steps)


def test_the_other_keys_are_still_planned() -> None:
    data = snapshot([key(1, policy(PUBLIC_ALL_TAKEN)), key(2, policy(PUBLIC))])
    plan = plan_snapshot(snapshot_from_dict(data), load_config(CONFIG), "0" * 64)
    assert [c["key_arn"] for c in plan["changes"]] == [arn(2)]
    item = next(p for p in plan["needs_a_person"]
                if p["key_arn"] == arn(1) and p["finding"]["rule"] == "KMS-PUBLIC")
    assert "every spelling is taken" in item["reason"]


def test_a_programming_error_in_an_operation_is_not_swallowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_: Any) -> None:
        raise TypeError("a bug, not a policy the operation does not apply to")

    op = OPERATIONS["restrict-to-trusted"]
    monkeypatch.setitem(OPERATIONS, op.name, Operation(op.name, broken, op.params,
                                                       op.permissions, op.summary))
    with pytest.raises(TypeError, match="a bug"):
        plan_policy(doc(ROOT, allow("Public", "*", "kms:Decrypt")), CTX, BOOKS, ALL)


# --- 3. an empty principal list --------------------------------------------------------------

def test_an_empty_aws_principal_list_is_an_invalid_policy_left_to_a_person() -> None:
    # plan_policy itself expects a valid policy (it raises PolicyError); plan_key checks the
    # policy first, as scan does, so the key is named for a person and the others are planned.
    bad = allow("Empty", {"AWS": []}, "kms:Decrypt")
    data = snapshot([key(1, policy(bad)), key(2, policy(PUBLIC))])
    plan = plan_snapshot(snapshot_from_dict(data), load_config(CONFIG), "0" * 64)
    assert [c["key_arn"] for c in plan["changes"]] == [arn(2)]
    (item,) = [p for p in plan["needs_a_person"] if p["key_arn"] == arn(1)]
    assert item["finding"] is None and item["resource"] == arn(1)
    assert item["reason"] == ("the key policy is not valid: Statement[1].Principal.AWS must not "
                              "be empty; the key is not changed")
