"""The key's own account and organisation in condition values: ``${aws:ResourceAccount}`` and
``${aws:ResourceOrgID}``.

A policy variable is replaced by the request's value of its key
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html), and for
these two keys that value is the key's: its owner account, and the organisation that account
belongs to (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html,
aws:ResourceAccount and aws:ResourceOrgID). They are the data-perimeter way of writing "my own
account" or "my own organisation", so they are settled before judging, as the Resource is for
the key (``resources.settle_resources``). ``${aws:ResourceOrgID}`` is settled only when the
context names the organisation; otherwise it stays a variable, which pins nobody.
"""

from __future__ import annotations

import re
from functools import lru_cache

from remediator.policy.document import Policy, Statement

# Variables are resolved only in policies of this version (the Version element page).
_VARIABLES_VERSION = "2012-10-17"
# With or without a default (``${aws:ResourceAccount, 'none'}``), which the key, always in the
# request, never needs (the variables page, "Specifying default values").
_RESOURCE_VARIABLE = re.compile(
    r"\$\{\s*aws:resource(account|orgid)\s*(?:,\s*'[^']*'\s*)?\}", re.IGNORECASE)


def settle_resource_variables(policy: Policy, owner: str, org_id: str | None) -> Policy:
    """``policy`` with those two variables replaced in condition values and in Resource or
    NotResource (the same Policy when none appears). ``org_id``: the owner's organisation, or
    None when it is not known to be the trusted one (the variable then stays)."""
    if policy.version != _VARIABLES_VERSION:
        return policy
    statements = policy.statements
    settled = tuple([_settled(s, owner, org_id) if mentions_resource_variables(s) else s
                     for s in statements])
    if all(a is b for a, b in zip(settled, statements, strict=True)):
        return policy
    return policy._replace(statements=settled)


@lru_cache(maxsize=65_536)  # statements are shared objects across an estate
def mentions_resource_variables(stmt: Statement) -> bool:
    return any("${" in v for v in _values(stmt)) and any(
        _RESOURCE_VARIABLE.search(v) for v in _values(stmt))


def _values(stmt: Statement) -> list[str]:
    return [*(v for c in stmt.conditions for v in c.values), *(stmt.resources or ()),
            *(stmt.not_resources or ())]


@lru_cache(maxsize=4096)
def _settled(stmt: Statement, owner: str, org_id: str | None) -> Statement:
    def one(m: re.Match[str]) -> str:
        if m.group(1).lower() == "account":
            return owner
        return org_id if org_id is not None else m.group(0)

    def all_of(values: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if values is None else tuple(_RESOURCE_VARIABLE.sub(one, v) for v in values)

    conditions = tuple(c._replace(values=all_of(c.values) or ()) for c in stmt.conditions)
    resources, not_resources = all_of(stmt.resources), all_of(stmt.not_resources)
    if (conditions, resources, not_resources) == (stmt.conditions, stmt.resources,
                                                  stmt.not_resources):
        return stmt
    # A new statement, not a copy of a shared one (``Statement.origin``): its verdicts hold
    # for this owner only.
    return stmt._replace(conditions=conditions, resources=resources,
                         not_resources=not_resources, origin=None)


# In a policy of another Version a variable is its own text (the Version element page). The
# engine reads "${" in a Resource as a variable that may stand for anything, so such text is
# written with a word joiner between "$" and "{": still no ARN of a key, and no variable.
_AS_TEXT = "$\u2060{"


def resources_as_text(policy: Policy) -> Policy:
    """``policy`` with the variables of its Resource and NotResource values made plain text,
    when its Version is not 2012-10-17 (the same Policy otherwise, or when none appears)."""
    if policy.version == _VARIABLES_VERSION:
        return policy
    statements = tuple([_resources_as_text(s) for s in policy.statements])
    if all(a is b for a, b in zip(statements, policy.statements, strict=True)):
        return policy
    return policy._replace(statements=statements)


def _resources_as_text(stmt: Statement) -> Statement:
    def text(values: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if values is None else tuple(v.replace("${", _AS_TEXT) for v in values)

    if not any("${" in v for v in (*(stmt.resources or ()), *(stmt.not_resources or ()))):
        return stmt
    return stmt._replace(resources=text(stmt.resources), not_resources=text(stmt.not_resources),
                         origin=None)
