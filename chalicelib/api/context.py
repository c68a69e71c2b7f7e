"""Per-request state, set by the middleware (a ContextVar: chalice local serves
requests on threads, so module globals would leak between them)."""

from __future__ import annotations

import re
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
# What the authorizer puts in principalId when it denies: not a user.
ANONYMOUS = "anonymous"


@dataclass
class RequestState:
    """What the middleware knows about the request being served."""

    request_id: str
    method: str = ""
    route: str = ""
    user_id: str | None = None
    error_code: str | None = None
    # Why the database was unavailable (a DynamoDB error code or a connection error's
    # class name), for the one WARNING line a 503 gets instead of a stack trace.
    error_cause: str | None = None
    cold_start: bool = False
    started: float = field(default_factory=time.perf_counter)
    # The exception behind a 5xx, kept for the trace (never for the client).
    exception: BaseException | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def elapsed_ms(self) -> float:
        """Milliseconds since the request started, to 0.01 ms."""
        return round((time.perf_counter() - self.started) * 1000, 2)


_current: ContextVar[RequestState | None] = ContextVar("storefront_request", default=None)


def choose_request_id(gateway_id: str | None, client_id: str | None) -> str:
    """API Gateway's id; else a client's X-Request-Id if it is a safe token; else a fresh one.

    The gateway's id wins so that our log lines join API Gateway's own access logs; a
    client's id is honoured where there is no gateway (chalice local, tests). Anything
    else a client sends is ignored: it would go verbatim into logs and traces.
    """
    if gateway_id:
        return gateway_id
    if client_id and _SAFE_REQUEST_ID.match(client_id):
        return client_id
    return uuid.uuid4().hex


def principal_id(authorizer: dict[str, Any] | None) -> str | None:
    """The user id the authorizer vouched for, if any."""
    user_id = (authorizer or {}).get("principalId")
    return str(user_id) if user_id and user_id != ANONYMOUS else None


def begin(state: RequestState) -> None:
    """Make `state` the current request's state (the middleware calls it first)."""
    _current.set(state)


def current() -> RequestState:
    """The state of the request being served; RuntimeError outside a request (inventing one
    would hand out a request id that no log line or trace of a real request carries)."""
    state = _current.get()
    if state is None:
        raise RuntimeError("no request is being served")
    return state


def end() -> None:
    """Forget the current request's state (the middleware calls it last)."""
    _current.set(None)
