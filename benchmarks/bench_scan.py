"""Scan throughput on a local moto server: the tool's inventory against a bare boto3 loop.

Run: .venv/bin/python benchmarks/bench_scan.py [--sizes 100,1000,5000]

For each N it seeds N customer-managed keys (each with a grant) in one account and Region of a
moto server on 127.0.0.1, then times, in one run:
- the tool's scan (remediator.aws.inventory.scan: rate limits, retries, paging, snapshot);
- a bare boto3 loop making the same calls (ListKeys, ListAliases, and per key DescribeKey,
  GetKeyPolicy, ListGrants, GetKeyRotationStatus, ListResourceTags), sequential and on 16
  threads (the tool and the 16-thread loop: best of three passes each, alternating).
The tool runs at the default quota share except ListGrants, whose 100/s default quota would cap
a single account at 50 keys/s whatever the code does; the benchmark raises it so that the
figure measures the scanner, not the quota. Seeding is slow (moto makes an RSA key per key).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from remediator.aws.inventory import ScanOptions, scan
from remediator.aws.ratelimit import RateLimiter
from remediator.localaws import LocalAws, moto_server

REGION = "eu-west-1"
ACCOUNT = "123456789012"
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Sid": "Enable IAM User Permissions", "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*", "Resource": "*"}]})


def seed(aws: LocalAws, n: int) -> None:
    kms = aws.client("kms", REGION)

    def one(i: int) -> None:
        key = kms.create_key(Policy=POLICY, Description=f"bench {i}")["KeyMetadata"]["KeyId"]
        kms.create_grant(KeyId=key, GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:role/app",
                         Operations=["Decrypt"])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(n)))


def bare_key(kms: Any, key_id: str) -> None:
    kms.describe_key(KeyId=key_id)
    kms.get_key_policy(KeyId=key_id, PolicyName="default")
    kms.list_grants(KeyId=key_id, Limit=100)
    kms.get_key_rotation_status(KeyId=key_id)
    kms.list_resource_tags(KeyId=key_id, Limit=50)


def bare_loop(aws: LocalAws, threads: int) -> float:
    kms = aws.client("kms", REGION)
    start = time.perf_counter()  # after the client is built
    keys = [k["KeyId"] for k in kms.list_keys(Limit=1000)["Keys"]]
    kms.list_aliases(Limit=100)
    if threads == 1:
        for k in keys:
            bare_key(kms, k)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda k: bare_key(kms, k), keys))
    return time.perf_counter() - start


def tool_scan(aws: LocalAws, n: int) -> float:
    limiter = RateLimiter(share=0.5, quotas={"ListGrants": 10_000})
    options = ScanOptions(regions=(REGION,), max_shards=1, workers_per_shard=16, include_iam=False)

    made: dict[tuple[str, str], Any] = {}

    def clients(account: str, region: str, service: str) -> Any:
        # Cached per service and Region, as the CLI's ClientFactory does.
        return made.setdefault((service, region), aws.client(service, region))

    clients(ACCOUNT, REGION, "kms")  # built before the clock starts, like the bare loop's
    start = time.perf_counter()
    snapshot = scan([ACCOUNT], clients, limiter, options)
    took = time.perf_counter() - start
    assert len(snapshot.keys) == n and not snapshot.errors, snapshot.errors[:3]
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000")
    args = parser.parse_args()
    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    print(f"{'keys':>6} {'tool keys/s':>12} {'bare 1 thread':>14} {'bare 16 threads':>16} "
          f"{'tool / bare-16 time':>20}")
    for n in (int(s) for s in args.sizes.split(",")):
        with moto_server() as aws:
            seed(aws, n)
            bare1 = bare_loop(aws, 1)
            # moto's own speed wanders by +-20% from one pass to the next: best of three,
            # alternating, for the two figures compared.
            tool, bare16 = float("inf"), float("inf")
            for _ in range(3):
                tool = min(tool, tool_scan(aws, n))
                bare16 = min(bare16, bare_loop(aws, 16))
        print(f"{n:>6} {n / tool:>12.0f} {n / bare1:>14.0f} {n / bare16:>16.0f} "
              f"{tool / bare16:>19.2f}x")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
