"""The one HTTP middleware: request id, body guards, error envelope, response headers,
and the observability of every request (trace subsegment, access line, metrics).

Registered once in app.py, so every route, present and future, goes through it.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from typing import Any

from chalice.app import ChaliceUnhandledError, Request, Response

from chalicelib import deadline, observability
from chalicelib.api import context, lazy_routes
from chalicelib.api.caching import cache_control
from chalicelib.api.errors import redress_chalice_error, to_response
from chalicelib.api.headers import EXPOSED_HEADERS
from chalicelib.api.http import bind_request
from chalicelib.config import get_settings
from chalicelib.errors import PayloadTooLargeError, UnsupportedMediaTypeError


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
    state = context.RequestState(
        request_id=context.choose_request_id(ctx.get("requestId"), request.headers.get("x-request-id")),
        method=request.method,
        route=ctx.get("resourcePath", ""),
        user_id=context.principal_id(ctx.get("authorizer")),
        cold_start=observability.take_cold_start(),
    )
    context.begin(state)
    remaining = getattr(request.lambda_context, "get_remaining_time_in_millis", None)
    budget = get_settings().request_budget_seconds
    deadline.start(deadline.budget_seconds(budget, remaining() if remaining else None))
    observability.take_business_events()  # a warm container must not inherit the last request's
    observability.bind_log_keys(request_id=state.request_id)
    return state


def _respond(request: Request, get_response: Callable[[Request], Response]) -> Response:
    """The route's response, or the envelope for whatever it raised (the cause is kept)."""
    state = context.current()
    try:
        guard_body(request, get_settings().max_body_bytes)
        return redress_chalice_error(get_response(request))
    except ChaliceUnhandledError as exc:
        state.exception = exc.__cause__ or exc
    except Exception as exc:  # the last line of defence: never a stack trace out
        state.exception = exc
    return to_response(state.exception)


def _decorate(response: Response, state: context.RequestState) -> Response:
    response.headers["X-Request-Id"] = state.request_id
    response.headers["X-Content-Type-Options"] = "nosniff"
    route = lazy_routes.find(state.method, state.route)  # the route table's copy of its declaration
    response.headers["Cache-Control"] = cache_control(state.method, route, response.status_code)
    origin = get_settings().cors_allow_origin if route is None or route.cross_origin else None
    if origin:
        response.headers.setdefault("Access-Control-Allow-Origin", origin)
        response.headers.setdefault("Access-Control-Expose-Headers", EXPOSED_HEADERS)
    return response


def stage_prefix(request: Request) -> str:
    """What precedes the route in the URL the client called: `/api` behind API Gateway's
    stage (or a custom domain's base path); "" under `chalice local`. API Gateway puts the
    full path in `requestContext.path` and the path below the stage in the event's `path`."""
    full = (request.context or {}).get("path") or ""
    below = request.to_original_event().get("path") or ""
    if not below or not full.endswith(below) or full == below:
        return ""
    return str(full[: -len(below)].rstrip("/"))


def _prefix_location(response: Response, request: Request) -> None:
    # Routes name their resources from the API's root ("/users/{id}"); a client resolves
    # Location against the host, so behind a stage it must carry the stage's prefix.
    location = response.headers.get("Location")
    if isinstance(location, str) and location.startswith("/"):
        response.headers["Location"] = stage_prefix(request) + location


def _annotate(span: observability.Span, state: context.RequestState, status: int) -> None:
    """Searchable trace annotations: the same request id as the log line and the body."""
    try:
        span.annotate("route", f"{state.method} {state.route}")
        span.annotate("status", status)
        span.annotate("user_id", state.user_id)
        span.annotate("request_id", state.request_id)
        span.annotate("cold_start", state.cold_start)
        span.finish(status, state.exception if status >= 500 else None)
    except Exception:  # a trace must never fail the request it describes
        logging.getLogger(__name__).warning("trace annotation failed", exc_info=True)


def _report(observer: observability.Observer, state: context.RequestState, status: int) -> None:
    """The access line and the request's metrics. Never fails the request."""
    try:
        events = observability.take_business_events()
        duration = state.elapsed_ms()
        level = _access_level(status)
        observer.report_request(
            level,
            access_fields(state, status, duration, events),
            f"{state.method} {state.route or '-'}",
            status,
            duration,
            observability.initialization_type() if state.cold_start else None,
            events,
        )
    except Exception:  # observability is best effort; the response is already made
        logging.getLogger(__name__).debug("observability failed", exc_info=True)


def _access_level(status: int) -> int:
    """ERROR for a bug (500), WARNING for an outage (503, with its cause), else INFO."""
    if status == 503:
        return logging.WARNING
    return logging.ERROR if status >= 500 else logging.INFO


def access_fields(
    state: context.RequestState, status: int, duration_ms: float, events: list[str]
) -> dict[str, Any]:
    """What the access line says (request_id comes from the bound log keys)."""
    return {
        "method": state.method,
        "route": state.route,
        "status": status,
        "duration_ms": duration_ms,
        "user_id": state.user_id,
        "cold_start": state.cold_start,
        "init_type": observability.initialization_type() if state.cold_start else None,
        "error_code": state.error_code,
        "error_cause": state.error_cause,
        "events": events or None,
    }


_first_request = [True]


def handle_http(request: Request, get_response: Callable[[Request], Response]) -> Response:
    """Wraps every request: errors become the envelope; X-Request-Id on every response;
    one trace subsegment, one access line and the metrics for every request."""
    if _first_request[0]:
        _first_request[0] = False
        return without_collection(_handle, request, get_response)
    return _handle(request, get_response)


def without_collection(serve: Callable[..., Response], *args: Any) -> Response:
    """The container's first request, with the cyclic garbage collector paused.

    It imports the route's module and botocore, and builds what the container keeps
    for its life (the table's client, the models, the logger): objects that each collection
    scans without finding any to free, some 100 times for a first `GET /products/{id}`
    (measured ~20 ms of its cold start). They are frozen when the request ends
    (freeze_container_objects), then collection resumes.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return serve(*args)
    finally:
        if enabled:
            gc.enable()


def _handle(request: Request, get_response: Callable[[Request], Response]) -> Response:
    observer = observability.get_observer()
    observer.logger()  # configured before the route runs: its error lines are JSON too
    state = _start(request)
    bind_request(request)
    try:
        with observer.span("## request") as span:
            response = _decorate(_respond(request, get_response), state)
            _prefix_location(response, request)
            _annotate(span, state, response.status_code)
        _report(observer, state, response.status_code)
        return response
    finally:
        observability.clear_log_keys()
        bind_request(None)
        deadline.clear()
        context.end()
        if state.cold_start:
            freeze_container_objects()


def freeze_container_objects() -> None:
    """Take what the first request built for the container's life (clients, models, route
    tables) out of the garbage collector's sight. Every later request allocates enough to
    trigger collections; without this each one re-scans those objects (measured 0.1-0.8 ms
    a request with X-Ray on, whose subsegments are cyclic). Moving them is O(1)."""
    gc.freeze()
