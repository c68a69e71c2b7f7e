"""Metrics: each request emits a CloudWatch EMF document (requests, latency and 5xx by
route and status class), business events become counters, and nothing is emitted when
metrics are off (the local default)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from chalicelib import observability
from chalicelib.api import deps

JSON = {"Content-Type": "application/json"}


def _install(metrics_enabled: bool) -> io.StringIO:
    stream = io.StringIO()
    observer = observability.Observer(
        service="storefront-test",
        namespace="StorefrontTest",
        metrics_enabled=metrics_enabled,
        sink=observability.Sink(stream),
    )
    observability.install(observer)
    return stream


@pytest.fixture
def emf_stream() -> Iterator[io.StringIO]:
    yield _install(metrics_enabled=True)
    observability.install(None)


def emf_documents(stream: io.StringIO) -> list[dict[str, Any]]:
    docs = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    return [doc for doc in docs if "_aws" in doc]


def test_a_request_emits_one_emf_document_by_route_and_status_class(
    client: Client, emf_stream: io.StringIO
) -> None:
    assert client.http.get("/health").status_code == 200
    # (the process's first request also counts its cold start, in a document of its own)
    (doc,) = [doc for doc in emf_documents(emf_stream) if "ColdStart" not in doc]
    (directive,) = doc["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "StorefrontTest"
    assert directive["Dimensions"] == [["route", "status_class", "service"]]
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == {
        "Requests": "Count",
        "Latency": "Milliseconds",
        "ServerErrors": "Count",
    }
    assert (doc["route"], doc["status_class"], doc["service"]) == ("GET /health", "2xx", "storefront-test")
    assert doc["Requests"] == [1.0]
    assert doc["ServerErrors"] == [0.0]
    assert doc["Latency"][0] >= 0
    assert isinstance(doc["_aws"]["Timestamp"], int)


def test_a_5xx_counts_as_a_server_error(
    client: Client, emf_stream: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the app points at a table that does not exist (readiness answers 503)
    monkeypatch.setenv("TABLE_NAME", "no-such-table")
    deps.reset()
    assert client.http.get("/ready").status_code == 503
    (doc,) = emf_documents(emf_stream)
    assert (doc["route"], doc["status_class"]) == ("GET /ready", "5xx")
    assert doc["ServerErrors"] == [1.0]


def test_business_events_become_counters_in_their_own_document(
    client: Client, emf_stream: io.StringIO
) -> None:
    user = {"email": "grace@example.com", "password": "a-long-enough-password", "name": "Grace"}
    assert client.http.post("/users", body=json.dumps(user), headers=JSON).status_code == 201
    bad = {"email": "grace@example.com", "password": "not-the-password"}
    assert client.http.post("/auth/token", body=json.dumps(bad), headers=JSON).status_code == 401
    business = [doc for doc in emf_documents(emf_stream) if "route" not in doc]
    assert [doc.get("UserRegistered") for doc in business] == [[1.0], None]
    assert [doc.get("LoginFailed") for doc in business] == [None, [1.0]]
    assert all(doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]] for doc in business)


def test_no_emf_document_when_metrics_are_off(client: Client) -> None:
    stream = _install(metrics_enabled=False)
    try:
        client.http.get("/health")
    finally:
        observability.install(None)
    assert emf_documents(stream) == []
    assert len(stream.getvalue().splitlines()) == 1  # the access line only
