"""Token buckets per (account, region, API) at a share of the KMS default quotas."""

from __future__ import annotations

import threading
import time

import pytest

from remediator.aws.ratelimit import KMS_DEFAULT_QUOTAS, RateLimiter, TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_defaults_are_the_documented_quotas() -> None:
    # https://docs.aws.amazon.com/kms/latest/developerguide/requests-per-second.html
    assert KMS_DEFAULT_QUOTAS["ListGrants"] == 100
    assert KMS_DEFAULT_QUOTAS["GetKeyPolicy"] == 1000
    assert KMS_DEFAULT_QUOTAS["DescribeKey"] == 2000
    assert KMS_DEFAULT_QUOTAS["ListKeys"] == 500
    assert KMS_DEFAULT_QUOTAS["ListAliases"] == 500
    assert KMS_DEFAULT_QUOTAS["GetKeyRotationStatus"] == 1000
    assert KMS_DEFAULT_QUOTAS["PutKeyPolicy"] == 15
    assert KMS_DEFAULT_QUOTAS["RevokeGrant"] == 50
    assert KMS_DEFAULT_QUOTAS["CreateGrant"] == 50


def test_bucket_bursts_its_capacity_then_paces() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, clock=clock, sleep=clock.sleep)
    for _ in range(10):
        assert bucket.acquire() == 0
    waited = bucket.acquire()
    assert waited == pytest.approx(0.1)
    assert clock.now == pytest.approx(0.1)


def test_bucket_refills_with_time_but_not_past_capacity() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=2, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    bucket.acquire()
    clock.now += 100
    assert [bucket.acquire() for _ in range(2)] == [0, 0]
    assert bucket.acquire() == pytest.approx(0.5)


def test_slow_rates_keep_a_capacity_of_one() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=0.5, clock=clock, sleep=clock.sleep)
    assert bucket.acquire() == 0
    assert bucket.acquire() == pytest.approx(2.0)


def test_limiter_uses_the_share_and_overrides() -> None:
    limiter = RateLimiter(share=0.5, quotas={"ListGrants": 400})
    assert limiter.rates["ListGrants"] == 200
    assert limiter.rates["PutKeyPolicy"] == 7.5
    assert "ListPolicies" not in limiter.rates


def test_limiter_buckets_are_per_account_region_and_api() -> None:
    clock = FakeClock()
    limiter = RateLimiter(share=0.1, clock=clock, sleep=clock.sleep)  # PutKeyPolicy: 1.5/s
    assert limiter.acquire("111111111111", "eu-west-1", "PutKeyPolicy") == 0
    assert limiter.acquire("222222222222", "eu-west-1", "PutKeyPolicy") == 0
    assert limiter.acquire("111111111111", "us-east-1", "PutKeyPolicy") == 0
    assert limiter.acquire("111111111111", "eu-west-1", "RevokeGrant") == 0
    # 1.5 tokens a second, 1.5 at most in the bucket: the second call waits for half a token.
    assert limiter.acquire("111111111111", "eu-west-1", "PutKeyPolicy") == pytest.approx(1 / 3)


def test_unknown_apis_and_unlimited_never_wait() -> None:
    assert RateLimiter().acquire("1", "r", "GetPolicyVersion") == 0
    unlimited = RateLimiter.unlimited()
    assert all(unlimited.acquire("1", "r", "PutKeyPolicy") == 0 for _ in range(100))


def test_share_must_be_a_fraction() -> None:
    with pytest.raises(ValueError, match="share"):
        RateLimiter(share=1.5)
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(rate=0)


def test_threads_together_stay_under_the_rate() -> None:
    bucket = TokenBucket(rate=200, capacity=1)
    started = time.monotonic()
    threads = [
        threading.Thread(target=lambda: [bucket.acquire() for _ in range(10)]) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 80 tokens at 200/s with one in the bucket: at least 79/200 s.
    assert time.monotonic() - started >= 79 / 200 * 0.95
