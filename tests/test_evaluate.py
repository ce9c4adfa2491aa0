"""The concrete evaluator (``policy.evaluate``), case by case against the IAM documentation.

Each row of the operator table is one documented behaviour; the page that decides it is named
next to its group. Pages:

  OPS  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
  SET  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
  VAR  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
  KEYS https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html

Principals, NotPrincipal, Deny, actions and resources: tests/test_evaluate_principals.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from evaluate_builders import OTHER, OWNER, allow, caller, deny, policy

from remediator.policy import actions as kms
from remediator.policy.evaluate import AWS, SERVICE, Request, allowed_actions

DECRYPT = kms.bit("kms:Decrypt")



def holds(operator: str, key: str, value: Any, request_value: tuple[str, ...] | None) -> bool:
    """Whether an Allow to "*" under one condition lets a caller with that key value in."""
    ctx = {} if request_value is None else {key.lower(): request_value}
    p = policy(allow(cond={operator: {key: value}}))
    return bool(allowed_actions(p, caller(ctx)) & DECRYPT)


VIA = "kms:ViaService"
S3 = "s3.us-east-1.amazonaws.com"
# A multi-valued key a Decrypt request carries (aws:TagKeys comes only with tagging calls).
TAGS = "kms:EncryptionContextKeys"
AGE = "aws:MultiFactorAuthAge"
NOW = "aws:CurrentTime"
IP = "aws:SourceIp"
SRC = "aws:SourceArn"
ABSENT = None

OPERATOR_TABLE = [
    # OPS, String: exact and case-sensitive; IgnoreCase; Like with * and ?; negated = NOR over
    # the values; a missing key fails a positive operator and satisfies a negated one.
    ("StringEquals", VIA, S3, (S3,), True),
    ("StringEquals", VIA, S3, ("S3.us-east-1.amazonaws.com",), False),
    ("StringEquals", VIA, S3, ABSENT, False),
    (
        "StringEquals",
        VIA,
        [S3, "ec2.us-east-1.amazonaws.com"],
        ("ec2.us-east-1.amazonaws.com",),
        True,
    ),
    ("StringEquals", VIA, "s3.*", ("s3.x",), False),
    ("StringEquals", VIA, "s3.*", ("s3.*",), True),
    ("StringNotEquals", VIA, S3, ("ec2.us-east-1.amazonaws.com",), True),
    ("StringNotEquals", VIA, [S3, "ec2"], ("ec2",), False),
    ("StringNotEquals", VIA, S3, ABSENT, True),
    ("StringEqualsIgnoreCase", VIA, S3, ("S3.US-EAST-1.AMAZONAWS.COM",), True),
    ("StringNotEqualsIgnoreCase", VIA, S3, ("S3.US-EAST-1.AMAZONAWS.COM",), False),
    ("StringLike", VIA, "s3.*.amazonaws.com", ("s3.eu-west-1.amazonaws.com",), True),
    ("StringLike", VIA, "s3.*.amazonaws.com", ("ec2.eu-west-1.amazonaws.com",), False),
    ("StringLike", VIA, "a?c", ("abc",), True),
    ("StringLike", VIA, "a?c", ("abbc",), False),
    ("StringLike", VIA, "S3.*", ("s3.x",), False),
    ("StringNotLike", VIA, "s3.*", ("ec2.x",), True),
    ("StringNotLike", VIA, "s3.*", ABSENT, True),
    # OPS, ARN: case-sensitive, each of the six colon-delimited parts matched separately (the
    # page's own example: StringLike matches, ArnLike does not); ArnEquals = ArnLike.
    ("ArnLike", SRC, "arn:aws:s3:::bucket/*", ("arn:aws:s3:::bucket/x",), True),
    ("ArnEquals", SRC, "arn:aws:s3:::bucket/*", ("arn:aws:s3:::bucket/x",), True),
    (
        "ArnLike",
        SRC,
        "arn:aws:someservice:*:111122223333:finance/*",
        ("arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt",),
        False,
    ),
    (
        "StringLike",
        SRC,
        "arn:aws:someservice:*:111122223333:finance/*",
        ("arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt",),
        True,
    ),
    ("ArnLike", SRC, "arn:aws:s3:::Bucket", ("arn:aws:s3:::bucket",), False),
    ("ArnLike", SRC, "arn:aws:s3:::*", ("not-an-arn",), False),
    ("ArnNotLike", SRC, "arn:aws:s3:::bucket", ("arn:aws:s3:::other",), True),
    ("ArnNotEquals", SRC, "arn:aws:s3:::bucket", ABSENT, True),
    ("ArnLike", SRC, "arn:aws:s3:::bucket", ABSENT, False),
    # OPS, Numeric and Date (ISO 8601 or epoch seconds), boundaries included or not.
    ("NumericLessThan", AGE, "3600", ("3599",), True),
    ("NumericLessThan", AGE, "3600", ("3600",), False),
    ("NumericLessThanEquals", AGE, "3600", ("3600",), True),
    ("NumericGreaterThan", AGE, "3600", ("3601",), True),
    ("NumericGreaterThanEquals", AGE, "3600", ("3599",), False),
    ("NumericEquals", AGE, "10", ("10.0",), True),
    ("NumericNotEquals", AGE, "10", ("11",), True),
    ("NumericNotEquals", AGE, "10", ABSENT, True),
    ("NumericEquals", AGE, "10", ("ten",), False),
    ("DateLessThan", NOW, "2030-01-01T00:00:00Z", ("2029-12-31T23:59:59Z",), True),
    ("DateLessThan", NOW, "2030-01-01T00:00:00Z", ("2030-01-01T00:00:00Z",), False),
    ("DateLessThanEquals", NOW, "1893456000", ("2030-01-01T00:00:00Z",), True),
    ("DateGreaterThan", NOW, "2020-01-01", ("2020-01-01T00:00:01Z",), True),
    ("DateEquals", NOW, "2020-01-01", ("2020-01-01T00:00:00Z",), True),
    ("DateNotEquals", NOW, "2020-01-01T00:00:00Z", ABSENT, True),
    # OPS, Bool and BinaryEquals (base-64).
    ("Bool", "aws:SecureTransport", "true", ("true",), True),
    ("Bool", "aws:SecureTransport", "true", ("false",), False),
    ("Bool", "aws:SecureTransport", "true", ABSENT, False),
    (
        "BinaryEquals",
        "kms:Binary",
        "QmluYXJ5VmFsdWVJbkJhc2U2NA==",
        ("QmluYXJ5VmFsdWVJbkJhc2U2NA==",),
        True,
    ),
    ("BinaryEquals", "kms:Binary", "QmluYXJ5VmFsdWVJbkJhc2U2NA==", ("ZnJlc2g=",), False),
    # OPS, IP address: CIDR, a bare address is /32, IPv6, no match across versions.
    ("IpAddress", IP, "203.0.113.0/24", ("203.0.113.7",), True),
    ("IpAddress", IP, "203.0.113.0/24", ("203.0.114.1",), False),
    ("IpAddress", IP, "203.0.113.5", ("203.0.113.5",), True),
    ("IpAddress", IP, "203.0.113.5", ("203.0.113.6",), False),
    ("IpAddress", IP, "2001:DB8:1234:5678::/64", ("2001:db8:1234:5678::1",), True),
    ("IpAddress", IP, "203.0.113.0/24", ("2001:db8::1",), False),
    ("IpAddress", IP, "203.0.113.0/24", ABSENT, False),
    ("NotIpAddress", IP, "203.0.113.0/24", ("198.51.100.1",), True),
    ("NotIpAddress", IP, "203.0.113.0/24", ("203.0.113.9",), False),
    ("NotIpAddress", IP, "203.0.113.0/24", ABSENT, True),
    # OPS, Null: "true" = the key is absent, "false" = present.
    ("Null", VIA, "true", ABSENT, True),
    ("Null", VIA, "true", (S3,), False),
    ("Null", VIA, "false", (S3,), True),
    ("Null", VIA, "false", ABSENT, False),
    # OPS, ...IfExists: a missing key makes the condition true; a present one is checked.
    ("StringEqualsIfExists", VIA, S3, ABSENT, True),
    ("StringEqualsIfExists", VIA, S3, ("ec2",), False),
    ("StringEqualsIfExists", VIA, S3, (S3,), True),
    ("StringNotEqualsIfExists", VIA, S3, ABSENT, True),
    ("StringNotEqualsIfExists", VIA, S3, (S3,), False),
    ("BoolIfExists", "aws:MultiFactorAuthPresent", "true", ABSENT, True),
    ("IpAddressIfExists", IP, "203.0.113.0/24", ("198.51.100.1",), False),
    # SET: ForAnyValue is true when some request value matches (false when the key is missing
    # or empty); ForAllValues when every request value matches (true when missing); negated
    # operators are applied to each request value.
    ("ForAnyValue:StringEquals", TAGS, ["a", "b"], ("c", "a"), True),
    ("ForAnyValue:StringEquals", TAGS, ["a", "b"], ("c",), False),
    ("ForAnyValue:StringEquals", TAGS, ["a", "b"], ABSENT, False),
    ("ForAnyValue:StringEquals", TAGS, ["a", "b"], (), False),
    ("ForAllValues:StringEquals", TAGS, ["a", "b"], ("a", "b"), True),
    ("ForAllValues:StringEquals", TAGS, ["a", "b"], ("a", "c"), False),
    ("ForAllValues:StringEquals", TAGS, ["a", "b"], ABSENT, True),
    ("ForAllValues:StringEquals", TAGS, ["a", "b"], (), True),
    ("ForAllValues:StringNotEquals", TAGS, "a", ("b", "c"), True),
    ("ForAllValues:StringNotEquals", TAGS, "a", ("a", "b"), False),
    ("ForAnyValue:StringNotEquals", TAGS, "a", ("a", "b"), True),
    ("ForAnyValue:StringNotEquals", TAGS, "a", ("a",), False),
    ("ForAnyValue:StringLike", TAGS, "Cost*", ("Dept", "CostCenter"), True),
    ("ForAnyValue:StringEqualsIfExists", TAGS, "a", ABSENT, True),
]


@pytest.mark.parametrize(
    ("operator", "key", "value", "request_value", "expected"),
    OPERATOR_TABLE,
    ids=[f"{r[0]}-{r[3]!s:.40}-{r[4]}" for r in OPERATOR_TABLE],
)
def test_operator_semantics(
    operator: str, key: str, value: Any, request_value: tuple[str, ...] | None, expected: bool
) -> None:
    assert holds(operator, key, value, request_value) is expected


def test_condition_key_names_are_case_insensitive() -> None:
    """OPS/KEYS: "Key names are case-insensitive"; values are compared as the operator says."""
    p = policy(allow(cond={"StringEquals": {"KMS:VIASERVICE": S3}}))
    assert allowed_actions(p, caller({"kms:viaservice": (S3,)})) & DECRYPT
    assert allowed_actions(p, caller({"Kms:ViaService": (S3,)})) & DECRYPT


def test_conditions_are_anded_across_operators_and_keys() -> None:
    p = policy(allow(cond={"StringEquals": {VIA: S3}, "Bool": {"aws:SecureTransport": "true"}}))
    both = {"kms:viaservice": (S3,), "aws:securetransport": ("true",)}
    assert allowed_actions(p, caller(both)) & DECRYPT
    assert not allowed_actions(p, caller({"kms:viaservice": (S3,)})) & DECRYPT


# --- policy variables (VAR) ----------------------------------------------------------------


def test_policy_variable_is_substituted_from_the_caller() -> None:
    p = policy(
        allow(cond={"StringEquals": {"kms:EncryptionContext:tenant": "${aws:PrincipalAccount}"}})
    )
    assert allowed_actions(p, caller({"kms:encryptioncontext:tenant": (OTHER,)})) & DECRYPT
    assert not allowed_actions(p, caller({"kms:encryptioncontext:tenant": (OWNER,)})) & DECRYPT


def test_policy_variable_default_value() -> None:
    p = policy(
        allow(cond={"StringEquals": {"kms:EncryptionContext:who": "${aws:username, 'anonymous'}"}})
    )
    # The root user has no aws:username: the default applies.
    assert allowed_actions(p, caller({"kms:encryptioncontext:who": ("anonymous",)})) & DECRYPT


def test_special_variables_are_literal_characters() -> None:
    p = policy(allow(cond={"StringLike": {VIA: "a${*}b"}}))
    assert allowed_actions(p, caller({"kms:viaservice": ("a*b",)})) & DECRYPT
    assert not allowed_actions(p, caller({"kms:viaservice": ("axb",)})) & DECRYPT


def test_unresolvable_variable_voids_the_statement() -> None:
    """VAR: "If AWS cannot resolve a variable, this might cause the entire statement to be
    invalid": an Allow then grants nothing, and a Deny denies nothing."""
    cond = {"StringEquals": {VIA: "${aws:TokenIssueTime}"}}
    ctx = {"kms:viaservice": ("x",)}
    assert not allowed_actions(policy(allow(cond=cond)), caller(ctx))
    assert (
        allowed_actions(
            policy(allow(), deny(cond={"StringNotEquals": {VIA: "${aws:Nope}"}})), caller(ctx)
        )
        & DECRYPT
    )


def test_variables_need_version_2012_10_17() -> None:
    """VAR: without the Version element "variables ... are treated as literal strings"."""
    p = policy(allow(cond={"StringEquals": {VIA: "${aws:PrincipalAccount}"}}), version=None)
    assert allowed_actions(p, caller({"kms:viaservice": ("${aws:PrincipalAccount}",)})) & DECRYPT
    assert not allowed_actions(p, caller({"kms:viaservice": (OTHER,)})) & DECRYPT


# --- identity-derived keys (KEYS) ---------------------------------------------------------


def test_identity_keys_come_from_the_caller_not_the_context() -> None:
    p = policy(allow(cond={"StringEquals": {"kms:CallerAccount": OWNER}}))
    spoofed = caller({"kms:calleraccount": (OWNER,), "aws:principalaccount": (OWNER,)})
    assert not allowed_actions(p, spoofed)
    assert allowed_actions(p, caller(principal=f"arn:aws:iam::{OWNER}:root", account=OWNER))


def test_principal_arn_of_a_role_session_is_the_role_arn() -> None:
    """KEYS aws:PrincipalArn: "For IAM roles, the request context returns the ARN of the role,
    not the ARN of the user that assumed the role" (with its path)."""
    role = f"arn:aws:iam::{OTHER}:role/team/App"
    session = Request(AWS, f"arn:aws:sts::{OTHER}:assumed-role/App/s1", OTHER, role_arn=role)
    assert allowed_actions(policy(allow(cond={"ArnEquals": {"aws:PrincipalArn": role}})), session)
    assert not allowed_actions(
        policy(allow(cond={"ArnEquals": {"aws:PrincipalArn": session.principal}})), session
    )


def test_root_userid_is_the_account_id() -> None:
    p = policy(allow(cond={"StringEquals": {"aws:userid": OTHER}}))
    assert allowed_actions(p, caller())
    assert not allowed_actions(p, caller(principal=f"arn:aws:iam::{OTHER}:user/bob"))


def test_a_federated_users_userid_is_account_and_name_and_it_has_no_username() -> None:
    """KEYS aws:userid and aws:username; a GetFederationToken session's id is
    "account:caller-specified-name" (https://docs.aws.amazon.com/STS/latest/APIReference/
    API_FederatedUser.html), and only an IAM user has an aws:username."""
    fed = caller(principal=f"arn:aws:sts::{OTHER}:federated-user/bob")
    assert allowed_actions(policy(allow(cond={"StringEquals": {"aws:userid": f"{OTHER}:bob"}})),
                           fed)
    assert allowed_actions(policy(allow(cond={"StringEquals": {
        "aws:PrincipalType": "FederatedUser"}})), fed)
    assert not allowed_actions(policy(allow(cond={"Null": {"aws:username": "false"}})), fed)
    user = caller(principal=f"arn:aws:iam::{OTHER}:user/bob")
    assert allowed_actions(policy(allow(cond={"StringEquals": {"aws:username": "bob"}})), user)


def test_organisation_keys_exist_only_for_members() -> None:
    """KEYS aws:PrincipalOrgID: "included ... only if the principal is a member of an
    organization"; a negated operator then holds."""
    org = "o-a1b2c3d4e5"
    assert allowed_actions(
        policy(allow(cond={"StringEquals": {"aws:PrincipalOrgID": org}})), caller(org_id=org)
    )
    assert not allowed_actions(
        policy(allow(cond={"StringEquals": {"aws:PrincipalOrgID": org}})), caller()
    )
    assert allowed_actions(
        policy(allow(cond={"StringNotEquals": {"aws:PrincipalOrgID": org}})), caller()
    )


def test_service_principals_have_no_account_keys() -> None:
    """A service principal belongs to no customer account: kms:CallerAccount is absent."""
    svc = Request(SERVICE, "cloudtrail.amazonaws.com")
    p = policy(
        allow(
            {"Service": "cloudtrail.amazonaws.com"},
            cond={"StringEquals": {"kms:CallerAccount": OWNER}},
        )
    )
    assert not allowed_actions(p, svc)
    p = policy(
        allow(
            {"Service": "cloudtrail.amazonaws.com"},
            cond={"StringEquals": {"aws:PrincipalServiceName": "cloudtrail.amazonaws.com"}},
        )
    )
    assert allowed_actions(p, svc)


def test_service_name_keys_are_the_services_alone_and_tags_the_iam_callers() -> None:
    """aws:PrincipalServiceNamesList comes only with a service principal's request, and
    aws:PrincipalTag only with a tagged IAM user's or role's (condition keys page): what a
    request's context says of either for the other kind of caller is ignored."""
    svc = Request(SERVICE, "cloudtrail.amazonaws.com",
                  context={"aws:PrincipalTag/team": ("ops",)})
    names = policy(allow("*", cond={"ForAnyValue:StringEquals": {
        "aws:PrincipalServiceNamesList": "cloudtrail.amazonaws.com"}}))
    assert allowed_actions(names, svc)
    iam = caller(context={"aws:PrincipalServiceNamesList": ("cloudtrail.amazonaws.com",)})
    assert not allowed_actions(names, iam)
    tagged = policy(allow("*", cond={"StringEquals": {"aws:PrincipalTag/team": "ops"}}))
    assert not allowed_actions(tagged, svc)
    assert allowed_actions(tagged, caller(context={"aws:PrincipalTag/team": ("ops",)}))


# --- keys only some actions carry ------------------------------------------------------------
# https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html: an encryption
# context comes with cryptographic operations (and grant constraints), kms:GrantIsForAWSResource
# with CreateGrant, ListGrants and RevokeGrant; aws:TagKeys with tagging calls (KEYS).
PUT = kms.bit("kms:PutKeyPolicy")
CREATE_GRANT = kms.bit("kms:CreateGrant")
TAG = kms.bit("kms:TagResource")
CONTEXT = {"kms:encryptioncontext:dept": ("finance",), "kms:grantisforawsresource": ("true",),
           "aws:tagkeys": ("team",)}


@pytest.mark.parametrize(("cond", "allowed", "refused"), [
    ({"StringEquals": {"kms:EncryptionContext:dept": "finance"}}, DECRYPT | CREATE_GRANT, PUT),
    ({"Bool": {"kms:GrantIsForAWSResource": "true"}}, CREATE_GRANT, DECRYPT | PUT),
    # (tags are taken to come with any key-management call: a superset of the tagging ones)
    ({"ForAnyValue:StringEquals": {"aws:TagKeys": "team"}}, TAG, DECRYPT),
    ({"Null": {"kms:EncryptionContext:dept": "false"}}, DECRYPT, PUT),
    # A condition that holds on a missing key holds for every action.
    ({"StringEqualsIfExists": {"kms:EncryptionContext:dept": "finance"}}, DECRYPT | PUT, 0),
    ({"ForAllValues:StringEquals": {"aws:TagKeys": "team"}}, DECRYPT | PUT | TAG, 0),
    ({"StringNotEquals": {"kms:EncryptionContext:dept": "hr"}}, DECRYPT | PUT, 0),
])
def test_a_key_only_some_actions_carry_is_missing_from_the_others(
        cond: dict[str, Any], allowed: int, refused: int) -> None:
    got = allowed_actions(policy(allow(action="kms:*", cond=cond)), caller(CONTEXT))
    assert got & allowed == allowed
    assert not got & refused


def test_a_deny_on_a_missing_context_key_covers_the_actions_without_one() -> None:
    """StringNotEquals holds on a missing key: the Deny refuses PutKeyPolicy, whose request has
    no encryption context, while Decrypt with the right context stays allowed."""
    p = policy(allow(action="kms:*"),
               deny(action="kms:*", cond={"StringNotEquals": {"kms:EncryptionContext:dept":
                                                             "finance"}}))
    got = allowed_actions(p, caller(CONTEXT))
    assert got & DECRYPT and not got & PUT
