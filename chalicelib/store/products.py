"""Product items: the only code that reads and writes them (orders reuse these helpers).

Item: keys.product_key(id) + keys.product_index_keys(id, owner_id, created_at) +
{"type": "product", id, owner_id, name, description, price (Number), currency, stock,
version, created_at, updated_at}. An order decrements `stock`, increments `version` and
sets `updated_at` in its own transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.errors import (
    ForbiddenError,
    NotFoundError,
    PreconditionFailedError,
    ServiceUnavailableError,
)
from chalicelib.models.products import ProductItem
from chalicelib.store import keys, sessions
from chalicelib.store.pagination import PageRequest, RawPage, query_newest_first
from chalicelib.store.schema import GSI1, GSI2
from chalicelib.store.table import (
    ConditionFailedError,
    Item,
    Table,
    from_attributes,
    to_attributes,
    translate_errors,
)

ITEM_TYPE = "product"
_BATCH_GET_LIMIT = 100
_BATCH_GET_ATTEMPTS = 6


class ProductNotFoundError(NotFoundError):
    message = "Product not found"


@dataclass(frozen=True)
class WriteGuard:
    """Who writes and on which condition: an owner (unless admin) and, from If-Match,
    the versions the write may apply to (None: any version; empty: none can match)."""

    caller_id: str
    is_admin: bool
    versions: frozenset[int] | None = None


def product_to_item(product: ProductItem) -> Item:
    """A product → its full DynamoDB item, keys and index keys included."""
    return {
        **keys.product_key(product.id),
        **keys.product_index_keys(product.id, product.owner_id, product.created_at),
        "type": ITEM_TYPE,
        **product.model_dump(),
    }


def item_to_product(item: Mapping[str, Any]) -> ProductItem:
    """A DynamoDB item (numbers as Decimal) → ProductItem; keys are ignored."""
    return ProductItem.model_validate({name: item[name] for name in ProductItem.model_fields})


def put_new_product(table: Table, product: ProductItem, session_id: str | None = None) -> None:
    """Write a new product, only while its owner exists (and the owner's session, if
    given, is live): one transaction, so it cannot commit after the owner's deletion.
    SessionEndedError otherwise. Never overwrites a product (ids are fresh ULIDs)."""
    put = {
        "Put": {
            "Item": to_attributes(product_to_item(product)),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }
    checks = sessions.caller_checks(product.owner_id, session_id, int(time.time()))
    sessions.transact_as_caller(table, [put], checks)


def get_product(table: Table, product_id: str) -> ProductItem | None:
    """The product, strongly consistent, or None."""
    item = table.get(keys.product_key(product_id))
    return item_to_product(item) if item and item.get("type") == ITEM_TYPE else None


def get_products(
    table: Table,
    product_ids: Iterable[str],
    *,
    consistent: bool = True,
    pause: Callable[[float], None] = time.sleep,
) -> dict[str, ProductItem]:
    """Products by id (BatchGetItem, 100 keys a call, unprocessed keys retried); absent ids are left out."""
    wanted = list(dict.fromkeys(product_ids))
    found: dict[str, ProductItem] = {}
    for start in range(0, len(wanted), _BATCH_GET_LIMIT):
        chunk = [to_attributes(keys.product_key(pid)) for pid in wanted[start : start + _BATCH_GET_LIMIT]]
        for item in _batch_get(table, chunk, consistent, pause):
            if item.get("type") == ITEM_TYPE:
                product = item_to_product(item)
                found[product.id] = product
    return found


def _batch_get(
    table: Table, wire_keys: list[dict[str, Any]], consistent: bool, pause: Callable[[float], None]
) -> list[Item]:
    request: dict[str, Any] = {table.name: {"Keys": wire_keys, "ConsistentRead": consistent}}
    items: list[Item] = []
    for attempt in range(_BATCH_GET_ATTEMPTS):
        with translate_errors():
            response = table.client.batch_get_item(RequestItems=request)
        items.extend(from_attributes(raw) for raw in response.get("Responses", {}).get(table.name, []))
        request = dict(response.get("UnprocessedKeys") or {})
        if not request:
            return items
        pause(min(0.05 * 2**attempt, 0.8))  # back off: unprocessed keys mean throttling
    raise ServiceUnavailableError(retry_after=1)


def list_products(
    table: Table, page: PageRequest, owner_id: str | None = None
) -> tuple[list[ProductItem], str | None]:
    """One page, newest first: all products (GSI1) or one owner's (GSI2). Never a Scan."""
    raw: RawPage
    if owner_id is None:
        raw = query_newest_first(
            table, index=GSI1, partition=keys.PRODUCTS_COLLECTION, page=page, scope="products"
        )
    else:
        raw = query_newest_first(
            table,
            index=GSI2,
            partition=keys.owner_partition(owner_id),
            page=page,
            scope=f"products:owner={owner_id}",
        )
    return [item_to_product(item) for item in raw.items], raw.next_cursor


def update_product(
    table: Table, product_id: str, changes: Mapping[str, Any], guard: WriteGuard, now: str
) -> ProductItem:
    """Apply changes in ONE conditional UpdateItem that also bumps `version` by exactly 1.

    The condition carries existence, ownership and If-Match, so no read precedes the write
    and two concurrent updates can never both start from the same version.
    """
    names: dict[str, str] = {"#version": "version", "#updated_at": "updated_at"}
    values: dict[str, Any] = {":one": 1, ":now": now}
    assignments = ["#updated_at = :now", "#version = #version + :one"]
    for i, (field, value) in enumerate(sorted(changes.items())):
        names[f"#f{i}"], values[f":f{i}"] = field, value
        assignments.append(f"#f{i} = :f{i}")
    condition = _condition(guard, names, values)
    try:
        item = table.update(
            keys.product_key(product_id),
            UpdateExpression="SET " + ", ".join(assignments),
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_attributes(values),
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ConditionFailedError as failure:
        raise _explain(failure, guard) from failure
    return item_to_product(item)


def delete_product(table: Table, product_id: str, guard: WriteGuard) -> ProductItem:
    """Delete under the same conditions as an update; returns what was deleted."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    condition = _condition(guard, names, values)
    params: dict[str, Any] = {
        "ConditionExpression": condition,
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    if names:
        params.update(ExpressionAttributeNames=names, ExpressionAttributeValues=to_attributes(values))
    try:
        old = table.delete(keys.product_key(product_id), **params)
    except ConditionFailedError as failure:
        raise _explain(failure, guard) from failure
    if old is None:  # unreachable while the condition holds; kept so a None never escapes
        raise ProductNotFoundError()
    return item_to_product(old)


def _condition(guard: WriteGuard, names: dict[str, str], values: dict[str, Any]) -> str:
    parts = ["attribute_exists(pk)"]
    if not guard.is_admin:
        names["#owner_id"], values[":caller"] = "owner_id", guard.caller_id
        parts.append("#owner_id = :caller")
    if guard.versions is not None:
        # No product has version 0: an If-Match with no usable strong tag matches nothing.
        versions = sorted(guard.versions) or [0]
        names["#version"] = "version"
        values.update({f":v{i}": v for i, v in enumerate(versions)})
        parts.append(f"#version IN ({', '.join(f':v{i}' for i in range(len(versions)))})")
    return " AND ".join(parts)


def _explain(failure: ConditionFailedError, guard: WriteGuard) -> Exception:
    """Which condition failed, from the item DynamoDB returned with the failure.

    Checked in the order of RFC 9110 13.2.1 (a precondition never hides a 404 or a 403):
    absent → not found; someone else's → forbidden; else the version → precondition failed.
    """
    current = failure.item
    if current is None or current.get("type") != ITEM_TYPE:
        return ProductNotFoundError()
    if not guard.is_admin and current.get("owner_id") != guard.caller_id:
        return ForbiddenError()
    return PreconditionFailedError()
