"""The direct access line (observability.logs.direct_line) is the line the logging path writes.

Observer.log builds its lines without a LogRecord; these tests write the same message and
fields both ways, through the same configured handler, and compare the raw text (key order
included) with only the millisecond timestamp normalised.
"""

from __future__ import annotations

import io
import json
import logging
import math
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib import observability
from chalicelib.api.context import RequestState
from chalicelib.api.middleware import access_fields
from chalicelib.observability import ACCESS_MESSAGE, Observer, Sink
from chalicelib.observability.logs import ACCESS_FIELDS, access_line, direct_line
from chalicelib.observability.metrics import emf_line

_TIMESTAMP = re.compile(r'"timestamp":"[0-9T:.+-]+"')


def _both_ways(level: int, message: str, fields: dict[str, Any], bound: dict[str, Any]) -> tuple[str, str]:
    """(the logging path's line, Observer.log's line) for the same call."""
    stream = io.StringIO()
    observer = Observer(service="storefront", sink=Sink(stream))
    logger = observer.logger()
    observability.bind_log_keys(**bound)
    try:
        logger.log(level, message, extra=fields, stacklevel=1)
        observer.log(level, message, **fields)
    finally:
        observability.clear_log_keys()
    # "\n" only: a line may hold U+2028 or U+0085 unescaped, which splitlines() would split on.
    by_logging, direct = stream.getvalue().rstrip("\n").split("\n")
    return _TIMESTAMP.sub('"timestamp":"T"', by_logging), _TIMESTAMP.sub('"timestamp":"T"', direct)


def _same_location(by_logging: str, direct: str) -> tuple[str, str]:
    # Both name the caller; the two calls sit on consecutive lines of _both_ways.
    a, b = json.loads(by_logging)["location"], json.loads(direct)["location"]
    assert a.split(":")[0] == b.split(":")[0] == "_both_ways"
    assert int(b.split(":")[1]) == int(a.split(":")[1]) + 1
    return by_logging.replace(f'"location":"{a}"', '"location":"L"'), direct.replace(
        f'"location":"{b}"', '"location":"L"'
    )


def test_an_access_line_is_the_line_powertools_formatter_writes() -> None:
    fields = {
        "method": "GET", "route": "/products/{product_id}", "status": 200, "duration_ms": 1.25,
        "user_id": None, "cold_start": False, "init_type": None, "error_code": None,
        "error_cause": None, "events": None,
    }  # fmt: skip
    lines = _both_ways(logging.INFO, ACCESS_MESSAGE, fields, {"request_id": "r-1"})
    by_logging, direct = _same_location(*lines)
    assert direct == by_logging
    first = ["level", "timestamp", "message", "service", "request_id", "location"]
    assert list(json.loads(direct))[:6] == first
    assert json.loads(direct)["user_id"] is None  # an access line keeps its empty fields


_secrets = ["GET", "password='x'", "Bearer abc", "eyJa.eyJb.c", "$argon2id$v=19$x", "é", ""]
_text = st.sampled_from(_secrets) | st.text(max_size=12)
_scalar = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
_value = _scalar | _text | st.lists(_text, max_size=3)
_keys = st.sampled_from(["method", "route", "status", "user_id", "events", "x", "name"])


@settings(max_examples=150, deadline=None)
@given(
    level=st.sampled_from([logging.INFO, logging.WARNING, logging.ERROR]),
    message=st.sampled_from([ACCESS_MESSAGE, "authorizer", "token=abc", '{"json": 1}', "[1]"]),
    fields=st.dictionaries(_keys, _value),
    request_id=st.none() | _text,
)
def test_any_line_is_written_as_the_logging_path_writes_it(
    level: int, message: str, fields: dict[str, Any], request_id: str | None
) -> None:
    bound = {} if request_id is None else {"request_id": request_id}
    if "name" in fields:  # a record attribute: logging refuses it, and so does Observer.log
        return
    by_logging, direct = _same_location(*_both_ways(level, message, fields, bound))
    assert direct == by_logging


def test_a_field_named_like_a_record_attribute_takes_the_logging_path() -> None:
    observer = Observer(service="storefront", sink=Sink(io.StringIO()))
    observer.logger()
    assert observer._handler is not None
    assert direct_line(observer._handler, logging.INFO, "request", {"module": "m"}, "f:1") is None
    assert direct_line(observer._handler, logging.INFO, '{"a": 1}', {}, "f:1") is None


def test_lines_below_the_level_are_not_written() -> None:
    stream = io.StringIO()
    observer = Observer(service="storefront", log_level="WARNING", sink=Sink(stream))
    observer.log(logging.INFO, ACCESS_MESSAGE, status=200)
    observer.log(logging.WARNING, ACCESS_MESSAGE, status=503)
    (line,) = stream.getvalue().splitlines()
    assert json.loads(line)["status"] == 503


def test_a_replaced_handler_gets_the_line_through_logging() -> None:
    stream, captured = io.StringIO(), io.StringIO()
    observer = Observer(service="storefront", sink=Sink(stream))
    logger = observer.logger()
    saved = logger.handlers
    logger.handlers = [logging.StreamHandler(captured)]
    try:
        observer.log(logging.INFO, ACCESS_MESSAGE, status=200)
    finally:
        logger.handlers = saved
    assert stream.getvalue() == ""
    assert captured.getvalue() == "request\n"


def test_a_disabled_logger_writes_nothing_either_way() -> None:
    stream = io.StringIO()
    observer = Observer(service="storefront", sink=Sink(stream))
    logger = observer.logger()
    logger.disabled = True
    try:
        observer.log(logging.INFO, ACCESS_MESSAGE, status=200)
    finally:
        logger.disabled = False
    assert stream.getvalue() == ""


class _CountingStream(io.StringIO):
    """A stream that counts its writes (each is a system call on stdout)."""

    writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


_ACCESS = {"method": "GET", "route": "/health", "status": 200, "duration_ms": 1.5, "user_id": None}


def _but_time_and_place(line: str) -> list[tuple[str, Any]]:
    fields = json.loads(line)
    del fields["timestamp"], fields["location"]
    return list(fields.items())  # in order


def _separately(observer: Observer) -> None:
    observer.log(logging.INFO, ACCESS_MESSAGE, **_ACCESS)
    request = [("Requests", "Count", 1), ("Latency", "Milliseconds", 1.5), ("ServerErrors", "Count", 0)]
    for dimensions, values in (
        ({"route": "GET /health", "status_class": "2xx"}, request),
        ({"init_type": "on-demand"}, [("ColdStart", "Count", 1)]),
        ({}, [("OrderPlaced", "Count", 2)]),
    ):
        observer.sink.write(emf_line("Shop", {**dimensions, "service": "storefront"}, values))


def _at_once(observer: Observer) -> None:
    observer.report_request(logging.INFO, _ACCESS, "GET /health", 200, 1.5, "on-demand", ["order_placed"] * 2)


def test_a_request_report_writes_the_line_and_its_metrics_in_one_write() -> None:
    texts = []
    for write in (_separately, _at_once):
        stream = _CountingStream()
        observer = Observer(service="storefront", metrics_enabled=True, namespace="Shop", sink=Sink(stream))
        write(observer)
        texts.append((stream.writes, stream.getvalue().splitlines()))
    (separate_writes, separate), (writes, together) = texts
    assert (separate_writes, writes) == (4, 1)
    assert len(together) == 4
    assert json.loads(together[0])["location"].startswith("_at_once:")  # the caller, as log() names it
    assert _but_time_and_place(together[0]) == _but_time_and_place(separate[0])
    strip = re.compile(r'"Timestamp":\d+')
    assert [strip.sub("", line) for line in together[1:]] == [strip.sub("", line) for line in separate[1:]]


def test_a_request_report_without_metrics_writes_the_line_only() -> None:
    stream = _CountingStream()
    Observer(service="storefront", sink=Sink(stream)).report_request(
        logging.INFO, _ACCESS, "GET /health", 200, 1.5, "on-demand", ["order_placed"]
    )
    (line,) = stream.getvalue().splitlines()
    assert (stream.writes, json.loads(line)["status"]) == (1, 200)


def test_a_request_report_through_a_replaced_handler_still_writes_its_metrics() -> None:
    stream, captured = _CountingStream(), io.StringIO()
    observer = Observer(service="storefront", metrics_enabled=True, sink=Sink(stream))
    logger = observer.logger()
    saved = logger.handlers
    logger.handlers = [logging.StreamHandler(captured)]
    try:
        observer.report_request(logging.INFO, _ACCESS, "GET /health", 200, 1.5, None, [])
    finally:
        logger.handlers = saved
    assert captured.getvalue() == "request\n"
    (document,) = stream.getvalue().splitlines()
    assert json.loads(document)["Requests"] == [1.0]


# An access line as the middleware makes it: printable ASCII text (what access_line writes),
# now and then a secret or other text (which it leaves to the general builder), any floats.
_ascii = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12)
_route = _ascii | st.sampled_from(_secrets)
_maybe_ascii = st.none() | _ascii
_access_fields = st.fixed_dictionaries(
    {
        "method": _ascii,
        "route": _route,
        "status": st.integers(100, 599),
        "duration_ms": st.floats() | st.sampled_from([math.nan, math.inf, -math.inf]),
        "user_id": _maybe_ascii,
        "cold_start": st.booleans(),
        "init_type": _maybe_ascii,
        "error_code": _maybe_ascii,
        "error_cause": _maybe_ascii,
        "events": st.none() | st.lists(_ascii, max_size=3),
    }
).map(lambda fields: {name: fields[name] for name in ACCESS_FIELDS})  # in the middleware's order


@settings(max_examples=300, deadline=None)
@given(
    level=st.sampled_from([logging.INFO, logging.WARNING, logging.ERROR]),
    fields=_access_fields,
    bound=st.fixed_dictionaries({}, optional={"request_id": _maybe_ascii}),
)
def test_an_access_line_is_the_line_the_logging_path_writes(
    level: int, fields: dict[str, Any], bound: dict[str, Any]
) -> None:
    # access_line writes the common access line with one f-string (a line holding a
    # secret-looking word it leaves to the general builder, which redacts).
    by_logging, direct = _same_location(*_both_ways(level, ACCESS_MESSAGE, fields, bound))
    assert direct == by_logging


class StrEnumLike(str):
    """A str subclass (an enum's value): the general builder writes it."""


_REQUEST = {
    "method": "POST", "route": "/products", "status": 201, "duration_ms": 3.5, "user_id": "01USER",
    "cold_start": True, "init_type": "on-demand", "error_code": None, "error_cause": None,
    "events": ["product_created"],
}  # fmt: skip
# A value of another type than the middleware gives, for each field.
_OTHER_TYPES = {
    "method": 1, "route": None, "status": True, "duration_ms": 2, "user_id": 3, "cold_start": None,
    "init_type": 4, "error_code": 5, "error_cause": ["x"], "events": [1],
}  # fmt: skip


@pytest.mark.parametrize(
    ("level", "fields", "bound"),
    [
        *[
            (logging.INFO, {**_REQUEST, name: value}, {"request_id": "r-1"})
            for name, value in _OTHER_TYPES.items()
        ],
        (logging.INFO, {**_REQUEST, "events": ("product_created",)}, {"request_id": "r-1"}),
        (logging.INFO, {**_REQUEST, "method": StrEnumLike("GET")}, {"request_id": "r-1"}),
        (logging.INFO, _REQUEST, {"request_id": "r-1", "tenant": "t"}),
        (logging.INFO, _REQUEST, {"request_id": 7}),
        (25, _REQUEST, {"request_id": "r-1"}),
        (logging.INFO, dict(reversed(_REQUEST.items())), {"request_id": "r-1"}),
        (logging.INFO, {**_REQUEST, "extra": 1}, {"request_id": "r-1"}),
    ],
)
def test_an_access_line_of_other_types_or_keys_is_left_to_the_general_builder(
    level: int, fields: dict[str, Any], bound: dict[str, Any]
) -> None:
    observability.bind_log_keys(**bound)
    try:
        assert access_line("storefront", level, fields, "_report:1") is None
    finally:
        observability.clear_log_keys()
    by_logging, direct = _same_location(*_both_ways(level, ACCESS_MESSAGE, fields, bound))
    assert direct == by_logging


def test_the_access_line_of_a_request_is_written_by_the_one_f_string() -> None:
    observability.bind_log_keys(request_id="r-1")
    try:
        line = access_line("storefront", logging.INFO, _REQUEST, "_report:1")
        secret = access_line("storefront", logging.INFO, {**_REQUEST, "route": "/x?token=1"}, "_report:1")
    finally:
        observability.clear_log_keys()
    assert line is not None
    assert secret is None  # redaction is the general builder's
    written = json.loads(line)
    assert written["events"] == ["product_created"]
    assert written["init_type"] == "on-demand"
    assert "error_cause" not in written
    assert written["error_code"] is None
    by_logging, direct = _same_location(
        *_both_ways(logging.INFO, ACCESS_MESSAGE, _REQUEST, {"request_id": "r-1"})
    )
    assert direct == by_logging


def test_the_middlewares_access_fields_are_the_ones_access_line_writes() -> None:
    # In the order access_line expects: a reordered middleware would fall back to the
    # general builder, which writes the same line, only slower.
    state = RequestState(request_id="r-1", method="GET", route="/health", user_id="u1", cold_start=False)
    fields = access_fields(state, 200, 1.5, ["product_created"])
    assert tuple(fields) == ACCESS_FIELDS
    observability.bind_log_keys(request_id="r-1")
    try:
        assert access_line("storefront", logging.INFO, fields, "_report:1") is not None
    finally:
        observability.clear_log_keys()
