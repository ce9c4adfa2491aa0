"""Validation of identifiers users type: account ids, organisation ids."""

from __future__ import annotations

import re

from remediator.errors import BadInputError

# Used with fullmatch: exactly these characters, no trailing newline, no non-ASCII digits.
ACCOUNT_ID = re.compile(r"[0-9]{12}")
# https://docs.aws.amazon.com/organizations/latest/APIReference/API_Organization.html
ORG_ID = re.compile(r"o-[a-z0-9]{10,32}")


def account_id(value: str, what: str = "account id") -> str:
    if not ACCOUNT_ID.fullmatch(value):
        raise BadInputError(f"{what} {value!r} is not a 12-digit AWS account id")
    return value


def org_id(value: str, what: str = "organisation id") -> str:
    if not ORG_ID.fullmatch(value):
        raise BadInputError(
            f"{what} {value!r} is not of the form o- followed by 10 to 32 "
            "lower-case letters or digits"
        )
    return value
