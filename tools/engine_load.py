"""Restart in time proportional to the data: journaled writes applied straight to moto's backend.

Replaying the data directory as HTTP requests made the engine's restart cost far more than the
data: every request went through moto's request parser and response builder, every stored
attribute was size-checked against all the others of its item (quadratic per item), and every
TransactWriteItems deep-copied the whole table first to be able to roll back — so the journal
replay grew with (transactions x table size): 65-92 s for 1.35 MB of data.

Everything replayed was accepted once, against the very state the replay rebuilds, so none of
that is needed again:

- the snapshot's BatchWriteItem puts become moto ``Item`` objects set into the table directly
  (one dict assignment per item, no parse, no per-attribute size check);
- a journaled TransactWriteItems is applied action by action through the backend's own
  put/update/delete (conditions still evaluated, so a divergence still fails loudly), without the
  whole-table backup a transaction that can fail needs.

Anything else (CreateTable, UpdateTimeToLive, PutItem, ...) still goes through moto's front door.
The compaction that follows reads the items back from the backend too, not through Scan.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

from chalicelib.store import keys

Body = dict[str, Any]
# What a successful TransactWriteItems (or BatchWriteItem with nothing left) answers in a replay.
TRANSACTION_ANSWER = b"{}"


def backend_of(region: str, table_name: str) -> Any | None:
    """moto's DynamoDB backend (any account) that holds this table in this region, or None."""
    from moto.dynamodb.models import dynamodb_backends

    for regions in dict.values(dynamodb_backends):
        backend = dict.get(regions, region)  # never creates a backend (unlike regions[region])
        if backend is not None and table_name in backend.tables:
            return backend
    return None


class _ItemMaker:
    """Builds moto Items for attributes that were valid once (moto imported on first use)."""

    def __init__(self) -> None:
        from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

        self.dynamo_type: Any = DynamoType
        self.item: Any = Item
        self.attrs: Any = LimitedSizeDict

    def value(self, raw: Body) -> Any:
        """A DynamoType for one attribute value; scalars and sets skip moto's generic path."""
        ((kind, value),) = raw.items()
        if kind in ("L", "M"):  # nested values are converted recursively by moto itself
            return self.dynamo_type(raw)
        typed = self.dynamo_type.__new__(self.dynamo_type)
        typed.type, typed.value = kind, value
        return typed

    def __call__(self, table: Any, attrs: Body) -> Any:
        """The Item, without the per-attribute size check (quadratic in the item's attributes)."""
        item = self.item.__new__(self.item)
        values = self.attrs()
        dict.update(values, {name: self.value(raw) for name, raw in attrs.items()})  # no __setitem__
        item.attrs = values
        item.hash_key = self.value(attrs[table.hash_key_attr])
        item.range_key = self.value(attrs[table.range_key_attr]) if table.range_key_attr else None
        return item


_maker: list[_ItemMaker] = []


def _new_item(table: Any, attrs: Body) -> Any:
    if not _maker:
        _maker.append(_ItemMaker())
    return _maker[0](table, attrs)


# Items whose stream record matters on restore: the outbox's (the local publisher reads them
# from the stream again and skips the ids it has written, so none committed before a crash is
# lost). No reader looks at any other item's stream record.
STREAMED_PREFIX = keys.OUTBOX_PREFIX


def _streamed(write: Body) -> bool:
    pk = write["PutRequest"]["Item"].get("pk", {})
    return isinstance(pk, dict) and str(pk.get("S", "")).startswith(STREAMED_PREFIX)


def load_puts(region: str, body: Body) -> bool:
    """Set a BatchWriteItem's puts into their tables directly; False when something is left for
    the caller to replay as a request: a batch that is not all puts into known tables (nothing
    done), or the outbox items of a table with a stream (`body` keeps only those: their stream
    records are made by the request)."""
    requests = body.get("RequestItems")
    if not isinstance(requests, dict) or not requests:
        return False
    tables: dict[str, Any] = {}
    for name, writes in requests.items():
        backend = backend_of(region, name)
        table = backend.tables[name] if backend is not None else None
        if table is None or not all(set(write) == {"PutRequest"} for write in writes):
            return False
        tables[name] = table
    left: dict[str, list[Body]] = {}
    for name, writes in requests.items():
        table = tables[name]
        for write in writes:
            if table.stream_shard is not None and _streamed(write):
                left.setdefault(name, []).append(write)
                continue
            item = _new_item(table, write["PutRequest"]["Item"])
            if item.range_key is not None:
                table.items[item.hash_key][item.range_key] = item
            else:
                table.items[item.hash_key] = item
    body["RequestItems"] = left
    return not left


def apply_transaction(region: str, body: Body) -> bool:
    """Apply an accepted TransactWriteItems through the backend, action by action, without the
    whole-table backup; False (nothing done) when a table is unknown here."""
    actions = body.get("TransactItems") or []
    steps: list[tuple[Any, str, Body]] = []
    for action in actions:
        kind, op = next(iter(action.items()))
        backend = backend_of(region, str(op.get("TableName")))
        if backend is None:
            return False
        steps.append((backend, kind, op))
    for backend, kind, op in steps:  # one item each: the order cannot change the outcome
        _apply(backend, kind, op)
    return True


def _apply(backend: Any, kind: str, op: Body) -> None:
    names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
    condition = op.get("ConditionExpression")
    if kind == "Put":
        backend.put_item(
            op["TableName"],
            op["Item"],
            condition_expression=condition,
            expression_attribute_names=names,
            expression_attribute_values=values,
        )
    elif kind == "Update":
        backend.update_item(
            op["TableName"],
            op["Key"],
            update_expression=op["UpdateExpression"],
            expression_attribute_names=names,
            expression_attribute_values=values,
            condition_expression=condition,
        )
    elif kind == "Delete":
        backend.delete_item(
            op["TableName"],
            op["Key"],
            expression_attribute_names=names,
            expression_attribute_values=values,
            condition_expression=condition,
        )
    elif kind != "ConditionCheck":  # a check changes nothing
        raise ValueError(f"unknown transaction action {kind}")


def table_items(region: str, table_name: str) -> Iterator[Body] | None:
    """Every item of a table as DynamoDB JSON, read from the backend (moto's Scan builds each
    answer through its generic serialiser: ~10 ms per item); None if the table is not here."""
    backend = backend_of(region, table_name)
    if backend is None:
        return None
    table = backend.tables[table_name]

    def rows() -> Iterator[Body]:
        for stored in list(table.items.values()):
            for item in list(stored.values()) if table.range_key_attr else [stored]:
                yield {name: wire(value) for name, value in item.attrs.items()}

    return rows()


def wire(value: Any) -> Body:
    """A moto DynamoType as DynamoDB JSON ({"S": "x"}, {"M": {...}}, binary as base64)."""
    kind, raw = value.type, value.value
    if kind == "M":
        return {kind: {name: wire(member) for name, member in raw.items()}}
    if kind == "L":
        return {kind: [wire(member) for member in raw]}
    if isinstance(raw, bytes):
        return {kind: base64.b64encode(raw).decode("ascii")}
    if kind == "BS":
        return {kind: [base64.b64encode(m).decode("ascii") if isinstance(m, bytes) else m for m in raw]}
    return {kind: raw}
