"""Retry what is safe to retry: throttling, 5xx answers and connection/read timeouts.

botocore's own retries are switched off for our clients (``remediator.aws.session``) so that this
module is the one place that decides. KMS asks callers to answer ThrottlingException with
back-off and retry (https://docs.aws.amazon.com/kms/latest/developerguide/throttling.html); the
back-off here is exponential with full jitter ("Exponential Backoff And Jitter", AWS Architecture
Blog). A validation or access error is never retried: it would fail the same way again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import structlog
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError
from botocore.parsers import ResponseParserError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

T = TypeVar("T")

log = structlog.get_logger(__name__)

THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",  # KMS, Organizations and most JSON services
        "Throttling",  # IAM and STS (query protocol)
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "SlowDown",  # S3, with a 503
    }
)

# What an AWS call can raise besides our own errors: an error answer, a client-side failure
# (connection, credentials), or an answer botocore cannot parse (ResponseParserError is not a
# BotoCoreError, e.g. an HTML page from a proxy). Callers catch exactly these, nothing broader.
AWS_ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError, ResponseParserError)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``attempts`` in all; waits drawn from [0, min(max_wait, base * 2**n)] seconds."""

    attempts: int = 8
    base: float = 0.1
    max_wait: float = 20.0
    sleep: Callable[[float], None] = time.sleep


DEFAULT_RETRY = RetryPolicy()


def error_code(exc: BaseException) -> str:
    """The AWS error code of a ClientError, or the exception class name."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "Unknown"))
    return type(exc).__name__


def error_message(exc: BaseException) -> str:
    """The AWS error message of a ClientError (or its code), else the exception text."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Message") or error_code(exc))
    return str(exc)


def error_reason(exc: BaseException) -> str:
    """``Code: message`` for a ClientError, the exception text otherwise (for one sentence)."""
    if isinstance(exc, ClientError):
        message = exc.response.get("Error", {}).get("Message", "")
        return f"{error_code(exc)}: {message}" if message else error_code(exc)
    return str(exc)


def is_retryable(exc: BaseException) -> bool:
    """True for throttling, a 5xx answer, or a connect/read timeout; False for anything else."""
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
        return True
    if not isinstance(exc, ClientError):
        return False
    if error_code(exc) in THROTTLING_CODES:
        return True
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return isinstance(status, int) and status >= 500


def call_with_retry(fn: Callable[[], T], operation: str, policy: RetryPolicy = DEFAULT_RETRY) -> T:
    """Call ``fn`` until it succeeds, a non-retryable error is raised, or attempts run out
    (then the last error is raised as it was)."""
    retrying = Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=wait_random_exponential(multiplier=policy.base, max=policy.max_wait),
        retry=retry_if_exception(is_retryable),
        sleep=policy.sleep,
        reraise=True,
        before_sleep=_log_retry(operation),
    )
    return retrying(fn)


def _log_retry(operation: str) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        log.info(
            "aws.retry",
            operation=operation,
            attempt=state.attempt_number,
            code=error_code(exc) if exc is not None else None,
            wait_s=round(wait, 3),
        )

    return before_sleep
