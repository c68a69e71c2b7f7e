"""Use cases of orders: place (idempotently), read, list, cancel."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from chalicelib.clock import isoformat, new_id, utc_now
from chalicelib.errors import (
    ConflictError,
    ForbiddenError,
    InsufficientStockError,
    NotFoundError,
    ServiceUnavailableError,
    ValidationFailedError,
)
from chalicelib.jsonio import dumps, loads
from chalicelib.models.orders import OrderCreate, OrderLine, OrderPublic
from chalicelib.models.products import ProductItem
from chalicelib.observability import business_event
from chalicelib.services.caller import Caller
from chalicelib.store import idempotency, orders
from chalicelib.store.pagination import PageRequest
from chalicelib.store.products import get_products
from chalicelib.store.table import ConditionFailedError, Table

# A failed condition (another order took the last units, a price changed) is resolved by
# re-reading and trying again, a few times. Table.transact_write retries plain conflicts.
ATTEMPTS = 4


class OrderNotFoundError(NotFoundError):
    message = "Order not found"


@dataclass(frozen=True)
class Placed:
    order: OrderPublic
    replayed: bool  # True when an Idempotency-Key retry returned the first response


def fingerprint(body: OrderCreate) -> str:
    """What "the same body" means: the same validated request, whatever its spacing."""
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()


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


def _build_order(user_id: str, lines: list[tuple[ProductItem, int]]) -> OrderPublic:
    now = utc_now()
    items = [OrderLine(product_id=p.id, name=p.name, unit_price=p.price, quantity=q) for p, q in lines]
    total = sum((p.price * q for p, q in lines), Decimal(0))
    return OrderPublic(
        id=new_id(now),
        user_id=user_id,
        items=items,
        total=total,
        currency=lines[0][0].currency,
        status="placed",
        created_at=now,
    )


def _replay(record: idempotency.IdempotencyRecord, print_: str) -> Placed:
    if record.fingerprint != print_:
        raise ConflictError("Idempotency-Key was already used with a different request body")
    return Placed(order=OrderPublic.model_validate(loads(record.response)), replayed=True)


def _record(user_id: str, key: str, print_: str, order: OrderPublic) -> idempotency.IdempotencyRecord:
    now = int(time.time())
    return idempotency.IdempotencyRecord(
        user_id=user_id,
        key=key,
        fingerprint=print_,
        response=dumps(order.model_dump(mode="python")),
        expires_at=now + idempotency.TTL_SECONDS,
        now=now,
    )


def place_order(table: Table, caller: Caller, body: OrderCreate, key: str | None = None) -> Placed:
    """Reserve every line's stock and write the order in one transaction, or change nothing
    (SessionEndedError if the caller's user or session is gone by then)."""
    user_id = caller.user_id
    print_ = fingerprint(body)
    for attempt in range(ATTEMPTS):
        if key is not None:
            record = idempotency.get_live(table, user_id, key, int(time.time()))
            if record is not None:
                return _replay(record, print_)
        lines = _check_products(body, get_products(table, [line.product_id for line in body.items]))
        order = _build_order(user_id, lines)
        record_ = _record(user_id, key, print_, order) if key is not None else None
        try:
            orders.place(table, order, lines, record_, caller.session_id)
        except ConditionFailedError:
            # Re-read and decide again: stock gone → 409; price changed → re-priced; a
            # concurrent retry with the same key → its response is replayed above.
            time.sleep(0.02 * attempt)
            continue
        business_event("order_placed")
        return Placed(order=order, replayed=False)
    raise ServiceUnavailableError(retry_after=1, message="Too much contention on these products, retry")


def get_order(table: Table, order_id: str, caller_id: str, is_admin: bool) -> OrderPublic:
    """The order, to its owner or an admin (unknown → 404 before 403)."""
    order = orders.get_order(table, order_id)
    if order is None:
        raise OrderNotFoundError()
    if order.user_id != caller_id and not is_admin:
        raise ForbiddenError()
    return order


def list_orders(table: Table, user_id: str, page: PageRequest) -> tuple[list[OrderPublic], str | None]:
    """The caller's orders, newest first."""
    return orders.list_orders(table, user_id, page)


def cancel_order(table: Table, order_id: str, caller_id: str, is_admin: bool) -> OrderPublic:
    """Cancel and give the stock back in one transaction; cancelling twice changes nothing."""
    for attempt in range(ATTEMPTS):
        order = get_order(table, order_id, caller_id, is_admin)
        if order.status == "cancelled":
            return order
        # A product deleted since the order cannot take its units back; the rest can.
        existing = get_products(table, [line.product_id for line in order.items])
        restock = [(line.product_id, line.quantity) for line in order.items if line.product_id in existing]
        try:
            orders.cancel(table, order, restock, isoformat(utc_now()))
        except ConditionFailedError:
            time.sleep(0.02 * attempt)
            continue
        business_event("order_cancelled")
        return order.model_copy(update={"status": "cancelled"})
    raise ServiceUnavailableError(retry_after=1, message="Too much contention on this order, retry")
