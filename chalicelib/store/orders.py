"""Order items, and the transactions that move stock with them.

Placing: every product line's stock is decremented under the condition that it is
still there, has enough stock and has the price and currency the order was priced at;
the order is put; the idempotency record (if any) is put unless a live one exists —
all in one TransactWriteItems. Cancelling: the order flips to "cancelled" on condition
it is still "placed", and the stock comes back, in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from chalicelib.clock import isoformat
from chalicelib.errors import SessionEndedError
from chalicelib.models.common import Page
from chalicelib.models.orders import OrderItem
from chalicelib.models.products import ProductItem
from chalicelib.store import keys
from chalicelib.store.expr import Update, eq, exists, ge
from chalicelib.store.pagination import Listing, PageRequest
from chalicelib.store.repository import Repository
from chalicelib.store.schema import GSI1
from chalicelib.store.table import Action, ConditionFailedError, Key, update_action


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


class OrderStore(Repository[OrderItem]):
    """Orders: `ORDER#<id>` items, listed per user (GSI1); placed and cancelled in transactions."""

    item_type = "order"
    model = OrderItem
    owner_attribute = "user_id"

    def key(self, item_id: str) -> Key:
        """ORDER#<id> / ORDER."""
        return keys.order_key(item_id)

    def index_keys(self, item: OrderItem) -> Key:
        """In its user's orders, newest first."""
        return keys.order_index_keys(item.id, item.user_id, isoformat(item.created_at))

    def list_page(self, page: PageRequest, user_id: str) -> Page[OrderItem]:
        """One page of a user's orders, newest first (GSI1)."""
        listing = Listing(GSI1, keys.user_orders_partition(user_id), f"orders:{user_id}")
        return self._list(listing, page)

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
        if idempotency is not None:
            actions.append(idempotency)  # IdempotencyStore.put_action
        try:
            # A conflict is refused like a condition: the service decides again (one tier).
            self.table.transact_write([*actions, *guards], retry_conflicts=False)
        except ConditionFailedError as failure:
            if "ConditionalCheckFailed" in failure.reasons[len(actions) :]:
                # The buyer is gone or its session ended: retrying cannot help.
                raise SessionEndedError() from failure
            return False
        return True

    def cancel(self, order: OrderItem, restock: Sequence[tuple[str, int]], now: str) -> bool:
        """The cancelling transaction; False if the order is no longer "placed" or a product
        to restock has disappeared meanwhile."""
        flip = Update().set("status", "cancelled").set("updated_at", now)
        actions = [update_action(self.key(order.id), flip, eq("status", "placed"))]
        actions.extend(restock_action(product_id, quantity, now) for product_id, quantity in restock)
        return self.table.try_write(lambda: self.table.transact_write(actions, retry_conflicts=False))
