"""Every AWS read of the inventory goes through one ``ShardCaller``: rate limit, retry, paging.

Paging is the same Marker loop a boto3 paginator runs (the input/output tokens below are those
of botocore's ``paginators-1.json`` for each service), written out so that each page request
takes its own rate-limit token and is retried on its own: a throttled page 7 of 10 is asked
again, not the whole listing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore import xform_name

from remediator.aws.ratelimit import RateLimiter
from remediator.aws.retry import DEFAULT_RETRY, RetryPolicy, call_with_retry

# service -> (request token, response token, "more results" flag or None)
PAGING_TOKENS: dict[str, tuple[str, str, str | None]] = {
    "kms": ("Marker", "NextMarker", "Truncated"),
    "iam": ("Marker", "Marker", "IsTruncated"),
    "organizations": ("NextToken", "NextToken", None),
    "s3": ("ContinuationToken", "NextContinuationToken", "IsTruncated"),
}


@dataclass(frozen=True, slots=True)
class ShardCaller:
    """Calls AWS for one (account, region) shard; thread-safe, as boto3 clients are."""

    account: str
    region: str
    limiter: RateLimiter = field(default_factory=RateLimiter)
    retry: RetryPolicy = DEFAULT_RETRY

    def call(self, client: Any, api: str, **params: Any) -> dict[str, Any]:
        """One rate-limited, retried request: ``call(kms, "GetKeyPolicy", KeyId=...)``."""
        method = getattr(client, xform_name(api))

        def attempt() -> dict[str, Any]:
            self.limiter.acquire(self.account, self.region, api)
            response: dict[str, Any] = method(**params)
            return response

        return call_with_retry(attempt, api, self.retry)

    def pages(self, client: Any, api: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every page of a paginated listing, each page its own rate-limited, retried request."""
        service = client.meta.service_model.service_name
        request_token, response_token, more_flag = PAGING_TOKENS[service]
        token: str | None = None
        while True:
            page_params = {**params, request_token: token} if token else params
            page = self.call(client, api, **page_params)
            yield page
            next_token = page.get(response_token)
            more = bool(next_token) and (more_flag is None or bool(page.get(more_flag)))
            if not more or next_token == token:
                return
            token = next_token

    def items(self, client: Any, api: str, key: str, **params: Any) -> list[dict[str, Any]]:
        """All ``key`` entries across the pages of a listing."""
        return [item for page in self.pages(client, api, **params) for item in page.get(key, [])]
