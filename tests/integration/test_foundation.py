"""The plumbing every route relies on, through chalice's test client and the real engine."""

from __future__ import annotations

import json

import pytest
from chalice.test import Client

from app import app
from chalicelib.api import deps
from chalicelib.store.table import Table
from manage import create_table
from tools import processes


def body(response: object) -> dict[str, object]:
    parsed: dict[str, object] = json.loads(response.body)  # type: ignore[attr-defined]
    return parsed


def test_health_reports_ok_and_version(client: Client) -> None:
    response = client.http.get("/health")
    assert response.status_code == 200
    assert body(response)["status"] == "ok"
    assert body(response)["version"]
    assert response.headers["Content-Type"] == "application/json"


def test_ready_checks_the_table(client: Client) -> None:
    response = client.http.get("/ready")
    assert response.status_code == 200
    assert body(response) == {"status": "ready", "checks": {"dynamodb": "ok"}}


def test_ready_is_503_with_a_reason_when_the_table_is_missing(client: Client, table: Table) -> None:
    table.client.delete_table(TableName=table.name)
    response = client.http.get("/ready")
    assert response.status_code == 503
    assert body(response)["status"] == "unavailable"
    assert body(response)["checks"] == {"dynamodb": "unreachable"}
    create_table(table)  # so that the fixture's teardown can delete it


def test_ready_is_503_when_the_engine_is_down(monkeypatch: pytest.MonkeyPatch) -> None:
    port = processes.free_port()
    proc = processes.start_engine(port)
    monkeypatch.setenv("DYNAMODB_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("TABLE_NAME", "ready-probe")
    deps.reset()
    try:
        create_table(deps.get_table())
        with Client(app, stage_name="test") as c:
            assert c.http.get("/ready").status_code == 200
            processes.stop(proc)
            response = c.http.get("/ready")
            listing = c.http.get("/products")
        assert response.status_code == 503
        assert body(response)["checks"] == {"dynamodb": "unreachable"}
        # Any route that needs the table: the envelope with Retry-After, never a 500.
        assert listing.status_code == 503
        assert body(listing)["code"] == "service_unavailable"
        assert int(listing.headers["Retry-After"]) >= 1
        assert "botocore" not in listing.body.decode()
    finally:
        processes.stop(proc)
        deps.reset()


def test_every_response_has_a_request_id_and_they_differ(client: Client) -> None:
    first = client.http.get("/health").headers["X-Request-Id"]
    second = client.http.get("/health").headers["X-Request-Id"]
    assert first
    assert second
    assert first != second


def test_safe_client_request_id_is_echoed_unsafe_one_replaced(client: Client) -> None:
    assert (
        client.http.get("/health", headers={"X-Request-Id": "abc-123.x_y"}).headers["X-Request-Id"]
        == "abc-123.x_y"
    )
    replaced = client.http.get("/health", headers={"X-Request-Id": "bad id<script>"}).headers["X-Request-Id"]
    assert replaced != "bad id<script>"
    assert len(replaced) == 32


def test_wrong_method_is_405_with_envelope_and_allow(client: Client) -> None:
    response = client.http.request("DELETE", "/health")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, OPTIONS"
    payload = body(response)
    assert payload["code"] == "method_not_allowed"
    assert payload["request_id"] == response.headers["X-Request-Id"]


def test_body_over_64_kib_is_413(client: Client) -> None:
    response = client.http.request(
        "GET", "/health", body=b"x" * (70 * 1024), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert body(response)["code"] == "payload_too_large"


def test_text_plain_body_is_415(client: Client) -> None:
    response = client.http.request("GET", "/health", body=b"hello", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert body(response)["code"] == "unsupported_media_type"


def test_json_with_charset_is_accepted(client: Client) -> None:
    response = client.http.request(
        "GET", "/health", body=b"{}", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert response.status_code == 200
