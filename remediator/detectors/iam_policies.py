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
- Allow ``*`` with a Deny whose NotResource is one key leaves that key alone: no finding.
- Conditions are not evaluated, as the control does not: a conditional Allow still counts, and
  a conditional Deny is not taken to remove anything (it may not apply).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from itertools import product
from typing import Any

from remediator.detectors.rules import RULES
from remediator.policy import actions as kms
from remediator.policy.access import statement_mask
from remediator.policy.document import Statement, parse_policy
from remediator.policy.principals import has_wildcard, split_arn
from remediator.policy.resources import resource_regex
from remediator.types import Finding

BLOCKED = kms.bit("kms:Decrypt") | kms.bit("kms:ReEncryptFrom")
BLOCKED_ACTIONS = (kms.bit("kms:Decrypt"), kms.bit("kms:ReEncryptFrom"))

# Candidate parts of probe key ARNs. Each part varies in its characters so that a pattern
# which only looks broad ("arn:aws:kms:us-*", "...:key/*a*", "...:1*") misses at least one.
# Candidates the policy names are skipped (see _probes), so a Deny or NotResource on a fixed
# Region, account or key never hides an arbitrary one.
_REGIONS = ("us-east-1", "ap-southeast-7", "eu-central-2", "il-central-1", "mx-central-1",
            "ca-west-1", "sa-east-1", "me-south-1")
_ACCOUNTS = tuple(f"{d}{d}{d}4{d}{d}7{d}{d}0{d}{d}" for d in "9305186274")
_KEY_IDS = ("ffffffff-0000-4fff-8000-000000000000", "mrk-0123456789abcdef0123456789abcdef",
            "1234abcd-12ab-34cd-56ef-1234567890ab", "mrk-fedcba9876543210fedcba9876543210",
            "a0b1c2d3-e4f5-4a6b-9c8d-7e6f5a4b3c2d", "00000000-0000-0000-0000-000000000000")
_PER_PART = 3


def _fresh(candidates: tuple[str, ...], named: str) -> tuple[str, ...]:
    fresh = tuple(c for c in candidates if c not in named)[:_PER_PART]
    return fresh or candidates[:_PER_PART]


def _probes(partition: str, named: str = "") -> tuple[str, ...]:
    """Key ARNs in ``partition`` built from parts that do not occur in ``named``."""
    return _key_arns(partition, _fresh(_REGIONS, named), _fresh(_ACCOUNTS, named),
                     _fresh(_KEY_IDS, named))


@lru_cache(maxsize=64)
def _key_arns(partition: str, regions: tuple[str, ...], accounts: tuple[str, ...],
              key_ids: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"arn:{partition}:kms:{region}:{account}:key/{key_id}"
                 for region, account, key_id in product(regions, accounts, key_ids))


@lru_cache(maxsize=16_384)
def _matched(patterns: tuple[str, ...], probes: tuple[str, ...]) -> int:
    """The probes (as bits) that at least one Resource pattern matches (case-sensitive)."""
    bits = 0
    for pattern in patterns:
        if not has_wildcard(pattern):
            bits |= sum(1 << i for i, p in enumerate(probes) if p == pattern)
            continue
        # A variable stays its own text: it need not stand for every key of a kind.
        regex = resource_regex(pattern, variables=False)
        bits |= sum(1 << i for i, p in enumerate(probes) if regex.fullmatch(p))
    return bits


def _reached(stmt: Statement, probes: tuple[str, ...]) -> int:
    """The probes a statement applies to: its Resource matches, or its NotResource does not."""
    if stmt.resources is not None:
        return _matched(stmt.resources, probes)
    if stmt.not_resources is not None:
        return ((1 << len(probes)) - 1) & ~_matched(stmt.not_resources, probes)
    return 0


def _partition(policy_arn: str) -> str:
    """A policy reaches keys in its own partition only (aws, aws-cn, aws-us-gov...)."""
    arn = split_arn(policy_arn)
    return arn.partition if arn is not None and arn.partition else "aws"


def covers_every_key(resource: str, partition: str = "aws") -> bool:
    """True when a Resource value matches every KMS key ARN (``*``, ``arn:aws:kms:*``...)."""
    probes = _probes(partition, resource)
    return _matched((resource,), probes) == (1 << len(probes)) - 1


def _named(statements: Iterable[Statement]) -> str:
    return "\n".join(r for s in statements for r in (s.resources or s.not_resources or ()))


def detect_broad_decrypt(policy_arn: str, document: Mapping[str, Any]) -> list[Finding]:
    """KMS.1 for one IAM policy document: the blocked actions allowed on every probe key and
    not taken back there by an unconditional Deny."""
    policy = parse_policy(document, identity=True)
    probes = _probes(_partition(policy_arn), _named(policy.statements))
    every = (1 << len(probes)) - 1
    allowed = {bit: 0 for bit in BLOCKED_ACTIONS}
    denied = dict(allowed)
    reach: list[tuple[Statement, int, int]] = []
    for stmt in policy.statements:
        mask = statement_mask(stmt) & BLOCKED
        if not mask or (not stmt.allow and stmt.conditions):
            continue
        reached = _reached(stmt, probes)
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
