"""Which grants a run revoked rollback re-creates, given what the key lists now.

Pure: rollback reads the key's grants (ListGrants) and passes them in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from remediator.approval import grant_identity


def grants_to_recreate(
    listed: list[dict[str, Any]], entry: Mapping[str, Any],
    original: list[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """Of the run-record ``entry``'s planned revocations, those whose grant (or its recorded
    re-created copy) is no longer ``listed``, less the copies an earlier rollback created but
    could not record (its run record failed to save): a listed grant alike
    (``grant_identity``) to a gone one, whose id is neither one the key had when backed up
    (``original``, and the planned ones) nor a recorded copy, is such a copy, and the grant is
    not created twice (found by review)."""
    planned = entry.get("revoke_planned") or []
    if not planned:
        return []
    live = {g["GrantId"] for g in listed}
    recorded = (entry.get("rollback") or {}).get("recreated_grants", {})
    gone = [g for g in planned
            if g["GrantId"] not in live and recorded.get(g["GrantId"]) not in live]
    known = {g.get("GrantId") for g in [*original, *planned]} | set(recorded.values())
    copies = Counter(grant_identity(g) for g in listed if g["GrantId"] not in known)
    out = []
    for g in gone:
        key = grant_identity(g)
        if copies[key]:
            copies[key] -= 1
        else:
            out.append(g)
    return out
