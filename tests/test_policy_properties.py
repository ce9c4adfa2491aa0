"""Property tests: normalisation of a key policy must not change the verdict.

AWS evaluates a policy the same whatever the order of its statements, whether ``Statement`` is
one object or a one-element list, whatever the case of condition key names, and whether a
single value is written as a string or a one-element list. The engine must agree.
  Statement order does not matter (all applicable statements are evaluated):
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
  Context key names are not case-sensitive:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
  Statement, Principal, Action, Resource and condition values take a string or an array:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
"""

from __future__ import annotations

import copy
import itertools
import random
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from remediator.detectors import analyze_key_policy
from remediator.policy.principals import glob_match, globs_meet
from remediator.types import Context, Finding

OWNER = "111122223333"
TRUSTED = "444455556666"
UNTRUSTED = "999988887777"
ORG = "o-a1b2c3d4e5"
REGION = "us-east-1"

CTX = Context(
    owner_account=OWNER,
    trusted_accounts=frozenset({TRUSTED}),
    org_id=ORG,
    admins=(f"arn:aws:iam::{OWNER}:role/KeyAdmin",),
)

AWS_PRINCIPALS = [
    f"arn:aws:iam::{OWNER}:root",
    OWNER,
    f"arn:aws:iam::{OWNER}:role/App",
    f"arn:aws:iam::{OWNER}:role/KeyAdmin",
    f"arn:aws:iam::{OWNER}:role/path/Worker",
    f"arn:aws:iam::{TRUSTED}:root",
    f"arn:aws:iam::{TRUSTED}:role/Reader",
    f"arn:aws:iam::{UNTRUSTED}:root",
    f"arn:aws:sts::{UNTRUSTED}:assumed-role/Ops/alice",
    UNTRUSTED,
    "*",
]
SERVICES = ["cloudtrail.amazonaws.com", f"logs.{REGION}.amazonaws.com", "sns.amazonaws.com"]
ACTIONS = [
    "kms:*",
    "*",
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
    "kms:Sign",
    "kms:DescribeKey",
    "kms:Describe*",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:DisableKey",
    "kms:Disable*",
    "kms:DeleteImportedKeyMaterial",
    "kms:TagResource",
    "kms:CreateGrant",
    "KMS:decrypt",
    "s3:GetObject",
]
CONDITIONS: list[dict[str, Any] | None] = [
    None,
    None,
    {"StringEquals": {"aws:PrincipalAccount": OWNER}},
    {"StringEquals": {"aws:PrincipalAccount": UNTRUSTED}},
    {"StringEquals": {"aws:PrincipalOrgID": ORG}},
    {"StringEquals": {"kms:CallerAccount": OWNER, "kms:ViaService": f"ec2.{REGION}.amazonaws.com"}},
    {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}},
    {"StringEquals": {"aws:SourceAccount": OWNER}},
    {"ArnLike": {"aws:SourceArn": f"arn:aws:cloudtrail:{REGION}:{OWNER}:trail/*"}},
    {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/App"}},
    {"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{OWNER}:role/App"}},
    {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
    {"Bool": {"aws:SecureTransport": "true"}},
    {"StringEqualsIfExists": {"aws:SourceVpc": "vpc-111bbb22"}},
    {"StringNotEquals": {"aws:PrincipalAccount": OWNER}},
    {"StringNotEquals": {"aws:PrincipalOrgID": ORG}},
    {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": f"{ORG}/r-ab12/*"}},
    {"Null": {"aws:PrincipalOrgID": "false"}},
]


def _single(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else values


@st.composite
def principals(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["star", "aws", "aws", "aws", "service"]))
    if kind == "star":
        return "*"
    if kind == "service":
        chosen = draw(st.lists(st.sampled_from(SERVICES), min_size=1, max_size=2, unique=True))
        return {"Service": _single(chosen)}
    chosen = draw(st.lists(st.sampled_from(AWS_PRINCIPALS), min_size=1, max_size=3, unique=True))
    return {"AWS": _single(chosen)}


@st.composite
def statements(draw: st.DrawFn) -> dict[str, Any]:
    effect = draw(st.sampled_from(["Allow", "Allow", "Allow", "Deny"]))
    action_key = draw(st.sampled_from(["Action", "Action", "Action", "NotAction"]))
    actions = draw(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=3, unique=True))
    out: dict[str, Any] = {
        "Effect": effect,
        "Principal": draw(principals()),
        action_key: _single(actions),
        "Resource": "*",
    }
    condition = draw(st.sampled_from(CONDITIONS))
    if condition is not None:
        out["Condition"] = copy.deepcopy(condition)
    return out


@st.composite
def policies(draw: st.DrawFn, min_size: int = 1, max_size: int = 4) -> dict[str, Any]:
    stmts = draw(st.lists(statements(), min_size=min_size, max_size=max_size))
    for i, s in enumerate(stmts):
        s["Sid"] = f"S{i}"
    return {"Version": "2012-10-17", "Statement": stmts}


def full_verdict(findings: list[Finding]) -> Counter[tuple[Any, ...]]:
    return Counter(
        (
            f.rule,
            f.severity,
            f.statement,
            f.sid,
            tuple(sorted(f.principals)),
            tuple(sorted(f.actions)),
        )
        for f in findings
    )


def order_free_verdict(findings: list[Finding]) -> Counter[tuple[Any, ...]]:
    """(rule, principals, actions): what is exposed, ignoring where it is written."""
    return Counter(
        (f.rule, f.severity, tuple(sorted(f.principals)), tuple(sorted(f.actions)))
        for f in findings
    )


def analyze(document: dict[str, Any]) -> list[Finding]:
    return analyze_key_policy(copy.deepcopy(document), CTX)


FAST = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@FAST
@given(policies(min_size=2), st.randoms(use_true_random=False))
def test_statement_order_does_not_change_the_verdict(
    document: dict[str, Any], rnd: random.Random
) -> None:
    shuffled = copy.deepcopy(document)
    rnd.shuffle(shuffled["Statement"])
    assert order_free_verdict(analyze(shuffled)) == order_free_verdict(analyze(document))


@FAST
@given(policies(min_size=1, max_size=1))
def test_single_statement_object_equals_one_element_list(document: dict[str, Any]) -> None:
    as_object = dict(document, Statement=document["Statement"][0])
    assert full_verdict(analyze(as_object)) == full_verdict(analyze(document))


def _recase(text: str, rnd: random.Random) -> str:
    return "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in text)


def recase_condition_keys(document: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    out = copy.deepcopy(document)
    for s in out["Statement"]:
        for operator, block in list(s.get("Condition", {}).items()):
            s["Condition"][operator] = {_recase(k, rnd): v for k, v in block.items()}
    return out


@FAST
@given(policies(), st.randoms(use_true_random=False))
def test_condition_key_case_does_not_change_the_verdict(
    document: dict[str, Any], rnd: random.Random
) -> None:
    recased = recase_condition_keys(document, rnd)
    assert full_verdict(analyze(recased)) == full_verdict(analyze(document))


def _listify(value: Any, rnd: random.Random) -> Any:
    return [value] if isinstance(value, str) and rnd.random() < 0.7 else value


def listify_scalars(document: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    """Write some single values as one-element lists; the policy means the same."""
    out = copy.deepcopy(document)
    for s in out["Statement"]:
        for key in ("Action", "NotAction", "Resource"):
            if key in s:
                s[key] = _listify(s[key], rnd)
        if isinstance(s["Principal"], dict):
            s["Principal"] = {k: _listify(v, rnd) for k, v in s["Principal"].items()}
        for operator, block in s.get("Condition", {}).items():
            s["Condition"][operator] = {k: _listify(v, rnd) for k, v in block.items()}
    return out


@FAST
@given(policies(), st.randoms(use_true_random=False))
def test_string_or_one_element_list_does_not_change_the_verdict(
    document: dict[str, Any], rnd: random.Random
) -> None:
    listed = listify_scalars(document, rnd)
    assert full_verdict(analyze(listed)) == full_verdict(analyze(document))


@FAST
@given(policies())
def test_analysis_is_deterministic_and_leaves_input_alone(document: dict[str, Any]) -> None:
    before = copy.deepcopy(document)
    first = analyze_key_policy(document, CTX)
    assert document == before
    assert full_verdict(analyze_key_policy(document, CTX)) == full_verdict(first)


# Hand-picked documents whose verdict must not depend on statement order either; the first one
# names one account two ways (root ARN and bare id), which are the same principal.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts
REVERSIBLE = [
    [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{UNTRUSTED}:root"},
            "Action": "kms:*",
        },
        {"Effect": "Allow", "Principal": {"AWS": UNTRUSTED}, "Action": "kms:*"},
    ],
    [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{TRUSTED}:root"},
            "Action": "kms:Decrypt",
        },
        {"Effect": "Allow", "Principal": {"AWS": TRUSTED}, "Action": "kms:PutKeyPolicy"},
    ],
    [
        {"Effect": "Allow", "Principal": "*", "Action": ["kms:Decrypt", "kms:Encrypt"]},
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "kms:Decrypt",
            "Condition": {"StringNotEquals": {"aws:PrincipalAccount": OWNER}},
        },
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"}, "Action": "kms:*"},
    ],
]


def test_reversed_statement_order_gives_the_same_verdict() -> None:
    for stmts in REVERSIBLE:
        stmts = [dict(s, Resource="*", Sid=f"S{i}") for i, s in enumerate(stmts)]
        forward = {"Version": "2012-10-17", "Statement": stmts}
        backward = {"Version": "2012-10-17", "Statement": list(reversed(stmts))}
        assert order_free_verdict(analyze(backward)) == order_free_verdict(analyze(forward))


KEY_ADMIN = f"arn:aws:iam::{OWNER}:role/KeyAdmin"
DENIES: list[dict[str, Any]] = [
    {
        "Principal": "*",
        "Action": "kms:*",
        "Condition": {"StringNotEquals": {"aws:PrincipalAccount": OWNER}},
    },
    {
        "Principal": "*",
        "Action": "kms:ScheduleKeyDeletion",
        "Condition": {"ArnNotEquals": {"aws:PrincipalArn": KEY_ADMIN}},
    },
    {
        "Principal": "*",
        "Action": "kms:*",
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{OWNER}:role/*"}},
    },
    {"Principal": {"AWS": f"arn:aws:iam::{UNTRUSTED}:root"}, "Action": "kms:*"},
    {"Principal": {"AWS": f"arn:aws:iam::{OWNER}:role/App"}, "Action": "kms:PutKeyPolicy"},
    {
        "Principal": "*",
        "Action": "kms:Decrypt",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    },
    {
        "Principal": "*",
        "Action": "kms:*",
        "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": ORG}},
    },
    {  # the data perimeter: outsiders denied, AWS services spared
        "Principal": "*",
        "Action": "kms:*",
        "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": ORG},
                      "Bool": {"aws:PrincipalIsAWSService": "false"}},
    },
    {
        "NotPrincipal": {"AWS": [f"arn:aws:iam::{OWNER}:root", KEY_ADMIN]},
        "Action": "kms:PutKeyPolicy",
    },
    {"Principal": "*", "Action": "kms:Disable*"},
    {
        "Principal": "*",
        "Action": "kms:*",
        "Condition": {"StringNotEquals": {"kms:CallerAccount": [OWNER, UNTRUSTED]}},
    },
]


@st.composite
def allow_only_policies(draw: st.DrawFn) -> dict[str, Any]:
    document = draw(policies())
    for s in document["Statement"]:
        s["Effect"] = "Allow"
    return document


CTX_NO_ADMINS = Context(owner_account=OWNER, trusted_accounts=frozenset({TRUSTED}), org_id=ORG)
DEFAULT_KEY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ],
}


@FAST
@given(allow_only_policies(), st.sampled_from(DENIES), st.sampled_from([CTX, CTX_NO_ADMINS]))
@example(document=DEFAULT_KEY_POLICY, denial=DENIES[1], ctx=CTX_NO_ADMINS)
def test_adding_a_deny_never_adds_an_exposure(
    document: dict[str, Any], denial: dict[str, Any], ctx: Context
) -> None:
    """A Deny only removes access. It may lock the owner root out (IAM-KMS-1), it may
    narrow a grant open to any account (KMS-PUBLIC, or an unscoped service principal) down to
    particular accounts (KMS-CROSS-ACCOUNT), and it may leave of a public "*" only the service
    principals it stood for (KMS-SERVICE-UNSCOPED), but it can never create any other finding.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
    """
    before = {f.rule for f in analyze_key_policy(copy.deepcopy(document), ctx)}
    denied = copy.deepcopy(document)
    denied["Statement"].append(dict(copy.deepcopy(denial), Effect="Deny", Resource="*", Sid="D"))
    after = {f.rule for f in analyze_key_policy(denied, ctx)}
    open_to_any = {"KMS-PUBLIC", "KMS-SERVICE-UNSCOPED"} & before
    may_appear = {"IAM-KMS-1"} | ({"KMS-CROSS-ACCOUNT"} if open_to_any else set())
    if "KMS-PUBLIC" in before:  # what is left of "*" may be the services it stood for
        may_appear.add("KMS-SERVICE-UNSCOPED")
    assert after <= before | may_appear, f"new findings {sorted(after - before - may_appear)}"


@FAST
@given(policies(max_size=3), statements(), st.sampled_from([CTX, CTX_NO_ADMINS]))
def test_adding_an_allow_never_removes_an_exposure(
    document: dict[str, Any], extra: dict[str, Any], ctx: Context
) -> None:
    """An Allow only adds access: every finding but the lockout one (IAM-KMS-1, which a grant
    to the owner root can cure) survives it."""
    before = {f.rule for f in analyze_key_policy(copy.deepcopy(document), ctx)}
    granted = copy.deepcopy(document)
    granted["Statement"].append(dict(extra, Effect="Allow", Sid="A"))
    after = {f.rule for f in analyze_key_policy(granted, ctx)}
    lost = before - after - {"IAM-KMS-1"}
    assert not lost, f"an extra Allow removed {sorted(lost)}"


_SHORT_VALUES = ["", *("".join(p) for n in range(1, 7) for p in itertools.product("ab", repeat=n))]


@FAST
@given(st.text("ab*?", max_size=4), st.text("ab*?", max_size=4))
def test_two_globs_meet_exactly_when_some_value_matches_both(a: str, b: str) -> None:
    """globs_meet (used to pair aws:PrincipalArn patterns for IAM-KMS-8) against brute force
    over every short value: a shortest common value is no longer than the two patterns."""
    brute = any(glob_match(a, v) and glob_match(b, v) for v in _SHORT_VALUES)
    assert globs_meet(a, b) == brute == globs_meet(b, a)
