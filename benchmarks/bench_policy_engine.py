"""Policies analysed per second: all key-policy rules, in process, one core.

Run: .venv/bin/python benchmarks/bench_policy_engine.py [N]
Prints the rate for the complete rule set and, for scale, for parsing alone.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import ORG, OWNER, TRUSTED, corpus

from remediator.detectors import analyze_key_policy
from remediator.policy import parse_policy
from remediator.types import Context


def _rate(fn: object, docs: list[dict[str, object]], rounds: int = 3) -> float:
    assert callable(fn)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for d in docs:
            fn(d)
        best = min(best, time.perf_counter() - start)
    return len(docs) / best


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    docs = corpus(n)
    ctx = Context(OWNER, frozenset({TRUSTED}), ORG)
    findings = sum(len(analyze_key_policy(d, ctx)) for d in docs)
    parse = _rate(parse_policy, docs)
    full = _rate(lambda d: analyze_key_policy(d, ctx), docs)
    print(f"corpus: {n} generated key policies, {findings} findings in all")
    print(f"parse only:          {parse:>10,.0f} policies/s")
    print(f"all key-policy rules: {full:>9,.0f} policies/s (target >= 20,000)")


if __name__ == "__main__":
    main()
