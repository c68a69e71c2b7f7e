"""A fix for `chalice local` (the development server), applied only when it is running;
it also starts the local expiry sweep (api/sweep.py), which Lambda runs on a schedule.

chalice local sends every response through one writer that adds `Content-Length` and a
default `Content-Type: application/json`, even to a 204 or a 304. RFC 9110 forbids
Content-Length on a 204 (8.6) and on a 304 unless it is the 200's length, and a 304
carries no representation metadata (15.4.5): a cache could take `Content-Length: 0`
as the new length of the stored product. In Lambda the handler returns the headers the
app set (none of these), so this concerns chalice local alone.
"""

from __future__ import annotations

import sys
from typing import Any

BODILESS = frozenset({204, 304})
_DROPPED = frozenset({"content-type", "content-length"})


def bodiless_headers(headers: dict[str, Any]) -> dict[str, Any]:
    """The headers of a 204/304 without Content-Type and Content-Length."""
    return {name: value for name, value in headers.items() if name.lower() not in _DROPPED}


# The contract's headers for an error the gateway makes itself (401, 403, unknown route,
# authorizer 503): never stored by a cache, never sniffed as another type.
GATEWAY_ERROR_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def gateway_error_headers(headers: dict[str, Any] | None) -> dict[str, Any]:
    """An error response's headers with Cache-Control: no-store and nosniff added."""
    return {**(headers or {}), **GATEWAY_ERROR_HEADERS}


def fix_chalice_local() -> bool:
    """Make chalice local send 204 and 304 with no body, Content-Type or Content-Length,
    and its own error answers (and the authorizer's 503) with no-store and nosniff.

    Does nothing (False) unless chalice's local server module is loaded: the `chalice local`
    command imports it before it imports app.py; Lambda never imports it.
    """
    local = sys.modules.get("chalice.local")
    if local is None:
        return False
    handler = local.ChaliceRequestHandler
    if getattr(handler, "_storefront_bodiless", False):
        return True
    send_any = handler._send_http_response

    def send(self: Any, code: int, headers: dict[str, Any], body: str | bytes | None) -> None:
        if code not in BODILESS:
            send_any(self, code, headers, body)
            return
        self.send_response(code)
        self._send_headers(bodiless_headers(headers))

    send_error = handler._send_error_response

    def send_gateway_error(self: Any, error: Any) -> None:
        error.headers = gateway_error_headers(error.headers)
        send_error(self, error)

    handler._send_http_response = send
    handler._send_error_response = send_gateway_error
    handler._storefront_bodiless = True
    _answer_authorizer_failures(local)
    # Deployed, the scheduled function sweeps expired orders; here a thread does.
    from chalicelib.api.sweep import start_local_sweeper

    start_local_sweeper()
    return True


def _answer_authorizer_failures(local: Any) -> None:
    """An authorizer that raises ServiceUnavailableError (DynamoDB or SSM down) is answered
    503 with Retry-After and the error body, as API Gateway's AUTHORIZER_FAILURE is by the
    template. Unpatched, chalice local lets the exception escape and drops the connection."""
    from chalicelib.api.context import choose_request_id
    from chalicelib.errors import ServiceUnavailableError
    from chalicelib.jsonio import dumps
    from chalicelib.observability import bind_log_keys, clear_log_keys

    class AuthorizerUnavailable(local.LocalGatewayException):  # type: ignore[misc]
        CODE = 503

    authorizer = local.LocalGatewayAuthorizer
    authorize = authorizer.authorize

    def guarded(self: Any, raw_path: str, lambda_event: Any, lambda_context: Any) -> Any:
        # The id is chosen before the authorizer runs, as the app would choose it, and bound
        # to the log keys: its WARNING line (authorizer_trace.log_authorizer_outage) names it.
        client_id = (lambda_event.get("headers") or {}).get("x-request-id")
        request_id = choose_request_id(None, client_id)
        bind_log_keys(request_id=request_id)
        try:
            return authorize(self, raw_path, lambda_event, lambda_context)
        except ServiceUnavailableError as exc:
            body = {"error": exc.message, "code": "service_unavailable", "request_id": request_id}
            headers = {
                "Content-Type": "application/json",
                "Retry-After": str(exc.retry_after),
                "X-Request-Id": request_id,
                **GATEWAY_ERROR_HEADERS,
            }
            raise AuthorizerUnavailable(headers, dumps(body).encode()) from exc
        finally:
            clear_log_keys()

    authorizer.authorize = guarded
