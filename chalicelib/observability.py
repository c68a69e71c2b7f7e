"""Logger, metrics and tracer set-up (the observability work fills this in).

`business_event()` is what use cases call to count something that happened
(a registration, a failed login, a product created); the HTTP middleware turns the
events of a request into metrics when the request ends.
"""

from __future__ import annotations

from contextvars import ContextVar

_events: ContextVar[list[str] | None] = ContextVar("storefront_business_events", default=None)


def business_event(name: str) -> None:
    """Record that `name` happened during the current request."""
    events = _events.get()
    if events is None:
        events = []
        _events.set(events)
    events.append(name)


def take_business_events() -> list[str]:
    """The events recorded since the last call (and forget them)."""
    events = _events.get() or []
    _events.set(None)
    return events
