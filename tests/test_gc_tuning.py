"""The engine builds no reference cycles, which is what lets ``assess`` pause the collector.

With the cycle collector off, only reference counting frees memory; an object that is part of a
cycle would then stay until the collector runs again. So everything the engine and the assessment
discard must be acyclic: analysed here with the collector off, a final ``gc.collect()`` must find
nothing unreachable.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from test_detector_sharing import CONTEXTS
from test_policy_cases import CASES

from remediator.assess import assess
from remediator.config import load_config
from remediator.detectors import analyze_key_policy
from remediator.errors import PolicyError
from remediator.gc_tuning import collector_paused
from remediator.memos import forget_all
from remediator.snapshot import load_snapshot

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from corpus import corpus, realistic_corpus

DATA = Path(__file__).parent / "data"
NOT_POLICIES = ({}, {"Statement": []}, {"Statement": [{"Effect": "Allow"}]},
                {"Statement": {"Effect": "Maybe", "Principal": "*", "Action": "kms:*"}})


def _unreachable_after(work: Callable[[], object]) -> int:
    """Objects in reference cycles that ``work`` left behind. The count is taken with the
    collector still off: re-enabled, it could collect them on its own before we look."""
    gc.collect()
    with collector_paused():
        work()
        forget_all()
        return gc.collect()


def test_analysing_policies_leaves_no_cyclic_garbage() -> None:
    docs = [c.doc for c in CASES] + realistic_corpus(400, unique_statements=True) + corpus(400)

    def analyse_all() -> None:
        forget_all()  # first sights too: parse, compile, judge, remember
        for i, doc in enumerate(docs):
            analyze_key_policy(doc, CONTEXTS[i % len(CONTEXTS)])
        for bad in NOT_POLICIES:
            with pytest.raises(PolicyError):
                analyze_key_policy(bad, CONTEXTS[0])

    assert _unreachable_after(analyse_all) == 0


def test_assessing_a_snapshot_leaves_no_cyclic_garbage() -> None:
    snapshot = load_snapshot(DATA / "example-snapshot.json")
    config = load_config(DATA / "example-config.yaml")
    assert _unreachable_after(lambda: assess(snapshot, config).findings) == 0


def test_a_cycle_is_what_the_check_catches() -> None:
    def make_cycle() -> None:
        a: list[object] = []
        a.append(a)

    assert _unreachable_after(make_cycle) >= 1


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_restored_as_it_was_even_after_an_error(enabled: bool) -> None:
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        with pytest.raises(RuntimeError), collector_paused():
            assert not gc.isenabled()
            raise RuntimeError
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
