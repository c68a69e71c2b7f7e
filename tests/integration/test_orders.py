"""Orders through chalice's test client and the real engine: transactions, idempotency, cancel."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.models.products import ProductCreate
from chalicelib.services import idempotent
from chalicelib.services.products import create_product
from chalicelib.store import keys
from chalicelib.store.table import Table
from tests.helpers import as_caller, bearer, json_body

BUYER = "buyer-1"
OTHER = "buyer-2"
SELLER = "seller-1"

MakeProduct = Callable[..., str]


@pytest.fixture
def make_product(table: Table) -> MakeProduct:
    """Create a product directly through the service; returns its id."""

    def make(price: str = "19.99", stock: int = 10, currency: str = "USD", name: str = "Mug") -> str:
        body = ProductCreate.model_validate(
            {"name": name, "price": Decimal(price), "stock": stock, "currency": currency}
        )
        return create_product(table, as_caller(SELLER, table=table), body).id

    return make


def order(client: Client, lines: list[tuple[str, int]], user: str = BUYER, key: str | None = None) -> Any:
    headers = bearer(user)
    if key is not None:
        headers["Idempotency-Key"] = key
    payload = {"items": [{"product_id": pid, "quantity": q} for pid, q in lines]}
    return client.http.post("/orders", body=json.dumps(payload), headers=headers)


def stock_of(table: Table, product_id: str) -> int:
    item = table.get(keys.product_key(product_id))
    assert item is not None
    return int(item["stock"])


def test_placing_an_order_reserves_stock_and_prices_exactly(
    client: Client, table: Table, make_product: MakeProduct
) -> None:
    mug, pen = make_product("19.99", 10), make_product("0.10", 5, name="Pen")
    response = order(client, [(mug, 3), (pen, 3)])
    assert response.status_code == 201
    body = json_body(response)
    assert response.headers["Location"] == f"/orders/{body['id']}"
    assert body["status"] == "placed"
    assert body["user_id"] == BUYER
    assert body["currency"] == "USD"
    assert b'"total":60.27' in response.body
    assert [line["quantity"] for line in body["items"]] == [3, 3]
    assert body["items"][0]["name"] == "Mug"
    assert stock_of(table, mug) == 7
    assert stock_of(table, pen) == 2


def test_order_bumps_the_product_version(client: Client, table: Table, make_product: MakeProduct) -> None:
    mug = make_product()
    order(client, [(mug, 1)])
    assert client.http.get(f"/products/{mug}").headers["ETag"] == '"2"'


def test_insufficient_stock_changes_nothing_and_names_the_lines(
    client: Client, table: Table, make_product: MakeProduct
) -> None:
    mug, pen = make_product(stock=10), make_product(stock=1)
    response = order(client, [(mug, 2), (pen, 2)])
    assert response.status_code == 409
    body = json_body(response)
    assert body["code"] == "insufficient_stock"
    assert [d["loc"] for d in body["details"]] == [["body", "items", 1, "quantity"]]
    assert stock_of(table, mug) == 10
    assert stock_of(table, pen) == 1
    assert json_body(client.http.get("/orders", headers=bearer(BUYER)))["items"] == []


def test_unknown_product_is_a_validation_error(client: Client, make_product: MakeProduct) -> None:
    response = order(client, [(make_product(), 1), ("01NOSUCHPRODUCT", 1)])
    assert response.status_code == 400
    body = json_body(response)
    assert body["code"] == "validation_error"
    assert body["details"][0]["loc"] == ["body", "items", 1, "product_id"]


@pytest.mark.parametrize(
    "payload",
    [
        {"items": []},
        {"items": [{"product_id": "a", "quantity": 0}]},
        {"items": [{"product_id": "a", "quantity": 101}]},
        {"items": [{"product_id": "a", "quantity": "1"}]},
        {"items": [{"product_id": "a", "quantity": 1}, {"product_id": "a", "quantity": 2}]},
        {"items": [{"product_id": f"p{i}", "quantity": 1} for i in range(26)]},
        {"items": [{"product_id": "a", "quantity": 1, "price": 0}]},
        {"items": [{"product_id": "a", "quantity": 1}], "coupon": "FREE"},
        {},
    ],
)
def test_invalid_order_bodies_are_400(client: Client, payload: dict[str, Any]) -> None:
    response = client.http.post("/orders", body=json.dumps(payload), headers=bearer(BUYER))
    assert response.status_code == 400
    assert json_body(response)["code"] == "validation_error"


def test_mixed_currencies_are_refused(client: Client, table: Table, make_product: MakeProduct) -> None:
    usd, eur = make_product(currency="USD"), make_product(currency="EUR")
    response = order(client, [(usd, 1), (eur, 1)])
    assert response.status_code == 400
    assert stock_of(table, usd) == 10


def test_orders_require_a_token(client: Client, make_product: MakeProduct) -> None:
    payload = json.dumps({"items": [{"product_id": make_product(), "quantity": 1}]})
    response = client.http.post("/orders", body=payload, headers={"Content-Type": "application/json"})
    assert response.status_code in {401, 403}


def test_idempotent_retry_returns_the_first_order_and_changes_nothing(
    client: Client, table: Table, make_product: MakeProduct
) -> None:
    mug = make_product(stock=10)
    first = order(client, [(mug, 2)], key="retry-1")
    second = order(client, [(mug, 2)], key="retry-1")
    assert first.status_code == second.status_code == 201
    assert json_body(second) == json_body(first)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert stock_of(table, mug) == 8
    assert len(json_body(client.http.get("/orders", headers=bearer(BUYER)))["items"]) == 1


def test_same_key_with_another_body_is_409_conflict(
    client: Client, table: Table, make_product: MakeProduct
) -> None:
    mug = make_product(stock=10)
    assert order(client, [(mug, 2)], key="k").status_code == 201
    response = order(client, [(mug, 3)], key="k")
    assert response.status_code == 409
    assert json_body(response)["code"] == "conflict"
    assert stock_of(table, mug) == 8


def test_idempotency_keys_are_per_user(client: Client, table: Table, make_product: MakeProduct) -> None:
    mug = make_product(stock=10)
    assert order(client, [(mug, 1)], user=BUYER, key="same").status_code == 201
    assert order(client, [(mug, 1)], user=OTHER, key="same").status_code == 201
    assert stock_of(table, mug) == 8


def test_malformed_idempotency_key_is_400(client: Client, make_product: MakeProduct) -> None:
    response = order(client, [(make_product(), 1)], key="x" * 300)
    assert response.status_code == 400
    assert json_body(response)["details"][0]["loc"] == ["header", "Idempotency-Key"]


def test_concurrent_orders_never_oversell(client: Client, table: Table, make_product: MakeProduct) -> None:
    mug = make_product(stock=7)
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda i: order(client, [(mug, 1)], user=f"u{i}").status_code, range(12)))
    assert statuses.count(201) == 7
    assert set(statuses) == {201, 409}
    assert stock_of(table, mug) == 0


def test_concurrent_retries_with_one_key_make_one_order(
    client: Client, table: Table, make_product: MakeProduct
) -> None:
    mug = make_product(stock=10)
    with ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(pool.map(lambda _: order(client, [(mug, 1)], key="race"), range(5)))
    assert {r.status_code for r in responses} == {201}
    assert len({json_body(r)["id"] for r in responses}) == 1
    assert stock_of(table, mug) == 9


def test_a_retry_that_loses_the_last_unit_to_its_own_key_gets_the_first_response(
    client: Client, table: Table, make_product: MakeProduct, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same key and body, racing: the other request commits after this one looked the key
    # up and before it read the stock, so this one finds the last unit gone. It must answer
    # the first response (201, replayed), not 409 insufficient_stock.
    mug = make_product(stock=1)
    looked_up = idempotent.earlier
    winner: list[Any] = []
    fired: list[bool] = []

    def then_the_other_retry_commits(*args: Any) -> Any:
        found = looked_up(*args)
        if not fired:
            fired.append(True)
            winner.append(order(client, [(mug, 1)], key="last-unit"))
        return found

    monkeypatch.setattr(idempotent, "earlier", then_the_other_retry_commits)
    loser = order(client, [(mug, 1)], key="last-unit")
    assert winner[0].status_code == 201
    assert loser.status_code == 201, loser.body
    assert json_body(loser) == json_body(winner[0])
    assert loser.headers.get("Idempotent-Replayed") == "true"
    assert stock_of(table, mug) == 0
    # Without a key the same race is an honest 409: no one else's order is handed out
    unkeyed = order(client, [(mug, 1)])
    assert (unkeyed.status_code, json_body(unkeyed)["code"]) == (409, "insufficient_stock")


def test_owner_reads_order_other_user_gets_403_unknown_404(client: Client, make_product: MakeProduct) -> None:
    order_id = json_body(order(client, [(make_product(), 1)]))["id"]
    assert client.http.get(f"/orders/{order_id}", headers=bearer(BUYER)).status_code == 200
    assert client.http.get(f"/orders/{order_id}", headers=bearer(OTHER)).status_code == 403
    assert client.http.get(f"/orders/{order_id}", headers=bearer("boss", "admin")).status_code == 200
    missing = client.http.get("/orders/01NOSUCHORDER", headers=bearer(BUYER))
    assert missing.status_code == 404
    assert json_body(missing)["code"] == "not_found"


def test_malformed_order_id_is_400(client: Client) -> None:
    response = client.http.get("/orders/bad%23id", headers=bearer(BUYER))
    assert response.status_code in {400, 404}


def test_list_is_the_callers_orders_newest_first_paginated(client: Client, make_product: MakeProduct) -> None:
    mug = make_product(stock=50)
    mine = [json_body(order(client, [(mug, 1)]))["id"] for _ in range(3)]
    order(client, [(mug, 1)], user=OTHER)
    first = json_body(client.http.get("/orders?limit=2", headers=bearer(BUYER)))
    assert [o["id"] for o in first["items"]] == mine[::-1][:2]
    rest = json_body(client.http.get(f"/orders?limit=2&cursor={first['next_cursor']}", headers=bearer(BUYER)))
    assert [o["id"] for o in rest["items"]] == mine[:1]
    assert rest["next_cursor"] is None


def test_cursor_of_another_users_list_is_refused(client: Client, make_product: MakeProduct) -> None:
    mug = make_product(stock=50)
    for _ in range(2):
        order(client, [(mug, 1)])
    cursor = json_body(client.http.get("/orders?limit=1", headers=bearer(BUYER)))["next_cursor"]
    response = client.http.get(f"/orders?cursor={cursor}", headers=bearer(OTHER))
    assert response.status_code == 400
    assert json_body(response)["code"] == "invalid_cursor"


def test_cancel_returns_the_stock_once(client: Client, table: Table, make_product: MakeProduct) -> None:
    mug = make_product(stock=10)
    order_id = json_body(order(client, [(mug, 4)]))["id"]
    first = client.http.post(f"/orders/{order_id}/cancel", headers=bearer(BUYER))
    assert first.status_code == 200
    assert json_body(first)["status"] == "cancelled"
    assert stock_of(table, mug) == 10
    second = client.http.post(f"/orders/{order_id}/cancel", headers=bearer(BUYER))
    assert second.status_code == 200
    assert json_body(second)["status"] == "cancelled"
    assert stock_of(table, mug) == 10


def test_concurrent_cancels_restock_exactly_once(
    client: Client, table: Table, make_product: MakeProduct
) -> None:
    mug = make_product(stock=10)
    order_id = json_body(order(client, [(mug, 4)]))["id"]
    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(
            pool.map(
                lambda _: client.http.post(f"/orders/{order_id}/cancel", headers=bearer(BUYER)).status_code,
                range(4),
            )
        )
    assert statuses == [200] * 4
    assert stock_of(table, mug) == 10


def test_other_user_cannot_cancel_admin_can(client: Client, table: Table, make_product: MakeProduct) -> None:
    mug = make_product(stock=10)
    order_id = json_body(order(client, [(mug, 4)]))["id"]
    assert client.http.post(f"/orders/{order_id}/cancel", headers=bearer(OTHER)).status_code == 403
    assert stock_of(table, mug) == 6
    assert client.http.post(f"/orders/{order_id}/cancel", headers=bearer("boss", "admin")).status_code == 200
    assert stock_of(table, mug) == 10


def test_cancel_after_product_deleted_restocks_the_rest(
    client: Client, table: Table, make_product: MakeProduct
) -> None:
    mug, pen = make_product(stock=10), make_product(stock=10)
    order_id = json_body(order(client, [(mug, 1), (pen, 2)]))["id"]
    assert client.http.delete(f"/products/{mug}", headers=bearer(SELLER)).status_code == 204
    response = client.http.post(f"/orders/{order_id}/cancel", headers=bearer(BUYER))
    assert response.status_code == 200
    assert stock_of(table, pen) == 10
    assert table.get(keys.product_key(mug)) is None
