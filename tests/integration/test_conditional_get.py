"""Conditional GET (If-None-Match → 304) and Cache-Control, through the test client and
through the Lambda handler."""

from __future__ import annotations

from typing import Any

import pytest
from chalice.test import Client

from app import app
from bench.lambda_sim import FakeLambdaContext, proxy_event
from chalicelib.api.caching import LIST_PAGE, NO_STORE, REVALIDATE
from chalicelib.store.table import Table
from tests.helpers import bearer, json_body

OWNER = "owner-cg"


@pytest.fixture
def product(client: Client) -> dict[str, Any]:
    response = client.http.post(
        "/products", headers=bearer(OWNER), body=b'{"name": "Mug", "price": 19.99, "stock": 2}'
    )
    assert response.status_code == 201
    return dict(json_body(response))


def get(client: Client, path: str, **headers: str) -> Any:
    return client.http.get(path, headers=headers)


@pytest.mark.parametrize(
    "if_none_match",
    ['"1"', 'W/"1"', "*", ' "7", W/"1" ', '"7",, "1"', '"a,b", "1"'],
)
def test_if_none_match_naming_the_current_etag_is_304_without_body(
    client: Client, product: dict[str, Any], if_none_match: str
) -> None:
    response = get(client, f"/products/{product['id']}", **{"If-None-Match": if_none_match})
    assert response.status_code == 304
    assert response.body == b""
    assert response.headers["ETag"] == '"1"'
    assert "Content-Type" not in response.headers
    assert response.headers["Cache-Control"] == REVALIDATE  # what the 200 would carry (RFC 9110 15.4.5)


@pytest.mark.parametrize(
    "if_none_match",
    ['"2"', 'W/"2"', '"01"', '""', '"1', "1", '"1" "2"', 'w/"1"', '"1", *', " , "],
)
def test_other_or_malformed_if_none_match_gets_the_full_200(
    client: Client, product: dict[str, Any], if_none_match: str
) -> None:
    response = get(client, f"/products/{product['id']}", **{"If-None-Match": if_none_match})
    assert response.status_code == 200
    assert json_body(response) == product
    assert response.headers["ETag"] == '"1"'


def test_a_changed_product_no_longer_matches_its_old_etag(client: Client, product: dict[str, Any]) -> None:
    path = f"/products/{product['id']}"
    patched = client.http.patch(path, headers=bearer(OWNER), body=b'{"stock": 1}')
    assert patched.headers["ETag"] == '"2"'
    assert get(client, path, **{"If-None-Match": '"1"'}).status_code == 200
    assert get(client, path, **{"If-None-Match": '"2"'}).status_code == 304


def test_a_huge_number_in_if_none_match_is_only_text(client: Client, product: dict[str, Any]) -> None:
    huge = '"' + "9" * 5000 + '"'  # int() of this would raise ValueError: the tag is never converted
    response = get(client, f"/products/{product['id']}", **{"If-None-Match": f'{huge}, "1"'})
    assert response.status_code == 304


def test_star_on_an_unknown_product_is_404(client: Client, table: Table) -> None:
    response = get(client, "/products/nope", **{"If-None-Match": "*"})
    assert response.status_code == 404
    assert response.headers["Cache-Control"] == NO_STORE


def test_product_reads_may_be_stored_by_shared_caches_and_revalidated(
    client: Client, product: dict[str, Any]
) -> None:
    assert get(client, "/products").headers["Cache-Control"] == LIST_PAGE  # shared for 1 s
    assert get(client, f"/products/{product['id']}").headers["Cache-Control"] == REVALIDATE


def test_writes_and_errors_are_no_store(client: Client, product: dict[str, Any]) -> None:
    path = f"/products/{product['id']}"
    patched = client.http.patch(path, headers=bearer(OWNER), body=b'{"stock": 1}')
    assert patched.headers["Cache-Control"] == NO_STORE
    assert get(client, "/products?limit=0").headers["Cache-Control"] == NO_STORE


def test_responses_holding_a_users_own_data_are_no_store(client: Client, table: Table) -> None:
    registered = client.http.post(
        "/users",
        headers={"Content-Type": "application/json"},
        body=b'{"email": "c@example.com", "password": "long-enough-pw", "name": "C"}',
    )
    user_id = json_body(registered)["id"]
    token = client.http.post(
        "/auth/token",
        headers={"Content-Type": "application/json"},
        body=b'{"email": "c@example.com", "password": "long-enough-pw"}',
    )
    auth = {"Authorization": f"Bearer {json_body(token)['access_token']}"}
    responses = {
        "POST /users": registered,
        "POST /auth/token": token,
        "GET /users/me": get(client, "/users/me", **auth),
        "GET /users/{id}": get(client, f"/users/{user_id}", **auth),
        "GET /orders": get(client, "/orders", **auth),
    }
    assert {name: r.status_code for name, r in responses.items()} == {
        "POST /users": 201,
        "POST /auth/token": 200,
        "GET /users/me": 200,
        "GET /users/{id}": 200,
        "GET /orders": 200,
    }
    assert {name: r.headers["Cache-Control"] for name, r in responses.items()} == dict.fromkeys(
        responses, NO_STORE
    )


def test_the_lambda_handler_returns_a_clean_304(client: Client, product: dict[str, Any]) -> None:
    # Given the request API Gateway would hand the Lambda function
    event = proxy_event(
        {
            "path": f"/products/{product['id']}",
            "resource": "/products/{product_id}",
            "path_params": {"product_id": product["id"]},
            "headers": {"If-None-Match": 'W/"1"'},
        }
    )
    # When the handler runs
    response = app(event, FakeLambdaContext())
    # Then: 304, the ETag and caching headers, and nothing describing a body
    headers = {k.lower(): v for k, v in response["headers"].items()}
    assert (response["statusCode"], response["body"]) == (304, "")
    assert (headers["etag"], headers["cache-control"]) == ('"1"', REVALIDATE)
    assert "content-type" not in headers
    assert "content-length" not in headers
