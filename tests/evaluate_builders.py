"""Builders shared by the concrete-evaluator tests: policies, statements and callers."""

from __future__ import annotations

from typing import Any

from remediator.policy import parse_policy
from remediator.policy.evaluate import AWS, Request

OWNER, OTHER = "111122223333", "999988887777"
OTHER_ROOT = f"arn:aws:iam::{OTHER}:root"

Json = dict[str, Any]


def policy(*statements: Json, version: str | None = "2012-10-17") -> Any:
    doc: Json = {"Statement": list(statements)}
    if version is not None:
        doc["Version"] = version
    return parse_policy(doc)


def allow(
    principal: Any = "*", action: Any = "kms:Decrypt", cond: Json | None = None, **extra: Any
) -> Json:
    out: Json = {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*"}
    if cond is not None:
        out["Condition"] = cond
    return {**out, **extra}


def deny(
    principal: Any = "*", action: Any = "kms:Decrypt", cond: Json | None = None, **extra: Any
) -> Json:
    return {**allow(principal, action, cond, **extra), "Effect": "Deny"}


def caller(
    context: dict[str, tuple[str, ...]] | None = None,
    principal: str = OTHER_ROOT,
    account: str = OTHER,
    **kw: Any,
) -> Request:
    return Request(AWS, principal, account, context=context or {}, **kw)
