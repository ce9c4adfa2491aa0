"""One real moto server process on 127.0.0.1 for the whole test session, over HTTP.

Each module that seeds data starts from a reset server (``fresh_aws``), so modules do not see
each other's keys, buckets or organisations.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog
from kms_estate import BUCKET, factory, make_bucket

from remediator.aws.session import ClientFactory
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


@pytest.fixture(scope="module")
def aws(fresh_aws: LocalAws) -> LocalAws:
    """A reset server holding the backup bucket: where the apply and rollback modules start
    (a module that needs other buckets overrides this fixture)."""
    make_bucket(fresh_aws, BUCKET)
    return fresh_aws


@pytest.fixture(scope="module")
def clients(aws: LocalAws) -> ClientFactory:
    return factory(aws)
