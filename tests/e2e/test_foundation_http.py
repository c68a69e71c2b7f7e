"""The foundation over real HTTP: `chalice local` in a subprocess, the embedded engine."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.e2e


def test_health_and_ready_answer_200_with_request_ids(live: str) -> None:
    health = requests.get(f"{live}/health", timeout=10)
    ready = requests.get(f"{live}/ready", timeout=10)
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"dynamodb": "ok"}
    assert health.headers["X-Request-Id"] != ready.headers["X-Request-Id"]


def test_oversized_body_is_413_with_envelope(live: str) -> None:
    response = requests.post(
        f"{live}/health",
        data=b"{" + b" " * (70 * 1024) + b"}",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 413
    payload = response.json()
    assert payload["code"] == "payload_too_large"
    assert payload["request_id"] == response.headers["X-Request-Id"]


def test_text_plain_body_is_415_with_envelope(live: str) -> None:
    response = requests.post(f"{live}/health", data=b"hi", headers={"Content-Type": "text/plain"}, timeout=10)
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert response.headers["Content-Type"] == "application/json"


def test_wrong_method_is_405_with_allow(live: str) -> None:
    response = requests.delete(f"{live}/ready", timeout=10)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, OPTIONS"
    assert response.json()["code"] == "method_not_allowed"


def test_keep_alive_connection_survives_many_requests(live: str) -> None:
    with requests.Session() as session:
        statuses = [session.get(f"{live}/health", timeout=10).status_code for _ in range(5)]
    assert statuses == [200] * 5


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{bad", "invalid_json"),
        (b'{"email": "a@example.com",}', "invalid_json"),
        (b"\xff\xfe", "validation_error"),  # a UTF-16 byte order mark: not UTF-8
        (b"[" * 100_000 + b"]" * 100_000, "payload_too_large"),
        (b"[" * 5000 + b"]" * 5000, "invalid_json"),  # deeper than the parser goes
        (b"[" * 50 + b"]" * 50, "validation_error"),  # valid JSON, but not an object
    ],
)
def test_malformed_bodies_get_a_4xx_envelope_never_a_500(live: str, raw: bytes, code: str) -> None:
    response = requests.post(
        f"{live}/users", data=raw, headers={"Content-Type": "application/json"}, timeout=10
    )
    assert 400 <= response.status_code < 500
    payload = response.json()
    assert payload["code"] == code
    assert payload["request_id"] == response.headers["X-Request-Id"]
    assert "Traceback" not in response.text


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/users/me", {}, 401),  # no token: the gateway's own 401
        ("/users/me", {"Authorization": "Bearer not-a-token"}, 403),  # the authorizer's Deny
        ("/no/such/route", {}, 403),  # an unknown route: "Missing Authentication Token"
    ],
    ids=["no-token", "denied", "unknown-route"],
)
def test_gateway_made_errors_are_no_store_and_nosniff(
    live: str, path: str, headers: dict[str, str], status: int
) -> None:
    # Errors chalice local makes itself, before the app runs, follow the contract too
    response = requests.get(f"{live}{path}", headers=headers, timeout=10)
    assert response.status_code == status
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/health", "/products", "/products/01UNKNOWN", "/openapi.json"])
def test_every_json_response_of_the_app_is_nosniff(live: str, path: str) -> None:
    response = requests.get(f"{live}{path}", timeout=10)
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
