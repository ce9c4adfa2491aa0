"""`remediator check-policy`: the offline check of one key policy document."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from typing import Any, TextIO

from remediator import validate
from remediator.detectors import analyze_key_policy
from remediator.errors import BadInputError
from remediator.policy.document import Policy, parse_policy
from remediator.policy.principals import split_arn
from remediator.report.findings import render_findings_table
from remediator.types import Context, Finding
from remediator.userinput import read_text, source_name
from remediator.userjson import loads_strict

# A key policy is "up to 32 kilobytes (32,768 bytes)" (key-policy-overview page, as
# remediator/put_policy.py cites it): input far larger is not one, and is not read on.
MAX_INPUT_BYTES = 2**20


def read_policy_document(source: str, stdin: TextIO | None) -> Any:
    """The decoded JSON of FILE, or of standard input for ``-``; BadInputError otherwise.

    A name given twice in one object is refused, as IAM Access Analyzer refuses it: readers
    disagree on which value counts, and Python's would keep the last silently.
    """
    name = source_name(source)
    text = read_text(source, stdin, MAX_INPUT_BYTES,
                     "far more than a key policy can be (AWS allows 32 KB)")
    try:
        return loads_strict(text, name, "a key policy", unique_names=True)
    except json.JSONDecodeError as exc:
        raise BadInputError(
            f"{name} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None


def build_context(
    account: str, trusted: list[str], org: str | None, admins: list[str], services: list[str],
    key_arn: str | None = None,
) -> Context:
    owner = validate.account_id(account, "--account")
    return Context(
        owner_account=owner,
        trusted_accounts=frozenset(validate.account_id(t, "--trusted-account") for t in trusted),
        org_id=None if org is None else validate.org_id(org, "--org-id"),
        admins=tuple(admins),
        via_services=tuple(services),
        key_arn=None if key_arn is None else validate.key_arn(key_arn, owner, "--key-arn"),
    )


def written_partition(policy: Policy, owner: str) -> str:
    """The partition of the key, as far as a policy file without ``--key-arn`` says it: that of
    the first principal ARN in the owner's account (``arn:aws-us-gov:iam::OWNER:root``), else
    ``aws``. Found by review: a GovCloud policy was read with the aws partition's root."""
    for stmt in policy.statements:
        for element in (stmt.principal, stmt.not_principal):
            for value in element.aws if element is not None else ():
                arn = split_arn(value)
                if arn is not None and arn.account == owner:
                    return arn.partition
    return "aws"


def check_policy(
    source: str, ctx: Context, fmt: str, out: TextIO | None = None, stdin: TextIO | None = None
) -> list[Finding]:
    """Analyse one document and print the result; returns the findings (the exit code's basis)."""
    out = out or sys.stdout
    document = read_policy_document(source, sys.stdin if stdin is None else stdin)
    if ctx.key_arn is None:
        ctx = replace(ctx, partition=written_partition(parse_policy(document), ctx.owner_account))
    findings = analyze_key_policy(document, ctx)
    if fmt == "json":
        payload = {"account": ctx.owner_account, "findings": [f.to_dict() for f in findings]}
        out.write(json.dumps(payload, indent=2) + "\n")
    else:
        render_findings_table(
            findings, out, title=f"Key policy check for account {ctx.owner_account}"
        )
    return findings
