"""Fault injection at the boto3 layer, through botocore's own event hooks.

Nothing of ours is mocked: the app's real DynamoDB client sends real requests to the
embedded engine, and a `Faults` object attached to that client decides, per logical API
call (`before-call`) and per attempt (`before-send`), whether the attempt meets a fault
instead of the engine:

- an error response (throttling, 500, a cancelled transaction with its reasons), parsed
  and retried by botocore exactly as a real one would be;
- a connection reset or a read timeout (the exceptions botocore raises for them);
- a lost response: the request reaches the engine and is applied, then the connection
  drops ("lost") or the read times out ("lost-timeout"), so botocore retries a request that
  already took effect.

Calls are counted from 0 in the order the app makes them; `calls` records them.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

ALWAYS = 10**6  # attempts: more than any retry policy makes

THROTTLING_CODES = (
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
)
# Every code DynamoDB documents for a cancelled transaction's CancellationReasons.
CANCELLATION_CODES = (
    "ConditionalCheckFailed",
    "ItemCollectionSizeLimitExceeded",
    "TransactionConflict",
    "ProvisionedThroughputExceeded",
    "ThrottlingError",
    "ValidationError",
)


class _Body:
    """The `raw` of an AWSResponse: what botocore reads the body from."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


def error_response(url: str, status: int, code: str, **extra: Any) -> AWSResponse:
    """A DynamoDB (JSON 1.0 protocol) error answer."""
    body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": code, **extra})
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "fault"}
    return AWSResponse(url, status, HTTPHeaders.from_dict(headers), _Body(body.encode()))


@dataclass
class Fault:
    """What a faulty attempt meets; `attempts` faulty attempts, then the engine answers."""

    kind: str  # "error" | "reset" | "timeout" | "lost" | "lost-timeout"
    status: int = 400
    code: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    attempts: int = ALWAYS
    delay: float = 0.0  # seconds the attempt takes before it fails (a slow engine)

    def strike(self, request: Any) -> AWSResponse | None:
        time.sleep(self.delay)
        if self.kind == "error":
            return error_response(request.url, self.status, self.code, **self.extra)
        if self.kind == "lost":
            forward(request)  # applied by the engine...
            raise ConnectionClosedError(endpoint_url=request.url)  # ...but the answer is lost
        if self.kind == "lost-timeout":
            forward(request)  # applied by the engine, but the client stopped waiting
            raise ReadTimeoutError(endpoint_url=request.url)
        if self.kind == "reset":
            raise ConnectionClosedError(endpoint_url=request.url)
        if self.kind == "timeout":
            raise ReadTimeoutError(endpoint_url=request.url)
        raise ValueError(self.kind)


def throttled(code: str = "ProvisionedThroughputExceededException", attempts: int = ALWAYS) -> Fault:
    return Fault("error", 400, code, attempts=attempts)


def server_error(attempts: int = ALWAYS) -> Fault:
    return Fault("error", 500, "InternalServerError", attempts=attempts)


def cancelled(reason: str, attempts: int = ALWAYS) -> Fault:
    """A TransactionCanceledException whose first action failed for `reason`."""
    reasons = [{"Code": reason, "Message": reason}]
    return Fault("error", 400, "TransactionCanceledException", {"CancellationReasons": reasons}, attempts)


def forward(request: Any) -> None:
    """Send a prepared (signed) request to the engine for real, ignoring its answer."""
    body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
    outgoing = urllib.request.Request(  # noqa: S310 - the loopback engine
        request.url, data=body, headers=dict(request.headers), method="POST"
    )
    try:
        with urllib.request.urlopen(outgoing, timeout=10) as answer:  # noqa: S310 - loopback engine
            answer.read()
    except urllib.error.HTTPError:
        pass  # a refused write (a failed condition) was not applied: also a real outcome


class Faults:
    """Plan faults per call index (or per operation name) on one botocore client."""

    def __init__(self, client: Any) -> None:
        self._events = client.meta.events
        self.calls: list[str] = []  # operation per logical call
        self.attempts: list[str] = []  # operation per attempt (retries included)
        self.by_index: dict[int, Fault] = {}
        self.by_operation: dict[str, Fault] = {}
        self._struck: dict[int, int] = {}

    def _before_call(self, event_name: str, **_: Any) -> None:
        self.calls.append(event_name.rsplit(".", 1)[-1])

    def _before_send(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        operation = event_name.rsplit(".", 1)[-1]
        self.attempts.append(operation)
        index = len(self.calls) - 1
        fault = self.by_index.get(index) or self.by_operation.get(operation)
        if fault is None or self._struck.get(index, 0) >= fault.attempts:
            return None
        self._struck[index] = self._struck.get(index, 0) + 1
        return fault.strike(request)

    def attempts_of(self, operation: str) -> int:
        return self.attempts.count(operation)

    @contextmanager
    def armed(self) -> Iterator[Faults]:
        """Hooks registered for the block only."""
        hooks: list[tuple[str, Callable[..., Any]]] = [
            ("before-call.dynamodb", self._before_call),
            ("before-send.dynamodb", self._before_send),
        ]
        for name, hook in hooks:
            self._events.register(name, hook)
        try:
            yield self
        finally:
            for name, hook in hooks:
                self._events.unregister(name, hook)
