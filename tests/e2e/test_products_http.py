"""Products over real HTTP (`chalice local` + the embedded engine)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
import requests

from chalicelib.jsonio import loads
from tests.helpers import bearer

pytestmark = pytest.mark.e2e
OWNER, OTHER = "owner-e2e", "other-e2e"


def call(method: str, url: str, user: str | None = None, body: str | None = None, **headers: str) -> Any:
    all_headers = {**(bearer(user) if user else {}), **headers}
    return requests.request(
        method, url, data=body.encode() if body else None, headers=all_headers, timeout=20
    )


def create(live: str, body: str = '{"name": "Mug", "price": 19.99, "stock": 5}', user: str = OWNER) -> Any:
    response = call("POST", f"{live}/products", user, body)
    assert response.status_code == 201, response.text
    return response


def test_product_lifecycle_over_http(live: str) -> None:
    created = create(live)
    product = created.json()
    url = f"{live}{created.headers['Location']}"
    assert created.headers["ETag"] == '"1"'
    assert '"price":19.99' in created.text

    fetched = requests.get(url, timeout=10)
    assert (fetched.status_code, fetched.headers["ETag"], fetched.json()) == (200, '"1"', product)

    patched = call("PATCH", url, OWNER, '{"price": 0.1, "stock": 4}', **{"If-Match": '"1"'})
    assert (patched.status_code, patched.headers["ETag"]) == (200, '"2"')
    assert loads(patched.text)["price"] == Decimal("0.1")

    stale = call("PATCH", url, OWNER, '{"stock": 1}', **{"If-Match": '"1"'})
    assert (stale.status_code, stale.json()["code"]) == (412, "precondition_failed")
    assert stale.json()["request_id"] == stale.headers["X-Request-Id"]

    assert call("DELETE", url, OTHER).status_code == 403
    deleted = call("DELETE", url, OWNER)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert requests.get(url, timeout=10).status_code == 404
    assert requests.get(f"{live}/products", timeout=10).json() == {"items": [], "next_cursor": None}


def test_writes_without_a_token_are_refused_by_the_authorizer(live: str) -> None:
    product = create(live).json()
    assert call("POST", f"{live}/products", None, '{"name": "a", "price": 1}').status_code in {401, 403}
    assert call("PATCH", f"{live}/products/{product['id']}", None, '{"stock": 1}').status_code in {401, 403}
    bad = {"Authorization": "Bearer not.a.token"}
    assert call("DELETE", f"{live}/products/{product['id']}", None, **bad).status_code in {401, 403}
    assert requests.get(f"{live}/products/{product['id']}", timeout=10).json()["version"] == 1


@pytest.mark.parametrize("price", ['"19.99"', "19.999", "-1", "true", "10000000.01"])
def test_bad_price_is_400_over_http(live: str, price: str) -> None:
    response = call("POST", f"{live}/products", OWNER, f'{{"name": "a", "price": {price}}}')
    assert response.status_code == 400
    assert response.json()["details"][0]["loc"] == ["body", "price"]


def test_concurrent_http_patches_each_bump_the_version_once(live: str) -> None:
    url = f"{live}{create(live).headers['Location']}"

    def patch(i: int) -> int:
        return int(call("PATCH", url, OWNER, f'{{"stock": {i}}}').status_code)

    with ThreadPoolExecutor(max_workers=4) as pool:  # chalice local listens with a backlog of 5
        statuses = list(pool.map(patch, range(10)))
    assert statuses == [200] * 10
    assert requests.get(url, timeout=10).json()["version"] == 11


def test_paginated_walk_over_http_sees_every_product_once(live: str) -> None:
    mine = [create(live).json()["id"] for _ in range(5)]
    theirs = create(live, user=OTHER).json()["id"]
    seen: list[str] = []
    url: str | None = f"{live}/products?limit=2"
    while url:
        page = requests.get(url, timeout=10).json()
        seen.extend(p["id"] for p in page["items"])
        url = f"{live}/products?limit=2&cursor={page['next_cursor']}" if page["next_cursor"] else None
    assert sorted(seen) == sorted([*mine, theirs])
    assert len(seen) == len(set(seen))
    owned = requests.get(f"{live}/products", params={"owner_id": OTHER}, timeout=10).json()
    assert [p["id"] for p in owned["items"]] == [theirs]
    tampered = requests.get(f"{live}/products", params={"cursor": "eyJ4IjoieSJ9.AAAA"}, timeout=10)
    assert (tampered.status_code, tampered.json()["code"]) == (400, "invalid_cursor")
    assert requests.get(f"{live}/products?limit=101", timeout=10).status_code == 400
