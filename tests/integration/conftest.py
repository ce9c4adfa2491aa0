"""One real moto server process on 127.0.0.1 for the whole test session, over HTTP.

Each module that seeds data starts from a reset server (``fresh_aws``), so modules do not see
each other's keys, buckets or organisations.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog

from remediator.localaws import LocalAws, moto_server


@pytest.fixture(autouse=True)
def default_logging() -> None:
    """Undo a structlog configuration another test bound to its captured (now closed) stderr,
    as ``remediator.cli.main`` does."""
    structlog.reset_defaults()


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    with moto_server() as aws:
        yield aws
        structlog.reset_defaults()  # the stop event must not go to a closed capture stream


@pytest.fixture(scope="module")
def fresh_aws(local_aws: LocalAws) -> LocalAws:
    local_aws.reset()
    return local_aws
