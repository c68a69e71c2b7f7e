"""Orders over real HTTP against `chalice local`: the whole buy → retry → cancel flow."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from tests.helpers import bearer

pytestmark = pytest.mark.e2e


def _product(live: str, stock: int, price: float | str = "19.99") -> str:
    body = f'{{"name": "Lamp", "price": {price}, "stock": {stock}}}'
    response = requests.post(f"{live}/products", data=body, headers=bearer("seller"), timeout=10)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _order(live: str, product_id: str, quantity: int, user: str = "buyer", key: str | None = None) -> Any:
    headers = bearer(user) | ({"Idempotency-Key": key} if key else {})
    body: dict[str, Any] = {"items": [{"product_id": product_id, "quantity": quantity}]}
    return requests.post(f"{live}/orders", json=body, headers=headers, timeout=10)


def test_buy_retry_cancel_flow(live: str) -> None:
    lamp = _product(live, stock=5)
    first = _order(live, lamp, 2, key="flow-1")
    assert first.status_code == 201
    assert '"total":39.98' in first.text
    retry = _order(live, lamp, 2, key="flow-1")
    assert retry.json() == first.json()
    assert requests.get(f"{live}/products/{lamp}", timeout=10).json()["stock"] == 3
    order_id = first.json()["id"]
    cancelled = requests.post(f"{live}/orders/{order_id}/cancel", headers=bearer("buyer"), timeout=10)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert requests.get(f"{live}/products/{lamp}", timeout=10).json()["stock"] == 5


def test_insufficient_stock_is_409_with_details(live: str) -> None:
    lamp = _product(live, stock=1)
    response = _order(live, lamp, 2)
    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock"
    assert response.json()["details"][0]["loc"] == ["body", "items", 0, "quantity"]


def test_parallel_buyers_over_http_never_oversell(live: str) -> None:
    lamp = _product(live, stock=5)
    with ThreadPoolExecutor(max_workers=4) as pool:  # chalice local listens with a backlog of 5
        statuses = list(pool.map(lambda i: _order(live, lamp, 1, user=f"b{i}").status_code, range(10)))
    assert statuses.count(201) == 5
    assert statuses.count(409) == 5
    assert requests.get(f"{live}/products/{lamp}", timeout=10).json()["stock"] == 0


def test_another_users_order_is_403(live: str) -> None:
    order_id = _order(live, _product(live, stock=3), 1).json()["id"]
    response = requests.get(f"{live}/orders/{order_id}", headers=bearer("intruder"), timeout=10)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_order_without_token_is_refused_by_the_authorizer(live: str) -> None:
    response = requests.post(f"{live}/orders", json={"items": []}, timeout=10)
    assert response.status_code in {401, 403}
