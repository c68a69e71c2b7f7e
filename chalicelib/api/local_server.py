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


def fix_chalice_local() -> bool:
    """Make chalice local send 204 and 304 with no body, Content-Type or Content-Length.

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

    handler._send_http_response = send
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

    class AuthorizerUnavailable(local.LocalGatewayException):  # type: ignore[misc]
        CODE = 503

    authorizer = local.LocalGatewayAuthorizer
    authorize = authorizer.authorize

    def guarded(self: Any, raw_path: str, lambda_event: Any, lambda_context: Any) -> Any:
        try:
            return authorize(self, raw_path, lambda_event, lambda_context)
        except ServiceUnavailableError as exc:
            request_id = choose_request_id(None, None)
            body = {"error": exc.message, "code": "service_unavailable", "request_id": request_id}
            headers = {
                "Content-Type": "application/json",
                "Retry-After": str(exc.retry_after),
                "X-Request-Id": request_id,
            }
            raise AuthorizerUnavailable(headers, dumps(body).encode()) from exc

    authorizer.authorize = guarded
