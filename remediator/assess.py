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
from remediator.rule_settings import apply_rule_settings
from remediator.snapshot import KeySnapshot, Snapshot
from remediator.types import Finding


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
    unknown: tuple[tuple[str, str], ...]  # (key ARN, why its policy could not be assessed)

    @property
    def exposed_keys(self) -> int:
        return len({f.resource for f in self.findings if f.region is not None})


def key_findings(key: KeySnapshot, config: Config) -> list[Finding]:
    """Key policy and grant findings for one key (PolicyError when the policy is invalid)."""
    ctx = config.context_for(key.account)
    found: list[Finding] = []
    if key.policy is not None:
        found.extend(analyze_key_policy(key.policy, ctx))
    found.extend(detect_external_grants(key.grants, ctx))
    return sort_findings(apply_rule_settings(found, config.rules, key.arn, key.account))


def assess(snapshot: Snapshot, config: Config) -> Assessment:
    with collector_paused():  # the engine makes no reference cycles: see gc_tuning
        return _assess(snapshot, config)


def _assess(snapshot: Snapshot, config: Config) -> Assessment:
    located: list[Located] = []
    unknown: list[tuple[str, str]] = []
    for key in snapshot.keys:
        if key.policy is None:
            unknown.append((key.arn, f"policy could not be read: {key.policy_error}"))
        try:
            fs = key_findings(key, config)
        except PolicyError as exc:
            unknown.append((key.arn, f"policy is not valid: {exc}"))
            continue
        located.extend(Located(key.arn, key.account, key.region, f) for f in fs)
    for pol in snapshot.iam_policies:
        fs = apply_rule_settings(detect_broad_decrypt(pol.arn, pol.document), config.rules,
                                 pol.arn, pol.account)
        located.extend(Located(pol.arn, pol.account, None, f) for f in fs)
    return Assessment(tuple(located), tuple(unknown))

