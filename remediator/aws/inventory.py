"""Read every customer-managed KMS key of the target accounts and Regions into a Snapshot.

Work is sharded by (account, region) over a bounded thread pool; within a shard the keys are
read in parallel by a second bounded pool. Requests per key are kept to the minimum, because
they decide how long a scan takes: ListKeys and ListAliases once per shard (aliases are joined
to keys here, not asked for per key), then per key DescribeKey, GetKeyPolicy, ListGrants,
GetKeyRotationStatus (symmetric AWS_KMS keys only: the others do not support rotation) and
ListResourceTags. A key that could not be read completely is kept, with the reason, never
dropped. IAM customer-managed policies are read once per account (``remediator.aws.iam``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import structlog

from remediator.aws.calls import ShardCaller
from remediator.aws.iam import read_iam_policies
from remediator.aws.progress import ProgressCallback, ProgressTracker
from remediator.aws.ratelimit import RateLimiter
from remediator.aws.retry import AWS_ERRORS, DEFAULT_RETRY, RetryPolicy, error_code, error_message
from remediator.config import Config
from remediator.errors import TargetAccessError
from remediator.snapshot import IamPolicySnapshot, KeySnapshot, Snapshot, utc_now

log = structlog.get_logger(__name__)

ClientSource = Callable[[str, str, str], Any]
"""``(account, region, service) -> boto3 client``; ``ClientFactory`` is one."""

# A key on its way out is not worth remediating (DESIGN: skip keys pending deletion).
SKIPPED_STATES = frozenset({"PendingDeletion", "PendingReplicaDeletion"})
# "alias/aws/" is reserved for AWS managed keys; a key it points at is not customer-managed.
AWS_MANAGED_ALIAS_PREFIX = "alias/aws/"
# A shard that meets one of these is recorded as failed; the other shards go on.
_SHARD_ERRORS: tuple[type[Exception], ...] = (*AWS_ERRORS, TargetAccessError)
# Page sizes: the maximum each API accepts, so a listing takes as few requests as it can.
LIST_KEYS_LIMIT = 1000
LIST_ALIASES_LIMIT = 100
LIST_GRANTS_LIMIT = 100
LIST_TAGS_LIMIT = 50


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """What to scan and how hard; ``max_shards`` x ``workers_per_shard`` threads at most."""

    regions: tuple[str, ...]
    max_shards: int = 4
    workers_per_shard: int = 16
    include_iam: bool = True
    retry: RetryPolicy = DEFAULT_RETRY


@dataclass(slots=True)
class _ShardResult:
    keys: list[KeySnapshot] = field(default_factory=list)
    policies: list[IamPolicySnapshot] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Shard:
    caller: ShardCaller
    kms: Any
    aliases: dict[str, list[str]]
    tracker: ProgressTracker


def options_from_config(config: Config) -> ScanOptions:
    """Regions and concurrency from ``config.yaml``."""
    return ScanOptions(
        regions=config.regions,
        max_shards=config.limits.max_shards,
        workers_per_shard=config.limits.workers_per_shard,
    )


def limiter_from_config(config: Config) -> RateLimiter:
    """The rate limiter at ``limits.share`` of the default (or ``limits.quotas``) KMS quotas."""
    return RateLimiter(share=config.limits.share, quotas=config.limits.quotas)


def scan(
    accounts: Sequence[str],
    clients: ClientSource,
    limiter: RateLimiter,
    options: ScanOptions,
    progress: ProgressCallback | None = None,
) -> Snapshot:
    """Read every target key and IAM policy; errors are recorded in the snapshot, not raised."""
    started = time.monotonic()
    shards = [(a, r) for a in accounts for r in options.regions]
    iam_accounts = list(accounts) if options.include_iam else []
    tracker = ProgressTracker(progress, shards_total=len(shards) + len(iam_accounts))
    log.info("inventory.scan.start", accounts=len(accounts), regions=list(options.regions))
    with ThreadPoolExecutor(options.max_shards, thread_name_prefix="shard") as pool:
        futures: list[Future[_ShardResult]] = [
            pool.submit(_scan_shard, a, r, clients, limiter, options, tracker) for a, r in shards
        ]
        futures += [
            pool.submit(_scan_iam, a, clients, limiter, options, tracker) for a in iam_accounts
        ]
        results = [f.result() for f in futures]
    snapshot = Snapshot(
        taken_at=utc_now(),
        keys=tuple(sorted((k for r in results for k in r.keys), key=lambda k: k.arn)),
        iam_policies=tuple(sorted((p for r in results for p in r.policies), key=lambda p: p.arn)),
        errors=tuple(sorted((e for r in results for e in r.errors), key=_error_order)),
    )
    log.info(
        "inventory.scan.done",
        keys=len(snapshot.keys),
        iam_policies=len(snapshot.iam_policies),
        errors=len(snapshot.errors),
        seconds=round(time.monotonic() - started, 3),
    )
    return snapshot


def _scan_shard(
    account: str,
    region: str,
    clients: ClientSource,
    limiter: RateLimiter,
    options: ScanOptions,
    tracker: ProgressTracker,
) -> _ShardResult:
    caller = ShardCaller(account, region, limiter, options.retry)
    result = _ShardResult()
    listing = _list_shard(caller, clients, result)
    if listing is None:
        tracker.shard_done()
        return result
    kms, listed, aliases = listing
    tracker.keys_found(len(listed))
    log.info("inventory.shard.listed", account=account, region=region, keys=len(listed))
    shard = _Shard(caller, kms, aliases, tracker)
    with ThreadPoolExecutor(options.workers_per_shard, thread_name_prefix="key") as keys:
        outcomes = list(keys.map(lambda item: _read_key(shard, item), listed))
    for key, errors in outcomes:
        result.errors.extend(errors)
        if key is not None:
            result.keys.append(key)
    _log_shard_done(account, region, len(listed), result)
    tracker.shard_done()
    return result


def _list_shard(
    caller: ShardCaller, clients: ClientSource, result: _ShardResult
) -> tuple[Any, list[dict[str, Any]], dict[str, list[str]]] | None:
    """The shard's KMS client, its keys and its aliases by key id; None when the shard cannot
    be read at all (the error is recorded). Without aliases the keys are still read."""
    account, region = caller.account, caller.region
    stage = "AssumeRole"
    try:
        kms = clients(account, region, "kms")
        stage = "ListKeys"
        listed = caller.items(kms, "ListKeys", "Keys", Limit=LIST_KEYS_LIMIT)
    except _SHARD_ERRORS as exc:
        result.errors.append(inventory_error(account, region, None, stage, exc))
        log.error(
            "inventory.shard.failed",
            account=account,
            region=region,
            operation=stage,
            reason=error_message(exc),
        )
        return None
    try:
        aliases = caller.items(kms, "ListAliases", "Aliases", Limit=LIST_ALIASES_LIMIT)
    except AWS_ERRORS as exc:
        result.errors.append(inventory_error(account, region, None, "ListAliases", exc))
        log.warning(
            "inventory.aliases.failed", account=account, region=region, reason=error_message(exc)
        )
        aliases = []
    return kms, listed, _aliases_by_key(aliases)


def _scan_iam(
    account: str,
    clients: ClientSource,
    limiter: RateLimiter,
    options: ScanOptions,
    tracker: ProgressTracker,
) -> _ShardResult:
    caller = ShardCaller(account, "global", limiter, options.retry)
    result = _ShardResult()
    stage = "AssumeRole"
    try:
        iam = clients(account, options.regions[0], "iam")
        stage = "ListPolicies"
        result.policies, result.errors = read_iam_policies(caller, iam, options.workers_per_shard)
    except _SHARD_ERRORS as exc:
        result.errors.append(inventory_error(account, "global", None, stage, exc))
        log.error("inventory.iam.failed", account=account, reason=error_message(exc))
    tracker.shard_done()
    return result


def _aliases_by_key(aliases: list[dict[str, Any]]) -> dict[str, list[str]]:
    by_key: dict[str, list[str]] = {}
    for alias in aliases:
        if alias.get("TargetKeyId"):
            by_key.setdefault(alias["TargetKeyId"], []).append(alias["AliasName"])
    return by_key


def _read_key(
    shard: _Shard, listed: dict[str, Any]
) -> tuple[KeySnapshot | None, list[dict[str, Any]]]:
    key_id, arn = listed["KeyId"], listed["KeyArn"]
    aliases = sorted(shard.aliases.get(key_id, []))
    errors: list[dict[str, Any]] = []
    try:
        if any(a.startswith(AWS_MANAGED_ALIAS_PREFIX) for a in aliases):
            return None, errors
        meta = _call(shard, "DescribeKey", arn, errors, KeyId=key_id)
        if meta is None:
            return _unreadable_key(shard, listed, aliases, errors), errors
        meta = meta["KeyMetadata"]
        if meta.get("KeyManager") != "CUSTOMER" or meta.get("KeyState") in SKIPPED_STATES:
            return None, errors
        return _read_key_details(shard, meta, aliases, errors), errors
    finally:
        shard.tracker.key_done()


def _read_key_details(
    shard: _Shard, meta: dict[str, Any], aliases: list[str], errors: list[dict[str, Any]]
) -> KeySnapshot:
    key_id, arn = meta["KeyId"], meta["Arn"]
    policy, policy_error = _read_policy(shard, key_id, arn, errors)
    grants_before = len(errors)
    grants = _items(
        shard, "ListGrants", "Grants", arn, errors, KeyId=key_id, Limit=LIST_GRANTS_LIMIT
    )
    grants_error = errors[-1]["message"] if len(errors) > grants_before else None
    rotation = None
    if meta.get("KeySpec") == "SYMMETRIC_DEFAULT" and meta.get("Origin") == "AWS_KMS":
        status = _call(shard, "GetKeyRotationStatus", arn, errors, KeyId=key_id)
        rotation = None if status is None else bool(status.get("KeyRotationEnabled"))
    tags = _items(
        shard, "ListResourceTags", "Tags", arn, errors, KeyId=key_id, Limit=LIST_TAGS_LIMIT
    )
    return KeySnapshot(
        arn=arn,
        account=shard.caller.account,
        region=shard.caller.region,
        key_id=key_id,
        manager=meta.get("KeyManager"),
        state=str(meta.get("KeyState")),
        multi_region=meta.get("MultiRegion"),
        policy=policy,
        policy_error=policy_error,
        grants=tuple(jsonable(g) for g in grants or []),
        aliases=tuple(aliases),
        rotation_enabled=rotation,
        tags={t["TagKey"]: t["TagValue"] for t in tags or []},
        key_spec=meta.get("KeySpec"),
        key_usage=meta.get("KeyUsage"),
        origin=meta.get("Origin"),
        description=meta.get("Description"),
        multi_region_type=_multi_region_type(meta),
        grants_error=grants_error,
    )


def _multi_region_type(meta: dict[str, Any]) -> str | None:
    """PRIMARY or REPLICA, from whether this key is the primary the configuration names (the
    same answer as MultiRegionKeyType, which moto's server mixes up once a replica is read)."""
    config = meta.get("MultiRegionConfiguration") or {}
    primary = (config.get("PrimaryKey") or {}).get("Arn")
    if not primary:
        return None
    return "PRIMARY" if primary == meta.get("Arn") else "REPLICA"


def _read_policy(
    shard: _Shard, key_id: str, arn: str, errors: list[dict[str, Any]]
) -> tuple[dict[str, Any] | None, str | None]:
    # PolicyName must be given: "default" is the only name KMS has (moto refuses it missing).
    response = _call(shard, "GetKeyPolicy", arn, errors, KeyId=key_id, PolicyName="default")
    if response is None:
        log.warning("inventory.key.policy_unreadable", key_arn=arn, code=errors[-1]["code"])
        return None, f"GetKeyPolicy failed: {errors[-1]['code']}: {errors[-1]['message']}"
    try:
        document = json.loads(response["Policy"])
    except (TypeError, ValueError) as exc:
        return None, f"the key policy is not valid JSON ({exc})"
    if not isinstance(document, dict):
        return None, "the key policy is not a JSON object"
    return document, None


def _unreadable_key(
    shard: _Shard, listed: dict[str, Any], aliases: list[str], errors: list[dict[str, Any]]
) -> KeySnapshot | None:
    """A key DescribeKey refused: kept, marked unknown. One deleted since ListKeys is dropped."""
    if errors[-1]["code"] == "NotFoundException":
        return None
    return KeySnapshot(
        arn=listed["KeyArn"],
        account=shard.caller.account,
        region=shard.caller.region,
        key_id=listed["KeyId"],
        manager=None,
        state="Unknown",
        multi_region=None,
        policy=None,
        policy_error=f"DescribeKey failed: {errors[-1]['code']}: {errors[-1]['message']}",
        aliases=tuple(aliases),
    )


def _call(
    shard: _Shard, api: str, arn: str, errors: list[dict[str, Any]], **params: Any
) -> dict[str, Any] | None:
    try:
        return shard.caller.call(shard.kms, api, **params)
    except AWS_ERRORS as exc:
        errors.append(inventory_error(shard.caller.account, shard.caller.region, arn, api, exc))
        return None


def _items(
    shard: _Shard, api: str, key: str, arn: str, errors: list[dict[str, Any]], **params: Any
) -> list[dict[str, Any]] | None:
    try:
        return shard.caller.items(shard.kms, api, key, **params)
    except AWS_ERRORS as exc:
        errors.append(inventory_error(shard.caller.account, shard.caller.region, arn, api, exc))
        return None


def inventory_error(
    account: str, region: str, arn: str | None, operation: str, exc: BaseException
) -> dict[str, Any]:
    """A snapshot ``errors`` entry: where, which call, and the AWS error code and message."""
    return {
        "account": account,
        "region": region,
        "key_arn": arn,
        "operation": operation,
        "code": error_code(exc),
        "message": error_message(exc),
    }


def jsonable(value: Any) -> Any:
    """AWS responses with datetimes (grant CreationDate) as ISO 8601 strings."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _error_order(error: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(error.get(k) or "") for k in ("account", "region", "key_arn", "operation"))


def _log_shard_done(account: str, region: str, listed: int, result: _ShardResult) -> None:
    log.info(
        "inventory.shard.done",
        account=account,
        region=region,
        listed=listed,
        kept=len(result.keys),
        skipped=listed - len(result.keys),
        errors=len(result.errors),
    )
