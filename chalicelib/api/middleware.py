"""The one HTTP middleware: request id, body guards, error envelope, response headers.

Registered once in app.py, so every route, present and future, goes through it.
"""

from __future__ import annotations

from collections.abc import Callable

from chalice.app import ChaliceUnhandledError, Request, Response

from chalicelib.api import context
from chalicelib.api.errors import redress_chalice_error, to_response
from chalicelib.config import get_settings
from chalicelib.errors import PayloadTooLargeError, UnsupportedMediaTypeError

EXPOSED_HEADERS = "X-Request-Id, ETag, Location, Retry-After"


def _is_json(content_type: str | None) -> bool:
    if content_type is None:
        return True  # like API Gateway and chalice: no Content-Type means JSON
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def guard_body(request: Request, max_bytes: int) -> None:
    """413 for bodies over the limit, 415 for bodies that are not JSON."""
    declared = request.headers.get("content-length", "")
    raw = request.raw_body or b""
    if len(raw) > max_bytes or (declared.isdigit() and int(declared) > max_bytes):
        raise PayloadTooLargeError(f"Request body is larger than {max_bytes // 1024} KiB")
    if raw and not _is_json(request.headers.get("content-type")):
        raise UnsupportedMediaTypeError()


def _start(request: Request) -> context.RequestState:
    ctx = request.context or {}
    authorizer = ctx.get("authorizer") or {}
    state = context.RequestState(
        request_id=context.choose_request_id(ctx.get("requestId"), request.headers.get("x-request-id")),
        method=request.method,
        route=ctx.get("resourcePath", ""),
        user_id=authorizer.get("principalId"),
    )
    context.begin(state)
    return state


def handle_http(request: Request, get_response: Callable[[Request], Response]) -> Response:
    """Wraps every request: errors become the envelope; X-Request-Id on every response."""
    state = _start(request)
    try:
        try:
            guard_body(request, get_settings().max_body_bytes)
            response = redress_chalice_error(get_response(request))
        except ChaliceUnhandledError as exc:
            response = to_response(exc.__cause__ or exc)
        except Exception as exc:  # the last line of defence: never a stack trace out
            response = to_response(exc)
        response.headers["X-Request-Id"] = state.request_id
        origin = get_settings().cors_allow_origin
        if origin:
            response.headers.setdefault("Access-Control-Allow-Origin", origin)
            response.headers.setdefault("Access-Control-Expose-Headers", EXPOSED_HEADERS)
        return response
    finally:
        context.end()
