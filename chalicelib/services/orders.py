"""Use cases of orders: place (idempotently), read, list, cancel, ship, deliver, expire.

Anyone signed in places orders for themselves; an order is read or cancelled by its
owner or an admin; each caller lists their own orders; only admins ship, deliver and list
every order by status. Expiry is nobody's request: the sweep (`expire_due_orders`) runs
on a schedule, and every read shows an overdue placed order as expired meanwhile.
Payment is services/payments.py. The state machine: docs/orders.md.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from chalicelib.clock import isoformat, new_id, utc_now
from chalicelib.config import get_settings
from chalicelib.errors import (
    ForbiddenError,
    InsufficientStockError,
    OrderNotFoundError,
    OrderStateError,
    ServiceUnavailableError,
    StorefrontError,
    ValidationFailedError,
)
from chalicelib.models.common import Page, PageQuery
from chalicelib.models.orders import (
    AdminOrderQuery,
    OrderCreate,
    OrderItem,
    OrderLine,
    OrderPublic,
    OrderStatus,
    OrderStatusQuery,
    ShipmentCreate,
    StatusChange,
)
from chalicelib.models.products import ProductItem
from chalicelib.observability import business_event
from chalicelib.retry import TryAgain
from chalicelib.services import idempotent
from chalicelib.services.caller import Caller
from chalicelib.store.orders import SWEEP_PAGE, OrderStore
from chalicelib.store.pagination import PageRequest
from chalicelib.store.products import ProductStore
from chalicelib.store.repository import Written
from chalicelib.store.sessions import caller_checks
from chalicelib.store.table import Table

logger = logging.getLogger("storefront")


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
    window = timedelta(seconds=get_settings().order_payment_window_seconds)
    return OrderItem(
        id=new_id(now),
        user_id=user_id,
        items=items,
        total=total,
        currency=lines[0][0].currency,
        status="placed",
        status_history=[StatusChange(status="placed", at=now)],
        payment_due_at=now + window,
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

    def decide(now: int) -> Placed:
        lines = _check_products(body, products.get_many(line.product_id for line in body.items))
        order = _build_order(caller.user_id, lines)
        public = order.public()
        record_ = idempotent.record(table, request, public, now) if request is not None else None
        checks = caller_checks(caller.user_id, caller.session_id, int(time.time()))
        if not orders.place(order, lines, record_, checks):
            raise TryAgain()
        business_event("order_placed")
        return Placed(order=public, replayed=False)

    def attempt(_: int) -> Placed:
        now = int(time.time())
        if request is None:
            return decide(now)
        first = idempotent.earlier(table, request, OrderPublic, now)
        if first is not None:
            return Placed(order=first, replayed=True)
        try:
            return decide(now)
        except ServiceUnavailableError:
            raise  # the outcome is unknown: the client retries with the same key
        except StorefrontError as refused:
            # A concurrent retry with this key may have committed after the look-up above and
            # taken the last units: the client gets that first response, not a 409.
            return Placed(order=idempotent.won_meanwhile(table, request, OrderPublic, refused), replayed=True)

    return table.retry.run(attempt, lambda: _too_much_contention("these products"))


def _load(orders: OrderStore, caller: Caller, order_id: str) -> OrderItem:
    order = orders.get(order_id)
    if order is None:
        raise OrderNotFoundError()
    if not caller.owns(order.user_id):
        raise ForbiddenError()
    return order


def get_order(table: Table, caller: Caller, order_id: str) -> OrderPublic:
    """The order, to its owner or an admin (unknown → 404 before 403), as it reads now."""
    return _load(OrderStore(table), caller, order_id).public(utc_now())


def _page(page: Page[OrderItem], now: datetime) -> Page[OrderPublic]:
    return Page[OrderPublic](items=[o.public(now) for o in page.items], next_cursor=page.next_cursor)


def list_orders(table: Table, caller: Caller, query: PageQuery | OrderStatusQuery) -> Page[OrderPublic]:
    """The caller's orders, newest first; `?status=` keeps those that read as that status."""
    now = utc_now()
    status = query.status if isinstance(query, OrderStatusQuery) else None
    request = PageRequest(query.limit, query.cursor)
    return _page(OrderStore(table).list_page(request, caller.user_id, status, isoformat(now)), now)


def list_orders_by_status(table: Table, caller: Caller, query: AdminOrderQuery) -> Page[OrderPublic]:
    """Every order that reads as `status`, oldest first (admin): the fulfilment queue."""
    if not caller.is_admin:
        raise ForbiddenError()
    now = utc_now()
    request = PageRequest(query.limit, query.cursor)
    return _page(OrderStore(table).list_by_status(request, query.status, isoformat(now)), now)


def _restock(products: ProductStore, order: OrderItem) -> list[tuple[str, int]]:
    # A product deleted since the order cannot take its units back; the rest can.
    existing = products.get_many(line.product_id for line in order.items)
    return [(line.product_id, line.quantity) for line in order.items if line.product_id in existing]


def cancel_order(table: Table, caller: Caller, order_id: str) -> OrderPublic:
    """Cancel (owner or admin) from placed, or from paid with refund_due, and give the stock
    back in one transaction; twice changes nothing; shipped, delivered, expired → 409."""
    products, orders = ProductStore(table), OrderStore(table)

    def attempt(_: int) -> OrderPublic:
        order = _load(orders, caller, order_id)
        now = utc_now()
        status = order.effective_status(now)
        if status == "cancelled":
            return order.public(now)
        if status not in ("placed", "paid"):
            raise OrderStateError(status, "cancel")
        if orders.cancel(order, _restock(products, order), isoformat(now)):
            business_event("order_cancelled")
            return _reread(orders, order_id, now)
        return _lost_cancel(orders, order_id, status)

    return table.retry.run(attempt, lambda: _too_much_contention("this order"))


def _lost_cancel(orders: OrderStore, order_id: str, status: str) -> OrderPublic:
    """A refused cancel, explained from a fresh read: the race had one winner, and it is
    not turned into a second transition (a payment that won is not cancelled behind it)."""
    now = utc_now()
    fresh = orders.get(order_id)
    current = fresh.effective_status(now) if fresh is not None else status
    if fresh is None or current == status:
        raise TryAgain()  # a product was deleted meanwhile: decide again
    if current == "cancelled":
        return fresh.public(now)  # another cancel won: the same answer
    raise OrderStateError(current, "cancel")


def _reread(orders: OrderStore, order_id: str, now: datetime) -> OrderPublic:
    order = orders.get(order_id)
    if order is None:  # pragma: no cover - orders are never deleted
        raise OrderNotFoundError()
    return order.public(now)


def _admin_flip(
    caller: Caller, order_id: str, action: str, source: OrderStatus, flip: Written[OrderItem]
) -> OrderPublic:
    """The flipped order, or why not: unknown → 404, not admin → 403, still in `source` after
    every attempt (other transactions kept winning) → 503, else 409 naming the status."""
    if flip.item is not None:
        business_event(f"order_{action}ped" if action == "ship" else f"order_{action}ed")
        return flip.item.public(utc_now())
    if flip.old is None:
        raise OrderNotFoundError()
    if flip.old.status == source:
        raise _too_much_contention("this order")
    raise OrderStateError(flip.old.effective_status(utc_now()), action)


def ship_order(table: Table, caller: Caller, order_id: str, body: ShipmentCreate) -> OrderPublic:
    """paid → shipped (admin), with its carrier and tracking number."""
    _require_admin(table, caller, order_id)
    return _admin_flip(
        caller, order_id, "ship", "paid", OrderStore(table).ship(order_id, body, isoformat(utc_now()))
    )


def deliver_order(table: Table, caller: Caller, order_id: str) -> OrderPublic:
    """shipped → delivered (admin)."""
    _require_admin(table, caller, order_id)
    return _admin_flip(
        caller, order_id, "deliver", "shipped", OrderStore(table).deliver(order_id, isoformat(utc_now()))
    )


def _require_admin(table: Table, caller: Caller, order_id: str) -> None:
    # 404 before 403, as everywhere: a non-admin learns whether the order exists only if it is theirs.
    if not caller.is_admin:
        _load(OrderStore(table), caller, order_id)
        raise ForbiddenError()


def expire_due_orders(table: Table, now: datetime | None = None, page_size: int = SWEEP_PAGE) -> int:
    """The sweep: every placed order past its deadline becomes expired, its stock back in the
    same transaction; the number expired. Safe to run anywhere, any number of times at once:
    each expiry is conditional on the order still being placed and overdue."""
    moment = now or utc_now()
    stamp = isoformat(moment)
    orders = OrderStore(table)
    page = orders.due(stamp, None, page_size)
    expired = _expire_listed(table, page.items, moment)
    while page.next_cursor is not None:  # every page of due orders, each once (the cursor is a sort key)
        page = orders.due(stamp, page.next_cursor, page_size)
        expired += _expire_listed(table, page.items, moment)
    if expired:
        logger.info("expired orders", extra={"expired": expired})
    return expired


def _expire_listed(table: Table, listed: list[OrderItem], moment: datetime) -> int:
    products, orders, expired = ProductStore(table), OrderStore(table), 0
    for candidate in listed:
        order = orders.get(candidate.id)  # the index lags: decide from the item itself
        if order is None or not order.is_overdue(moment):
            continue
        if orders.expire(order, _restock(products, order), isoformat(moment)):
            expired += 1
            business_event("order_expired")
    return expired
