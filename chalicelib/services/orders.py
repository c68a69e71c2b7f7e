"""Use cases of orders: place (idempotently), read, list, cancel.

Anyone signed in places orders for themselves; an order is read or cancelled by its
owner or an admin; each caller lists their own orders.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from chalicelib.clock import isoformat, new_id, utc_now
from chalicelib.errors import (
    ForbiddenError,
    InsufficientStockError,
    OrderNotFoundError,
    ServiceUnavailableError,
    ValidationFailedError,
)
from chalicelib.models.common import Page, PageQuery
from chalicelib.models.orders import OrderCreate, OrderItem, OrderLine, OrderPublic
from chalicelib.models.products import ProductItem
from chalicelib.observability import business_event
from chalicelib.retry import TryAgain
from chalicelib.services import idempotent
from chalicelib.services.caller import Caller
from chalicelib.store.orders import OrderStore
from chalicelib.store.pagination import PageRequest
from chalicelib.store.products import ProductStore
from chalicelib.store.sessions import caller_checks
from chalicelib.store.table import Table


@dataclass(frozen=True)
class Placed:
    """A placed order, and whether it is the replay of an earlier identical request."""

    order: OrderPublic
    replayed: bool  # True when an Idempotency-Key retry returned the first response


def _check_products(body: OrderCreate, found: Mapping[str, ProductItem]) -> list[tuple[ProductItem, int]]:
    missing = [
        {"loc": ["body", "items", i, "product_id"], "msg": "Unknown product"}
        for i, line in enumerate(body.items)
        if line.product_id not in found
    ]
    if missing:
        raise ValidationFailedError(missing)
    lines = [(found[line.product_id], line.quantity) for line in body.items]
    if len({product.currency for product, _ in lines}) > 1:
        raise ValidationFailedError(
            [{"loc": ["body", "items"], "msg": "All products must share one currency"}]
        )
    short = [
        {"loc": ["body", "items", i, "quantity"], "msg": f"Only {product.stock} in stock for {product.id}"}
        for i, (product, quantity) in enumerate(lines)
        if product.stock < quantity
    ]
    if short:
        raise InsufficientStockError(short)
    return lines


def _build_order(user_id: str, lines: list[tuple[ProductItem, int]]) -> OrderItem:
    now = utc_now()
    items = [OrderLine(product_id=p.id, name=p.name, unit_price=p.price, quantity=q) for p, q in lines]
    total = sum((p.price * q for p, q in lines), Decimal(0))
    return OrderItem(
        id=new_id(now),
        user_id=user_id,
        items=items,
        total=total,
        currency=lines[0][0].currency,
        status="placed",
        created_at=now,
    )


def _too_much_contention(noun: str) -> Exception:
    return ServiceUnavailableError(retry_after=1, message=f"Too much contention on {noun}, retry")


def place_order(table: Table, caller: Caller, body: OrderCreate, key: str | None = None) -> Placed:
    """Reserve every line's stock and write the order in one transaction, or change nothing.

    A refused transaction (another order took the last units, a price changed, a
    concurrent retry with the same key, or a conflict with another transaction) is decided
    again from a fresh read: stock gone → 409; price changed → re-priced; same key → its
    response is replayed. This is the only retry tier for conflicts: the store does not
    retry the transaction itself, so the worst case is `table.retry.attempts` decisions of
    (GetItem + BatchGetItem + TransactWriteItems) calls (tests/integration/test_orders_retry_tier.py).
    """
    request = idempotent.keyed(caller.user_id, key, body)
    products, orders = ProductStore(table), OrderStore(table)

    def attempt(_: int) -> Placed:
        now = int(time.time())
        first = idempotent.earlier(table, request, OrderPublic, now) if request is not None else None
        if first is not None:
            return Placed(order=first, replayed=True)
        lines = _check_products(body, products.get_many(line.product_id for line in body.items))
        order = _build_order(caller.user_id, lines)
        public = order.public()
        record_ = idempotent.record(table, request, public, now) if request is not None else None
        checks = caller_checks(caller.user_id, caller.session_id, int(time.time()))
        if not orders.place(order, lines, record_, checks):
            raise TryAgain()
        business_event("order_placed")
        return Placed(order=public, replayed=False)

    return table.retry.run(attempt, lambda: _too_much_contention("these products"))


def _load(orders: OrderStore, caller: Caller, order_id: str) -> OrderItem:
    order = orders.get(order_id)
    if order is None:
        raise OrderNotFoundError()
    if not caller.owns(order.user_id):
        raise ForbiddenError()
    return order


def get_order(table: Table, caller: Caller, order_id: str) -> OrderPublic:
    """The order, to its owner or an admin (unknown → 404 before 403)."""
    return _load(OrderStore(table), caller, order_id).public()


def list_orders(table: Table, caller: Caller, query: PageQuery) -> Page[OrderPublic]:
    """The caller's orders, newest first."""
    page = OrderStore(table).list_page(PageRequest(query.limit, query.cursor), caller.user_id)
    return Page[OrderPublic](items=[o.public() for o in page.items], next_cursor=page.next_cursor)


def cancel_order(table: Table, caller: Caller, order_id: str) -> OrderPublic:
    """Cancel (owner or admin) and give the stock back in one transaction; twice changes nothing."""
    products, orders = ProductStore(table), OrderStore(table)

    def attempt(_: int) -> OrderPublic:
        order = _load(orders, caller, order_id)
        if order.status == "cancelled":
            return order.public()
        # A product deleted since the order cannot take its units back; the rest can.
        existing = products.get_many(line.product_id for line in order.items)
        restock = [(line.product_id, line.quantity) for line in order.items if line.product_id in existing]
        if not orders.cancel(order, restock, isoformat(utc_now())):
            raise TryAgain()
        business_event("order_cancelled")
        return order.public().model_copy(update={"status": "cancelled"})

    return table.retry.run(attempt, lambda: _too_much_contention("this order"))
