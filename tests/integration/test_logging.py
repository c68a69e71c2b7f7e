"""Structured logs: one JSON access line per request, JSON error lines with the stack
trace, and never a secret in any line — checked over a whole user journey."""

from __future__ import annotations

import io
import json
from typing import Any

from chalice.test import Client

from app import app
from chalicelib import observability
from chalicelib.api.http import ApiBlueprint
from tests.helpers import json_body

PASSWORD = "correct-horse-battery-staple"
JSON = {"Content-Type": "application/json"}


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def access_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [line for line in lines(stream) if line["message"] == observability.ACCESS_MESSAGE]


def _journey(client: Client) -> tuple[str, str]:
    """Register → log in → create a product; returns (user id, access token)."""
    user = {"email": "Ada@Example.com", "password": PASSWORD, "name": "Ada"}
    registered = client.http.post("/users", body=json.dumps(user), headers=JSON)
    assert registered.status_code == 201
    login = {"email": "ada@example.com", "password": PASSWORD}
    token = json_body(client.http.post("/auth/token", body=json.dumps(login), headers=JSON))["access_token"]
    auth = {**JSON, "Authorization": f"Bearer {token}"}
    product = {"name": "Lamp", "price": 19.99, "stock": 3}
    assert client.http.post("/products", body=json.dumps(product), headers=auth).status_code == 201
    wrong = {"email": "ada@example.com", "password": "wrong-password-123"}
    assert client.http.post("/auth/token", body=json.dumps(wrong), headers=JSON).status_code == 401
    return json_body(registered)["id"], token


def test_journey_logs_hold_no_password_token_hash_or_authorization(
    client: Client, log_stream: io.StringIO
) -> None:
    # Given a register → login → create-product → failed-login journey
    user_id, token = _journey(client)
    text = log_stream.getvalue()
    # Then no line carries the password, the token (or any part of it), a hash or the header
    assert PASSWORD not in text
    assert token not in text
    assert token.split(".")[2] not in text
    assert "$argon2" not in text
    assert "bearer" not in text.lower()
    assert "authorization" not in text.lower()
    # And every request left exactly one access line, with the caller where known
    access = access_lines(log_stream)
    assert [(a["method"], a["route"], a["status"]) for a in access] == [
        ("POST", "/users", 201),
        ("POST", "/auth/token", 200),
        ("POST", "/products", 201),
        ("POST", "/auth/token", 401),
    ]
    assert access[2]["user_id"] == user_id
    assert access[3]["error_code"] == "unauthorized"


def test_access_line_has_every_field_and_the_response_request_id(
    client: Client, log_stream: io.StringIO
) -> None:
    response = client.http.get("/products/does-not-exist", headers={"X-Request-Id": "trace-me-123"})
    assert response.status_code == 404
    (line,) = access_lines(log_stream)
    assert set(observability.ACCESS_KEYS) <= set(line)
    assert line["request_id"] == "trace-me-123" == response.headers["X-Request-Id"]
    assert json_body(response)["request_id"] == "trace-me-123"
    assert line["route"].startswith("/products/{")  # the template, never the id
    assert line["error_code"] == "not_found"
    assert line["level"] == "INFO"
    assert line["service"] == "storefront"
    assert isinstance(line["duration_ms"], float)
    assert line["duration_ms"] >= 0
    assert isinstance(line["cold_start"], bool)


_boom = ApiBlueprint("boom")


@_boom.route("/__boom", methods=["POST"])
def _explode() -> None:
    secret = {"password": PASSWORD, "token": "Bearer abc.def.ghi"}
    raise RuntimeError(f"bug while handling {secret}")


def test_unhandled_error_is_a_json_line_with_stack_trace_only_server_side(
    client: Client, log_stream: io.StringIO
) -> None:
    # Given a route with a bug (registered for this test only)
    app.register_blueprint(_boom)
    try:
        response = client.http.post("/__boom", body="{}", headers=JSON)
    finally:
        app.routes.pop("/__boom", None)
    # Then the client sees the envelope and nothing of the exception
    body = json_body(response)
    assert response.status_code == 500
    assert body["code"] == "internal_error"
    assert "RuntimeError" not in response.body.decode()
    assert "Traceback" not in response.body.decode()
    # And the log has the stack trace under the same request id, secrets masked
    errors = [line for line in lines(log_stream) if line.get("exception_name") == "RuntimeError"]
    assert len(errors) == 1
    assert errors[0]["level"] == "ERROR"
    assert errors[0]["request_id"] == body["request_id"]
    assert "Traceback" in errors[0]["exception"]
    assert "_explode" in errors[0]["exception"]
    assert errors[0]["stack_trace"]["frames"]
    assert PASSWORD not in log_stream.getvalue()
    assert "abc.def.ghi" not in log_stream.getvalue()
    (access,) = access_lines(log_stream)
    assert access["status"] == 500
    assert access["error_code"] == "internal_error"
