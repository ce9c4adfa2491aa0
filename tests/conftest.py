"""Hypothesis runs the same examples on every run (CI must not turn red at random); set
HYPOTHESIS_PROFILE=explore to draw new ones, as a search for disagreements does."""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
