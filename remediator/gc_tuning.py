"""Garbage-collector settings for analysing large estates.

The engine allocates many small immutable objects and frees few of them; CPython's default
thresholds then run full collections over every live object (the whole snapshot) again and
again. Freezing what is already loaded and collecting the youngest generation less often
halves the time of a large analysis without changing what is computed.

While a snapshot is assessed the collector can rest altogether: the engine builds no reference
cycles (tests/test_gc_tuning.py holds it to that), so reference counting alone frees all it
discards, and the cycle collector would only re-traverse the memos it keeps. Measured with
benchmarks/bench_policy_engine.py's corpora, alternating paused and unpaused rounds after
``tune_for_batch``: 1.4x on policies whose statements are all new, 1.16x on the estate mix.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


def tune_for_batch() -> None:
    """Call once inputs are loaded: move them out of the collector's sight, collect less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run a block of pure analysis with the cycle collector off, restoring its state after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
