"""A per-request deadline for DynamoDB calls, so that the API answers its own 503 before
Lambda kills the function (which API Gateway would turn into a bare 502/504).

The middleware starts a deadline for each request: the configured budget, or less when
the Lambda context says less time is left (minus a margin for the answer itself). A
botocore `before-send` hook on the client refuses to start an attempt that could not
finish before the deadline — an attempt can take up to connect + read timeout — so no
retry, botocore's own or ours, runs past it. The refusal is a BotoCoreError that botocore
does not retry, and that the store turns into 503 `service_unavailable`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

Clock = Callable[[], float]
# What the handler keeps for itself after the last DynamoDB attempt: shaping the 503,
# the access line and the metrics, with room to spare.
MARGIN_SECONDS = 1.5

_deadline: ContextVar[tuple[float, Clock] | None] = ContextVar("storefront_deadline", default=None)


class DeadlineExceededError(Exception):
    """No DynamoDB attempt can finish before this request's deadline."""

    def __init__(self) -> None:
        super().__init__("the request's time budget is spent; no further DynamoDB attempt")


def budget_seconds(configured: float, lambda_remaining_ms: int | None) -> float:
    """The time a request may spend: the configured budget, capped by Lambda's remaining time."""
    if lambda_remaining_ms is None:
        return configured
    return max(0.0, min(configured, lambda_remaining_ms / 1000 - MARGIN_SECONDS))


def start(seconds: float, clock: Clock = time.monotonic) -> None:
    """Begin the current request's deadline, `seconds` from now."""
    _deadline.set((clock() + seconds, clock))


def clear() -> None:
    """No deadline (between requests, and for operator commands)."""
    _deadline.set(None)


def remaining() -> float | None:
    """Seconds left before the deadline; None when there is none."""
    current = _deadline.get()
    if current is None:
        return None
    at, clock = current
    return at - clock()


def guard(attempt_seconds: float) -> Callable[..., None]:
    """A before-send hook refusing attempts that could outlast the deadline."""

    def refuse_late_attempts(**_: Any) -> None:
        left = remaining()
        if left is not None and left < attempt_seconds:
            raise DeadlineExceededError()

    return refuse_late_attempts
