"""Per-request state, set by the middleware (a ContextVar: chalice local serves
requests on threads, so module globals would leak between them)."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


@dataclass
class RequestState:
    request_id: str
    method: str = ""
    route: str = ""
    user_id: str | None = None
    error_code: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


_current: ContextVar[RequestState | None] = ContextVar("storefront_request", default=None)


def choose_request_id(gateway_id: str | None, client_id: str | None) -> str:
    """API Gateway's id; else a client's X-Request-Id if it is a safe token; else a fresh one."""
    if gateway_id:
        return gateway_id
    if client_id and _SAFE_REQUEST_ID.match(client_id):
        return client_id
    return uuid.uuid4().hex


def begin(state: RequestState) -> None:
    _current.set(state)


def current() -> RequestState:
    """The state of the request being served (a placeholder outside any request)."""
    state = _current.get()
    if state is None:
        state = RequestState(request_id=uuid.uuid4().hex)
        _current.set(state)
    return state


def end() -> None:
    _current.set(None)
