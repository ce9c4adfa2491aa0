"""IAM-KMS-8 against the concrete evaluator: no principal holding both kinds of rights is missed.

For generated key policies (the agreement pool of ``test_differential``), the concrete
evaluator (``policy.evaluate``) is asked, for every IAM identity in
``representative_requests``, which actions some request of it is allowed, across every network
context tried: rights belong to the principal, not to one request. When one identity other
than the owner root is allowed a key-management action and a cryptographic one, the detectors
must report IAM-KMS-8.

The owner root's grant is IAM-KMS-8's blind spot by design: it delegates to the owner's IAM
policies, which may give any of the owner's principals anything
(https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam),
so the evaluator is asked about the policy with the owner root taken out of every Allow.

One direction only: the detectors read some conditions conservatively (the known disagreements
in ``test_differential``) and service principals are weighed too, so IAM-KMS-8 may be reported
where the evaluator finds no IAM identity holding both.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any

from hypothesis import HealthCheck, given, settings
from test_differential import CTX, OWNER, policies, root

from remediator.detectors import analyze_key_policy
from remediator.policy import actions as kms
from remediator.policy import parse_policy
from remediator.policy.evaluate import allowed_actions
from remediator.policy.requests import representative_requests

Json = dict[str, Any]
SOD = "IAM-KMS-8"
_OWNER_ROOT = {root(OWNER), OWNER}


def without_owner_root(document: Json) -> Json:
    """The policy with the owner root taken out of every Allow's Principal."""
    statements = []
    for stmt in copy.deepcopy(document["Statement"]):
        principal = stmt.get("Principal")
        if stmt["Effect"] == "Allow" and isinstance(principal, dict) and "AWS" in principal:
            named = principal["AWS"] if isinstance(principal["AWS"], list) else [principal["AWS"]]
            left = [p for p in named if p not in _OWNER_ROOT]
            if left:
                principal["AWS"] = left
            elif len(principal) == 1:
                continue
            else:
                del principal["AWS"]
        statements.append(stmt)
    return {"Version": "2012-10-17", "Statement": statements}


def holders_of_both(document: Json) -> list[str]:
    """IAM identities (not the owner root) the evaluator lets manage and use the key."""
    delegated = without_owner_root(document)
    if not delegated["Statement"]:
        return []
    policy = parse_policy(delegated)
    held: dict[tuple[Any, ...], int] = defaultdict(int)
    for r in representative_requests(policy, policy, CTX):
        if r.kind == "aws" and r.principal != root(OWNER):
            identity = (r.principal, r.account, r.org_id, r.org_paths, r.role_arn, r.userid)
            held[identity] |= allowed_actions(policy, r)
    return [f"{who[0]} (organisation {who[2]})" for who, mask in held.items()
            if mask & kms.ADMIN_MASK and mask & kms.CRYPTO_MASK]


def test_the_oracle_sees_a_role_holding_both_through_a_class() -> None:
    """The evaluator's side of the case that was missed: "*" in the owner account manages the
    key, a role of the account uses it."""
    document = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": root(OWNER)}, "Action": "kms:*",
         "Resource": "*"},
        {"Effect": "Allow", "Principal": "*", "Action": "kms:EnableKey", "Resource": "*",
         "Condition": {"StringEquals": {"kms:CallerAccount": OWNER}}},
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:role/App"},
         "Action": "kms:Decrypt", "Resource": "*"},
    ]}
    # (a role acts through its sessions)
    assert any(h.startswith(f"arn:aws:sts::{OWNER}:assumed-role/App/") for h in
               holders_of_both(document))
    assert holders_of_both({"Version": "2012-10-17", "Statement": document["Statement"][:2]}) \
        == []
    assert SOD in {f.rule for f in analyze_key_policy(document, CTX)}


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(policies())
def test_no_principal_holding_both_kinds_of_rights_is_missed(doc: Json) -> None:
    holders = holders_of_both(doc)
    if holders:
        reported = {f.rule for f in analyze_key_policy(doc, CTX)}
        assert SOD in reported, f"evaluator: {holders[:2]} manage and use the key"
