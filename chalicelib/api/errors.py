"""Domain errors → HTTP, in one place, with the one error envelope (docs/api.md)."""

from __future__ import annotations

import logging
from typing import Any

from chalice.app import Response

from chalicelib import errors
from chalicelib.api import context
from chalicelib.jsonio import dumps

logger = logging.getLogger("storefront")

# (status, code) per domain error; the most specific class wins (checked in MRO order).
_STATUS: dict[type[errors.StorefrontError], tuple[int, str]] = {
    errors.InvalidJsonError: (400, "invalid_json"),
    errors.ValidationFailedError: (400, "validation_error"),
    errors.InvalidCursorError: (400, "invalid_cursor"),
    errors.UnauthorizedError: (401, "unauthorized"),
    errors.ForbiddenError: (403, "forbidden"),
    errors.EmailUnverifiedError: (403, "email_unverified"),
    errors.NotFoundError: (404, "not_found"),
    errors.ConflictError: (409, "conflict"),
    errors.InsufficientStockError: (409, "insufficient_stock"),
    errors.PreconditionFailedError: (412, "precondition_failed"),
    errors.PayloadTooLargeError: (413, "payload_too_large"),
    errors.PaymentMismatchError: (422, "payment_mismatch"),
    errors.UnsupportedMediaTypeError: (415, "unsupported_media_type"),
    errors.RateLimitedError: (429, "rate_limited"),
    errors.ServiceUnavailableError: (503, "service_unavailable"),
}

# Chalice answers some requests itself ({"Code": ..., "Message": ...}); re-dress them.
_CHALICE_CODES: dict[int, tuple[str, str]] = {
    400: ("invalid_json", "Request body is not valid JSON"),
    404: ("not_found", "Resource not found"),
    405: ("method_not_allowed", "Method not allowed"),
    413: ("payload_too_large", "Request body is too large"),
    415: ("unsupported_media_type", "Request body must be application/json"),
}


def status_for(exc: errors.StorefrontError) -> tuple[int, str]:
    """The HTTP status and error code for a domain error."""
    for cls in type(exc).__mro__:
        if cls in _STATUS:
            return _STATUS[cls]
    return 500, "internal_error"


def envelope(status: int, code: str, message: str, **extra: Any) -> Response:
    """The one error body: {"error", "code", "request_id"[, "details"]}."""
    state = context.current()
    state.error_code = code
    body: dict[str, Any] = {"error": message, "code": code, "request_id": state.request_id}
    headers: dict[str, str | list[str]] = {"Content-Type": "application/json"}
    if "details" in extra:
        body["details"] = extra["details"]
    if "retry_after" in extra:
        headers["Retry-After"] = str(extra["retry_after"])
    if "allow" in extra:
        headers["Allow"] = extra["allow"]
    return Response(body=dumps(body), status_code=status, headers=headers)


def to_response(exc: BaseException) -> Response:
    """Any exception → its error response. Unknown ones are logged with the trace, never shown."""
    if isinstance(exc, errors.StorefrontError):
        status, code = status_for(exc)
        extra: dict[str, Any] = {}
        if isinstance(exc, (errors.ValidationFailedError, errors.InsufficientStockError)):
            extra["details"] = exc.details
        if isinstance(exc, (errors.RateLimitedError, errors.ServiceUnavailableError)):
            extra["retry_after"] = exc.retry_after
        if isinstance(exc, errors.ServiceUnavailableError):
            # An outage is not a bug: the access line (WARNING) names the cause; a stack
            # trace per 503 would bury the log during the very outage it should explain.
            context.current().error_cause = errors.unavailable_cause(exc)
        elif status >= 500:
            logger.error("request failed: %s", code, exc_info=exc)
        return envelope(status, code, exc.message, **extra)
    logger.error("unhandled exception", exc_info=exc)
    return envelope(500, "internal_error", "Internal server error")


def redress_chalice_error(response: Response) -> Response:
    """Rewrite an error chalice produced itself into the envelope (keeps Allow on a 405)."""
    body = response.body
    if response.status_code < 400 or not (isinstance(body, dict) and "Code" in body):
        return response
    code, message = _CHALICE_CODES.get(response.status_code, ("internal_error", "Internal server error"))
    if response.status_code >= 500:
        response.status_code = 500
    extra: dict[str, Any] = {}
    allow = {k.lower(): v for k, v in response.headers.items()}.get("allow")
    if allow:
        extra["allow"] = allow
    return envelope(response.status_code, code, message, **extra)
