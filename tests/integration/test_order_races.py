"""Races on one order against the real engine, each repeated: every race has exactly one
winner, stock comes back at most once, and the stock invariant holds after each round
(stock = initial - units in orders stored as placed, paid, shipped or delivered)."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.clock import isoformat, utc_now
from chalicelib.jsonio import dumps
from chalicelib.services.orders import expire_due_orders
from chalicelib.store import keys
from chalicelib.store.expr import Update
from chalicelib.store.table import Table
from tests.helpers import bearer, json_body
from tests.orderflow import ADMIN, BUYER, make_product, place, stock_invariant_violations
from tests.payments import payment_event, signed_headers

ROUNDS = 12


def together(*actions: Callable[[], Any]) -> list[Any]:
    """Run the actions at the same moment (a barrier), each on its own thread."""
    barrier = threading.Barrier(len(actions))

    def run(action: Callable[[], Any]) -> Any:
        barrier.wait()
        return action()

    with ThreadPoolExecutor(len(actions)) as pool:
        return list(pool.map(run, actions))


def stored(table: Table, order_id: str) -> dict[str, Any]:
    item = table.get(keys.order_key(order_id))
    assert item is not None
    return item


def due_in(table: Table, order_id: str, delta: timedelta) -> None:
    due = isoformat(utc_now() + delta)
    update = Update().set("payment_due_at", due).set("gsi3sk", keys.recency_sort_key(due, order_id))
    table.update(keys.order_key(order_id), update)


def webhook(client: Client, event: dict[str, Any], webhook_id: str | None = None) -> Callable[[], Any]:
    body = dumps(event).encode()
    headers = signed_headers(body, webhook_id=webhook_id)
    return lambda: client.http.post("/payments/webhook", body=body, headers=headers)


def head_start(round_: int, which: int, action: Callable[[], Any]) -> Callable[[], Any]:
    """The action, started a little late unless it is this round's favourite (so each of
    the three wins some rounds; the race itself stays a race)."""

    def run() -> Any:
        favourite = round_ % 3
        if favourite != which:
            # the sweep makes more calls before its write (one Query per index shard)
            time.sleep(0.3 if favourite == 2 else 0.005 * (round_ % 4 + 1))
        return action()

    return run


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_payment_cancel_and_expiry_racing_have_one_winner(client: Client, table: Table, round_: int) -> None:
    product = make_product(table)
    order = place(client, product)
    # The deadline is 5 s away for the payment and the cancel; the sweep runs as if it had
    # just passed (another instance's clock): all three are valid, and they race.
    due_in(table, order["id"], timedelta(seconds=5))
    sweep_clock = utc_now() + timedelta(seconds=5, milliseconds=1)
    buyer = bearer(BUYER)
    pay, cancel, sweep = together(
        head_start(round_, 0, webhook(client, payment_event(order["id"], "39.98"))),
        head_start(
            round_, 1, lambda: client.http.post(f"/orders/{order['id']}/cancel", body=b"", headers=buyer)
        ),
        head_start(round_, 2, lambda: expire_due_orders(table, sweep_clock)),
    )
    expire_due_orders(table, sweep_clock)  # a later sweep changes nothing more
    item = stored(table, order["id"])
    history = [entry["status"] for entry in item["status_history"]]
    assert history[0] == "placed", history
    winner = history[1]  # exactly one of the three left `placed`
    # A cancel that read the order after the payment committed is no race: it cancels the
    # paid order (refund_due). Nothing else can follow the winner.
    assert history[2:] in ([], ["cancelled"]), history
    assert history[2:] == [] or winner == "paid", history
    final = history[-1]
    assert item["status"] == final
    assert pay.status_code == 200, pay.body
    assert cancel.status_code in (200, 409), cancel.body
    assert (json_body(pay)["outcome"] == "paid") == (winner == "paid")
    assert (cancel.status_code == 200) == (final == "cancelled")
    assert (sweep == 1) == (winner == "expired")
    assert bool(item.get("refund_due")) == (final != "paid")  # a losing payment, or a cancelled paid order
    expected = 8 if final == "paid" else 10  # the stock came back at most once
    assert int(table.get(keys.product_key(product))["stock"]) == expected  # type: ignore[index]
    assert stock_invariant_violations(table, {product: 10}) == []


def test_twenty_deliveries_of_one_webhook_id_pay_once(client: Client, table: Table) -> None:
    order = place(client, make_product(table))
    send = webhook(client, payment_event(order["id"], "39.98"), webhook_id="msg_same")
    answers = together(*[send] * 20)
    outcomes = Counter(json_body(a)["outcome"] for a in answers)
    assert {a.status_code for a in answers} == {200}
    # A delivery that read before the winner committed finds the order paid by this very
    # payment ("already_paid"); one that read after finds the receipt ("duplicate").
    assert outcomes["paid"] == 1
    assert outcomes["duplicate"] + outcomes["already_paid"] == 19
    item = stored(table, order["id"])
    assert [e["status"] for e in item["status_history"]] == ["placed", "paid"]
    assert not item.get("refund_due")


def test_twenty_different_payments_pay_once_and_mark_a_refund(client: Client, table: Table) -> None:
    product = make_product(table)
    order = place(client, product)
    sends = [webhook(client, payment_event(order["id"], "39.98")) for _ in range(20)]
    answers = together(*sends)
    outcomes = Counter(json_body(a)["outcome"] for a in answers)
    assert outcomes == Counter({"paid": 1, "refund_due": 19})
    item = stored(table, order["id"])
    assert [e["status"] for e in item["status_history"]] == ["placed", "paid"]
    assert item["refund_due"] is True
    assert stock_invariant_violations(table, {product: 10}) == []


def test_one_payment_under_twenty_webhook_ids_pays_once_without_refund(client: Client, table: Table) -> None:
    order = place(client, make_product(table))
    event = payment_event(order["id"], "39.98", payment_id="pay_one")
    answers = together(*[webhook(client, event) for _ in range(20)])
    outcomes = Counter(json_body(a)["outcome"] for a in answers)
    assert outcomes["paid"] == 1
    assert outcomes["paid"] + outcomes["already_paid"] == 20
    assert not stored(table, order["id"]).get("refund_due")


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_ship_and_cancel_racing_have_one_winner(client: Client, table: Table, round_: int) -> None:
    product = make_product(table)
    order = place(client, product)
    webhook(client, payment_event(order["id"], "39.98"))()
    admin, buyer = bearer(ADMIN, "admin"), bearer(BUYER)
    shipment = json.dumps({"carrier": "DHL", "tracking_number": f"T{round_}"})
    ship, cancel = together(
        lambda: client.http.post(f"/orders/{order['id']}/ship", body=shipment, headers=admin),
        lambda: client.http.post(f"/orders/{order['id']}/cancel", body=b"", headers=buyer),
    )
    assert sorted([ship.status_code, cancel.status_code]) == [200, 409], (ship.body, cancel.body)
    item = stored(table, order["id"])
    winner = "shipped" if ship.status_code == 200 else "cancelled"
    assert [e["status"] for e in item["status_history"]] == ["placed", "paid", winner]
    assert int(table.get(keys.product_key(product))["stock"]) == (8 if winner == "shipped" else 10)  # type: ignore[index]
    assert bool(item.get("refund_due")) == (winner == "cancelled")
    assert stock_invariant_violations(table, {product: 10}) == []
