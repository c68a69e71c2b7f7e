"""Order events through the real stream: each transition is one event whose data is the order
as the API shows it right after (the same body the transition's response carries)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.services import orders as order_service
from chalicelib.services.orders import expire_due_orders
from chalicelib.store.table import Table
from tests.helpers import json_body
from tests.integration.test_events_publisher import lines, publisher
from tests.orderflow import get, make_overdue, make_product, place, post
from tests.payments import deliver, payment_event


def order_events(table: Table, tmp_path: Path) -> list[dict[str, Any]]:
    bus = tmp_path / "events.jsonl"
    publisher(table, bus).poll()
    return [e for e in lines(bus) if e["type"].startswith("order.")]


def test_a_paid_shipped_delivered_order_announces_each_step_with_the_order_after_it(
    client: Client, table: Table, tmp_path: Path
) -> None:
    # Given an order that is placed, paid, shipped and delivered
    order = place(client, make_product(table))
    assert deliver(client, payment_event(order["id"], "39.98")).status_code == 200
    paid = json_body(get(client, f"/orders/{order['id']}"))
    shipped = json_body(
        post(client, f"/orders/{order['id']}/ship", body={"carrier": "DHL", "tracking_number": "J1"})
    )
    delivered = json_body(post(client, f"/orders/{order['id']}/deliver"))
    # When the stream is published
    events = order_events(table, tmp_path)
    # Then four events, in order, each carrying the order exactly as the API answered it
    assert [e["type"] for e in events] == ["order.placed", "order.paid", "order.shipped", "order.delivered"]
    assert {e["subject"] for e in events} == {f"orders/{order['id']}"}
    assert [e["data"] for e in events] == [order, paid, shipped, delivered]
    assert len({e["id"] for e in events}) == 4


def test_cancelled_and_expired_orders_announce_it_and_a_refused_transition_announces_nothing(
    client: Client, table: Table, tmp_path: Path
) -> None:
    # Given one order cancelled, one expired by the sweep, and a refused ship of the first
    product = make_product(table)
    first, second = place(client, product, 1), place(client, product, 1)
    cancelled = json_body(post(client, f"/orders/{first['id']}/cancel", user="buyer-1", role="user"))
    assert (
        post(
            client, f"/orders/{first['id']}/ship", body={"carrier": "DHL", "tracking_number": "J2"}
        ).status_code
        == 409
    )
    make_overdue(table, second["id"])
    assert expire_due_orders(table) == 1
    expired = json_body(get(client, f"/orders/{second['id']}"))
    # When the stream is published
    events = order_events(table, tmp_path)
    # Then: placed twice, cancelled, expired — each with the order as it was left
    assert [e["type"] for e in events] == ["order.placed", "order.placed", "order.cancelled", "order.expired"]
    assert events[2]["data"] == cancelled
    assert events[3]["data"] == expired


def test_a_late_payment_between_the_sweeps_read_and_write_is_in_the_expired_event(
    client: Client, table: Table, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an overdue order, and a payment that lands (flagging a refund) after the sweep
    # read the order and before its transaction
    order = place(client, make_product(table))
    make_overdue(table, order["id"])
    restock = order_service._restock
    landed: list[bool] = []

    def restock_while_a_late_payment_lands(products: Any, read: Any) -> Any:
        if not landed:
            landed.append(True)
            paid = deliver(client, payment_event(read.id, "39.98"))
            assert json_body(paid) == {"outcome": "refund_due"}
        return restock(products, read)

    monkeypatch.setattr(order_service, "_restock", restock_while_a_late_payment_lands)
    # When the sweep runs (twice: the first write is refused, the order having changed)
    assert expire_due_orders(table) == 0
    assert expire_due_orders(table) == 1
    # Then the one order.expired event carries the order as it is, refund flag included
    final = json_body(get(client, f"/orders/{order['id']}"))
    assert final["refund_due"] is True
    expired = [e for e in order_events(table, tmp_path) if e["type"] == "order.expired"]
    assert [e["data"] for e in expired] == [final]
