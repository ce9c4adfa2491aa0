"""Which principals a backup names, which of them no longer exist, and leaving them out.

KMS refuses a key policy (MalformedPolicyDocumentException) or a grant naming an IAM principal
that does not exist, so rollback checks the IAM roles and users of the owner account before it
restores (GetRole/GetUser through that account's client). Principals of other accounts cannot be
looked up from here and are not checked. Leaving missing principals out is only ever done when
the user asks for it (``--drop-missing-principals``), and the result names each one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from remediator.aws.keyops import KeyOps, KeyTarget

GRANT_PRINCIPALS = ("GranteePrincipal", "RetiringPrincipal")


def find_missing(ops: KeyOps, target: KeyTarget, names: Iterable[str]) -> tuple[str, ...]:
    """The IAM role and user ARNs of the key's account among ``names`` that do not exist."""
    return tuple(
        sorted(
            n for n in set(names) if ops.principal_exists(target.account, target.region, n) is False
        )
    )


def grant_principals(grants: Collection[Mapping[str, Any]]) -> set[str]:
    """The grantee and retiring principals of ``grants``."""
    return {str(g[k]) for g in grants for k in GRANT_PRINCIPALS if g.get(k)}


def policy_principals(policy: Any) -> set[str]:
    """Every ``Principal.AWS`` value of a policy's statements (NotPrincipal is not a grant)."""
    statements = policy.get("Statement", []) if isinstance(policy, Mapping) else []
    if isinstance(statements, Mapping):
        statements = [statements]
    names: set[str] = set()
    for stmt in statements:
        principal = stmt.get("Principal") if isinstance(stmt, Mapping) else None
        if isinstance(principal, Mapping):
            aws = principal.get("AWS", [])
            names.update([aws] if isinstance(aws, str) else [str(v) for v in aws])
    return names


def drop_principals(policy: Mapping[str, Any], missing: Collection[str]) -> dict[str, Any]:
    """``policy`` without the ``missing`` AWS principals; a statement left with no principal
    at all is left out. A new document; the input is not changed."""
    statements = policy.get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    kept = []
    for stmt in statements:
        principal = stmt.get("Principal")
        if not isinstance(principal, Mapping) or "AWS" not in principal:
            kept.append(stmt)
            continue
        aws = principal["AWS"]
        values = [aws] if isinstance(aws, str) else list(aws)
        left = [v for v in values if v not in missing]
        rest = {k: v for k, v in principal.items() if k != "AWS"}
        if left:
            rest["AWS"] = left[0] if isinstance(aws, str) else left
        if rest:
            kept.append({**stmt, "Principal": rest})
    return {**policy, "Statement": kept}


def drop_from_grants(
    grants: Iterable[Mapping[str, Any]], missing: Collection[str]
) -> list[dict[str, Any]]:
    """The grants to re-create without the missing principals: a grant whose grantee is missing
    is left out (a grant exists for its grantee), a missing retiring principal is left off."""
    kept = []
    for grant in grants:
        if grant.get("GranteePrincipal") in missing:
            continue
        kept.append(
            {k: v for k, v in grant.items() if k != "RetiringPrincipal" or v not in missing}
        )
    return kept
