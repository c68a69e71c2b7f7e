"""Structured JSON log lines: a redacting formatter that writes Powertools' lines,
request-scoped keys, one sink."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from json.encoder import encode_basestring as _quote  # how the line's encoder writes a str
from typing import IO, Any

from chalicelib import jsonio
from chalicelib.observability.tracing import TRACE_HEADER

# chalice's app logger (app_name) and every module logger under chalicelib.*.
LOGGER_NAMES = ("storefront", "chalicelib")
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

_log_keys: ContextVar[Mapping[str, Any] | None] = ContextVar("storefront_log_keys", default=None)


def bind_log_keys(**keys: Any) -> None:
    """Add these keys to every log line of the current request (the request id)."""
    _log_keys.set({**(_log_keys.get() or {}), **keys})


def clear_log_keys() -> None:
    """Forget the keys bound to every log line of the current request."""
    _log_keys.set(None)


class Sink:
    """Where log lines and EMF documents go: stdout (what Lambda ships to CloudWatch)
    unless a stream is given. sys.stdout is looked up per write, so captures work."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()

    def write(self, line: str) -> None:
        """Write one line to the sink."""
        self._put(line + "\n")

    def write_lines(self, lines: list[str]) -> None:
        """Write these lines to the sink at once (one write and one flush)."""
        self._put("\n".join(lines) + "\n")

    def _put(self, text: str) -> None:
        stream = self._stream or sys.stdout
        with self._lock:
            stream.write(text)
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


# Every pattern above needs one of these words or a "$"; most log values (routes, ids,
# statuses) have none and skip the patterns. Only ASCII text is screened: case-insensitive
# matching also folds a few non-ASCII letters onto ASCII ones (U+017F onto s, U+212A onto k).
TRIGGERS = ("passw", "secret", "authorization", "token", "hash", "bearer", "eyj", "$")


def _clean(text: str) -> bool:
    """True when `text` is ASCII and holds no trigger, so no pattern can match it. Lowering
    the ASCII text once and looking for each word is ~15x faster than one case-insensitive
    regex alternation over it (~1 µs against ~17 µs for an access line)."""
    if not text.isascii():
        return False
    lowered = text.lower()
    return not any(word in lowered for word in TRIGGERS)


def redact(text: str) -> str:
    """Mask secrets in free text (messages, stack traces)."""
    if _clean(text):
        return text
    return _redact_always(text)


def _redact_always(text: str) -> str:
    text = _SECRET_FIELD.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}{m.group(2)}", text)
    return _SECRET_VALUE.sub(REDACTED, text)


def _redact_value(value: Any) -> Any:
    kind = type(value)
    if kind is int or kind is bool or value is None:
        return value
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


# The first non-blank character of anything json.loads accepts (NaN and Infinity included).
_MAY_BE_JSON = re.compile(r'[ \t\n\r]*[{\["\-0-9tfnNI]')


# The LogRecord attributes Powertools' formatter never copies into a line as extra fields.
_RESERVED = frozenset(
    ("name", "msg", "args", "level", "levelname", "levelno", "pathname", "filename", "module",
     "exc_info", "exc_text", "stack_info", "lineno", "funcName", "created", "msecs",
     "relativeCreated", "thread", "threadName", "processName", "process", "asctime",
     "location", "timestamp")
)  # fmt: skip


def trace_id() -> str | None:
    """The X-Ray trace id of this invocation (the Root of Lambda's trace header), if any."""
    header = os.environ.get(TRACE_HEADER)
    return header.split(";")[0].replace("Root=", "") if header else None


class JsonFormatter(logging.Formatter):
    """The JSON line Powertools' `LambdaPowertoolsFormatter(service=…, utc=True,
    use_rfc3339=True, log_record_order=[level, timestamp, message, service, request_id])`
    writes for a record — same keys, order, values and serialiser (stack traces included) —
    redacted, and an access line keeping its empty fields as null so every access line has
    the same shape. Written here rather than imported: Powertools cost every cold start
    ~13 ms to import, and the Lambda zip its ~3 MiB; tests/unit/test_log_formatter.py holds
    the lines equal to Powertools' for every kind of record. (Not reproduced: Powertools'
    context keys, which nothing here uses, and POWERTOOLS_DEV's indented output.)"""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service
        # What json.dumps(line, default=str, separators=(",", ":"), ensure_ascii=False) writes,
        # without building a new encoder for every line.
        self.json_serializer = jsonio.encoder(str)

    def format(self, record: logging.LogRecord) -> str:
        """The record's JSON line."""
        line: dict[str, Any] = {
            "level": record.levelname,
            "timestamp": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "message": None,
            "service": self.service,
            "request_id": None,
            "location": f"{record.funcName}:{record.lineno}",
        }
        line.update((k, v) for k, v in record.__dict__.items() if k not in _RESERVED)
        line["message"] = _message(record)
        exc_info = record.exc_info
        if isinstance(exc_info, tuple) and hasattr(exc_info[0], "__name__"):
            kind, error, _ = exc_info
            line["exception"] = line.get("exception", self.formatException(exc_info))
            line["exception_name"] = line.get("exception_name", kind.__name__)  # type: ignore[union-attr]
            line["exception_notes"] = line.get("exception_notes", getattr(error, "__notes__", None))
            line["stack_trace"] = _stack_trace(exc_info)
        else:
            for key in ("exception", "exception_name", "exception_notes"):
                line[key] = line.get(key)
            line["stack_trace"] = None
        line["xray_trace_id"] = trace_id()
        return self.serialize(strip_none(line))

    def serialize(self, line: dict[str, Any]) -> str:
        """The line as JSON text, secrets masked."""
        return str(self.json_serializer(_redact_value(line)))


def _message(record: logging.LogRecord) -> Any:
    """Powertools' message: a dict as is, %-arguments applied, and a JSON document decoded.
    Only text that json.loads could accept (by its first non-blank character) is tried:
    trying every plain message ("request") costs a raised JSONDecodeError."""
    message = record.msg
    if isinstance(message, dict):
        return message
    if record.args:
        return record.getMessage()
    if isinstance(message, str) and _MAY_BE_JSON.match(message):
        try:
            return json.loads(message)
        except ValueError:
            pass
    return message


def _stack_trace(exc_info: Any) -> dict[str, Any]:
    kind, error, trace = exc_info
    frames = [
        {"file": frame.filename, "line": frame.lineno, "function": frame.name, "statement": frame.line}
        for frame in traceback.extract_tb(trace)
    ]
    return {"type": kind.__name__, "value": error, "module": error.__class__.__module__, "frames": frames}


def strip_none(line: dict[str, Any]) -> dict[str, Any]:
    """Fields that are None are left out, except an access line's own (null there)."""
    keep = ACCESS_KEYS if line.get("message") == ACCESS_MESSAGE else ()
    return {k: v for k, v in line.items() if v is not None or k in keep}


def configure_logging(sink: Sink, service: str, level: str) -> logging.Handler:
    """Route the service's loggers to the sink as JSON lines (replaces chalice's handler);
    the handler, whose formatter `direct_line` shares."""
    handler = _SinkHandler(sink)
    handler.setFormatter(JsonFormatter(service))
    handler.addFilter(_ContextFilter())
    for name in LOGGER_NAMES:
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level)
        logger.propagate = False
    return handler


# What a LogRecord (or Powertools) owns: a field of these names takes the logging path,
# which refuses or renames it exactly as before.
_RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("n", logging.INFO, "p", 1, "m", None, None))
) | {"message", "asctime", "location", "timestamp", "level", "service", "exception",
     "exception_name", "exception_notes", "stack_trace", "xray_trace_id"}  # fmt: skip


# The second last written and its text ("2026-12-04T19:00:00"): one tuple, read and
# replaced at once.
_last_second: tuple[int, str] = (-1, "")


def line_timestamp(now_ns: int | None = None) -> str:
    """`datetime.now(UTC).isoformat(timespec="milliseconds")` (the clock's time, floored
    to the millisecond), with the date and time of day written once per second: a line's
    timestamp is the clock read and its milliseconds."""
    global _last_second
    second, rest = divmod(time.time_ns() if now_ns is None else now_ns, 1_000_000_000)
    last = _last_second
    if second != last[0]:
        last = _last_second = (second, datetime.fromtimestamp(second, UTC).isoformat()[:19])
    return f"{last[1]}.{rest // 1_000_000:03d}+00:00"


# logging.getLevelName's answers for the standard levels, without a call into logging.
_LEVEL_NAMES = {level: logging.getLevelName(level) for level in (10, 20, 30, 40, 50)}
_ACCESS_KEYS = frozenset(ACCESS_KEYS)


# The fields of an access line, in the order the middleware passes them (api/middleware.access_fields).
ACCESS_FIELDS = (
    "method", "route", "status", "duration_ms", "user_id", "cold_start", "init_type",
    "error_code", "error_cause", "events",
)  # fmt: skip


def _text_or_null(value: Any) -> str | None:
    """A JSON string or null for a str or None; None (not JSON) for anything else."""
    if value is None:
        return "null"
    return _quote(value) if type(value) is str else None


def access_line(service: str, level: int, fields: Mapping[str, Any], location: str) -> str | None:
    """What `direct_line` writes for an access line whose fields are of the types the
    middleware gives them, written with one f-string: it is every request's last work,
    after DynamoDB answered, when each piece of code touched costs most (~5 µs less a
    GET than the general builder, bench.ab). None for anything else (other fields or
    types, another bound key, a line that needs redaction): the general builder writes it.
    tests/unit/test_access_line.py holds the two equal."""
    if tuple(fields) != ACCESS_FIELDS:
        return None
    bound = _log_keys.get() or {}
    request_id = _text_or_null(bound.get("request_id"))
    method, route, status = fields["method"], fields["route"], fields["status"]
    duration, cold_start = fields["duration_ms"], fields["cold_start"]
    user_id, error_code = _text_or_null(fields["user_id"]), _text_or_null(fields["error_code"])
    init_type, cause, events = fields["init_type"], fields["error_cause"], fields["events"]
    if (
        request_id is None
        or type(service) is not str
        or len(bound) > (1 if "request_id" in bound else 0)
        or type(method) is not str
        or type(route) is not str
        or type(status) is not int
        or type(duration) is not float
        or duration - duration != 0.0  # NaN and the infinities are written otherwise
        or type(cold_start) is not bool
        or user_id is None
        or error_code is None
        or level not in _LEVEL_NAMES
    ):
        return None
    optional = ""
    if init_type is not None:
        if type(init_type) is not str:
            return None
        optional += f',"init_type":{_quote(init_type)}'
    optional += f',"error_code":{error_code}'
    if cause is not None:
        if type(cause) is not str:
            return None
        optional += f',"error_cause":{_quote(cause)}'
    if events is not None:
        if type(events) is not list or not all(type(event) is str for event in events):
            return None
        optional += ',"events":[' + ",".join(map(_quote, events)) + "]"
    trace = trace_id()
    text = (
        f'{{"level":"{_LEVEL_NAMES[level]}","timestamp":"{line_timestamp()}","message":"{ACCESS_MESSAGE}",'
        f'"service":{_quote(service)},"request_id":{request_id},"location":{_quote(location)},'
        f'"method":{_quote(method)},"route":{_quote(route)},"status":{int.__repr__(status)},'
        f'"duration_ms":{float.__repr__(duration)},"user_id":{user_id},'
        f'"cold_start":{"true" if cold_start else "false"}{optional},'
        f'"xray_trace_id":{"null" if trace is None else _quote(trace)}}}'
    )
    return text if _clean(text) else None


def direct_line(
    handler: logging.Handler, level: int, message: str, fields: Mapping[str, Any], location: str
) -> str | None:
    """The JSON line the logging path would write for `logger.log(level, message, extra=fields)`,
    built without a LogRecord (the access line's cost was half a GET's overhead); None when
    this message or these fields need the logging path (a JSON-looking message, a field named
    like a record attribute). Same keys, same order, same redaction and serialiser
    (tests/unit/test_access_line.py holds them equal).

    The line is written first and screened as a whole: when its text is ASCII without a
    trigger word, no value in it can hold a secret, and redaction (which changes only values
    that hold one) would write the same text. Otherwise the formatter's `serialize` redacts
    and writes it again."""
    formatter: Any = handler.formatter
    if message == ACCESS_MESSAGE:
        line = access_line(formatter.service, level, fields, location)
        if line is not None:
            return line
    if _MAY_BE_JSON.match(message) or not _RECORD_ATTRIBUTES.isdisjoint(fields):
        return None
    record: dict[str, Any] = {
        "level": _LEVEL_NAMES.get(level) or logging.getLevelName(level),
        "timestamp": line_timestamp(),
        "message": message,
        "service": formatter.service,
        "request_id": None,
        "location": location,
        **fields,
    }
    bound = _log_keys.get()
    if bound:
        for key, value in bound.items():
            if key not in fields:
                record[key] = value
    record["xray_trace_id"] = trace_id()
    keep = _ACCESS_KEYS if message == ACCESS_MESSAGE else ()
    record = {k: v for k, v in record.items() if v is not None or k in keep}  # strip_none
    text = str(formatter.json_serializer(record))
    return text if _clean(text) else str(formatter.serialize(record))
