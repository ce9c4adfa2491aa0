"""Retry throttling, 5xx and timeouts with jittered back-off; never a validation/access error."""

from __future__ import annotations

from typing import Any

import pytest
import structlog
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from remediator.aws.retry import RetryPolicy, call_with_retry, error_reason, is_retryable


@pytest.fixture(autouse=True)
def default_logging() -> None:
    """The retry log event must not go to a stream another test configured and closed."""
    structlog.reset_defaults()


def client_error(code: str, status: int = 400, message: str = "m") -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "GetKeyPolicy")


@pytest.mark.parametrize(
    "exc",
    [
        client_error("ThrottlingException"),
        client_error("Throttling"),
        client_error("RequestLimitExceeded"),
        client_error("TooManyRequestsException", 429),
        client_error("KMSInternalException", 500),
        client_error("ServiceUnavailable", 503),
        client_error("SlowDown", 503),
        ConnectTimeoutError(endpoint_url="http://127.0.0.1:1"),
        ReadTimeoutError(endpoint_url="http://127.0.0.1:1"),
    ],
)
def test_retryable(exc: Exception) -> None:
    assert is_retryable(exc)


@pytest.mark.parametrize(
    "exc",
    [
        client_error("AccessDeniedException"),
        client_error("AccessDenied", 403),
        client_error("ValidationException"),
        client_error("NotFoundException"),
        client_error("KMSInvalidStateException", 409),
        client_error("MalformedPolicyDocumentException"),
        EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
        NoCredentialsError(),
        ValueError("not AWS at all"),
    ],
)
def test_not_retryable(exc: Exception) -> None:
    assert not is_retryable(exc)


def _flaky(errors: list[Exception]) -> Any:
    calls: list[int] = []

    def fn() -> str:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return "ok"

    fn.calls = calls  # type: ignore[attr-defined]
    return fn


def test_retries_until_success_with_bounded_jittered_waits() -> None:
    waits: list[float] = []
    policy = RetryPolicy(attempts=5, base=0.1, max_wait=0.3, sleep=waits.append)
    fn = _flaky([client_error("ThrottlingException")] * 4)
    assert call_with_retry(fn, "GetKeyPolicy", policy) == "ok"
    assert len(fn.calls) == 5
    assert len(waits) == 4
    assert all(0 <= w <= 0.3 for w in waits)


def test_gives_up_after_the_attempts_with_the_original_error() -> None:
    policy = RetryPolicy(attempts=3, sleep=lambda _: None)
    fn = _flaky([client_error("ThrottlingException")] * 10)
    with pytest.raises(ClientError, match="ThrottlingException"):
        call_with_retry(fn, "GetKeyPolicy", policy)
    assert len(fn.calls) == 3


def test_never_retries_an_access_error() -> None:
    policy = RetryPolicy(attempts=5, sleep=lambda _: pytest.fail("slept"))
    fn = _flaky([client_error("AccessDeniedException")])
    with pytest.raises(ClientError, match="AccessDenied"):
        call_with_retry(fn, "GetKeyPolicy", policy)
    assert len(fn.calls) == 1


def test_error_reason_is_code_and_message() -> None:
    assert error_reason(client_error("AccessDenied", 403, "no")) == "AccessDenied: no"
    assert error_reason(ValueError("plain")) == "plain"
