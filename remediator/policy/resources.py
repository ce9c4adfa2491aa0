"""Which keys a statement's Resource or NotResource names: this key, never, or maybe.

A key policy is attached to one key but does not say which: ``"*"`` means "this key", an ARN
pattern matching every key names it, an alias ARN or another service's ARN never does, and a
particular key ARN may or may not be it. Pure functions, memoised by the element tuples.
"""

from __future__ import annotations

import re
from functools import lru_cache

from remediator.policy.document import Policy, Statement
from remediator.policy.principals import has_policy_variable, has_wildcard, split_arn

YES, NO, MAYBE = "yes", "no", "maybe"

# Probes standing for values no pattern names literally: a pattern that matches them matches
# any value of that part.
_ANY_ID = ("\uffff", "\uffff\uffff\uffff")


_ANY_KEY_ARN = tuple(f"arn:aws:kms:{p}:{p}:key/{p}" for p in _ANY_ID)


def _matches_all(pattern: str, prefix: str = "") -> bool:
    return all(resource_match(pattern, prefix + probe) for probe in _ANY_ID)


# A policy variable is replaced at request time by a value of the request context
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html), and
# ``${aws:PrincipalAccount}`` holds a colon that is no ARN separator: for coverage, any value.
_VARIABLE = re.compile(r"\$\{[^}]*\}")


def _masked(resource: str) -> str:
    return _VARIABLE.sub("*", resource)


# "You can use wildcard characters (* and ?) within the individual segments of an ARN (the
# parts separated by colons) ... If the * wildcard is the last character of a resource ARN
# segment, it can expand to match beyond the colon boundaries"
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
# #reference_policies_elements_resource_wildcards). So ``arn:aws:kms:eu-*:key/*`` matches
# every key in an ``eu-`` Region, while the ``*`` of ``arn:aws:kms:*-1:key/*`` stays inside
# the Region. A policy variable may stand for anything.
_RESOURCE_TOKEN = re.compile(r"\$\{[^}]*\}|[*?]|[^*?$]+|\$")


@lru_cache(maxsize=8192)
def resource_regex(pattern: str, variables: bool = True) -> re.Pattern[str]:
    """The regular expression of one Resource or NotResource value (see above); with
    ``variables`` False a policy variable is matched as the text it is."""
    parts = []
    for m in _RESOURCE_TOKEN.finditer(pattern):
        token = m.group()
        if token == "*":  # the segment's last character may expand past colons
            ends_segment = m.end() == len(pattern) or pattern[m.end()] == ":"
            parts.append(".*" if ends_segment else "[^:]*")
        elif token == "?":
            parts.append("[^:]")
        elif token in ("${*}", "${?}", "${$}"):  # a literal *, ? or $ (policy variables page)
            parts.append(re.escape(token[2]))
        elif token.startswith("${") and variables:
            parts.append(".*")
        else:
            parts.append(re.escape(token))
    return re.compile("".join(parts), re.DOTALL)


def resource_match(pattern: str, arn: str) -> bool:
    """Whether one Resource value matches an ARN: case-sensitively, wildcards as above."""
    if not has_wildcard(pattern) and "${" not in pattern:
        return pattern == arn
    return resource_regex(pattern).fullmatch(arn) is not None


def _key_coverage(resource: str) -> str:
    """Whether one Resource value names the key the policy is attached to.

    ``"*"`` means "this key". A KMS key ARN is arn:PARTITION:kms:REGION:ACCOUNT:key/ID: a
    pattern matching every region, account and key id names it (YES); an alias ARN or another
    service's ARN never does (NO), since a key policy names its key by key ARN
    (https://docs.aws.amazon.com/kms/latest/developerguide/cmks-in-iam-policies.html); a
    particular region, account or key id may or may not be this key's (MAYBE): the policy
    alone does not say which key it is attached to.
    """
    if resource == "*":
        return YES
    masked = _masked(resource)
    if masked != resource:  # a variable: whatever it stands for, never certainly this key
        return NO if _key_coverage(masked) == NO else MAYBE
    arn = split_arn(resource)
    if arn is None:  # not six parts: a pattern such as "arn:*" may still match key ARNs
        if all(resource_match(resource, probe) for probe in _ANY_KEY_ARN):
            return YES
        return MAYBE if has_wildcard(resource) else NO
    if not resource_match(arn.service, "kms"):
        return NO
    kind = arn.resource
    literal = kind.split("*", 1)[0].split("?", 1)[0]
    if not ("key/".startswith(literal) or literal.startswith("key/")):
        return NO  # alias/..., or nothing a key id can match
    if (_matches_all(kind, "key/") and _matches_all(arn.region) and _matches_all(arn.account)
            and (arn.partition == "aws" or _matches_all(arn.partition))):
        return YES
    return MAYBE


def resource_coverage(stmt: Statement) -> str:
    """Whether the statement's Resource covers the key the policy is attached to.

    In a key policy ``"*"`` means "this key"; see ``_key_coverage`` for ARNs. A statement
    with neither Resource nor NotResource has no effect
    (https://docs.aws.amazon.com/kms/latest/APIReference/API_PutKeyPolicy.html). A NotResource
    that matches every key excludes this one; one naming particular keys may or may not (MAYBE).
    Where it is MAYBE an Allow is taken to apply and a Deny not to, so that doubt never hides
    access; lockout.py asks for certainty the other way round.
    """
    return _resource_coverage(stmt.resources, stmt.not_resources)


@lru_cache(maxsize=16_384)
def _resource_coverage(resources: tuple[str, ...] | None,
                       not_resources: tuple[str, ...] | None) -> str:
    if not_resources is not None:
        excluded = {_key_coverage(r) for r in not_resources}
        return NO if YES in excluded else MAYBE if MAYBE in excluded else YES
    if resources is None:
        return NO
    covered = {_key_coverage(r) for r in resources}
    return YES if YES in covered else MAYBE if MAYBE in covered else NO


def may_name_owner_key(stmt: Statement, owner: str) -> bool:
    """Whether the statement's Resource may name the key, knowing the key is in ``owner``'s
    account: a key ARN of another account never does (a key's ARN holds its account). A key ARN
    of the owner's account in Resource is taken to be this key, and one in NotResource another
    key, as far as the policy can tell."""
    coverage = resource_coverage(stmt)
    if coverage != MAYBE:
        return coverage == YES
    accounts = key_accounts(stmt)
    return accounts is None or owner in accounts


def key_accounts(stmt: Statement) -> frozenset[str] | None:
    """The accounts whose keys a statement's Resource may name, or None when it may name a key
    of any account (``"*"``, an account wildcard, a NotResource)."""
    if stmt.resources is None or stmt.not_resources is not None:
        return None
    accounts = set()
    for r in stmt.resources:
        if _key_coverage(r) == NO:
            continue
        arn = split_arn(_masked(r))
        if arn is None or has_wildcard(arn.account) or has_policy_variable(arn.account):
            return None
        accounts.add(arn.account)
    return frozenset(accounts)


def applies_to_key(stmt: Statement) -> bool:
    """True when the statement certainly applies (Deny) or may apply (Allow) to the key."""
    coverage = resource_coverage(stmt)
    return coverage == YES or (coverage == MAYBE and stmt.allow)


def settle_resources(policy: Policy, key_arn: str | None) -> Policy:
    """``policy`` as it reads on the key ``key_arn``: each statement whose Resource or
    NotResource is not just ``"*"`` is matched against the key's ARN, and reads as ``"*"``
    when it covers this key and as no Resource when it does not, so every verdict on it is
    exact (a pattern for every key of the ``aws`` partition does not cover a key of
    ``aws-cn``). A value holding a policy variable (``${aws:username}``) depends on the request
    and stays undecided unless another value settles the statement. The same Policy when
    nothing reads differently on this key (or the key is unknown).

    Resource ARNs match case-sensitively, ``*`` and ``?`` as wildcards within a segment
    (``resource_match``).
    """
    if key_arn is None:
        return policy
    statements = policy.statements
    settled = tuple([s if s.resources == _THIS_KEY else _settled(s, key_arn)
                     for s in statements])
    if all(a is b for a, b in zip(settled, statements, strict=True)):
        return policy
    return policy._replace(statements=settled)


_THIS_KEY = ("*",)
_NO_RESOURCE: tuple[str, ...] = ()


@lru_cache(maxsize=4096)  # one object per (statement, key): the planner re-reads a key often
def _settled(stmt: Statement, key_arn: str) -> Statement:
    negated = stmt.not_resources is not None
    values = (stmt.not_resources if negated else stmt.resources) or ()
    if not values and not negated:
        return stmt  # no Resource: no effect on any key
    # A value with a variable is undecided only if some value of the variable could make it
    # match: its fixed parts must match the key (the variable itself may stand for anything).
    undecided = tuple(v for v in values
                      if has_policy_variable(v) and resource_match(v, key_arn))
    if any(resource_match(v, key_arn) for v in values if not has_policy_variable(v)):
        covers = not negated
    elif undecided:  # only a request-dependent value could name the key: it alone decides
        settled = (stmt._replace(not_resources=undecided) if negated
                   else stmt._replace(resources=undecided))
        if resource_coverage(settled) == resource_coverage(stmt):
            return stmt
        return settled._replace(origin=None)
    else:
        covers = negated
    if resource_coverage(stmt) == (YES if covers else NO):
        return stmt  # it already reads so: keep the shared statement
    # A new statement, not a copy of a shared one: its verdicts hold for this key only.
    return stmt._replace(resources=_THIS_KEY if covers else _NO_RESOURCE, not_resources=None,
                         origin=None)


def settle_for_owner(policy: Policy, owner: str, partition: str) -> Policy:
    """``policy`` as it reads on some key of ``owner``'s account in ``partition``, the key
    itself unknown (no ``key_arn``): a Resource value matching every key ARN of that account,
    in every Region (``arn:aws:kms:*:OWNER:key/*``, CloudFormation's usual shape), names this
    key, and in NotResource excludes it, so a Deny written so is certain. Found by review."""
    statements = policy.statements
    settled = tuple([_settled_for_owner(s, owner, partition)
                     if resource_coverage(s) == MAYBE else s for s in statements])
    if all(a is b for a, b in zip(settled, statements, strict=True)):
        return policy
    return policy._replace(statements=settled)


@lru_cache(maxsize=4096)
def _settled_for_owner(stmt: Statement, owner: str, partition: str) -> Statement:
    probes = [f"arn:{partition}:kms:{p}:{owner}:key/{p}" for p in _ANY_ID]
    negated = stmt.not_resources is not None
    values = (stmt.not_resources if negated else stmt.resources) or ()
    if not any(not has_policy_variable(v) and all(resource_match(v, p) for p in probes)
               for v in values):
        return stmt
    # A new statement, not a copy of a shared one: its verdicts hold for this owner only.
    if negated:
        return stmt._replace(resources=_NO_RESOURCE, not_resources=None, origin=None)
    return stmt._replace(resources=_THIS_KEY, origin=None)
