"""KMS.1: a customer-managed IAM policy allows kms:Decrypt or kms:ReEncryptFrom on all keys.

Security Hub control KMS.1 (Config rule iam-customer-policy-blocked-kms-actions) fails a
policy whose default version is "open enough to allow kms:Decrypt or kms:ReEncryptFrom actions
on any arbitrary KMS key"; it does not evaluate conditions
(https://docs.aws.amazon.com/securityhub/latest/userguide/kms-controls.html#kms-1,
https://docs.aws.amazon.com/config/latest/developerguide/iam-customer-policy-blocked-kms-actions.html).

"Any arbitrary key" is decided on probe keys: key ARNs whose Region, account and key id are
values the policy does not name, drawn with different characters, lengths and key-id formats
(a UUID and a multi-Region ``mrk-`` id). An action is on all keys when every probe is allowed
it and no unconditional Deny takes it back. So:

- ``*``, ``arn:aws:kms:*``, ``arn:*`` all cover every key: in Resource a ``*`` matches across
  the colons of an ARN
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html);
  ``arn:aws:kms:*:111122223333:key/*`` (one account) or an alias ARN do not.
- NotResource is the complement: a value excludes a key only when it can match a key ARN, so
  ``alias/*`` or a bare ``arn:aws:kms:...:key/`` excludes nothing.
- Allow on all keys but some named keys (``NotResource`` of one key ARN, or ``*`` with a Deny on
  one key, one account, one Region) still reaches any arbitrary key, a key the author never
  named, so it is a finding: the Config rule's note says a policy is not open only when it
  grants access to fixed values. The two spellings of that policy get the same verdict.
- A carve-out of a family of keys by a wildcard (accounts starting with 1, Regions ``eu-*``,
  ``mrk-`` keys) leaves out keys nobody named, so the rest is not every key: no finding, as
  for the Allow of what is left written out (``arn:aws:kms:us-*`` is no finding either). Each
  such carve-out gets a probe key of its own, so the verdict never depends on which keys the
  probes happen to be.
- Allow ``*`` with a Deny whose NotResource is one key leaves that key alone: no finding.
- With Version 2012-10-17, ``${aws:RequestedRegion}`` and ``${aws:ResourceAccount}`` are the
  key's own Region and account (a KMS request goes to the key's Region), so
  ``arn:aws:kms:${aws:RequestedRegion}:*:key/*`` is every key; any other variable
  (``${aws:PrincipalAccount}``: the caller's one account) stays its own text.
- Conditions are not evaluated, as the control does not: a conditional Allow still counts, and
  a conditional Deny is not taken to remove anything (it may not apply).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import Any

from remediator.detectors.rules import RULES
from remediator.policy import actions as kms
from remediator.policy.access import statement_mask
from remediator.policy.document import Statement, parse_policy
from remediator.policy.evaluate import VARIABLES_VERSION
from remediator.policy.principals import has_wildcard, is_account_id, split_arn
from remediator.policy.resources import resource_regex
from remediator.types import Finding

BLOCKED = kms.bit("kms:Decrypt") | kms.bit("kms:ReEncryptFrom")
BLOCKED_ACTIONS = (kms.bit("kms:Decrypt"), kms.bit("kms:ReEncryptFrom"))

# Candidate parts of probe key ARNs. Each part varies in its characters so that a pattern
# which only looks broad ("arn:aws:kms:us-*", "...:key/*a*", "...:1*") misses at least one:
# every digit leads an account and stands at each position of one, key ids are UUIDs and
# multi-Region mrk- ids of both cases of leading hex digit. Candidates the policy names are
# skipped (see _probes), so a Deny or NotResource on a fixed Region, account or key never
# hides an arbitrary one.
_REGIONS = ("us-east-1", "ap-southeast-7", "eu-central-2", "il-central-1", "mx-central-1",
            "ca-west-1", "sa-east-1", "me-south-1")
_ACCOUNTS = tuple("".join(str((d + i) % 10) for i in range(12)) for d in (9, 3, 0, 5, 1, 8, 6,
                                                                          2, 7, 4))
_KEY_IDS = ("ffffffff-0000-4fff-8000-000000000000", "mrk-0123456789abcdef0123456789abcdef",
            "1234abcd-12ab-34cd-56ef-1234567890ab", "mrk-fedcba9876543210fedcba9876543210",
            "a0b1c2d3-e4f5-4a6b-9c8d-7e6f5a4b3c2d", "00000000-0000-0000-0000-000000000000")
_FILL = "5"  # what a carve-out's wildcards become in its own probes (see _instance)


def _fresh(candidates: tuple[str, ...], named: str) -> tuple[str, ...]:
    fresh = tuple(c for c in candidates if c not in named)
    return fresh or candidates[:1]


def _probes(partition: str, named: str = "", carve_outs: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Key ARNs in ``partition`` built from parts that do not occur in ``named``: every
    Region, account and key id candidate at least once (in turn, not every combination), and
    one key of each wildcard carve-out (``_instance``)."""
    regions, accounts, ids = (_fresh(_REGIONS, named), _fresh(_ACCOUNTS, named),
                              _fresh(_KEY_IDS, named))
    n = max(len(regions), len(accounts), len(ids)) * 2
    generic = _key_arns(partition, tuple(regions[i % len(regions)] for i in range(n)),
                        tuple(accounts[(i * 7) % len(accounts)] for i in range(n)),
                        tuple(ids[(i * 5) % len(ids)] for i in range(n)))
    own = (_instance(c, partition, named) for c in carve_outs)
    return tuple(dict.fromkeys((*generic, *(i for i in own if i is not None))))


@lru_cache(maxsize=64)
def _key_arns(partition: str, regions: tuple[str, ...], accounts: tuple[str, ...],
              key_ids: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"arn:{partition}:kms:{region}:{account}:key/{key_id}"
                 for region, account, key_id in zip(regions, accounts, key_ids, strict=True))


def _instance(pattern: str, partition: str, named: str) -> str | None:
    """A key ARN that a carve-out (a Deny's Resource, an Allow's NotResource) with wildcards
    matches and whose Region, account and key id the policy does not name, or None. Without
    it, a carve-out of a family of keys (``arn:aws:kms:*:1*``, ``...:key/mrk-*``) would hide
    only the keys it happens to share with the generic probes: "all keys but accounts starting
    with 1" is not every key, as "all keys but eu-west-1" is (a named Region)."""
    if not has_wildcard(pattern):
        return None
    parts = pattern.split(":", 5)
    parts += ["*"] * (6 - len(parts))  # a trailing * spans the rest: "arn:aws:kms:*:1*"
    region = next((r for r in _fresh(_REGIONS, named) if fnmatchcase(r, parts[3])),
                  parts[3].replace("*", _FILL).replace("?", _FILL))
    account = parts[4].replace("?", _FILL)
    # the first "*" takes what the account's 12 digits need, any other none
    width = max(0, 12 - len(account.replace("*", "")))
    account = account.replace("*", _FILL * width, 1).replace("*", "")
    resource = parts[5] if parts[5] != "*" else f"key/{_KEY_IDS[0]}"
    resource = resource.replace("*", _FILL).replace("?", _FILL)
    arn = f"arn:{partition}:kms:{region}:{account}:{resource}"
    named_part = any(p and p in named for p in (region, account, resource.removeprefix("key/")))
    if (named_part or not resource.startswith("key/") or not is_account_id(account)
            or resource_regex(pattern, variables=False).fullmatch(arn) is None):
        return None
    return arn


# The variables a KMS request's own key decides: "aws:RequestedRegion" is the Region the
# request goes to, the key's, and "aws:ResourceAccount" the key's account
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
_KEY_VARIABLES = re.compile(r"\$\{(aws:requestedregion|aws:resourceaccount)(?:\s*,\s*'[^']*')?\}",
                            re.IGNORECASE)


def _for_key(pattern: str, probe: str) -> str:
    """``pattern`` with the variables a key decides replaced by ``probe``'s values."""
    parts = probe.split(":", 5)
    return _KEY_VARIABLES.sub(
        lambda m: parts[3] if m.group(1).lower() == "aws:requestedregion" else parts[4], pattern)


@lru_cache(maxsize=16_384)
def _matched(patterns: tuple[str, ...], probes: tuple[str, ...], variables: bool) -> int:
    """The probes (as bits) that at least one Resource pattern matches (case-sensitive). With
    ``variables`` (policy Version 2012-10-17) a variable the key decides takes each probe's
    value; any other variable stays its own text: it need not stand for every key of a kind."""
    bits = 0
    for pattern in patterns:
        if variables and _KEY_VARIABLES.search(pattern):
            bits |= sum(1 << i for i, p in enumerate(probes)
                        if resource_regex(_for_key(pattern, p), variables=False).fullmatch(p))
        elif not has_wildcard(pattern):
            bits |= sum(1 << i for i, p in enumerate(probes) if p == pattern)
        else:
            regex = resource_regex(pattern, variables=False)
            bits |= sum(1 << i for i, p in enumerate(probes) if regex.fullmatch(p))
    return bits


def _reached(stmt: Statement, probes: tuple[str, ...], variables: bool) -> int:
    """The probes a statement applies to: its Resource matches, or its NotResource does not."""
    if stmt.resources is not None:
        return _matched(stmt.resources, probes, variables)
    if stmt.not_resources is not None:
        return ((1 << len(probes)) - 1) & ~_matched(stmt.not_resources, probes, variables)
    return 0


def _partition(policy_arn: str) -> str:
    """A policy reaches keys in its own partition only (aws, aws-cn, aws-us-gov...)."""
    arn = split_arn(policy_arn)
    return arn.partition if arn is not None and arn.partition else "aws"


def covers_every_key(resource: str, partition: str = "aws") -> bool:
    """True when a Resource value matches every KMS key ARN (``*``, ``arn:aws:kms:*``...)."""
    probes = _probes(partition, resource)
    return _matched((resource,), probes, True) == (1 << len(probes)) - 1


def _named(statements: Iterable[Statement]) -> str:
    return "\n".join(r for s in statements for r in (s.resources or s.not_resources or ()))


def _carve_outs(statements: Iterable[Statement]) -> tuple[str, ...]:
    """What may take keys out of an Allow of a blocked action: an unconditional Deny's
    Resource, an Allow's NotResource."""
    out: list[str] = []
    for stmt in statements:
        if statement_mask(stmt) & BLOCKED:
            if stmt.allow and stmt.not_resources:
                out.extend(stmt.not_resources)
            elif not stmt.allow and not stmt.conditions and stmt.resources:
                out.extend(stmt.resources)
    return tuple(out)


def detect_broad_decrypt(policy_arn: str, document: Mapping[str, Any]) -> list[Finding]:
    """KMS.1 for one IAM policy document: the blocked actions allowed on every probe key and
    not taken back there by an unconditional Deny."""
    policy = parse_policy(document, identity=True)
    probes = _probes(_partition(policy_arn), _named(policy.statements),
                     _carve_outs(policy.statements))
    variables = policy.version == VARIABLES_VERSION
    every = (1 << len(probes)) - 1
    allowed = {bit: 0 for bit in BLOCKED_ACTIONS}
    denied = dict(allowed)
    reach: list[tuple[Statement, int, int]] = []
    for stmt in policy.statements:
        mask = statement_mask(stmt) & BLOCKED
        if not mask or (not stmt.allow and stmt.conditions):
            continue
        reached = _reached(stmt, probes, variables)
        into = allowed if stmt.allow else denied
        for bit in BLOCKED_ACTIONS:
            if mask & bit:
                into[bit] |= reached
        if stmt.allow:
            reach.append((stmt, mask, reached))
    left = sum(bit for bit in BLOCKED_ACTIONS if allowed[bit] & ~denied[bit] == every)
    if not left:
        return []
    where = _first_reaching(reach, left, denied, every)
    rule = RULES["KMS.1"]
    names = kms.full_names(left)
    return [Finding(rule=rule.id, severity=rule.severity, statement=where.index, sid=where.sid,
                    actions=names, reference=rule.reference, resource=policy_arn,
                    message=f"IAM policy {policy_arn} allows {' and '.join(names)} on every KMS "
                    "key; name the keys the role needs in Resource.")]


def _first_reaching(reach: list[tuple[Statement, int, int]], left: int,
                    denied: dict[int, int], every: int) -> Statement:
    """The statement to point at: the first Allow that alone reaches every probe a flagged
    action is still allowed on, else the first that reaches one of them."""
    open_probes = [(bit, every & ~denied[bit]) for bit in BLOCKED_ACTIONS if left & bit]
    first = None
    for stmt, mask, reached in reach:
        for bit, still in open_probes:
            if mask & bit and reached & still:
                if not still & ~reached:
                    return stmt
                first = first or stmt
    assert first is not None  # an action is flagged only when some Allow reaches its probes
    return first
