"""Policies analysed per second: all key-policy rules, in process, one core.

Run: .venv/bin/python benchmarks/bench_policy_engine.py [N] [--default-gc] [--stages]

Five corpora of N generated policies each:
- estate mix: console defaults with per-key roles, AWS default and service policies, and a
  quarter exposed in assorted ways (statements repeat across keys as they do in real estates);
- estate mix, every Sid new: the same statements under numbered Sids, as the policy generator
  writes them (statements are shared by what they grant, whatever their Sid);
- estate mix, every statement new: each statement also lists a non-KMS action of its own, so
  that no statement, nor its action list, can be shared (the cold path);
- exposure mix: every policy built from random exposed building blocks;
- drawn anew: every account, role, user, Sid and condition value random, as a naive generator
  writes them (the worst case: no statement, principal or condition can be shared).

Each round starts from an engine that remembers nothing (``memos.forget_all``), as a fresh
process does, so every statement an estate holds, and every part of one, is parsed, compiled and
judged once inside the timed loop; the figure is the best round. The corpora are built before
tune_for_batch(), as the CLI loads its snapshot before tuning, and each round runs with the
cycle collector paused, as ``assess`` runs (``--default-gc`` measures neither). ``--stages``
also times the cold path's first stages alone (parsing; parsing and working out who each Allow
lets in), the floor under any set of rules built on them.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import ORG, OWNER, TRUSTED, corpus, random_corpus, realistic_corpus

from remediator.detectors import analyze_key_policy
from remediator.gc_tuning import collector_paused, tune_for_batch
from remediator.memos import forget_all
from remediator.policy.access import compile_statement
from remediator.policy.document import parse_policy
from remediator.types import Context

CTX = Context(OWNER, frozenset({TRUSTED}), ORG, ("arn:aws:iam::111122223333:role/KeyAdmin",))


def _rate(fn: Callable[[Any], object], docs: list[dict[str, Any]], pause_gc: bool,
          rounds: int = 5) -> float:
    best = float("inf")
    for _ in range(rounds):
        forget_all()
        with collector_paused() if pause_gc else nullcontext():
            start = time.perf_counter()
            for d in docs:
                fn(d)
            best = min(best, time.perf_counter() - start)
    return len(docs) / best


def _parse_and_compile(document: dict[str, Any]) -> None:
    for stmt in parse_policy(document).statements:
        compile_statement(stmt)


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 20_000
    print(f"{n} policies per corpus, best of 5 rounds, one core, findings built for every rule")
    corpora = (
        ("estate mix", realistic_corpus(n)),
        ("estate mix, every Sid new", realistic_corpus(n, unique_sids=True)),
        ("estate mix, every statement new", realistic_corpus(n, unique_statements=True)),
        ("exposure mix", corpus(n)),
        ("drawn anew (nothing reused)", random_corpus(n)),
    )
    tuned = "--default-gc" not in sys.argv
    if tuned:
        tune_for_batch()  # as the CLI does once a snapshot is loaded
    for name, docs in corpora:
        findings = sum(len(analyze_key_policy(d, CTX)) for d in docs)
        rate = _rate(lambda d: analyze_key_policy(d, CTX), docs, tuned)
        print(f"{name:32} {rate:>9,.0f} policies/s  ({findings / n:.1f} findings/policy)")
    if "--stages" in sys.argv:
        cold = corpora[2][1]
        print("the cold path's stages alone (every statement new):")
        for name, fn in (("parse", parse_policy), ("parse + who each Allow lets in",
                                                    _parse_and_compile)):
            print(f"  {name:30} {_rate(fn, cold, tuned):>9,.0f} policies/s")


if __name__ == "__main__":
    main()
