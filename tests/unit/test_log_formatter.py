"""Our JSON log formatter writes exactly the line Powertools' formatter writes.

The reference is what observability/logs.py used before: Powertools'
`LambdaPowertoolsFormatter` (a dev dependency now) with the same settings, redaction, rule
for null access fields and screen for JSON-looking messages. Both format the same records —
every kind the service logs — and the raw text is compared, key order included.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from hypothesis import example, given, settings
from hypothesis import strategies as st

from chalicelib.observability.logs import (
    _MAY_BE_JSON,
    ACCESS_KEYS,
    ACCESS_MESSAGE,
    JsonFormatter,
    _redact_value,
    line_timestamp,
)


class Reference(LambdaPowertoolsFormatter):
    """The formatter logs.py built on Powertools until it wrote its own."""

    def serialize(self, log: Any) -> str:
        return str(super().serialize(_redact_value(log)))

    def _extract_log_message(self, log_record: logging.LogRecord) -> Any:
        message = log_record.msg
        if isinstance(message, str) and not log_record.args and not _MAY_BE_JSON.match(message):
            return message
        return super()._extract_log_message(log_record)

    @staticmethod
    def _strip_none_records(records: dict[str, Any]) -> dict[str, Any]:
        keep = set(ACCESS_KEYS) if records.get("message") == ACCESS_MESSAGE else set()
        return {k: v for k, v in records.items() if v is not None or k in keep}


ORDER = ["level", "timestamp", "message", "service", "request_id"]


def _reference() -> Reference:
    return Reference(service="storefront", utc=True, use_rfc3339=True, log_record_order=ORDER)


def _record(
    message: Any,
    args: Any = None,
    extra: dict[str, Any] | None = None,
    exc_info: Any = None,
    level: int = logging.INFO,
) -> logging.LogRecord:
    return logging.getLogger("chalicelib.test").makeRecord(
        "chalicelib.test", level, "/x/app.py", 42, message, args, exc_info, "handler", extra
    )


def _failure() -> Any:
    try:
        try:
            raise KeyError("token=abc")
        except KeyError as inner:
            error = ValueError("price must be > 0 (password='hunter2')")
            error.add_note("while creating a product")
            raise error from inner
    except ValueError:
        return sys.exc_info()


class Odd:
    def __str__(self) -> str:
        return "odd Bearer abc.def"


ACCESS = {
    "request_id": "r-2", "method": "GET", "route": "/products", "status": 200,
    "duration_ms": 1.5, "user_id": None, "cold_start": False, "error_code": None,
}  # fmt: skip
RECORDS = {
    "plain": lambda: _record("authorizer", extra={"request_id": "r-1"}),
    "access line": lambda: _record(
        ACCESS_MESSAGE,
        extra={
            "request_id": "r-2",
            "method": "GET",
            "route": "/products",
            "status": 200,
            "duration_ms": 1.5,
            "user_id": None,
            "cold_start": False,
            "error_code": None,
        },
    ),
    "%-arguments": lambda: _record("retry %s of %d", ("GetItem", 3)),
    "dict message": lambda: _record({"event": "x", "secret": "s3cret-value"}),
    "dict message with arguments": lambda: _record({"event": "x"}, ("ignored",)),
    "JSON text": lambda: _record('{"a": [1, 2.5, "Bearer abc"]}'),
    "not quite JSON": lambda: _record("[not json"),
    "an int": lambda: _record(7),
    "secrets in extras": lambda: _record("login", extra={"password": "hunter2", "note": "eyJa.eyJb.c"}),
    "non-ASCII": lambda: _record("café ☕", extra={"label": "Zoë\u2028"}),
    "an object extra": lambda: _record("x", extra={"thing": Odd(), "items": [1, None, "a"]}),
    "an exception": lambda: _record("failed", exc_info=_failure(), level=logging.ERROR),
    "exception keys as extras": lambda: _record(
        "failed", exc_info=_failure(), extra={"exception_name": "Custom"}, level=logging.ERROR
    ),
    "exc_info without an exception": lambda: _record("x", exc_info=(None, None, None)),
    "a service extra": lambda: _record("x", extra={"service": "other"}),
}


@pytest.mark.parametrize(
    "trace", [None, "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"]
)
@pytest.mark.parametrize("kind", sorted(RECORDS))
def test_a_line_is_the_line_powertools_writes(
    kind: str, trace: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if trace is None:
        monkeypatch.delenv("_X_AMZN_TRACE_ID", raising=False)
    else:
        monkeypatch.setenv("_X_AMZN_TRACE_ID", trace)
    record = RECORDS[kind]()
    assert JsonFormatter("storefront").format(record) == _reference().format(record)


_text = st.sampled_from(
    ["GET", "password='x'", "Bearer abc", "é", "", "[1]", '{"k": 1}', "request"]
) | st.text(max_size=10)
_value = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | _text
    | st.lists(_text, max_size=3)
)
_keys = st.sampled_from(["method", "route", "status", "user_id", "x", "label", "request_id", "error_code"])


@settings(max_examples=200, deadline=None)
@given(
    level=st.sampled_from([logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR]),
    message=_text,
    extra=st.dictionaries(_keys, _value, max_size=5),
)
def test_any_record_is_written_as_powertools_writes_it(
    level: int, message: str, extra: dict[str, Any]
) -> None:
    record = _record(message, extra=extra, level=level)
    assert JsonFormatter("storefront").format(record) == _reference().format(record)


@given(st.integers(min_value=-(10**9) * 86_400 * 365 * 60, max_value=10**9 * 86_400 * 365 * 7000))
@example(0)
@example(1_796_411_725_999_999_999)  # the last nanosecond of a second
def test_a_line_timestamp_is_the_clocks_time_in_milliseconds(now_ns: int) -> None:
    second, rest = divmod(now_ns, 10**9)
    moment = datetime.fromtimestamp(second, UTC).replace(microsecond=rest // 1000)
    expected = moment.isoformat(timespec="milliseconds")
    assert line_timestamp(now_ns) == expected
    assert line_timestamp(now_ns) == expected  # the second kept


def test_a_line_timestamp_without_an_instant_is_now() -> None:
    before = datetime.now(UTC) - timedelta(milliseconds=1)  # the stamp is floored to the ms
    stamp = datetime.fromisoformat(line_timestamp())
    assert before <= stamp <= datetime.now(UTC)
