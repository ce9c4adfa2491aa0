"""``parse_policy`` refuses documents that are not key policies, with a PolicyError.

The grammar: a policy is an object with a Statement that is one statement object or a list of
them; each statement has Effect "Allow" or "Deny", a Principal or NotPrincipal, an Action or
NotAction, and an optional Condition object of known operators.
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
  https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html
  https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from remediator.errors import BadInputError, PolicyError
from remediator.policy import parse_policy

OWNER_ROOT = "arn:aws:iam::111122223333:root"

GOOD_STATEMENT: dict[str, Any] = {
    "Sid": "Enable IAM User Permissions",
    "Effect": "Allow",
    "Principal": {"AWS": OWNER_ROOT},
    "Action": "kms:*",
    "Resource": "*",
}


def policy_with(**changes: Any) -> dict[str, Any]:
    """A valid policy whose one statement has ``changes`` applied (None deletes a field)."""
    stmt = copy.deepcopy(GOOD_STATEMENT)
    for key, value in changes.items():
        if value is None:
            stmt.pop(key, None)
        else:
            stmt[key] = value
    return {"Version": "2012-10-17", "Statement": [stmt]}


VALID = [
    pytest.param({"Version": "2012-10-17", "Statement": [GOOD_STATEMENT]}, id="statement-list"),
    pytest.param({"Version": "2012-10-17", "Statement": GOOD_STATEMENT}, id="statement-object"),
    pytest.param(
        policy_with(Principal="*", Condition={"StringEquals": {"kms:CallerAccount": "1"}}),
        id="principal-star-with-condition",
    ),
    pytest.param(
        policy_with(Principal=None, NotPrincipal={"AWS": OWNER_ROOT}, Effect="Deny"),
        id="notprincipal-deny",
    ),
    pytest.param(policy_with(Action=None, NotAction=["kms:Decrypt"]), id="notaction"),
    pytest.param(
        policy_with(Condition={"ForAnyValue:StringLikeIfExists": {"aws:PrincipalOrgPaths": "o-*"}}),
        id="qualified-ifexists-operator",
    ),
    # Condition values may be numbers and booleans (IAM reads them as strings).
    pytest.param(
        policy_with(Condition={"NumericLessThan": {"aws:MultiFactorAuthAge": 3600},
                               "Bool": {"aws:SecureTransport": True}}),
        id="number-and-boolean-condition-values",
    ),
    # Every form of Principal.AWS that PutKeyPolicy accepts.
    pytest.param(policy_with(Principal={"AWS": "111122223333"}), id="principal-account-id"),
    pytest.param(policy_with(Principal={"AWS": ["*", " arn:aws:iam::111122223333:root "]}),
                 id="principal-star-and-padded-arn"),
    pytest.param(policy_with(Principal={"AWS": "arn:aws-us-gov:iam::444455556666:role/a/b"}),
                 id="principal-other-partition"),
    pytest.param(policy_with(Principal={"AWS": "arn:aws:sts::444455556666:assumed-role/R/s"}),
                 id="principal-session"),
    pytest.param(policy_with(Principal={"AWS": "arn:aws:iam::*:root"}),
                 id="principal-wildcard-account"),
    pytest.param(policy_with(Principal={"AWS": ["AIDAJQABLZS4A3QDU576Q", "AROAEXAMPLEID"]}),
                 id="principal-unique-ids-of-deleted-principals"),
    pytest.param(policy_with(Principal={"Service": ["s3.amazonaws.com"],
                                        "Federated": "cognito-identity.amazonaws.com",
                                        "CanonicalUser": "79a59df900b949e55d96a1e698fbace"}),
                 id="principal-other-types"),
    # Element names are read case-insensitively.
    pytest.param({"version": "2012-10-17", "statement": [
        {"sid": "x", "effect": "Allow", "principal": {"aws": OWNER_ROOT}, "action": "kms:*",
         "resource": "*", "condition": {"Bool": {"aws:SecureTransport": "true"}}}]},
                 id="lower-case-elements"),
]

INVALID = [
    # Actions and resources are strings: a number is a malformed policy, not an action "5".
    pytest.param(policy_with(Action=5), id="action-is-a-number"),
    pytest.param(policy_with(Action=["kms:Decrypt", True]), id="action-list-with-a-boolean"),
    pytest.param(policy_with(Resource=5), id="resource-is-a-number"),
    pytest.param(policy_with(Action=None, NotAction=[1]), id="notaction-with-a-number"),
    pytest.param([GOOD_STATEMENT], id="document-is-a-list"),
    pytest.param("{}", id="document-is-a-string"),
    pytest.param(None, id="document-is-null"),
    pytest.param(42, id="document-is-a-number"),
    pytest.param({"Version": "2012-10-17"}, id="no-statement"),
    pytest.param({"Version": "2012-10-17", "Statement": "Allow"}, id="statement-is-a-string"),
    pytest.param({"Version": "2012-10-17", "Statement": 7}, id="statement-is-a-number"),
    pytest.param({"Version": "2012-10-17", "Statement": None}, id="statement-is-null"),
    pytest.param({"Version": "2012-10-17", "Statement": ["Allow"]}, id="statement-item-string"),
    pytest.param(
        {"Version": "2012-10-17", "Statement": [GOOD_STATEMENT, 5]}, id="second-statement-number"
    ),
    pytest.param({"Version": "2012-10-17", "Statement": [[GOOD_STATEMENT]]}, id="nested-list"),
    pytest.param(policy_with(Effect=None), id="effect-missing"),
    pytest.param(policy_with(Effect="Permit"), id="effect-permit"),
    pytest.param(policy_with(Effect=""), id="effect-empty"),
    pytest.param(policy_with(Effect=True), id="effect-not-a-string"),
    pytest.param(policy_with(Principal=None), id="no-principal"),
    pytest.param(policy_with(Action=None), id="no-action"),
    pytest.param(
        policy_with(Condition={"StringEqualz": {"aws:PrincipalAccount": "111122223333"}}),
        id="unknown-operator",
    ),
    pytest.param(
        policy_with(Condition={"ForSomeValues:StringEquals": {"aws:PrincipalOrgPaths": "o-x/"}}),
        id="unknown-set-qualifier",
    ),
    pytest.param(policy_with(Condition="StringEquals"), id="condition-is-a-string"),
    pytest.param(
        policy_with(Condition=[{"StringEquals": {"aws:PrincipalAccount": "111122223333"}}]),
        id="condition-is-a-list",
    ),
    pytest.param(
        policy_with(Condition={"StringEquals": "aws:PrincipalAccount"}),
        id="operator-block-is-a-string",
    ),
    # PutKeyPolicy refuses these (MalformedPolicyDocumentException); reading them as
    # principals nobody is, or as absent elements, would hide what the statement grants.
    pytest.param(policy_with(Principal={"AWS": "foo"}), id="principal-not-a-principal"),
    pytest.param(policy_with(Principal={"AWS": "4444555566667"}), id="principal-13-digits"),
    pytest.param(policy_with(Principal={"AWS": "44445555666"}), id="principal-11-digits"),
    pytest.param(policy_with(Principal={"AWS": "ARN:AWS:IAM::444455556666:ROOT"}),
                 id="principal-upper-case-arn"),
    pytest.param(policy_with(Principal={"AWS": "arn:aws:iam::444455556666"}),
                 id="principal-arn-without-resource"),
    pytest.param(policy_with(Principal={"AWS": ""}), id="principal-empty-string"),
    pytest.param(policy_with(Principal={"AWS": True}), id="principal-boolean"),
    pytest.param(policy_with(Principal={"AWS": 444455556660.0}), id="principal-float"),
    pytest.param(policy_with(Principal={"AWS": 444455556666}), id="principal-integer"),
    pytest.param(policy_with(Principal={"AWS": [OWNER_ROOT, "foo"]}),
                 id="principal-list-with-a-bad-one"),
    pytest.param(policy_with(Principal={"AWS": "foo", "Service": "s3.amazonaws.com"}),
                 id="principal-bad-beside-a-service"),
    pytest.param(policy_with(Principal={"Service": 5}), id="service-number"),
    pytest.param(policy_with(Principal={"Federated": [True]}), id="federated-boolean"),
    pytest.param(policy_with(Principal={"CanonicalUser": 5}), id="canonical-user-number"),
    pytest.param(policy_with(Principal=None, NotPrincipal={"AWS": "foo"}, Effect="Deny"),
                 id="notprincipal-not-a-principal"),
    pytest.param(policy_with(Principal={"AWS": OWNER_ROOT, "aws": "*"}),
                 id="principal-type-twice-in-two-cases"),
    # Unknown elements: a typo is not an absent element.
    pytest.param(policy_with(Resource=None, Resources="*"), id="element-typo-resources"),
    pytest.param(policy_with(Foo="bar"), id="element-unknown"),
    pytest.param({"Version": "2012-10-17", "Statement": [GOOD_STATEMENT], "Statements": []},
                 id="top-level-element-unknown"),
    pytest.param({"Version": "2012-10-17", "Statement": [{**GOOD_STATEMENT, "Version": "x"}]},
                 id="top-level-element-in-a-statement"),
    pytest.param({"Version": "2012-10-17", "Statement": [GOOD_STATEMENT], "Sid": "x"},
                 id="statement-element-at-the-top"),
    # One element under two spellings: which one counts is ambiguous.
    pytest.param(policy_with(effect="Deny"), id="effect-twice-in-two-cases"),
    pytest.param({"Version": "2012-10-17", "Statement": [], "statement": [GOOD_STATEMENT]},
                 id="statement-twice-in-two-cases"),
]


@pytest.mark.parametrize("document", VALID)
def test_valid_policies_parse(document: Any) -> None:
    parse_policy(copy.deepcopy(document))


@pytest.mark.parametrize("document", INVALID)
def test_invalid_policies_raise_policy_error(document: Any) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(copy.deepcopy(document))
    assert isinstance(info.value, BadInputError)
    assert str(info.value).strip(), "the error must say what is wrong"


MESSAGES = [
    pytest.param(policy_with(Effect=None),
                 'Statement[0] has no Effect element; it must be "Allow" or "Deny"',
                 id="effect-missing"),
    pytest.param(policy_with(Principal={"AWS": [OWNER_ROOT, "4444555566667"]}),
                 "Statement[0].Principal.AWS value '4444555566667' is not an AWS principal; "
                 'expected "*", a 12-digit account id, an ARN',
                 id="principal-names-statement-and-value"),
    pytest.param(policy_with(Principal={"AWS": True}),
                 "Statement[0].Principal.AWS must be a string or a list of strings, not true",
                 id="principal-boolean"),
    pytest.param(policy_with(Resource=None, Resources="*"),
                 "Statement[0] has unknown element 'Resources'; valid elements are Sid, Effect, "
                 "Principal, NotPrincipal, Action, NotAction, Resource, NotResource, Condition",
                 id="element-unknown"),
    pytest.param(policy_with(effect="Deny"),
                 "Statement[0] has both 'Effect' and 'effect': element names are "
                 "case-insensitive", id="element-twice"),
]


@pytest.mark.parametrize(("document", "message"), MESSAGES)
def test_messages_name_the_statement_and_what_is_wrong(document: Any, message: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(copy.deepcopy(document))
    assert str(info.value).startswith(message)
