"""Scan progress, reported to a callback (the CLI draws a rich progress bar from it)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ScanProgress:
    """Counts so far. ``keys_total`` grows as shards finish listing their keys."""

    shards_total: int
    shards_done: int = 0
    keys_total: int = 0
    keys_done: int = 0


ProgressCallback = Callable[[ScanProgress], None]


class ProgressTracker:
    """Thread-safe counters; the callback is called under a lock, so never concurrently."""

    def __init__(self, callback: ProgressCallback | None, shards_total: int) -> None:
        self._callback = callback
        self._state = ScanProgress(shards_total=shards_total)
        self._lock = threading.Lock()

    @property
    def state(self) -> ScanProgress:
        return self._state

    def keys_found(self, count: int) -> None:
        self._update(keys=count)

    def key_done(self) -> None:
        self._update(done=1)

    def shard_done(self) -> None:
        self._update(shards=1)

    def _update(self, shards: int = 0, keys: int = 0, done: int = 0) -> None:
        with self._lock:
            s = self._state
            self._state = ScanProgress(
                shards_total=s.shards_total,
                shards_done=s.shards_done + shards,
                keys_total=s.keys_total + keys,
                keys_done=s.keys_done + done,
            )
            if self._callback is not None:
                self._callback(self._state)
