"""Differential test: the symbolic detectors and the concrete evaluator agree on exposure.

For generated key policies, KMS-PUBLIC, KMS-CROSS-ACCOUNT or KMS-SERVICE-UNSCOPED is reported
(by ``analyze_key_policy``, built on ``conditions.py``/``access.py``) iff some outsider request
in ``representative_requests`` is allowed some action (by ``policy.evaluate``, written
independently from the IAM documentation). KMS-SERVICE-UNSCOPED belongs to the set because a
service principal acting for another customer is an outsider request too.

Outsider requests from a network a policy names count only when a principal named explicitly
lets them in: the detectors follow Access Analyzer in taking ``"*"`` on a fixed network path as
not exposed (``requests.exposed_actions``).

Where the two disagree, the AWS documentation decided who is right. The evaluator was fixed
where it was wrong; where the symbolic engine is wrong it is left unchanged and the minimal
counterexample is kept below as an ``xfail(strict=True)`` test with the reason. The agreement
property runs on a pool of constructs outside those known cases; the whole pool, known cases
included, is kept as a strict xfail so that it fails loudly once the engine is fixed.

Pages cited in the cases:
  OPS  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
  SET  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
  KEYS https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
  PRIN https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
  NOTP https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from remediator.detectors import analyze_key_policy
from remediator.policy import parse_policy
from remediator.policy.requests import exposed_actions, representative_requests
from remediator.types import Context

OWNER, TRUSTED, UNTRUSTED = "111122223333", "444455556666", "999988887777"
ORG, FOREIGN_ORG = "o-a1b2c3d4e5", "o-zz99yy88xx"
CTX = Context(OWNER, trusted_accounts=frozenset({TRUSTED}), org_id=ORG)
EXPOSURE = frozenset({"KMS-PUBLIC", "KMS-CROSS-ACCOUNT", "KMS-SERVICE-UNSCOPED"})

Json = dict[str, Any]


def root(account: str) -> str:
    return f"arn:aws:iam::{account}:root"


MALLORY = f"arn:aws:iam::{UNTRUSTED}:user/mallory"
OPS_SESSION = f"arn:aws:sts::{UNTRUSTED}:assumed-role/Ops/s2"
AWS_PRINCIPALS = [
    "*", root(OWNER), OWNER, f"arn:aws:iam::{OWNER}:role/App",
    f"arn:aws:iam::{OWNER}:role/KeyAdmin", root(TRUSTED),
    f"arn:aws:iam::{TRUSTED}:role/team/Reader", root(UNTRUSTED), MALLORY,
    # sessions: App's (a role named above), and one of a role of the untrusted account
    f"arn:aws:sts::{OWNER}:assumed-role/App/s1", OPS_SESSION,
]
SERVICES = ["cloudtrail.amazonaws.com", "logs.us-east-1.amazonaws.com"]
ACTIONS = ["kms:*", "kms:Decrypt", "kms:Encrypt", "kms:PutKeyPolicy", "kms:Describe*", "*"]

# (operator, key, value): restricting and non-restricting conditions an IAM principal's
# statement may carry, and those a service principal's statement may carry.
AWS_CONDITIONS = [
    ("StringEquals", "kms:CallerAccount", OWNER),
    ("StringEquals", "kms:CallerAccount", [OWNER, TRUSTED]),
    ("StringEquals", "kms:CallerAccount", UNTRUSTED),
    ("StringEquals", "aws:PrincipalAccount", TRUSTED),
    ("StringEquals", "aws:PrincipalOrgID", ORG),
    ("StringEquals", "aws:PrincipalOrgID", FOREIGN_ORG),
    ("ForAnyValue:StringLike", "aws:PrincipalOrgPaths", f"{ORG}/*"),
    # one OU of an organisation: some of its members, not all (found by review)
    ("ForAnyValue:StringLike", "aws:PrincipalOrgPaths", f"{FOREIGN_ORG}/r-ab12/ou-ab12-1111/*"),
    ("ForAnyValue:StringLike", "aws:PrincipalOrgPaths", f"{ORG}/r-ab12/ou-ab12-1111/*"),
    ("ArnLike", "aws:PrincipalArn", f"arn:aws:iam::{OWNER}:role/*"),
    ("ArnLike", "aws:PrincipalArn", f"arn:aws:iam::{UNTRUSTED}:*"),
    ("ArnNotLike", "aws:PrincipalArn", f"arn:aws:iam::{OWNER}:role/*"),
    ("StringNotEquals", "kms:CallerAccount", [OWNER, TRUSTED]),
    ("StringEquals", "kms:ViaService", "s3.us-east-1.amazonaws.com"),
    ("Bool", "aws:SecureTransport", "true"),
    ("StringEquals", "aws:SourceVpce", "vpce-1a2b3c4d"),
    ("IpAddress", "aws:SourceIp", "10.0.0.0/8"),
    ("IpAddress", "aws:SourceIp", "0.0.0.0/0"),
    ("StringEqualsIgnoreCase", "aws:SourceVpce", "VPCE-1A2B3C4D"),
    # keys only some actions carry: an encryption context, the grant-for-a-resource flag
    ("StringEquals", "kms:EncryptionContext:dept", "finance"),
    ("Bool", "kms:GrantIsForAWSResource", "true"),
    # keys that shut IAM callers out: "*" then stands for service principals alone
    ("Bool", "aws:PrincipalIsAWSService", "true"),
    ("StringLike", "aws:PrincipalIsAWSService", "t*"),
    ("StringEquals", "aws:PrincipalServiceName", "cloudtrail.amazonaws.com"),
    # tags of the IAM caller: a service principal has none
    ("StringEquals", "aws:PrincipalTag/team", "ops"),
]
ALLOW_ONLY_AWS_CONDITIONS = [("StringLike", "kms:CallerAccount", "*")]
# A Deny on a key only some actions carry certainly holds for the others, where it reads as on
# a missing key (the negated operator and the IfExists one hold there). For the actions that
# carry it, the caller decides it: such a Deny is drawn with a Principal, not a NotPrincipal,
# since the two sides read "*" on a named network differently after a Deny that spares callers
# by name and may not apply (the engine leaves "*" as it was; the evaluator's
# ``spared_by_name`` takes the spared callers as named wherever the Deny holds in their own
# request, which for a key only some actions carry differs by action).
DENY_ONLY_AWS_CONDITIONS = [("StringNotEquals", "kms:EncryptionContext:dept", "finance"),
                            ("BoolIfExists", "kms:GrantIsForAWSResource", "false")]
SERVICE_CONDITIONS = [
    ("StringEquals", "aws:SourceAccount", OWNER),
    ("StringEquals", "aws:SourceAccount", UNTRUSTED),
    ("StringEquals", "aws:SourceAccount", [OWNER, TRUSTED]),
    ("ArnLike", "aws:SourceArn", f"arn:aws:cloudtrail:*:{OWNER}:trail/*"),
    ("StringNotEquals", "aws:SourceAccount", [OWNER, TRUSTED]),
    ("StringEquals", "kms:ViaService", "s3.us-east-1.amazonaws.com"),
    ("Bool", "aws:SecureTransport", "true"),
    # a key a service's request never has: an organisation, a VPC endpoint
    ("StringEquals", "aws:PrincipalOrgID", ORG),
    ("StringEquals", "aws:SourceVpce", "vpce-1a2b3c4d"),
]
# Constructs of the known disagreements below; only the whole-pool test uses them.
KNOWN_CASE_CONDITIONS = [
    ("StringEqualsIfExists", "kms:CallerAccount", OWNER),
    ("ForAllValues:StringEquals", "kms:CallerAccount", OWNER),
    ("StringNotEquals", "kms:CallerAccount", UNTRUSTED),
    ("Null", "kms:CallerAccount", "false"),
    ("StringEquals", "aws:SourceAccount", UNTRUSTED),
    ("StringNotEquals", "aws:SourceAccount", UNTRUSTED),
    ("StringEquals", "aws:PrincipalType", "User"),
    ("StringEquals", "aws:PrincipalType", "FederatedUser"),
    ("ForAnyValue:StringEquals", "aws:PrincipalServiceNamesList", "cloudtrail.amazonaws.com"),
    ("StringEqualsIfExists", "kms:CallerAccount", OWNER),
]

# Keys the caller sets with each request: a Deny on them is uncertain to the engine, which does
# not relate it to the same condition on an Allow (the known case "deny-matches-allow-condition").
REQUEST_KEYS = frozenset(
    {"kms:viaservice", "aws:securetransport", "aws:sourcevpce", "aws:sourceip",
     "kms:encryptioncontext:dept", "kms:grantisforawsresource",
     # and the caller's tags, which a Deny and an Allow may both name (a random draw in CI)
     "aws:principaltag/team"}
)

CALLER_ACCOUNT_KEYS = frozenset({"kms:calleraccount", "aws:principalaccount"})
# Keys under which "*" stands for service principals alone.
SERVICE_ONLY = frozenset({"aws:PrincipalIsAWSService", "aws:PrincipalServiceName"})
SOURCE_KEYS = frozenset({"aws:sourceaccount", "aws:sourcearn"})
WHOLE_POOL = (AWS_CONDITIONS + ALLOW_ONLY_AWS_CONDITIONS + DENY_ONLY_AWS_CONDITIONS
              + SERVICE_CONDITIONS + KNOWN_CASE_CONDITIONS)

Cond = tuple[str, str, Any]


def allow(principal: Any, action: Any = "kms:Decrypt", cond: Json | None = None) -> Json:
    out: Json = {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*"}
    if cond:
        out["Condition"] = cond
    return out


def deny(action: Any = "kms:*", cond: Json | None = None, **element: Any) -> Json:
    out: Json = {"Effect": "Deny", **element, "Action": action, "Resource": "*"}
    if cond:
        out["Condition"] = cond
    return out


def doc(*stmts: Json) -> Json:
    return {"Version": "2012-10-17", "Statement": list(stmts)}


def deny_agrees(cond: Cond) -> bool:
    """Conditions a Deny may carry in the agreement pool (the others make known cases)."""
    op, key = cond[0], cond[1].lower()
    return key not in REQUEST_KEYS and op != "ArnNotLike" and not (
        op == "StringEquals" and key in CALLER_ACCOUNT_KEYS) and not (
        # a positive Deny on a source key is not related to the Allow's pin on the same key
        # (the known case "service-deny-matches-allow-source-account")
        key in SOURCE_KEYS and "Not" not in op) and (
        # a Deny scope has no dimension for the service's name: a Deny on it is uncertain
        key not in ("aws:principalservicename", "aws:principalservicenameslist"))


def condition_block(conds: list[Cond]) -> Json:
    block: Json = {}
    for op, key, value in conds:
        block.setdefault(op, {})[key] = value
    return block


@st.composite
def statements(draw: st.DrawFn, whole_pool: bool) -> Json:
    """One statement: an IAM or a service principal, actions, conditions from the pool."""
    effect = draw(st.sampled_from(["Allow", "Allow", "Deny"]))
    service = draw(st.integers(0, 3)) == 0
    if service:
        principal: Any = {
            "Service": draw(
                st.lists(st.sampled_from(SERVICES), min_size=1, max_size=2, unique=True)
            )
        }
        pool = SERVICE_CONDITIONS
    else:
        aws = draw(st.lists(st.sampled_from(AWS_PRINCIPALS), min_size=1, max_size=3, unique=True))
        principal = "*" if aws == ["*"] and draw(st.booleans()) else {"AWS": aws}
        pool = AWS_CONDITIONS + (ALLOW_ONLY_AWS_CONDITIONS if effect == "Allow" else [])
    if effect == "Deny":
        pool = [c for c in pool if deny_agrees(c)] + ([] if service else DENY_ONLY_AWS_CONDITIONS)
    if whole_pool:
        pool = WHOLE_POOL
    out: Json = {"Effect": effect}
    conds = draw(st.lists(st.sampled_from(pool), max_size=2, unique_by=lambda c: (c[0], c[1])))
    if not whole_pool and any(c[1] in SERVICE_ONLY for c in conds):
        # (the known case "caller-account-of-a-service-is-unknown")
        conds = [c for c in conds if c[1].lower() not in CALLER_ACCOUNT_KEYS]
    if (effect == "Deny" and not service and principal != "*" and draw(st.booleans())
            and (whole_pool or not any(c in DENY_ONLY_AWS_CONDITIONS for c in conds))):
        out["NotPrincipal"] = not_principal(principal["AWS"], whole_pool)
    else:
        out["Principal"] = principal
    actions = draw(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=2, unique=True))
    out["NotAction" if draw(st.integers(0, 5)) == 0 else "Action"] = actions
    out["Resource"] = "*"
    if conds:
        out["Condition"] = condition_block(conds)
    return out


def not_principal(values: list[str], whole_pool: bool) -> Json:
    """NotPrincipal names each exempted principal's account too, and a session's role, as the
    AWS docs require
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html);
    the whole pool also tries it without, and with "*"."""
    if whole_pool:
        return {"AWS": values}
    named = [v for v in values if v != "*"] or [root(OWNER)]
    accounts = {v.split(":")[4] if v.startswith("arn:") else v for v in named}
    roles = {f"arn:aws:iam::{v.split(':')[4]}:role/{v.split('/')[1]}"
             for v in named if ":assumed-role/" in v}
    return {"AWS": sorted(set(named) | {root(a) for a in accounts} | roles)}


@st.composite
def policies(draw: st.DrawFn, whole_pool: bool = False) -> Json:
    stmts = []
    if draw(st.booleans()):
        stmts.append(allow({"AWS": root(OWNER)}, "kms:*"))
    stmts += draw(st.lists(statements(whole_pool), min_size=1, max_size=3))
    return {"Version": "2012-10-17", "Statement": stmts}


def exposure(document: Json) -> tuple[set[str], list[str]]:
    """(exposure rules the detectors report, outsider requests the evaluator allows)."""
    symbolic = {f.rule for f in analyze_key_policy(document, CTX)} & EXPOSURE
    policy = parse_policy(document)
    allowed = [
        f"{r.kind}:{r.principal} {dict(r.context)}"
        for r in representative_requests(policy, policy, CTX)
        if r.is_outsider and exposed_actions(policy, r)
    ]
    return symbolic, allowed


def assert_agree(document: Json) -> None:
    symbolic, allowed = exposure(document)
    assert bool(symbolic) == bool(allowed), (
        f"detectors report {sorted(symbolic)}, evaluator allows {allowed[:2]}"
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies())
def test_detectors_and_evaluator_agree_on_exposure(doc: Json) -> None:
    assert_agree(doc)


# Found by differential fuzzing (a random draw in CI): a Deny that spares one account by
# NotPrincipal but holds only for services left "*" on a named endpoint to every IAM caller;
# the evaluator took that account as named by the Deny, so as exposed on the endpoint, though
# the Deny denied no IAM caller there. Access Analyzer's rule: "*" on a fixed network path is
# not exposure, and nothing narrowed it here.
def test_a_not_principal_deny_that_does_not_hold_names_nobody() -> None:
    doc = {"Version": "2012-10-17", "Statement": [
        allow({"AWS": ["*"]}, "kms:*", {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}),
        {"Effect": "Deny", "NotPrincipal": {"AWS": [root(UNTRUSTED)]}, "Action": ["kms:*"],
         "Resource": "*", "Condition": {"Bool": {"aws:PrincipalIsAWSService": "true"}}}]}
    assert exposure(doc) == (set(), [])
    holds = {**doc, "Statement": [doc["Statement"][0], {
        **doc["Statement"][1], "Condition": {"Bool": {"aws:PrincipalIsAWSService": "false"}}}]}
    symbolic, allowed = exposure(holds)
    assert symbolic and allowed  # where it denies the others, the account left is named


# Found by differential fuzzing: the evaluator dropped every service request whose context
# named a network, and with two network keys named every context but two did, so it saw no
# outsider service request meeting aws:SecureTransport and disagreed with the detectors.
def test_service_requests_are_tried_off_the_named_networks() -> None:
    doc = {"Version": "2012-10-17", "Statement": [
        allow({"Service": "logs.us-east-1.amazonaws.com"}, "kms:Decrypt",
              {"Bool": {"aws:SecureTransport": "true"}}),
        allow({"AWS": root(OWNER)}, "kms:Decrypt",
              {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
               "StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}})]}
    symbolic, allowed = exposure(doc)
    assert symbolic == {"KMS-SERVICE-UNSCOPED"} and allowed


# The same for IAM callers: "*" pinned to an untrusted account lets it in from anywhere, and
# every context but two named a network, where "*" is not counted as exposure.
def test_iam_requests_are_tried_off_the_named_networks_too() -> None:
    doc = {"Version": "2012-10-17", "Statement": [
        allow("*", "kms:Decrypt", {"Bool": {"aws:SecureTransport": "true"},
                                   "StringEquals": {"kms:CallerAccount": UNTRUSTED}}),
        allow({"AWS": root(OWNER)}, "kms:Decrypt",
              {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
               "StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}})]}
    symbolic, allowed = exposure(doc)
    assert symbolic == {"KMS-CROSS-ACCOUNT"} and allowed


# A range holding every address names no network (conditions.covers_every_address): "*" from
# 0.0.0.0/0 is public, and the evaluator must not take such a request for one from a named
# network. An IgnoreCase operator names its endpoint in any case (OPS, string operators), so a
# request from it is on the named network whatever case the request writes it in.
@pytest.mark.parametrize(("condition", "public"), [
    ({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}, True),
    ({"IpAddress": {"aws:SourceIp": ["0.0.0.0/1", "128.0.0.0/1"]}}, True),
    ({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, False),
    ({"StringEqualsIgnoreCase": {"aws:SourceVpce": "VPCE-1A2B3C4D"}}, False),
])
def test_the_evaluator_knows_which_networks_a_policy_names(condition: Json,
                                                           public: bool) -> None:
    doc = {"Version": "2012-10-17", "Statement": [
        allow({"AWS": root(OWNER)}, "kms:*"), allow("*", "kms:Decrypt", condition)]}
    symbolic, allowed = exposure(doc)
    assert symbolic == ({"KMS-PUBLIC"} if public else set())
    assert bool(allowed) is public, allowed


@pytest.mark.xfail(strict=True, reason="the known disagreements below are in this pool")
@settings(
    max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(policies(whole_pool=True))
def test_detectors_and_evaluator_agree_on_the_whole_pool(doc: Json) -> None:
    assert_agree(doc)


# --- known disagreements: the symbolic engine is wrong (left unchanged) -----------------------


# fmt: off
KNOWN: dict[str, tuple[Json, str]] = {
    # Missed exposure. A service principal has no account, so kms:CallerAccount is absent from
    # its requests and "...IfExists" makes the condition true: any service, acting for any
    # customer, passes. The engine treats kms:CallerAccount as always present (ALWAYS_PRESENT)
    # and reads the condition as a pin to the owner. IfExists: "If the key is not present,
    # evaluate the condition element as true" (OPS#Conditions_IfExists); aws:SourceAccount and
    # friends are what service principals carry, "only available when the call to your
    # resource is made directly by an AWS service principal" (KEYS).
    "ifexists-caller-account-lets-services-in": (
        doc(allow({"AWS": "*"}, cond={"StringEqualsIfExists": {"kms:CallerAccount": OWNER}})),
        "StringEqualsIfExists on kms:CallerAccount holds for service principals (no account)"),
    # Missed exposure. NotPrincipal "*" spares every principal, so this Deny denies nobody; the
    # engine reads it as denying everybody. NotPrincipal denies "all principals except the
    # principal specified" (NOTP).
    "notprincipal-star-denies-nobody": (
        doc(allow({"AWS": MALLORY}), deny(NotPrincipal={"AWS": "*"})),
        'a Deny with NotPrincipal "*" is read as denying everyone instead of no one'),
    # Missed exposure. "*" is all principals, service principals included (PRIN#principal-
    # anonymous; the docs pair "*" Denies with aws:PrincipalIsAWSService for that reason); the
    # Deny spares cloudtrail, which may then decrypt for any customer. The engine gives "*" no
    # service grantee.
    "star-covers-service-principals": (
        doc(allow("*"), deny(NotPrincipal={"Service": "cloudtrail.amazonaws.com"})),
        'Principal "*" is not taken to include service principals'),
    # Missed exposure. aws:SourceAccount exists only in service-to-service requests (KEYS#
    # condition-keys-sourceaccount), so this Deny never applies to an IAM principal; the engine
    # takes it as a pin to that account.
    "source-account-deny-never-applies-to-iam-principals": (
        doc(allow({"AWS": root(UNTRUSTED)}),
            deny(Principal="*", cond={"StringEquals": {"aws:SourceAccount": UNTRUSTED}})),
        "aws:SourceAccount is taken to pin IAM principals, whose requests never carry it"),
    # Missed exposure. cloudtrail acting for 999988887777 carries aws:SourceAccount, not
    # kms:CallerAccount, so the Deny does not apply to it; the engine keeps both keys in one
    # "accounts" dimension and takes the Deny as covering the service's source account.
    "source-account-conflated-with-caller-account": (
        doc(allow({"Service": "cloudtrail.amazonaws.com"}, "kms:*",
                  {"StringEquals": {"aws:SourceAccount": UNTRUSTED}}),
            deny(Principal={"AWS": "*"},
                 cond={"StringEquals": {"kms:CallerAccount": UNTRUSTED}})),
        "a service's source account and an IAM caller's account are one dimension"),
    # False positive (a dead statement): the IAM principals this Allow names never carry
    # aws:SourceAccount (KEYS#condition-keys-sourceaccount).
    "source-account-allow-is-dead-for-iam-principals": (
        doc(allow({"AWS": root(UNTRUSTED)},
                  cond={"StringEquals": {"aws:SourceAccount": UNTRUSTED}})),
        "aws:SourceAccount is taken to pin IAM principals, whose requests never carry it"),
    # False positive (a dead statement). kms:CallerAccount of a principal of 999988887777 is
    # 999988887777, so the condition never holds for the only callers the Principal names.
    "negated-caller-account-contradicts-principal": (
        doc(allow({"AWS": root(UNTRUSTED)},
                  cond={"StringNotEquals": {"kms:CallerAccount": UNTRUSTED}})),
        "conditions that contradict the Principal's own account are not noticed"),
    # False positive (a dead statement). The Allow holds only when the source account is not
    # 999988887777 and the Deny exactly then; the engine ignores the Allow's negated condition
    # and leaves 999988887777 as what the Deny does not cover.
    "negated-allow-condition-is-ignored": (
        doc(allow({"Service": "cloudtrail.amazonaws.com"}, "kms:*",
                  {"StringNotEquals": {"aws:SourceAccount": UNTRUSTED}}),
            deny(Principal={"Service": "cloudtrail.amazonaws.com"},
                 cond={"StringNotEquals": {"aws:SourceAccount": UNTRUSTED}})),
        "an Allow's negated condition is not used to narrow who it lets in"),
    # False positive. The Allow needs kms:ViaService s3 and the Deny applies exactly then; the
    # engine takes a Deny on a key the caller sets as avoidable, not relating it to the Allow.
    "deny-matches-allow-condition": (
        doc(allow({"Service": "cloudtrail.amazonaws.com"}, "kms:*",
                  {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}),
            deny(Principal={"Service": "cloudtrail.amazonaws.com"},
                 cond={"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}})),
        "a Deny's condition is not related to the same condition on the Allow"),
    # False positive (a dead statement). The Allow needs aws:SourceAccount 999988887777 and the
    # Deny applies exactly then. The engine takes a positive Deny on a source key as uncertain
    # (a service may send no aws:SourceAccount: "only available when the call to your resource
    # is made directly by an AWS service principal", KEYS) and does not see that the Allow
    # already requires the key. Found by the random agreement test.
    "service-deny-matches-allow-source-account": (
        doc(allow({"Service": "cloudtrail.amazonaws.com"}, "kms:*",
                  {"StringEquals": {"aws:SourceAccount": UNTRUSTED}}),
            deny(Principal={"Service": "cloudtrail.amazonaws.com"},
                 cond={"StringEquals": {"aws:SourceAccount": UNTRUSTED}})),
        "a Deny's aws:SourceAccount is not related to the same pin on the Allow"),
    # False positive. The Deny spares only roles of 111122223333, so every principal of
    # 999988887777 is denied; the engine leaves a grantee of 999988887777 "pinned" to the
    # 111122223333 role pattern without seeing that no principal can be both.
    "deny-exemption-pattern-in-another-account": (
        doc(allow({"AWS": root(UNTRUSTED)}, "kms:*"),
            deny(Principal={"AWS": "*"}, cond={
                "ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{OWNER}:role/*"}})),
        "a Deny's ArnNotLike exemption is not checked against the grantee's account"),
    # False positive. ForAllValues on a single-valued key that is present is an ordinary match
    # ("true if every key value in the request matches at least one value in the policy",
    # SET): the callers of 999988887777 never match 111122223333.
    "forallvalues-on-present-key-still-restricts": (
        doc(allow({"AWS": root(UNTRUSTED)},
                  cond={"ForAllValues:StringEquals": {"kms:CallerAccount": OWNER}})),
        "ForAllValues on kms:CallerAccount is taken to restrict nothing"),
    # False positive. Service principals carry no kms:CallerAccount, aws:PrincipalOrgID or
    # aws:PrincipalArn, so such statements allow nobody.
    "identity-keys-on-service-principals": (
        doc(allow({"Service": "cloudtrail.amazonaws.com"},
                  cond={"StringEquals": {"kms:CallerAccount": UNTRUSTED}})),
        "IAM identity keys are taken to pin service principals"),
    # False positive. The NotPrincipal lists mallory but not her account: "AWS might validate
    # the account first" (NOTP), so the Deny may still deny her.
    "notprincipal-without-account-may-still-deny": (
        doc(allow("*"), deny(NotPrincipal={"AWS": MALLORY})),
        "a NotPrincipal user without its account is taken as certainly spared"),
    # False positive. The NotPrincipal lists a session and its account but not its role: AWS
    # "might validate the account first, then the role, and then the assumed-role user"
    # (NOTP), so the Deny may still deny the session. Found by the random agreement test once
    # sessions were drawn.
    "notprincipal-session-without-role-may-still-deny": (
        doc(allow({"AWS": OPS_SESSION}, "kms:*"),
            deny(NotPrincipal={"AWS": [root(UNTRUSTED), OPS_SESSION]})),
        "a NotPrincipal session without its role is taken as certainly spared"),
    # False positive. The Allow lets in the callers of 999988887777 whose aws:PrincipalArn
    # matches the pattern, and the Deny exactly those; the engine kept the Allow's callers as
    # "the account" (their federated users' sts ARNs, which the pattern misses, among them).
    "deny-principal-pattern-matches-allow-pattern": (
        doc(allow("*", "kms:*", {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{UNTRUSTED}:*"}}),
            deny(Principal="*",
                 cond={"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{UNTRUSTED}:*"}})),
        "a Deny's aws:PrincipalArn pattern is not related to the same pattern on the Allow"),
    # False positive. Under aws:PrincipalServiceName "*" is cloudtrail alone. The evaluator
    # gives a service principal's request no kms:CallerAccount; the engine does not know what
    # it holds there ("no page says", and aws:PrincipalAccount is "included in the request
    # context for all requests", KEYS), so it reads it as the account the service acts for and
    # reports cloudtrail acting for 999988887777. Doubt never hides access. Found by review.
    "caller-account-of-a-service-is-unknown": (
        doc(allow("*", "kms:Decrypt", {"StringEquals": {
            "aws:PrincipalServiceName": "cloudtrail.amazonaws.com",
            "kms:CallerAccount": UNTRUSTED}})),
        "a service principal's kms:CallerAccount is read as the account it acts for"),
    # False positive (a dead statement). aws:PrincipalType of an IAM user is "User"
    # (KEYS#condition-keys-principaltype), so the only caller this Allow names never meets it.
    # Found by the random agreement test once federated users were tried.
    "principal-type-contradicts-principal": (
        doc(allow({"AWS": MALLORY}, "kms:*",
                  {"StringEquals": {"aws:PrincipalType": "FederatedUser"}})),
        "aws:PrincipalType is not checked against the type of the principals named"),
    # False positive. Only cloudtrail's request lists cloudtrail.amazonaws.com in
    # aws:PrincipalServiceNamesList, and the Deny names it. The list holds every name of the
    # calling service (KEYS#condition-keys-principalservicenameslist), so the engine keeps
    # any service behind "*" rather than guess which names a service has. Found by review.
    "service-names-list-taken-for-any-service": (
        doc(deny(Principal={"Service": "cloudtrail.amazonaws.com"}),
            allow({"AWS": "*"}, "kms:*", {"ForAnyValue:StringEquals": {
                "aws:PrincipalServiceNamesList": "cloudtrail.amazonaws.com"}})),
        "a ForAnyValue on aws:PrincipalServiceNamesList is taken to let in any service"),
    # False positive. StringLike "*" on kms:CallerAccount (like Null "false") holds for every
    # IAM caller, so the Deny certainly applies to mallory; the engine calls it uncertain.
    "always-true-deny-condition-is-uncertain": (
        doc(allow({"AWS": MALLORY}, "kms:*"),
            deny(NotPrincipal={"Service": "cloudtrail.amazonaws.com"},
                 cond={"StringLike": {"kms:CallerAccount": "*"}})),
        "a wildcard match on an always-present key is not taken as certain"),
}
MISSED_BY_ENGINE = frozenset({
    "ifexists-caller-account-lets-services-in", "notprincipal-star-denies-nobody",
    "star-covers-service-principals", "source-account-deny-never-applies-to-iam-principals",
    "source-account-conflated-with-caller-account",
})
# fmt: on


# The engine once missed these exposures; they are fixed and stay as regression cases.
FIXED = {name: KNOWN.pop(name) for name in sorted(MISSED_BY_ENGINE)}


@pytest.mark.parametrize("name", sorted(FIXED))
def test_formerly_missed_exposure_is_now_reported(name: str) -> None:
    symbolic, allowed = exposure(FIXED[name][0])
    assert allowed, f"{name}: the evaluator must allow an outsider here"
    assert symbolic, f"{name}: {FIXED[name][1]}"


# The engine once reported these exposures falsely; fixed, they stay as regression cases.
NO_LONGER_REPORTED = {name: KNOWN.pop(name) for name in (
    "deny-exemption-pattern-in-another-account",
    "source-account-allow-is-dead-for-iam-principals",
    "forallvalues-on-present-key-still-restricts",
    "always-true-deny-condition-is-uncertain",
    "deny-principal-pattern-matches-allow-pattern",
)}


@pytest.mark.parametrize("name", sorted(NO_LONGER_REPORTED))
def test_formerly_false_exposure_is_no_longer_reported(name: str) -> None:
    symbolic, allowed = exposure(NO_LONGER_REPORTED[name][0])
    assert not allowed, f"{name}: the evaluator must deny every outsider here"
    assert not symbolic, f"{name}: {NO_LONGER_REPORTED[name][1]}"


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=KNOWN[n][1])) for n in KNOWN],
)
def test_known_disagreement(name: str) -> None:
    """Each minimal counterexample: fails (xfail) while the symbolic engine is wrong on it."""
    assert_agree(KNOWN[name][0])


def test_known_disagreements_are_the_engines_not_the_evaluators() -> None:
    """The evaluator's side of each case, pinned: who is allowed (or not) concretely."""
    for name, (policy, _) in KNOWN.items():
        symbolic, allowed = exposure(policy)
        missed = name in MISSED_BY_ENGINE
        assert bool(allowed) == missed, name
        assert bool(symbolic) != missed, name

