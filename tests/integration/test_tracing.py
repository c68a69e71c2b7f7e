"""X-Ray traces, proven on the wire: requests go through the Lambda handler in a fresh
process with the SDK enabled in a simulated Lambda environment (LAMBDA_TASK_ROOT, a new
_X_AMZN_TRACE_ID per invocation), and a UDP socket on 127.0.0.1 stands in for the
daemon. The SDK reads these variables once, at import: hence the subprocess."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from bench.lambda_sim import RESULT_PREFIX
from chalicelib.config import get_settings
from chalicelib.security import keys
from chalicelib.store.cursor import CursorCodec
from chalicelib.store.table import Table, create_client
from manage import create_table
from tests.helpers import token_for

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@contextmanager
def _daemon() -> Iterator[socket.socket]:
    """A UDP socket where the X-Ray daemon would listen."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.5)
    yield sock
    sock.close()


def _run_in_lambda(steps: list[dict[str, Any]], daemon: socket.socket, table: str) -> list[dict[str, Any]]:
    port = daemon.getsockname()[1]
    env = {
        **os.environ,
        "TABLE_NAME": table,
        "AWS_XRAY_SDK_ENABLED": "true",
        "LAMBDA_TASK_ROOT": ROOT,
        "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{port}",
    }
    args = [sys.executable, "-m", "bench.lambda_sim", json.dumps(steps)]
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return [
        json.loads(line[len(RESULT_PREFIX) :])
        for line in done.stdout.splitlines()
        if line.startswith(RESULT_PREFIX)
    ]


def _received(daemon: socket.socket) -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = []
    while True:
        try:
            datagram, _ = daemon.recvfrom(65536)
        except TimeoutError:
            return documents
        header, _, body = datagram.decode().partition("\n")
        assert json.loads(header) == {"format": "json", "version": 1}
        documents.append(json.loads(body))


def _flatten(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every subsegment, whether streamed alone or nested in its parent."""
    found = []
    for doc in documents:
        found.append(doc)
        found.extend(_flatten(doc.get("subsegments", [])))
    return found


@pytest.fixture(scope="module")
def trace_table(engine_endpoint: str) -> Iterator[Table]:
    """A table of this module's own: the traced run happens once for all its tests."""
    settings = get_settings()
    table = Table(create_client(settings), f"trace-{uuid.uuid4().hex[:8]}", CursorCodec(keys.cursor_keys))
    create_table(table)
    yield table
    table.client.delete_table(TableName=table.name)


# A well-formed reset token (not one the service issued): its secret must reach no trace.
ACCOUNT_TOKEN_SECRET = "S3cretPart0fAResetT0ken-never-in-any-trace1"


def _confirm_step() -> dict[str, Any]:
    return {
        "op": "http",
        "method": "POST",
        "path": "/auth/password-reset/confirm",
        "headers": {"Content-Type": "application/json"},
        "body": {
            "token": f"01ARZ3NDEKTSV4RRFFQ69G5FAV.{ACCOUNT_TOKEN_SECRET}",
            "new_password": "a-long-password",
        },
    }


@pytest.fixture(scope="module")
def traces(trace_table: Table) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """Run a fixed set of invocations once; (results, subsegments by trace id)."""
    steps: list[dict[str, Any]] = [
        {"op": "http", "path": "/health", "principal": "user-42", "request_id": "req-health-1"},
        {"op": "http", "path": "/ready", "request_id": "req-ready-1"},
        {"op": "authorizer", "token": f"Bearer {token_for('user-7', table=trace_table)}"},
        {"op": "authorizer", "token": "Bearer not-a-token"},
        {
            "op": "http",
            "method": "POST",
            "path": "/users",
            "headers": {"Content-Type": "application/json"},
            "body": {"email": "traced@example.com", "password": "a-long-password", "name": "Traced"},
        },
        {"op": "env", "set": {"TABLE_NAME": "no-such-table"}},
        {"op": "http", "path": "/ready", "request_id": "req-ready-2"},
        # Account tokens: once failing on the table (a 503 traces its exception)...
        _confirm_step(),
        {"op": "env", "set": {"TABLE_NAME": trace_table.name}},
        _confirm_step(),  # ...and once refused (401)
        {"op": "http", "path": "/ready", "request_id": "req-ready-unsampled", "sampled": False},
        {"op": "http", "path": "/ready", "request_id": "req-ready-3"},
    ]
    with _daemon() as daemon:
        results = _run_in_lambda(steps, daemon, trace_table.name)
        received = _received(daemon)
    by_trace: dict[str, list[dict[str, Any]]] = {}
    for segment in _flatten(received):
        by_trace.setdefault(segment["trace_id"], []).append(segment)
    return results, by_trace


def _named(segments: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [s for s in segments if s["name"] == name]


def test_each_request_is_one_annotated_subsegment_of_its_own_trace(traces: Any) -> None:
    results, by_trace = traces
    health = results[0]
    (request,) = _named(by_trace[health["trace_root"]], "## request")
    assert health["status"] == 200
    assert request["annotations"] == {
        "route": "GET /health",
        "status": 200,
        "user_id": "user-42",
        "request_id": "req-health-1",
        "cold_start": True,
    }
    assert health["headers"]["X-Request-Id"] == "req-health-1"  # the same id everywhere
    assert not [s for s in by_trace[health["trace_root"]] if s.get("namespace") == "aws"]
    assert "fault" not in request
    assert "error" not in request


def test_every_dynamodb_call_is_a_subsegment_named_by_table_and_operation(
    traces: Any, trace_table: Table
) -> None:
    results, by_trace = traces
    ready = results[1]
    segments = by_trace[ready["trace_root"]]
    (request,) = _named(segments, "## request")
    (call,) = [s for s in segments if s.get("namespace") == "aws"]  # /ready makes exactly one call
    assert ready["status"] == 200
    assert call["name"] == "dynamodb"
    assert call["aws"]["operation"] == "DescribeTable"
    assert call["aws"]["table_name"] == trace_table.name
    assert call["parent_id"] == request["id"]
    assert request["annotations"]["request_id"] == "req-ready-1"


def test_a_transaction_is_a_subsegment_that_names_its_table_too(traces: Any, trace_table: Table) -> None:
    results, by_trace = traces
    registered = results[4]
    segments = by_trace[registered["trace_root"]]
    (request,) = _named(segments, "## request")
    calls = [s for s in segments if s.get("namespace") == "aws"]
    assert registered["status"] == 201
    assert "TransactWriteItems" in [call["aws"]["operation"] for call in calls]
    assert all(call["aws"]["table_name"] == trace_table.name for call in calls)
    assert all(call["parent_id"] == request["id"] for call in calls)
    assert "a-long-password" not in json.dumps(segments)


def test_a_5xx_is_flagged_as_a_fault(traces: Any) -> None:
    results, by_trace = traces
    failed = results[6]
    segments = by_trace[failed["trace_root"]]
    (request,) = _named(segments, "## request")
    assert failed["status"] == 503
    assert request["fault"] is True
    assert request["annotations"]["status"] == 503
    assert request["http"]["response"]["status"] == 503
    (call,) = [s for s in segments if s.get("namespace") == "aws"]
    assert call["aws"]["table_name"] == "no-such-table"


def test_the_authorizer_is_traced_without_the_token(traces: Any) -> None:
    results, by_trace = traces
    allowed, denied = results[2], results[3]
    (allow,) = _named(by_trace[allowed["trace_root"]], "## authorizer")
    (deny,) = _named(by_trace[denied["trace_root"]], "## authorizer")
    assert (allowed["effect"], denied["effect"]) == ("Allow", "Deny")
    assert allow["annotations"]["outcome"] == "allow"
    assert allow["annotations"]["user_id"] == "user-7"
    assert deny["annotations"]["outcome"] == "deny"
    assert "user_id" not in deny["annotations"]
    everything = json.dumps(by_trace)
    assert "not-a-token" not in everything
    assert "eyJ" not in everything


def test_an_account_token_reaches_no_trace(traces: Any) -> None:
    results, by_trace = traces
    assert len(ACCOUNT_TOKEN_SECRET) == 43
    assert [r.get("status") for r in results[-5:-2]] == [503, None, 401]
    assert ACCOUNT_TOKEN_SECRET not in json.dumps(by_trace)


def test_a_request_that_is_not_sampled_sends_nothing_and_the_next_sampled_one_is_traced(
    traces: Any, trace_table: Table
) -> None:
    results, by_trace = traces
    unsampled, sampled = results[-2], results[-1]
    assert (unsampled["status"], sampled["status"]) == (200, 200)
    assert unsampled["trace_root"] not in by_trace  # no subsegment, not even its DynamoDB call
    (call,) = [s for s in by_trace[sampled["trace_root"]] if s.get("namespace") == "aws"]
    assert call["aws"]["table_name"] == trace_table.name
