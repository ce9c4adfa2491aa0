"""Every finding of a snapshot: key policies, grants and IAM policies, with the config's rule
settings applied. Pure: reads a snapshot, never AWS."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from remediator.config import Config
from remediator.detectors import analyze_key_policy, sort_findings
from remediator.detectors.grants import detect_external_grants
from remediator.detectors.iam_policies import detect_broad_decrypt
from remediator.errors import PolicyError
from remediator.gc_tuning import collector_paused
from remediator.policy.principals import split_arn
from remediator.rule_settings import apply_rule_settings
from remediator.snapshot import IamPolicySnapshot, KeySnapshot, Snapshot
from remediator.types import Finding
from remediator.unread import unread_grants, unread_resources

# Keys the live inventory never reads (remediator/aws/inventory.py, which keeps the same two
# constants; tests/test_scan_plan_agree.py checks they agree), skipped here too so that a saved
# snapshot gives the answer a live scan gives:
# - AWS managed keys: AWS writes and maintains their key policies, and the owner cannot change
#   them ("You cannot change the properties of AWS managed keys, rotate them, change their key
#   policies, or schedule them for deletion",
#   https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#aws-managed-key).
#   Their policies are AWS's design (alias/aws/ebs: "*" limited by kms:CallerAccount and
#   kms:ViaService, no kms:PutKeyPolicy for the root), so a finding on one is one nobody can
#   act on that would hold `scan` at exit 1 for ever. They are listed as skipped, with the
#   reason, never as findings, and never planned. "alias/aws/" is reserved for them, so a key
#   with such an alias is one even when its manager was not read.
# - Keys pending deletion: on their way out, not worth remediating (the inventory's rule).
# Disabled keys are assessed and planned like enabled ones: the policy applies again the
# moment the key is re-enabled, and PutKeyPolicy works on a disabled key
# (https://docs.aws.amazon.com/kms/latest/developerguide/key-state.html).
AWS_MANAGED_ALIAS_PREFIX = "alias/aws/"
SKIPPED_STATES = frozenset({"PendingDeletion", "PendingReplicaDeletion"})


@dataclass(frozen=True, slots=True)
class Located:
    """A finding with the resource it is about."""

    resource: str  # key ARN or IAM policy ARN
    account: str
    region: str | None
    finding: Finding

    def to_dict(self) -> dict[str, Any]:
        return {"resource": self.resource, "account": self.account, "region": self.region,
                **self.finding.to_dict()}


@dataclass(frozen=True, slots=True)
class Assessment:
    findings: tuple[Located, ...]
    # (key or IAM policy ARN, why it could not be assessed): needs attention, like a finding
    unknown: tuple[tuple[str, str], ...]
    # (key ARN, why it is not assessed: AWS managed, pending deletion): informational only
    skipped: tuple[tuple[str, str], ...] = ()

    @property
    def exposed_keys(self) -> int:
        return len({f.resource for f in self.findings if f.region is not None})


def is_key_arn(resource: str) -> bool:
    """Whether an ``unknown`` entry is about a key (else it is about an IAM policy)."""
    arn = split_arn(resource)
    return arn is not None and arn.service == "kms"


def skip_reason(key: KeySnapshot) -> str | None:
    """Why a key is neither assessed nor planned (see the constants above), or None."""
    if key.manager == "AWS" or any(a.startswith(AWS_MANAGED_ALIAS_PREFIX) for a in key.aliases):
        return ("an AWS managed key: AWS owns its key policy and it cannot be changed, so it "
                "is not assessed")
    if key.state in SKIPPED_STATES:
        return f"the key is {key.state}: a key on its way out is not assessed"
    return None


def grant_findings(key: KeySnapshot, config: Config,
                   org_accounts: frozenset[str] = frozenset()) -> list[Finding]:
    """Grant findings for one key, the config's rule settings applied (never raises for the
    key policy: grants are read apart from it). ``org_accounts``: ``Snapshot.members_of``."""
    found = detect_external_grants(key.grants, config.context_for(key.account, org_accounts))
    return apply_rule_settings(found, config.rules, key.arn, key.account)


def key_findings(key: KeySnapshot, config: Config,
                 org_accounts: frozenset[str] = frozenset()) -> list[Finding]:
    """Key policy and grant findings for one key (PolicyError when the policy is invalid)."""
    ctx = config.context_for(key.account, org_accounts, key.arn)
    found: list[Finding] = []
    if key.policy is not None:
        found.extend(analyze_key_policy(key.policy, ctx))
    found.extend(detect_external_grants(key.grants, ctx))
    return sort_findings(apply_rule_settings(found, config.rules, key.arn, key.account))


def iam_policy_findings(pol: IamPolicySnapshot, config: Config) -> list[Finding]:
    """KMS.1 findings for one IAM policy (PolicyError when its document is invalid)."""
    return apply_rule_settings(detect_broad_decrypt(pol.arn, pol.document), config.rules,
                               pol.arn, pol.account)


def invalid_iam_policy_reason(pol: IamPolicySnapshot, exc: PolicyError) -> str:
    """Why an IAM policy could not be checked, naming it (the parser's message does not)."""
    return (f"IAM policy {pol.arn} (version {pol.version_id}) is not a valid policy, so it "
            f"could not be checked for KMS.1: {exc}")


def assess(snapshot: Snapshot, config: Config) -> Assessment:
    with collector_paused():  # the engine makes no reference cycles: see gc_tuning
        return _assess(snapshot, config)


def _assess(snapshot: Snapshot, config: Config) -> Assessment:
    located: list[Located] = []
    unknown: list[tuple[str, str]] = []
    skipped: list[tuple[str, str]] = []
    members = snapshot.members_of(config.trust.org_id)
    for key in snapshot.keys:
        why_skipped = skip_reason(key)
        if why_skipped is not None:
            skipped.append((key.arn, why_skipped))
            continue
        if key.policy is None:
            unknown.append((key.arn, f"policy could not be read: {key.policy_error}"))
        grants_unread = unread_grants(key)
        if grants_unread is not None:
            unknown.append((key.arn, grants_unread.reason))
        try:
            fs = key_findings(key, config, members)
        except PolicyError as exc:
            unknown.append((key.arn, f"policy is not valid: {exc}"))
            fs = sort_findings(grant_findings(key, config, members))  # its grants are still read
        located.extend(Located(key.arn, key.account, key.region, f) for f in fs)
    for pol in snapshot.iam_policies:
        # One policy that does not parse is reported as unknown; the others are still checked.
        try:
            fs = iam_policy_findings(pol, config)
        except PolicyError as exc:
            unknown.append((pol.arn, invalid_iam_policy_reason(pol, exc)))
            continue
        located.extend(Located(pol.arn, pol.account, None, f) for f in fs)
    unknown.extend((u.resource, u.reason) for u in unread_resources(snapshot))
    return Assessment(tuple(located), tuple(unknown), tuple(skipped))
