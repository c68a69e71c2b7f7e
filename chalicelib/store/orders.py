"""Order items, and the transactions that move stock with them.

Placing: every product line's stock is decremented under the condition that it is
still there, has enough stock and has the price and currency the order was priced at;
the order is put; the idempotency record (if any) is put unless a live one exists —
all in one TransactWriteItems.

Every later transition is ONE conditional write built by one method here (`pay`,
`flag_refund`, `ship`, `deliver`, `cancel`, `expire`; each takes `also`: more transaction
actions to commit with it, e.g. an outbox event): it sets the status, moves the order
to its status's index partition (GSI3) and appends to `status_history`, under a condition
on the status it leaves. A transition that gives stock back (cancel, expire) is one
transaction with the restocks. docs/orders.md lists each condition and what races resolve to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from chalicelib.clock import isoformat
from chalicelib.errors import SessionEndedError
from chalicelib.models.common import Page
from chalicelib.models.events import new_event
from chalicelib.models.orders import OrderItem, OrderStatus, ShipmentCreate
from chalicelib.models.products import ProductItem
from chalicelib.store import keys
from chalicelib.store.expr import Condition, Update, eq, exists, ge, gt, le, ne, not_exists
from chalicelib.store.outbox import announce
from chalicelib.store.pagination import (
    Listing,
    PageRequest,
    ShardRange,
    merge_shards,
    query_filtered_newest_first,
)
from chalicelib.store.repository import Repository, Written
from chalicelib.store.schema import GSI1, GSI3, TTL_ATTRIBUTE
from chalicelib.store.table import (
    CONDITION_FAILED,
    Action,
    ConditionFailedError,
    Key,
    put_action,
    update_action,
)

RECEIPT_TTL_SECONDS = 7 * 24 * 3600  # providers retry a delivery for up to a few days
SWEEP_PAGE = 100  # due orders read per page by the sweep (every page is read each run)


def _stock_update(delta: int, now: str) -> Update:
    return Update().increment("stock", delta).increment("version").set("updated_at", now)


def reserve_action(product: ProductItem, quantity: int, now: str) -> Action:
    """Take `quantity` units, only if they are there at the price the order was priced at."""
    condition = (
        exists() & ge("stock", quantity) & eq("price", product.price) & eq("currency", product.currency)
    )
    return update_action(keys.product_key(product.id), _stock_update(-quantity, now), condition)


def restock_action(product_id: str, quantity: int, now: str) -> Action:
    """Give `quantity` units back to a product that still exists."""
    return update_action(keys.product_key(product_id), _stock_update(quantity, now), exists())


def _moved(order_id: str, status: OrderStatus, at: str, when: str | None = None) -> Update:
    """The part every transition shares: the status, its index partition, the history entry."""
    entry = {"status": status, "at": when or at}
    partition = keys.status_partition(status, keys.status_shard(order_id))
    return (
        Update()
        .set("status", status)
        .set("gsi3pk", partition)
        .set("updated_at", at)
        .append("status_history", [entry])
    )


# A transition pinned to the order it read is tried this often while other writes change it.
PINNED_ATTEMPTS = 3
Moved = Callable[[OrderItem], OrderItem]
EMPTY: Mapping[str, Any] = {}


def after(
    order: OrderItem,
    status: OrderStatus,
    at: str,
    when: str | None = None,
    changes: Mapping[str, Any] = EMPTY,
) -> OrderItem:
    """The order as a transition leaves it (what _moved and its extra sets write): its event's data."""
    history = [*order.model_dump()["status_history"], {"status": status, "at": when or at}]
    return OrderItem.model_validate(
        {**order.model_dump(), **changes, "status": status, "status_history": history}
    )


def announced(event_type: str, order: OrderItem) -> Action:
    """The transaction item of an order's event (each status is reached at most once: the
    status names the transition, so it makes the id stable)."""
    moment = order.status_history[-1].at if order.status_history else order.created_at
    event = new_event(event_type, f"orders/{order.id}", order.public(), order.status, moment)
    return announce(event)


def _placed_and_due_after(now: str) -> Condition:
    """Still placed and its payment window still open (orders from before the window have none)."""
    return eq("status", "placed") & (not_exists("payment_due_at") | gt("payment_due_at", now))


def _not_open(now: str) -> Condition:
    """No longer payable: any status but placed, or placed with its deadline passed."""
    return exists() & (ne("status", "placed") | le("payment_due_at", now))


class Payment(Enum):
    """How a payment transaction ended."""

    APPLIED = "applied"  # the order took it (paid, or flagged refund_due)
    DUPLICATE = "duplicate"  # this webhook-id was applied before: nothing changed
    ORDER_CHANGED = "order_changed"  # the order is not as read: read it again


def receipt_action(webhook_id: str, order_id: str, now_epoch: int) -> Action:
    """Record a webhook delivery; the transaction fails if this webhook-id was recorded."""
    item = {
        **keys.webhook_receipt_key(webhook_id),
        "type": "webhook_receipt",
        "order_id": order_id,
        TTL_ATTRIBUTE: now_epoch + RECEIPT_TTL_SECONDS,
    }
    return put_action(item, not_exists())


class OrderStore(Repository[OrderItem]):
    """Orders: `ORDER#<id>` items, listed per user (GSI1); placed and cancelled in transactions."""

    item_type = "order"
    model = OrderItem
    owner_attribute = "user_id"

    def key(self, item_id: str) -> Key:
        """ORDER#<id> / ORDER."""
        return keys.order_key(item_id)

    def index_keys(self, item: OrderItem) -> Key:
        """In its user's orders, newest first (GSI1); in its status's shard by deadline (GSI3)."""
        index = keys.order_index_keys(item.id, item.user_id, isoformat(item.created_at))
        if item.payment_due_at is not None:
            index.update(keys.order_status_keys(item.id, item.status, isoformat(item.payment_due_at)))
        return index

    def list_page(
        self, page: PageRequest, user_id: str, status: OrderStatus | None = None, now: str = ""
    ) -> Page[OrderItem]:
        """One page of a user's orders, newest first (GSI1); only those that read as `status`
        at `now` when given (placed past its deadline reads as expired)."""
        listing = Listing(GSI1, keys.user_orders_partition(user_id), f"orders:{user_id}:{status or ''}")
        if status is None:
            return self._list(listing, page)
        return query_filtered_newest_first(self.table, listing, page, self._parse, _reads_as(status, now))

    def list_by_status(self, page: PageRequest, status: OrderStatus, now: str) -> Page[OrderItem]:
        """One page of every order that reads as `status` at `now`, oldest first (GSI3, all shards)."""
        return merge_shards(
            self.table, GSI3, _status_shards(status, now), page, f"admin-orders:{status}", self._parse
        )

    def due(self, now: str, cursor: str | None = None, size: int = SWEEP_PAGE) -> Page[OrderItem]:
        """One page of the placed orders whose deadline has passed, oldest first, from the
        index (eventually consistent: each expiry re-checks the order under its own condition)."""
        return merge_shards(
            self.table, GSI3, _placed_due(now), PageRequest(size, cursor), "sweep", self._parse
        )

    def place(
        self,
        order: OrderItem,
        lines: Sequence[tuple[ProductItem, int]],
        idempotency: Action | None,
        guards: Sequence[Action] = (),
    ) -> bool:
        """The placing transaction; False if a condition failed (stock, price, a live key);
        SessionEndedError if a guard did (the buyer's checks, store/sessions.caller_checks).

        Action order: one per line, then the order, then the idempotency record, then the guards.
        """
        now = isoformat(order.created_at)
        actions = [reserve_action(product, quantity, now) for product, quantity in lines]
        actions.append(self.put_action(order))
        actions.append(announced("order.placed", order))
        if idempotency is not None:
            actions.append(idempotency)  # IdempotencyStore.put_action
        try:
            # A conflict is refused like a condition: the service decides again (one tier).
            self.table.transact_write([*actions, *guards], retry_conflicts=False)
        except ConditionFailedError as failure:
            if CONDITION_FAILED in failure.reasons[len(actions) :]:
                # The buyer is gone or its session ended: retrying cannot help.
                raise SessionEndedError() from failure
            return False
        return True

    def cancel(
        self, order: OrderItem, restock: Sequence[tuple[str, int]], now: str, also: Sequence[Action] = ()
    ) -> bool:
        """The cancelling transaction from the status read (placed and still payable, or
        paid: then refund_due); False if the order has moved on, or a product to restock
        has disappeared meanwhile."""
        flip = _moved(order.id, "cancelled", now)
        if order.status == "paid":
            flip, condition = flip.set("refund_due", True), eq("status", "paid")
        else:
            condition = _placed_and_due_after(now)
        actions = [update_action(self.key(order.id), flip, condition)]
        actions.extend(restock_action(product_id, quantity, now) for product_id, quantity in restock)
        refund = {"refund_due": True} if order.status == "paid" else {}
        event = announced("order.cancelled", after(order, "cancelled", now, changes=refund))
        return self._transact([*actions, *also, event])

    def expire(
        self, order: OrderItem, restock: Sequence[tuple[str, int]], now: str, also: Sequence[Action] = ()
    ) -> bool:
        """The expiring transaction: placed and past its deadline → expired (recorded at the
        deadline, as reads showed it), stock back; False if it was paid or cancelled first,
        or if a late payment flagged a refund since the read (the event carries the order as
        read: the sweep's next run expires it with the flag)."""
        due = isoformat(order.payment_due_at) if order.payment_due_at else now
        condition = eq("status", "placed") & le("payment_due_at", now) & eq("refund_due", order.refund_due)
        actions = [update_action(self.key(order.id), _moved(order.id, "expired", now, due), condition)]
        actions.extend(restock_action(product_id, quantity, now) for product_id, quantity in restock)
        event = announced("order.expired", after(order, "expired", now, due))
        return self._transact([*actions, *also, event])

    def pay(
        self, order_id: str, payment: PaymentFacts, receipt: Action, also: Sequence[Action] = ()
    ) -> Payment:
        """placed (window open, same amount and currency) → paid, and the webhook's receipt,
        in one transaction."""
        condition = (
            _placed_and_due_after(payment.now)
            & eq("total", payment.amount)
            & eq("currency", payment.currency)
        )
        flip = _moved(order_id, "paid", payment.now).set("payment_id", payment.payment_id)
        return self._apply_payment([update_action(self.key(order_id), flip, condition), receipt, *also])

    def flag_refund(self, order_id: str, now: str, receipt: Action, also: Sequence[Action] = ()) -> Payment:
        """A payment for an order no longer payable: refund_due, status unchanged, and the
        webhook's receipt, in one transaction."""
        flag = Update().set("refund_due", True).set("updated_at", now)
        return self._apply_payment([update_action(self.key(order_id), flag, _not_open(now)), receipt, *also])

    def ship(
        self, order_id: str, shipment: ShipmentCreate, now: str, also: Sequence[Action] = ()
    ) -> Written[OrderItem]:
        """paid → shipped with its carrier and tracking number: one conditional UpdateItem."""
        flip = _moved(order_id, "shipped", now).set("shipment", shipment.model_dump())
        changes = {"shipment": shipment.model_dump()}
        return self._announced_flip(
            order_id, flip, "paid", lambda o: after(o, "shipped", now, changes=changes), also
        )

    def deliver(self, order_id: str, now: str, also: Sequence[Action] = ()) -> Written[OrderItem]:
        """shipped → delivered: one conditional UpdateItem."""
        flip = _moved(order_id, "delivered", now)
        return self._announced_flip(order_id, flip, "shipped", lambda o: after(o, "delivered", now), also)

    def _announced_flip(
        self, order_id: str, flip: Update, source: OrderStatus, moved: Moved, also: Sequence[Action]
    ) -> Written[OrderItem]:
        """`source` → the next status, with the event of the order as it is after: pinned to the
        order read (the only other change a paid or shipped order sees is refund_due), read again
        if something else changed it meanwhile."""
        written: Written[OrderItem] = Written(None)
        for _ in range(PINNED_ATTEMPTS):
            order = self.get(order_id)
            if order is None:
                return Written(None)
            new = moved(order)
            pinned = eq("status", source) & eq("refund_due", order.refund_due)
            written = self._flip(order_id, flip, pinned, [*also, announced(f"order.{new.status}", new)])
            if written.item is not None or written.old is None or written.old.status != source:
                return written
        return written

    def _flip(
        self, order_id: str, update: Update, condition: Condition, also: Sequence[Action]
    ) -> Written[OrderItem]:
        """One UpdateItem; with extra actions (`also`, e.g. an outbox event) one transaction."""
        if also:
            if not self._transact([update_action(self.key(order_id), update, exists() & condition), *also]):
                return Written(None, self.get(order_id))
            return Written(self.get(order_id))
        try:
            raw = self.table.update(self.key(order_id), update, exists() & condition)
        except ConditionFailedError as failure:
            return Written(None, self.parse(failure.item))
        return Written(self._parse(raw))

    def _apply_payment(self, actions: list[Action]) -> Payment:
        # Any refusal (a condition, or a conflict with another transaction) is decided again
        # by the service from a fresh read: the one retry tier (services/payments.py).
        try:
            self.table.transact_write(actions, retry_conflicts=False)
        except ConditionFailedError as failure:
            if failure.reasons[1:2] == [CONDITION_FAILED]:
                return Payment.DUPLICATE
            return Payment.ORDER_CHANGED
        return Payment.APPLIED

    def _transact(self, actions: list[Action]) -> bool:
        # A conflict is refused like a condition: the service decides again (one tier).
        return self.table.try_write(lambda: self.table.transact_write(actions, retry_conflicts=False))


@dataclass(frozen=True)
class PaymentFacts:
    """What a payment claims (checked against the order inside the paying write), and when."""

    payment_id: str
    amount: Decimal
    currency: str
    now: str


def _reads_as(status: OrderStatus, now: str) -> Condition:
    """The filter for orders that read as `status` at `now` (the read-time expiry)."""
    if status == "placed":
        return _placed_and_due_after(now)
    if status == "expired":
        return eq("status", "expired") | (eq("status", "placed") & le("payment_due_at", now))
    return eq("status", status)


def _status_shards(status: OrderStatus, now: str) -> list[ShardRange]:
    shards = range(keys.STATUS_SHARDS)
    if status == "expired":  # stored expired, and placed ones whose deadline has passed
        return [ShardRange(keys.status_partition("expired", s)) for s in shards] + _placed_due(now)
    if status == "placed":  # only those still payable
        return [ShardRange(keys.status_partition(status, s), floor=f"{now}#~") for s in shards]
    return [ShardRange(keys.status_partition(status, s)) for s in shards]


def _placed_due(now: str) -> list[ShardRange]:
    # Sort keys are `<due>#<id>` and ids sort below "~": every order due at or before `now`.
    return [
        ShardRange(keys.status_partition("placed", s), upto=f"{now}#~") for s in range(keys.STATUS_SHARDS)
    ]
