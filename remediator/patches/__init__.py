"""The patch operations playbooks can name: one registry, so that every name is greppable.

Each entry declares its parameters and the AWS permissions applying it needs (so that the
bot's own least-privilege policy can be generated from the playbooks it runs).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from remediator.patches.document import SID_PREFIX, Document, Operation, PatchFn
from remediator.patches.exposure import (
    remove_untrusted,
    remove_wildcard_principal,
    restrict_to_trusted,
    scope_service,
)
from remediator.patches.privileges import (
    add_root_statement,
    add_via_service,
    deny_actions_except_authorised,
    remove_actions,
    replace_wildcard_action,
    separate_duties,
)
from remediator.types import Context, Finding

_PUT = ("kms:GetKeyPolicy", "kms:PutKeyPolicy")
REVOKE_GRANT_PERMISSIONS = ("kms:ListGrants", "kms:RevokeGrant", "kms:CreateGrant")


def revoke_grant(doc: Document, finding: Finding, ctx: Context,
                 params: Mapping[str, Any]) -> Document | None:
    """Not a policy patch: the planner lists the finding's grant under revoke_grants."""
    return None

OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation("remove-wildcard-principal", remove_wildcard_principal, frozenset(), _PUT,
                  "remove \"*\" from a principal list that names others"),
        Operation("restrict-to-trusted", restrict_to_trusted, frozenset({"accounts_only"}), _PUT,
                  "pin the statement to the owner and trusted accounts or organisation "
                  "(services named beside its AWS principals split off, unpinned)"),
        Operation("remove-untrusted", remove_untrusted, frozenset(), _PUT,
                  "remove an untrusted account's principals or condition values"),
        Operation("scope-service", scope_service, frozenset(), _PUT,
                  "add aws:SourceAccount to service principals"),
        Operation("add-root-statement", add_root_statement, frozenset(), _PUT,
                  "add the standard owner-root statement"),
        Operation("remove-actions", remove_actions, frozenset(), _PUT,
                  "remove actions listed by name from the statement"),
        Operation("deny-actions-except-authorised", deny_actions_except_authorised, frozenset(),
                  _PUT, "deny the actions to all but the owner root and administrators"),
        Operation("add-via-service", add_via_service, frozenset(), _PUT,
                  "limit use to the configured services with kms:ViaService"),
        Operation("replace-wildcard-action", replace_wildcard_action, frozenset({"actions"}),
                  _PUT, "replace kms:* by the key-user actions"),
        Operation("separate-duties", separate_duties, frozenset(), _PUT,
                  "deny one principal the half of its rights it should not hold"),
        Operation("revoke-grant", revoke_grant, frozenset(), REVOKE_GRANT_PERMISSIONS,
                  "revoke the finding's grant (rollback re-creates it)"),
    )
}

__all__ = ["OPERATIONS", "SID_PREFIX", "Document", "Operation", "PatchFn"]
