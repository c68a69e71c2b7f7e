"""`make load`'s invariant checker (tools/load_checks.py) finds each kind of broken world.

`make load` itself is not part of `make test` (it runs for a minute); its checker is.
"""

from __future__ import annotations

from typing import Any

from tools.load_checks import World, check


def _order(order_id: str, product: str, quantity: int, status: str = "placed") -> dict[str, Any]:
    path = {"placed": ["placed"], "paid": ["placed", "paid"], "shipped": ["placed", "paid", "shipped"]}
    history = [{"status": s} for s in path.get(status, ["placed", status])]
    items = [{"product_id": product, "quantity": quantity}]
    return {"id": order_id, "status": status, "status_history": history, "items": items}


def _world(orders: list[dict[str, Any]], stock: int, versions: int = 3) -> World:
    return World(orders={"u": orders}, stock={"p": stock}, initial={"p": 10}, versions={"q": versions})


EVENTS: list[dict[str, Any]] = [
    {"kind": "order", "user": "u", "key": None, "status": 201, "id": "o1"},
    {"kind": "order", "user": "u", "key": "k", "status": 503, "id": None},
    {"kind": "order", "user": "u", "key": "k", "status": 201, "id": "o2"},
    {"kind": "order", "user": "u", "key": None, "status": 201, "id": "o3"},
    {"kind": "patch", "product": "q", "status": 200, "version": 2},
    {"kind": "patch", "product": "q", "status": 412, "version": None},
    {"kind": "patch", "product": "q", "status": 200, "version": 3},
]
GOOD = [
    _order("o1", "p", 2, status="shipped"),
    _order("o2", "p", 1),
    _order("o3", "p", 4, status="cancelled"),
]


def _violations(world: World, events: list[dict[str, Any]] = EVENTS) -> list[str]:
    return [v for found in check(world, events).values() for v in found]


def test_a_consistent_world_has_no_violation() -> None:
    assert _violations(_world(GOOD, stock=7)) == []


def test_stock_taken_without_an_order_is_found() -> None:
    assert any("stock 6" in v for v in _violations(_world(GOOD, stock=6)))


def test_an_order_answered_201_that_is_gone_is_found() -> None:
    assert any("answered 201 are gone" in v for v in _violations(_world(GOOD[1:], stock=9)))


def test_a_second_order_behind_a_retried_idempotency_key_is_found() -> None:
    # The key's first attempt got a 503 but also wrote an order; its retry got 201 with another id.
    orders = [*GOOD, _order("o9", "p", 1)]
    assert any("nobody was told of" in v for v in _violations(_world(orders, stock=6)))


def test_an_order_behind_an_unanswered_attempt_is_allowed() -> None:
    events = [*EVENTS, {"kind": "order", "user": "u", "key": None, "status": 0, "id": None}]
    assert _violations(_world([*GOOD, _order("o9", "p", 1)], stock=6), events) == []


def test_one_key_answered_with_two_orders_is_found() -> None:
    events = [*EVENTS, {"kind": "order", "user": "u", "key": "k", "status": 201, "id": "o3"}]
    assert any("Idempotency-Key k answered 2" in v for v in _violations(_world(GOOD, stock=7), events))


def test_versions_that_do_not_increase_are_found() -> None:
    events = [*EVENTS, {"kind": "patch", "product": "q", "status": 200, "version": 3}]
    assert any("not strictly increasing" in v for v in _violations(_world(GOOD, stock=7), events))
    assert any("went back" in v for v in _violations(_world(GOOD, stock=7, versions=2)))


def test_units_of_expired_orders_are_back_but_paid_ones_still_held() -> None:
    orders = [_order("o1", "p", 2, status="paid"), _order("o2", "p", 1, status="expired")]
    placed = [{"kind": "order", "user": "u", "key": None, "status": 201, "id": o["id"]} for o in orders]
    assert _violations(_world(orders, stock=8), placed) == []
    assert _violations(_world(orders, stock=7), placed) != []  # the expired order's unit not back


def test_a_history_that_skips_or_repeats_a_transition_is_found() -> None:
    twice = _order("o1", "p", 1, status="paid")
    twice["status_history"].append({"status": "paid"})
    skipped = _order("o2", "p", 1, status="shipped")
    skipped["status_history"] = [{"status": "placed"}, {"status": "shipped"}]
    violations = _violations(_world([twice, skipped], stock=8), [])
    assert any("o1" in v for v in violations)
    assert any("o2" in v for v in violations)
