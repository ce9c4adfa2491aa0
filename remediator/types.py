"""The contracts that cross stage boundaries: the detector context and the finding."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

SEVERITIES = ("critical", "high", "medium", "low", "info")


@dataclass(frozen=True, slots=True)
class Context:
    """What a detector knows about the world around one key.

    owner_account: the account that owns the key.
    trusted_accounts: other accounts the owner trusts.
    org_id: the owner's organisation; its members are trusted.
    admins: ARN patterns (``*`` and ``?`` wildcards) of authorised key administrators.
        When empty, only the owner root is authorised.
    via_services: services allowed in ``kms:ViaService`` (e.g. ``s3.eu-west-1.amazonaws.com``).
    """

    owner_account: str
    trusted_accounts: frozenset[str] = frozenset()
    org_id: str | None = None
    admins: tuple[str, ...] = ()
    via_services: tuple[str, ...] = ()

    def is_trusted_account(self, account: str) -> bool:
        return account == self.owner_account or account in self.trusted_accounts


class Finding(NamedTuple):
    """One rule broken by one statement (or by the key as a whole when statement is None).

    A NamedTuple (immutable, like the frozen dataclasses elsewhere) because detectors create
    many of these per policy and the engine must analyse tens of thousands of policies a second.
    """

    rule: str
    severity: str
    message: str
    statement: int | None = None
    sid: str | None = None
    principals: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    reference: str = ""
    grant_id: str | None = None  # for grant findings (KMS-GRANT-EXTERNAL)
    resource: str | None = None  # for IAM policy findings (KMS.1): the policy ARN

    def to_dict(self) -> dict[str, Any]:
        extra = {k: v for k, v in (("grant_id", self.grant_id), ("resource", self.resource))
                 if v is not None}
        return extra | {
            "rule": self.rule,
            "severity": self.severity,
            "statement": self.statement,
            "sid": self.sid,
            "principals": list(self.principals),
            "actions": list(self.actions),
            "message": self.message,
            "reference": self.reference,
        }
