"""Leaving deleted principals out of a backed-up policy or grant (pure, no AWS)."""

from __future__ import annotations

from typing import Any

from remediator.principal_check import (
    drop_from_grants,
    drop_principals,
    grant_principals,
    policy_principals,
)

GONE = "arn:aws:iam::111111111111:role/apps/gone"
KEPT = "arn:aws:iam::111111111111:role/kept"
ROOT = "arn:aws:iam::111111111111:root"


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_policy_principals_reads_strings_lists_and_a_single_statement() -> None:
    policy = {"Statement": {"Effect": "Allow", "Principal": {"AWS": GONE}, "Action": "kms:*"}}
    assert policy_principals(policy) == {GONE}
    listed = _policy(
        {"Principal": {"AWS": [GONE, KEPT]}}, {"Principal": "*"}, {"NotPrincipal": {"AWS": ROOT}}
    )
    assert policy_principals(listed) == {GONE, KEPT}


def test_drop_principals_keeps_the_shape_and_removes_emptied_statements() -> None:
    policy = _policy(
        {"Sid": "Root", "Principal": {"AWS": ROOT}},
        {"Sid": "Both", "Principal": {"AWS": [GONE, KEPT]}},
        {"Sid": "Only", "Principal": {"AWS": GONE}},
        {"Sid": "Mixed", "Principal": {"AWS": GONE, "Service": "logs.amazonaws.com"}},
        {"Sid": "Anyone", "Principal": "*"},
    )
    reduced = drop_principals(policy, {GONE})
    assert [s["Sid"] for s in reduced["Statement"]] == ["Root", "Both", "Mixed", "Anyone"]
    assert reduced["Statement"][1]["Principal"] == {"AWS": [KEPT]}
    assert reduced["Statement"][2]["Principal"] == {"Service": "logs.amazonaws.com"}
    assert policy["Statement"][1]["Principal"] == {"AWS": [GONE, KEPT]}  # input unchanged


def test_drop_from_grants_leaves_out_grants_for_missing_grantees() -> None:
    grants = [
        {"GrantId": "1", "GranteePrincipal": GONE, "RetiringPrincipal": ROOT},
        {"GrantId": "2", "GranteePrincipal": KEPT, "RetiringPrincipal": GONE},
        {"GrantId": "3", "GranteePrincipal": KEPT, "RetiringPrincipal": ROOT},
    ]
    assert grant_principals(grants) == {GONE, KEPT, ROOT}
    kept = drop_from_grants(grants, {GONE})
    assert kept == [{"GrantId": "2", "GranteePrincipal": KEPT}, grants[2]]
