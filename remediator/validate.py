"""Validation of identifiers users type: account ids, organisation ids."""

from __future__ import annotations

import re

from remediator.errors import BadInputError

_ACCOUNT = re.compile(r"^\d{12}$")
# https://docs.aws.amazon.com/organizations/latest/APIReference/API_Organization.html
_ORG = re.compile(r"^o-[a-z0-9]{10,32}$")


def account_id(value: str, what: str = "account id") -> str:
    if not _ACCOUNT.match(value):
        raise BadInputError(f"{what} {value!r} is not a 12-digit AWS account id")
    return value


def org_id(value: str) -> str:
    if not _ORG.match(value):
        raise BadInputError(
            f"organisation id {value!r} is not of the form o- followed by 10 to 32 "
            "lower-case letters or digits"
        )
    return value
