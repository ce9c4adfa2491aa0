"""Everything the policy engine remembers, and how to let go of it.

The engine shares parsed statements, verdicts and their parts by content (``policy.document``,
``detectors``, and ``lru_cache`` memos in the policy modules), each bounded. ``forget_all`` empties
them at once: benchmarks use it so that every round starts as a fresh process does, and a
long-running caller can use it to give the memory back between estates.
"""

from __future__ import annotations

import sys

from remediator import detectors
from remediator.policy.document import clear_memo


def forget_all() -> None:
    """Empty every memo of the engine: the next reading parses and judges everything anew."""
    clear_memo()
    detectors.clear_memos()
    for name, module in list(sys.modules.items()):
        if name == "remediator" or name.startswith("remediator."):
            for value in list(vars(module).values()):
                clear = getattr(value, "cache_clear", None)
                if callable(clear):
                    clear()
