"""The invariants `make load` checks after its run, as pure functions over what it saw and read.

Inputs: the events the load users wrote (every order attempt with its Idempotency-Key and
answer, every PATCH answer with its version) and the state read back through the API (each
user's orders, each product). No HTTP here, so a test can feed it a broken world.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class World:
    """What the API holds at the end: every user's orders and every catalogue product."""

    orders: Mapping[str, list[dict[str, Any]]]  # user e-mail → that user's orders
    stock: Mapping[str, int]  # catalogue product id → stock now
    initial: Mapping[str, int]  # catalogue product id → stock at the start
    versions: Mapping[str, int]  # patched product id → version now


# Orders that hold their units (docs/orders.md); cancelled and expired ones gave them back.
HOLDING_STOCK = frozenset({"placed", "paid", "shipped", "delivered"})


def stock_matches_orders(world: World) -> list[str]:
    """stock = initial - units of orders placed, paid, shipped or delivered, per catalogue
    product (and never below 0). Read after the expiry sweep has caught up."""
    sold: dict[str, int] = defaultdict(int)
    for orders in world.orders.values():
        for order in orders:
            if order["status"] in HOLDING_STOCK:
                for line in order["items"]:
                    sold[line["product_id"]] += int(line["quantity"])
    problems = []
    for product, initial in sorted(world.initial.items()):
        now = world.stock.get(product)
        if now is None:
            problems.append(f"product {product} is gone")
        elif now != initial - sold[product] or now < 0:
            problems.append(f"product {product}: stock {now} != {initial} - {sold[product]} sold")
    return problems


def every_order_is_accounted_for(world: World, events: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every order answered 201 exists; every other order stems from an attempt left unanswered.

    An attempt "unanswered" is one with no 201 (a 503, a timeout) whose Idempotency-Key (if any)
    never got a 201 either: a retried key that got its 201 must not leave a second order behind.
    """
    acked, keys_acked, unanswered = _order_outcomes(events)
    problems = [
        f"{user}: Idempotency-Key {key} answered {len(ids)} different orders"
        for user, keys in keys_acked.items()
        for key, ids in keys.items()
        if len(ids) > 1
    ]
    for user, orders in world.orders.items():
        existing = {order["id"] for order in orders}
        lost = acked[user] - existing
        if lost:
            problems.append(f"{user}: {len(lost)} orders answered 201 are gone")
        allowed = sum(1 for key in unanswered[user] if not key or key not in keys_acked[user])
        extra = len(existing - acked[user])
        if extra > allowed:
            problems.append(f"{user}: {extra} orders nobody was told of, {allowed} unanswered attempts")
    return problems


def _order_outcomes(
    events: Iterable[Mapping[str, Any]],
) -> tuple[dict[str, set[str]], dict[str, dict[str, set[str]]], dict[str, list[str | None]]]:
    """Per user: order ids answered 201, those ids per Idempotency-Key, and unanswered attempts' keys."""
    acked: dict[str, set[str]] = defaultdict(set)
    keys_acked: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    unanswered: dict[str, list[str | None]] = defaultdict(list)
    for event in events:
        if event.get("kind") != "order":
            continue
        user, key = event["user"], event.get("key")
        if event["status"] == 201:
            acked[user].add(event["id"])
            if key:
                keys_acked[user][key].add(event["id"])
        elif event["status"] == 0 or event["status"] >= 500:
            unanswered[user].append(key)
    return acked, keys_acked, unanswered


def versions_strictly_increase(world: World, events: Iterable[Mapping[str, Any]]) -> list[str]:
    """Each owner's successful PATCHes (sequential, If-Match) saw strictly increasing versions."""
    seen: dict[str, list[int]] = defaultdict(list)
    for event in events:
        if event.get("kind") == "patch" and event["status"] == 200:
            seen[event["product"]].append(int(event["version"]))
    problems = []
    for product, versions in seen.items():
        if any(b <= a for a, b in itertools.pairwise(versions)):
            problems.append(f"product {product}: versions not strictly increasing {versions}")
        now = world.versions.get(product)
        if now is not None and now < versions[-1]:
            problems.append(f"product {product}: version went back to {now} after {versions[-1]}")
    return problems


def one_transition_at_a_time(world: World) -> list[str]:
    """Each order's history is a path of the state machine: placed first, then at most one
    of paid / cancelled / expired, and only the machine's steps after that; its status is
    the last entry (a placed order past its deadline reads as expired: same rule)."""
    steps = {
        "placed": {"paid", "cancelled", "expired"},
        "paid": {"shipped", "cancelled"},
        "shipped": {"delivered"},
    }
    problems = []
    for orders in world.orders.values():
        for order in orders:
            path = [entry["status"] for entry in order.get("status_history", [])]
            legal = path[:1] == ["placed"] and all(b in steps.get(a, ()) for a, b in itertools.pairwise(path))
            if not legal or path[-1] != order["status"]:
                problems.append(f"order {order['id']}: history {path}, status {order['status']}")
    return problems


def check(world: World, events: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Every invariant by name → its violations (all empty: the run is clean)."""
    return {
        "stock = initial - units of placed, paid, shipped and delivered orders": stock_matches_orders(world),
        "every order's history is a path of the state machine": one_transition_at_a_time(world),
        "no order lost, none without its attempt, no duplicate idempotent order": (
            every_order_is_accounted_for(world, events)
        ),
        "versions strictly increasing": versions_strictly_increase(world, events),
    }
