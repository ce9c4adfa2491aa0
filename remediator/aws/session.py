"""boto3 sessions and clients: the standard credential chain, assume-role into each target
account, and Organizations for organisation-wide scans.

Clients are built here and passed in to the code that uses them, never kept in module globals.
botocore's own retries are off (one attempt): ``remediator.aws.retry`` decides what to retry.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.session
import structlog
from botocore.config import Config as BotoConfig
from botocore.credentials import CredentialProvider, CredentialResolver, RefreshableCredentials
from botocore.exceptions import ProfileNotFound

from remediator import __version__
from remediator.aws.calls import ShardCaller
from remediator.aws.ratelimit import RateLimiter
from remediator.aws.retry import AWS_ERRORS, call_with_retry, error_reason
from remediator.config import Config
from remediator.errors import BadInputError, TargetAccessError

log = structlog.get_logger(__name__)

ROLE_SESSION_NAME = "kms-remediator"


@dataclass(frozen=True, slots=True)
class AwsSettings:
    """Where and how to reach AWS. ``region`` is the home Region for STS, IAM and
    Organizations; ``endpoint_url`` replaces every service endpoint (a local or private one)."""

    region: str
    profile: str | None = None
    endpoint_url: str | None = None
    max_pool_connections: int = 32
    connect_timeout: float = 5.0
    read_timeout: float = 30.0


def client_config(settings: AwsSettings) -> BotoConfig:
    """Timeouts, a connection pool as large as our thread pools, and no botocore retries."""
    return BotoConfig(
        retries={"mode": "standard", "total_max_attempts": 1},
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        max_pool_connections=settings.max_pool_connections,
        user_agent_extra=f"kms-remediator/{__version__}",
    )


def base_session(settings: AwsSettings) -> boto3.Session:
    """A session on the standard credential chain (environment, ``--profile``, SSO, instance)."""
    try:
        return boto3.Session(profile_name=settings.profile, region_name=settings.region)
    except ProfileNotFound as exc:
        raise BadInputError(
            f"--profile: the AWS profile {settings.profile!r} is not set up."
        ) from exc


def role_arn(session: boto3.Session, account: str, role_name: str, region: str) -> str:
    partition = session.get_partition_for_region(region)
    return f"arn:{partition}:iam::{account}:role/{role_name}"


class _AssumedRoleProvider(CredentialProvider):  # type: ignore[misc]
    """Credentials from sts:AssumeRole, refreshed by botocore before they expire."""

    METHOD = "kms-remediator-assume-role"
    CANONICAL_NAME = "kms-remediator-assume-role"

    def __init__(self, fetch: Callable[[], dict[str, str]]) -> None:
        super().__init__()
        self._fetch = fetch

    def load(self) -> RefreshableCredentials:
        return RefreshableCredentials.create_from_metadata(
            metadata=self._fetch(), refresh_using=self._fetch, method=self.METHOD
        )


def assume_role_session(sts: Any, arn: str, region: str) -> boto3.Session:
    """A session whose credentials come from assuming ``arn`` with the ``sts`` client (and are
    refreshed by botocore before they expire)."""

    def fetch() -> dict[str, str]:
        try:
            creds = call_with_retry(
                lambda: sts.assume_role(RoleArn=arn, RoleSessionName=ROLE_SESSION_NAME),
                "AssumeRole",
            )["Credentials"]
        except AWS_ERRORS as exc:
            raise TargetAccessError(f"Cannot assume role {arn}: {error_reason(exc)}.") from exc
        log.info("aws.assume_role", role_arn=arn, expires=creds["Expiration"].isoformat())
        return {
            "access_key": creds["AccessKeyId"],
            "secret_key": creds["SecretAccessKey"],
            "token": creds["SessionToken"],
            "expiry_time": creds["Expiration"].isoformat(),
        }

    provider = _AssumedRoleProvider(fetch)
    core = botocore.session.Session()
    core.register_component("credential_provider", CredentialResolver([provider]))
    core.get_credentials()  # assume now, so a refused role fails here and not mid-scan
    return boto3.Session(botocore_session=core, region_name=region)


class ClientFactory:
    """Builds boto3 clients per (account, region, service), cached and thread-safe.

    ``roles`` maps each target account to the role to assume in it, or ``None`` to use the base
    credentials (which must then belong to that account, checked with STS).
    """

    def __init__(
        self, base: boto3.Session, settings: AwsSettings, roles: Mapping[str, str | None]
    ) -> None:
        self.base = base
        self.settings = settings
        self.roles = dict(roles)
        self._sessions: dict[str, boto3.Session] = {}
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._lock = threading.RLock()

    def __call__(self, account: str, region: str, service: str) -> Any:
        return self.client(account, region, service)

    def client(self, account: str, region: str, service: str) -> Any:
        """A client for ``service`` in ``account`` and ``region`` (botocore clients are
        thread-safe; creating them from one session is not, hence the lock)."""
        key = (account, region, service)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self.session_for(account).client(
                    service,
                    region_name=region,
                    endpoint_url=self.settings.endpoint_url,
                    config=client_config(self.settings),
                )
            return self._clients[key]

    def base_client(self, service: str) -> Any:
        """A client on the base credentials in the home Region (STS, Organizations); cached."""
        key = ("", self.settings.region, service)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self.base.client(
                    service,
                    region_name=self.settings.region,
                    endpoint_url=self.settings.endpoint_url,
                    config=client_config(self.settings),
                )
            return self._clients[key]

    def session_for(self, account: str) -> boto3.Session:
        with self._lock:
            if account not in self._sessions:
                self._sessions[account] = self._open_session(account)
            return self._sessions[account]

    def caller_account(self) -> str:
        """The account of the base credentials, from STS GetCallerIdentity."""
        sts = self.base_client("sts")
        try:
            identity = call_with_retry(sts.get_caller_identity, "GetCallerIdentity")
        except AWS_ERRORS as exc:
            raise TargetAccessError(
                f"Cannot read the caller identity: {error_reason(exc)}."
            ) from exc
        return str(identity["Account"])

    def _open_session(self, account: str) -> boto3.Session:
        if account not in self.roles:
            raise BadInputError(f"Account {account} is not a target of this configuration.")
        role = self.roles[account]
        if role is not None:
            arn = role_arn(self.base, account, role, self.settings.region)
            return assume_role_session(self.base_client("sts"), arn, self.settings.region)
        caller = self.caller_account()
        if caller != account:
            raise TargetAccessError(
                f"Account {account} has no role_name in the config, so the current credentials "
                f"are used, but they belong to account {caller}; set role_name for {account}."
            )
        return self.base


def organization_accounts(factory: ClientFactory, limiter: RateLimiter) -> list[str]:
    """The ids of every ACTIVE account in the organisation (Organizations ListAccounts)."""
    org = factory.base_client("organizations")
    caller = ShardCaller("organization", factory.settings.region, limiter)
    try:
        accounts = caller.items(org, "ListAccounts", "Accounts")
    except AWS_ERRORS as exc:
        raise TargetAccessError(
            f"Cannot list the organisation's accounts: {error_reason(exc)}."
        ) from exc
    # "Status" is deprecated in favour of "State"; either says whether the account is active.
    return sorted(a["Id"] for a in accounts if (a.get("State") or a.get("Status")) == "ACTIVE")


def target_roles(
    config: Config, probe: ClientFactory, limiter: RateLimiter
) -> dict[str, str | None]:
    """Every account the config targets, with the role to assume in it (``None``: the base
    credentials). ``probe`` is a factory on the base credentials, used for Organizations."""
    roles: dict[str, str | None] = {}
    if config.organization is not None:
        home = probe.caller_account()
        for account in organization_accounts(probe, limiter):
            if account not in config.organization.exclude:
                # The management account has no OrganizationAccountAccessRole in itself.
                roles[account] = None if account == home else config.organization.role_name
    for target in config.accounts:
        roles[target.id] = target.role_name
    log.info("aws.targets", accounts=len(roles), organization=config.organization is not None)
    return roles


def factory_from_config(
    config: Config, base: boto3.Session, settings: AwsSettings, limiter: RateLimiter
) -> ClientFactory:
    """The client factory for every target account of ``config``."""
    return ClientFactory(
        base, settings, target_roles(config, ClientFactory(base, settings, {}), limiter)
    )


def settings_from_config(
    config: Config, profile: str | None = None, region: str | None = None
) -> AwsSettings:
    """Settings for the CLI: ``--region`` or the first configured Region is the home Region."""
    workers = config.limits.workers_per_shard
    return AwsSettings(
        region=region or config.regions[0],
        profile=profile,
        endpoint_url=config.endpoint_url,
        max_pool_connections=max(10, workers + 4),
    )
