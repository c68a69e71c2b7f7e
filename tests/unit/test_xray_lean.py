"""The lean X-Ray context and emitter behave exactly as the SDK's own: both are driven
through the same steps as LambdaContext and UDPEmitter and must give the same answers
(and, for the emitter, send the same bytes to a real UDP socket)."""

from __future__ import annotations

import datetime
import logging
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aws_xray_sdk import global_sdk_config
from aws_xray_sdk.core.emitters.udp_emitter import UDPEmitter
from aws_xray_sdk.core.lambda_launcher import LambdaContext
from aws_xray_sdk.core.models.dummy_entities import DummySegment, DummySubsegment
from aws_xray_sdk.core.models.segment import Segment
from aws_xray_sdk.core.models.subsegment import Subsegment

from chalicelib.observability import tracing
from chalicelib.observability.xray_lean import (
    STREAM_THRESHOLD,
    LeanUDPEmitter,
    MemoLambdaContext,
    TreeStreaming,
)

KEY = "_X_AMZN_TRACE_ID"
ROOT_A = "1-5759e988-bd862e3fe1be46a994272793"
ROOT_B = "1-5759e988-bd862e3fe1be46a994272794"

# (header or None for no header, SDK enabled): every case the base class distinguishes.
STEPS: list[tuple[str | None, bool]] = [
    (None, True),  # no header yet: a dummy segment
    (f"Root={ROOT_A};Parent=53995c3f42cd8ad8;Sampled=1", True),  # a new root: a facade
    (f"Root={ROOT_A};Parent=53995c3f42cd8ad8;Sampled=1", True),  # the same header
    (f"Root={ROOT_A};Parent=0000000000000001;Sampled=1", True),  # same root, other parent
    (f"Root={ROOT_B};Parent=53995c3f42cd8ad8;Sampled=1", True),  # the next invocation
    (None, True),  # the header gone: the segment stays
    ("Root=1-5759e988-000000000000000000000001;Sampled=1", True),  # no Parent: dummy...
    ("Root=1-5759e988-000000000000000000000001;Sampled=1", True),  # ...each time again
    ("Root=1-5759e988-000000000000000000000002;Parent=53995c3f42cd8ad8", True),  # no Sampled
    ("Root=1-5759e988-000000000000000000000003;Parent=53995c3f42cd8ad8;Sampled=0", True),
    ("Root=1-5759e988-000000000000000000000003;Parent=53995c3f42cd8ad8;Sampled=0", True),
    ("Root=1-5759e988-000000000000000000000004;Parent=53995c3f42cd8ad8;Sampled=?", True),
    ("malformed", True),  # unparsable: treated as no header
    ("Root=1-5759e988-000000000000000000000005;Parent=53995c3f42cd8ad8;Sampled=1", False),
    ("Root=1-5759e988-000000000000000000000005;Parent=53995c3f42cd8ad8;Sampled=1", True),
    ("Root=1-5759e988-000000000000000000000006;Parent=53995c3f42cd8ad8;Sampled=1", False),
    (f"Root={ROOT_A};Parent=53995c3f42cd8ad8;Sampled=1", True),  # an old root again
    (f"Root={ROOT_A};Parent=53995c3f42cd8ad8;Sampled=1", True),
]


@pytest.fixture
def set_sdk(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[bool], None]]:
    """Turn the SDK on or off (the environment variable wins over the flag, so both)."""

    def set_enabled(enabled: bool) -> None:
        monkeypatch.setenv("AWS_XRAY_SDK_ENABLED", "true" if enabled else "false")
        global_sdk_config.set_sdk_enabled(enabled)

    yield set_enabled
    monkeypatch.undo()
    global_sdk_config.set_sdk_enabled(False)  # conftest's setting again


def _describe(entity: Any) -> tuple[Any, ...]:
    """What a caller can see of an entity (a dummy's trace id is random: not compared)."""
    dummy = isinstance(entity, DummySegment)
    return (
        type(entity).__name__,
        None if dummy else entity.trace_id,
        entity.sampled,
        getattr(entity, "initializing", None),
    )


def _step(context: LambdaContext, previous: Any) -> tuple[list[Any], Any]:
    """get_trace_entity three times, a subsegment put and ended: what each returned."""
    seen: list[Any] = []
    for _ in range(3):
        entity = context.get_trace_entity()
        segment = context._local.segment
        seen.append((_describe(entity), segment is not previous, entity is segment))
        previous = segment
    subsegment = Subsegment("work", "local", segment)
    context.put_subsegment(subsegment)
    attached = subsegment in segment.subsegments
    seen.append(("attached", attached, context.get_trace_entity() is subsegment))
    if attached:
        seen.append(("ended", context.end_subsegment(), context.get_trace_entity() is segment))
    return seen, context._local.segment


def test_the_memo_context_answers_as_the_sdk_context_on_every_step(
    monkeypatch: pytest.MonkeyPatch, set_sdk: Callable[[bool], None]
) -> None:
    sdk, lean = LambdaContext(), MemoLambdaContext()
    sdk_segment = lean_segment = None
    answers = []
    for header, enabled in STEPS:
        set_sdk(enabled)
        if header is None:
            monkeypatch.delenv(KEY, raising=False)
        else:
            monkeypatch.setenv(KEY, header)
        expected, sdk_segment = _step(sdk, sdk_segment)
        got, lean_segment = _step(lean, lean_segment)
        assert got == expected, (header, enabled)
        answers.append(expected)
    # The sequence exercises what it claims: new facades, kept ones, repeated dummies.
    made = [step[0][1] for step in answers]
    assert made[:8] == [True, True, False, False, True, False, True, True]  # no Parent: new dummies
    assert [answers[7][1][1], answers[7][2][1]] == [True, True]  # ...even within one step
    assert [step[-1][0] for step in answers].count("ended") >= 5  # subsegments attached


def test_the_memo_context_skips_the_parse_only_for_a_checked_pair(
    monkeypatch: pytest.MonkeyPatch, set_sdk: Callable[[bool], None]
) -> None:
    set_sdk(True)
    context = MemoLambdaContext()
    monkeypatch.setenv(KEY, f"Root={ROOT_A};Parent=53995c3f42cd8ad8;Sampled=1")
    segment = context.get_trace_entity()
    assert context._local.checked_segment is segment
    # Another segment put in its place (as set_trace_entity may) is checked anew.
    other = Segment("other", traceid=ROOT_B)
    context.set_trace_entity(other)
    assert context.get_trace_entity() is not other  # its trace id is not the header's root
    assert context._local.segment.trace_id == ROOT_A


def _entity() -> Subsegment:
    """A subsegment with every kind of field the emitter must serialise alike."""
    segment = Segment("parent", traceid=ROOT_A, entityid="53995c3f42cd8ad8")
    subsegment = Subsegment("dynamodb", "aws", segment)
    subsegment.put_annotation("route", "GET /products/{id}")
    subsegment.put_annotation("status", 200)
    subsegment.put_annotation("cold_start", False)
    subsegment.put_http_meta("status", 200)
    subsegment.set_aws({"operation": "GetItem", "table_name": "t", "at": datetime.date(2026, 1, 2)})
    subsegment.put_metadata("note", {"é": "ünïcode"})
    try:
        raise ValueError("boom")
    except ValueError as error:
        subsegment.add_exception(error, [("f.py", 1, "fn", "line")])
    subsegment.close()
    return subsegment


def _datagrams(emitter_class: type[UDPEmitter], entities: list[Any]) -> list[bytes]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:
        daemon.bind(("127.0.0.1", 0))
        daemon.settimeout(2)
        emitter = emitter_class(f"127.0.0.1:{daemon.getsockname()[1]}")
        for entity in entities:
            emitter.send_entity(entity)
        return [daemon.recv(65536) for _ in entities]


def test_the_lean_emitter_sends_the_sdk_emitters_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_XRAY_DAEMON_ADDRESS", raising=False)
    segment = DummySegment()
    entities = [_entity(), DummySubsegment(segment, "dummy")]  # the dummy serialises itself
    sent = _datagrams(LeanUDPEmitter, entities)
    assert sent == _datagrams(UDPEmitter, entities)
    assert sent[0].startswith(b'{"format":"json","version":1}\n{"id": "')
    assert b'"at": "2026-01-02"' in sent[0]  # default=str
    assert b"\\u00e9" in sent[0]  # ASCII only


def test_the_lean_emitter_logs_a_failed_send_and_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    emitter = LeanUDPEmitter("127.0.0.1:9")
    emitter._socket.close()  # sending now fails, as the SDK's emitter would
    emitter.send_entity(_entity())
    (record,) = [r for r in caplog.records if r.name.endswith("udp_emitter")]
    assert (record.levelname, record.getMessage()) == ("ERROR", "Failed to send entity to Daemon.")


def test_at_debug_level_the_lean_emitter_logs_what_the_sdks_logs(caplog: pytest.LogCaptureFixture) -> None:
    entity = _entity()
    messages = []
    for emitter_class in (LeanUDPEmitter, UDPEmitter):
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="aws_xray_sdk.core.emitters.udp_emitter"):
            _datagrams(emitter_class, [entity])
        messages.append([r.getMessage() for r in caplog.records if r.name.endswith("udp_emitter")])
    # The same text, each naming its own daemon's address (two sockets, two ports).
    assert [m.rsplit(" to 127.0.0.1:", 1)[0] for m in messages[0]] == [
        m.rsplit(" to 127.0.0.1:", 1)[0] for m in messages[1]
    ]
    assert messages[0][0].startswith('sending: {"format":"json","version":1}')


def test_sampled_answers_each_header_as_it_changes_not_the_last_one_asked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    headers = [
        f"Root={ROOT_A};Parent=53995c3f42cd8ad8;Sampled=1",
        f"Root={ROOT_A};Parent=53995c3f42cd8ad8;Sampled=1",  # asked again: remembered
        f"Root={ROOT_A};Parent=53995c3f42cd8ad8;Sampled=0",  # same root, other decision
        None,
        f"Root={ROOT_B};Parent=53995c3f42cd8ad8;Sampled=1",
        None,
    ]
    answers = []
    for header in headers:
        if header is None:
            monkeypatch.delenv(KEY, raising=False)
        else:
            monkeypatch.setenv(KEY, header)
        first = tracing.sampled()
        assert tracing.sampled() is first  # asked again at once: the same answer
        answers.append(first)
    assert answers == [True, True, False, False, True, False]


def _tree(children: int) -> tuple[Segment, Subsegment]:
    """A sampled segment with one open request subsegment and `children` closed calls under it."""
    segment = Segment("fn", traceid="1-5759e988-bd862e3fe1be46a994272793", sampled=True)
    request = Subsegment("## request", "local", segment)
    segment.add_subsegment(request)
    for _ in range(children):
        call = Subsegment("dynamodb", "aws", segment)
        request.add_subsegment(call)
        call.close()
    return segment, request


def test_tree_streaming_sends_a_request_with_its_calls_once_it_closes() -> None:
    segment, request = _tree(2)
    streaming = TreeStreaming()
    assert not streaming.is_eligible(segment)  # the request is still open: nothing yet
    request.close()
    assert streaming.is_eligible(segment)
    sent: list[Subsegment] = []
    streaming.stream(segment, sent.append)
    assert sent == [request]  # one document, its two calls nested
    assert [child.name for child in sent[0].subsegments] == ["dynamodb", "dynamodb"]
    assert segment.subsegments == []


def test_tree_streaming_sends_closed_calls_early_past_its_threshold() -> None:
    segment, request = _tree(STREAM_THRESHOLD)
    sent: list[Subsegment] = []
    streaming = TreeStreaming()
    assert streaming.is_eligible(segment)  # 31 subsegments: bounded datagrams
    streaming.stream(segment, sent.append)
    assert len(sent) == STREAM_THRESHOLD
    assert request.subsegments == []
    segment.sampled = False
    assert not streaming.is_eligible(segment)
