"""The observability building blocks: redaction, the sink, spans, metric names, the
null observer, and request-scoped log keys."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from chalicelib import observability
from chalicelib.observability import REDACTED, NullSpan, Observer, Sink, XraySpan, redact, tracing
from chalicelib.observability.logs import _redact_always

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1LTEifQ.c2lnbmF0dXJlLWJ5dGVz"
ARGON = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("input_value={'email': 'a@b.c', 'password': 'hunter2hunter2'}", "hunter2hunter2"),
        ('{"password": "s3cret-s3cret"}', "s3cret-s3cret"),
        ("new_password='pa55word!'", "pa55word!"),
        ("headers={'Authorization': 'Bearer abc.def'}", "abc.def"),
        (f"token {JWT} expired", JWT),
        (f"stored {ARGON}", ARGON),
        ('access_token="opaque-value"', "opaque-value"),
    ],
)
def test_redact_masks_secrets(text: str, secret: str) -> None:
    masked = redact(text)
    assert secret not in masked
    assert REDACTED in masked


def test_redact_leaves_ordinary_text_alone() -> None:
    text = "GET /products/01HX price=19.99 owner=u-1 email=ada@example.com"
    assert redact(text) == text


def test_sink_writes_one_line_per_call_to_the_current_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    Sink().write('{"a": 1}')
    assert capsys.readouterr().out == '{"a": 1}\n'


def test_metric_names_are_camel_case() -> None:
    assert observability.metric_name("user_registered") == "UserRegistered"
    assert observability.metric_name("login_failed") == "LoginFailed"


def test_cold_start_is_true_only_once() -> None:
    observability.take_cold_start()
    assert observability.take_cold_start() is False


def test_unknown_log_level_falls_back_to_info() -> None:
    assert Observer(service="s", log_level="LOUD").log_level == "INFO"
    assert Observer(service="s", log_level="DEBUG").log_level == "DEBUG"


def test_tracing_is_off_when_the_sdk_is_disabled() -> None:
    # conftest sets AWS_XRAY_SDK_ENABLED=false, as `make run` and CI do
    assert observability.xray_recorder() is None
    with Observer(service="s").span("## request") as span:
        assert isinstance(span, observability.NullSpan)


class RecordingSubsegment:
    """Stands in for an X-Ray subsegment: records what the span did to it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def put_annotation(self, key: str, value: Any) -> None:
        self.calls.append(("annotation", (key, value)))

    def put_http_meta(self, key: str, value: Any) -> None:
        self.calls.append(("http", (key, value)))

    def apply_status_code(self, status: int) -> None:
        self.calls.append(("status", status))

    def add_exception(self, exception: BaseException, stack: Any) -> None:
        self.calls.append(("exception", type(exception).__name__))


def test_xray_span_skips_empty_annotations_and_records_faults() -> None:
    subsegment = RecordingSubsegment()
    span = XraySpan(subsegment)
    span.annotate("user_id", None)
    span.annotate("route", "GET /health")
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        span.finish(500, exc)
    assert subsegment.calls == [
        ("annotation", ("route", "GET /health")),
        ("http", ("status", 500)),
        ("status", 500),
        ("exception", "RuntimeError"),
    ]


def test_null_observer_writes_nothing() -> None:
    stream = io.StringIO()
    observer = observability.NullObserver()
    observer.sink = Sink(stream)
    observer.log(logging.INFO, "request", status=200)
    observer.count_cold_start("on-demand")
    observer.report_request(logging.INFO, {"status": 200}, "GET /health", 200, 1.0, "on-demand", ["x"])
    assert stream.getvalue() == ""


def test_module_loggers_get_json_lines_with_the_bound_request_id() -> None:
    stream = io.StringIO()
    observability.install(Observer(service="svc", sink=Sink(stream)))
    try:
        observability.get_observer().logger()
        observability.bind_log_keys(request_id="req-9")
        logging.getLogger("chalicelib.services.example").warning("stock low for %s", "p-1")
    finally:
        observability.clear_log_keys()
        observability.install(None)
    (line,) = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["message"] == "stock low for p-1"
    assert line["request_id"] == "req-9"
    assert line["service"] == "svc"
    assert line["level"] == "WARNING"


def test_business_events_of_a_request_are_counted_per_name() -> None:
    stream = io.StringIO()
    observer = Observer(service="svc", metrics_enabled=True, sink=Sink(stream))
    events = ["product_created", "product_created", "user_registered"]
    observer.report_request(logging.INFO, {"status": 201}, "POST /products", 201, 1.0, None, events)
    _, _, doc = [json.loads(text) for text in stream.getvalue().splitlines()]  # line, request, events
    assert doc["ProductCreated"] == [2.0]
    assert doc["UserRegistered"] == [1.0]


_pieces = st.sampled_from(
    ["password", "PassWD", "secret", "Authorization", "token", "hash", "Bearer ", "eyJ", "$argon2id$",
     "$2b$", "=", ":", "'", '"', " ", "abc", "\u017f", "\u212a", "\u00e9", "-", ".", "x1"]
)  # fmt: skip


@given(st.lists(_pieces | st.text(max_size=4), max_size=12).map("".join))
@example("pa\u017f\u017fword='hunter2'")  # folds to password under re.IGNORECASE, not under lower()
@example("to\u212aen='abc'")
@example("pw_HASH='abc'")  # one example per trigger word: each alone lets a pattern match
@example("api_Secret: 'abc'")
@example("x_AUTHORIZATION='abc'")
@example("refresh_Token='abc'")
@example("PassWD='abc'")
@example("BEARER abc")
@example("eYJabcd.efgh.ij")
@example("$2b$abc")
def test_redact_skips_the_patterns_only_where_they_cannot_match(text: str) -> None:
    assert redact(text) == _redact_always(text)


@given(
    st.sampled_from(["", " ", "\n", "{", "[", '"', "-", "7", "true", "NaN", "x", "é"]) | st.text(max_size=3)
)
@example('{"event": "json message"}')
@example("  [1, 2]")
def test_a_message_is_decoded_exactly_when_powertools_would_decode_it(prefix: str) -> None:
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

    from chalicelib.observability.logs import _message

    reference = LambdaPowertoolsFormatter()
    for message in (prefix, prefix + "1", prefix + " request"):
        record = logging.LogRecord("storefront", logging.INFO, __file__, 1, message, None, None)
        assert repr(_message(record)) == repr(reference._extract_log_message(record))


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Root=1-5e1b4151-5ac6c58f3a0d4f4a2c2b9a1e;Parent=53995c3f42cd8ad8;Sampled=1", True),
        ("Root=1-5e1b4151-5ac6c58f3a0d4f4a2c2b9a1e;Sampled=1;Lineage=a:1", True),
        ("Sampled=1", True),
        ("Root=1-5e1b4151-5ac6c58f3a0d4f4a2c2b9a1e;Parent=53995c3f42cd8ad8;Sampled=0", False),
        ("Root=1-5e1b4151-5ac6c58f3a0d4f4a2c2b9a1e;Sampled=?", False),
        ("Root=1-5e1b4151-5ac6c58f3a0d4f4a2c2b9a1e;Sampled=10", False),
        ("Root=1-5e1b4151-5ac6c58f3a0d4f4a2c2b9a1e", False),
        (None, False),
    ],
)
def test_sampled_reads_the_decision_of_lambdas_trace_header(
    header: str | None, expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if header is None:
        monkeypatch.delenv("_X_AMZN_TRACE_ID", raising=False)
    else:
        monkeypatch.setenv("_X_AMZN_TRACE_ID", header)
    assert tracing.sampled() is expected


def test_a_patched_call_steps_aside_when_the_invocation_is_not_sampled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    traced: list[str] = []

    def tracer(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        traced.append(args[0])
        return wrapped(*args, **kwargs)

    call = tracing.only_when_sampled(tracer)
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5e1b4151-5ac6c58f3a0d4f4a2c2b9a1e;Sampled=0")
    assert call(lambda op: f"did {op}", None, ("GetItem",), {}) == "did GetItem"
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5e1b4151-5ac6c58f3a0d4f4a2c2b9a1e;Sampled=1")
    assert call(lambda op: f"did {op}", None, ("Query",), {}) == "did Query"
    assert traced == ["Query"]


class FakeRecorder:
    """Stands in for the X-Ray recorder: hands out subsegments, counts the ends."""

    def __init__(self, fail: bool = False) -> None:
        self.fail, self.ended = fail, 0
        self.begun: list[str] = []

    def begin_subsegment(self, name: str) -> RecordingSubsegment:
        if self.fail:
            raise RuntimeError("no segment")
        self.begun.append(name)
        return RecordingSubsegment()

    def end_subsegment(self) -> None:
        self.ended += 1


def _traced(monkeypatch: pytest.MonkeyPatch, recorder: FakeRecorder, sampled: bool) -> None:
    monkeypatch.setattr(tracing, "xray_recorder", lambda: recorder)
    monkeypatch.setattr(tracing, "sampled", lambda: sampled)


def test_a_sampled_span_is_a_subsegment_ended_however_its_block_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = FakeRecorder()
    _traced(monkeypatch, recorder, sampled=True)
    with tracing.span("## request") as span:
        span.annotate("route", "GET /health")
        assert isinstance(span, XraySpan)
    with pytest.raises(ValueError, match="boom"), tracing.span("## request"):
        raise ValueError("boom")
    assert (recorder.begun, recorder.ended) == (["## request", "## request"], 2)


def test_an_unsampled_or_failing_span_is_a_null_span(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    unsampled = FakeRecorder()
    _traced(monkeypatch, unsampled, sampled=False)
    with tracing.span("## request") as span:
        assert isinstance(span, NullSpan)
    assert (unsampled.begun, unsampled.ended) == ([], 0)
    _traced(monkeypatch, FakeRecorder(fail=True), sampled=True)
    with caplog.at_level(logging.WARNING), tracing.span("## request") as span:
        assert isinstance(span, NullSpan)
    assert "cannot open subsegment ## request" in caplog.text
    with pytest.raises(KeyError), tracing.span("## request"):
        raise KeyError("the block's own error goes on")
