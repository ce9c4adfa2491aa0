"""One rule for account and organisation ids wherever they are read: the whole value, ASCII.

An account id is exactly 12 digits 0-9; an organisation id is o- followed by 10 to 32
lower-case letters or digits (AWS Organizations API reference, Organization.Id). ``\\d`` would
also take other scripts' digits, and ``$`` a trailing newline.
"""

from __future__ import annotations

import json

import pytest

from remediator import validate
from remediator.config import parse_config
from remediator.errors import BadInputError
from remediator.policy.principals import is_account_id

BAD_ACCOUNTS = ["111122223333\n", "１" * 12, "\u0661" * 12, "\u0967" * 12, "11112222333", ""]
BAD_ORGS = ["o-a1b2c3d4e5\n", "", "o-a1b2c3d4e", "o-" + "a" * 33, "o-A1B2C3D4E5", "o-" + "１" * 10]


@pytest.mark.parametrize("value", BAD_ACCOUNTS)
def test_bad_account_ids_are_refused_everywhere(value: str) -> None:
    assert not is_account_id(value)
    with pytest.raises(BadInputError, match="is not a 12-digit AWS account id"):
        validate.account_id(value)
    quoted = json.dumps(value)  # a YAML double-quoted scalar, escapes included
    for yaml_text in (f"accounts: [{{id: {quoted}}}]",
                      f"accounts: [{{id: '111122223333'}}]\nsandbox_accounts: [{quoted}]",
                      f"organization: true\ntrust: {{trusted_accounts: [{quoted}]}}"):
        with pytest.raises(BadInputError, match="expected a 12-digit AWS account id"):
            parse_config("regions: [eu-west-1]\n" + yaml_text)


def test_good_account_id_is_accepted_everywhere() -> None:
    assert is_account_id("111122223333")
    assert validate.account_id("111122223333") == "111122223333"
    config = parse_config("regions: [eu-west-1]\naccounts: [{id: '111122223333'}]")
    assert config.accounts[0].id == "111122223333"


@pytest.mark.parametrize("value", BAD_ORGS)
def test_bad_org_ids_are_refused_everywhere(value: str) -> None:
    with pytest.raises(BadInputError, match="is not of the form o- followed by 10 to 32"):
        validate.org_id(value)
    with pytest.raises(BadInputError, match=r"trust\.org_id: expected an organization id"):
        parse_config("regions: [eu-west-1]\norganization: true\n"
                     f"trust: {{org_id: {json.dumps(value)}}}")


@pytest.mark.parametrize("value", ["o-a1b2c3d4e5", "o-" + "a1" * 16])
def test_good_org_ids_are_accepted_everywhere(value: str) -> None:
    assert validate.org_id(value) == value
    config = parse_config(f"regions: [eu-west-1]\norganization: true\ntrust: {{org_id: {value}}}")
    assert config.trust.org_id == value
