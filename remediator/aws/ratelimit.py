"""Client-side rate limits: one token bucket per (account, region, API).

KMS throttles each account in each Region per API operation, so the limiter keeps us at a share
(``limits.share`` in the config, 0.5 by default) of each default quota, leaving the rest to the
workloads that use the keys. Defaults from "Request quotas" in the AWS KMS Developer Guide,
https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html (all adjustable;
``limits.quotas`` in the config overrides a value for accounts with a raised quota).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

# Requests per second, per account and Region, from the page cited above.
KMS_DEFAULT_QUOTAS: Mapping[str, float] = {
    "CreateGrant": 50,
    "DescribeKey": 2000,
    "GetKeyPolicy": 1000,
    "GetKeyRotationStatus": 1000,
    "ListAliases": 500,
    "ListGrants": 100,
    "ListKeyPolicies": 100,
    "ListKeys": 500,
    "ListResourceTags": 2000,
    "ListRetirableGrants": 100,
    "PutKeyPolicy": 15,
    "RetireGrant": 50,
    "RevokeGrant": 50,
    "ScheduleKeyDeletion": 15,
    "TagResource": 10,
}


class TokenBucket:
    """A thread-safe token bucket: ``rate`` tokens a second, holding at most ``capacity``.

    It starts full, so a burst of ``capacity`` calls goes at once and the rest are paced.
    """

    def __init__(
        self,
        rate: float,
        capacity: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self.rate = rate
        self.capacity = max(1.0, rate if capacity is None else capacity)
        self._tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._stamp = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, waiting as long as needed; returns the seconds waited."""
        waited = 0.0
        while True:
            delay = self._try_take()
            if delay <= 0:
                return waited
            self._sleep(delay)
            waited += delay

    def _try_take(self) -> float:
        """Take a token now and return 0, or return how long until one is due."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) / self.rate


class RateLimiter:
    """Token buckets per (account, region, API), created on first use.

    APIs without a known quota (IAM, S3, STS) are not paced here; their throttling responses
    are retried by ``remediator.aws.retry``.
    """

    def __init__(
        self,
        share: float = 0.5,
        quotas: Mapping[str, float] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 0 < share <= 1:
            raise ValueError(f"share must be in (0, 1], got {share}")
        self.rates = {api: q * share for api, q in {**KMS_DEFAULT_QUOTAS, **(quotas or {})}.items()}
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    @classmethod
    def unlimited(cls) -> RateLimiter:
        """A limiter that never waits (tests of other parts; benchmarks of the bare path)."""
        limiter = cls()
        limiter.rates = {}
        return limiter

    def acquire(self, account: str, region: str, api: str) -> float:
        """Wait for permission to call ``api`` once; returns the seconds waited."""
        bucket = self._bucket(account, region, api)
        return bucket.acquire() if bucket is not None else 0.0

    def _bucket(self, account: str, region: str, api: str) -> TokenBucket | None:
        rate = self.rates.get(api)
        if rate is None:
            return None
        key = (account, region, api)
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = TokenBucket(rate, clock=self._clock, sleep=self._sleep)
                self._buckets[key] = bucket
            return bucket
