"""Validation of identifiers users type: account ids, organisation ids."""

from __future__ import annotations

import re

from remediator.errors import BadInputError

# Used with fullmatch: exactly these characters, no trailing newline, no non-ASCII digits.
ACCOUNT_ID = re.compile(r"[0-9]{12}")
# https://docs.aws.amazon.com/organizations/latest/APIReference/API_Organization.html
ORG_ID = re.compile(r"o-[a-z0-9]{10,32}")
# arn:PARTITION:kms:REGION:ACCOUNT:key/KEY-ID, the KEY-ID a UUID or mrk-... for multi-Region
# keys (https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#key-id-key-ARN).
KEY_ARN = re.compile(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:(?P<account>[0-9]{12}):key/[A-Za-z0-9-]+")


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


def key_arn(value: str, account: str, what: str = "key ARN") -> str:
    """A KMS key ARN (no wildcards) of a key in ``account``."""
    match = KEY_ARN.fullmatch(value)
    if match is None:
        raise BadInputError(
            f"{what} {value!r} is not a KMS key ARN such as "
            "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        )
    if match["account"] != account:
        raise BadInputError(
            f"{what} {value!r} is a key of account {match['account']}, not of the owner "
            f"account {account}"
        )
    return value
