"""The contracts that cross stage boundaries: the detector context and the finding."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal, NamedTuple

SEVERITIES = ("critical", "high", "medium", "low", "info")


@dataclass(frozen=True, slots=True)
class Context:
    """What a detector knows about the world around one key.

    owner_account: the account that owns the key.
    trusted_accounts: other accounts the owner trusts.
    org_id: the owner's organisation; its members are trusted.
    org_accounts: the member accounts of ``org_id`` as Organizations listed them. They are
        trusted like ``trusted_accounts``, but a patch keeps them in by ``aws:PrincipalOrgID``,
        not by naming each one. Without the list, a member is known only by the conditions a
        policy writes, so an account a policy names and the trust does not list is an outsider.
    key_arn: the ARN of the key the policy is attached to, when known (a scan knows it, a policy
        file alone does not). It settles a Resource or NotResource that names particular keys
        (``remediator.policy.resources.settle_resources``); without it such a statement is
        taken to apply when it allows and not when it denies, so doubt never hides access.
    admins: ARN patterns (``*`` and ``?`` wildcards) of authorised key administrators.
        When empty, only the owner root is authorised.
    via_services: services allowed in ``kms:ViaService`` (e.g. ``s3.eu-west-1.amazonaws.com``).
    partition: the key's partition (``aws``, ``aws-cn``, ``aws-us-gov``): the owner root's ARN
        is ``arn:PARTITION:iam::ACCOUNT:root``. Taken from ``key_arn`` when not given; ``aws``
        when neither says (``without_key`` keeps it).
    """

    owner_account: str
    trusted_accounts: frozenset[str] = frozenset()
    org_id: str | None = None
    admins: tuple[str, ...] = ()
    via_services: tuple[str, ...] = ()
    org_accounts: frozenset[str] = frozenset()
    key_arn: str | None = None
    partition: str = ""

    def __post_init__(self) -> None:
        if not self.partition:
            parts = (self.key_arn or "").split(":")
            partition = parts[1] if len(parts) > 2 and parts[0] == "arn" and parts[1] else "aws"
            object.__setattr__(self, "partition", partition)

    def without_key(self) -> Context:
        """This context for every key: what is left to judge once a policy's Resources are
        settled for its key does not depend on which key it is, so memos are shared."""
        return self if self.key_arn is None else replace(self, key_arn=None)

    def owner_in_org(self) -> bool:
        """Whether the owner is taken to be a member of ``org_id``: it is, unless the scan read
        the members and the owner is not among them."""
        return self.org_id is not None and (not self.org_accounts
                                            or self.owner_account in self.org_accounts)

    def is_trusted_account(self, account: str) -> bool:
        return (account == self.owner_account or account in self.trusted_accounts
                or account in self.org_accounts)


Party = Literal["insider", "service", "outsider", "unknown"]


@dataclass(frozen=True, slots=True)
class GrantParties:
    """The grant's principals and where each stands (``retiring`` is None when it has none)."""

    grantee: str
    grantee_party: Party
    retiring: str | None = None
    retiring_party: Party | None = None
    # A service grantee's SourceArn constraint when it names a resource outside the trust:
    # the grant serves that resource's account, the outsider (grantee_party "outsider").
    acts_for: str | None = None

    @property
    def is_revocable(self) -> bool:
        """Revoking takes access from nobody inside the trust: the grantee is outside (the
        retiring principal's right to retire goes with the grant and is no access)."""
        return self.grantee_party == "outsider"

    @property
    def is_service_grant(self) -> bool:
        """An AWS service's grant for its own resource, with no outsider on it."""
        return self.grantee_party == "service" and self.retiring_party != "outsider"

    @property
    def outsiders(self) -> tuple[str, ...]:
        grantee = self.acts_for or self.grantee
        pairs = ((grantee, self.grantee_party), (self.retiring, self.retiring_party))
        return tuple(dict.fromkeys(p for p, party in pairs if p and party == "outsider"))


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
    # For grant findings: who the grant names and where each stands, as the detector read the
    # grant, so that the planner decides from the grant and never from the severity (which the
    # config may rewrite). Not part of the finding's JSON.
    grant_parties: GrantParties | None = None

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
