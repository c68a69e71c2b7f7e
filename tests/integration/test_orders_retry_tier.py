"""One retry tier for conflicts in POST /orders, and its worst case in DynamoDB calls.

A transaction that DynamoDB cancels for a conflict is not retried by the table for orders:
the service decides again from a fresh read (stock, price, the Idempotency-Key's record),
at most `DEFAULT_RETRY.attempts` times. So the worst case of one POST /orders is
4 decisions x (GetItem of the key's record + BatchGetItem of the products + the
TransactWriteItems) = 12 DynamoDB calls with an Idempotency-Key, 8 without; a cancelled
transaction is not resent by botocore, so calls and requests are the same here. (Before,
the table retried each conflicting transaction 4 times inside each of the 4 decisions.)
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from chalice.test import Client

from chalicelib.models.products import ProductCreate
from chalicelib.retry import DEFAULT_RETRY
from chalicelib.services.products import create_product
from chalicelib.store import keys
from chalicelib.store.orders import PINNED_ATTEMPTS
from chalicelib.store.table import Table
from tests import faults
from tests.faults import Faults
from tests.helpers import as_caller, bearer, json_body
from tests.payments import deliver, payment_event

DECISIONS = DEFAULT_RETRY.attempts
WORST_CASE_CALLS_WITH_KEY = 12
WORST_CASE_CALLS_WITHOUT_KEY = 8


def _product(table: Table, stock: int = 5) -> str:
    body = ProductCreate.model_validate({"name": "Mug", "price": Decimal("9.50"), "stock": stock})
    return create_product(table, as_caller("seller-1", table=table), body).id


def _order(client: Client, product_id: str, headers: dict[str, str]) -> Any:
    payload = {"items": [{"product_id": product_id, "quantity": 1}]}
    return client.http.post("/orders", body=json.dumps(payload), headers=headers)


def _stock(table: Table, product_id: str) -> int:
    item = table.get(keys.product_key(product_id))
    assert item is not None
    return int(item["stock"])


def test_conflicts_on_every_transaction_cost_the_stated_worst_case_then_503(
    client: Client, table: Table
) -> None:
    # Given a product, and every TransactWriteItems cancelled by a conflict
    product = _product(table)
    headers = {**bearer("buyer-1"), "Idempotency-Key": "order-1"}
    injected = Faults(table.client)
    injected.by_operation["TransactWriteItems"] = faults.cancelled("TransactionConflict")
    # When one order is placed with an Idempotency-Key
    with injected.armed():
        response = _order(client, product, headers)
    # Then it gives up after its decisions with a 503, having made exactly the stated calls
    assert response.status_code == 503, response.body
    assert json_body(response)["code"] == "service_unavailable"
    assert injected.calls == ["GetItem", "BatchGetItem", "TransactWriteItems"] * DECISIONS
    assert len(injected.calls) == len(injected.attempts) == WORST_CASE_CALLS_WITH_KEY
    assert _stock(table, product) == 5  # and nothing was reserved


def test_without_a_key_the_worst_case_has_no_record_reads(client: Client, table: Table) -> None:
    product = _product(table)
    headers = bearer("buyer-1")
    injected = Faults(table.client)
    injected.by_operation["TransactWriteItems"] = faults.cancelled("TransactionConflict")
    with injected.armed():
        response = _order(client, product, headers)
    assert response.status_code == 503
    assert injected.calls == ["BatchGetItem", "TransactWriteItems"] * DECISIONS
    assert len(injected.attempts) == WORST_CASE_CALLS_WITHOUT_KEY


def test_a_conflict_that_clears_is_decided_again_from_a_fresh_read(client: Client, table: Table) -> None:
    # Given the first transaction cancelled by a conflict, the next one not
    product = _product(table)
    headers = {**bearer("buyer-1"), "Idempotency-Key": "order-2"}
    injected = Faults(table.client)
    injected.by_index[2] = faults.cancelled("TransactionConflict")
    with injected.armed():
        response = _order(client, product, headers)
    # Then the service reads again and places the order once: one more decision, no more
    assert response.status_code == 201, response.body
    assert injected.calls == ["GetItem", "BatchGetItem", "TransactWriteItems"] * 2
    assert _stock(table, product) == 4


def test_ship_that_keeps_losing_to_other_transactions_is_503_not_409_naming_paid(
    client: Client, table: Table
) -> None:
    # Given a paid order, and every TransactWriteItems cancelled by a conflict
    product = _product(table)
    placed = json_body(_order(client, product, bearer("buyer-1")))
    assert deliver(client, payment_event(placed["id"], "9.5")).status_code == 200
    admin = bearer("admin-1", "admin")  # its session is made before the faults
    injected = Faults(table.client)
    injected.by_operation["TransactWriteItems"] = faults.cancelled("TransactionConflict")
    # When an admin ships it
    with injected.armed():
        shipped = client.http.post(
            f"/orders/{placed['id']}/ship",
            body=json.dumps({"carrier": "DHL", "tracking_number": "J1"}),
            headers=admin,
        )
    # Then contention is a 503 to retry, as for a cancel or an order, not a 409 "it is paid"
    assert shipped.status_code == 503, shipped.body
    assert json_body(shipped)["code"] == "service_unavailable"
    assert shipped.headers["Retry-After"] == "1"
    assert injected.calls.count("TransactWriteItems") == PINNED_ATTEMPTS
    order = json_body(client.http.get(f"/orders/{placed['id']}", headers=bearer("buyer-1")))
    assert order["status"] == "paid"
