"""Scan results as JSON, Markdown, SARIF 2.1.0 and AWS Security Finding Format (ASFF)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from remediator import __version__
from remediator.assess import Assessment, Located, is_key_arn
from remediator.detectors.rules import RULES
from remediator.report.printable import printable
from remediator.snapshot import utc_now

_SARIF_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note",
                "info": "note"}
# ASFF severity labels: https://docs.aws.amazon.com/securityhub/latest/userguide/asff-required-attributes.html
_ASFF_LABEL = {"critical": "CRITICAL", "high": "HIGH", "medium": "MEDIUM", "low": "LOW",
               "info": "INFORMATIONAL"}


def _unknown_entry(resource: str, reason: str) -> dict[str, str]:
    """``resource`` always; ``key_arn`` too when it is a key (what older readers look for)."""
    return ({"resource": resource, "key_arn": resource, "reason": reason}
            if is_key_arn(resource) else {"resource": resource, "reason": reason})


def to_json(a: Assessment) -> str:
    return json.dumps({"findings": [f.to_dict() for f in a.findings],
                       "unknown": [_unknown_entry(k, r) for k, r in a.unknown],
                       "skipped": [{"key_arn": k, "reason": r} for k, r in a.skipped]},
                      indent=2)


def to_markdown(a: Assessment) -> str:
    lines = ["# KMS key exposure scan", "",
             f"{len(a.findings)} finding(s) on {a.exposed_keys} key(s); "
             f"{len(a.unknown)} resource(s) could not be assessed; "
             f"{len(a.skipped)} key(s) skipped (AWS managed or pending deletion).", "",
             "| Severity | Rule | Resource | Finding |", "|---|---|---|---|"]
    for item in a.findings:
        f = item.finding
        lines.append(f"| {f.severity} | {f.rule} | `{item.resource}` | "
                     f"{f.message.replace('|', '/')} |")
    for arn, why in a.unknown:
        lines.append(f"| unknown | - | `{arn}` | {why.replace('|', '/')} |")
    for arn, why in a.skipped:
        lines.append(f"| skipped | - | `{arn}` | {why.replace('|', '/')} |")
    return "\n".join(map(printable, lines))  # a line is a line: user text cannot break one


def _fingerprint(item: Located) -> str:
    f = item.finding
    raw = "|".join([item.resource, f.rule, str(f.statement), ",".join(f.principals),
                    f.grant_id or ""])
    return hashlib.sha256(raw.encode()).hexdigest()


def to_sarif(a: Assessment) -> str:
    rules = [{"id": r.id, "name": r.id, "shortDescription": {"text": r.title},
              "properties": {"severity": r.severity, "source": r.reference}}
             for r in RULES.values()]
    results = [{
        "ruleId": item.finding.rule,
        "level": _SARIF_LEVEL[item.finding.severity],
        "message": {"text": item.finding.message},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": item.resource}}}],
        "partialFingerprints": {"kmsRemediator/v1": _fingerprint(item)},
        "properties": {"severity": item.finding.severity,
                       "statement": item.finding.statement,
                       "principals": list(item.finding.principals)},
    } for item in a.findings]
    doc = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
           "runs": [{"tool": {"driver": {"name": "kms-remediator", "version": __version__,
                                         "rules": rules}}, "results": results}]}
    return json.dumps(doc, indent=2)


def _asff(item: Located, now: str) -> dict[str, Any]:
    f = item.finding
    region = item.region or "us-east-1"
    partition = item.resource.split(":")[1] if item.resource.startswith("arn:") else "aws"
    kind = "AwsKmsKey" if item.region else "AwsIamPolicy"
    return {
        "SchemaVersion": "2018-10-08",
        "Id": f"kms-remediator/{_fingerprint(item)}",
        "ProductArn": f"arn:{partition}:securityhub:{region}:{item.account}:product/"
                      f"{item.account}/default",
        "GeneratorId": f"kms-remediator/{f.rule}",
        "AwsAccountId": item.account,
        "Types": ["Software and Configuration Checks/AWS Security Best Practices"],
        "CreatedAt": now, "UpdatedAt": now,
        "Severity": {"Label": _ASFF_LABEL[f.severity]},
        "Title": RULES[f.rule].title,
        "Description": f.message[:1024],
        "Resources": [{"Type": kind, "Id": item.resource, "Partition": partition,
                       "Region": region}],
        "Compliance": {"Status": "FAILED"},
    }


def to_asff(a: Assessment) -> str:
    now = utc_now()
    return json.dumps([_asff(item, now) for item in a.findings], indent=2)
