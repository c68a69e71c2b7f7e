"""Shared steps of order-lifecycle tests: place, make overdue, the stock invariant."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any

from chalice.test import Client

from chalicelib.clock import isoformat, parse_timestamp, utc_now
from chalicelib.models.orders import HOLDING_STOCK
from chalicelib.models.products import ProductCreate
from chalicelib.services.products import create_product
from chalicelib.store import keys
from chalicelib.store.expr import Update
from chalicelib.store.table import Table
from manage import scan_all
from tests.helpers import as_caller, bearer, json_body

SELLER = "seller-1"
BUYER = "buyer-1"
ADMIN = "admin-1"


def make_product(table: Table, stock: int = 10, price: str = "19.99", currency: str = "USD") -> str:
    """A product made through the service; its id."""
    body = ProductCreate.model_validate(
        {"name": "Mug", "price": Decimal(price), "stock": stock, "currency": currency}
    )
    return create_product(table, as_caller(SELLER, table=table), body).id


def place(client: Client, product_id: str, quantity: int = 2, user: str = BUYER) -> dict[str, Any]:
    """Place an order of one line; its body."""
    payload = {"items": [{"product_id": product_id, "quantity": quantity}]}
    response = client.http.post("/orders", body=json.dumps(payload), headers=bearer(user))
    assert response.status_code == 201, response.body
    body: dict[str, Any] = json_body(response)
    return body


def make_overdue(table: Table, order_id: str, ago: timedelta = timedelta(seconds=5)) -> None:
    """Move a placed order's payment deadline into the past (index key too), as time would."""
    due = isoformat(utc_now() - ago)
    update = Update().set("payment_due_at", due).set("gsi3sk", keys.recency_sort_key(due, order_id))
    table.update(keys.order_key(order_id), update)


def post(client: Client, path: str, user: str = ADMIN, role: str = "admin", body: Any = None) -> Any:
    """POST as a user (admin by default)."""
    headers = bearer(user, "admin" if role == "admin" else "user")
    return client.http.post(path, body=json.dumps(body) if body is not None else b"", headers=headers)


def get(client: Client, path: str, user: str = ADMIN, role: str = "admin") -> Any:
    """GET as a user (admin by default)."""
    return client.http.get(path, headers=bearer(user, "admin" if role == "admin" else "user"))


def stock_invariant_violations(table: Table, initial: dict[str, int]) -> list[str]:
    """For each product: stock = initial - units in orders stored as placed/paid/shipped/delivered."""
    held: Counter[str] = Counter()
    stock: dict[str, int] = {}
    for raw in scan_all(table):
        kind = raw.get("type", {}).get("S")
        if kind == "order" and raw["status"]["S"] in HOLDING_STOCK:
            for line in raw["items"]["L"]:
                held[line["M"]["product_id"]["S"]] += int(line["M"]["quantity"]["N"])
        elif kind == "product":
            stock[raw["id"]["S"]] = int(raw["stock"]["N"])
    return [
        f"{pid}: stock {stock.get(pid)} != {start} - {held[pid]}"
        for pid, start in initial.items()
        if stock.get(pid) != start - held[pid]
    ]


def due_at(order: dict[str, Any]) -> Any:
    """The order's payment deadline as a datetime."""
    return parse_timestamp(order["payment_due_at"])
