"""During an outage the log stays readable: one WARNING line per 503, naming its cause and
request id, and no stack trace; a 500 (a bug) still logs its trace (test_logging.py)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from chalice.test import Client

from app import app
from chalicelib.api import deps
from chalicelib.store.table import Table
from manage import create_table
from tools import processes


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


@pytest.fixture
def dead_engine(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The app pointed at a table on an engine that has just been stopped."""
    port = processes.free_port()
    proc = processes.start_engine(port)
    monkeypatch.setenv("DYNAMODB_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("TABLE_NAME", "outage")
    deps.reset()
    try:
        create_table(deps.get_table())
        processes.stop(proc)
        yield
    finally:
        processes.stop(proc)
        deps.reset()


def test_each_503_is_one_warning_line_with_its_cause_and_no_traceback(
    dead_engine: None, log_stream: io.StringIO
) -> None:
    with Client(app, stage_name="test") as client:
        responses = [client.http.get("/products"), client.http.get("/products/01ABC")]
    assert [r.status_code for r in responses] == [503, 503]
    logged = lines(log_stream)
    assert len(logged) == len(responses)  # one line per request, nothing else
    for line, response in zip(logged, responses, strict=True):
        assert line["level"] == "WARNING"
        assert line["status"] == 503
        assert line["error_code"] == "service_unavailable"
        assert line["error_cause"] == "EndpointConnectionError"
        assert line["request_id"] == response.headers["X-Request-Id"]
        assert "exception" not in line
        assert "stack_trace" not in line
    assert "Traceback" not in log_stream.getvalue()


def test_a_throttled_call_names_the_dynamodb_error_code(
    client: Client, table: Table, log_stream: io.StringIO
) -> None:
    # Given DynamoDB answers every GetItem with a throttling error (after botocore's retries)
    def throttled(**_: Any) -> Any:  # a (response, parsed) pair short-circuits the call
        error = {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}
        return AWSResponse("http://engine", 400, HTTPHeaders(), None), {
            "Error": error,
            "ResponseMetadata": {},
        }

    table.client.meta.events.register("before-call.dynamodb.GetItem", throttled)
    try:
        response = client.http.get("/products/01ABC")
    finally:
        table.client.meta.events.unregister("before-call.dynamodb.GetItem", throttled)
    assert response.status_code == 503
    (line,) = lines(log_stream)
    assert line["level"] == "WARNING"
    assert line["error_cause"] == "ProvisionedThroughputExceededException"
    assert "exception" not in line
