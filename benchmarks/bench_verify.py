"""Milliseconds to prove one patch (``verify_change``) and to plan one key (``plan_policy``).

Run: .venv/bin/python benchmarks/bench_verify.py [N]

Over the first N policies of the estate mix (``corpus.realistic_corpus``), with every playbook
included: each policy is planned once (steps, each step's proof and the whole-change proof),
then each accepted change is proved again alone. Each figure is the median of five rounds from
an engine that remembers nothing (``memos.forget_all``), per key.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_policy_engine import CTX
from corpus import realistic_corpus

from remediator.memos import forget_all
from remediator.planner import KeyPlan, plan_policy
from remediator.playbooks import load_playbooks
from remediator.verify import verify_change


def _median_ms(fn: Any, n: int) -> float:
    rounds = []
    for _ in range(5):
        forget_all()
        start = time.perf_counter()
        fn()
        rounds.append((time.perf_counter() - start) * 1000 / max(n, 1))
    return statistics.median(rounds)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    books = load_playbooks()
    every = frozenset(books.ids())
    docs = realistic_corpus(n)
    plans: list[KeyPlan] = [plan_policy(d, CTX, books, every) for d in docs]
    changed = [kp for kp in plans if kp.steps]

    def plan_all() -> None:
        for d in docs:
            plan_policy(d, CTX, books, every)

    def prove_all() -> None:
        for kp in changed:
            verify_change(kp.before, kp.after, CTX, kp.findings)

    print(f"{n} estate-mix policies, {len(changed)} with a change; median of 5 rounds")
    print(f"plan one key (steps and proofs): {_median_ms(plan_all, n):8.2f} ms")
    print(f"prove one whole change:          {_median_ms(prove_all, len(changed)):8.2f} ms")


if __name__ == "__main__":
    main()
