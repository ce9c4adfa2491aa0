"""Table-driven semantics tests for the key-policy engine (``analyze_key_policy``).

Written from the rule catalogue in DESIGN.md, issue 2 (sections 2 and 3) and AWS documentation,
independently of the engine's code. Each case lists the rule ids that ``must`` be reported and the
ones that ``must_not`` be; ``must_not`` is kept to the rules a case is about. Core cases also pin
the exact set of rule ids. Where an AWS documentation page decides a case, its URL is next to it.

Pages cited repeatedly:
  Condition operators (IfExists, Null, negated operators, missing keys):
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
  Condition element (context key names are not case-sensitive):
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
  ForAllValues returns true when the key is missing from the request:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
  Policy variables:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
  AWS Config kms-key-policy-no-public-access (non-public = fixed values, no wildcard/variable):
    https://docs.aws.amazon.com/config/latest/developerguide/kms-key-policy-no-public-access.html
  IAM Access Analyzer findings (zone of trust = account or organisation):
    https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-findings.html
  S3 "The meaning of public" (fixed aws:SourceIp/SourceVpc(e)/SourceArn/SourceAccount/...):
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status
  Default key policies (root statement, key administrators, key users):
    https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
  KMS condition keys (kms:CallerAccount and the AWS managed key policy, kms:ViaService):
    https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html
  Confused deputy (aws:SourceArn / aws:SourceAccount on service principals):
    https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
  Explicit deny overrides allow:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
  Principal element (accounts, roles, assumed-role sessions, services):
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
  NotPrincipal (only meaningful with Deny):
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import pytest

from remediator.detectors import analyze_key_policy
from remediator.types import Context, Finding

# --- the world the cases live in ------------------------------------------------------------

OWNER = "111122223333"
TRUSTED = "444455556666"
UNTRUSTED = "999988887777"
ORG = "o-a1b2c3d4e5"
FOREIGN_ORG = "o-zz99yy88xx"
REGION = "us-east-1"

OWNER_ROOT = f"arn:aws:iam::{OWNER}:root"
KEY_ADMIN = f"arn:aws:iam::{OWNER}:role/KeyAdmin"
KEY_USER = f"arn:aws:iam::{OWNER}:role/KeyUser"
APP_ROLE = f"arn:aws:iam::{OWNER}:role/App"
_SSO = f"arn:aws:iam::{OWNER}:role/aws-reserved/sso.amazonaws.com/eu-west-2/AWSReservedSSO_"
SSO_ADMINS, SSO_USERS = f"{_SSO}KeyAdministrator_*", f"{_SSO}DatabaseAdministrator_*"
TRUSTED_ROOT = f"arn:aws:iam::{TRUSTED}:root"
TRUSTED_ROLE = f"arn:aws:iam::{TRUSTED}:role/team/Reader"
UNTRUSTED_ROOT = f"arn:aws:iam::{UNTRUSTED}:root"
UNTRUSTED_USER = f"arn:aws:iam::{UNTRUSTED}:user/ops/mallory"
UNTRUSTED_PATH_APP = f"arn:aws:iam::{UNTRUSTED}:role/team/App"
APP_SESSION = f"arn:aws:sts::{OWNER}:assumed-role/App/s1"

CANONICAL_USER = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"

CTX = Context(owner_account=OWNER, trusted_accounts=frozenset({TRUSTED}), org_id=ORG)
CTX_ADMIN = Context(
    owner_account=OWNER, trusted_accounts=frozenset({TRUSTED}), org_id=ORG, admins=(KEY_ADMIN,)
)
CTX_NO_ORG = Context(owner_account=OWNER, trusted_accounts=frozenset({TRUSTED}))

# --- rule ids -----------------------------------------------------------------------------

PUBLIC = "KMS-PUBLIC"
CROSS = "KMS-CROSS-ACCOUNT"
SVC = "KMS-SERVICE-UNSCOPED"
WILD = "KMS-WILDCARD-ACTION"
LOCKOUT = "IAM-KMS-1"
DEL_IMPORTED = "IAM-KMS-2"
SCHEDULE = "IAM-KMS-3"
DISABLE = "IAM-KMS-4"
PUT_POLICY = "IAM-KMS-5"
NO_VIA = "IAM-KMS-6"
DISABLE_ROT = "IAM-KMS-7"
SOD = "IAM-KMS-8"
DESTRUCTIVE = (DEL_IMPORTED, SCHEDULE, DISABLE, PUT_POLICY, DISABLE_ROT)

SEVERITY = {
    PUBLIC: "critical",
    CROSS: "high",
    SVC: "medium",
    WILD: "high",
    LOCKOUT: "high",
    DEL_IMPORTED: "high",
    SCHEDULE: "high",
    DISABLE: "medium",
    PUT_POLICY: "high",
    NO_VIA: "low",
    DISABLE_ROT: "medium",
    SOD: "medium",
}

# --- policy building blocks ---------------------------------------------------------------

Json = dict[str, Any]


def doc(*statements: Json) -> Json:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def aws(*principals: str) -> Json:
    return {"AWS": principals[0] if len(principals) == 1 else list(principals)}


def svc(*services: str) -> Json:
    return {"Service": services[0] if len(services) == 1 else list(services)}


def stmt(
    effect: str,
    principal: Any,
    action: str | list[str],
    *,
    sid: str | None = None,
    cond: Json | None = None,
    resource: str = "*",
) -> Json:
    out: Json = {"Effect": effect, "Principal": principal, "Action": action,
                 "Resource": resource}
    if sid is not None:
        out = {"Sid": sid, **out}
    if cond is not None:
        out["Condition"] = cond
    return out


def allow(principal: Any, action: str | list[str], **kw: Any) -> Json:
    return stmt("Allow", principal, action, **kw)


def deny(principal: Any, action: str | list[str], **kw: Any) -> Json:
    return stmt("Deny", principal, action, **kw)


KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"


def on(statement: Json, resource: str | None) -> Json:
    """The statement with its Resource replaced (None: without one)."""
    rest = {k: v for k, v in statement.items() if k != "Resource"}
    return rest if resource is None else {**rest, "Resource": resource}


def not_principal_deny(exempt: Json, action: str | list[str]) -> Json:
    return {"Effect": "Deny", "NotPrincipal": exempt, "Action": action, "Resource": "*"}


# AWS's own root statement: "Allows access to the AWS account and enables IAM policies".
# https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam
ROOT = allow(aws(OWNER_ROOT), "kms:*", sid="Enable IAM User Permissions")


def with_root(*statements: Json) -> Json:
    return doc(ROOT, *statements)


def public(cond: Json | None = None, action: str | list[str] = "kms:Decrypt") -> Json:
    """The root statement plus one Allow to ``"*"`` (Sid "Public") under ``cond``."""
    return with_root(allow("*", action, sid="Public", cond=cond))


def star_if(operator: str, key: str, value: Any) -> Json:
    return public({operator: {key: value}})


CONSOLE_ADMIN_ACTIONS = [
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:RotateKeyOnDemand",
]
KEY_USER_ACTIONS = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
]

# The console default policy, key administrator KeyAdmin and key user KeyUser.
# https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-administrators
# https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-users
CONSOLE_DEFAULT: Json = {
    "Id": "key-consolepolicy-3",
    "Version": "2012-10-17",
    "Statement": [
        ROOT,
        allow(aws(KEY_ADMIN), CONSOLE_ADMIN_ACTIONS, sid="Allow access for Key Administrators"),
        allow(aws(KEY_USER), KEY_USER_ACTIONS, sid="Allow use of the key"),
        allow(
            aws(KEY_USER),
            ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
            sid="Allow attachment of persistent resources",
            cond={"Bool": {"kms:GrantIsForAWSResource": "true"}},
        ),
    ],
}


def manage_and_use_left_to(managers: str, users: str) -> Json:
    """The trusted account may manage and use the key, but Denies leave management only to the
    principals matching ``managers`` and use only to those matching ``users``."""
    return doc(ROOT,
               allow("*", ["kms:PutKeyPolicy", "kms:Decrypt"], sid="Trusted",
                     cond={"StringEquals": {"kms:CallerAccount": TRUSTED}}),
               deny("*", "kms:PutKeyPolicy",
                    cond={"ArnNotLike": {"aws:PrincipalArn": managers}}),
               deny("*", "kms:Decrypt", cond={"ArnNotLike": {"aws:PrincipalArn": users}}))


def aws_managed(service: str, *, caller_key: str = "kms:CallerAccount") -> Json:
    """The policy AWS writes on an AWS managed key (aws/ebs, aws/secretsmanager, ...)."""
    via_key = "kms:ViaService" if caller_key == "kms:CallerAccount" else "KMS:VIASERVICE"
    return {
        "Version": "2012-10-17",
        "Id": f"auto-{service}-2",
        "Statement": [
            allow(
                aws("*"),
                [
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:CreateGrant",
                    "kms:DescribeKey",
                ],
                sid=f"Allow access through {service} for all principals in the account",
                cond={
                    "StringEquals": {
                        caller_key: OWNER,
                        via_key: f"{service}.{REGION}.amazonaws.com",
                    }
                },
            ),
            allow(
                aws(OWNER_ROOT),
                ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"],
                sid="Allow direct access to key metadata to the account",
            ),
        ],
    }


# --- the table ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    doc: Json
    must: frozenset[str] = frozenset()
    must_not: frozenset[str] = frozenset()
    exact: frozenset[str] | None = None
    ctx: Context = CTX


def case(
    case_id: str,
    document: Json,
    *,
    must: Iterable[str] = (),
    must_not: Iterable[str] = (),
    exact: Iterable[str] | None = None,
    ctx: Context = CTX,
) -> Case:
    return Case(
        case_id,
        document,
        frozenset(must),
        frozenset(must_not),
        None if exact is None else frozenset(exact),
        ctx,
    )


CASES: list[Case] = [
    # ---- AWS's own policies -------------------------------------------------------------
    # https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam
    case("aws-default-key-policy", doc(ROOT), exact=()),
    case(
        "aws-default-key-policy-statement-object",
        {"Version": "2012-10-17", "Id": "key-default-1", "Statement": ROOT},
        exact=(),
    ),
    # Console default, no admins configured: KeyAdmin's Delete*/ScheduleKeyDeletion/Disable*/
    # Put* are destructive rights of an unauthorised principal; KeyUser decrypts without
    # kms:ViaService. Key administrators cannot use the key, so no separation-of-duty finding.
    # https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-administrators
    case(
        "console-default-no-admins",
        CONSOLE_DEFAULT,
        exact=(*DESTRUCTIVE, NO_VIA),
    ),
    case("console-default-keyadmin-authorised", CONSOLE_DEFAULT, exact=(NO_VIA,), ctx=CTX_ADMIN),
    # The AWS managed key policy: "*" pinned by kms:CallerAccount and kms:ViaService is not
    # public; the root statement has no kms:PutKeyPolicy, so the owner root cannot manage it.
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-caller-account
    case("aws-managed-ebs", aws_managed("ec2"), exact=(LOCKOUT,)),
    case(
        "aws-managed-secretsmanager",
        aws_managed("secretsmanager"),
        must=(LOCKOUT,),
        must_not=(PUBLIC, CROSS, NO_VIA, WILD),
    ),
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
    case(
        "aws-managed-ebs-condition-keys-uppercase",
        aws_managed("ec2", caller_key="KMS:CALLERACCOUNT"),
        must_not=(PUBLIC, CROSS, NO_VIA),
    ),
    # ---- KMS-PUBLIC: every principal form that means "anyone" ------------------------------
    case("public-principal-star-string", public(), must=(PUBLIC,), must_not=(SVC,)),
    case(
        "public-principal-aws-star",
        with_root(allow(aws("*"), "kms:Decrypt", sid="Public")),
        must=(PUBLIC,),
    ),
    case(
        "public-principal-aws-star-list",
        with_root(allow({"AWS": ["*"]}, "kms:Decrypt", sid="Public")),
        must=(PUBLIC,),
    ),
    case(
        "public-principal-list-with-star-among-arns",
        with_root(allow(aws(TRUSTED_ROLE, "*"), "kms:Decrypt", sid="Public")),
        must=(PUBLIC,),
    ),
    case(
        "public-wildcard-account-root-arn",
        with_root(allow(aws("arn:aws:iam::*:root"), "kms:Decrypt", sid="Public")),
        must=(PUBLIC,),
    ),
    case(
        "public-wildcard-account-role-arn",
        with_root(allow(aws("arn:aws:iam::*:role/Admin"), "kms:Decrypt", sid="Public")),
        must=(PUBLIC,),
    ),
    # NotPrincipal with Allow grants everyone except the named principals.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
    case(
        "public-notprincipal-with-allow",
        with_root(
            {
                "Sid": "AllButRoot",
                "Effect": "Allow",
                "NotPrincipal": aws(OWNER_ROOT),
                "Action": "kms:Decrypt",
                "Resource": "*",
            }
        ),
        must=(PUBLIC,),
    ),
    case(
        "public-statement-object",
        {"Version": "2012-10-17", "Statement": allow("*", "kms:Decrypt", sid="Only")},
        must=(PUBLIC, LOCKOUT),
    ),
    case("public-action-star", public(action="*"), must=(PUBLIC, WILD)),
    case("public-action-mixed-case", public(action="KMS:decrypt"), must=(PUBLIC,)),
    case("public-action-decrypt-wildcard", public(action="kms:Decrypt*"), must=(PUBLIC,)),
    case(
        "public-action-list-kms-and-s3",
        public(action=["s3:GetObject", "kms:Decrypt"]),
        must=(PUBLIC,),
    ),
    case(
        "public-notaction-leaves-kms-actions",
        with_root(
            {
                "Sid": "Public",
                "Effect": "Allow",
                "Principal": "*",
                "NotAction": ["kms:Decrypt", "kms:Encrypt"],
                "Resource": "*",
            }
        ),
        must=(PUBLIC,),
    ),
    # NotResource matches every resource except those listed: this key is not listed.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notresource.html
    case(
        "public-notresource-other-key",
        with_root(
            {
                "Sid": "Public",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "kms:Decrypt",
                "NotResource": f"arn:aws:kms:{REGION}:{OWNER}:key/00000000-other-key",
            }
        ),
        must=(PUBLIC,),
    ),
    case(
        "public-resource-list-key-arn",
        with_root(
            {
                "Sid": "Public",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["kms:Decrypt"],
                "Resource": [f"arn:aws:kms:{REGION}:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234"],
            }
        ),
        must=(PUBLIC,),
    ),
    # A policy variable in Resource is replaced by a value of the request
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html);
    # ${aws:RequestedRegion} holds a colon that is no ARN separator. Such a Resource may name
    # the key: an Allow on it applies, a Deny on it is not credited, an alias never is a key.
    case(
        "public-resource-with-a-region-variable",
        with_root({"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt",
                   "Resource": f"arn:aws:kms:${{aws:RequestedRegion}}:{OWNER}:key/*"}),
        must=(PUBLIC,),
    ),
    case(
        "wildcard-action-on-a-principal-account-variable",
        with_root(allow(aws(f"arn:aws:iam::{OWNER}:role/App"), "kms:*", sid="App",
                        resource=f"arn:aws:kms:{REGION}:${{aws:PrincipalAccount}}:key/*")),
        must=("KMS-WILDCARD-ACTION", "IAM-KMS-5"),
    ),
    case(
        "deny-on-a-variable-resource-is-not-credited",
        with_root(allow("*", "kms:Decrypt", sid="Public"),
                  deny("*", "kms:*",
                       resource=f"arn:aws:kms:${{aws:RequestedRegion}}:{OWNER}:key/*")),
        must=(PUBLIC,),
    ),
    case(
        "alias-with-a-variable-is-never-the-key",
        with_root({"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt",
                   "Resource": f"arn:aws:kms:{REGION}:{OWNER}:alias/${{aws:username}}"}),
        must_not=(PUBLIC,),
    ),
    # ---- KMS-PUBLIC traps: conditions that do not pin the caller --------------------------
    # Wildcards under *Like operators match any account / organisation.
    # https://docs.aws.amazon.com/config/latest/developerguide/kms-key-policy-no-public-access.html
    case(
        "trap-like-principalaccount-star",
        star_if("StringLike", "aws:PrincipalAccount", "*"),
        must=(PUBLIC,),
    ),
    case(
        "trap-like-orgid-wildcard",
        star_if("StringLike", "aws:PrincipalOrgID", "o-*"),
        must=(PUBLIC,),
    ),
    case(
        "trap-arnlike-principalarn-wildcard-account",
        star_if("ArnLike", "aws:PrincipalArn", "arn:aws:iam::*:role/KeyUser"),
        must=(PUBLIC,),
    ),
    case(
        "trap-like-calleraccount-question-mark",
        star_if("StringLike", "kms:CallerAccount", "1111?2223333"),
        must=(PUBLIC,),
    ),
    case(
        "trap-like-calleraccount-prefix-wildcard",
        star_if("StringLike", "kms:CallerAccount", "1111222233*"),
        must=(PUBLIC,),
    ),
    case(
        "trap-like-value-list-with-one-wildcard",
        star_if("StringLike", "aws:PrincipalAccount", [OWNER, "*"]),
        must=(PUBLIC,),
    ),
    case(
        "trap-userid-wildcard",
        star_if("StringLike", "aws:userid", "AIDA*"),
        must=(PUBLIC,),
    ),
    # A wildcard account in aws:SourceArn pins no customer, but only a service principal's
    # request carries the key (condition keys page, aws:SourceArn; confused-deputy page): no
    # IAM principal can use the statement, and any customer's SNS topic named "alerts" can have
    # SNS use the key. That is the confused deputy (KMS-SERVICE-UNSCOPED), not an Allow "any
    # principal can use" (KMS-PUBLIC, DESIGN.md). AWS Config's kms-key-policy-no-public-access
    # counts any wildcard as public; this tool reports it as the unscoped service it is.
    case(
        "trap-sourcearn-wildcard-account",
        star_if("ArnLike", "aws:SourceArn", f"arn:aws:sns:{REGION}:*:alerts"),
        must=(SVC,),
        must_not=(PUBLIC, NO_VIA),
    ),
    # A fixed aws:SourceArn that holds no account (an S3 bucket's) names one resource, but not
    # whose: still a service acting for a customer the policy cannot tell.
    case(
        "star-sourcearn-fixed-bucket-is-an-unscoped-service",
        star_if("ArnEquals", "aws:SourceArn", "arn:aws:s3:::my-bucket"),
        must=(SVC,),
        must_not=(PUBLIC, NO_VIA),
    ),
    case(
        "trap-sourceip-any-ipv4", star_if("IpAddress", "aws:SourceIp", "0.0.0.0/0"), must=(PUBLIC,)
    ),
    case("trap-sourceip-any-ipv6", star_if("IpAddress", "aws:SourceIp", "::/0"), must=(PUBLIC,)),
    case(
        "trap-sourceip-list-with-any",
        star_if("IpAddress", "aws:SourceIp", ["203.0.113.0/24", "0.0.0.0/0"]),
        must=(PUBLIC,),
    ),
    # ArnEquals, like ArnLike, accepts * and ? in every ARN component.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
    case(
        "trap-arnequals-wildcard-account",
        star_if("ArnEquals", "aws:PrincipalArn", "arn:aws:iam::*:role/KeyUser"),
        must=(PUBLIC,),
    ),
    case(
        "trap-like-sourcevpce-wildcard",
        star_if("StringLike", "aws:SourceVpce", "vpce-*"),
        must=(PUBLIC,),
    ),
    case("trap-like-sourcevpc-star", star_if("StringLike", "aws:SourceVpc", "*"), must=(PUBLIC,)),
    # "::/0" has other spellings (RFC 4291 section 2.2); all of them match every IPv6 address.
    # https://www.rfc-editor.org/rfc/rfc4291#section-2.2
    case(
        "trap-sourceip-any-ipv6-uncompressed",
        star_if("IpAddress", "aws:SourceIp", "0:0:0:0:0:0:0:0/0"),
        must=(PUBLIC,),
    ),
    case(
        "trap-sourceip-any-ipv6-leading-zero",
        star_if("IpAddress", "aws:SourceIp", "0::/0"),
        must=(PUBLIC,),
    ),
    # Two /1 blocks together are the whole IPv4 space, i.e. 0.0.0.0/0 (RFC 4632).
    # https://www.rfc-editor.org/rfc/rfc4632
    case(
        "trap-sourceip-two-halves-cover-everything",
        star_if("IpAddress", "aws:SourceIp", ["0.0.0.0/1", "128.0.0.0/1"]),
        must=(PUBLIC,),
    ),
    # Negated operators on an Allow match every value but the listed ones.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    case(
        "trap-notipaddress-on-allow",
        star_if("NotIpAddress", "aws:SourceIp", "203.0.113.0/24"),
        must=(PUBLIC,),
    ),
    case(
        "trap-stringnotequals-principalaccount-on-allow",
        star_if("StringNotEquals", "aws:PrincipalAccount", UNTRUSTED),
        must=(PUBLIC,),
    ),
    case(
        "trap-arnnotlike-principalarn-on-allow",
        star_if("ArnNotLike", "aws:PrincipalArn", f"arn:aws:iam::{UNTRUSTED}:*"),
        must=(PUBLIC,),
    ),
    # Null only checks presence: every organisation member of any organisation passes.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Null
    case("trap-null-orgid-false", star_if("Null", "aws:PrincipalOrgID", "false"), must=(PUBLIC,)),
    # ForAllValues is true when the key is absent (a caller outside any organisation).
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
    case(
        "trap-forallvalues-orgpaths-on-allow",
        star_if("ForAllValues:StringLike", "aws:PrincipalOrgPaths", f"{ORG}/*"),
        must=(PUBLIC,),
    ),
    # ...IfExists is true when the key is absent, and these keys are absent on direct calls.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IfExists
    case(
        "trap-ifexists-sourceaccount",
        star_if("StringEqualsIfExists", "aws:SourceAccount", OWNER),
        must=(PUBLIC,),
    ),
    case(
        "trap-ifexists-orgid",
        star_if("StringEqualsIfExists", "aws:PrincipalOrgID", ORG),
        must=(PUBLIC,),
    ),
    case(
        "trap-ifexists-sourcevpc",
        star_if("StringEqualsIfExists", "aws:SourceVpc", "vpc-111bbb22"),
        must=(PUBLIC,),
    ),
    case(
        "trap-ifexists-sourcearn",
        star_if(
            "ArnLikeIfExists", "aws:SourceArn", f"arn:aws:cloudtrail:{REGION}:{OWNER}:trail/main"
        ),
        must=(PUBLIC,),
    ),
    case(
        "trap-ipaddressifexists-sourceip",
        star_if("IpAddressIfExists", "aws:SourceIp", "203.0.113.0/24"),
        must=(PUBLIC,),
    ),
    # Keys the caller controls, or that any account satisfies, do not pin the account.
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service
    case(
        "trap-viaservice-alone",
        star_if("StringEquals", "kms:ViaService", f"s3.{REGION}.amazonaws.com"),
        must=(PUBLIC,),
    ),
    case(
        "trap-encryption-context-alone",
        star_if("StringEquals", "kms:EncryptionContext:Department", "Finance"),
        must=(PUBLIC,),
    ),
    case(
        "trap-securetransport-alone",
        star_if("Bool", "aws:SecureTransport", "true"),
        must=(PUBLIC,),
    ),
    case(
        "trap-grant-for-aws-resource-alone",
        public(
            {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            action=["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
        ),
        must=(PUBLIC,),
    ),
    # A condition on a key only some actions' requests carry holds for no other action: an
    # encryption context comes with cryptographic and grant calls, kms:GrantIsForAWSResource
    # with CreateGrant/ListGrants/RevokeGrant, kms:BypassPolicyLockoutSafetyCheck with
    # PutKeyPolicy (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html).
    # "*" under an encryption context may decrypt, never replace the policy.
    case(
        "trap-encryption-context-on-kms-star-is-public-use-only",
        public({"StringEquals": {"kms:EncryptionContext:Department": "Finance"}}, "kms:*"),
        must=(PUBLIC,),
        must_not=(*DESTRUCTIVE, SOD),
    ),
    case(
        "trap-grant-for-aws-resource-on-kms-star-is-public-grants-only",
        public({"Bool": {"kms:GrantIsForAWSResource": "true"}}, "kms:*"),
        must=(PUBLIC,),
        must_not=(*DESTRUCTIVE, SOD, WILD),
    ),
    # ...IfExists holds where the key is missing: every action stays open.
    case(
        "trap-encryption-context-if-exists-on-kms-star-keeps-every-action",
        public({"StringEqualsIfExists": {"kms:EncryptionContext:Department": "Finance"}},
               "kms:*"),
        must=(PUBLIC, PUT_POLICY, SOD, WILD),
    ),
    case(
        "bypass-lockout-check-condition-leaves-management-only",
        with_root(allow(aws(APP_ROLE), "kms:*", sid="App",
                        cond={"Bool": {"kms:BypassPolicyLockoutSafetyCheck": "false"}})),
        must=(PUT_POLICY,),
        must_not=(SOD, NO_VIA, WILD),
    ),
    case("trap-empty-condition-object", public({}), must=(PUBLIC,)),
    case("trap-username-alone", star_if("StringEquals", "aws:username", "alice"), must=(PUBLIC,)),
    case(
        "trap-numeric-mfa-age-alone",
        star_if("NumericLessThan", "aws:MultiFactorAuthAge", "3600"),
        must=(PUBLIC,),
    ),
    case(
        "trap-date-current-time-alone",
        star_if("DateLessThan", "aws:CurrentTime", "2030-01-01T00:00:00Z"),
        must=(PUBLIC,),
    ),
    # A policy variable resolves to the caller's own value: it matches everyone.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
    case(
        "trap-policy-variable-principalaccount",
        star_if("StringEquals", "aws:PrincipalAccount", "${aws:PrincipalAccount}"),
        must=(PUBLIC,),
    ),
    case(
        "trap-policy-variable-in-arn-account",
        star_if("ArnLike", "aws:PrincipalArn", "arn:aws:iam::${aws:PrincipalAccount}:role/App"),
        must=(PUBLIC,),
    ),
    case(
        "trap-deny-on-other-principal-keeps-public",
        doc(
            ROOT,
            allow("*", "kms:Decrypt", sid="Public"),
            deny(aws(UNTRUSTED_ROOT), "kms:*", sid="DenyOne"),
        ),
        must=(PUBLIC,),
    ),
    case(
        "trap-foranyvalue-orgpaths-wildcard-org",
        star_if("ForAnyValue:StringLike", "aws:PrincipalOrgPaths", "o-*/*"),
        must=(PUBLIC,),
    ),
    # ---- Conditions that pin the caller: not public -------------------------------------
    # https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html#access-control-block-public-access-policy-status
    case(
        "pinned-principalaccount-owner",
        star_if("StringEquals", "aws:PrincipalAccount", OWNER),
        exact=(NO_VIA,),
    ),
    case(
        "pinned-calleraccount-owner",
        star_if("StringEquals", "kms:CallerAccount", OWNER),
        must_not=(PUBLIC, CROSS),
    ),
    case(
        "pinned-principalarn-owner-role",
        star_if("ArnEquals", "aws:PrincipalArn", APP_ROLE),
        must_not=(PUBLIC, CROSS),
    ),
    case(
        "pinned-principalarn-like-owner-roles",
        star_if("ArnLike", "aws:PrincipalArn", f"arn:aws:iam::{OWNER}:role/app-*"),
        must_not=(PUBLIC, CROSS),
    ),
    case(
        "pinned-principalarn-like-owner-anything",
        star_if("ArnLike", "aws:PrincipalArn", f"arn:aws:iam::{OWNER}:*"),
        must_not=(PUBLIC, CROSS),
    ),
    case(
        "pinned-foranyvalue-principalaccount-owner",
        star_if("ForAnyValue:StringEquals", "aws:PrincipalAccount", OWNER),
        must_not=(PUBLIC, CROSS),
    ),
    case(
        "pinned-principalarn-stringequals",
        star_if("StringEquals", "aws:PrincipalArn", TRUSTED_ROLE),
        must_not=(PUBLIC, CROSS),
    ),
    # The owner's organisation is the zone of trust.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-findings.html
    case(
        "pinned-orgid-own-org",
        star_if("StringEquals", "aws:PrincipalOrgID", ORG),
        exact=(NO_VIA,),
    ),
    # StringEqualsIgnoreCase compares values ignoring case: this is the owner's organisation.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_String
    case(
        "pinned-orgid-ignorecase-uppercase-own-org",
        star_if("StringEqualsIgnoreCase", "aws:PrincipalOrgID", ORG.upper()),
        must_not=(PUBLIC, CROSS),
    ),
    case(
        "pinned-orgpaths-own-org-subtree",
        star_if("ForAnyValue:StringLike", "aws:PrincipalOrgPaths", f"{ORG}/*"),
        must_not=(PUBLIC, CROSS),
    ),
    case(
        "pinned-orgid-like-without-wildcard",
        star_if("StringLike", "aws:PrincipalOrgID", ORG),
        must_not=(PUBLIC, CROSS),
    ),
    case(
        "pinned-orgpaths-foranyvalue-equals",
        star_if(
            "ForAnyValue:StringEquals", "aws:PrincipalOrgPaths", f"{ORG}/r-ab12/ou-ab12-11111111/"
        ),
        must_not=(PUBLIC, CROSS),
    ),
    # The aws:PrincipalOrgPaths example of the global condition keys page.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
    case(
        "pinned-orgpaths-foranyvalue-like-ou-subtree",
        star_if(
            "ForAnyValue:StringLike",
            "aws:PrincipalOrgPaths",
            f"{ORG}/r-ab12/ou-ab12-11111111/ou-ab12-22222222/*",
        ),
        must_not=(PUBLIC, CROSS),
    ),
    case(
        "pinned-sourcevpce",
        star_if("StringEquals", "aws:SourceVpce", "vpce-1a2b3c4d"),
        must_not=(PUBLIC,),
    ),
    case(
        "pinned-sourcevpc",
        star_if("StringEquals", "aws:SourceVpc", "vpc-111bbb22"),
        must_not=(PUBLIC,),
    ),
    case(
        "pinned-sourceip-cidr",
        star_if("IpAddress", "aws:SourceIp", "203.0.113.0/24"),
        must_not=(PUBLIC,),
    ),
    case(
        "pinned-sourceip-ipv6-cidr",
        star_if("IpAddress", "aws:SourceIp", "2001:db8:1234::/48"),
        must_not=(PUBLIC,),
    ),
    case(
        "pinned-userid-fixed",
        star_if("StringEquals", "aws:userid", "AIDACKCEVSQ6C2EXAMPLE"),
        must_not=(PUBLIC,),
    ),
    case(
        "pinned-sourceaccount-owner",
        star_if("StringEquals", "aws:SourceAccount", OWNER),
        must_not=(PUBLIC, CROSS),
    ),
    case(
        "pinned-sourcearn-fixed",
        star_if("ArnEquals", "aws:SourceArn", f"arn:aws:cloudtrail:{REGION}:{OWNER}:trail/main"),
        must_not=(PUBLIC, CROSS),
    ),
    case(
        "pinned-sourceowner-owner",
        star_if("StringEquals", "aws:SourceOwner", OWNER),
        must_not=(PUBLIC, CROSS),
    ),
    case(
        "pinned-principalaccount-owner-and-trusted",
        star_if("StringEquals", "aws:PrincipalAccount", [OWNER, TRUSTED]),
        must_not=(PUBLIC, CROSS),
    ),
    # Context key names are case-insensitive.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
    case(
        "pinned-condition-key-uppercase",
        star_if("StringEquals", "AWS:PRINCIPALACCOUNT", OWNER),
        must_not=(PUBLIC, CROSS),
    ),
    case(
        "pinned-condition-key-lowercase",
        star_if("StringEquals", "kms:calleraccount", OWNER),
        must_not=(PUBLIC, CROSS),
    ),
    case(
        "pinned-stringequalsignorecase-principalaccount",
        star_if("StringEqualsIgnoreCase", "aws:PrincipalAccount", OWNER),
        must_not=(PUBLIC, CROSS),
    ),
    # Condition operators in one block are ANDed: one pinning operator is enough.
    case(
        "pinned-and-wildcard-condition-together",
        public(
            {
                "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/KeyUser"},
                "StringEquals": {"aws:PrincipalAccount": OWNER},
            }
        ),
        must_not=(PUBLIC, CROSS),
    ),
    case(
        "pinned-plus-securetransport",
        public(
            {
                "Bool": {"aws:SecureTransport": "true"},
                "StringEquals": {"aws:PrincipalOrgID": ORG},
            }
        ),
        must_not=(PUBLIC, CROSS),
    ),
    case(
        "pinned-orgid-and-viaservice-same-block",
        public(
            {
                "StringEquals": {
                    "kms:ViaService": f"s3.{REGION}.amazonaws.com",
                    "aws:PrincipalOrgID": ORG,
                }
            }
        ),
        must_not=(PUBLIC, CROSS, NO_VIA),
    ),
    # NotPrincipal with Allow is public only while no condition pins the caller.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
    case(
        "pinned-notprincipal-allow-with-principalaccount",
        with_root(
            {
                "Effect": "Allow",
                "NotPrincipal": aws(UNTRUSTED_ROOT),
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:PrincipalAccount": OWNER}},
            }
        ),
        must_not=(PUBLIC, CROSS),
    ),
    case(
        "principal-federated-owner-saml-provider",
        with_root(allow({"Federated": f"arn:aws:iam::{OWNER}:saml-provider/Okta"}, "kms:Decrypt")),
        must_not=(PUBLIC, CROSS, SVC),
    ),
    case(
        "principal-canonical-user",
        with_root(
            allow(
                {"CanonicalUser": CANONICAL_USER},
                "kms:Decrypt",
            )
        ),
        must_not=(PUBLIC, CROSS, SVC),
    ),
    case(
        "public-second-of-two-grants",
        doc(ROOT, allow(aws(APP_ROLE), "kms:Decrypt"), allow("*", "kms:Encrypt", sid="P")),
        must=(PUBLIC,),
    ),
    # ---- KMS-CROSS-ACCOUNT --------------------------------------------------------------
    case(
        "cross-untrusted-root-arn",
        with_root(allow(aws(UNTRUSTED_ROOT), "kms:Decrypt", sid="Share")),
        exact=(CROSS, NO_VIA),
    ),
    case(
        "cross-untrusted-bare-account-id",
        with_root(allow(aws(UNTRUSTED), "kms:Decrypt", sid="Share")),
        must=(CROSS,),
        must_not=(PUBLIC,),
    ),
    case(
        "cross-untrusted-in-list-with-trusted",
        with_root(allow(aws(TRUSTED_ROLE, UNTRUSTED_USER), ["kms:Decrypt"], sid="Share")),
        must=(CROSS,),
        must_not=(PUBLIC,),
    ),
    case(
        "cross-untrusted-assumed-role-session",
        with_root(
            allow(aws(f"arn:aws:sts::{UNTRUSTED}:assumed-role/Ops/alice"), "kms:Decrypt", sid="S")
        ),
        must=(CROSS,),
    ),
    case(
        "cross-untrusted-role-with-path",
        with_root(
            allow(aws(f"arn:aws:iam::{UNTRUSTED}:role/service-role/team/App"), "kms:Decrypt")
        ),
        must=(CROSS,),
    ),
    case(
        "cross-untrusted-user-with-path",
        with_root(allow(aws(UNTRUSTED_USER), "kms:Encrypt")),
        must=(CROSS,),
    ),
    case(
        "cross-untrusted-aws-cn-partition",
        with_root(allow(aws(f"arn:aws-cn:iam::{UNTRUSTED}:root"), "kms:Decrypt")),
        must=(CROSS,),
    ),
    case(
        "cross-untrusted-aws-us-gov-partition",
        with_root(allow(aws(f"arn:aws-us-gov:iam::{UNTRUSTED}:role/Reader"), "kms:Decrypt")),
        must=(CROSS,),
    ),
    case(
        "cross-star-pinned-to-untrusted-account",
        star_if("StringEquals", "aws:PrincipalAccount", UNTRUSTED),
        must=(CROSS,),
        must_not=(PUBLIC,),
    ),
    case(
        "cross-star-pinned-to-foreign-org",
        star_if("StringEquals", "aws:PrincipalOrgID", FOREIGN_ORG),
        must=(CROSS,),
        must_not=(PUBLIC,),
    ),
    case(
        "cross-star-pinned-to-org-none-configured",
        star_if("StringEquals", "aws:PrincipalOrgID", ORG),
        must=(CROSS,),
        must_not=(PUBLIC,),
        ctx=CTX_NO_ORG,
    ),
    case(
        "cross-orgpaths-foreign-org",
        star_if("ForAnyValue:StringEquals", "aws:PrincipalOrgPaths", f"{FOREIGN_ORG}/r-zz99/"),
        must=(CROSS,),
        must_not=(PUBLIC,),
    ),
    case(
        "cross-orgid-list-with-foreign-org",
        star_if("StringEquals", "aws:PrincipalOrgID", [ORG, FOREIGN_ORG]),
        must=(CROSS,),
        must_not=(PUBLIC,),
    ),
    case(
        "cross-principalarn-list-with-untrusted",
        star_if("ArnEquals", "aws:PrincipalArn", [APP_ROLE, f"arn:aws:iam::{UNTRUSTED}:role/R"]),
        must=(CROSS,),
        must_not=(PUBLIC,),
    ),
    case(
        "cross-calleraccount-list-with-untrusted",
        star_if("StringEquals", "kms:CallerAccount", [OWNER, UNTRUSTED]),
        must=(CROSS,),
        must_not=(PUBLIC,),
    ),
    case(
        "cross-principalarn-untrusted-role",
        star_if("ArnEquals", "aws:PrincipalArn", f"arn:aws:iam::{UNTRUSTED}:role/Reader"),
        must=(CROSS,),
        must_not=(PUBLIC,),
    ),
    case(
        "cross-service-scoped-to-untrusted-account",
        with_root(
            allow(
                svc("cloudtrail.amazonaws.com"),
                "kms:GenerateDataKey*",
                sid="CloudTrail",
                cond={"StringEquals": {"aws:SourceAccount": UNTRUSTED}},
            )
        ),
        must=(CROSS,),
        must_not=(SVC, PUBLIC),
    ),
    # Account ids are compared whole: the owner id inside a name, or as a prefix, is not owner.
    case(
        "cross-service-sourcearn-untrusted-account",
        with_root(
            allow(
                svc("cloudtrail.amazonaws.com"),
                "kms:GenerateDataKey*",
                cond={
                    "ArnEquals": {
                        "aws:SourceArn": f"arn:aws:cloudtrail:{REGION}:{UNTRUSTED}:trail/x"
                    }
                },
            )
        ),
        must=(CROSS,),
        must_not=(SVC, PUBLIC),
    ),
    case(
        "cross-star-sourceaccount-untrusted",
        star_if("StringEquals", "aws:SourceAccount", UNTRUSTED),
        must=(CROSS,),
        must_not=(PUBLIC,),
    ),
    case(
        "cross-trap-owner-id-as-role-name",
        with_root(allow(aws(f"arn:aws:iam::{UNTRUSTED}:role/{OWNER}"), "kms:Decrypt")),
        must=(CROSS,),
    ),
    case(
        "cross-trap-owner-id-as-session-name",
        with_root(allow(aws(f"arn:aws:sts::{UNTRUSTED}:assumed-role/Ops/{OWNER}"), "kms:Decrypt")),
        must=(CROSS,),
    ),
    case(
        "cross-trap-owner-id-prefix-13-digits",
        with_root(allow(aws(f"arn:aws:iam::{OWNER}0:root"), "kms:Decrypt")),
        must=(CROSS,),
    ),
    case(
        "cross-trap-owner-id-truncated-11-digits",
        with_root(allow(aws(f"arn:aws:iam::{OWNER[:-1]}:root"), "kms:Decrypt")),
        must=(CROSS,),
    ),
    case(
        "cross-trap-trusted-id-as-role-name-in-condition",
        star_if("ArnEquals", "aws:PrincipalArn", f"arn:aws:iam::{UNTRUSTED}:role/{TRUSTED}"),
        must=(CROSS,),
        must_not=(PUBLIC,),
    ),
    case(
        "trusted-root-arn",
        with_root(allow(aws(TRUSTED_ROOT), "kms:Decrypt")),
        must_not=(CROSS, PUBLIC),
    ),
    case(
        "trusted-bare-account-id",
        with_root(allow(aws(TRUSTED), "kms:Decrypt")),
        must_not=(CROSS, PUBLIC),
    ),
    case(
        "trusted-role-with-path",
        with_root(allow(aws(TRUSTED_ROLE), "kms:Decrypt")),
        exact=(NO_VIA,),
    ),
    case(
        "trusted-role-with-viaservice",
        with_root(
            allow(
                aws(TRUSTED_ROLE),
                ["kms:Decrypt", "kms:GenerateDataKey"],
                cond={"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}},
            )
        ),
        exact=(),
    ),
    case(
        "trusted-assumed-role-session",
        with_root(allow(aws(f"arn:aws:sts::{TRUSTED}:assumed-role/Reader/bob"), "kms:Decrypt")),
        must_not=(CROSS, PUBLIC),
    ),
    case(
        "trusted-star-pinned-to-trusted-account",
        star_if("StringEquals", "aws:PrincipalAccount", TRUSTED),
        must_not=(CROSS, PUBLIC),
    ),
    case(
        "owner-root-other-partition",
        doc(allow(aws(f"arn:aws-cn:iam::{OWNER}:root"), "kms:*", sid="Enable IAM policies")),
        exact=(),
    ),
    case(
        "cross-removed-by-deny-outside-trusted-accounts",
        doc(
            ROOT,
            allow(aws(UNTRUSTED_ROOT), "kms:Decrypt", sid="Share"),
            deny(
                "*",
                "kms:*",
                sid="OnlyTrusted",
                cond={"StringNotEquals": {"aws:PrincipalAccount": [OWNER, TRUSTED]}},
            ),
        ),
        must_not=(CROSS, PUBLIC),
    ),
    case(
        "cross-removed-by-explicit-deny",
        doc(
            ROOT,
            allow(aws(UNTRUSTED_ROOT), ["kms:Decrypt", "kms:Encrypt"], sid="Share"),
            deny(aws(UNTRUSTED_ROOT), "kms:*", sid="Revoke"),
        ),
        must_not=(CROSS,),
    ),
    # ---- KMS-SERVICE-UNSCOPED (confused deputy) -------------------------------------------
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
    case(
        "service-cloudtrail-unscoped",
        with_root(allow(svc("cloudtrail.amazonaws.com"), "kms:GenerateDataKey*", sid="CT")),
        exact=(SVC,),
    ),
    # The CloudTrail documentation's key policy: aws:SourceArn pins the trail.
    # https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html
    case(
        "service-cloudtrail-sourcearn-scoped",
        with_root(
            allow(
                svc("cloudtrail.amazonaws.com"),
                "kms:GenerateDataKey*",
                sid="Allow CloudTrail to encrypt logs",
                cond={
                    "StringEquals": {
                        "aws:SourceArn": f"arn:aws:cloudtrail:{REGION}:{OWNER}:trail/main"
                    },
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn": (
                            f"arn:aws:cloudtrail:*:{OWNER}:trail/*"
                        )
                    },
                },
            )
        ),
        exact=(),
    ),
    case(
        "service-encryption-context-only",
        with_root(
            allow(
                svc("cloudtrail.amazonaws.com"),
                "kms:GenerateDataKey*",
                cond={
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn": (
                            f"arn:aws:cloudtrail:*:{OWNER}:trail/*"
                        )
                    }
                },
            )
        ),
        must=(SVC,),
    ),
    case(
        "service-logs-encryption-context-arn-only",
        with_root(
            allow(
                svc(f"logs.{REGION}.amazonaws.com"),
                ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
                cond={
                    "ArnEquals": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:aws:logs:{REGION}:{OWNER}:log-group:app"
                        )
                    }
                },
            )
        ),
        must=(SVC,),
        must_not=(NO_VIA,),
    ),
    case(
        "service-sourceaccount-owner",
        with_root(
            allow(
                svc("cloudtrail.amazonaws.com"),
                "kms:GenerateDataKey*",
                cond={"StringEquals": {"aws:SourceAccount": OWNER}},
            )
        ),
        exact=(),
    ),
    case(
        "service-sourceaccount-key-uppercase",
        with_root(
            allow(
                svc("cloudtrail.amazonaws.com"),
                "kms:GenerateDataKey*",
                cond={"StringEquals": {"AWS:SOURCEACCOUNT": OWNER}},
            )
        ),
        must_not=(SVC, CROSS),
    ),
    case(
        "service-sourceowner-owner",
        with_root(
            allow(
                svc("sns.amazonaws.com"),
                ["kms:Decrypt", "kms:GenerateDataKey"],
                cond={"StringEquals": {"aws:SourceOwner": OWNER}},
            )
        ),
        must_not=(SVC, CROSS),
    ),
    case(
        "service-sourceorgid-own-org",
        with_root(
            allow(
                svc("delivery.logs.amazonaws.com"),
                "kms:GenerateDataKey*",
                cond={"StringEquals": {"aws:SourceOrgID": ORG}},
            )
        ),
        must_not=(SVC, CROSS),
    ),
    case(
        "service-sourcearn-like-owner-resources",
        with_root(
            allow(
                svc("sns.amazonaws.com"),
                "kms:Decrypt",
                cond={"ArnLike": {"aws:SourceArn": f"arn:aws:sns:{REGION}:{OWNER}:*"}},
            )
        ),
        must_not=(SVC, CROSS, PUBLIC),
    ),
    # Confused-deputy protection needs the account fixed: wildcards, negation, IfExists and
    # policy variables leave any account's resource able to drive the service.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
    case(
        "service-sourceaccount-like-star",
        with_root(
            allow(
                svc("cloudtrail.amazonaws.com"),
                "kms:GenerateDataKey*",
                cond={"StringLike": {"aws:SourceAccount": "*"}},
            )
        ),
        must=(SVC,),
    ),
    case(
        "service-sourcearn-wildcard-account",
        with_root(
            allow(
                svc("cloudtrail.amazonaws.com"),
                "kms:GenerateDataKey*",
                cond={"ArnLike": {"aws:SourceArn": "arn:aws:cloudtrail:*:*:trail/*"}},
            )
        ),
        must=(SVC,),
    ),
    case(
        "service-sourceaccount-ifexists",
        with_root(
            allow(
                svc("cloudtrail.amazonaws.com"),
                "kms:GenerateDataKey*",
                cond={"StringEqualsIfExists": {"aws:SourceAccount": OWNER}},
            )
        ),
        must=(SVC,),
    ),
    case(
        "service-sourceaccount-negated",
        with_root(
            allow(
                svc("cloudtrail.amazonaws.com"),
                "kms:GenerateDataKey*",
                cond={"StringNotEquals": {"aws:SourceAccount": UNTRUSTED}},
            )
        ),
        must=(SVC,),
    ),
    case(
        "service-sourceaccount-policy-variable",
        with_root(
            allow(
                svc("cloudtrail.amazonaws.com"),
                "kms:GenerateDataKey*",
                cond={"StringEquals": {"aws:SourceAccount": "${aws:PrincipalAccount}"}},
            )
        ),
        must=(SVC,),
    ),
    case(
        "service-list-unscoped",
        with_root(
            allow(
                svc(f"logs.{REGION}.amazonaws.com", "delivery.logs.amazonaws.com"),
                "kms:GenerateDataKey*",
            )
        ),
        must=(SVC,),
        must_not=(PUBLIC,),
    ),
    case(
        "service-trusted-sourceaccount",
        with_root(
            allow(
                svc("cloudtrail.amazonaws.com"),
                "kms:GenerateDataKey*",
                cond={"StringEquals": {"aws:SourceAccount": TRUSTED}},
            )
        ),
        must_not=(SVC, CROSS),
    ),
    # ---- Only KMS actions that apply to a key count ----------------------------------------
    case("no-kms-action-s3-only", public(action="s3:GetObject"), exact=()),
    case(
        "no-kms-action-service-s3-only",
        with_root(allow(svc("s3.amazonaws.com"), ["s3:GetObject", "s3:PutObject"])),
        exact=(),
    ),
    case(
        "no-kms-action-notaction-kms-star",
        with_root({"Effect": "Allow", "Principal": "*", "NotAction": "kms:*", "Resource": "*"}),
        exact=(),
    ),
    # CreateKey, ListKeys and GenerateRandom are not authorised on a key.
    # https://docs.aws.amazon.com/kms/latest/developerguide/kms-api-permissions-reference.html
    case(
        "no-kms-key-action-account-level-only",
        public(action=["kms:CreateKey", "kms:ListKeys", "kms:GenerateRandom"]),
        must_not=(PUBLIC, CROSS, WILD),
    ),
    # ---- KMS-WILDCARD-ACTION ----------------------------------------------------------
    case(
        "wildcard-owner-role-no-admins",
        with_root(allow(aws(APP_ROLE), "kms:*", sid="App")),
        must=(WILD,),
        must_not=(PUBLIC, CROSS),
    ),
    case(
        "wildcard-keyadmin-authorised",
        with_root(allow(aws(KEY_ADMIN), "kms:*", sid="Admin")),
        must=(SOD,),
        must_not=(WILD, *DESTRUCTIVE),
        ctx=CTX_ADMIN,
    ),
    case(
        "wildcard-other-role-with-admins-configured",
        with_root(allow(aws(APP_ROLE), "kms:*", sid="App")),
        must=(WILD, *DESTRUCTIVE),
        ctx=CTX_ADMIN,
    ),
    case(
        "wildcard-admin-pattern-with-path",
        with_root(allow(aws(f"arn:aws:iam::{OWNER}:role/admins/Bob"), "kms:*")),
        must_not=(WILD, SCHEDULE, PUT_POLICY),
        ctx=Context(
            owner_account=OWNER,
            trusted_accounts=frozenset({TRUSTED}),
            org_id=ORG,
            admins=(f"arn:aws:iam::{OWNER}:role/admins/*",),
        ),
    ),
    case(
        "wildcard-admin-pattern-question-mark",
        with_root(allow(aws(f"arn:aws:iam::{OWNER}:role/KeyAdmin1"), "kms:*")),
        must_not=(WILD, PUT_POLICY),
        ctx=Context(owner_account=OWNER, admins=(f"arn:aws:iam::{OWNER}:role/KeyAdmin?",)),
    ),
    # IAM Identity Center roles are named in key policies by aws:PrincipalArn patterns, since
    # their suffix changes when re-created
    # (https://docs.aws.amazon.com/singlesignon/latest/userguide/referencingpermissionsets.html):
    # "*" under such a pattern is the roles it matches, not the whole account.
    case(
        "sso-admin-and-user-patterns-authorised-and-apart",
        with_root(
            allow("*", CONSOLE_ADMIN_ACTIONS, sid="Admins",
                  cond={"ArnLike": {"aws:PrincipalArn": SSO_ADMINS}}),
            allow("*", KEY_USER_ACTIONS, sid="Users",
                  cond={"ArnLike": {"aws:PrincipalArn": SSO_USERS}}),
        ),
        exact=(NO_VIA,),
        ctx=Context(owner_account=OWNER, admins=(SSO_ADMINS,)),
    ),
    case(
        "sso-admin-pattern-not-configured-is-unauthorised",
        with_root(allow("*", CONSOLE_ADMIN_ACTIONS, sid="Admins",
                        cond={"ArnLike": {"aws:PrincipalArn": SSO_ADMINS}})),
        must=(PUT_POLICY, SCHEDULE),
        ctx=CTX_ADMIN,
    ),
    case(
        "named-admin-apart-from-a-user-pattern",
        with_root(
            allow(aws(KEY_ADMIN), CONSOLE_ADMIN_ACTIONS, sid="Admin"),
            allow("*", KEY_USER_ACTIONS, sid="AppRoles",
                  cond={"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{OWNER}:role/app-*"}}),
        ),
        must_not=(SOD, *DESTRUCTIVE),
        ctx=CTX_ADMIN,
    ),
    # Two patterns some role matches both of (role/team-app-x) hold both kinds of rights.
    case(
        "overlapping-admin-and-user-patterns-hold-both",
        with_root(
            allow("*", CONSOLE_ADMIN_ACTIONS, sid="Team",
                  cond={"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{OWNER}:role/team-*"}}),
            allow("*", KEY_USER_ACTIONS, sid="Apps",
                  cond={"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{OWNER}:role/*-app-*"}}),
        ),
        must=(SOD,),
        ctx=Context(owner_account=OWNER, admins=(f"arn:aws:iam::{OWNER}:role/team-*",)),
    ),
    # A "?" of an administrator pattern stands for one character, where the grant's "*" may
    # stand for many: role/KeyAdmin? does not hold all of role/KeyAdmin*.
    case(
        "admin-pattern-with-question-mark-does-not-hold-a-wider-pattern",
        with_root(allow("*", "kms:PutKeyPolicy", sid="Admins",
                        cond={"ArnLike": {"aws:PrincipalArn": f"{KEY_ADMIN}*"}})),
        must=(PUT_POLICY,),
        ctx=Context(owner_account=OWNER, admins=(f"{KEY_ADMIN}?",)),
    ),
    # Two conditions on one Allow both hold: the pattern and the exact role it matches.
    case(
        "pattern-and-exact-arn-on-one-allow-keep-the-role",
        with_root(allow("*", "kms:*", sid="Both", cond={
            "ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{OWNER}:role/*"},
            "ArnEquals": {"aws:PrincipalArn": APP_ROLE}})),
        must=(PUT_POLICY, SOD),
        ctx=CTX_ADMIN,
    ),
    case(
        "wildcard-star-action-trusted-role",
        with_root(allow(aws(TRUSTED_ROLE), "*")),
        must=(WILD,),
        must_not=(CROSS, PUBLIC),
    ),
    case(
        "wildcard-mixed-case-list",
        with_root(allow(aws(APP_ROLE), ["KMS:*"])),
        must=(WILD,),
    ),
    case(
        "wildcard-trusted-root",
        with_root(allow(aws(TRUSTED_ROOT), "kms:*")),
        must=(WILD,),
        must_not=(CROSS, PUBLIC),
    ),
    case(
        "wildcard-star-pinned-to-owner-account",
        with_root(allow("*", "kms:*", cond={"StringEquals": {"aws:PrincipalAccount": OWNER}})),
        must=(WILD,),
        must_not=(PUBLIC, CROSS),
    ),
    # NotAction "s3:*" allows every KMS action.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html
    case(
        "wildcard-notaction-other-service",
        with_root(
            {"Effect": "Allow", "Principal": aws(APP_ROLE), "NotAction": "s3:*", "Resource": "*"}
        ),
        must=(WILD, *DESTRUCTIVE),
    ),
    case(
        "wildcard-kms-star-among-others",
        with_root(allow(aws(APP_ROLE), ["kms:Decrypt", "kms:*"])),
        must=(WILD,),
    ),
    case(
        "wildcard-bare-owner-id-is-root",
        doc(allow(aws(OWNER), "kms:*", sid="Account")),
        exact=(),
    ),
    case(
        "wildcard-decrypt-star-is-not-all-actions",
        with_root(allow(aws(APP_ROLE), "kms:Decrypt*")),
        must_not=(WILD,),
    ),
    # ---- IAM-KMS-1: the owner root must be able to call kms:PutKeyPolicy --------------------
    case(
        "lockout-no-root-statement",
        doc(
            allow(aws(KEY_ADMIN), CONSOLE_ADMIN_ACTIONS),
            allow(aws(KEY_USER), KEY_USER_ACTIONS),
        ),
        must=(LOCKOUT,),
        ctx=CTX_ADMIN,
    ),
    case(
        "lockout-root-decrypt-only",
        doc(allow(aws(OWNER_ROOT), "kms:Decrypt", sid="RootDecrypt")),
        must=(LOCKOUT,),
        must_not=(NO_VIA, SOD),
    ),
    case(
        "lockout-root-under-mfa-condition",
        doc(
            allow(
                aws(OWNER_ROOT),
                "kms:*",
                cond={"Bool": {"aws:MultiFactorAuthPresent": "true"}},
            )
        ),
        must=(LOCKOUT,),
    ),
    case(
        "lockout-root-under-viaservice-condition",
        doc(
            allow(
                aws(OWNER_ROOT),
                "kms:*",
                cond={"StringEquals": {"kms:ViaService": f"ec2.{REGION}.amazonaws.com"}},
            )
        ),
        must=(LOCKOUT,),
    ),
    case(
        "lockout-root-under-sourceip-condition",
        doc(
            allow(aws(OWNER_ROOT), "kms:*", cond={"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})
        ),
        must=(LOCKOUT,),
    ),
    case(
        "lockout-root-grant-expired",
        doc(
            allow(
                aws(OWNER_ROOT),
                "kms:*",
                cond={"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}},
            )
        ),
        must=(LOCKOUT,),
    ),
    # aws:PrincipalAccount is always the owner for the owner root: this condition cannot fail.
    case(
        "no-lockout-root-pinned-to-own-account",
        doc(
            allow(aws(OWNER_ROOT), "kms:*", cond={"StringEquals": {"aws:PrincipalAccount": OWNER}})
        ),
        must_not=(LOCKOUT,),
    ),
    case(
        "lockout-star-only",
        doc(allow("*", "kms:*", sid="Everyone")),
        must=(LOCKOUT, PUBLIC, WILD),
    ),
    case(
        "lockout-root-putkeypolicy-denied",
        doc(ROOT, deny("*", "kms:PutKeyPolicy", sid="NoPolicyChanges")),
        must=(LOCKOUT,),
    ),
    case(
        "lockout-deny-all",
        doc(ROOT, allow("*", "kms:Decrypt"), deny("*", "kms:*", sid="Freeze")),
        must=(LOCKOUT,),
        must_not=(PUBLIC,),
    ),
    # A Deny naming only App takes nothing from the owner root.
    case(
        "lockout-deny-all-but-keyadmin-by-arn",
        doc(
            ROOT,
            deny("*", "kms:PutKeyPolicy", cond={"ArnNotEquals": {"aws:PrincipalArn": KEY_ADMIN}}),
        ),
        must=(LOCKOUT,),
    ),
    case(
        "lockout-notprincipal-deny-all-but-keyadmin",
        doc(
            ROOT,
            {
                "Effect": "Deny",
                "NotPrincipal": aws(KEY_ADMIN),
                "Action": "kms:PutKeyPolicy",
                "Resource": "*",
            },
        ),
        must=(LOCKOUT,),
    ),
    # A Deny only takes access away: narrowing the owner root's statement with a Deny
    # ("only KeyAdmin may schedule deletion") must not make the owner root unauthorised.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
    case(
        "deny-only-keyadmin-schedules-deletion-keeps-root-authorised",
        doc(
            ROOT,
            deny(
                "*",
                "kms:ScheduleKeyDeletion",
                sid="OnlyKeyAdminDeletes",
                cond={"ArnNotEquals": {"aws:PrincipalArn": KEY_ADMIN}},
            ),
        ),
        must_not=(WILD, SOD, NO_VIA, *DESTRUCTIVE, PUBLIC, CROSS),
    ),
    case(
        "no-lockout-deny-putkeypolicy-other-principal",
        doc(ROOT, deny(aws(APP_ROLE), "kms:PutKeyPolicy")),
        exact=(),
    ),
    case(
        "no-lockout-root-put-wildcard",
        doc(allow(aws(OWNER_ROOT), ["kms:Put*", "kms:Describe*"])),
        must_not=(LOCKOUT,),
    ),
    case(
        "no-lockout-root-notaction",
        doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": OWNER_ROOT},
                "NotAction": "kms:Decrypt",
                "Resource": "*",
            }
        ),
        must_not=(LOCKOUT,),
    ),
    case(
        "no-lockout-root-in-principal-list",
        doc(allow(aws(OWNER_ROOT, KEY_ADMIN), "kms:*")),
        must_not=(LOCKOUT,),
        ctx=CTX_ADMIN,
    ),
    case(
        "no-lockout-root-mixed-case-action",
        doc(allow(aws(OWNER_ROOT), ["KMS:PutKeyPolicy", "kms:describekey"])),
        must_not=(LOCKOUT,),
    ),
    case(
        "notprincipal-deny-all-but-root",
        doc(
            ROOT,
            allow(aws(APP_ROLE), "kms:PutKeyPolicy", sid="AppPolicy"),
            {
                "Sid": "OnlyRootChangesPolicy",
                "Effect": "Deny",
                "NotPrincipal": {"AWS": [OWNER_ROOT]},
                "Action": "kms:PutKeyPolicy",
                "Resource": "*",
            },
        ),
        must_not=(PUT_POLICY, LOCKOUT),
    ),
    # ---- IAM-KMS-2/3/4/5/7: destructive actions to unauthorised principals -----------------
    case(
        "destructive-delete-imported-key-material",
        with_root(allow(aws(APP_ROLE), "kms:DeleteImportedKeyMaterial")),
        exact=(DEL_IMPORTED,),
    ),
    case(
        "destructive-schedule-key-deletion",
        with_root(allow(aws(APP_ROLE), "kms:ScheduleKeyDeletion")),
        exact=(SCHEDULE,),
    ),
    case(
        "destructive-disable-key",
        with_root(allow(aws(APP_ROLE), "kms:DisableKey")),
        exact=(DISABLE,),
    ),
    case(
        "destructive-put-key-policy",
        with_root(allow(aws(APP_ROLE), "kms:PutKeyPolicy")),
        exact=(PUT_POLICY,),
    ),
    case(
        "destructive-disable-key-rotation",
        with_root(allow(aws(APP_ROLE), "kms:DisableKeyRotation")),
        exact=(DISABLE_ROT,),
    ),
    case(
        "destructive-disable-wildcard",
        with_root(allow(aws(APP_ROLE), "kms:Disable*")),
        exact=(DISABLE, DISABLE_ROT),
    ),
    case(
        "destructive-leading-wildcard-action",
        with_root(allow(aws(APP_ROLE), "kms:*Deletion")),
        exact=(SCHEDULE,),
    ),
    case(
        "destructive-question-mark-action",
        with_root(allow(aws(APP_ROLE), "kms:?isableKey")),
        exact=(DISABLE,),
    ),
    case(
        "destructive-denied-to-same-role",
        doc(
            ROOT,
            allow(aws(APP_ROLE), ["kms:ScheduleKeyDeletion", "kms:DescribeKey"]),
            deny(aws(APP_ROLE), "kms:Schedule*"),
        ),
        exact=(),
    ),
    case(
        "destructive-removed-by-deny-notaction",
        doc(
            ROOT,
            allow(aws(APP_ROLE), "kms:*"),
            {
                "Effect": "Deny",
                "Principal": aws(APP_ROLE),
                "NotAction": "kms:Decrypt",
                "Resource": "*",
            },
        ),
        must_not=DESTRUCTIVE,
    ),
    case(
        "destructive-notaction-leaves-them",
        with_root(
            {
                "Effect": "Allow",
                "Principal": {"AWS": APP_ROLE},
                "NotAction": KEY_USER_ACTIONS,
                "Resource": "*",
            }
        ),
        must=DESTRUCTIVE,
    ),
    case(
        "destructive-public-disable-key",
        public(action="kms:DisableKey"),
        must=(DISABLE, PUBLIC),
    ),
    case(
        "destructive-untrusted-put-key-policy",
        with_root(allow(aws(UNTRUSTED_ROOT), "kms:PutKeyPolicy")),
        must=(PUT_POLICY, CROSS),
    ),
    case(
        "destructive-keyadmin-authorised",
        with_root(
            allow(
                aws(KEY_ADMIN),
                [
                    "kms:DeleteImportedKeyMaterial",
                    "kms:ScheduleKeyDeletion",
                    "kms:DisableKey",
                    "kms:PutKeyPolicy",
                    "kms:DisableKeyRotation",
                ],
            )
        ),
        exact=(),
        ctx=CTX_ADMIN,
    ),
    # ---- IAM-KMS-6: cryptographic use without kms:ViaService --------------------------------
    case(
        "crypto-role-decrypt-direct",
        with_root(allow(aws(APP_ROLE), ["kms:Decrypt", "kms:Encrypt"])),
        exact=(NO_VIA,),
    ),
    case(
        "crypto-role-viaservice",
        with_root(
            allow(
                aws(APP_ROLE),
                ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"],
                cond={"StringEquals": {"kms:ViaService": f"dynamodb.{REGION}.amazonaws.com"}},
            )
        ),
        exact=(),
    ),
    case(
        "crypto-role-viaservice-negated",
        with_root(
            allow(
                aws(APP_ROLE),
                "kms:Decrypt",
                cond={"StringNotEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}},
            )
        ),
        must=(NO_VIA,),
    ),
    # With ...IfExists, a direct call (no kms:ViaService in the request) is allowed too.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IfExists
    case(
        "crypto-role-viaservice-ifexists",
        with_root(
            allow(
                aws(APP_ROLE),
                "kms:Decrypt",
                cond={"StringEqualsIfExists": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}},
            )
        ),
        must=(NO_VIA,),
    ),
    case(
        "crypto-role-sign-verify",
        with_root(allow(aws(APP_ROLE), ["kms:Sign", "kms:Verify", "kms:GetPublicKey"])),
        must=(NO_VIA,),
    ),
    case(
        "crypto-role-generate-data-key-wildcard",
        with_root(allow(aws(APP_ROLE), "kms:GenerateDataKey*")),
        must=(NO_VIA,),
    ),
    case(
        "crypto-role-describe-only",
        with_root(allow(aws(APP_ROLE), ["kms:DescribeKey", "kms:GetKeyRotationStatus"])),
        exact=(),
    ),
    # ---- IAM-KMS-8: separation of duties ----------------------------------------------------
    case(
        "duties-same-statement",
        with_root(allow(aws(APP_ROLE), ["kms:Decrypt", "kms:PutKeyPolicy"])),
        must=(SOD,),
    ),
    case(
        "duties-across-statements",
        with_root(
            allow(aws(APP_ROLE), ["kms:EnableKey", "kms:UpdateKeyDescription"], sid="Manage"),
            allow({"AWS": [APP_ROLE]}, "kms:Encrypt", sid="Use"),
        ),
        must=(SOD,),
    ),
    case(
        "duties-admin-right-denied",
        doc(
            ROOT,
            allow(aws(APP_ROLE), ["kms:PutKeyPolicy", "kms:Decrypt"]),
            deny(aws(APP_ROLE), "kms:PutKeyPolicy"),
        ),
        must_not=(SOD, PUT_POLICY),
    ),
    # The account root ARN and the bare 12-digit id name the same principal.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts
    case(
        "duties-account-written-two-ways",
        with_root(
            allow(aws(TRUSTED_ROOT), "kms:PutKeyPolicy", sid="Manage"),
            allow(aws(TRUSTED), "kms:Decrypt", sid="Use"),
        ),
        must=(SOD, PUT_POLICY),
        must_not=(CROSS,),
    ),
    case(
        "duties-separate-principals",
        with_root(
            allow(aws(KEY_ADMIN), ["kms:EnableKey", "kms:UpdateKeyDescription"], sid="Manage"),
            allow(aws(APP_ROLE), "kms:Encrypt", sid="Use"),
        ),
        must_not=(SOD,),
    ),
    # Read-only Describe*/List*/Get* are not key administration (GetParametersForImport is a
    # read-only call: CloudTrail records it with "readOnly": true).
    # https://docs.aws.amazon.com/kms/latest/developerguide/ct-getparametersforimport.html
    case(
        "duties-readonly-plus-crypto",
        with_root(allow(aws(APP_ROLE), ["kms:Describe*", "kms:List*", "kms:Get*", "kms:Decrypt"])),
        must_not=(SOD,),
    ),
    case(
        "duties-tagresource-plus-encrypt",
        with_root(allow(aws(APP_ROLE), ["kms:TagResource", "kms:Encrypt"])),
        must=(SOD,),
    ),
    case(
        "duties-createalias-plus-decrypt",
        with_root(allow(aws(APP_ROLE), ["kms:CreateAlias", "kms:Decrypt"])),
        must=(SOD,),
    ),
    # ---- Deny subtraction ---------------------------------------------------------------
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
    case(
        "deny-outside-owner-account-removes-public",
        doc(
            ROOT,
            allow("*", ["kms:Decrypt", "kms:Encrypt"], sid="Public"),
            deny(
                "*",
                "kms:*",
                sid="DenyOutsiders",
                cond={"StringNotEquals": {"aws:PrincipalAccount": OWNER}},
            ),
        ),
        must_not=(PUBLIC, CROSS),
    ),
    case(
        "deny-outside-owner-and-trusted-removes-public",
        doc(
            ROOT,
            allow({"AWS": "*"}, "kms:Decrypt", sid="Public"),
            deny(
                {"AWS": "*"},
                "kms:*",
                cond={"StringNotEquals": {"aws:PrincipalAccount": [OWNER, TRUSTED]}},
            ),
        ),
        must_not=(PUBLIC, CROSS),
    ),
    case(
        "deny-outside-org-removes-public",
        doc(
            ROOT,
            allow("*", "kms:Decrypt", sid="Public"),
            deny("*", "kms:*", cond={"StringNotEquals": {"aws:PrincipalOrgID": ORG}}),
        ),
        must_not=(PUBLIC, CROSS),
    ),
    case(
        "deny-outside-calleraccount-action-star-removes-public",
        doc(
            ROOT,
            allow("*", "kms:Decrypt", sid="Public"),
            deny("*", "*", cond={"StringNotEquals": {"kms:CallerAccount": OWNER}}),
        ),
        must_not=(PUBLIC, CROSS),
    ),
    # Every outsider's aws:PrincipalArn is outside arn:aws:iam::OWNER:*, so all are denied.
    case(
        "deny-arnnotlike-owner-arns-removes-public",
        doc(
            ROOT,
            allow("*", "kms:Decrypt", sid="Public"),
            deny(
                "*",
                "kms:*",
                cond={"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{OWNER}:*"}},
            ),
        ),
        must_not=(PUBLIC,),
    ),
    case(
        "deny-notaction-outside-owner-removes-public",
        doc(
            ROOT,
            allow("*", "kms:Decrypt", sid="Public"),
            {
                "Effect": "Deny",
                "Principal": "*",
                "NotAction": "kms:Describe*",
                "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:PrincipalAccount": OWNER}},
            },
        ),
        must_not=(PUBLIC,),
    ),
    # Conditions in a Deny are ANDed: the outsider who meets one of them avoids the Deny.
    case(
        "deny-outsiders-only-without-tls-avoidable",
        doc(
            ROOT,
            allow("*", "kms:Decrypt", sid="Public"),
            deny(
                "*",
                "kms:*",
                cond={
                    "StringNotEquals": {"aws:PrincipalAccount": OWNER},
                    "Bool": {"aws:SecureTransport": "false"},
                },
            ),
        ),
        must=(PUBLIC,),
    ),
    case(
        "deny-outsiders-only-outside-s3-avoidable",
        doc(
            ROOT,
            allow("*", "kms:Decrypt", sid="Public"),
            deny(
                "*",
                "kms:*",
                cond={
                    "StringNotEquals": {
                        "aws:PrincipalAccount": OWNER,
                        "kms:ViaService": f"s3.{REGION}.amazonaws.com",
                    }
                },
            ),
        ),
        must=(PUBLIC,),
    ),
    # ForAnyValue is false when the key is absent, so callers outside any organisation (no
    # aws:PrincipalOrgPaths) are not denied; ForAllValues is true then, so everyone outside the
    # owner's organisation is denied.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition_examples-multi-valued-context-keys.html
    case(
        "deny-foranyvalue-notlike-orgpaths-avoidable",
        doc(
            ROOT,
            allow("*", "kms:Decrypt", sid="Public"),
            deny(
                "*",
                "kms:*",
                cond={"ForAnyValue:StringNotLike": {"aws:PrincipalOrgPaths": f"{ORG}/*"}},
            ),
        ),
        must=(PUBLIC,),
    ),
    case(
        "deny-forallvalues-notlike-orgpaths-removes-public",
        doc(
            ROOT,
            allow("*", "kms:Decrypt", sid="Public"),
            deny(
                "*",
                "kms:*",
                cond={"ForAllValues:StringNotLike": {"aws:PrincipalOrgPaths": f"{ORG}/*"}},
            ),
        ),
        must_not=(PUBLIC,),
    ),
    # StringNotEqualsIfExists in a Deny also denies when the key is absent: stricter still.
    case(
        "deny-notequals-ifexists-removes-public",
        doc(
            ROOT,
            allow("*", "kms:Decrypt", sid="Public"),
            deny(
                "*",
                "kms:*",
                cond={"StringNotEqualsIfExists": {"aws:PrincipalAccount": OWNER}},
            ),
        ),
        must_not=(PUBLIC,),
    ),
    case(
        "deny-partial-actions-keeps-rest-public",
        doc(
            ROOT,
            allow("*", ["kms:Decrypt", "kms:Encrypt"], sid="Public"),
            deny(
                "*",
                "kms:Decrypt",
                sid="DenyDecryptOutside",
                cond={"StringNotEquals": {"aws:PrincipalAccount": OWNER}},
            ),
        ),
        must=(PUBLIC,),
    ),
    # A Deny on other actions or other resources leaves the key's kms:Decrypt alone.
    case(
        "deny-notaction-kms-star-keeps-public",
        doc(
            ROOT,
            allow("*", "kms:Decrypt", sid="Public"),
            {
                "Effect": "Deny",
                "Principal": "*",
                "NotAction": "kms:*",
                "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:PrincipalAccount": OWNER}},
            },
        ),
        must=(PUBLIC,),
    ),
    case(
        "deny-s3-actions-keeps-public",
        doc(
            ROOT,
            allow("*", "kms:Decrypt", sid="Public"),
            deny("*", "s3:*", cond={"StringNotEquals": {"aws:PrincipalAccount": OWNER}}),
        ),
        must=(PUBLIC,),
    ),
    case(
        "deny-other-resource-keeps-public",
        doc(
            ROOT,
            allow("*", "kms:Decrypt", sid="Public"),
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "kms:*",
                "Resource": "arn:aws:s3:::other-bucket",
                "Condition": {"StringNotEquals": {"aws:PrincipalAccount": OWNER}},
            },
        ),
        must=(PUBLIC,),
    ),
    # The attacker controls these keys, so a Deny conditioned only on them is avoidable.
    case(
        "deny-securetransport-avoidable",
        doc(
            ROOT,
            allow("*", "kms:Decrypt", sid="Public"),
            deny("*", "kms:*", cond={"Bool": {"aws:SecureTransport": "false"}}),
        ),
        must=(PUBLIC,),
    ),
    case(
        "deny-viaservice-avoidable",
        doc(
            ROOT,
            allow("*", "kms:Decrypt", sid="Public"),
            deny(
                "*",
                "kms:*",
                cond={"StringNotEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}},
            ),
        ),
        must=(PUBLIC,),
    ),
    case(
        "deny-encryption-context-avoidable",
        doc(
            ROOT,
            allow("*", "kms:Decrypt", sid="Public"),
            deny("*", "kms:*", cond={"Null": {"kms:EncryptionContext:Department": "true"}}),
        ),
        must=(PUBLIC,),
    ),
    # A Deny's condition on a key only some actions' requests carry reads, for the other
    # actions, as on a missing key (conditions-kms.html lists each key's operations;
    # reference_policies_condition-single-vs-multi-valued-context-keys.html: a negated
    # operator holds where the key is missing). PutKeyPolicy carries no encryption context,
    # so this Deny certainly denies it to everyone, while Decrypt stays open to "*".
    case(
        "deny-negated-encryption-context-certainly-covers-management",
        doc(
            ROOT,
            allow("*", "kms:*", sid="Public"),
            deny("*", "kms:*",
                 cond={"StringNotEquals": {"kms:EncryptionContext:Department": "Finance"}}),
        ),
        must=(PUBLIC,),
        must_not=(*DESTRUCTIVE, SOD),
    ),
    case(
        "deny-if-exists-grant-flag-certainly-covers-all-but-grants",
        doc(
            ROOT,
            allow("*", "kms:*", sid="Public"),
            deny("*", "kms:*", cond={"BoolIfExists": {"kms:GrantIsForAWSResource": "false"}}),
        ),
        must=(PUBLIC, LOCKOUT),  # grants stay open (made through a service: "true")
        must_not=(*DESTRUCTIVE, SOD),
    ),
    # ... and a positive one never holds there: the Deny leaves management alone.
    case(
        "deny-positive-encryption-context-never-covers-management",
        doc(
            ROOT,
            allow("*", "kms:*", sid="Public"),
            deny("*", "kms:*",
                 cond={"ForAnyValue:StringEquals": {"kms:EncryptionContextKeys": "Dept"}}),
        ),
        must=(PUBLIC, PUT_POLICY, SOD),
    ),
    # ---- what the owner root's own plain request meets ---------------------------------------
    # The root calls PutKeyPolicy directly, over TLS, without bypassing the lockout safety
    # check: a Deny that holds only otherwise does not lock it out, and an Allow whose
    # condition that request meets still grants it.
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-bypass-policy-lockout-safety-check
    case(
        "no-lockout-deny-only-when-bypassing-the-safety-check",
        doc(ROOT, deny("*", "kms:PutKeyPolicy",
                       cond={"Bool": {"kms:BypassPolicyLockoutSafetyCheck": "true"}})),
        exact=(),
    ),
    case(
        "no-lockout-deny-without-tls",
        doc(ROOT, deny("*", "kms:*", cond={"Bool": {"aws:SecureTransport": "false"}})),
        exact=(),
    ),
    # The root user's aws:PrincipalType is "Account"
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html#principaltable).
    case(
        "no-lockout-deny-for-every-principal-type-but-the-account",
        doc(ROOT, deny("*", "kms:PutKeyPolicy",
                       cond={"StringNotEquals": {"aws:PrincipalType": "Account"}})),
        must_not=(LOCKOUT,),
    ),
    # kms:ViaService is absent from a direct call: IfExists holds, a plain match does not.
    case(
        "no-lockout-root-viaservice-ifexists",
        doc(allow(aws(OWNER_ROOT), "kms:*", sid="Root", cond={
            "StringEqualsIfExists": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}})),
        must_not=(LOCKOUT,),
    ),
    case(
        "lockout-root-only-through-a-service",
        doc(allow(aws(OWNER_ROOT), "kms:*", sid="Root", cond={
            "StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}})),
        must=(LOCKOUT,),
    ),
    case(
        "no-lockout-deny-only-through-a-service",
        doc(ROOT, deny("*", "kms:PutKeyPolicy", cond={
            "StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}})),
        must_not=(LOCKOUT,),
    ),
    # Neither a service's call nor a call through one: aws:ViaAWSService and
    # aws:PrincipalIsAWSService are false for the root's own request, and
    # aws:PrincipalServiceName is absent from it
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
    *[
        case(
            f"no-lockout-deny-only-for-{name}",
            doc(ROOT, deny("*", "kms:*", cond=cond)),
            must_not=(LOCKOUT,),
        )
        for name, cond in (
            ("calls-through-a-service", {"Bool": {"aws:ViaAWSService": "true"}}),
            ("service-principals", {"Bool": {"aws:PrincipalIsAWSService": "true"}}),
            ("cloudtrail", {"StringEquals": {"aws:PrincipalServiceName":
                                             "cloudtrail.amazonaws.com"}}),
            ("a-service-list", {"ForAnyValue:StringEquals": {
                "aws:PrincipalServiceNamesList": "cloudtrail.amazonaws.com"}}),
        )
    ],
    case(
        "no-lockout-root-allowed-without-a-service-list",
        doc(allow(aws(OWNER_ROOT), "kms:*", sid="Root",
                  cond={"Null": {"aws:PrincipalServiceNamesList": "true"}})),
        must_not=(LOCKOUT,),
    ),
    # The root may also leave BypassPolicyLockoutSafetyCheck out of its request, which then
    # lacks the key: AWS's own example allows PutKeyPolicy "only when the request does not
    # include the BypassPolicyLockoutSafetyCheck parameter" with Null "true"
    # (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-bypass-policy-lockout-safety-check).
    case(
        "no-lockout-root-put-key-policy-only-without-the-bypass-parameter",
        doc(
            {"Sid": "Root", "Effect": "Allow", "Principal": aws(OWNER_ROOT),
             "NotAction": "kms:PutKeyPolicy", "Resource": "*"},
            allow(aws(OWNER_ROOT), "kms:PutKeyPolicy", sid="RootPut",
                  cond={"Null": {"kms:BypassPolicyLockoutSafetyCheck": "true"}}),
        ),
        exact=(),
    ),
    case(
        "no-lockout-deny-whenever-the-bypass-parameter-is-sent",
        doc(ROOT, deny("*", "kms:PutKeyPolicy",
                       cond={"Null": {"kms:BypassPolicyLockoutSafetyCheck": "false"}})),
        exact=(),
    ),
    # Each of the two requests is denied by one statement or not granted by the other.
    case(
        "lockout-root-granted-only-without-the-parameter-denied-exactly-then",
        doc(
            allow(aws(OWNER_ROOT), "kms:*", sid="Root",
                  cond={"Null": {"kms:BypassPolicyLockoutSafetyCheck": "true"}}),
            deny("*", "kms:PutKeyPolicy",
                 cond={"Null": {"kms:BypassPolicyLockoutSafetyCheck": "true"}}),
        ),
        must=(LOCKOUT,),
    ),
    # The root user has no principal tags (aws:PrincipalTag is "included in the request
    # context if the principal is using an IAM user with attached tags" or a tagged role), and
    # PutKeyPolicy carries no request tags: a positive condition on either never holds for the
    # root's call, a negated one always does
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
    *[
        case(
            f"no-lockout-deny-only-for-{name}",
            doc(ROOT, deny("*", "kms:*", cond=cond)),
            must_not=(LOCKOUT,),
        )
        for name, cond in (
            ("tagged-principals", {"StringEquals": {"aws:PrincipalTag/blocked": "true"}}),
            ("requests-with-a-tag", {"StringLike": {"aws:RequestTag/env": "*"}}),
            ("requests-with-tag-keys", {"ForAnyValue:StringEquals": {"aws:TagKeys": "env"}}),
        )
    ],
    case(
        "lockout-deny-for-principals-without-a-tag",
        doc(ROOT, deny("*", "kms:*", cond={
            "StringNotEquals": {"aws:PrincipalTag/admin": "true"}})),
        must=(LOCKOUT,),
    ),
    case(
        "no-lockout-root-allowed-when-not-a-service",
        doc(allow(aws(OWNER_ROOT), "kms:*", sid="Root",
                  cond={"Bool": {"aws:PrincipalIsAWSService": "false"}})),
        must_not=(LOCKOUT,),
    ),
    # NotPrincipal "*" spares everyone: that Deny denies nobody, the root included.
    case(
        "no-lockout-deny-notprincipal-everyone",
        doc(ROOT, not_principal_deny(aws("*"), "kms:*")),
        must_not=(LOCKOUT,),
    ),
    # A session of an administrator role is that administrator acting.
    case(
        "admin-role-session-is-authorised",
        doc(ROOT, allow(aws(f"arn:aws:sts::{OWNER}:assumed-role/KeyAdmin/alice"),
                        ["kms:ScheduleKeyDeletion", "kms:DisableKey"], sid="AdminSession")),
        must_not=DESTRUCTIVE,
        ctx=CTX_ADMIN,
    ),
    case(
        "other-role-session-is-not-authorised",
        doc(ROOT, allow(aws(f"arn:aws:sts::{OWNER}:assumed-role/App/alice"),
                        ["kms:ScheduleKeyDeletion"], sid="AppSession")),
        must=(SCHEDULE,),
        ctx=CTX_ADMIN,
    ),
    # ---- kms:* and separation of duties after the Denies and conditions ----------------------
    # What the Denies leave is what a principal holds: a role denied all but two actions no
    # longer holds every action
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html).
    case(
        "wildcard-action-narrowed-by-a-deny-is-not-every-action",
        doc(
            ROOT,
            allow(aws(APP_ROLE), "kms:*", sid="App"),
            {"Effect": "Deny", "Principal": aws(APP_ROLE), "NotAction": ["kms:Encrypt",
                                                                        "kms:Decrypt"],
             "Resource": "*"},
        ),
        must_not=(WILD,),
    ),
    # The Deny holds only outside the organisation: members of it still hold every action.
    case(
        "wildcard-action-split-by-a-conditional-deny-is-still-every-action",
        doc(
            ROOT,
            allow("*", "kms:*", sid="Account",
                  cond={"StringEquals": {"kms:CallerAccount": OWNER}}),
            deny("*", "kms:Decrypt", cond={"StringNotEquals": {"aws:PrincipalOrgID": ORG}}),
        ),
        must=(WILD,),
    ),
    # "*" left by a condition to one principal is that principal, for IAM-KMS-8 as anywhere.
    case(
        "duties-star-pinned-to-two-different-roles",
        doc(
            ROOT,
            allow("*", "kms:EnableKey", sid="Manage",
                  cond={"ArnEquals": {"aws:PrincipalArn": KEY_ADMIN}}),
            allow("*", "kms:Decrypt", sid="Use",
                  cond={"ArnEquals": {"aws:PrincipalArn": KEY_USER}}),
        ),
        must_not=(SOD,),
        ctx=CTX_ADMIN,
    ),
    case(
        "duties-star-pinned-to-a-role-named-elsewhere",
        doc(
            ROOT,
            allow("*", "kms:EnableKey", sid="Manage",
                  cond={"ArnEquals": {"aws:PrincipalArn": APP_ROLE}}),
            allow(aws(APP_ROLE), "kms:Decrypt", sid="Use"),
        ),
        must=(SOD,),
    ),
    case(
        "duties-star-pinned-to-two-different-accounts",
        doc(
            ROOT,
            allow("*", "kms:EnableKey", sid="Manage",
                  cond={"StringEquals": {"kms:CallerAccount": OWNER}}),
            allow("*", "kms:Decrypt", sid="Use",
                  cond={"StringEquals": {"kms:CallerAccount": TRUSTED}}),
        ),
        must_not=(SOD,),
    ),
    case(
        "duties-star-pinned-to-one-account-twice",
        doc(
            ROOT,
            allow("*", "kms:EnableKey", sid="Manage",
                  cond={"StringEquals": {"kms:CallerAccount": OWNER}}),
            allow("*", "kms:Decrypt", sid="Use",
                  cond={"StringEquals": {"kms:CallerAccount": OWNER}}),
        ),
        must=(SOD,),
    ),
    # A class of callers holds its rights in every principal it reaches: "*" that may manage the
    # key reaches the callers another statement lets use it, and so does "*" pinned to their
    # account. (Found by the property that a Deny never adds a finding: narrowing the "*" to
    # the account made the two statements' holders the same name.)
    case(
        "duties-star-manages-and-an-account-pinned-star-uses",
        doc(
            ROOT,
            allow("*", "kms:Decrypt", sid="Use",
                  cond={"StringEquals": {"aws:PrincipalAccount": OWNER}}),
            allow("*", "kms:PutKeyPolicy", sid="Manage"),
        ),
        must=(SOD, PUBLIC),
    ),
    case(
        "duties-account-pinned-star-manages-and-a-role-of-it-uses",
        doc(
            ROOT,
            allow("*", "kms:EnableKey", sid="Manage",
                  cond={"StringEquals": {"kms:CallerAccount": OWNER}}),
            allow(aws(KEY_USER), "kms:Decrypt", sid="Use"),
        ),
        must=(SOD,),
    ),
    case(
        "duties-star-pinned-to-another-account-does-not-reach-the-role",
        doc(
            ROOT,
            allow("*", "kms:EnableKey", sid="Manage",
                  cond={"StringEquals": {"kms:CallerAccount": TRUSTED}}),
            allow(aws(KEY_USER), "kms:Decrypt", sid="Use"),
        ),
        must_not=(SOD,),
    ),
    # Another account's root stands for every principal of that account (its IAM policies pass
    # the rights on), as the owner root does for the owner's, which IAM-KMS-8 leaves aside.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-accounts
    case(
        "duties-another-accounts-root-uses-and-its-user-manages",
        with_root(
            allow(aws(UNTRUSTED_USER), "kms:PutKeyPolicy", sid="Manage"),
            allow(aws(UNTRUSTED_ROOT), "kms:Encrypt", sid="Use"),
        ),
        must=(SOD, CROSS),
    ),
    case(
        "duties-one-accounts-root-uses-and-another-accounts-user-manages",
        with_root(
            allow(aws(UNTRUSTED_USER), "kms:PutKeyPolicy", sid="Manage"),
            allow(aws(TRUSTED_ROOT), "kms:Encrypt", sid="Use"),
        ),
        must_not=(SOD,),
    ),
    case(
        "duties-another-accounts-root-does-not-reach-principals-pinned-in-others",
        with_root(
            allow("*", "kms:EnableKey", sid="Manage",
                  cond={"ArnEquals": {"aws:PrincipalArn": [KEY_ADMIN, TRUSTED_ROLE]}}),
            allow(aws(UNTRUSTED_ROOT), "kms:Encrypt", sid="Use"),
        ),
        must_not=(SOD,),
        ctx=CTX_ADMIN,
    ),
    # Principals named differently can be the same caller: a role names its sessions, an
    # aws:PrincipalArn pattern the roles it matches, a unique id anyone; the service side of
    # "*" is every service. (Review of 993d7c1: each was missed, the evaluator agreeing.)
    case(
        "duties-role-manages-and-its-session-uses",
        with_root(allow(aws(APP_ROLE), "kms:PutKeyPolicy", sid="Manage"),
                  allow(aws(APP_SESSION), "kms:Decrypt", sid="Use")),
        must=(SOD,),
    ),
    case(
        "duties-star-pinned-to-a-role-manages-and-its-session-uses",
        with_root(allow("*", "kms:PutKeyPolicy", sid="Manage",
                        cond={"ArnEquals": {"aws:PrincipalArn": APP_ROLE}}),
                  allow(aws(APP_SESSION), "kms:Decrypt", sid="Use")),
        must=(SOD,),
    ),
    case(
        "duties-what-a-deny-exemption-pattern-leaves-manages-and-a-matching-role-uses",
        doc(ROOT,
            allow("*", "kms:PutKeyPolicy", sid="Manage",
                  cond={"StringEquals": {"kms:CallerAccount": OWNER}}),
            allow(aws(f"arn:aws:iam::{OWNER}:role/AdminX"), "kms:Decrypt", sid="Use"),
            deny("*", "kms:*", cond={"ArnNotLike": {"aws:PrincipalArn": [
                f"arn:aws:iam::{OWNER}:role/Admin*", OWNER_ROOT]}})),
        must=(SOD,),
    ),
    case(
        "duties-unique-id-manages-and-a-role-uses",
        with_root(allow("*", "kms:PutKeyPolicy", sid="Manage",
                        cond={"StringEquals": {"aws:userid": "AROAEXAMPLEID:s1"}}),
                  allow(aws(APP_ROLE), "kms:Decrypt", sid="Use")),
        must=(SOD,),
    ),
    case(
        "duties-named-service-manages-and-the-service-side-of-star-uses",
        with_root(allow({"Service": "cloudtrail.amazonaws.com"}, "kms:DisableKey", sid="Manage"),
                  allow("*", "kms:Decrypt", sid="Use",
                        cond={"StringEquals": {"aws:SourceAccount": OWNER}})),
        must=(SOD,),
    ),
    case(
        "duties-one-service-manages-for-a-trail-and-uses-for-the-account",
        with_root(allow({"Service": "cloudtrail.amazonaws.com"}, "kms:DisableKey", sid="Manage",
                        cond={"StringEquals": {"aws:SourceArn":
                                               f"arn:aws:cloudtrail:{REGION}:{OWNER}:trail/t1"}}),
                  allow({"Service": "cloudtrail.amazonaws.com"}, "kms:GenerateDataKey*",
                        sid="Use", cond={"StringEquals": {"aws:SourceAccount": OWNER}})),
        must=(SOD,),
    ),
    # What two Denies' exemption patterns leave: roles admin-* may manage, roles * may use;
    # sessions of role admin-1 hold both. (Second review: inexact names never met.)
    case("duties-two-exemption-patterns-that-overlap",
         manage_and_use_left_to(f"arn:aws:iam::{TRUSTED}:role/admin-*",
                                f"arn:aws:iam::{TRUSTED}:role/*"),
         must=(SOD,)),
    case("duties-two-exemption-patterns-that-cannot-overlap",
         manage_and_use_left_to(f"arn:aws:iam::{TRUSTED}:role/admin-*",
                                f"arn:aws:iam::{TRUSTED}:role/user-*"),
         must_not=(SOD,)),
    case(
        "duties-open-star-manages-and-a-named-service-uses",
        with_root(allow("*", "kms:DisableKey", sid="Manage"),
                  allow({"Service": "cloudtrail.amazonaws.com"}, "kms:Decrypt", sid="Use")),
        must=(SOD,),
    ),
    case(
        "duties-role-manages-and-another-roles-session-uses",
        with_root(allow(aws(APP_ROLE), "kms:PutKeyPolicy", sid="Manage"),
                  allow(aws(f"arn:aws:sts::{OWNER}:assumed-role/Other/s1"), "kms:Decrypt",
                        sid="Use")),
        must_not=(SOD,),
    ),
    # aws:PrincipalArn of a role session is its role's ARN, whose path the session ARN hides:
    # an exemption for role App (under any path) spares App's sessions, never role Other's.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
    case(
        "deny-sparing-one-role-denies-another-roles-session",
        with_root(allow(aws(f"arn:aws:sts::{UNTRUSTED}:assumed-role/Other/s1"), "kms:Decrypt"),
                  deny("*", "kms:*", cond={"ArnNotEquals": {
                      "aws:PrincipalArn": [UNTRUSTED_PATH_APP, OWNER_ROOT]}})),
        must_not=(CROSS,),
    ),
    case(
        "deny-sparing-a-role-under-a-path-spares-its-session",
        with_root(allow(aws(f"arn:aws:sts::{UNTRUSTED}:assumed-role/App/s1"), "kms:Decrypt"),
                  deny("*", "kms:*", cond={"ArnNotEquals": {
                      "aws:PrincipalArn": [UNTRUSTED_PATH_APP, OWNER_ROOT]}})),
        must=(CROSS,),
    ),
    # A unique id (aws:userid) may be anyone's, the principal a Deny spares among them: bob's
    # id pinned on his account's grant is not certainly denied by a Deny sparing user/bob.
    # (Second review of this session's commits; the evaluator lets bob decrypt.)
    case(
        "deny-sparing-a-user-may-spare-a-unique-id",
        with_root(allow(aws(UNTRUSTED_ROOT), "kms:Decrypt",
                        cond={"StringEquals": {"aws:userid": "AIDAEXAMPLEBOB"}}),
                  deny("*", "kms:*", cond={"ArnNotEquals": {"aws:PrincipalArn": [
                      f"arn:aws:iam::{UNTRUSTED}:user/bob", OWNER_ROOT]}})),
        must=(CROSS,),
    ),
    # A session's aws:PrincipalArn is its role's ARN with the path the session ARN hides: a
    # pattern whose resource part does not start with "role/" may still match it.
    case(
        "deny-sparing-a-path-pattern-may-spare-a-session",
        with_root(allow(aws(f"arn:aws:sts::{UNTRUSTED}:assumed-role/App/s1"), "kms:Decrypt"),
                  deny("*", "kms:*", cond={"ArnNotLike": {"aws:PrincipalArn": [
                      f"arn:aws:iam::{UNTRUSTED}:*/team/*", OWNER_ROOT]}})),
        must=(CROSS,),
    ),
    case(
        "deny-sparing-another-roles-pattern-denies-a-session",
        with_root(allow(aws(f"arn:aws:sts::{UNTRUSTED}:assumed-role/App/s1"), "kms:Decrypt"),
                  deny("*", "kms:*", cond={"ArnNotLike": {"aws:PrincipalArn": [
                      f"arn:aws:iam::{UNTRUSTED}:role/*/Admin", OWNER_ROOT]}})),
        must_not=(CROSS,),
    ),
    # Rights belong to the principal, not to one request: from one endpoint it manages the key,
    # from another it uses it, and it holds both.
    case(
        "duties-star-split-across-two-endpoints",
        doc(
            ROOT,
            allow("*", "kms:EnableKey", sid="Manage",
                  cond={"StringEquals": {"kms:CallerAccount": OWNER,
                                         "aws:SourceVpce": "vpce-1a2b3c4d"}}),
            allow("*", "kms:Decrypt", sid="Use",
                  cond={"StringEquals": {"kms:CallerAccount": OWNER,
                                         "aws:SourceVpce": "vpce-5e6f7a8b"}}),
        ),
        must=(SOD,),
    ),
    # The admin "*" spares the user role by name (a Deny's exemption): the role is not reached.
    case(
        "duties-star-manages-all-but-the-role-that-uses",
        doc(
            ROOT,
            allow("*", "kms:EnableKey", sid="Manage",
                  cond={"StringEquals": {"kms:CallerAccount": OWNER}}),
            allow(aws(KEY_USER), "kms:Decrypt", sid="Use"),
            deny("*", "kms:EnableKey", cond={"ArnEquals": {"aws:PrincipalArn": KEY_USER}}),
        ),
        must_not=(SOD,),
    ),
    # ---- which keys a Resource names -----------------------------------------------------------
    # "*" in a key policy is this key; another account's key ARN or an alias ARN never is
    # (https://docs.aws.amazon.com/kms/latest/developerguide/cmks-in-iam-policies.html), and a
    # statement without Resource has no effect
    # (https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html).
    case(
        "deny-on-another-accounts-key-keeps-cross-account",
        doc(
            ROOT,
            allow(aws(UNTRUSTED_ROOT), "kms:Decrypt", sid="Share"),
            on(deny("*", "kms:*"), f"arn:aws:kms:{REGION}:999999999999:key/{KEY_ID}"),
        ),
        must=(CROSS,),
        must_not=(LOCKOUT,),
    ),
    # An Allow on keys of another account only grants nothing on this one.
    case(
        "allow-on-another-accounts-key-grants-nothing-here",
        doc(ROOT, on(allow("*", "kms:Decrypt", sid="Public"),
                     f"arn:aws:kms:{REGION}:{UNTRUSTED}:key/{KEY_ID}")),
        exact=(),
    ),
    case(
        "allow-on-any-key-of-another-account-grants-nothing-here",
        doc(ROOT, on(allow(aws(UNTRUSTED_ROOT), ["kms:Decrypt", "kms:PutKeyPolicy"],
                           sid="Share"), f"arn:aws:kms:*:{UNTRUSTED}:key/*")),
        exact=(),
    ),
    case(
        "allow-on-own-account-key-arn-is-taken-to-be-this-key",
        doc(ROOT, on(allow("*", "kms:Decrypt", sid="Public"),
                     f"arn:aws:kms:{REGION}:{OWNER}:key/{KEY_ID}")),
        must=(PUBLIC,),
    ),
    case(
        "deny-on-any-key-of-another-account-keeps-cross-account",
        doc(
            ROOT,
            allow(aws(UNTRUSTED_ROOT), "kms:Decrypt", sid="Share"),
            on(deny("*", "kms:*"), "arn:aws:kms:*:999999999999:key/*"),
        ),
        must=(CROSS,),
        must_not=(LOCKOUT,),
    ),
    case(
        "deny-on-an-alias-keeps-public",
        doc(
            ROOT,
            allow("*", "kms:Decrypt", sid="Public"),
            on(deny("*", "kms:*"), f"arn:aws:kms:{REGION}:{OWNER}:alias/foo"),
        ),
        must=(PUBLIC,),
    ),
    case(
        "deny-without-resource-has-no-effect",
        doc(
            ROOT,
            allow(aws(UNTRUSTED_ROOT), "kms:Decrypt", sid="Share"),
            on(deny("*", "kms:Decrypt"), None),
        ),
        must=(CROSS,),
    ),
    case(
        "deny-on-every-key-pattern-removes-public",
        doc(
            ROOT,
            allow("*", "kms:Decrypt", sid="Public"),
            on(deny("*", "kms:*", cond={"StringNotEquals": {"aws:PrincipalAccount": OWNER}}),
               "arn:aws:kms:*:*:key/*"),
        ),
        must_not=(PUBLIC, CROSS),
    ),
    case(
        "public-without-resource-has-no-effect",
        doc(ROOT, on(allow("*", "kms:Decrypt", sid="Public"), None)),
        exact=(),
    ),
    case("lockout-root-without-resource", doc(on(ROOT, None)), must=(LOCKOUT,)),
    case(
        "lockout-root-only-on-another-accounts-key",
        doc(on(ROOT, f"arn:aws:kms:{REGION}:999999999999:key/{KEY_ID}")),
        must=(LOCKOUT,),
    ),
    case(
        "lockout-root-only-on-aliases",
        doc(on(ROOT, f"arn:aws:kms:*:{OWNER}:alias/*")),
        must=(LOCKOUT,),
    ),
    case(
        "lockout-root-notresource-every-key",
        doc({**{k: v for k, v in ROOT.items() if k != "Resource"},
             "NotResource": "arn:aws:kms:*:*:key/*"}),
        must=(LOCKOUT,),
    ),
    # A key ARN of the owner's account is taken to be this key (the policy cannot say which
    # key it is attached to): the root keeps kms:PutKeyPolicy, and a Deny on it takes it away.
    case(
        "no-lockout-root-on-own-account-key-arn",
        doc(on(ROOT, f"arn:aws:kms:{REGION}:{OWNER}:key/{KEY_ID}")),
        exact=(),
    ),
    case(
        "lockout-deny-put-on-own-account-key-arn",
        doc(ROOT, on(deny("*", "kms:PutKeyPolicy"), f"arn:aws:kms:{REGION}:{OWNER}:key/{KEY_ID}")),
        must=(LOCKOUT,),
    ),
    # ---- what a Deny's aws:PrincipalArn exemption leaves -------------------------------------
    # The Deny applies to every principal but the exempt ARN: the role of an untrusted account
    # is exactly who keeps the access, so the exposure is cross-account, no longer public.
    *[
        case(
            f"deny-{op.lower()}-exempting-untrusted-role-leaves-it-cross-account",
            doc(
                ROOT,
                allow("*", "kms:Decrypt", sid="Public"),
                deny("*", "kms:*", cond={op: {"aws:PrincipalArn": value}}),
            ),
            must=(CROSS,),
            must_not=(PUBLIC,),
        )
        for op, value in (
            ("ArnNotEquals", f"arn:aws:iam::{UNTRUSTED}:role/x"),
            ("StringNotEquals", f"arn:aws:iam::{UNTRUSTED}:role/x"),
            ("ArnNotLike", f"arn:aws:iam::{UNTRUSTED}:*"),
        )
    ],
    # The Deny spares only the owner's principals: none of an untrusted account's is spared.
    case(
        "deny-arnnotlike-owner-arns-removes-untrusted-root",
        doc(
            ROOT,
            allow(aws(UNTRUSTED_ROOT), "kms:Decrypt", sid="Share"),
            deny("*", "kms:*",
                 cond={"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{OWNER}:*"}}),
        ),
        must_not=(CROSS, PUBLIC),
    ),
    case(
        "deny-stringnotequals-admin-removes-untrusted-account-id",
        doc(
            ROOT,
            allow(aws(UNTRUSTED), "kms:Decrypt", sid="Share"),
            deny("*", "kms:*", cond={"StringNotEquals": {"aws:PrincipalArn": [KEY_ADMIN]}}),
        ),
        must_not=(CROSS, PUBLIC),
    ),
    # ---- what a positive Deny on aws:PrincipalArn or aws:userid covers ---------------------
    # aws:PrincipalArn is the caller's own ARN: a role's for its sessions, an IAM user's, the
    # root user's, and for a GetFederationToken caller arn:aws:sts::ACCOUNT:federated-user/NAME
    # (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html, whose
    # example also gives that caller's aws:userid, ACCOUNT:NAME). A Deny on some of these
    # leaves the account's other callers the access an Allow on the account gives them.
    *[
        case(
            f"deny-principal-arn-{name}-leaves-the-rest-of-the-account",
            doc(
                ROOT,
                allow(aws(UNTRUSTED_ROOT), "kms:Decrypt", sid="Share"),
                deny("*", "kms:*", cond={op: {key: value}}),
            ),
            must=(CROSS,),
        )
        for name, op, key, value in (
            ("roles", "ArnLike", "aws:PrincipalArn", f"arn:aws:iam::{UNTRUSTED}:role/*"),
            ("iam-only", "ArnLike", "aws:PrincipalArn", f"arn:aws:iam::{UNTRUSTED}:*"),
            ("iam-only-stringlike", "StringLike", "aws:PrincipalArn",
             f"arn:aws:iam::{UNTRUSTED}:*"),
            ("root-user", "ArnEquals", "aws:PrincipalArn", UNTRUSTED_ROOT),
            ("userid-federated", "StringLike", "aws:userid", f"{UNTRUSTED}:*"),
            ("userid-root", "StringEquals", "aws:userid", UNTRUSTED),
            # "?" is one character (OPS, ARN operators): names of one character only.
            ("one-character-names", "ArnLike", "aws:PrincipalArn", [
                UNTRUSTED_ROOT, f"arn:aws:iam::{UNTRUSTED}:user/?",
                f"arn:aws:iam::{UNTRUSTED}:role/?",
                f"arn:aws:sts::{UNTRUSTED}:federated-user/?"]),
            # Another partition's ARNs: a caller of this key has an arn:aws: ARN.
            ("another-partition", "ArnLike", "aws:PrincipalArn", [
                f"arn:aws-cn:iam::{UNTRUSTED}:*", f"arn:aws-cn:sts::{UNTRUSTED}:*"]),
            # Under StringEquals "*" is a literal: no principal's ARN holds one.
            ("literal-star", "StringEquals", "aws:PrincipalArn",
             [f"arn:aws:iam::{UNTRUSTED}:*", f"arn:aws:sts::{UNTRUSTED}:*"]),
        )
    ],
    # Found by review: "*" in the account part under StringEquals is a literal too (OPS,
    # string operators: no wildcard matching), so no caller's aws:PrincipalArn equals it and
    # the statement lets nobody in; it was read as naming no account, so anyone: critical.
    case("stringequals-principal-arn-with-a-literal-star-account-lets-nobody-in",
         with_root(allow("*", "kms:Decrypt", sid="Share", cond={
             "StringEquals": {"aws:PrincipalArn": "arn:aws:iam::*:role/x"}})), exact=()),
    # A role session's aws:PrincipalArn is its role's ARN, "not the ARN of the user that
    # assumed the role" (KEYS#condition-keys-principalarn): a Deny on session ARNs spares it;
    # and an aws:userid is never an ARN.
    *[
        case(
            f"deny-{name}-leaves-the-session-its-access",
            doc(
                ROOT,
                allow(aws(f"arn:aws:sts::{UNTRUSTED}:assumed-role/app/s1"), "kms:Decrypt",
                      sid="Share"),
                deny("*", "kms:*", cond=cond),
            ),
            must=(CROSS,),
        )
        for name, cond in (
            ("session-arns", {"ArnLike": {
                "aws:PrincipalArn": f"arn:aws:sts::{UNTRUSTED}:assumed-role/*"}}),
            ("userid-written-as-the-session-arn", {"StringEquals": {
                "aws:userid": f"arn:aws:sts::{UNTRUSTED}:assumed-role/app/s1"}}),
        )
    ],
    # A role pinned by its unique id (aws:userid, "AROA...:*") or a session by its role's ARN:
    # the policy cannot tell the id's principal, and the session's aws:PrincipalArn is the
    # role's, so the named principal of the untrusted account may well be let in.
    *[
        case(
            f"{name}-of-an-untrusted-principal-is-cross-account",
            doc(
                ROOT,
                allow(aws(principal), "kms:Decrypt", sid="Share", cond=cond),
            ),
            must=(CROSS,),
        )
        for name, principal, cond in (
            ("allow-pinned-by-unique-id", f"arn:aws:iam::{UNTRUSTED}:role/app",
             {"StringLike": {"aws:userid": "AROAEXAMPLEROLEID:*"}}),
            ("allow-session-pinned-by-its-role", f"arn:aws:sts::{UNTRUSTED}:assumed-role/app/s1",
             {"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{UNTRUSTED}:role/app"}}),
        )
    ],
    case(
        "deny-sparing-a-unique-id-may-spare-the-untrusted-role",
        doc(
            ROOT,
            allow(aws(f"arn:aws:iam::{UNTRUSTED}:role/app"), "kms:Decrypt", sid="Share"),
            deny("*", "kms:*", cond={"StringNotLike": {"aws:userid": "AROAEXAMPLEROLEID:*"}}),
        ),
        must=(CROSS,),
    ),
    # Found by fuzzing Denies and Allows on aws:PrincipalArn and aws:userid against the
    # evaluator: each of these let an untrusted account's principal in while nothing was
    # reported. The pins of one statement are ANDed; a unique id may be any principal's.
    *[
        case(
            f"principal-pins-{name}",
            doc(ROOT, *statements),
            must=must,
        )
        for name, must, statements in (
            ("arn-and-unique-id-together-keep-the-role", (CROSS,), (
                allow("*", "kms:Decrypt", sid="Share", cond={
                    "StringEquals": {"aws:PrincipalArn": f"arn:aws:iam::{UNTRUSTED}:role/app"},
                    "StringLike": {"aws:userid": "AROAEXAMPLEROLEID:*"}}),)),
            ("unique-id-beside-an-account-name-pins-nothing", (PUBLIC,), (
                allow("*", "kms:Decrypt", sid="Share", cond={
                    "StringLike": {"aws:userid": [f"{UNTRUSTED}:*", "AIDAEXAMPLEUSERID"]}}),)),
            ("deny-sparing-ids-of-an-account-and-anyone-is-not-certain", (PUBLIC,), (
                allow("*", "kms:Decrypt", sid="Share"),
                deny("*", "kms:*", cond={"StringNotLike": {
                    "aws:userid": [f"{UNTRUSTED}:*", "AROAEXAMPLEROLEID:*"]}}))),
            ("deny-naming-roles-but-sparing-one-leaves-its-session", (CROSS,), (
                allow(aws(f"arn:aws:sts::{UNTRUSTED}:assumed-role/app/s1"), "kms:Decrypt",
                      sid="Share"),
                deny("*", "kms:*", cond={
                    "ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{UNTRUSTED}:role/*"},
                    "ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{UNTRUSTED}:role/app"}}))),
            ("stringequals-patterns-are-literal-even-for-the-whole-account", (CROSS,), (
                allow(aws(f"arn:aws:iam::{UNTRUSTED}:user/bob"), "kms:Decrypt", sid="Share"),
                deny("*", "kms:*", cond={"StringEquals": {
                    "aws:PrincipalArn": f"arn:aws:*::{UNTRUSTED}:*"}}))),
            ("notprincipal-account-spares-its-root-user", (CROSS,), (
                allow("*", "kms:Decrypt", sid="Share", cond={
                    "StringLike": {"aws:PrincipalArn": UNTRUSTED_ROOT}}),
                not_principal_deny({"AWS": [UNTRUSTED]}, "kms:Decrypt"))),
            ("notprincipal-role-and-account-may-spare-its-session", (CROSS,), (
                allow(aws(f"arn:aws:sts::{UNTRUSTED}:assumed-role/app/s1"), "kms:Decrypt",
                      sid="Share"),
                not_principal_deny({"AWS": [UNTRUSTED_ROOT, f"arn:aws:iam::{UNTRUSTED}:role/app"]},
                                   "kms:*"))),
            # IgnoreCase operators match ARNs in any case (OPS); a policy variable in a
            # spared ARN is the request's value, so user/${aws:username} spares every user;
            # a session's role may have a path its ARN does not show.
            ("ignorecase-exemption-spares-the-other-spelling", (CROSS,), (
                allow(aws(f"arn:aws:iam::{UNTRUSTED}:user/Bob"), "kms:Decrypt", sid="Share"),
                deny("*", "kms:*", cond={"StringNotEqualsIgnoreCase": {
                    "aws:PrincipalArn": f"arn:aws:iam::{UNTRUSTED}:user/bob"}}))),
            ("ignorecase-allow-lets-in-the-other-spelling", (CROSS,), (
                allow(aws(f"arn:aws:iam::{UNTRUSTED}:user/Bob"), "kms:Decrypt", sid="Share",
                      cond={"StringEqualsIgnoreCase": {
                          "aws:PrincipalArn": f"arn:aws:iam::{UNTRUSTED}:user/bob"}}),)),
            ("exemption-by-username-variable-spares-every-user", (CROSS,), (
                allow(aws(f"arn:aws:iam::{UNTRUSTED}:user/alice"), "kms:Decrypt", sid="Share"),
                deny("*", "kms:*", cond={"ArnNotLike": {
                    "aws:PrincipalArn": f"arn:aws:iam::{UNTRUSTED}:user/${{aws:username}}"}}))),
            ("exemption-of-a-role-with-a-path-spares-its-session", (CROSS,), (
                allow(aws(f"arn:aws:sts::{UNTRUSTED}:assumed-role/x/s"), "kms:Decrypt",
                      sid="Share"),
                deny("*", "kms:*", cond={"ArnNotEquals": {
                    "aws:PrincipalArn": f"arn:aws:iam::{UNTRUSTED}:role/path/x"}}))),
            ("allow-pinned-to-a-role-with-a-path-lets-in-its-session", (CROSS,), (
                allow(aws(f"arn:aws:sts::{UNTRUSTED}:assumed-role/x/s"), "kms:Decrypt",
                      sid="Share", cond={"ArnEquals": {
                          "aws:PrincipalArn": f"arn:aws:iam::{UNTRUSTED}:role/path/x"}}),)),
            ("notprincipal-session-and-account-may-spare-the-role", (CROSS,), (
                allow(aws(f"arn:aws:iam::{UNTRUSTED}:role/x"), "kms:Decrypt", sid="Share"),
                not_principal_deny({"AWS": [f"arn:aws:sts::{UNTRUSTED}:assumed-role/x/s",
                                            UNTRUSTED_ROOT]}, "kms:*"))),
            # Two exemptions in sequence: what the first spares (the root by
            # "arn:*:iam::A:root") is a pattern; the second spares A's root too ("r*").
            ("two-exemptions-in-sequence-both-spare-the-root", (CROSS,), (
                allow(aws(UNTRUSTED), "kms:Decrypt", sid="Share"),
                deny("*", "kms:Decrypt", cond={"ArnNotEquals": {
                    "aws:PrincipalArn": f"arn:*:iam::{UNTRUSTED}:root"}}),
                deny("*", "kms:Decrypt", cond={"ArnNotLike": {
                    "aws:PrincipalArn": f"arn:aws:iam::{UNTRUSTED}:r*"}}))),
            ("deny-sparing-a-unique-id-and-roles-leaves-the-roles", (PUBLIC,), (
                allow("*", "kms:Decrypt", sid="Share"),
                deny("*", "kms:Decrypt", cond={
                    "StringNotEquals": {"aws:userid": "AROAEXAMPLEROLEID:*"},
                    "ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{UNTRUSTED}:role/*"}}))),
        )
    ],
    # ... while a Deny on every role of the account covers the session, whatever its path.
    case(
        "deny-every-role-of-the-account-covers-its-session",
        doc(
            ROOT,
            allow(aws(f"arn:aws:sts::{UNTRUSTED}:assumed-role/app/s1"), "kms:Decrypt",
                  sid="Share"),
            deny("*", "kms:*", cond={"ArnLike": {
                "aws:PrincipalArn": f"arn:aws:iam::{UNTRUSTED}:role/*"}}),
        ),
        must_not=(CROSS, PUBLIC),
    ),
    *[
        case(
            f"deny-principal-arn-{name}-covers-the-whole-account",
            doc(
                ROOT,
                allow(aws(UNTRUSTED_ROOT), "kms:Decrypt", sid="Share"),
                deny("*", "kms:*", cond={"ArnLike": {"aws:PrincipalArn": value}}),
            ),
            must_not=(CROSS, PUBLIC),
        )
        for name, value in (
            ("any-service", f"arn:aws:*::{UNTRUSTED}:*"),
            ("iam-and-sts", [f"arn:aws:iam::{UNTRUSTED}:*", f"arn:aws:sts::{UNTRUSTED}:*"]),
        )
    ],
    # A condition every IAM caller meets (its key is in every IAM request, KEYS: aws:PrincipalArn,
    # kms:CallerAccount...; Null "false" or StringLike "*" on it) leaves the Deny certain for
    # IAM callers. A service principal's request has no such key, so "*"'s service side stays.
    *[
        case(
            f"deny-on-a-key-every-iam-caller-has-{name}",
            doc(
                ROOT,
                allow("*", "kms:Decrypt", sid="Public"),
                deny("*", "kms:Decrypt", cond=cond),
            ),
            must=(SVC,),
            must_not=(PUBLIC, CROSS),
        )
        for name, cond in (
            ("null-false", {"Null": {"aws:PrincipalArn": "false"}}),
            ("stringlike-star", {"StringLike": {"kms:CallerAccount": "*"}}),
        )
    ],
    # ---- which operators pin the caller -------------------------------------------------------
    # StringLike's "*" matches across colons, unlike the Arn operators, which match each of the
    # six parts on its own (condition operators page); an IAM path may hold ":" (CreateRole,
    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html: Path pattern
    # \u0021-\u007E), so arn:aws:iam::999988887777:role/:111122223333:role/x matches a
    # wildcard before the account: not pinned to the owner.
    case(
        "public-stringlike-principalarn-wildcard-region",
        doc(ROOT, allow("*", "kms:Decrypt", sid="Public", cond={
            "StringLike": {"aws:PrincipalArn": f"arn:aws:iam:*:{OWNER}:role/*"}})),
        must=(PUBLIC,),
    ),
    case(
        "public-stringlike-principalarn-wildcard-partition",
        doc(ROOT, allow("*", "kms:Decrypt", sid="Public",
                        cond={"StringLike": {"aws:PrincipalArn": f"arn:*:iam::{OWNER}:role/App"}})),
        must=(PUBLIC,),
    ),
    case(
        "pinned-arnlike-principalarn-wildcard-region",
        doc(ROOT, allow("*", "kms:Decrypt", sid="Public",
                        cond={"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam:*:{OWNER}:role/*"}})),
        must_not=(PUBLIC, CROSS),
    ),
    # Account ids are strings (condition keys page: aws:PrincipalAccount is a String): a
    # numeric, date, boolean, binary or address comparison names no fixed account.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
    *[
        case(
            f"public-{op.lower()}-on-principalaccount",
            doc(ROOT, allow("*", "kms:Decrypt", sid="Public",
                            cond={op: {"aws:PrincipalAccount": value}})),
            must=(PUBLIC,),
            must_not=(CROSS,),
        )
        for op, value in (
            ("NumericLessThan", "999999999999"),
            ("NumericGreaterThanEquals", "0"),
            ("DateGreaterThan", "2020-01-01T00:00:00Z"),
            ("Bool", "true"),
            ("BinaryEquals", "MTExMTIyMjIzMzMz"),
            ("IpAddress", "10.0.0.0/8"),
        )
    ],
    # Organisation ids are lower case (o-[a-z0-9]{10,32}, Organizations API reference) and
    # StringEquals is case-sensitive: an upper-case id matches no organisation.
    # https://docs.aws.amazon.com/organizations/latest/APIReference/API_Organization.html
    case(
        "org-id-in-upper-case-matches-no-organisation",
        doc(ROOT, allow("*", "kms:Decrypt", sid="Org",
                        cond={"StringEquals": {"aws:PrincipalOrgID": ORG.upper()}})),
        must_not=(PUBLIC, CROSS),
    ),
    case(
        "org-id-in-upper-case-ignore-case-is-the-organisation",
        doc(ROOT, allow("*", "kms:Decrypt", sid="Org", cond={
            "StringEqualsIgnoreCase": {"aws:PrincipalOrgID": FOREIGN_ORG.upper()}})),
        must=(CROSS,),
    ),
    case(
        "deny-outside-upper-case-org-id-denies-everyone",
        doc(
            ROOT,
            allow("*", "kms:Decrypt", sid="Public"),
            deny("*", "kms:Decrypt", cond={"StringNotEquals": {"aws:PrincipalOrgID": ORG.upper()}}),
        ),
        must_not=(PUBLIC, CROSS),
    ),
    # aws:VpcSourceIp is a private address behind some VPC endpoint: any account can have
    # 10.0.0.0/8; unlike aws:SourceVpc(e) it names no VPC or endpoint (global condition keys).
    case(
        "public-vpc-source-ip-names-no-network",
        doc(ROOT, allow("*", "kms:Decrypt", sid="Public",
                        cond={"IpAddress": {"aws:VpcSourceIp": "10.0.0.0/8"}})),
        must=(PUBLIC,),
    ),
    # The data-perimeter Deny: everyone outside the organisation but AWS services. Every IAM
    # caller's request carries aws:PrincipalIsAWSService "false", so each outsider is denied;
    # service principals are spared (condition keys page, aws:PrincipalIsAWSService).
    *[
        case(
            f"deny-outside-org-unless-a-service-{op.lower()}-removes-public",
            doc(
                ROOT,
                allow("*", "kms:Decrypt", sid="Public"),
                deny("*", "kms:*", cond={"StringNotEquals": {"aws:PrincipalOrgID": ORG},
                                         op: {"aws:PrincipalIsAWSService": "false"}}),
            ),
            must_not=(PUBLIC, CROSS),
            must=(SVC,),
        )
        for op in ("Bool", "BoolIfExists")
    ],
    # Denying only service principals leaves every IAM caller in.
    case(
        "deny-only-service-principals-keeps-public",
        doc(
            ROOT,
            allow("*", "kms:Decrypt", sid="Public"),
            deny("*", "kms:*", cond={"Bool": {"aws:PrincipalIsAWSService": "true"}}),
        ),
        must=(PUBLIC,),
        must_not=(SVC,),
    ),
    # "*" on a fixed network path is not exposure, even narrowed to an untrusted account (the
    # line the concrete evaluator holds too); a principal named explicitly is reported on any.
    case(
        "star-pinned-to-an-account-and-a-vpc-is-not-exposure",
        doc(ROOT, allow("*", "kms:Decrypt", sid="Partner", cond={"StringEquals": {
            "aws:SourceVpc": "vpc-1", "aws:PrincipalAccount": UNTRUSTED}})),
        must_not=(PUBLIC, CROSS),
    ),
    case(
        "named-untrusted-role-on-a-vpc-is-cross-account",
        doc(ROOT, allow(aws(UNTRUSTED_USER), "kms:Decrypt", sid="Partner",
                        cond={"StringEquals": {"aws:SourceVpc": "vpc-1"}})),
        must=(CROSS,),
    ),
    # aws:SourceAccount is in a service principal's request only, never an IAM caller's
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html): only services
    # acting for the owner can use these statements.
    case(
        "star-for-the-owners-services-only-is-no-direct-use",
        doc(ROOT, allow("*", "kms:GenerateDataKey*", sid="Services",
                        cond={"StringEquals": {"aws:SourceAccount": OWNER}})),
        exact=(),
    ),
    case(
        "role-under-a-source-account-condition-can-use-nothing",
        doc(ROOT, allow(aws(UNTRUSTED_USER), "kms:Decrypt", sid="Dead",
                        cond={"StringEquals": {"aws:SourceAccount": UNTRUSTED}})),
        exact=(),
    ),
    case(
        "star-for-an-untrusted-accounts-services-is-cross-account",
        doc(ROOT, allow("*", "kms:Decrypt", sid="Services",
                        cond={"StringEquals": {"aws:SourceAccount": UNTRUSTED}})),
        must=(CROSS,),
        must_not=(PUBLIC, NO_VIA),
    ),
    # Found by differential fuzzing against the concrete evaluator.
    # "*" names services too; aws:PrincipalIsAWSService "true" and aws:SecureTransport are in a
    # service's request, so beside a source account they do not shut the services out.
    *[
        case(
            f"star-for-an-untrusted-accounts-services-with-{name}",
            doc(ROOT, allow("*", "kms:Decrypt", sid="Services", cond={
                "StringEquals": {"aws:SourceAccount": UNTRUSTED}, **extra})),
            must=(CROSS,),
        )
        for name, extra in (
            ("the-service-flag", {"Bool": {"aws:PrincipalIsAWSService": "true"}}),
            ("tls", {"Bool": {"aws:SecureTransport": "true"}}),
            ("no-caller-account", {"Null": {"kms:CallerAccount": "true"}}),
            # a service's request may carry any key but the caller identity and network keys:
            # CloudTrail acting for the untrusted account sends this encryption context
            # (create-kms-key-policy-for-cloudtrail.html), so the context never shuts it out
            ("an-encryption-context", {"StringLike": {
                "kms:EncryptionContext:aws:cloudtrail:arn":
                    f"arn:aws:cloudtrail:*:{UNTRUSTED}:trail/*"}}),
            ("the-resource-account", {"StringLike": {"aws:ResourceAccount": OWNER}}),
            ("every-address", {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}),
            # the flag is "true" in a service's request, however the condition spells it
            # (found by review: these once shut the services out)
            ("the-service-flag-as-a-set", {
                "ForAnyValue:StringEquals": {"aws:PrincipalIsAWSService": "true"}}),
            ("the-service-flag-by-pattern", {"StringLike": {"aws:PrincipalIsAWSService": "t*"}}),
            ("no-caller-arn", {"Null": {"aws:PrincipalArn": "true"}}),
        )
    ],
    # aws:PrincipalServiceName is "present in the request when the call is made by an AWS
    # service principal" and in no other (condition keys page, aws:PrincipalServiceName): under
    # it "*" stands for the services named alone.
    # A service named in the Principal, under a positive condition on a key its request never
    # has (an organisation, a VPC endpoint: global condition keys page, Availability), is let
    # in by nothing. What its request holds for kms:CallerAccount or aws:PrincipalAccount no
    # page says (the latter is "included in the request context for all requests"): it is
    # read as the account the service acts for, so doubt never hides access.
    *[
        case(f"a-service-under-{name}-matches-nobody",
             doc(ROOT, allow(svc("cloudtrail.amazonaws.com"), "kms:Decrypt", sid="Ct",
                             cond=cond)),
             exact=())
        for name, cond in (
            ("an-organisation", {"StringEquals": {"aws:PrincipalOrgID": ORG}}),
            ("a-vpc-endpoint", {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}),
        )
    ],
    case(
        "a-service-under-an-untrusted-caller-account-is-read-as-acting-for-it",
        doc(ROOT, allow(svc("cloudtrail.amazonaws.com"), "kms:Decrypt", sid="Ct",
                        cond={"StringEquals": {"kms:CallerAccount": UNTRUSTED}})),
        must=(CROSS,),
    ),
    *[
        case(f"a-service-under-{name}-is-unscoped",
             doc(ROOT, allow(svc("cloudtrail.amazonaws.com"), "kms:Decrypt", sid="Ct",
                             cond=cond)),
             must=(SVC,))
        for name, cond in (
            ("any-caller-account", {"StringLike": {"kms:CallerAccount": "*"}}),
            ("a-present-principal-account", {"Null": {"aws:PrincipalAccount": "false"}}),
        )
    ],
    case(
        "a-service-denied-under-if-exists-on-a-caller-account-is-not-certainly-denied",
        doc(ROOT, allow(svc("cloudtrail.amazonaws.com"), "kms:Decrypt", sid="Ct"),
            deny(svc("cloudtrail.amazonaws.com"), "kms:*", sid="NoCt",
                 cond={"StringEqualsIfExists": {"kms:CallerAccount": UNTRUSTED}})),
        must=(SVC,),
    ),
    case(
        "star-for-a-named-service-is-that-service-unscoped-not-public",
        doc(ROOT, allow("*", "kms:GenerateDataKey*", sid="CloudTrailOnly", cond={
            "StringEquals": {"aws:PrincipalServiceName": "cloudtrail.amazonaws.com"}})),
        must=(SVC,),
        must_not=(PUBLIC, CROSS, NO_VIA),
    ),
    case(
        "star-for-a-named-service-of-an-untrusted-account-is-cross-account",
        doc(ROOT, allow("*", "kms:*", sid="CloudTrailOnly", cond={
            "Bool": {"aws:PrincipalIsAWSService": "true"},
            "StringEquals": {"aws:PrincipalServiceName": "cloudtrail.amazonaws.com",
                             "aws:SourceAccount": UNTRUSTED}})),
        must=(CROSS, PUT_POLICY),
        must_not=(PUBLIC,),
    ),
    case(
        "star-for-a-named-service-under-a-flag-pattern-is-that-service-unscoped",
        doc(ROOT, allow("*", "kms:Decrypt", sid="CloudTrailOnly", cond={
            "StringEquals": {"aws:PrincipalServiceName": "cloudtrail.amazonaws.com"},
            "StringLike": {"aws:PrincipalIsAWSService": "true"}})),
        must=(SVC,),
        must_not=(PUBLIC,),
    ),
    # A policy variable in the flag's values is the caller's to set (${aws:PrincipalTag/x}):
    # no caller is certainly shut out (reference_policies_variables.html). Found by review.
    *[
        case(f"star-under-the-service-flag-from-{name}-is-public",
             public({"StringEquals": {"aws:PrincipalIsAWSService": value}}),
             must=(PUBLIC,))
        for name, value in (("a-tag", "${aws:PrincipalTag/is-service}"),
                            ("itself", "${aws:PrincipalIsAWSService}"))
    ],
    case(
        "star-for-any-service-beside-the-resource-account-is-unscoped",
        doc(ROOT, allow("*", "kms:Decrypt", sid="AnyService", cond={
            "Bool": {"aws:PrincipalIsAWSService": "true"},
            "StringEquals": {"aws:ResourceAccount": OWNER}})),
        must=(SVC,),
        must_not=(PUBLIC, NO_VIA),
    ),
    # ... but a service's request comes from no network a policy names, and carries no caller
    # identity key: a positive condition on either still shuts the services out.
    case(
        "star-for-any-service-from-a-named-endpoint-matches-nobody",
        doc(ROOT, allow("*", "kms:Decrypt", sid="AnyService", cond={
            "Bool": {"aws:PrincipalIsAWSService": "true"},
            "StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}})),
        exact=(),
    ),
    # aws:PrincipalIsAWSService is "true" only for a service principal's own request and
    # "false" for every other caller (condition keys page, aws:PrincipalIsAWSService): under
    # it "*" stands for the services alone, acting for any customer: the confused deputy, not
    # a grant to every AWS principal. Named IAM principals are shut out altogether.
    case(
        "star-for-any-service-is-an-unscoped-service-not-public",
        doc(ROOT, allow("*", ["kms:GenerateDataKey*", "kms:Decrypt"], sid="AnyService",
                        cond={"Bool": {"aws:PrincipalIsAWSService": "true"}})),
        must=(SVC,),
        must_not=(PUBLIC, CROSS, NO_VIA),
    ),
    case(
        "star-for-any-service-in-the-owners-account-is-scoped",
        doc(ROOT, allow("*", "kms:Decrypt", sid="OwnServices",
                        cond={"Bool": {"aws:PrincipalIsAWSService": "true"},
                              "StringEquals": {"aws:SourceAccount": OWNER}})),
        exact=(),
    ),
    case(
        "a-role-under-the-service-flag-matches-nobody",
        doc(ROOT, allow(aws(f"arn:aws:iam::{UNTRUSTED}:role/App"), "kms:Decrypt", sid="Nobody",
                        cond={"Bool": {"aws:PrincipalIsAWSService": "true"}})),
        exact=(),
    ),
    case(
        "star-under-both-flag-values-is-still-public",
        doc(ROOT, allow("*", "kms:Decrypt", sid="Both",
                        cond={"StringEquals": {"aws:PrincipalIsAWSService": ["true", "false"]}})),
        must=(PUBLIC,),
    ),
    # ForAllValues on a key every IAM caller carries matches its one value as a plain operator
    # does; a service principal's request lacks kms:CallerAccount, and ForAllValues holds for
    # an empty set (single-vs-multi-valued context keys page): the services behind "*" are
    # let in for any customer, as under ...IfExists.
    case(
        "star-forallvalues-caller-account-pins-iam-callers-not-services",
        doc(ROOT, allow("*", ["kms:Decrypt", "kms:GenerateDataKey"], sid="S",
                        cond={"ForAllValues:StringEquals": {"kms:CallerAccount": OWNER}})),
        must=(SVC,),
        must_not=(PUBLIC, CROSS),
    ),
    case(
        "forallvalues-caller-account-pins-an-outsider-to-the-owner",
        doc(ROOT, allow(aws(f"arn:aws:iam::{UNTRUSTED}:root"), "kms:Decrypt", sid="Nobody",
                        cond={"ForAllValues:StringEquals": {"kms:CallerAccount": OWNER}})),
        exact=(),
    ),
    # aws:PrincipalOrgID is missing for an account in no organisation: ForAllValues holds for
    # it, so it pins nothing.
    case(
        "star-forallvalues-org-id-is-still-public",
        doc(ROOT, allow("*", "kms:Decrypt", sid="S",
                        cond={"ForAllValues:StringEquals": {"aws:PrincipalOrgID": ORG}})),
        must=(PUBLIC,),
    ),
    # "1111*" under StringEquals is a literal no account has: no IAM caller matches it, but a
    # service's request lacks kms:CallerAccount, so ...IfExists holds for any customer's.
    case(
        "star-under-ifexists-on-no-real-account-lets-services-in",
        doc(ROOT, allow("*", "kms:Decrypt", sid="Typo",
                        cond={"StringEqualsIfExists": {"kms:CallerAccount": "1111*"}})),
        must=(SVC,),
        must_not=(PUBLIC,),
    ),
    # A named service carries no kms:CallerAccount: ...IfExists on it holds for any customer's.
    case(
        "named-service-under-ifexists-caller-account-is-unscoped",
        doc(ROOT, allow(svc("cloudtrail.amazonaws.com"), "kms:Decrypt", sid="CT",
                        cond={"StringEqualsIfExists": {"kms:CallerAccount": OWNER}})),
        must=(SVC,),
    ),
    # A wildcard inside a principal ARN names nobody (Principal page): the Deny takes nothing.
    case(
        "deny-wildcard-account-root-denies-nobody",
        doc(ROOT, allow(aws(UNTRUSTED_USER), "kms:Decrypt", sid="Mallory"),
            deny(aws("arn:aws:iam::*:root"), "kms:*")),
        must=(CROSS,),
    ),
    # NotPrincipal "*" on an Allow excepts everyone: it lets nobody in.
    case(
        "allow-notprincipal-everyone-lets-nobody-in",
        doc(ROOT, {"Sid": "Nobody", "Effect": "Allow", "NotPrincipal": {"AWS": "*"},
                   "Action": "kms:Decrypt", "Resource": "*"}),
        exact=(),
    ),
    # ---- what a NotPrincipal Deny leaves ------------------------------------------------------
    # A Deny with NotPrincipal applies to everyone but the listed principals; a principal is
    # spared only when it is listed itself (with its account).
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
    # The owner's grant to its own account, left to KeyAdmin alone, is still the owner's
    # delegation (KeyAdmin needs its own IAM permission, as before): no new finding.
    case(
        "deny-notprincipal-leaves-owner-delegation-to-root-and-admin",
        doc(
            allow(aws(OWNER), "kms:*", sid="Account"),
            not_principal_deny(aws(OWNER_ROOT, KEY_ADMIN), "kms:PutKeyPolicy"),
        ),
        exact=(),
    ),
    # The root itself is not exempt, so it loses kms:PutKeyPolicy; what is left to KeyAdmin is
    # the owner's delegation, not a grant of kms:* to an unauthorised principal.
    case(
        "deny-notprincipal-admin-only-locks-root-out",
        doc(ROOT, not_principal_deny(aws(KEY_ADMIN), "kms:PutKeyPolicy")),
        exact=(LOCKOUT,),
    ),
    # Listing only the account does not spare a user of it that the Allow names.
    case(
        "deny-notprincipal-account-only-denies-its-user",
        doc(
            ROOT,
            allow(aws(UNTRUSTED_USER), "kms:Decrypt", sid="Mallory"),
            not_principal_deny(aws(UNTRUSTED_ROOT), "kms:*"),
        ),
        must_not=(CROSS, PUBLIC),
    ),
    # An exact principal other than the exempt one is denied, whatever account it is in.
    case(
        "deny-notprincipal-other-principal-denies-the-grantee",
        doc(
            ROOT,
            allow(aws(UNTRUSTED_USER), "kms:Decrypt", sid="Mallory"),
            not_principal_deny(aws(UNTRUSTED_ROOT, f"arn:aws:iam::{UNTRUSTED}:role/Other"),
                               "kms:*"),
        ),
        must_not=(CROSS, PUBLIC),
    ),
    # A NotPrincipal Deny applies to service principals it does not list, too: the service side
    # of "*" (open to any service through IfExists) is denied with the rest.
    case(
        "deny-notprincipal-denies-the-services-behind-star",
        doc(
            ROOT,
            allow("*", "kms:Decrypt", sid="Account",
                  cond={"StringEqualsIfExists": {"aws:PrincipalAccount": OWNER}}),
            not_principal_deny(aws(OWNER_ROOT), "kms:*"),
        ),
        must_not=(SVC, PUBLIC),
    ),
    case(
        "deny-notprincipal-spares-the-listed-service-behind-star",
        doc(
            ROOT,
            allow("*", "kms:Decrypt", sid="Account",
                  cond={"StringEqualsIfExists": {"aws:PrincipalAccount": OWNER}}),
            not_principal_deny({"AWS": OWNER_ROOT, "Service": "logs.amazonaws.com"}, "kms:*"),
        ),
        must=(SVC,),
    ),
    # ... while the exempt principal keeps what "*" gave it.
    case(
        "deny-notprincipal-keeps-the-exempt-outsider",
        doc(
            ROOT,
            allow("*", "kms:Decrypt", sid="Public"),
            not_principal_deny(aws(OWNER_ROOT, UNTRUSTED_ROOT, UNTRUSTED_USER), "kms:*"),
        ),
        must=(CROSS,),
        must_not=(PUBLIC,),
    ),
]

_IDS = [c.id for c in CASES]
assert len(_IDS) == len(set(_IDS)), "case ids must be unique"


# --- helpers ------------------------------------------------------------------------------


def run(c: Case) -> list[Finding]:
    return analyze_key_policy(c.doc, c.ctx)


def rules_of(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


def only(findings: list[Finding], rule: str) -> list[Finding]:
    picked = [f for f in findings if f.rule == rule]
    assert picked, f"no {rule} finding in {sorted(rules_of(findings))}"
    return picked


def low(values: Iterable[str]) -> list[str]:
    return [v.lower() for v in values]


CASE_BY_ID = {c.id: c for c in CASES}


# --- the table-driven tests ---------------------------------------------------------------


def test_there_are_at_least_seventy_distinct_policies() -> None:
    import json

    distinct = {json.dumps(c.doc, sort_keys=True) + repr(c.ctx) for c in CASES}
    assert len(distinct) >= 70


@pytest.mark.parametrize("c", CASES, ids=_IDS)
def test_case(c: Case) -> None:
    got = rules_of(run(c))
    missing = c.must - got
    unexpected = c.must_not & got
    assert not missing, f"missing {sorted(missing)}; got {sorted(got)}"
    assert not unexpected, f"unexpected {sorted(unexpected)}; got {sorted(got)}"
    if c.exact is not None:
        assert got == c.exact, f"expected exactly {sorted(c.exact)}; got {sorted(got)}"


@pytest.mark.parametrize("c", CASES, ids=_IDS)
def test_findings_are_well_formed(c: Case) -> None:
    n_statements = len(c.doc["Statement"]) if isinstance(c.doc["Statement"], list) else 1
    for f in run(c):
        assert isinstance(f, Finding)
        assert f.rule in SEVERITY, f"{f.rule} is not a key-policy rule"
        # A service tied to trusted accounts by its own encryption context only is low
        # (defence in depth: tests/test_service_context.py).
        tied = f.rule == "KMS-SERVICE-UNSCOPED" and "own encryption context" in f.message
        expected = "low" if tied and "outside the trusted" not in f.message else SEVERITY[f.rule]
        assert f.severity == expected, f"{f.rule}: severity {f.severity}"
        assert isinstance(f.message, str) and f.message.strip()
        assert f.statement is None or 0 <= f.statement < n_statements


def test_reanalysis_follows_document_edits_and_context() -> None:
    """Whatever the engine caches, an edited document or another context gets its own verdict."""
    document = with_root(allow(aws(TRUSTED_ROLE), "kms:Decrypt", sid="Share"))
    assert CROSS not in rules_of(analyze_key_policy(document, CTX))
    document["Statement"][1]["Principal"]["AWS"] = UNTRUSTED_ROOT
    assert CROSS in rules_of(analyze_key_policy(document, CTX))
    trusting = Context(owner_account=OWNER, trusted_accounts=frozenset({TRUSTED, UNTRUSTED}))
    assert CROSS not in rules_of(analyze_key_policy(document, trusting))
    assert CROSS in rules_of(analyze_key_policy(document, CTX))
    document["Statement"][1]["Action"] = ["kms:Decrypt", "kms:PutKeyPolicy"]
    assert PUT_POLICY in rules_of(analyze_key_policy(document, CTX))


def test_analysis_does_not_change_the_document() -> None:
    import copy

    c = CASE_BY_ID["console-default-no-admins"]
    before = copy.deepcopy(c.doc)
    run(c)
    assert c.doc == before


# --- what a finding reports ---------------------------------------------------------------


def test_public_finding_names_statement_sid_and_star() -> None:
    findings = run(CASE_BY_ID["public-principal-star-string"])
    (f,) = only(findings, PUBLIC)
    assert f.statement == 1
    assert f.sid == "Public"
    assert any("*" in p for p in f.principals)
    assert "kms:decrypt" in low(f.actions)


def test_public_second_grant_reports_its_own_index() -> None:
    findings = run(CASE_BY_ID["public-second-of-two-grants"])
    (f,) = only(findings, PUBLIC)
    assert (f.statement, f.sid) == (2, "P")
    assert "kms:encrypt" in low(f.actions)


def test_statement_object_is_statement_zero() -> None:
    findings = run(CASE_BY_ID["public-statement-object"])
    (f,) = only(findings, PUBLIC)
    assert f.statement == 0
    assert f.sid == "Only"


def test_cross_account_finding_names_only_the_outsider() -> None:
    findings = run(CASE_BY_ID["cross-untrusted-in-list-with-trusted"])
    cross = only(findings, CROSS)
    assert all(f.statement == 1 and f.sid == "Share" for f in cross)
    reported = [p for f in cross for p in f.principals]
    assert any(UNTRUSTED_USER in p for p in reported), reported
    assert not any(TRUSTED in p for p in reported), reported


def test_cross_account_bare_id_is_reported() -> None:
    findings = run(CASE_BY_ID["cross-untrusted-bare-account-id"])
    reported = [p for f in only(findings, CROSS) for p in f.principals]
    assert any(UNTRUSTED in p for p in reported), reported


def test_service_finding_names_the_service() -> None:
    findings = run(CASE_BY_ID["service-cloudtrail-unscoped"])
    (f,) = only(findings, SVC)
    assert (f.statement, f.sid) == (1, "CT")
    assert any("cloudtrail.amazonaws.com" in p for p in f.principals)


def test_partial_deny_reports_only_the_actions_left() -> None:
    findings = run(CASE_BY_ID["deny-partial-actions-keeps-rest-public"])
    actions = {a for f in only(findings, PUBLIC) for a in low(f.actions)}
    assert "kms:encrypt" in actions
    assert "kms:decrypt" not in actions


def test_non_kms_actions_are_not_reported() -> None:
    findings = run(CASE_BY_ID["public-action-list-kms-and-s3"])
    actions = [a for f in only(findings, PUBLIC) for a in low(f.actions)]
    assert "kms:decrypt" in actions
    assert not any(a.startswith("s3:") for a in actions)


def test_wildcard_action_names_principal_and_statement() -> None:
    findings = run(CASE_BY_ID["wildcard-owner-role-no-admins"])
    (f,) = only(findings, WILD)
    assert (f.statement, f.sid) == (1, "App")
    assert any(APP_ROLE in p for p in f.principals)


def test_separation_of_duties_names_the_principal() -> None:
    findings = run(CASE_BY_ID["duties-across-statements"])
    reported = [p for f in only(findings, SOD) for p in f.principals]
    assert any(APP_ROLE in p for p in reported)
    assert not any(OWNER_ROOT in p for p in reported)


def test_destructive_finding_names_principal_and_action() -> None:
    findings = run(CASE_BY_ID["destructive-schedule-key-deletion"])
    (f,) = only(findings, SCHEDULE)
    assert any(APP_ROLE in p for p in f.principals)
    assert "kms:schedulekeydeletion" in low(f.actions)


CTX_S3_ONLY = Context(OWNER, frozenset({TRUSTED}), ORG,
                      via_services=(f"s3.{REGION}.amazonaws.com",))


def _via_service_findings(operator: str, value: str) -> list[Finding]:
    policy = doc(ROOT, allow(aws(APP_ROLE), "kms:Decrypt", sid="App",
                             cond={operator: {"kms:ViaService": value}}))
    return [f for f in analyze_key_policy(policy, CTX_S3_ONLY) if f.rule == NO_VIA]


def test_via_service_ignore_case_matches_an_allowed_service_in_any_spelling() -> None:
    # StringEqualsIgnoreCase compares without regard to case (condition operators page).
    assert _via_service_findings("StringEqualsIgnoreCase", f"S3.{REGION}.amazonaws.com") == []
    (f,) = _via_service_findings("StringEquals", f"S3.{REGION}.amazonaws.com")
    assert "does not list in via_services" in f.message


def test_via_service_pattern_is_use_through_services_not_direct_use() -> None:
    (f,) = _via_service_findings("StringLike", "s3.*.amazonaws.com")
    assert "through any service matching s3.*.amazonaws.com" in f.message
    assert "directly" not in f.message


def _app_use_under(deny_cond: Json, principal: Any = None,
                   denied: str | list[str] = "kms:*") -> Json:
    """The app role allowed to encrypt and decrypt, under a Deny with ``deny_cond``."""
    return doc(ROOT, allow(aws(APP_ROLE), ["kms:Encrypt", "kms:Decrypt"], sid="App"),
               deny(principal or aws(APP_ROLE), denied, sid="Via", cond=deny_cond))


# A Deny of use "unless through s3" forces use through s3, which IAM-KMS-6 asks for; a Deny of
# use without any kms:ViaService still leaves every service
# (https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
UNLESS_S3 = {"StringNotEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}}


def test_a_deny_unless_through_a_service_forces_use_through_it() -> None:
    for ctx in (CTX, CTX_S3_ONLY):
        assert NO_VIA not in rules_of(analyze_key_policy(_app_use_under(UNLESS_S3), ctx))
    ec2_only = replace(CTX_S3_ONLY, via_services=(f"ec2.{REGION}.amazonaws.com",))
    (f,) = only(analyze_key_policy(_app_use_under(UNLESS_S3), ec2_only), NO_VIA)
    assert f"through s3.{REGION}.amazonaws.com, which the configuration does not list" \
        in f.message


def test_a_deny_of_direct_use_leaves_any_service() -> None:
    (f,) = only(analyze_key_policy(
        _app_use_under({"Null": {"kms:ViaService": "true"}}), CTX), NO_VIA)
    assert "through any service" in f.message


def test_direct_use_the_via_service_deny_does_not_reach_is_still_reported() -> None:
    # the Deny names another role, or leaves Encrypt alone
    other = _app_use_under(UNLESS_S3, principal=aws(KEY_ADMIN))
    (f,) = only(analyze_key_policy(other, CTX), NO_VIA)
    assert "use the key directly" in f.message
    encrypt = _app_use_under(UNLESS_S3, denied="kms:Decrypt")
    (f,) = only(analyze_key_policy(encrypt, CTX), NO_VIA)
    assert "use the key directly" in f.message and f.actions == ("kms:Encrypt",)


def test_a_via_service_deny_names_every_grantee_by_what_it_leaves() -> None:
    """Found by review: the first answer used to hide the others' (App's use through ec2 went
    unreported beside Other's direct use), and a pattern the Deny spares went unreported."""
    two = doc(ROOT, allow(aws(APP_ROLE, f"arn:aws:iam::{OWNER}:role/Other"), "kms:Decrypt",
                          sid="Use"),
              deny(aws(APP_ROLE), "kms:Decrypt", sid="Via", cond={"StringNotEquals": {
                  "kms:ViaService": [f"{s}.{REGION}.amazonaws.com" for s in ("s3", "ec2")]}}))
    (f,) = only(analyze_key_policy(two, CTX_S3_ONLY), NO_VIA)
    assert "role/Other use the key directly" in f.message
    assert f"role/App use the key through ec2.{REGION}.amazonaws.com, which the configuration" \
        in f.message
    assert set(f.principals) == {APP_ROLE, f"arn:aws:iam::{OWNER}:role/Other"}
    pattern = _app_use_under({"StringNotLike": {"kms:ViaService": f"*.{REGION}.amazonaws.com"}})
    (f,) = only(analyze_key_policy(pattern, CTX), NO_VIA)
    assert f"through any service matching *.{REGION}.amazonaws.com" in f.message


def test_messages_name_only_the_unauthorised_principals_a_star_is_pinned_to() -> None:
    both = with_root(allow("*", "kms:*", sid="AdminsAndApp", cond={
        "ArnLike": {"aws:PrincipalArn": [KEY_ADMIN, APP_ROLE]}}))
    findings = analyze_key_policy(both, CTX_ADMIN)
    for f in (*only(findings, WILD), *only(findings, PUT_POLICY)):
        assert APP_ROLE in f.message and KEY_ADMIN not in f.message


def test_messages_name_a_pinned_star_by_what_its_conditions_leave() -> None:
    """ "*" under kms:CallerAccount is the owner's principals, not everyone; under an
    aws:PrincipalArn pattern, the roles it matches: messages say so (principals stay "*")."""
    in_account = with_root(allow("*", "kms:Decrypt", sid="Account",
                                 cond={"StringEquals": {"kms:CallerAccount": OWNER}}))
    (f,) = only(analyze_key_policy(in_account, CTX), NO_VIA)
    assert f.principals == ("*",)
    assert f"lets * in account {OWNER} use the key directly" in f.message
    sso = doc(ROOT, allow("*", "kms:PutKeyPolicy", sid="Admins",
                          cond={"ArnLike": {"aws:PrincipalArn": SSO_ADMINS}}))
    (f,) = only(analyze_key_policy(sso, CTX), PUT_POLICY)
    assert f"lets {SSO_ADMINS} call kms:PutKeyPolicy" in f.message
    wild = with_root(allow("*", "kms:*", sid="Account",
                           cond={"StringEquals": {"aws:PrincipalAccount": OWNER}}))
    (f,) = only(analyze_key_policy(wild, CTX), WILD)
    assert f"every KMS action to * in account {OWNER}," in f.message


def test_unscoped_service_message_names_the_actions_and_what_to_fix() -> None:
    describe = doc(ROOT, allow(svc("cloudtrail.amazonaws.com"), "kms:DescribeKey", sid="Ct"))
    (f,) = only(analyze_key_policy(describe, CTX), SVC)
    assert "lets cloudtrail.amazonaws.com call kms:DescribeKey on the key" in f.message
    assert "add an aws:SourceAccount or aws:SourceArn condition" in f.message
    # A bucket's ARN names no account: the source condition is there but pins none.
    bucket = doc(ROOT, allow(svc("s3.amazonaws.com"), "kms:Decrypt", sid="S3", cond={
        "ArnEquals": {"aws:SourceArn": "arn:aws:s3:::amzn-s3-demo-bucket"}}))
    (f,) = only(analyze_key_policy(bucket, CTX), SVC)
    assert "its aws:SourceArn condition does not pin one account" in f.message
    assert "add an aws:SourceAccount or" not in f.message


def test_separation_of_duties_names_a_pinned_star_by_its_pins() -> None:
    (f,) = only(run(CASE_BY_ID["duties-star-pinned-to-one-account-twice"]), SOD)
    assert f.principals == (f"* in account {OWNER}",)
    (f,) = only(run(CASE_BY_ID["duties-star-pinned-to-a-role-named-elsewhere"]), SOD)
    assert f.principals == (APP_ROLE,)
    (f,) = only(run(CASE_BY_ID["duties-star-manages-and-an-account-pinned-star-uses"]), SOD)
    assert (f.principals, f.sid) == ((f"* in account {OWNER}",), "Manage")
    (f,) = only(run(CASE_BY_ID["duties-account-pinned-star-manages-and-a-role-of-it-uses"]), SOD)
    assert (f.principals, f.sid) == ((KEY_USER,), "Manage")
    (f,) = only(run(CASE_BY_ID["duties-another-accounts-root-uses-and-its-user-manages"]), SOD)
    assert f.principals == (UNTRUSTED_USER,)
    (f,) = only(run(CASE_BY_ID["duties-star-split-across-two-endpoints"]), SOD)
    assert f.principals == (f"* in account {OWNER}",)


def test_a_class_holding_both_is_one_finding_but_hides_no_other_holder() -> None:
    """"*" holding both kinds of rights is one finding for every principal in it: the role
    named beside it is not reported again for what "*" gives it. What the role holds through
    other statements (management through "*" pinned to its account, use through its own) is
    its own finding: fixing the "*" statement would not end it."""
    policy = doc(ROOT, allow("*", "kms:*", sid="Everyone"),
                 allow(aws(KEY_USER), "kms:Decrypt", sid="User"))
    (f,) = only(analyze_key_policy(policy, CTX), SOD)
    assert (f.principals, f.sid) == (("*",), "Everyone")
    policy["Statement"].append(allow("*", "kms:EnableKey", sid="Account",
                                     cond={"StringEquals": {"kms:CallerAccount": OWNER}}))
    reported = {(f.principals, f.sid) for f in only(analyze_key_policy(policy, CTX), SOD)}
    assert reported == {(("*",), "Everyone"), ((KEY_USER,), "Account")}
    # The same when the class holding both is "*" on one network (review of 993d7c1).
    policy["Statement"][1]["Condition"] = {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}
    reported = {f.principals for f in only(analyze_key_policy(policy, CTX), SOD)}
    assert reported == {("* in network vpce-1a2b3c4d",), (KEY_USER,)}


def test_an_encryption_context_condition_leaves_the_cryptographic_and_grant_actions() -> None:
    (f,) = only(run(CASE_BY_ID["trap-encryption-context-on-kms-star-is-public-use-only"]),
                PUBLIC)
    assert "kms:decrypt" in low(f.actions) and "kms:creategrant" in low(f.actions)
    assert not {"kms:putkeypolicy", "kms:describekey", "kms:enablekey"} & set(low(f.actions))


@pytest.mark.parametrize(("sid", "shown"), [(["a"], '["a"]'), (True, "true"), (5, "5"),
                                            ({"x": [1]}, '{"x": [1]}'), ("Plain", "Plain")])
def test_a_sid_of_any_json_type_is_shown_as_json(sid: Any, shown: str) -> None:
    policy = doc(ROOT, {"Sid": sid, **allow("*", "kms:Decrypt")})
    (f,) = only(analyze_key_policy(policy, CTX), PUBLIC)
    assert f.sid == shown and f.message.startswith(f"Statement 1 ({shown}) ")


def test_messages_name_the_principals_a_not_principal_deny_leaves_of_a_star() -> None:
    """ "*" under a Deny with NotPrincipal is only the principals the NotPrincipal lists:
    messages name them, not "*" (principals stay as written)."""
    spared = with_root(
        allow("*", ["kms:Decrypt", "kms:ScheduleKeyDeletion"], sid="All"),
        not_principal_deny(aws(OWNER_ROOT, APP_ROLE, UNTRUSTED_USER), "kms:*"))
    findings = analyze_key_policy(spared, CTX)
    for f in (*only(findings, SCHEDULE), *only(findings, NO_VIA)):
        assert f.principals == ("*",)
        assert f"lets {APP_ROLE}, {UNTRUSTED_USER} " in f.message


def test_messages_name_an_account_root_by_the_principals_its_arn_condition_leaves() -> None:
    """Another account's root under aws:PrincipalArn naming one of its roles reaches only that
    role; a pattern reaching past the account leaves the root named (principals as written)."""
    reader = f"arn:aws:iam::{UNTRUSTED}:role/Reader"
    for root in (UNTRUSTED_ROOT, UNTRUSTED):
        pinned = with_root(allow(aws(root), ["kms:Decrypt", "kms:PutKeyPolicy"], sid="Ext",
                                 cond={"ArnEquals": {"aws:PrincipalArn": reader}}))
        findings = analyze_key_policy(pinned, CTX)
        for f in (*only(findings, PUT_POLICY), *only(findings, NO_VIA)):
            assert f.principals == (root,)
            assert f"lets {reader} " in f.message
    anywhere = with_root(allow(aws(UNTRUSTED_ROOT), "kms:PutKeyPolicy", sid="Ext",
                               cond={"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/R"}}))
    (f,) = only(analyze_key_policy(anywhere, CTX), PUT_POLICY)
    assert f"lets {UNTRUSTED_ROOT} call" in f.message


# A Deny sparing aws:PrincipalArn patterns whose account part is a wildcard (administrators
# configured as arn:aws:iam::*:role/NAME, as config.yaml's example does) denies every other
# principal: ArnNotLike matches each ARN part on its own
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN).
ANY_ACCOUNT_ADMINS = "arn:aws:iam::*:role/KeyAdministrators"


def _rules(document: Json, ctx: Context) -> set[str]:
    return {f.rule for f in analyze_key_policy(document, ctx)}


def _deny_all_but(patterns: list[str], action: str = "kms:ScheduleKeyDeletion") -> Json:
    return deny("*", action, sid="OnlyAdmins",
                cond={"ArnNotLike": {"aws:PrincipalArn": patterns}})


def test_a_deny_sparing_an_any_account_admin_pattern_takes_the_action_from_others() -> None:
    """Found by review: such a Deny was read as uncertain, so the tool's own narrow-deny
    patch for an administrator pattern never closed its finding."""
    ctx = Context(OWNER, frozenset({TRUSTED}), None, (ANY_ACCOUNT_ADMINS,))
    both = allow(aws(f"arn:aws:iam::{OWNER}:role/KeyAdministrators", APP_ROLE),
                 ["kms:ScheduleKeyDeletion", "kms:Decrypt"], sid="AdminsAndOps")
    assert SCHEDULE in _rules(with_root(both), ctx)
    assert SCHEDULE not in _rules(with_root(both, _deny_all_but([OWNER_ROOT, ANY_ACCOUNT_ADMINS])),
                                    ctx)


def test_star_left_to_roles_of_any_account_by_a_deny_is_public() -> None:
    """What such a Deny leaves of "*" is the principals its patterns match, in every account:
    as public as "*" under the same pattern on the Allow."""
    star = allow("*", "kms:Decrypt", sid="Everyone")
    for spared in (["arn:aws:iam::*:role/*"], [ANY_ACCOUNT_ADMINS, APP_ROLE], ["arn:*"],
                   [OWNER_ROOT, "arn:aws:iam::*:role/*"]):
        assert PUBLIC in _rules(with_root(star, _deny_all_but(spared, "kms:*")), CTX), spared
    mine = _rules(with_root(star, _deny_all_but([f"arn:aws:iam::{OWNER}:role/*"], "kms:*")), CTX)
    assert not mine & {PUBLIC, CROSS}


# aws:PrincipalOrgPaths holds the caller's path, o-ID/r-ROOT/ou-.../
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgpaths):
# a Deny on one OU reaches only the members under it. Found by review.
OU_PATH = f"{FOREIGN_ORG}/r-ab12/ou-ab12-11111111/*"


def test_a_deny_on_one_ou_leaves_the_rest_of_the_organisation() -> None:
    partner = allow("*", ["kms:Decrypt", "kms:DescribeKey"], sid="PartnerOrg",
                    cond={"StringEquals": {"aws:PrincipalOrgID": FOREIGN_ORG}})
    for op in ("ForAnyValue:StringLike", "ForAnyValue:StringEquals"):
        value = OU_PATH if op.endswith("Like") else OU_PATH[:-1]
        one_ou = deny("*", "kms:*", sid="NotPartnerSandbox", cond={op: {
            "aws:PrincipalOrgPaths": value}})
        found = _rules(with_root(partner, one_ou), CTX)
        assert CROSS in found, op
        # The owner is in the trusted organisation, whose paths never start with another's.
        assert "IAM-KMS-1" not in found, op
    whole = deny("*", "kms:*", sid="NotPartner", cond={"ForAnyValue:StringLike": {
        "aws:PrincipalOrgPaths": [f"{FOREIGN_ORG}/r-ab12/*"]}})
    assert CROSS not in _rules(with_root(partner, whole), CTX)


# ${aws:ResourceAccount} and ${aws:ResourceOrgID} are the key's own account and organisation
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html; the
# aws:ResourceAccount and aws:ResourceOrgID sections of the global condition keys page): the
# data-perimeter way of writing "my account" or "my organisation". Found by review.
def test_resource_account_and_organisation_variables_pin_to_the_owner() -> None:
    own_account = allow("*", "kms:Decrypt", sid="OwnAccount", cond={
        "StringEquals": {"aws:PrincipalAccount": "${aws:ResourceAccount}"}})
    own_org = allow("*", "kms:Decrypt", sid="OwnOrg", cond={
        "StringEquals": {"aws:PrincipalOrgID": "${aws:ResourceOrgID}"}})
    for stmt in (own_account, own_org):
        assert not _rules(with_root(stmt), CTX) & {PUBLIC, CROSS}, stmt["Sid"]
    # Without the organisation in the context, its id is unknown: "*" stays public.
    no_org = Context(OWNER, frozenset({TRUSTED}))
    assert PUBLIC in _rules(with_root(own_org), no_org)
    # Variables are resolved only in policies of Version 2012-10-17.
    assert PUBLIC in _rules({"Version": "2008-10-17", "Statement": [ROOT, own_account]}, CTX)
    perimeter = deny("*", "kms:*", sid="Perimeter", cond={
        "StringNotEquals": {"aws:PrincipalOrgID": "${aws:ResourceOrgID}"}})
    found = _rules(with_root(allow("*", "kms:Decrypt", sid="Everyone"), perimeter), CTX)
    assert not found & {PUBLIC, CROSS} and "IAM-KMS-1" not in found


def test_a_deny_on_every_key_of_the_owner_account_applies_without_the_key_arn() -> None:
    """The key is in the owner's account, so arn:aws:kms:*:OWNER:key/* (CloudFormation's
    ${AWS::AccountId} shape) names it whatever its Region and id. Found by review: without
    --key-arn such a Deny was taken as maybe another key's, so its perimeter was ignored."""
    perimeter = deny("*", "kms:*", sid="OnlyOurAccount", cond={
        "StringNotEquals": {"kms:CallerAccount": OWNER}})
    everyone = allow("*", "kms:Decrypt", sid="Everyone")
    for resource, closes in ((f"arn:aws:kms:*:{OWNER}:key/*", True),
                             (f"arn:aws:kms:*:{OWNER}:*", True),
                             (f"arn:aws:kms:eu-west-1:{OWNER}:key/*", False),
                             (f"arn:aws:kms:*:{UNTRUSTED}:key/*", False),
                             (f"arn:aws-cn:kms:*:{OWNER}:key/*", False)):
        found = _rules(with_root(everyone, on(perimeter, resource)), CTX)
        assert (PUBLIC not in found) == closes, resource
    excluded = {k: v for k, v in on(perimeter, None).items()} | {
        "NotResource": f"arn:aws:kms:*:{OWNER}:key/*"}
    assert PUBLIC in _rules(with_root(everyone, excluded), CTX)


def test_an_any_account_admin_pattern_authorises_the_trusts_accounts_only() -> None:
    """arn:aws:iam::*:role/KeyAdministrators (config.yaml's example) names that role in the
    owner's and trusted accounts: anyone can create a role of that name in an account of
    theirs, and its rights to manage the key are reported (found by review)."""
    ctx = Context(OWNER, frozenset({TRUSTED}), None, (ANY_ACCOUNT_ADMINS,))
    for account, reported in ((OWNER, False), (TRUSTED, False), (UNTRUSTED, True)):
        admins = allow(aws(f"arn:aws:iam::{account}:role/KeyAdministrators"),
                       "kms:PutKeyPolicy", sid="Admins")
        assert (PUT_POLICY in _rules(with_root(admins), ctx)) == reported, account


def test_resource_variables_with_defaults_in_resources_and_outside_the_organisation() -> None:
    """Found by review: a default (``${aws:ResourceAccount, 'none'}``) and a variable in
    Resource were left unsettled (false critical findings), and ${aws:ResourceOrgID} was taken
    for the trusted organisation when the members listed leave the owner out."""
    defaulted = allow("*", "kms:Decrypt", sid="OwnAccount", cond={
        "StringEquals": {"aws:PrincipalAccount": "${aws:ResourceAccount, 'none'}"}})
    assert not _rules(with_root(defaulted), CTX) & {PUBLIC, CROSS}
    perimeter = on(deny("*", "kms:*", sid="OnlyOurAccount", cond={
        "StringNotEquals": {"kms:CallerAccount": OWNER}}),
        "arn:aws:kms:*:${aws:ResourceAccount}:key/*")
    assert PUBLIC not in _rules(with_root(allow("*", "kms:Decrypt", sid="All"), perimeter), CTX)
    own_org = allow("*", "kms:Decrypt", sid="OwnOrg", cond={
        "StringEquals": {"aws:PrincipalOrgID": "${aws:ResourceOrgID}"}})
    outside = Context(OWNER, frozenset({TRUSTED}), ORG, org_accounts=frozenset({TRUSTED}))
    assert PUBLIC in _rules(with_root(own_org), outside)


def test_an_org_wide_admin_pattern_statement_is_authorised() -> None:
    """"*" under the trusted organisation and aws:PrincipalArn of the configured administrator
    pattern (any account) reaches just the administrators of the organisation's accounts: no
    destructive-action finding (found by review); the same pattern alone stays public."""
    pattern = "arn:aws:iam::*:role/KeyAdmin"
    ctx = Context(OWNER, frozenset(), ORG, (pattern,))
    admins = allow("*", ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion"], sid="OrgKeyAdmins",
                   cond={"StringEquals": {"aws:PrincipalOrgID": ORG},
                         "ArnLike": {"aws:PrincipalArn": pattern}})
    assert not _rules(with_root(admins), ctx) & {PUBLIC, CROSS, SCHEDULE, PUT_POLICY}
    anywhere = {**admins, "Condition": {"ArnLike": {"aws:PrincipalArn": pattern}}}
    assert {PUBLIC, PUT_POLICY} <= _rules(with_root(anywhere), ctx)
