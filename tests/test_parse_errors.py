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
