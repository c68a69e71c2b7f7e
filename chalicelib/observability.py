"""Structured logs, CloudWatch metrics (EMF) and X-Ray tracing, set up on first use.

`business_event()` is what use cases call to count something that happened (a
registration, a failed login, a product created); the HTTP middleware turns the
events of a request into metrics when the request ends.

Cold start is the budget: nothing here imports Powertools or the X-Ray SDK at import
time. Logging and metrics load Powertools (~13 ms once the app is loaded) on the first
request; the X-Ray SDK is loaded only when tracing can work (SDK enabled and inside
Lambda) and then patches botocore alone, never `patch_all`.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import sys
import threading
import traceback
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import IO, Any, Protocol

from chalicelib.config import get_settings

# chalice's app logger (app_name) and every module logger under chalicelib.*.
LOGGER_NAMES = ("storefront", "chalicelib")

_events: ContextVar[list[str] | None] = ContextVar("storefront_business_events", default=None)
_log_keys: ContextVar[Mapping[str, Any] | None] = ContextVar("storefront_log_keys", default=None)
_cold_start = [True]
ACCESS_MESSAGE = "request"
# Every access line carries these keys (null when they do not apply).
ACCESS_KEYS = (
    "request_id",
    "xray_trace_id",
    "method",
    "route",
    "status",
    "duration_ms",
    "user_id",
    "cold_start",
    "error_code",
)


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


def bind_log_keys(**keys: Any) -> None:
    """Add these keys to every log line of the current request (the request id)."""
    _log_keys.set({**(_log_keys.get() or {}), **keys})


def clear_log_keys() -> None:
    _log_keys.set(None)


class Sink:
    """Where log lines and EMF documents go: stdout (what Lambda ships to CloudWatch)
    unless a stream is given. sys.stdout is looked up per write, so captures work."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def write(self, line: str) -> None:
        stream = self._stream or sys.stdout
        with self._lock:
            stream.write(line + "\n")
            stream.flush()


# Defence in depth: no code logs these on purpose, but an exception message or a chained
# pydantic error can quote input. Values of secret-looking fields, bearer tokens, JWTs and
# password hashes are masked in every line before it is written.
_SECRET_FIELD = re.compile(
    r"""(?i)(['"]?\w*(?:password|passwd|secret|authorization|token|hash)\w*['"]?\s*[:=]\s*)(['"])"""
    r"""(?:(?!\2).)*\2"""
)
_SECRET_VALUE = re.compile(
    r"(?i)\bbearer\s+[^\s'\"]+|eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*|\$(?:argon2\w*|2[abxy]|scrypt|pbkdf2[\w-]*)\$[^\s'\"]+"
)
REDACTED = "[REDACTED]"


def redact(text: str) -> str:
    """Mask secrets in free text (messages, stack traces)."""
    text = _SECRET_FIELD.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}{m.group(2)}", text)
    return _SECRET_VALUE.sub(REDACTED, text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redact_value(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return redact(str(value))  # what json.dumps(default=str) would write, redacted


class _ContextFilter(logging.Filter):
    """Stamps the request's bound keys (request_id) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_log_keys.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class _SinkHandler(logging.Handler):
    def __init__(self, sink: Sink) -> None:
        super().__init__()
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.sink.write(self.format(record))
        except Exception:  # a log line must never fail a request
            self.handleError(record)


def _json_formatter(service: str) -> logging.Formatter:
    """Powertools' JSON lines (stack traces included), redacted; an access line keeps
    its empty fields as null so every access line has the same shape."""
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

    class JsonFormatter(LambdaPowertoolsFormatter):
        def serialize(self, log: Any) -> str:
            return super().serialize(_redact_value(log))

        @staticmethod
        def _strip_none_records(records: dict[str, Any]) -> dict[str, Any]:
            keep = set(ACCESS_KEYS) if records.get("message") == ACCESS_MESSAGE else set()
            return {k: v for k, v in records.items() if v is not None or k in keep}

    order = ["level", "timestamp", "message", "service", "request_id"]
    return JsonFormatter(service=service, utc=True, use_rfc3339=True, log_record_order=order)


class Span(Protocol):
    """A traced unit of work (an X-Ray subsegment, or nothing)."""

    def annotate(self, key: str, value: str | int | bool | None) -> None: ...

    def finish(self, status: int | None, exception: BaseException | None = None) -> None: ...


class NullSpan:
    def annotate(self, key: str, value: str | int | bool | None) -> None:
        return None

    def finish(self, status: int | None, exception: BaseException | None = None) -> None:
        return None


class XraySpan:
    """An X-Ray subsegment. Annotations (searchable) only; no request or response data."""

    def __init__(self, subsegment: Any) -> None:
        self._subsegment = subsegment

    def annotate(self, key: str, value: str | int | bool | None) -> None:
        if value is not None:
            self._subsegment.put_annotation(key, value)

    def finish(self, status: int | None, exception: BaseException | None = None) -> None:
        if status is not None:
            self._subsegment.put_http_meta("status", status)
            self._subsegment.apply_status_code(status)  # 4xx error, 429 throttle, 5xx fault
        if exception is not None:
            self._subsegment.add_exception(exception, traceback.extract_tb(exception.__traceback__))


@functools.cache
def xray_recorder() -> Any | None:
    """The X-Ray recorder with botocore patched, when tracing can work; else None.

    Outside Lambda there is no segment to attach to and the SDK only complains, so
    tracing needs both the SDK enabled (AWS_XRAY_SDK_ENABLED, read by the SDK) and the
    Lambda context the SDK detects itself.
    """
    import aws_xray_sdk  # light: the flag only

    if not aws_xray_sdk.global_sdk_config.sdk_enabled():
        return None
    from aws_xray_sdk.core import patch
    from aws_xray_sdk.core import xray_recorder as recorder
    from aws_xray_sdk.core.lambda_launcher import LambdaContext

    if not isinstance(recorder.context, LambdaContext):
        return None
    patch(["botocore"])  # every DynamoDB call becomes a subsegment (table, operation)
    return recorder


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

    def logger(self) -> logging.Logger:
        """The service's JSON logger (configures the loggers once)."""
        if not self._configured:
            with self._lock:
                if not self._configured:
                    self._configure_logging()
                    self._configured = True
        return logging.getLogger(LOGGER_NAMES[0])

    def _configure_logging(self) -> None:
        handler = _SinkHandler(self.sink)
        handler.setFormatter(_json_formatter(self.service))
        handler.addFilter(_ContextFilter())
        for name in LOGGER_NAMES:
            logger = logging.getLogger(name)
            logger.handlers = [handler]  # replaces chalice's plain-text handler
            logger.setLevel(self.log_level)
            logger.propagate = False

    def log(self, level: int, message: str, **fields: Any) -> None:
        self.logger().log(level, message, extra=fields, stacklevel=2)

    @contextmanager
    def span(self, name: str) -> Iterator[Span]:
        """An X-Ray subsegment around the block (a no-op span when tracing is off)."""
        recorder = xray_recorder() if self.tracing else None
        subsegment = recorder.begin_subsegment(name) if recorder is not None else None
        if recorder is None or subsegment is None:
            yield NullSpan()
            return
        try:
            yield XraySpan(subsegment)
        finally:
            recorder.end_subsegment()

    def count_request(self, route: str, status: int, duration_ms: float) -> None:
        """One EMF document: Requests, Latency and ServerErrors by route and status class."""
        if not self.metrics_enabled:
            return
        metrics = self._metrics()
        metrics.add_dimension("route", route)
        metrics.add_dimension("status_class", f"{status // 100}xx")
        metrics.add_metric("Requests", "Count", 1)
        metrics.add_metric("Latency", "Milliseconds", duration_ms)
        metrics.add_metric("ServerErrors", "Count", 1 if status >= 500 else 0)
        self._emit(metrics)

    def count_events(self, events: list[str]) -> None:
        """One EMF document with a counter per business event (service dimension only)."""
        if not self.metrics_enabled or not events:
            return
        metrics = self._metrics()
        for name, count in sorted(Counter(events).items()):
            metrics.add_metric(metric_name(name), "Count", count)
        self._emit(metrics)

    def _metrics(self) -> Any:
        from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
            AmazonCloudWatchEMFProvider,
        )

        return AmazonCloudWatchEMFProvider(namespace=self.namespace, service=self.service)

    def _emit(self, metrics: Any) -> None:
        self.sink.write(json.dumps(metrics.serialize_metric_set(), separators=(",", ":")))


class NullObserver(Observer):
    """Observability switched off: what `make bench` compares the real one against."""

    def __init__(self) -> None:
        super().__init__(service="storefront", tracing=False)

    def logger(self) -> logging.Logger:
        return logging.getLogger(LOGGER_NAMES[0])  # left as chalice configured it

    def log(self, level: int, message: str, **fields: Any) -> None:
        return None

    def count_request(self, route: str, status: int, duration_ms: float) -> None:
        return None

    def count_events(self, events: list[str]) -> None:
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
