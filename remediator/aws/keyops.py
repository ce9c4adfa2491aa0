"""The KMS, STS and IAM calls of apply and rollback, one key at a time.

Every call goes through a ``ShardCaller`` (rate limit per account, Region and API; retries of
throttling and 5xx only). Every write (PutKeyPolicy, RevokeGrant, CreateGrant) is one
structlog event, ``kms.write``, with the run id, the key and the outcome; a failed write is
logged with its reason and raised as it came (one of ``AWS_ERRORS``) for the caller to record.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from botocore.exceptions import ClientError

from remediator.aws.calls import ShardCaller
from remediator.aws.inventory import ClientSource
from remediator.aws.ratelimit import RateLimiter
from remediator.aws.retry import (
    AWS_ERRORS,
    DEFAULT_RETRY,
    RetryPolicy,
    error_code,
    error_reason,
)
from remediator.errors import BadInputError, KeyFailedError, TargetAccessError
from remediator.plan import policy_sha256
from remediator.policy.principals import split_arn
from remediator.put_policy import put_key_policy_text

log = structlog.get_logger(__name__)

# KMS has exactly one key policy name; moto refuses the call without it (LOCAL_AWS.md).
POLICY_NAME = "default"
# What a call to one key's account can raise: an AWS error, a role that cannot be assumed
# (TargetAccessError), an account the config does not target (BadInputError).
KEY_CALL_ERRORS: tuple[type[Exception], ...] = (*AWS_ERRORS, TargetAccessError, BadInputError)
# What CreateGrant takes back from a ListGrants entry to re-create the same grant.
GRANT_FIELDS = ("GranteePrincipal", "GranteeServicePrincipal", "RetiringPrincipal",
                "RetiringServicePrincipal", "Operations", "Constraints", "Name")


def policy_text(policy: Any) -> str:
    """The text sent to PutKeyPolicy: ``put_policy.put_key_policy_text``, the very text whose size
    the proof checked (the marker compared is over canonical JSON, so the layout does not
    matter)."""
    return put_key_policy_text(policy)


def region_partition(region: str) -> str:
    """The partition of a Region's ARNs, kept simple: ``aws-cn`` for ``cn-*``, ``aws-us-gov``
    for ``us-gov-*``, ``aws`` otherwise (so an ARN of another partition, an ISO one included,
    never passes for a key of these Regions)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


@dataclass(frozen=True, slots=True)
class KeyTarget:
    """One key: where it is and its id (the parts of its ARN, checked against each other)."""

    key_arn: str
    account: str
    region: str
    key_id: str

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> KeyTarget:
        """From a plan change or run-record entry; ValueError when its ARN disagrees with its
        account, Region or key id, or its partition is not its Region's
        (``region_partition``)."""
        arn = str(entry.get("key_arn", ""))
        parts = split_arn(arn)
        if parts is None or parts.service != "kms" or not parts.resource.startswith("key/"):
            raise ValueError(f"{arn!r} is not a KMS key ARN")
        key_id = parts.resource.removeprefix("key/")
        target = cls(arn, str(entry.get("account")), str(entry.get("region")), key_id)
        same_place = (parts.account, parts.region) == (target.account, target.region)
        if not same_place or entry.get("key_id", key_id) != key_id:
            raise ValueError(f"{arn} does not match its account, Region or key id")
        if parts.partition != region_partition(target.region):
            raise ValueError(
                f"{arn} is in partition {parts.partition}, but Region {target.region} is in "
                f"{region_partition(target.region)}"
            )
        return target

    @property
    def identity(self) -> tuple[str, str, str]:
        """What names the key whatever its ARN is written as: (account, Region, key id); KMS
        is called with the key id, so two ARNs with one identity are one key."""
        return self.account, self.region, self.key_id.lower()


@dataclass(frozen=True, slots=True)
class LivePolicy:
    """A key policy as read: the text KMS returned, the parsed document, and its marker."""

    text: str
    document: Any
    sha256: str


class KeyOps:
    """Reads and writes of single keys for one run, through rate-limited, retried callers."""

    def __init__(
        self,
        clients: ClientSource,
        limiter: RateLimiter,
        retry: RetryPolicy = DEFAULT_RETRY,
        run_id: str | None = None,
    ) -> None:
        self.clients = clients
        self.limiter = limiter
        self.retry = retry
        self.run_id = run_id

    def _caller(self, target: KeyTarget) -> ShardCaller:
        return ShardCaller(target.account, target.region, self.limiter, self.retry)

    def _kms(self, target: KeyTarget) -> Any:
        return self.clients(target.account, target.region, "kms")

    def caller_identity(self, account: str, region: str) -> tuple[str, str]:
        """The account and ARN STS GetCallerIdentity reports for ``account``'s own client."""
        sts = self.clients(account, region, "sts")
        caller = ShardCaller(account, region, self.limiter, self.retry)
        identity = caller.call(sts, "GetCallerIdentity")
        return str(identity["Account"]), str(identity.get("Arn", ""))

    def role_arn(self, account: str, region: str, name: str) -> str:
        """The ARN, with its path, of the IAM role ``name`` of ``account`` (GetRole)."""
        iam = self.clients(account, region, "iam")
        caller = ShardCaller(account, region, self.limiter, self.retry)
        return str(caller.call(iam, "GetRole", RoleName=name)["Role"]["Arn"])

    def read_policy(self, target: KeyTarget) -> LivePolicy:
        """GetKeyPolicy; KeyFailedError when the text KMS returns is not JSON."""
        response = self._caller(target).call(
            self._kms(target), "GetKeyPolicy", KeyId=target.key_id, PolicyName=POLICY_NAME
        )
        text = str(response["Policy"])
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise KeyFailedError(f"the key policy of {target.key_arn} is not JSON ({exc})") from exc
        return LivePolicy(text, document, policy_sha256(document))

    def list_grants(self, target: KeyTarget) -> list[dict[str, Any]]:
        """Every grant of the key (ListGrants, all pages)."""
        return self._caller(target).items(
            self._kms(target), "ListGrants", "Grants", KeyId=target.key_id
        )

    def describe(self, target: KeyTarget) -> dict[str, Any]:
        """The key's metadata (DescribeKey), kept in the backup."""
        response = self._caller(target).call(self._kms(target), "DescribeKey", KeyId=target.key_id)
        return dict(response["KeyMetadata"])

    def put_policy(self, target: KeyTarget, text: str, purpose: str) -> None:
        """PutKeyPolicy, never with BypassPolicyLockoutSafetyCheck (DESIGN.md safety rule 4)."""
        self._write(
            target,
            "PutKeyPolicy",
            {"KeyId": target.key_id, "PolicyName": POLICY_NAME, "Policy": text},
            purpose=purpose,
            policy_sha256=policy_sha256(json.loads(text)),
        )

    def revoke_grant(self, target: KeyTarget, grant_id: str) -> None:
        """RevokeGrant of one grant id."""
        self._write(
            target, "RevokeGrant", {"KeyId": target.key_id, "GrantId": grant_id}, grant_id=grant_id
        )

    def create_grant(self, target: KeyTarget, grant: Mapping[str, Any]) -> str:
        """CreateGrant with the grantee, operations, constraints, retiring principal and name of
        ``grant`` (a ListGrants entry); returns the new grant id."""
        params = {k: grant[k] for k in GRANT_FIELDS if grant.get(k)}
        response = self._write(
            target,
            "CreateGrant",
            {"KeyId": target.key_id, **params},
            recreates=grant.get("GrantId"),
        )
        return str(response["GrantId"])

    def principal_exists(self, account: str, region: str, arn: str) -> bool | None:
        """Whether an IAM role or user ARN of ``account`` exists (GetRole/GetUser through that
        account's client); None for any other kind of principal, which is not checked."""
        parts = split_arn(arn)
        if parts is None or parts.service != "iam" or parts.account != account:
            return None
        kind, _, path = parts.resource.partition("/")
        api = {"role": ("GetRole", "RoleName"), "user": ("GetUser", "UserName")}.get(kind)
        if api is None or not path:
            return None
        iam = self.clients(account, region, "iam")
        caller = ShardCaller(account, region, self.limiter, self.retry)
        try:
            caller.call(iam, api[0], **{api[1]: path.rsplit("/", 1)[-1]})
        except ClientError as exc:
            if error_code(exc) == "NoSuchEntity":
                return False
            raise
        return True

    def _write(
        self, target: KeyTarget, api: str, params: dict[str, Any], **details: Any
    ) -> dict[str, Any]:
        event = {
            "run_id": self.run_id,
            "operation": api,
            "key_arn": target.key_arn,
            **details,
        }
        try:
            response = self._caller(target).call(self._kms(target), api, **params)
        except AWS_ERRORS as exc:
            log.error("kms.write", outcome="failed", reason=error_reason(exc), **event)
            raise
        log.info("kms.write", outcome="ok", **event)
        return response
