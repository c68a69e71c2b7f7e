"""CORS: a preflight for every path, and the allowed origin on every response, from settings."""

from __future__ import annotations

import pytest
from chalice.test import Client

from app import app
from chalicelib.api import deps
from chalicelib.api.headers import ALLOWED_HEADERS

ORIGIN = "https://shop.example"


@pytest.fixture
def cors_on(monkeypatch: pytest.MonkeyPatch, client: Client) -> Client:
    monkeypatch.setenv("CORS_ALLOW_ORIGIN", ORIGIN)
    deps.reset()
    return client


def test_every_path_answers_a_preflight_without_credentials(client: Client) -> None:
    for path, methods in app.routes.items():
        concrete = path.replace("{", "").replace("}", "")
        response = client.http.request("OPTIONS", concrete)
        assert response.status_code == 204, path
        assert response.headers["Allow"] == ", ".join(sorted(methods)), path


def test_preflight_grants_methods_and_headers_when_an_origin_is_configured(cors_on: Client) -> None:
    response = cors_on.http.request("OPTIONS", "/products/abc")
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["Access-Control-Allow-Methods"] == "DELETE, GET, OPTIONS, PATCH"
    assert response.headers["Access-Control-Allow-Headers"] == ALLOWED_HEADERS
    assert "If-Match" in ALLOWED_HEADERS
    assert "Idempotency-Key" in ALLOWED_HEADERS


def test_responses_carry_the_origin_and_expose_the_useful_headers(cors_on: Client) -> None:
    response = cors_on.http.get("/products/unknown")
    assert response.status_code == 404
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    assert "X-Request-Id" in response.headers["Access-Control-Expose-Headers"]


def test_no_cors_headers_unless_an_origin_is_configured(client: Client) -> None:
    preflight = client.http.request("OPTIONS", "/orders")
    response = client.http.get("/health")
    for headers in (preflight.headers, response.headers):
        assert not [name for name in headers if name.lower().startswith("access-control-")]
