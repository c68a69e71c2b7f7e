"""The authorizer's observability: a trace subsegment and one log line per decision.

Its own module, not the HTTP middleware's: the authorizer's Lambda imports only
api/auth.py and what it needs, never the routes' machinery (pydantic, the route table,
the error envelope); tests/unit/test_import_budget.py holds it to that.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from chalice.app import AuthRequest, AuthResponse

from chalicelib import observability
from chalicelib.errors import ServiceUnavailableError, unavailable_cause

AUTHORIZER_OUTAGE_MESSAGE = "authorizer unavailable"


def log_authorizer_outage(observer: observability.Observer, exc: ServiceUnavailableError) -> None:
    """The one WARNING line of an authorizer 503 (AUTHORIZER_FAILURE): its cause, and the
    request id bound to the log keys (chalice local binds the id its 503 will carry). One
    line per request: botocore's retries inside the failed read log nothing."""
    observer.log(
        logging.WARNING,
        AUTHORIZER_OUTAGE_MESSAGE,
        status=503,
        error_code="service_unavailable",
        error_cause=unavailable_cause(exc),
    )


def traced_authorizer(
    authorize: Callable[[AuthRequest], AuthResponse | dict[str, Any]],
) -> Callable[[AuthRequest], AuthResponse | dict[str, Any]]:
    """Wrap the authorizer: a trace subsegment and one log line per decision (never the token).

    The wrapper is called by the `jwt_auth` function api/auth.py registers (chalice names
    the deployed handler after the registered function, so a wrapper cannot be registered).
    """

    @functools.wraps(authorize)
    def traced(auth_request: AuthRequest) -> AuthResponse | dict[str, Any]:
        observer = observability.get_observer()
        cold_start, started = observability.take_cold_start(), time.perf_counter()
        with observer.span("## authorizer") as span:
            try:
                result = authorize(auth_request)
            except ServiceUnavailableError as exc:
                log_authorizer_outage(observer, exc)
                raise
            allowed = isinstance(result, AuthResponse)
            user_id = str(result.principal_id) if isinstance(result, AuthResponse) else None
            span.annotate("outcome", "allow" if allowed else "deny")
            span.annotate("user_id", user_id)
            span.annotate("cold_start", cold_start)
        duration = round((time.perf_counter() - started) * 1000, 2)
        observer.log(
            logging.INFO,
            "authorizer",
            outcome="allow" if allowed else "deny",
            user_id=user_id,
            duration_ms=duration,
            cold_start=cold_start,
            init_type=observability.initialization_type() if cold_start else None,
        )
        if cold_start:
            observer.count_cold_start(observability.initialization_type())
        return result

    return traced
