"""An order whose products change between its read and its write: re-priced, or given up
with a 503 after the retry budget. The change is injected with a botocore event hook
(just before TransactWriteItems), and the Retry's sleep is recorded, never waited for."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.errors import ServiceUnavailableError
from chalicelib.models.orders import OrderCreate
from chalicelib.models.products import ProductCreate
from chalicelib.retry import Retry
from chalicelib.services import orders as order_service
from chalicelib.services.caller import Caller
from chalicelib.services.products import create_product
from chalicelib.store import keys
from chalicelib.store.expr import Update
from chalicelib.store.table import Table
from tests.helpers import bearer, json_body

BUYER = Caller("buyer-1", "user")
SELLER = Caller("seller-1", "user")


class PriceChanger:
    """Before each of the first `times` TransactWriteItems, the seller changes the price."""

    def __init__(self, table: Table, product_id: str, times: int) -> None:
        self.table, self.product_id, self.times = table, product_id, times
        self.changes = 0
        self.price = Decimal("10.00")

    def __call__(self, **_: Any) -> None:
        if self.changes >= self.times:
            return
        self.changes += 1
        self.price += Decimal("1.00")
        update = Update().set("price", self.price).increment("version")
        self.table.update(keys.product_key(self.product_id), update)


@pytest.fixture
def slept(table: Table) -> Iterator[list[float]]:
    pauses: list[float] = []
    original = table.retry
    table.retry = Retry(attempts=4, sleep=pauses.append)
    yield pauses
    table.retry = original


def _changing(table: Table, times: int) -> tuple[str, PriceChanger]:
    body = ProductCreate.model_validate({"name": "Mug", "price": Decimal("10.00"), "stock": 5})
    product_id = create_product(table, SELLER, body).id
    changer = PriceChanger(table, product_id, times)
    table.client.meta.events.register("before-call.dynamodb.TransactWriteItems", changer)
    return product_id, changer


def test_a_price_changed_between_read_and_write_is_re_read_and_the_order_placed_at_the_new_price(
    table: Table, slept: list[float]
) -> None:
    product_id, changer = _changing(table, times=1)
    body = OrderCreate.model_validate({"items": [{"product_id": product_id, "quantity": 2}]})
    placed = order_service.place_order(table, BUYER, body)
    assert changer.changes == 1
    assert placed.order.items[0].unit_price == Decimal("11.00")
    assert placed.order.total == Decimal("22.00")
    assert slept == [0.02]  # one refused transaction, one pause, then success
    item = table.get(keys.product_key(product_id))
    assert item is not None
    assert int(item["stock"]) == 3


def test_a_price_that_keeps_changing_exhausts_the_retries_and_changes_nothing(
    table: Table, slept: list[float]
) -> None:
    product_id, _ = _changing(table, times=100)
    body = OrderCreate.model_validate({"items": [{"product_id": product_id, "quantity": 2}]})
    with pytest.raises(ServiceUnavailableError, match="Too much contention"):
        order_service.place_order(table, BUYER, body)
    assert slept == [0.02, 0.04, 0.08]
    item = table.get(keys.product_key(product_id))
    assert item is not None
    assert int(item["stock"]) == 5


def test_exhaustion_is_a_503_with_retry_after_over_http_logged_as_retries_exhausted(
    client: Client, table: Table, slept: list[float], log_stream: io.StringIO
) -> None:
    product_id, _ = _changing(table, times=100)
    payload = {"items": [{"product_id": product_id, "quantity": 1}]}
    response = client.http.post("/orders", body=json.dumps(payload), headers=bearer(BUYER.user_id))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert json_body(response)["error"] == "Too much contention on these products, retry"
    assert json_body(response)["code"] == "service_unavailable"
    logged = [json.loads(line) for line in log_stream.getvalue().splitlines()]
    access = [line for line in logged if line.get("status") == 503]
    assert [line["error_cause"] for line in access] == ["retries_exhausted"]
