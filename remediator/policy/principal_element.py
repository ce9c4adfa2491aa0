"""The Principal and NotPrincipal elements of a policy statement: parsed, checked, normalised.

``"*"``, ``{"AWS": "*"}``, a map of principal types (matched case-insensitively) with a string
or a list each; what PutKeyPolicy would refuse in ``AWS`` is a PolicyError here
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, NamedTuple, NoReturn

from remediator.errors import PolicyError


class Principals(NamedTuple):
    """The principals a Principal or NotPrincipal element names, by type.

    ``"*"`` and ``{"AWS": "*"}`` both set ``anyone``
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html).
    """

    anyone: bool = False
    aws: tuple[str, ...] = ()
    service: tuple[str, ...] = ()
    federated: tuple[str, ...] = ()
    canonical_user: tuple[str, ...] = ()



_PRINCIPAL_TYPES = {
    "aws": "aws",
    "service": "service",
    "federated": "federated",
    "canonicaluser": "canonical_user",
}



_ANYONE = Principals(anyone=True)


# What PutKeyPolicy accepts in Principal.AWS
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html):
# "*", a 12-digit account id, an ARN (the prefix "arn:" in lower case, and six colon-separated
# parts), or the unique id a policy shows once the principal it named is deleted
# (AIDAJQABLZS4A3QDU576Q, AROA...: upper-case letters and digits, starting with A). Anything
# else is refused with MalformedPolicyDocumentException, so it is an error here, not a
# principal nobody is (which would hide what the statement was meant to grant).
_AWS_PRINCIPAL = re.compile(r"\*|[0-9]{12}|arn:[^:]+:[^:]+:[^:]*:[^:]*:.+|A[A-Z0-9]+", re.DOTALL)
_AWS_FORMS = ('"*", a 12-digit account id, an ARN (arn:PARTITION:SERVICE:...) or a unique id '
              "such as AIDAJQABLZS4A3QDU576Q")


# Memoised per distinct string, as principals.py's value records are: an estate names each role
# in many statements (a third of the regular expression's cost on the cold path).
@lru_cache(maxsize=65_536)
def _is_aws_principal(value: str) -> bool:
    return _AWS_PRINCIPAL.fullmatch(value) is not None


def _aws_principal(value: str, where: str) -> str:
    """One Principal.AWS string, stripped, or PolicyError saying what the value may be."""
    v = value.strip()
    if not _is_aws_principal(v):
        _refuse_aws_principal(value, where)
    return v


def _refuse_aws_principal(value: str, where: str) -> NoReturn:
    raise PolicyError(f"{where} value {value!r} is not an AWS principal; expected {_AWS_FORMS}")


def _principal_strings(value: Any, where: str) -> tuple[str, ...]:
    """The strings of one principal type; IAM reads no number or boolean as a principal."""
    if type(value) is str:
        return (value,)
    if type(value) is list and value and all(type(v) is str for v in value):
        return tuple(value)
    if type(value) is list and not value:
        raise PolicyError(f"{where} must not be empty")
    raise PolicyError(f"{where} must be a string or a list of strings, not "
                      f"{json.dumps(value, default=repr)[:60]}")


def parse_principals(value: Any, where: str) -> Principals:
    if type(value) is dict and len(value) == 1 and type(value.get("AWS")) is str:
        v = value["AWS"].strip()
        if not _is_aws_principal(v):  # the common shape: its where is built only to refuse it
            _refuse_aws_principal(value["AWS"], where + ".AWS")
        return _ANYONE if v == "*" else Principals(False, (v,))
    if isinstance(value, str):
        if value.strip() == "*":
            return _ANYONE
        raise PolicyError(f'{where} must be "*" or an object such as {{"AWS": [...]}}')
    if not isinstance(value, Mapping) or not value:
        raise PolicyError(f"{where} must be \"*\" or a non-empty object of principal types")
    by_type: dict[str, tuple[str, ...]] = {}
    written: dict[str, Any] = {}
    for ptype, pvalue in value.items():
        field = _PRINCIPAL_TYPES.get(str(ptype).lower())
        if field is None:
            raise PolicyError(
                f"{where} has unknown principal type {ptype!r}; valid types are "
                "AWS, Service, Federated, CanonicalUser"
            )
        if field in by_type:
            raise PolicyError(f"{where} has both {written[field]!r} and {ptype!r}: principal "
                              "types are case-insensitive, so which one counts is ambiguous")
        type_where = f"{where}.{ptype}"
        strings = _principal_strings(pvalue, type_where)
        by_type[field] = tuple(
            _aws_principal(v, type_where) if field == "aws" else v.strip() for v in strings)
        written[field] = ptype
    aws = by_type.get("aws", ())
    anyone = "*" in aws
    return Principals(
        anyone=anyone,
        aws=aws,
        service=by_type.get("service", ()),
        federated=by_type.get("federated", ()),
        canonical_user=by_type.get("canonical_user", ()),
    )
