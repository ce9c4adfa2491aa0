"""A rollback refuses a run whose apply may still be going (``runrecord.refuse_a_live_run``).

Found by review: a rollback started while its apply was still running had the two processes
overwrite each other's run record (the rollback's entries were lost, and a second rollback
re-created a grant again). apply writes the record after every step, so a "running" record
written in the last LIVE_RUN_SECONDS may be a live apply; an older one is a killed run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from remediator.errors import RefusedError
from remediator.runrecord import LIVE_RUN_SECONDS, refuse_a_live_run


def _written(seconds_ago: float) -> str:
    when = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    return when.isoformat(timespec="seconds").replace("+00:00", "Z")


def test_a_running_record_written_just_now_is_refused() -> None:
    with pytest.raises(RefusedError, match="--apply-ended"):
        refuse_a_live_run({"state": "running", "updated_at": _written(5)}, "r1")


@pytest.mark.parametrize("record", [
    {"state": "running", "updated_at": _written(LIVE_RUN_SECONDS + 60)},  # a killed run
    {"state": "finished", "updated_at": _written(5)},
    {"state": "running", "updated_at": None},  # no time to judge by
])
def test_a_run_that_cannot_be_live_is_not_refused(record: dict[str, object]) -> None:
    refuse_a_live_run(record, "r1")
