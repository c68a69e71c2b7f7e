"""What the gateway itself answers on the emulated stage: its own errors in the contract's
body with no-store and nosniff, the stage prefix in URLs, CORS preflights, /docs."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from infra.template import DEFAULT_RESPONSES, GATEWAY_RESPONSES
from tests.deployed.conftest import Stack
from tests.deployed.test_journey import bearer, register_and_login

SECURITY_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def test_every_customized_gateway_response_of_the_deployed_api_is_ours(stack: Stack) -> None:
    # The deployment's gateway responses as API Gateway's own API reports them.
    items = stack.aws("apigateway").get_gateway_responses(restApiId=stack.deployed.rest_api_id)["items"]
    customized = {r["responseType"]: r for r in items if not r.get("defaultResponse")}
    assert set(customized) == set(GATEWAY_RESPONSES) | set(DEFAULT_RESPONSES)
    for kind, response in customized.items():
        headers = response["responseParameters"]
        for name, value in SECURITY_HEADERS.items():
            assert headers[f"gatewayresponse.header.{name}"] == f"'{value}'", kind
        if kind in GATEWAY_RESPONSES:
            assert response["statusCode"] == str(GATEWAY_RESPONSES[kind][0])


def test_an_unknown_route_is_the_contract_404(http: requests.Session, stack: Stack) -> None:
    response = http.get(stack.url("/no-such-route"))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response.json()["request_id"] == response.headers["X-Request-Id"]
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value


def test_throttling_is_the_contract_429_with_retry_after(stack: Stack) -> None:
    # The dev stage allows 20 requests/s with a burst of 40 per method; two clients of a
    # warm function exceed that. More clients would each cold-start a worker instead.
    throttled: list[requests.Response] = []

    def get(_: int) -> int:
        if throttled:
            return 0
        response = requests.get(stack.url("/health"), timeout=60)
        if response.status_code == 429:
            throttled.append(response)
        return 1

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=2) as pool:
        sent = sum(pool.map(get, range(400)))
    if not throttled:
        rate = sent / (time.monotonic() - started)
        pytest.skip(
            f"the emulator's function served only {rate:.0f} requests/s (2 clients), under the stage's "
            "20/s + burst 40: THROTTLED could not be provoked; its configuration is checked above"
        )
    response = throttled[0]
    assert response.json()["code"] == "rate_limited"
    assert response.headers["Retry-After"] == "1"
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value


def test_location_carries_the_stage_prefix(http: requests.Session, stack: Stack) -> None:
    # On AWS the API is https://<id>.execute-api.<region>.amazonaws.com/api/...: a Location
    # is resolved against that host, so it must start with the stage, /api.
    session = register_and_login(http, stack)
    assert session["location"] == f"/api/users/{session['user_id']}"
    product = http.post(stack.url("/products"), headers=bearer(session), json={"name": "P", "price": 1})
    assert product.headers["Location"] == f"/api/products/{product.json()['id']}"
    # Followed on the emulator's host-style address (<id>.execute-api.localhost, as on AWS)
    host = f"{stack.deployed.rest_api_id}.execute-api.localhost"
    followed = http.get(stack.endpoint + session["location"], headers={**bearer(session), "Host": host})
    assert followed.status_code == 200
    assert followed.json()["id"] == session["user_id"]


def test_a_cursor_resolves_under_the_stage(http: requests.Session, stack: Stack) -> None:
    # Pages carry an opaque cursor, not a URL: the client appends it to the URL it called.
    session = register_and_login(http, stack)
    for name in ("A", "B"):
        http.post(stack.url("/products"), headers=bearer(session), json={"name": name, "price": 1})
    first = http.get(stack.url("/products"), params={"owner_id": session["user_id"], "limit": 1})
    cursor = first.json()["next_cursor"]
    assert cursor
    query = {"owner_id": session["user_id"], "limit": 1, "cursor": cursor}
    second = http.get(stack.url("/products"), params=query)
    assert second.status_code == 200
    assert second.json()["items"][0]["id"] != first.json()["items"][0]["id"]


def test_cors_preflight_is_answered(http: requests.Session, stack: Stack) -> None:
    headers = {"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"}
    response = http.options(stack.url("/products"), headers=headers)
    assert response.status_code in (200, 204)
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_docs_and_its_assets_are_served_under_the_stage(http: requests.Session, stack: Stack) -> None:
    page = http.get(stack.url("/docs"))
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assets = {
        "docs/swagger-ui.css": "text/css",
        "docs/swagger-ui-bundle.js": "text/javascript",
        "docs/swagger-initializer.js": "text/javascript",
    }
    for href, content_type in assets.items():
        assert href in page.text
        # Resolved as the browser does, against the page's own URL: under /api.
        url = urljoin(stack.url("/docs"), href)
        assert urlsplit(url).path.startswith(urlsplit(stack.base_url).path + "/docs/")
        asset = http.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["Content-Type"].startswith(content_type), url
        assert asset.headers["X-Content-Type-Options"] == "nosniff"
    spec = http.get(stack.url("/openapi.json"))
    assert spec.status_code == 200
    assert spec.json()["paths"]


def test_the_docs_page_points_its_server_at_the_stage(http: requests.Session, stack: Stack) -> None:
    # The initializer sets the server to the page's path minus "/docs" (checked in a real
    # browser by tests/e2e/test_docs_browser.py); here: that path is the stage's.
    script = http.get(urljoin(stack.url("/docs"), "docs/swagger-initializer.js")).text
    assert 'window.location.pathname.replace(/\\/docs\\/?$/, "")' in script
    docs_path = urlsplit(stack.url("/docs")).path
    assert docs_path.removesuffix("/docs") == urlsplit(stack.base_url).path
    assert docs_path.removesuffix("/docs").endswith("/api")
