"""botocore event hooks that make a local endpoint behave like a busy, paginating AWS.

moto answers every request at once, never throttles and ignores Limit/Marker (see
shared/LOCAL_AWS.md). Tests, benchmarks and the demo install these hooks on the clients under
test instead: ``FaultInjector`` answers chosen requests with an AWS error (throttling, a 5xx,
AccessDenied) without sending them; ``PageSplitter`` cuts a listing into pages of a given size;
``CallCounter`` counts the requests a client really sends. Nothing here is used in production.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.awsrequest import AWSResponse

from remediator.aws.calls import PAGING_TOKENS

RequestMatcher = Callable[[Any], bool]
"""A predicate over the botocore ``AWSPreparedRequest`` about to be sent."""


def body_contains(text: str) -> RequestMatcher:
    """Match requests whose body mentions ``text`` (a KMS key id, a policy ARN, an S3 key)."""
    needle = text.encode()

    def match(request: Any) -> bool:
        body = request.body or b""
        return needle in (body.encode() if isinstance(body, str) else bytes(body))

    return match


def url_contains(text: str) -> RequestMatcher:
    """Match requests whose URL mentions ``text`` (an S3 object key, for example)."""
    return lambda request: text in str(request.url)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def error_response(service: Any, url: str, status: int, code: str, message: str) -> AWSResponse:
    """An error answer in the wire format of ``service``'s protocol (json, query, rest-xml)."""
    protocol = service.protocol
    if protocol == "json":
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = {"Content-Type": "application/x-amz-json-1.1"}
    elif protocol == "query":
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>fault</RequestId></ErrorResponse>"
        ).encode()
        headers = {"Content-Type": "text/xml"}
    else:
        body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
        headers = {"Content-Type": "application/xml"}
    headers["x-amzn-RequestId"] = "fault-injected"
    return AWSResponse(url, status, headers, _Raw(body))


@dataclass
class Fault:
    """Answer ``operation`` with ``code`` (HTTP ``status``) for the first ``times`` matching
    requests, or for all of them when ``times`` is None."""

    operation: str
    code: str = "ThrottlingException"
    status: int = 400
    times: int | None = None
    match: RequestMatcher | None = None
    message: str = "injected by remediator.aws.faults"
    injected: int = 0


class FaultInjector:
    """Install on clients with ``install(client)``; thread-safe; counts what it injected."""

    def __init__(self, *faults: Fault) -> None:
        self.faults = list(faults)
        self._lock = threading.Lock()

    @property
    def injected(self) -> int:
        return sum(f.injected for f in self.faults)

    def install(self, client: Any) -> None:
        service = client.meta.service_model
        event = f"before-send.{service.service_id.hyphenize()}"
        client.meta.events.register(event, lambda **kw: self._answer(service, **kw))

    def _answer(self, service: Any, request: Any, event_name: str, **_: Any) -> Any:
        operation = event_name.rsplit(".", 1)[-1]
        with self._lock:
            for fault in self.faults:
                if fault.operation != operation or (fault.match and not fault.match(request)):
                    continue
                if fault.times is not None and fault.injected >= fault.times:
                    continue
                fault.injected += 1
                return error_response(service, request.url, fault.status, fault.code, fault.message)
        return None


class PageSplitter:
    """Cut the answers of ``operation`` into pages of ``page_size`` entries of ``result_key``.

    The marker it hands out is ``split:OFFSET``; the endpoint ignores it and answers in full,
    and this hook keeps only the page the marker asks for.
    """

    def __init__(self, operation: str, result_key: str, page_size: int) -> None:
        self.operation = operation
        self.result_key = result_key
        self.page_size = page_size
        self.pages_served = 0
        self._lock = threading.Lock()

    def install(self, client: Any) -> None:
        service = client.meta.service_model
        tokens = PAGING_TOKENS[service.service_name]
        name = f"{service.service_id.hyphenize()}.{self.operation}"
        client.meta.events.register(f"before-parameter-build.{name}", self._remember(tokens))
        client.meta.events.register(f"after-call.{name}", self._cut(tokens))

    def _remember(self, tokens: tuple[str, str, str | None]) -> Callable[..., None]:
        def handler(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
            # Keep our marker to ourselves: the endpoint is asked for everything every time.
            context["split_marker"] = params.pop(tokens[0], None)

        return handler

    def _cut(self, tokens: tuple[str, str, str | None]) -> Callable[..., None]:
        _, response_token, flag = tokens

        def handler(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
            if "Error" in parsed:
                return
            marker = context.get("split_marker")
            start = int(marker.split(":", 1)[1]) if marker else 0
            everything = parsed.get(self.result_key, [])
            end = start + self.page_size
            parsed[self.result_key] = everything[start:end]
            more = end < len(everything)
            parsed.pop(response_token, None)
            if more:
                parsed[response_token] = f"split:{end}"
            if flag is not None:
                parsed[flag] = more
            with self._lock:
                self.pages_served += 1

        return handler


class CallCounter:
    """Counts the requests a client sends, by operation name (thread-safe)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def install(self, client: Any) -> None:
        event = f"before-send.{client.meta.service_model.service_id.hyphenize()}"
        client.meta.events.register(event, self._count)

    def _count(self, event_name: str, **_: Any) -> None:
        with self._lock:
            self.calls[event_name.rsplit(".", 1)[-1]] += 1


class HookedClients:
    """A client source that installs hooks, by service, on each client it hands out once.

    ``HookedClients(factory, kms=[FaultInjector(...)], iam=[PageSplitter(...)])``.
    """

    def __init__(self, clients: Callable[[str, str, str], Any], **hooks: list[Any]) -> None:
        self._clients = clients
        self._hooks = hooks
        self._seen: set[int] = set()
        self._lock = threading.Lock()

    def __call__(self, account: str, region: str, service: str) -> Any:
        client = self._clients(account, region, service)
        with self._lock:
            if id(client) not in self._seen:
                self._seen.add(id(client))
                for hook in self._hooks.get(service, []):
                    hook.install(client)
        return client
