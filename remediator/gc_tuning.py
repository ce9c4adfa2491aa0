"""Garbage-collector settings for analysing large estates.

The engine allocates many small immutable objects and frees few of them; CPython's default
thresholds then run full collections over every live object (the whole snapshot) again and
again. Freezing what is already loaded and collecting the youngest generation less often
halves the time of a large analysis without changing what is computed.
"""

from __future__ import annotations

import gc


def tune_for_batch() -> None:
    """Call once inputs are loaded: move them out of the collector's sight, collect less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
