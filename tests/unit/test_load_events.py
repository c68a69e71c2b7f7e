"""`make load`'s event count (tools/load_events.py): the committed changes, from the run's
acknowledgements and the table's items, against the local bus; each kind of mismatch found."""

from __future__ import annotations

from typing import Any

from chalicelib.models.events import event_id
from tools.load_events import acknowledged, count, in_table

CATALOGUE = {"c1"}
RECORDS: list[dict[str, Any]] = [
    {"kind": "register", "status": 201, "id": "u1"},
    {"kind": "register", "status": 409, "id": None},
    {"kind": "create", "status": 201, "id": "p1"},
    {"kind": "patch", "product": "p1", "status": 200, "version": 2},
    {"kind": "patch", "product": "p1", "status": 412, "version": None},
    {"kind": "create", "status": 503, "id": None},  # committed unanswered: p2, seen by the scan
    {"kind": "delete", "product": "p3", "status": 503, "version": 2},  # committed unanswered
    {"kind": "order", "status": 201, "id": "o1"},
    {"kind": "payment", "order": "o1", "status": 200, "outcome": "paid"},
    {"kind": "payment", "order": "o1", "status": 200, "outcome": "already_paid"},
    {"kind": "ship", "order": "o1", "status": 200},
    {"kind": "cancel", "order": "o2", "status": 409},
]
ITEMS: list[dict[str, Any]] = [
    {"pk": "USER#u1", "type": "user", "id": "u1"},
    {"pk": "EMAIL#a@example.com", "type": "user", "id": "u1"},  # a claim, not a user
    {"pk": "PRODUCT#c1", "type": "product", "id": "c1", "version": 40},  # stock moved by orders
    {"pk": "PRODUCT#p1", "type": "product", "id": "p1", "version": 2},
    {"pk": "PRODUCT#p2", "type": "product", "id": "p2", "version": 1},
    {
        "pk": "ORDER#o1",
        "type": "order",
        "id": "o1",
        "status_history": [{"status": "placed"}, {"status": "paid"}, {"status": "shipped"}],
    },
    {
        "pk": "ORDER#o2",
        "type": "order",
        "id": "o2",
        "status_history": [{"status": "placed"}, {"status": "expired"}],
    },
    {
        "pk": "OUTBOX#products/p3",
        "type": "event",
        "id": event_id("product.deleted", "products/p3", "deleted"),
        "event_type": "product.deleted",
        "subject": "products/p3",
    },
    {"pk": "SESSION#u1", "type": "session"},
]
CHANGES = [
    ("user.registered", "users/u1", "1"),
    ("product.created", "products/c1", "1"),
    ("product.created", "products/p1", "1"),
    ("product.updated", "products/p1", "2"),
    ("product.created", "products/p2", "1"),
    ("product.updated", "products/p3", "2"),  # up to the version its DELETE named
    ("product.deleted", "products/p3", "deleted"),
    ("order.placed", "orders/o1", "placed"),
    ("order.paid", "orders/o1", "paid"),
    ("order.shipped", "orders/o1", "shipped"),
    ("order.placed", "orders/o2", "placed"),
    ("order.expired", "orders/o2", "expired"),
]


def _bus(changes: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    return [{"id": event_id(*change), "type": change[0], "subject": change[1]} for change in changes]


def _count(bus: list[dict[str, Any]]) -> Any:
    return count(in_table(ITEMS, RECORDS, CATALOGUE), acknowledged(RECORDS), bus)


def test_every_committed_change_published_once_is_equal() -> None:
    found = _count(_bus(CHANGES))
    assert found.equal
    report = found.report()
    assert (report["published"], report["committed"], report["acknowledged"]) == (12, 12, 6)
    assert report["by_type"]["order.placed"] == {"published": 2, "committed": 2}


def test_a_committed_change_missing_from_the_bus_is_found() -> None:
    found = _count(_bus([c for c in CHANGES if c[0] != "order.expired"]))
    assert not found.equal
    assert found.missing == ["order.expired orders/o2"]


def test_an_acknowledged_change_the_table_lost_is_still_expected() -> None:
    records = [*RECORDS, {"kind": "deliver", "order": "o1", "status": 200}]
    found = count(in_table(ITEMS, records, CATALOGUE), acknowledged(records), _bus(CHANGES))
    assert found.missing == ["order.delivered orders/o1"]


def test_an_event_of_no_committed_change_is_found() -> None:
    found = _count(_bus([*CHANGES, ("product.updated", "products/p1", "3")]))
    assert found.unexpected == [
        f"product.updated products/p1 {event_id('product.updated', 'products/p1', '3')}"
    ]


def test_a_duplicate_line_is_found() -> None:
    bus = _bus(CHANGES)
    found = _count([*bus, bus[3]])
    assert found.duplicates == [bus[3]["id"]]
    assert found.report()["published"] == 13


def test_a_refused_delete_adds_no_updates() -> None:
    # The product is still there (the DELETE was refused): its updates come from its version.
    records = [r for r in RECORDS if r.get("kind") != "delete"]
    items = [i for i in ITEMS if i["type"] != "event"]
    committed = in_table(
        items, [*records, {"kind": "delete", "product": "p1", "status": 412, "version": 9}], CATALOGUE
    )
    assert event_id("product.updated", "products/p1", "3") not in committed
