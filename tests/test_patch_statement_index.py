"""The one-statement patch operations (remediator/patches/privileges.py, exposure.py) on a
finding that
does not address a statement of the document (no statement, an index out of range, one that
is not a JSON object): a ValueError naming the problem, never IndexError or TypeError, which
the planner reads as "this strategy does not apply"."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from test_planner import BOOKS, CTX, OWNER, ROOT, allow, doc

from remediator.patches import OPERATIONS
from remediator.patches.document import statement_at
from remediator.planner import plan_policy
from remediator.types import Finding

OPS = allow("Ops", {"AWS": f"arn:aws:iam::{OWNER}:role/Ops"},
            ["kms:DescribeKey", "kms:ScheduleKeyDeletion"])
WILD = allow("Wild", {"AWS": f"arn:aws:iam::{OWNER}:role/Wild"}, "kms:*")
CRYPTO = allow("Crypto", {"AWS": f"arn:aws:iam::{OWNER}:role/App"}, "kms:Decrypt")
PUBLIC_AND_APP = allow("Mixed", {"AWS": ["*", f"arn:aws:iam::{OWNER}:role/App"]}, "kms:Decrypt")
PUBLIC = allow("Public", "*", "kms:Decrypt")
OUTSIDER = allow("Partner", {"AWS": ["444455556666", f"arn:aws:iam::{OWNER}:role/App"]},
                 "kms:Decrypt")
SERVICE = allow("Config", {"Service": "config.amazonaws.com"}, "kms:GenerateDataKey*")

# operation name -> (rule, the statement it patches at index 1, its actions)
CASES = {
    "remove-actions": ("IAM-KMS-3", OPS, ("kms:ScheduleKeyDeletion",)),
    "add-via-service": ("IAM-KMS-6", CRYPTO, ("kms:Decrypt",)),
    "replace-wildcard-action": ("KMS-WILDCARD-ACTION", WILD, ("kms:*",)),
    "remove-wildcard-principal": ("KMS-PUBLIC", PUBLIC_AND_APP, ("kms:Decrypt",)),
    "restrict-to-trusted": ("KMS-PUBLIC", PUBLIC, ("kms:Decrypt",)),
    "remove-untrusted": ("KMS-CROSS-ACCOUNT", OUTSIDER, ("kms:Decrypt",)),
    "scope-service": ("KMS-SERVICE-UNSCOPED", SERVICE, ("kms:GenerateDataKey*",)),
}


def _finding(rule: str, statement: Any, actions: tuple[str, ...],
             principal: str = f"arn:aws:iam::{OWNER}:role/Ops") -> Finding:
    return Finding(rule, "high", "test finding", statement, None, (principal,), actions)


def _run(op: str, policy: dict[str, Any], statement: Any) -> Any:
    rule, _, actions = CASES[op]
    return OPERATIONS[op].fn(policy, _finding(rule, statement, actions), CTX, {})


@pytest.mark.parametrize("op", sorted(CASES))
def test_the_operation_patches_the_statement_its_finding_names(op: str) -> None:
    policy = doc(ROOT, CASES[op][1])
    out = _run(op, policy, 1)
    assert out is not None and out["Statement"][0] is ROOT and out["Statement"][1] != CASES[op][1]


@pytest.mark.parametrize("op", sorted(CASES))
def test_a_finding_without_a_statement_raises_value_error(op: str) -> None:
    policy = doc(ROOT, CASES[op][1])
    with pytest.raises(ValueError, match=rf"the {CASES[op][0]} finding names no statement"):
        _run(op, policy, None)


@pytest.mark.parametrize("op", sorted(CASES))
@pytest.mark.parametrize("index", [2, 7, -1, -3])
def test_a_statement_index_out_of_range_raises_value_error(op: str, index: int) -> None:
    # -1 would silently address the last statement; it is out of range like the others.
    policy = doc(ROOT, CASES[op][1])
    untouched = copy.deepcopy(policy)
    with pytest.raises(ValueError, match=rf"names statement {index}, but the policy has 2 "):
        _run(op, policy, index)
    assert policy == untouched


@pytest.mark.parametrize("op", sorted(CASES))
def test_a_document_without_statements_raises_value_error(op: str) -> None:
    with pytest.raises(ValueError, match="names statement 0, but the policy has 0 "):
        _run(op, {"Version": "2012-10-17"}, 0)


@pytest.mark.parametrize("op", sorted(CASES))
@pytest.mark.parametrize("stmt", ["kms:*", ["kms:*"], 3, None])
def test_a_statement_that_is_not_an_object_raises_value_error(op: str, stmt: Any) -> None:
    with pytest.raises(ValueError, match="statement 1 of the policy is not a JSON object"):
        _run(op, doc(ROOT, stmt), 1)


@pytest.mark.parametrize("index", [True, "1", 1.0])
def test_an_index_that_is_not_an_int_raises_value_error(index: Any) -> None:
    with pytest.raises(ValueError, match="names statement"):
        statement_at(doc(ROOT, OPS), _finding("IAM-KMS-3", index, ()))


def test_a_single_statement_object_is_statement_0() -> None:
    assert statement_at({"Statement": OPS}, _finding("IAM-KMS-3", 0, ())) == (0, OPS)
    with pytest.raises(ValueError, match="the policy has 1 statement"):
        statement_at({"Statement": OPS}, _finding("IAM-KMS-3", 1, ()))


def test_the_planner_reads_a_stale_index_as_a_strategy_that_does_not_apply() -> None:
    # A finding at an index the document does not have: remove-named-actions does not apply
    # (with the reason), and the next strategy, which needs no statement, still closes it.
    stale = _finding("IAM-KMS-3", 5, ("kms:ScheduleKeyDeletion",))
    kp = plan_policy(doc(ROOT, OPS), CTX, BOOKS, frozenset({"destructive-actions"}),
                     lambda d: [stale])
    assert [(s.playbook, s.strategy) for s in kp.steps] == [("destructive-actions",
                                                              "narrow-deny")]
    assert kp.steps[0].proof.ok, kp.steps[0].proof.to_dict()


def test_the_planner_leaves_a_finding_no_strategy_can_address_to_a_person() -> None:
    stale = _finding("KMS-WILDCARD-ACTION", None, ("kms:*",), f"arn:aws:iam::{OWNER}:role/Wild")
    kp = plan_policy(doc(ROOT, WILD), CTX, BOOKS, frozenset({"wildcard-action"}),
                     lambda d: [stale])
    assert not kp.steps
    (item,) = kp.unresolved
    assert item.reason == ("key-user-actions: does not apply to this policy (the "
                           "KMS-WILDCARD-ACTION finding names no statement to patch)")
