"""Correlation: the same request id in the X-Request-Id header, the error body and the
access line — through the test client and through the Lambda handler."""

from __future__ import annotations

import io
import json

from chalice.test import Client

from app import app
from bench.lambda_sim import FakeLambdaContext, proxy_event
from chalicelib import observability
from chalicelib.store.table import Table
from tests.helpers import json_body


def _access_ids(stream: io.StringIO) -> list[str]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [line["request_id"] for line in lines if line["message"] == observability.ACCESS_MESSAGE]


def test_a_safe_client_id_is_echoed_in_header_body_and_log(client: Client, log_stream: io.StringIO) -> None:
    response = client.http.get("/products/unknown", headers={"X-Request-Id": "client.req-42"})
    assert response.status_code == 404
    assert response.headers["X-Request-Id"] == "client.req-42"
    assert json_body(response)["request_id"] == "client.req-42"
    assert _access_ids(log_stream) == ["client.req-42"]


def test_an_unsafe_client_id_is_replaced_everywhere(client: Client, log_stream: io.StringIO) -> None:
    response = client.http.get("/products/unknown", headers={"X-Request-Id": "evil id\r\nX-Injected: 1"})
    chosen = response.headers["X-Request-Id"]
    assert "evil" not in chosen
    assert json_body(response)["request_id"] == chosen
    assert _access_ids(log_stream) == [chosen]


def test_through_the_lambda_handler_the_gateway_id_wins(table: Table, log_stream: io.StringIO) -> None:
    # Given API Gateway's request id and a client-sent one
    event = proxy_event(
        {
            "method": "GET",
            "path": "/users/me",
            "request_id": "gw-abc-123",
            "headers": {"X-Request-Id": "mine"},
        }
    )
    # When the handler runs (no authorizer context: the route refuses)
    response = app(event, FakeLambdaContext())
    # Then the gateway's id is the one in the header, the body and the log
    assert response["headers"]["X-Request-Id"] == "gw-abc-123"
    assert json.loads(response["body"])["request_id"] == "gw-abc-123"
    assert _access_ids(log_stream) == ["gw-abc-123"]
