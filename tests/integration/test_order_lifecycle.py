"""The life of an order through the API and the real engine: placed → paid → shipped →
delivered, cancel from placed or paid, expiry on read and by the sweep, and the listings."""

from __future__ import annotations

from datetime import timedelta

from chalice.test import Client

from chalicelib.clock import parse_timestamp
from chalicelib.services.orders import expire_due_orders
from chalicelib.store import keys
from chalicelib.store.table import Table
from tests.helpers import json_body
from tests.orderflow import BUYER, get, make_overdue, make_product, place, post, stock_invariant_violations
from tests.payments import deliver, payment_event


def stock(table: Table, product_id: str) -> int:
    item = table.get(keys.product_key(product_id))
    assert item is not None
    return int(item["stock"])


def statuses(order: dict[str, object]) -> list[object]:
    history = order["status_history"]
    assert isinstance(history, list)
    return [entry["status"] for entry in history]


def test_a_placed_order_holds_its_stock_until_its_payment_deadline(client: Client, table: Table) -> None:
    product = make_product(table)
    order = place(client, product)
    assert order["status"] == "placed"
    assert statuses(order) == ["placed"]
    assert order["refund_due"] is False
    assert order["shipment"] is None
    window = parse_timestamp(order["payment_due_at"]) - parse_timestamp(order["created_at"])
    assert window == timedelta(seconds=1800)


def test_demo_path_order_pay_ship_deliver(client: Client, table: Table) -> None:
    product = make_product(table)
    order = place(client, product)
    paid = deliver(client, payment_event(order["id"], "39.98"))
    assert paid.status_code == 200, paid.body
    assert json_body(paid) == {"outcome": "paid"}
    seen = json_body(get(client, f"/orders/{order['id']}"))
    assert seen["status"] == "paid"
    assert seen["payment_due_at"] is None
    shipped = post(client, f"/orders/{order['id']}/ship", body={"carrier": "DHL", "tracking_number": "JD01"})
    assert shipped.status_code == 200, shipped.body
    assert json_body(shipped)["shipment"] == {"carrier": "DHL", "tracking_number": "JD01"}
    delivered = post(client, f"/orders/{order['id']}/deliver")
    assert delivered.status_code == 200, delivered.body
    body = json_body(delivered)
    assert body["status"] == "delivered"
    assert statuses(body) == ["placed", "paid", "shipped", "delivered"]
    assert stock(table, product) == 8  # a delivered order keeps its units


def test_ship_and_deliver_from_another_status_are_409_naming_it(client: Client, table: Table) -> None:
    order = place(client, make_product(table))
    shipped = post(client, f"/orders/{order['id']}/ship", body={"carrier": "DHL", "tracking_number": "1"})
    assert shipped.status_code == 409
    assert json_body(shipped)["code"] == "conflict"
    assert "placed" in json_body(shipped)["error"]
    delivered = post(client, f"/orders/{order['id']}/deliver")
    assert delivered.status_code == 409
    assert "placed" in json_body(delivered)["error"]


def test_only_admins_ship_and_unknown_orders_are_404(client: Client, table: Table) -> None:
    order = place(client, make_product(table))
    body = {"carrier": "DHL", "tracking_number": "1"}
    assert post(client, f"/orders/{order['id']}/ship", BUYER, "user", body).status_code == 403
    assert post(client, f"/orders/{order['id']}/deliver", BUYER, "user").status_code == 403
    assert post(client, "/orders/NOPE/ship", body=body).status_code == 404
    assert post(client, "/orders/NOPE/deliver").status_code == 404
    assert post(client, "/orders/NOPE/ship", BUYER, "user", body).status_code == 404  # 404 before 403


def test_ship_body_is_validated(client: Client, table: Table) -> None:
    order = place(client, make_product(table))
    path = f"/orders/{order['id']}/ship"
    assert post(client, path, body={"carrier": "DHL"}).status_code == 400
    assert post(client, path, body={"carrier": " ", "tracking_number": "1"}).status_code == 400
    assert post(client, path, body={"carrier": "DHL", "tracking_number": "1", "x": 1}).status_code == 400


def test_cancelling_a_paid_order_gives_stock_back_and_marks_a_refund(client: Client, table: Table) -> None:
    product = make_product(table)
    order = place(client, product)
    deliver(client, payment_event(order["id"], "39.98"))
    cancelled = post(client, f"/orders/{order['id']}/cancel", BUYER, "user")
    assert cancelled.status_code == 200, cancelled.body
    body = json_body(cancelled)
    assert body["status"] == "cancelled"
    assert body["refund_due"] is True
    assert statuses(body) == ["placed", "paid", "cancelled"]
    assert stock(table, product) == 10
    again = post(client, f"/orders/{order['id']}/cancel", BUYER, "user")
    assert again.status_code == 200
    assert statuses(json_body(again)) == ["placed", "paid", "cancelled"]
    assert stock(table, product) == 10


def test_cancelling_a_shipped_order_is_409(client: Client, table: Table) -> None:
    product = make_product(table)
    order = place(client, product)
    deliver(client, payment_event(order["id"], "39.98"))
    post(client, f"/orders/{order['id']}/ship", body={"carrier": "UPS", "tracking_number": "Z"})
    refused = post(client, f"/orders/{order['id']}/cancel", BUYER, "user")
    assert refused.status_code == 409
    assert "shipped" in json_body(refused)["error"]
    assert stock(table, product) == 8


def test_an_overdue_order_reads_expired_at_once_and_the_sweep_gives_its_stock_back(
    client: Client, table: Table
) -> None:
    product = make_product(table)
    order = place(client, product)
    make_overdue(table, order["id"])
    seen = json_body(get(client, f"/orders/{order['id']}"))
    assert seen["status"] == "expired"
    assert seen["payment_due_at"] is None
    assert statuses(seen) == ["placed", "expired"]
    assert stock(table, product) == 8  # not yet swept
    assert post(client, f"/orders/{order['id']}/cancel", BUYER, "user").status_code == 409
    assert expire_due_orders(table) == 1
    assert expire_due_orders(table) == 0  # the stock comes back once
    swept = json_body(get(client, f"/orders/{order['id']}"))
    assert swept["status_history"] == seen["status_history"]  # the stored entry is the one read
    assert stock(table, product) == 10
    assert stock_invariant_violations(table, {product: 10}) == []


def test_a_duplicate_webhook_id_changes_nothing(client: Client, table: Table) -> None:
    order = place(client, make_product(table))
    event = payment_event(order["id"], "39.98")
    first = deliver(client, event, webhook_id="msg_1")
    second = deliver(client, event, webhook_id="msg_1")
    assert (first.status_code, second.status_code) == (200, 200)
    assert json_body(second) == {"outcome": "duplicate"}
    assert statuses(json_body(get(client, f"/orders/{order['id']}"))) == ["placed", "paid"]


def test_a_payment_of_another_amount_or_currency_is_422_and_changes_nothing(
    client: Client, table: Table
) -> None:
    order = place(client, make_product(table))
    for event in (payment_event(order["id"], "39.97"), payment_event(order["id"], "39.98", "EUR")):
        refused = deliver(client, event)
        assert refused.status_code == 422, refused.body
        assert json_body(refused)["code"] == "payment_mismatch"
    seen = json_body(get(client, f"/orders/{order['id']}"))
    assert seen["status"] == "placed"
    assert seen["refund_due"] is False


def test_a_payment_for_an_unknown_order_is_404(client: Client, table: Table) -> None:
    assert deliver(client, payment_event("NOPE", "1.00")).status_code == 404


def test_a_payment_for_an_order_no_longer_placed_is_accepted_and_marks_a_refund(
    client: Client, table: Table
) -> None:
    product = make_product(table)
    cancelled, overdue = place(client, product), place(client, product)
    post(client, f"/orders/{cancelled['id']}/cancel", BUYER, "user")
    make_overdue(table, overdue["id"])
    for order, status in ((cancelled, "cancelled"), (overdue, "expired")):
        answer = deliver(client, payment_event(order["id"], "39.98"))
        assert answer.status_code == 200
        assert json_body(answer) == {"outcome": "refund_due"}
        seen = json_body(get(client, f"/orders/{order['id']}"))
        assert seen["status"] == status
        assert seen["refund_due"] is True
    expire_due_orders(table)
    swept = json_body(get(client, f"/orders/{overdue['id']}"))
    assert swept["status"] == "expired"
    assert swept["refund_due"] is True
    assert stock(table, product) == 10


def test_the_same_payment_under_another_webhook_id_is_not_a_refund(client: Client, table: Table) -> None:
    order = place(client, make_product(table))
    event = payment_event(order["id"], "39.98", payment_id="pay_same")
    assert json_body(deliver(client, event)) == {"outcome": "paid"}
    assert json_body(deliver(client, event)) == {"outcome": "already_paid"}
    assert json_body(get(client, f"/orders/{order['id']}"))["refund_due"] is False


def test_my_orders_filter_by_status_as_they_read(client: Client, table: Table) -> None:
    product = make_product(table, stock=50)
    paid, placed, overdue = (place(client, product, 1) for _ in range(3))
    deliver(client, payment_event(paid["id"], "19.99"))
    make_overdue(table, overdue["id"])

    def ids(status: str) -> list[str]:
        response = get(client, f"/orders?status={status}&limit=1", BUYER, "user")
        assert response.status_code == 200, response.body
        found, body = [], json_body(response)
        found += [o["id"] for o in body["items"]]
        while body["next_cursor"]:
            body = json_body(
                get(client, f"/orders?status={status}&limit=1&cursor={body['next_cursor']}", BUYER, "user")
            )
            found += [o["id"] for o in body["items"]]
        return found

    assert ids("paid") == [paid["id"]]
    assert ids("placed") == [placed["id"]]
    assert ids("expired") == [overdue["id"]]
    assert ids("shipped") == []
    assert get(client, "/orders?status=lost", BUYER, "user").status_code == 400


def test_admin_lists_an_orders_status_oldest_first_across_shards_each_once(
    client: Client, table: Table
) -> None:
    product = make_product(table, stock=100)
    placed = [place(client, product, 1)["id"] for _ in range(11)]
    make_overdue(table, placed[0], timedelta(hours=1))
    walked: list[str] = []
    body = json_body(get(client, "/admin/orders?status=placed&limit=4"))
    walked += [o["id"] for o in body["items"]]
    while body["next_cursor"]:
        body = json_body(get(client, f"/admin/orders?status=placed&limit=4&cursor={body['next_cursor']}"))
        walked += [o["id"] for o in body["items"]]
    assert walked == placed[1:]  # oldest first; the overdue one is not placed any more
    expired = json_body(get(client, "/admin/orders?status=expired"))
    assert [o["id"] for o in expired["items"]] == [placed[0]]
    assert expired["items"][0]["status"] == "expired"


def test_admin_order_listing_refuses_users_bad_queries_and_foreign_cursors(
    client: Client, table: Table
) -> None:
    product = make_product(table, stock=100)
    for _ in range(3):
        place(client, product, 1)
    assert get(client, "/admin/orders?status=placed", BUYER, "user").status_code == 403
    assert get(client, "/admin/orders").status_code == 400
    assert get(client, "/admin/orders?status=placed&cursor=abc.def").status_code == 400
    cursor = json_body(get(client, "/admin/orders?status=placed&limit=1"))["next_cursor"]
    assert get(client, f"/admin/orders?status=paid&cursor={cursor}").status_code == 400
