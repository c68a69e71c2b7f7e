"""Structured logs, CloudWatch metrics (EMF) and X-Ray tracing, set up on first use.

`business_event()` is what use cases call to count something that happened (a
registration, a failed login, a product created); the HTTP middleware turns the
events of a request into metrics when the request ends.

Cold start is the budget: nothing here imports the X-Ray SDK at import time, and nothing
imports Powertools at all: log lines are written by our own formatter (`logs.py`), EMF
documents directly (`metrics.py`), both the text Powertools would write; the X-Ray SDK is
loaded only when tracing can work (SDK enabled and inside Lambda) and then patches
botocore alone, never `patch_all`.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections import Counter
from collections.abc import Mapping
from contextlib import AbstractContextManager
from contextvars import ContextVar
from typing import Any

from chalicelib.config import get_settings
from chalicelib.observability.logs import (
    ACCESS_KEYS,
    ACCESS_MESSAGE,
    LOGGER_NAMES,
    REDACTED,
    Sink,
    bind_log_keys,
    clear_log_keys,
    configure_logging,
    direct_line,
    redact,
)
from chalicelib.observability.metrics import emf_line, request_line
from chalicelib.observability.tracing import NullSpan, Span, XraySpan, span, xray_recorder

__all__ = [
    "ACCESS_KEYS",
    "ACCESS_MESSAGE",
    "REDACTED",
    "NullObserver",
    "NullSpan",
    "Observer",
    "Sink",
    "Span",
    "XraySpan",
    "bind_log_keys",
    "business_event",
    "clear_log_keys",
    "get_observer",
    "initialization_type",
    "install",
    "metric_name",
    "redact",
    "reset_cold_start",
    "take_business_events",
    "take_cold_start",
    "xray_recorder",
]

_events: ContextVar[list[str] | None] = ContextVar("storefront_business_events", default=None)
_cold_start = [True]


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


def take_cold_start() -> bool:
    """True for the first caller in this process (the container's first invocation)."""
    first, _cold_start[0] = _cold_start[0], False
    return first


def reset_cold_start() -> None:
    """The next caller is a cold start again (an environment restored from a snapshot)."""
    _cold_start[0] = True


def initialization_type() -> str:
    """How this environment started: "restore" (from a SnapStart snapshot), "on-demand",
    or "provisioned-concurrency" (Lambda's AWS_LAMBDA_INITIALIZATION_TYPE; locally on-demand)."""
    kind = os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
    return "restore" if kind == "snap-start" else kind


class Observer:
    """Logs, metrics and traces for the service, configured from settings on first use."""

    def __init__(
        self,
        *,
        service: str,
        log_level: str = "INFO",
        metrics_enabled: bool = False,
        namespace: str = "Storefront",
        tracing: bool = True,
        sink: Sink | None = None,
    ) -> None:
        self.service = service
        self.log_level = log_level if log_level in logging.getLevelNamesMapping() else "INFO"
        self.metrics_enabled = metrics_enabled
        self.namespace = namespace
        self.tracing = tracing
        self.sink = sink or Sink()
        self._configured = False
        self._lock = threading.Lock()
        self._logger = logging.getLogger(LOGGER_NAMES[0])  # the same object for the process's life
        self._handler: logging.Handler | None = None

    def logger(self) -> logging.Logger:
        """The service's JSON logger (configures the loggers once)."""
        if not self._configured:
            with self._lock:
                if not self._configured:
                    self._configure_logging()
                    self._configured = True
        return self._logger

    def _configure_logging(self) -> None:
        self._handler = configure_logging(self.sink, self.service, self.log_level)

    def log(self, level: int, message: str, **fields: Any) -> None:
        """Write one JSON log line with these fields."""
        line = self._line(level, message, fields, 2)
        if line is not None:
            self.sink.write(line)

    def _line(self, level: int, message: str, fields: Mapping[str, Any], depth: int) -> str | None:
        """The line to write for the caller `depth` frames up, or None: below the level, or
        already written through logging (a replaced handler, a field only logging takes)."""
        logger = self.logger()
        if not logger.isEnabledFor(level):
            return None
        if logger.handlers == [self._handler] and self._handler is not None and not logger.disabled:
            caller = sys._getframe(depth)  # where logging's stacklevel points: the caller
            location = f"{caller.f_code.co_name}:{caller.f_lineno}"
            line = direct_line(self._handler, level, message, fields, location)
            if line is not None:
                return line
        logger.log(level, message, extra=fields, stacklevel=depth + 1)
        return None

    def span(self, name: str) -> AbstractContextManager[Span]:
        """An X-Ray subsegment around the block (a no-op span when tracing is off)."""
        return span(name, enabled=self.tracing)

    def report_request(
        self,
        level: int,
        fields: Mapping[str, Any],
        route: str,
        status: int,
        duration_ms: float,
        cold_start: str | None,
        events: list[str],
    ) -> None:
        """A request's access line and its EMF documents (Requests, Latency and ServerErrors by
        route and status class; ColdStart by `cold_start`, the init type, when it is one; a
        counter per business event), in one write: each write to stdout is a system call, and
        Lambda makes each line a log event of its own either way."""
        lines = []
        line = self._line(level, ACCESS_MESSAGE, fields, 2)
        if line is not None:
            lines.append(line)
        if self.metrics_enabled:
            lines.append(self._request_document(route, status, duration_ms))
            if cold_start is not None:
                lines.append(self._cold_start_document(cold_start))
            if events:
                lines.append(self._events_document(events))
        if lines:
            self.sink.write_lines(lines)

    def count_cold_start(self, init_type: str) -> None:
        """One EMF document: ColdStart = 1 by init_type (restore, on-demand, ...)."""
        if self.metrics_enabled:
            self.sink.write(self._cold_start_document(init_type))

    def _request_document(self, route: str, status: int, duration_ms: float) -> str:
        # Requests 1, Latency and ServerErrors by route, status class and service.
        status_class = f"{status // 100}xx"
        return request_line(self.namespace, route, status_class, self.service, duration_ms, status >= 500)

    def _cold_start_document(self, init_type: str) -> str:
        dimensions = {"init_type": init_type, "service": self.service}
        return emf_line(self.namespace, dimensions, [("ColdStart", "Count", 1)])

    def _events_document(self, events: list[str]) -> str:
        # A counter per business event (service dimension only).
        values = [(metric_name(name), "Count", count) for name, count in sorted(Counter(events).items())]
        return emf_line(self.namespace, {"service": self.service}, values)


class NullObserver(Observer):
    """Observability switched off: what `make bench` compares the real one against."""

    def __init__(self) -> None:
        super().__init__(service="storefront", tracing=False, metrics_enabled=False)

    def logger(self) -> logging.Logger:
        """The configured logger (set up on first use)."""
        return logging.getLogger(LOGGER_NAMES[0])  # left as chalice configured it

    def _line(self, level: int, message: str, fields: Mapping[str, Any], depth: int) -> str | None:
        """No line: `log` and `report_request` write nothing (and, metrics being off, no
        document either)."""
        return None


def metric_name(event: str) -> str:
    """user_registered → UserRegistered."""
    return "".join(part.capitalize() for part in event.split("_"))


_observer: Observer | None = None
_observer_lock = threading.Lock()


def get_observer() -> Observer:
    """The process-wide Observer, built from settings on first use."""
    global _observer
    with _observer_lock:
        if _observer is None:
            settings = get_settings()
            _observer = Observer(
                service=settings.service_name,
                log_level=settings.log_level,
                metrics_enabled=settings.metrics_enabled,
                namespace=settings.metrics_namespace,
            )
        return _observer


def install(observer: Observer | None) -> None:
    """Use this Observer from now on (tests, the benchmark); None: back to settings."""
    global _observer
    with _observer_lock:
        _observer = observer
