"""Key policies published in AWS documentation, checked against the key-policy engine.

Each case is one policy as AWS documents it, the context it is checked in, and the findings it
should produce, decided from the documentation and IAM policy evaluation, not from the engine:

* ``exposure`` is the exact set of (rule, statement index) for KMS-PUBLIC, KMS-CROSS-ACCOUNT,
  KMS-SERVICE-UNSCOPED and IAM-KMS-1 (statement None: the key as a whole);
* ``guardrails`` is the exact set for every other rule (IAM-KMS-2..8, KMS-WILDCARD-ACTION).

Statement indexes count from 0, as the engine reports them. The URL of each case is the page
that publishes the policy; the text was read from the page or from the awsdocs/* GitHub copy of
the same guide. Adaptations: account ids substituted (owner 111122223333, a partner
444455556666 passed as trusted only where the case says so, an untrusted 999988887777,
organisation o-a1b2c3d4e5); placeholders (Region, key id, names) filled in; JSON syntax slips
in the published text fixed (a missing comma, a trailing comma). Where a page says to *add* a
statement to the key policy, the statement follows the default root statement, as the page
instructs; where a page publishes a whole policy, it is checked as published. Cases marked
"older" are earlier published versions of a page (the awsdocs/* archive), which keys created
then may still carry. route53_dnssec_ksk is the Terraform AWS provider's documented example, which
reproduces the policy the Route 53 console proposes; org_principalorgid_* is AWS re:Post
Knowledge Center text.

Semantics the expectations rely on:
  Default key policy and the root statement:
    https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
  kms:CallerAccount, kms:ViaService, kms:GrantIsForAWSResource, encryption context:
    https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html
  aws:SourceArn / aws:SourceAccount for service principals (in addition to encryption context):
    https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-services.html
  Condition key names are not case-sensitive (AWS:SourceAccount):
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html
  aws:PrincipalOrgID and aws:PrincipalOrgPaths:
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
"""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest

from remediator.detectors import analyze_key_policy
from remediator.types import Context

OWNER = "111122223333"
PARTNER = "444455556666"
UNTRUSTED = "999988887777"
ORG = "o-a1b2c3d4e5"
KEY_ARN = "arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
KMS_ADMINS = (
    "arn:aws:iam::111122223333:user/KMSAdminUser",
    "arn:aws:iam::111122223333:role/KMSAdminRole",
)
CLOUDTRAIL_USER = "arn:aws:iam::111122223333:user/username"

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
EXPOSURE_RULES = frozenset({PUBLIC, CROSS, SVC, LOCKOUT})

# The README's rule table.
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

Expected = frozenset[tuple[str, int | None]]


class Case(NamedTuple):
    id: str
    url: str
    policy: dict[str, Any]
    context: Context
    exposure: Expected
    guardrails: Expected


# Policies are assembled from the pieces below so that each published text is written once: a
# policy checked in several contexts is one constant, and a statement that several pages publish
# verbatim is one constant or builder. Key order within statements is as published.
Statement = dict[str, Any]
Policy = dict[str, Any]

OWNER_ROOT = f"arn:aws:iam::{OWNER}:root"
PARTNER_ROOT = f"arn:aws:iam::{PARTNER}:root"
AUTOSCALING_SLR = (
    "arn:aws:iam::111122223333:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
)
CLOUDTRAIL_CONTEXT = "kms:EncryptionContext:aws:cloudtrail:arn"
OWNER_TRAILS = "arn:aws:cloudtrail:*:111122223333:trail/*"
TRAIL_NAME_ARN = "arn:aws:cloudtrail:us-west-2:111122223333:trail/trailName"

# what key users get from the console and most guides
KEY_USE_ACTIONS = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:DescribeKey",
]
GRANT_ACTIONS = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]
# what an AWS managed key allows every principal in the account through its service
AWS_MANAGED_KEY_ACTIONS = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:CreateGrant",
    "kms:DescribeKey",
]
CLOUDTRAIL_LOG_DECRYPT_CONDITION = {"Null": {CLOUDTRAIL_CONTEXT: "false"}}
ORG_CONDITION = {"StringEquals": {"aws:PrincipalOrgID": ORG}}


def _policy(*statements: Statement, policy_id: str | None = None) -> Policy:
    """A key policy: Version, the statements in order, then the Id where the page gives one."""
    policy: Policy = {"Version": "2012-10-17", "Statement": list(statements)}
    if policy_id is not None:
        policy["Id"] = policy_id
    return policy


def _allow(
    principal: Any,
    action: Any,
    *,
    sid: str | None = None,
    resource: str = "*",
    condition: dict[str, Any] | None = None,
) -> Statement:
    """An Allow statement in the published key order: Sid, Effect, Principal, Action, Resource,
    Condition (Sid and Condition only where given)."""
    statement: Statement = {} if sid is None else {"Sid": sid}
    statement |= {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource}
    if condition is not None:
        statement["Condition"] = condition
    return statement


def _root(sid: str = "Enable IAM User Permissions") -> Statement:
    """The default root statement: kms:* for the owner account, under the Sid the page uses."""
    return _allow({"AWS": OWNER_ROOT}, "kms:*", sid=sid)


ROOT = _root()


def _use_key(sid: str, principal: Any, condition: dict[str, Any] | None = None) -> Statement:
    return _allow(principal, KEY_USE_ACTIONS, sid=sid, condition=condition)


def _persistent_resources(principal: Any, actions: list[str], grant_flag: Any) -> Statement:
    """The console's grant statement; the pages write the flag as true or "true"."""
    return _allow(
        principal,
        actions,
        sid="Allow attachment of persistent resources",
        condition={"Bool": {"kms:GrantIsForAWSResource": grant_flag}},
    )


def _cloudtrail_log_decrypt(sid: str, resource: str) -> Statement:
    """CloudTrail's console statement: any principal of the owner account decrypts its logs."""
    return _allow(
        {"AWS": "*"},
        ["kms:Decrypt", "kms:ReEncryptFrom"],
        sid=sid,
        resource=resource,
        condition={
            "StringEquals": {"kms:CallerAccount": "111122223333"},
            "StringLike": {CLOUDTRAIL_CONTEXT: OWNER_TRAILS},
        },
    )


def _cloudtrail_console(root_resource: str, resource: str) -> list[Statement]:
    """The statements CloudTrail's console key policy has had in every published version, with
    that version's Resource for the root statement and for the others."""
    cloudtrail = {"Service": ["cloudtrail.amazonaws.com"]}
    return [
        _allow(
            {"AWS": [OWNER_ROOT, CLOUDTRAIL_USER]},
            "kms:*",
            sid="Enable IAM User Permissions",
            resource=root_resource,
        ),
        _allow(
            cloudtrail,
            "kms:GenerateDataKey*",
            sid="Allow CloudTrail to encrypt logs",
            resource=resource,
            condition={"StringLike": {CLOUDTRAIL_CONTEXT: OWNER_TRAILS}},
        ),
        _allow(
            cloudtrail,
            "kms:DescribeKey",
            sid="Allow CloudTrail to describe key",
            resource=resource,
        ),
        _cloudtrail_log_decrypt("Allow principals in the account to decrypt log files", resource),
        _allow(
            {"AWS": "*"},
            "kms:CreateAlias",
            sid="Allow alias creation during setup",
            resource=resource,
            condition={
                "StringEquals": {
                    "kms:ViaService": "ec2.us-west-2.amazonaws.com",
                    "kms:CallerAccount": "111122223333",
                },
            },
        ),
    ]


def _cwlogs(condition: dict[str, Any] | None = None) -> Policy:
    """The CloudWatch Logs guide's key policy, in the version with this condition."""
    logs = _allow(
        {"Service": "logs.us-west-2.amazonaws.com"},
        [
            "kms:Encrypt*",
            "kms:Decrypt*",
            "kms:ReEncrypt*",
            "kms:GenerateDataKey*",
            "kms:Describe*",
        ],
        condition=condition,
    )
    return _policy(ROOT, logs, policy_id="key-default-1")


def _ses_receiving(actions: list[str], condition: dict[str, Any] | None = None) -> Policy:
    """The SES receiving guide's statement, in the version with these actions and condition."""
    ses = _allow(
        {"Service": "ses.amazonaws.com"},
        actions,
        sid="AllowSESToEncryptMessagesBelongingToThisAccount",
        condition=condition,
    )
    return _policy(ROOT, ses)


def _ami_share(sid: str, condition: dict[str, Any]) -> Policy:
    """The EC2 guide's statement sharing an AMI's key with (part of) the organisation."""
    share = _allow(
        "*",
        [
            "kms:Describe*",
            "kms:List*",
            "kms:Get*",
            "kms:Encrypt",
            "kms:Decrypt",
            "kms:ReEncrypt*",
            "kms:GenerateDataKey*",
        ],
        sid=sid,
        condition=condition,
    )
    return _policy(ROOT, share)


# key-policy-default.html: the console default, checked with and without the partner trusted
# and with and without --admin
CONSOLE_KEY_USERS = {
    "AWS": [
        "arn:aws:iam::111122223333:user/ExampleUser",
        "arn:aws:iam::111122223333:role/ExampleRole",
        PARTNER_ROOT,
    ],
}
KMS_CONSOLE_DEFAULT = _policy(
    _root("Enable IAM policies"),
    _allow(
        {"AWS": list(KMS_ADMINS)},
        [
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
        ],
        sid="Allow access for Key Administrators",
    ),
    _use_key("Allow use of the key", CONSOLE_KEY_USERS),
    _persistent_resources(CONSOLE_KEY_USERS, GRANT_ACTIONS, True),
    policy_id="key-consolepolicy-3",
)

# key-policy-modifying-external-accounts.html
EXTERNAL_ACCOUNT_SID = "Allow an external account to use this KMS key"
KMS_EXTERNAL_ACCOUNT = _policy(ROOT, _use_key(EXTERNAL_ACCOUNT_SID, {"AWS": [PARTNER_ROOT]}))
KMS_EXTERNAL_CONSOLE = _policy(
    ROOT,
    _use_key("Allow use of the key", {"AWS": PARTNER_ROOT}),
    _persistent_resources({"AWS": PARTNER_ROOT}, GRANT_ACTIONS, "true"),
)

# conditions-kms.html#conditions-kms-caller-account: the AWS managed key statement for EBS
EBS_MANAGED_KEY_STATEMENT: Statement = {
    "Sid": (
        "Allow access through EBS for all principals in the account that are "
        "authorized to use EBS"
    ),
    "Effect": "Allow",
    "Principal": {"AWS": "*"},
    "Condition": {
        "StringEquals": {
            "kms:CallerAccount": "111122223333",
            "kms:ViaService": "ec2.us-west-2.amazonaws.com",
        },
    },
    "Action": AWS_MANAGED_KEY_ACTIONS,
    "Resource": "*",
}

# create-kms-key-policy-for-cloudtrail.html: another account reads the logs
CLOUDTRAIL_DECRYPT_OTHER_ACCOUNT = _policy(
    ROOT,
    _allow(
        {"AWS": [PARTNER_ROOT]},
        "kms:Decrypt",
        sid="Enable encrypted CloudTrail log read access",
        condition=CLOUDTRAIL_LOG_DECRYPT_CONDITION,
    ),
)

# default-kms-key-policy.html: the current console default
CLOUDTRAIL_CONSOLE_DEFAULT = _policy(
    *_cloudtrail_console(root_resource="*", resource="*"),
    _cloudtrail_log_decrypt("Enable cross account log decryption", "*"),
    policy_id="Key policy created by CloudTrail",
)

# grant-destinations-permissions-to-s3.html#key-policy-sns-sqs
S3_NOTIFICATIONS_STATEMENT = _allow(
    {"Service": "s3.amazonaws.com"},
    ["kms:GenerateDataKey", "kms:Decrypt"],
    sid="example-statement-ID",
)

# the metadata statement of every AWS managed key
KEY_METADATA_STATEMENT = _allow(
    {"AWS": OWNER_ROOT},
    ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"],
    sid="Allow direct access to key metadata to the account",
)

# auth-and-access_examples_cross.html (Secrets Manager)
SECRETSMANAGER_CROSS_ACCOUNT = _policy(
    ROOT,
    _allow(
        {"AWS": "arn:aws:iam::444455556666:role/ApplicationRole"},
        ["kms:Decrypt", "kms:DescribeKey"],
    ),
)

# key-policy-requirements-EBS-encryption.html#policy-example-cmk-cross-account-access
AUTOSCALING_CROSS_ACCOUNT = _policy(
    ROOT,
    _use_key(
        "Allow external account 444455556666 use of the customer managed key",
        {"AWS": [PARTNER_ROOT]},
    ),
    _allow(
        {"AWS": [PARTNER_ROOT]},
        ["kms:CreateGrant"],
        sid="Allow attachment of persistent resources in external account 444455556666",
    ),
)

# repost.aws/knowledge-center/kms-key-organization-account
ORG_PRINCIPALORGID = _policy(
    ROOT,
    _allow(
        {"AWS": "*"},
        [
            "kms:Decrypt",
            "kms:DescribeKey",
            "kms:Encrypt",
            "kms:ReEncrypt*",
            "kms:GetKeyPolicy",
        ],
        sid="Allow use of the KMS key for organization",
        condition=ORG_CONDITION,
    ),
)

# policy-evaluation.html#example-cross-acct
KMS_POLICY_EVALUATION_EXAMPLE_2 = _policy(
    _root("Permission to use IAM policies"),
    _allow(
        {"AWS": PARTNER_ROOT},
        [
            "kms:Encrypt",
            "kms:Decrypt",
            "kms:ReEncryptFrom",
            "kms:ReEncryptTo",
            "kms:GenerateDataKey",
            "kms:GenerateDataKeyWithoutPlaintext",
            "kms:DescribeKey",
        ],
        sid="Allow account 1 to use this KMS key",
    ),
    policy_id="key-policy-acct-2",
)


CASES: list[Case] = [
    # the default key policy: only the owner root, nothing to report
    Case(
        "kms_default_programmatic",
        "https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html",
        _policy(_root("Enable IAM policies")),
        Context(owner_account=OWNER),
        exposure=frozenset(),
        guardrails=frozenset(),
    ),
    # console default with external account 444455556666 as key user: cross-account use and grants
    Case(
        "kms_console_default_untrusted",
        "https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html",
        KMS_CONSOLE_DEFAULT,
        Context(owner_account=OWNER, admins=KMS_ADMINS),
        exposure=frozenset({(CROSS, 2), (CROSS, 3)}),
        guardrails=frozenset({(NO_VIA, 2)}),
    ),
    # same console default with 444455556666 trusted: only the direct-use guardrail
    Case(
        "kms_console_default_trusted",
        "https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html",
        KMS_CONSOLE_DEFAULT,
        Context(owner_account=OWNER, trusted_accounts=frozenset({PARTNER}), admins=KMS_ADMINS),
        exposure=frozenset(),
        guardrails=frozenset({(NO_VIA, 2)}),
    ),
    # no --admin: the key administrators are not authorised for destructive actions
    Case(
        "kms_console_default_no_admins",
        "https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html",
        KMS_CONSOLE_DEFAULT,
        Context(owner_account=OWNER, trusted_accounts=frozenset({PARTNER})),
        exposure=frozenset(),
        guardrails=frozenset({
            (DEL_IMPORTED, 1),
            (SCHEDULE, 1),
            (DISABLE, 1),
            (PUT_POLICY, 1),
            (NO_VIA, 2),
            (DISABLE_ROT, 1),
        }),
    ),
    # the guide's own cross-account example: account 444455556666 may use the key
    Case(
        "kms_external_account_untrusted",
        "https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html",
        KMS_EXTERNAL_ACCOUNT,
        Context(owner_account=OWNER),
        exposure=frozenset({(CROSS, 1)}),
        guardrails=frozenset({(NO_VIA, 1)}),
    ),
    # same statement with the partner trusted: no exposure
    Case(
        "kms_external_account_trusted",
        "https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html",
        KMS_EXTERNAL_ACCOUNT,
        Context(owner_account=OWNER, trusted_accounts=frozenset({PARTNER})),
        exposure=frozenset(),
        guardrails=frozenset({(NO_VIA, 1)}),
    ),
    # external role and user named instead of the account: still cross-account
    Case(
        "kms_external_roles_untrusted",
        "https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html",
        _policy(
            ROOT,
            _use_key(
                EXTERNAL_ACCOUNT_SID,
                {
                    "AWS": [
                        "arn:aws:iam::444455556666:role/ExampleRole",
                        "arn:aws:iam::444455556666:user/ExampleUser",
                    ],
                },
            ),
        ),
        Context(owner_account=OWNER),
        exposure=frozenset({(CROSS, 1)}),
        guardrails=frozenset({(NO_VIA, 1)}),
    ),
    # console 'other AWS accounts' statements: use and service grants for 444455556666
    Case(
        "kms_external_console_untrusted",
        "https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html",
        KMS_EXTERNAL_CONSOLE,
        Context(owner_account=OWNER),
        exposure=frozenset({(CROSS, 1), (CROSS, 2)}),
        guardrails=frozenset({(NO_VIA, 1)}),
    ),
    # same with the partner trusted
    Case(
        "kms_external_console_trusted",
        "https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html",
        KMS_EXTERNAL_CONSOLE,
        Context(owner_account=OWNER, trusted_accounts=frozenset({PARTNER})),
        exposure=frozenset(),
        guardrails=frozenset({(NO_VIA, 1)}),
    ),
    # '*' pinned by kms:CallerAccount (and kms:ViaService): the AWS managed key pattern, not public
    Case(
        "kms_calleraccount_ebs_managed",
        "https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-caller-account",
        _policy(ROOT, EBS_MANAGED_KEY_STATEMENT),
        Context(owner_account=OWNER),
        exposure=frozenset(),
        guardrails=frozenset(),
    ),
    # the AWS managed key statement alone: not public, but no one may PutKeyPolicy
    Case(
        "kms_calleraccount_ebs_managed_alone",
        "https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-caller-account",
        _policy(EBS_MANAGED_KEY_STATEMENT),
        Context(owner_account=OWNER),
        exposure=frozenset({(LOCKOUT, None)}),
        guardrails=frozenset(),
    ),
    # key user limited to EC2/RDS by kms:ViaService, Deny via Lambda: nothing
    Case(
        "kms_viaservice_ec2_rds",
        "https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service",
        _policy(
            ROOT,
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:user/ExampleUser"},
                "Action": [
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:CreateGrant",
                    "kms:ListGrants",
                    "kms:DescribeKey",
                ],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": [
                            "ec2.us-west-2.amazonaws.com",
                            "rds.us-west-2.amazonaws.com",
                        ],
                    },
                },
            },
            {
                "Effect": "Deny",
                "Principal": {"AWS": "arn:aws:iam::111122223333:user/ExampleUser"},
                "Action": ["kms:Encrypt"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"kms:ViaService": ["lambda.us-west-2.amazonaws.com"]},
                },
            },
        ),
        Context(owner_account=OWNER),
        exposure=frozenset(),
        guardrails=frozenset(),
    ),
    # encryption context does not replace kms:ViaService for a role's direct use
    Case(
        "kms_encryption_context_appname",
        "https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-encryption-context",
        _policy(
            ROOT,
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:role/RoleForExampleApp"},
                "Action": "kms:GenerateDataKey",
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:EncryptionContext:AppName": "ExampleApp"}},
            },
        ),
        Context(owner_account=OWNER),
        exposure=frozenset(),
        guardrails=frozenset({(NO_VIA, 1)}),
    ),
    # published as a whole key policy without the root statement: lockout risk
    Case(
        "kms_keyorigin_full_policy",
        "https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-key-origin",
        _policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:user/ExampleUser"},
                "Action": "kms:CreateKey",
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:KeyOrigin": "AWS_KMS"}},
            },
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:user/ExampleUser"},
                "Action": [
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:GenerateDataKey",
                    "kms:GenerateDataKeyWithoutPlaintext",
                    "kms:GenerateDataKeyPair",
                    "kms:GenerateDataKeyPairWithoutPlaintext",
                    "kms:ReEncrypt*",
                ],
                "Resource": "arn:aws:kms:us-west-2:111122223333:key/*",
                "Condition": {"StringEquals": {"kms:KeyOrigin": "AWS_CLOUDHSM"}},
            },
        ),
        Context(owner_account=OWNER),
        exposure=frozenset({(LOCKOUT, None)}),
        guardrails=frozenset({(NO_VIA, 1)}),
    ),
    # whole HMAC key policy without the root statement: lockout risk
    Case(
        "kms_macalgorithm_full_policy",
        "https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-mac-algorithm",
        _policy(
            *(
                _allow(
                    {"AWS": "arn:aws:iam::111122223333:role/testers"},
                    ["kms:GenerateMac", "kms:VerifyMac"],
                    condition={"StringEquals": {"kms:MacAlgorithm": algorithm}},
                )
                for algorithm in ("HMAC_SHA_384", "HMAC_SHA_512")
            ),
        ),
        Context(owner_account=OWNER),
        exposure=frozenset({(LOCKOUT, None)}),
        guardrails=frozenset({(NO_VIA, 0), (NO_VIA, 1)}),
    ),
    # CreateGrant only for AWS resources, owner's user: nothing
    Case(
        "kms_grantisforawsresource",
        "https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-grant-is-for-aws-resource",
        _policy(
            ROOT,
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:user/ExampleUser"},
                "Action": "kms:CreateGrant",
                "Resource": "*",
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": True}},
            },
        ),
        Context(owner_account=OWNER),
        exposure=frozenset(),
        guardrails=frozenset(),
    ),
    # root plus a Deny outside the VPC endpoint: nothing
    Case(
        "kms_vpce_example_key_1",
        "https://docs.aws.amazon.com/kms/latest/developerguide/kms-vpc-endpoint.html",
        _policy(
            {
                "Sid": "Enable IAM user permissions",
                "Effect": "Allow",
                "Principal": {"AWS": ["111122223333"]},
                "Action": ["kms:*"],
                "Resource": "*",
            },
            {
                "Sid": "Restrict usage to my VPC endpoint",
                "Effect": "Deny",
                "Principal": "*",
                "Action": [
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                ],
                "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:sourceVpce": "vpce-0295a3caf8414c94a"}},
            },
            policy_id="example-key-1",
        ),
        Context(owner_account=OWNER),
        exposure=frozenset(),
        guardrails=frozenset(),
    ),
    # root may PutKeyPolicy only from vpc-12345678: not unconditional
    Case(
        "kms_vpce_example_key_2",
        "https://docs.aws.amazon.com/kms/latest/developerguide/kms-vpc-endpoint.html",
        _policy(
            {
                "Sid": "Allow administrative actions from vpc-12345678",
                "Effect": "Allow",
                "Principal": {"AWS": "111122223333"},
                "Action": [
                    "kms:Create*",
                    "kms:Enable*",
                    "kms:Put*",
                    "kms:Update*",
                    "kms:Revoke*",
                    "kms:Disable*",
                    "kms:Delete*",
                    "kms:TagResource",
                    "kms:UntagResource",
                ],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:sourceVpc": "vpc-12345678"}},
            },
            {
                "Sid": "Allow key usage from vpc-2b2b2b2b",
                "Effect": "Allow",
                "Principal": {"AWS": "111122223333"},
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:sourceVpc": "vpc-2b2b2b2b"}},
            },
            {
                "Sid": "Allow read actions from everywhere",
                "Effect": "Allow",
                "Principal": {"AWS": "111122223333"},
                "Action": ["kms:Describe*", "kms:List*", "kms:Get*"],
                "Resource": "*",
            },
            policy_id="example-key-2",
        ),
        Context(owner_account=OWNER),
        exposure=frozenset({(LOCKOUT, None)}),
        guardrails=frozenset(),
    ),
    # published whole policy: CloudTrail scoped by aws:SourceArn, but no root statement
    Case(
        "kms_services_cloudtrail_sourcearn_full",
        "https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-services.html#least-privilege-source-arn",
        _policy(
            {
                "Sid": "Allow CloudTrail to encrypt logs",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:GenerateDataKey",
                "Resource": "*",
                "Condition": {
                    "ArnEquals": {
                        "aws:SourceArn": [
                            "arn:aws:cloudtrail:us-west-2:111122223333:trail/finance",
                        ],
                    },
                    "StringLike": {CLOUDTRAIL_CONTEXT: [OWNER_TRAILS]},
                },
            },
        ),
        Context(owner_account=OWNER),
        exposure=frozenset({(LOCKOUT, None)}),
        guardrails=frozenset(),
    ),
    # grants pinned by kms:ViaService, kms:CallerAccount and context: nothing
    Case(
        "kms_services_location_grants",
        "https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-services.html#least-privilege-encryption-context",
        _policy(
            ROOT,
            {
                "Sid": "Allow Amazon Location to create grants on behalf of authorized users",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:role/LocationTeam"},
                "Action": "kms:CreateGrant",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": "geo.us-west-2.amazonaws.com",
                        "kms:CallerAccount": "111122223333",
                        "kms:EncryptionContext:aws:geo:arn": (
                            "arn:aws:geo:us-west-2:111122223333:tracker/SAMPLE-Tracker"
                        ),
                    },
                },
            },
        ),
        Context(owner_account=OWNER),
        exposure=frozenset(),
        guardrails=frozenset(),
    ),
    # CloudTrail statements scoped by aws:SourceArn; Bob decrypts directly
    Case(
        "cloudtrail_required_sections",
        "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html",
        _policy(
            ROOT,
            {
                "Sid": "Allow CloudTrail to encrypt logs",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:GenerateDataKey*",
                "Resource": KEY_ARN,
                "Condition": {
                    "StringLike": {CLOUDTRAIL_CONTEXT: [OWNER_TRAILS]},
                    "StringEquals": {"aws:SourceArn": TRAIL_NAME_ARN},
                },
            },
            {
                "Sid": "Enable CloudTrail log decrypt permissions",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:user/Bob"},
                "Action": "kms:Decrypt",
                "Resource": KEY_ARN,
                "Condition": CLOUDTRAIL_LOG_DECRYPT_CONDITION,
            },
            {
                "Sid": "Allow CloudTrail access",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:DescribeKey",
                "Resource": KEY_ARN,
                "Condition": {"StringEquals": {"aws:SourceArn": TRAIL_NAME_ARN}},
            },
        ),
        Context(owner_account=OWNER, key_arn=KEY_ARN),
        exposure=frozenset(),
        guardrails=frozenset({(NO_VIA, 2)}),
    ),
    # logs read by another account's users: cross-account
    Case(
        "cloudtrail_decrypt_other_account_untrusted",
        "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html#create-kms-key-policy-for-cloudtrail-decrypt-different-bucket",
        CLOUDTRAIL_DECRYPT_OTHER_ACCOUNT,
        Context(owner_account=OWNER),
        exposure=frozenset({(CROSS, 1)}),
        guardrails=frozenset({(NO_VIA, 1)}),
    ),
    # same with that account trusted
    Case(
        "cloudtrail_decrypt_other_account_trusted",
        "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html#create-kms-key-policy-for-cloudtrail-decrypt-different-bucket",
        CLOUDTRAIL_DECRYPT_OTHER_ACCOUNT,
        Context(owner_account=OWNER, trusted_accounts=frozenset({PARTNER})),
        exposure=frozenset(),
        guardrails=frozenset({(NO_VIA, 1)}),
    ),
    # aws:SourceArn names the owner's trail, so the service is scoped
    Case(
        "cloudtrail_encrypt_two_accounts",
        "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html#create-kms-key-policy-for-cloudtrail-encrypt",
        _policy(
            ROOT,
            {
                "Sid": "Enable CloudTrail Encrypt Permissions",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {
                    "StringLike": {
                        CLOUDTRAIL_CONTEXT: [
                            OWNER_TRAILS,
                            "arn:aws:cloudtrail:*:444455556666:trail/*",
                        ],
                    },
                    "StringEquals": {"aws:SourceArn": TRAIL_NAME_ARN},
                },
            },
        ),
        Context(owner_account=OWNER),
        exposure=frozenset(),
        guardrails=frozenset(),
    ),
    # event data store statements carry no aws:SourceArn/SourceAccount (the docs say they cannot)
    Case(
        "cloudtrail_lake_eds",
        "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html",
        _policy(
            ROOT,
            _allow(
                {"Service": "cloudtrail.amazonaws.com"},
                "kms:GenerateDataKey",
                sid="Allow CloudTrail to encrypt event data store",
            ),
            _allow(
                {"Service": "cloudtrail.amazonaws.com"},
                "kms:Decrypt",
                sid="Allow CloudTrail to decrypt an event data store",
            ),
        ),
        Context(owner_account=OWNER),
        exposure=frozenset({(SVC, 1), (SVC, 2)}),
        guardrails=frozenset(),
    ),
    # console default: kms:* to user/username, service statements without aws:SourceArn
    Case(
        "cloudtrail_console_default",
        "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/default-kms-key-policy.html",
        CLOUDTRAIL_CONSOLE_DEFAULT,
        Context(owner_account=OWNER),
        exposure=frozenset({(SVC, 1), (SVC, 2)}),
        guardrails=frozenset({
            (DEL_IMPORTED, 0),
            (SCHEDULE, 0),
            (DISABLE, 0),
            (PUT_POLICY, 0),
            (NO_VIA, 0),
            (NO_VIA, 3),
            (NO_VIA, 5),
            (DISABLE_ROT, 0),
            (SOD, 0),
            (SOD, 4),
            (WILD, 0),
        }),
    ),
    # same with user/username as administrator: separation of duties only
    Case(
        "cloudtrail_console_default_useradmin",
        "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/default-kms-key-policy.html",
        CLOUDTRAIL_CONSOLE_DEFAULT,
        Context(owner_account=OWNER, admins=(CLOUDTRAIL_USER,)),
        exposure=frozenset({(SVC, 1), (SVC, 2)}),
        guardrails=frozenset({(NO_VIA, 0), (NO_VIA, 3), (NO_VIA, 5), (SOD, 0), (SOD, 4)}),
    ),
    # logs service scoped by encryption context only: the rule asks for SourceAccount/SourceArn
    Case(
        "cwlogs_single_log_group",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html",
        _cwlogs({
            "ArnEquals": {
                "kms:EncryptionContext:aws:logs:arn": (
                    "arn:aws:logs:us-west-2:111122223333:log-group:log-group-name"
                ),
            },
        }),
        Context(owner_account=OWNER),
        exposure=frozenset({(SVC, 1)}),
        guardrails=frozenset(),
    ),
    # logs service scoped by an encryption-context ARN pattern only
    Case(
        "cwlogs_account_log_groups",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html",
        _cwlogs({
            "ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-west-2:111122223333:*",
            },
        }),
        Context(owner_account=OWNER),
        exposure=frozenset({(SVC, 1)}),
        guardrails=frozenset(),
    ),
    # older logs statement with no condition at all
    Case(
        "cwlogs_old_unconditioned",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html",
        _cwlogs(),
        Context(owner_account=OWNER),
        exposure=frozenset({(SVC, 1)}),
        guardrails=frozenset(),
    ),
    # log delivery scoped by aws:SourceAccount and aws:SourceArn: nothing
    Case(
        "logs_delivery_sse_kms_s3",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-and-resource-policy.html#AWS-logs-SSE-KMS-S3",
        _policy(
            ROOT,
            _use_key(
                "Allow Logs Delivery to use the key",
                {"Service": ["delivery.logs.amazonaws.com"]},
                {
                    "StringEquals": {"aws:SourceAccount": ["111122223333"]},
                    "ArnLike": {"aws:SourceArn": ["arn:aws:logs:us-east-1:111122223333:*"]},
                },
            ),
        ),
        Context(owner_account=OWNER),
        exposure=frozenset(),
        guardrails=frozenset(),
    ),
    # WAF guide's log delivery statement has no condition
    Case(
        "waf_logs_delivery_unconditioned",
        "https://docs.aws.amazon.com/waf/latest/developerguide/logging-s3.html",
        _policy(
            ROOT,
            _use_key(
                "Allow Logs Delivery to use the key",
                {"Service": "delivery.logs.amazonaws.com"},
            ),
        ),
        Context(owner_account=OWNER),
        exposure=frozenset({(SVC, 1)}),
        guardrails=frozenset(),
    ),
    # Config scoped by AWS:SourceAccount (key names are case-insensitive)
    Case(
        "config_service_principal_sourceaccount",
        "https://docs.aws.amazon.com/config/latest/developerguide/s3-kms-key-policy.html#granting-access-s3-kms-key",
        _policy(
            ROOT,
            {
                "Sid": "AWSConfigKMSPolicy",
                "Effect": "Allow",
                "Principal": {"Service": "config.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": KEY_ARN,
                "Condition": {"StringEquals": {"AWS:SourceAccount": "111122223333"}},
            },
            policy_id="Policy_ID",
        ),
        Context(owner_account=OWNER, key_arn=KEY_ARN),
        exposure=frozenset(),
        guardrails=frozenset(),
    ),
    # three accounts named by id: the untrusted one is cross-account
    Case(
        "config_iam_role_accounts",
        "https://docs.aws.amazon.com/config/latest/developerguide/s3-kms-key-policy.html#required-permissions-s3-kms-key-using-iam-role",
        _policy(
            ROOT,
            {
                "Sid": "AWSConfigKMSPolicy",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Effect": "Allow",
                "Resource": KEY_ARN,
                "Principal": {"AWS": ["111122223333", "444455556666", "999988887777"]},
            },
            policy_id="Policy_ID",
        ),
        Context(owner_account=OWNER, trusted_accounts=frozenset({PARTNER}), key_arn=KEY_ARN),
        exposure=frozenset({(CROSS, 1)}),
        guardrails=frozenset({(NO_VIA, 1)}),
    ),
    # GuardDuty statement as published in this version has no condition
    Case(
        "guardduty_export_unconditioned",
        "https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_exportfindings.html",
        _policy(
            ROOT,
            _allow(
                {"Service": "guardduty.amazonaws.com"},
                "kms:GenerateDataKey",
                sid="Allow GuardDuty to use the key",
            ),
            policy_id="key-consolepolicy",
        ),
        Context(owner_account=OWNER),
        exposure=frozenset({(SVC, 1)}),
        guardrails=frozenset(),
    ),
    # s3.amazonaws.com for event notifications, no condition
    Case(
        "s3_event_notifications_key",
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/grant-destinations-permissions-to-s3.html#key-policy-sns-sqs",
        _policy(ROOT, S3_NOTIFICATIONS_STATEMENT, policy_id="example-ID"),
        Context(owner_account=OWNER),
        exposure=frozenset({(SVC, 1)}),
        guardrails=frozenset(),
    ),
    # the same, pasted as the whole policy: also no root statement
    Case(
        "s3_event_notifications_key_as_published",
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/grant-destinations-permissions-to-s3.html#key-policy-sns-sqs",
        _policy(S3_NOTIFICATIONS_STATEMENT, policy_id="example-ID"),
        Context(owner_account=OWNER),
        exposure=frozenset({(LOCKOUT, None), (SVC, 0)}),
        guardrails=frozenset(),
    ),
    # SNS guide's event-source statement (EventBridge) has no condition
    Case(
        "sns_event_sources_events",
        "https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services",
        _policy(
            ROOT,
            _allow({"Service": "events.amazonaws.com"}, ["kms:GenerateDataKey*", "kms:Decrypt"]),
        ),
        Context(owner_account=OWNER),
        exposure=frozenset({(SVC, 1)}),
        guardrails=frozenset(),
    ),
    # SQS guide's event-source statement (SNS) has no condition
    Case(
        "sqs_event_sources_sns",
        "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html#compatibility-with-aws-services",
        _policy(
            ROOT,
            _allow({"Service": "sns.amazonaws.com"}, ["kms:GenerateDataKey", "kms:Decrypt"]),
        ),
        Context(owner_account=OWNER),
        exposure=frozenset({(SVC, 1)}),
        guardrails=frozenset(),
    ),
    # aws/secretsmanager: not public; the owner root cannot PutKeyPolicy
    Case(
        "secretsmanager_aws_managed_key",
        "https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html#security-encryption-policies",
        _policy(
            {
                "Sid": (
                    "Allow access through AWS Secrets Manager for all principals in the "
                    "account that are authorized to use AWS Secrets Manager"
                ),
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": [
                    "kms:Decrypt",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:CreateGrant",
                    "kms:DescribeKey",
                ],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": "secretsmanager.us-west-2.amazonaws.com",
                        "kms:CallerAccount": "111122223333",
                    },
                },
            },
            KEY_METADATA_STATEMENT,
            policy_id="auto-secretsmanager-1",
        ),
        Context(owner_account=OWNER),
        exposure=frozenset({(LOCKOUT, None)}),
        guardrails=frozenset(),
    ),
    # role in Account2 decrypts the secret: cross-account
    Case(
        "secretsmanager_cross_account_untrusted",
        "https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples_cross.html",
        SECRETSMANAGER_CROSS_ACCOUNT,
        Context(owner_account=OWNER),
        exposure=frozenset({(CROSS, 1)}),
        guardrails=frozenset({(NO_VIA, 1)}),
    ),
    # same with Account2 trusted
    Case(
        "secretsmanager_cross_account_trusted",
        "https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples_cross.html",
        SECRETSMANAGER_CROSS_ACCOUNT,
        Context(owner_account=OWNER, trusted_accounts=frozenset({PARTNER})),
        exposure=frozenset(),
        guardrails=frozenset({(NO_VIA, 1)}),
    ),
    # aws/dynamodb: not public; read-only service statement is unscoped; no PutKeyPolicy
    Case(
        "dynamodb_aws_managed_key",
        "https://docs.aws.amazon.com/kms/latest/developerguide/services-dynamodb.html#dynamodb-policies",
        _policy(
            _allow(
                {"AWS": "*"},
                AWS_MANAGED_KEY_ACTIONS,
                sid=(
                    "Allow access through Amazon DynamoDB for all principals in the account "
                    "that are authorized to use Amazon DynamoDB"
                ),
                condition={
                    "StringEquals": {
                        "kms:CallerAccount": "111122223333",
                        "kms:ViaService": "dynamodb.us-west-2.amazonaws.com",
                    },
                },
            ),
            KEY_METADATA_STATEMENT,
            _allow(
                {"Service": "dynamodb.amazonaws.com"},
                ["kms:Describe*", "kms:Get*", "kms:List*"],
                sid=(
                    "Allow DynamoDB Service with service principal name "
                    "dynamodb.amazonaws.com to describe the key directly"
                ),
            ),
            policy_id="auto-dynamodb-1",
        ),
        Context(owner_account=OWNER),
        exposure=frozenset({(LOCKOUT, None), (SVC, 2)}),
        guardrails=frozenset(),
    ),
    # the Auto Scaling service-linked role uses the key directly
    Case(
        "autoscaling_slr_same_account",
        "https://docs.aws.amazon.com/autoscaling/ec2/userguide/key-policy-requirements-EBS-encryption.html#policy-example-cmk-access",
        _policy(
            ROOT,
            _use_key(
                "Allow service-linked role use of the customer managed key",
                {"AWS": [AUTOSCALING_SLR]},
            ),
            _persistent_resources({"AWS": [AUTOSCALING_SLR]}, ["kms:CreateGrant"], True),
        ),
        Context(owner_account=OWNER),
        exposure=frozenset(),
        guardrails=frozenset({(NO_VIA, 1)}),
    ),
    # external account may use the key and create grants
    Case(
        "autoscaling_cross_account_untrusted",
        "https://docs.aws.amazon.com/autoscaling/ec2/userguide/key-policy-requirements-EBS-encryption.html#policy-example-cmk-cross-account-access",
        AUTOSCALING_CROSS_ACCOUNT,
        Context(owner_account=OWNER),
        exposure=frozenset({(CROSS, 1), (CROSS, 2)}),
        guardrails=frozenset({(NO_VIA, 1)}),
    ),
    # same with the external account trusted
    Case(
        "autoscaling_cross_account_trusted",
        "https://docs.aws.amazon.com/autoscaling/ec2/userguide/key-policy-requirements-EBS-encryption.html#policy-example-cmk-cross-account-access",
        AUTOSCALING_CROSS_ACCOUNT,
        Context(owner_account=OWNER, trusted_accounts=frozenset({PARTNER})),
        exposure=frozenset(),
        guardrails=frozenset({(NO_VIA, 1)}),
    ),
    # signing scoped by SourceAccount/SourceArn; the CreateGrant statement is not
    Case(
        "route53_dnssec_ksk",
        "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/route53_key_signing_key",
        _policy(
            {
                "Action": ["kms:DescribeKey", "kms:GetPublicKey", "kms:Sign"],
                "Effect": "Allow",
                "Principal": {"Service": "dnssec-route53.amazonaws.com"},
                "Sid": "Allow Route 53 DNSSEC Service",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": "111122223333"},
                    "ArnLike": {"aws:SourceArn": "arn:aws:route53:::hostedzone/*"},
                },
            },
            {
                "Action": "kms:CreateGrant",
                "Effect": "Allow",
                "Principal": {"Service": "dnssec-route53.amazonaws.com"},
                "Sid": "Allow Route 53 DNSSEC Service to CreateGrant",
                "Resource": "*",
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
            {
                "Action": "kms:*",
                "Effect": "Allow",
                "Principal": {"AWS": OWNER_ROOT},
                "Resource": "*",
                "Sid": "Enable IAM User Permissions",
            },
        ),
        Context(owner_account=OWNER),
        exposure=frozenset({(SVC, 1)}),
        guardrails=frozenset(),
    ),
    # SES scoped by AWS:SourceAccount and AWS:SourceArn
    Case(
        "ses_receiving_sourcearn",
        "https://docs.aws.amazon.com/ses/latest/dg/receiving-email-permissions.html#receiving-email-permissions-kms",
        _ses_receiving(
            ["kms:GenerateDataKey*"],
            {
                "StringEquals": {
                    "AWS:SourceAccount": "111122223333",
                    "AWS:SourceArn": (
                        "arn:aws:ses:us-east-1:111122223333:receipt-rule-set/rule_set_name:receipt-rule/receipt_rule_name"
                    ),
                },
            },
        ),
        Context(owner_account=OWNER),
        exposure=frozenset(),
        guardrails=frozenset(),
    ),
    # older SES statement with no condition
    Case(
        "ses_receiving_unconditioned_old",
        "https://docs.aws.amazon.com/ses/latest/dg/receiving-email-permissions.html#receiving-email-permissions-kms",
        _ses_receiving(["kms:Encrypt", "kms:GenerateDataKey*"]),
        Context(owner_account=OWNER),
        exposure=frozenset({(SVC, 1)}),
        guardrails=frozenset(),
    ),
    # older SES statement scoped by encryption context only
    Case(
        "ses_receiving_encryption_context_old",
        "https://docs.aws.amazon.com/ses/latest/dg/receiving-email-permissions.html#receiving-email-permissions-kms",
        _ses_receiving(
            ["kms:Encrypt", "kms:GenerateDataKey*"],
            {
                "Null": {
                    "kms:EncryptionContext:aws:ses:rule-name": "false",
                    "kms:EncryptionContext:aws:ses:message-id": "false",
                },
                "StringEquals": {
                    "kms:EncryptionContext:aws:ses:source-account": "111122223333",
                },
            },
        ),
        Context(owner_account=OWNER),
        exposure=frozenset({(SVC, 1)}),
        guardrails=frozenset(),
    ),
    # CloudFront OAC scoped by AWS:SourceArn of the owner's distribution
    Case(
        "cloudfront_oac_sse_kms",
        "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-restricting-access-to-s3.html#create-oac-overview-s3",
        _policy(
            ROOT,
            _allow(
                {"Service": ["cloudfront.amazonaws.com"]},
                ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"],
                sid="AllowCloudFrontServicePrincipalSSE-KMS",
                condition={
                    "StringEquals": {
                        "AWS:SourceArn": (
                            "arn:aws:cloudfront::111122223333:distribution/EDFDVBD6EXAMPLE"
                        ),
                    },
                },
            ),
        ),
        Context(owner_account=OWNER),
        exposure=frozenset(),
        guardrails=frozenset(),
    ),
    # '*' pinned to the owner's organisation: not public, direct use only
    Case(
        "org_principalorgid_ctx",
        "https://repost.aws/knowledge-center/kms-key-organization-account",
        ORG_PRINCIPALORGID,
        Context(owner_account=OWNER, org_id=ORG),
        exposure=frozenset(),
        guardrails=frozenset({(NO_VIA, 1)}),
    ),
    # the same organisation unknown to the context: a foreign organisation
    Case(
        "org_principalorgid_no_ctx",
        "https://repost.aws/knowledge-center/kms-key-organization-account",
        ORG_PRINCIPALORGID,
        Context(owner_account=OWNER),
        exposure=frozenset({(CROSS, 1)}),
        guardrails=frozenset({(NO_VIA, 1)}),
    ),
    # AMI sharing with the owner's organisation
    Case(
        "ec2_ami_share_org",
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/allow-org-ou-to-use-key.html",
        _ami_share("Allow access for organization root", ORG_CONDITION),
        Context(owner_account=OWNER, org_id=ORG),
        exposure=frozenset(),
        guardrails=frozenset({(NO_VIA, 1)}),
    ),
    # AMI sharing with OUs of the owner's organisation
    Case(
        "ec2_ami_share_ous",
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/allow-org-ou-to-use-key.html",
        _ami_share(
            "Allow access for specific OUs and their descendants",
            {
                **ORG_CONDITION,
                "ForAnyValue:StringLike": {
                    "aws:PrincipalOrgPaths": [
                        "o-a1b2c3d4e5/r-ab12/ou-ab12-33333333/*",
                        "o-a1b2c3d4e5/r-ab12/ou-ab12-22222222/*",
                    ],
                },
            },
        ),
        Context(owner_account=OWNER, org_id=ORG),
        exposure=frozenset(),
        guardrails=frozenset({(NO_VIA, 1)}),
    ),
    # as published in 2022: the root statement names an S3 ARN, so it never applies
    Case(
        "cloudtrail_console_default_2022_literal",
        "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/default-kms-key-policy.html",
        _policy(
            *_cloudtrail_console(root_resource="arn:aws:s3:::myBucketName", resource=KEY_ARN),
            policy_id="Key policy created by CloudTrail",
        ),
        Context(owner_account=OWNER, key_arn=KEY_ARN),
        exposure=frozenset({(LOCKOUT, None), (SVC, 1), (SVC, 2)}),
        guardrails=frozenset({(NO_VIA, 3), (SOD, 4)}),
    ),
    # Lake console default: service statement without SourceArn (unsupported there)
    Case(
        "cloudtrail_lake_console_default",
        "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/default-kms-key-policy.html#default-kms-key-policy-eds",
        _policy(
            _allow(
                {"Service": ["cloudtrail.amazonaws.com"]},
                ["kms:GenerateDataKey", "kms:Decrypt"],
                sid=(
                    "The key created by CloudTrail to encrypt event data stores. Created "
                    "${new Date().toUTCString()}"
                ),
            ),
            ROOT,
            _allow(
                {"AWS": "arn:aws:iam::111122223333:role/EventDataStoreRole"},
                ["kms:Decrypt", "kms:GenerateDataKey"],
                sid="Enable user to have permissions",
            ),
            policy_id="Key policy created by CloudTrail",
        ),
        Context(owner_account=OWNER),
        exposure=frozenset({(SVC, 0)}),
        guardrails=frozenset({(NO_VIA, 2)}),
    ),
    # the guide's default policy example: nothing
    Case(
        "kms_policy_evaluation_example_1",
        "https://docs.aws.amazon.com/kms/latest/developerguide/policy-evaluation.html#example-no-iam",
        _policy(_root("Delegate to IAM policies"), policy_id="key-test-1"),
        Context(owner_account=OWNER),
        exposure=frozenset(),
        guardrails=frozenset(),
    ),
    # the guide's cross-account example: account 1 uses the key
    Case(
        "kms_policy_evaluation_example_2_untrusted",
        "https://docs.aws.amazon.com/kms/latest/developerguide/policy-evaluation.html#example-cross-acct",
        KMS_POLICY_EVALUATION_EXAMPLE_2,
        Context(owner_account=OWNER),
        exposure=frozenset({(CROSS, 1)}),
        guardrails=frozenset({(NO_VIA, 1)}),
    ),
    # same with account 1 trusted
    Case(
        "kms_policy_evaluation_example_2_trusted",
        "https://docs.aws.amazon.com/kms/latest/developerguide/policy-evaluation.html#example-cross-acct",
        KMS_POLICY_EVALUATION_EXAMPLE_2,
        Context(owner_account=OWNER, trusted_accounts=frozenset({PARTNER})),
        exposure=frozenset(),
        guardrails=frozenset({(NO_VIA, 1)}),
    ),
    # The AWS data-perimeter key policy: two Denies that spare the organisation, services
    # and the network perimeter. The network Deny also needs aws:PrincipalTag/...include
    # "true", which the root user, who has no tags, never carries (aws:PrincipalTag is "included
    # in the request context if the principal is using an IAM user with attached tags" or a
    # tagged role): the owner root keeps kms:PutKeyPolicy, so no IAM-KMS-1; nobody else holds
    # anything.
    Case(
        "data_perimeter_kms_key_policy",
        "https://github.com/aws-samples/data-perimeter-policy-examples/blob/main/resource_based_policies/kms_key_policy.json",
        _policy(
            ROOT,
            {
                "Sid": "EnforceIdentityPerimeter",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "kms:*",
                "Resource": "*",
                "Condition": {
                    "StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"},
                    "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
                },
            },
            {
                "Sid": "EnforceNetworkPerimeter",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "kms:*",
                "Resource": "*",
                "Condition": {
                    "NotIpAddressIfExists": {"aws:SourceIp": "192.0.2.0/24"},
                    "StringNotEqualsIfExists": {
                        "aws:SourceVpc": "vpc-12345678",
                        "aws:PrincipalTag/network-perimeter-exception": "true",
                    },
                    "BoolIfExists": {
                        "aws:PrincipalIsAWSService": "false",
                        "aws:ViaAWSService": "false",
                    },
                    "ArnNotLikeIfExists": {
                        "aws:PrincipalArn": [
                            "arn:aws:iam::111122223333:role/aws-service-role/*",
                            "arn:aws:iam::*:role/aws:ec2-infrastructure",
                        ],
                    },
                    "StringEquals": {"aws:PrincipalTag/data-perimeter-include": "true"},
                },
            },
        ),
        Context(owner_account=OWNER, org_id=ORG),
        exposure=frozenset(),
        guardrails=frozenset(),
    ),
]


# Service statements tied to the owner's resources by the service's own encryption context
# (kms:EncryptionContext:aws:logs:arn, ...:aws:cloudtrail:arn, ...:aws:ses:source-account)
# and nothing else: KMS-SERVICE-UNSCOPED at low severity, defence in depth
# (tests/test_service_context.py).
TIED_BY_CONTEXT = {
    "cloudtrail_console_default": 1, "cloudtrail_console_default_useradmin": 1,
    "cloudtrail_console_default_2022_literal": 1, "cwlogs_single_log_group": 1,
    "cwlogs_account_log_groups": 1, "ses_receiving_encryption_context_old": 1,
}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_documented_key_policy(case: Case) -> None:
    findings = analyze_key_policy(case.policy, case.context)
    exposure = {(f.rule, f.statement) for f in findings if f.rule in EXPOSURE_RULES}
    guardrails = {(f.rule, f.statement) for f in findings if f.rule not in EXPOSURE_RULES}
    assert exposure == case.exposure
    assert guardrails == case.guardrails
    statements = case.policy["Statement"]
    for f in findings:
        tied = f.rule == SVC and TIED_BY_CONTEXT.get(case.id) == f.statement
        assert f.severity == ("low" if tied else SEVERITY[f.rule]), f
        if f.statement is not None:
            assert f.sid == statements[f.statement].get("Sid"), f


def test_case_ids_are_unique() -> None:
    assert len({c.id for c in CASES}) == len(CASES)
