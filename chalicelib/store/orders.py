"""Order items, and the transactions that move stock with them.

Placing: every product line's stock is decremented under the condition that it is
still there, has enough stock and has the price and currency the order was priced at;
the order is put; the idempotency record (if any) is put unless a live one exists —
all in one TransactWriteItems. Cancelling: the order flips to "cancelled" on condition
it is still "placed", and the stock comes back, in one transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chalicelib.clock import isoformat
from chalicelib.models.orders import OrderPublic
from chalicelib.models.products import ProductItem
from chalicelib.store import keys, sessions
from chalicelib.store.idempotency import IdempotencyRecord, put_action
from chalicelib.store.pagination import PageRequest, query_newest_first
from chalicelib.store.schema import GSI1
from chalicelib.store.table import Item, Table, to_attributes

ITEM_TYPE = "order"


def order_to_item(order: OrderPublic) -> Item:
    created = isoformat(order.created_at)
    return {
        **keys.order_key(order.id),
        **keys.order_index_keys(order.id, order.user_id, created),
        "type": ITEM_TYPE,
        **order.model_dump(mode="python"),
    }


def item_to_order(item: Mapping[str, Any]) -> OrderPublic:
    return OrderPublic.model_validate({name: item[name] for name in OrderPublic.model_fields})


def get_order(table: Table, order_id: str) -> OrderPublic | None:
    """The order, strongly consistent, or None."""
    item = table.get(keys.order_key(order_id))
    return item_to_order(item) if item and item.get("type") == ITEM_TYPE else None


def list_orders(table: Table, user_id: str, page: PageRequest) -> tuple[list[OrderPublic], str | None]:
    """One page of a user's orders, newest first (GSI1)."""
    raw = query_newest_first(
        table, index=GSI1, partition=keys.user_orders_partition(user_id), page=page, scope=f"orders:{user_id}"
    )
    return [item_to_order(item) for item in raw.items], raw.next_cursor


def _stock_action(
    product_id: str, delta: int, now: str, condition: str, extra: Mapping[str, Any]
) -> dict[str, Any]:
    values = {":delta": delta, ":one": 1, ":now": now, **extra}
    return {
        "Update": {
            "Key": to_attributes(keys.product_key(product_id)),
            "UpdateExpression": "SET #stock = #stock + :delta, #version = #version + :one, #updated = :now",
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#stock": "stock", "#version": "version", "#updated": "updated_at"}
            | ({"#price": "price", "#currency": "currency"} if ":price" in extra else {}),
            "ExpressionAttributeValues": to_attributes(values),
        }
    }


def reserve_action(product: ProductItem, quantity: int, now: str) -> dict[str, Any]:
    """Take `quantity` units, only if they are there at the price the order was priced at."""
    condition = "attribute_exists(pk) AND #stock >= :quantity AND #price = :price AND #currency = :currency"
    extra = {":quantity": quantity, ":price": product.price, ":currency": product.currency}
    return _stock_action(product.id, -quantity, now, condition, extra)


def restock_action(product_id: str, quantity: int, now: str) -> dict[str, Any]:
    """Give `quantity` units back to a product that still exists."""
    return _stock_action(product_id, quantity, now, "attribute_exists(pk)", {})


def place(
    table: Table,
    order: OrderPublic,
    lines: Sequence[tuple[ProductItem, int]],
    idempotency: IdempotencyRecord | None,
    session_id: str | None = None,
) -> None:
    """The placing transaction; ConditionFailedError (reasons in action order) if any condition
    fails, SessionEndedError if the buyer (or the buyer's session) no longer exists.

    Action order: one per line, then the order, then the idempotency record, then the
    checks on the buyer (store/sessions.caller_checks).
    """
    now = isoformat(order.created_at)
    actions = [reserve_action(product, quantity, now) for product, quantity in lines]
    actions.append(
        {
            "Put": {
                "Item": to_attributes(order_to_item(order)),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
    )
    if idempotency is not None:
        actions.append(put_action(idempotency))
    checks = sessions.caller_checks(order.user_id, session_id, int(order.created_at.timestamp()))
    sessions.transact_as_caller(table, actions, checks)


def cancel(table: Table, order: OrderPublic, restock: Sequence[tuple[str, int]], now: str) -> None:
    """The cancelling transaction; ConditionFailedError if the order is no longer "placed"
    or a product to restock has disappeared meanwhile."""
    actions: list[dict[str, Any]] = [
        {
            "Update": {
                "Key": to_attributes(keys.order_key(order.id)),
                "UpdateExpression": "SET #status = :cancelled, #updated = :now",
                "ConditionExpression": "#status = :placed",
                "ExpressionAttributeNames": {"#status": "status", "#updated": "updated_at"},
                "ExpressionAttributeValues": to_attributes(
                    {":cancelled": "cancelled", ":placed": "placed", ":now": now}
                ),
            }
        }
    ]
    actions.extend(restock_action(product_id, quantity, now) for product_id, quantity in restock)
    table.transact_write(actions)
