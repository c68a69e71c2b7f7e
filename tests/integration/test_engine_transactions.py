"""The engine's repairs of moto's TransactWriteItems (tools/dynamodb_engine.py): a refused
transaction still changes nothing, its rollback backup copies only the partitions it names,
and moto no longer keeps a copy of the table alive for every transaction ever made.

The engine runs in this process (moto's WSGI app, no HTTP), as in test_engine_journal.py.
"""

from __future__ import annotations

import copy
import gc
import json
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.store.schema import create_table_params
from tools import dynamodb_engine
from tools.dynamodb_engine import Engine, moto_apps

TABLE = "transactions"


class Local:
    """One in-process engine with one table (with its stream, as the app's table has)."""

    def __init__(self) -> None:
        dispatcher, dynamodb = moto_apps()
        self.engine = Engine(dispatcher, None, dynamodb_app=dynamodb)
        self.ok("CreateTable", create_table_params(TABLE))

    def call(self, op: str, payload: dict[str, Any]) -> tuple[int, Any]:
        reply = self.engine.handle("us-east-1", op, json.dumps(payload).encode())
        return int(reply.status.split()[0]), json.loads(reply.body or b"{}")

    def ok(self, op: str, payload: dict[str, Any]) -> Any:
        status, body = self.call(op, payload)
        assert status == 200, body
        return body

    def table(self) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends["123456789012"]["us-east-1"].tables[TABLE]

    def stock(self, pk: str) -> int | None:
        item = self.ok("GetItem", {"TableName": TABLE, "Key": _key(pk)}).get("Item")
        return None if item is None else int(item["stock"]["N"])


def _key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": "ITEM"}}


def _put(pk: str, stock: int) -> dict[str, Any]:
    return {"Put": {"TableName": TABLE, "Item": {**_key(pk), "stock": {"N": str(stock)}}}}


def _take(pk: str) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": TABLE,
            "Key": _key(pk),
            "UpdateExpression": "SET stock = stock - :one",
            "ConditionExpression": "stock >= :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }


@pytest.fixture
def local() -> Iterator[Local]:
    from moto.dynamodb.models import dynamodb_backends

    yield Local()
    dynamodb_backends.reset()


def test_a_refused_transaction_leaves_every_item_it_named_as_it_was(local: Local) -> None:
    for pk, stock in (("A", 5), ("B", 0), ("C", 3), ("UNNAMED", 7)):
        local.ok("PutItem", {"TableName": TABLE, "Item": {**_key(pk), "stock": {"N": str(stock)}}})
    delete_c = {"Delete": {"TableName": TABLE, "Key": _key("C")}}
    # A is updated in place, D created, C deleted, then B's condition refuses the whole.
    status, body = local.call(
        "TransactWriteItems", {"TransactItems": [_take("A"), _put("D", 1), delete_c, _take("B")]}
    )
    assert status == 400
    assert "TransactionCanceledException" in body["__type"]
    assert [local.stock(pk) for pk in ("A", "B", "C", "D", "UNNAMED")] == [5, 0, 3, None, 7]
    # The restored table still takes writes, and the next transaction applies whole.
    local.ok("TransactWriteItems", {"TransactItems": [_take("A"), _put("D", 1), delete_c]})
    assert [local.stock(pk) for pk in ("A", "C", "D", "UNNAMED")] == [4, None, 1, 7]


def test_a_backup_copies_the_partitions_the_transaction_names_and_shares_the_rest(local: Local) -> None:
    for pk in ("NAMED", "OTHER"):
        local.ok("PutItem", {"TableName": TABLE, "Item": {**_key(pk), "stock": {"N": "1"}}})
    table = local.table()
    named, other = (next(p for p in table.items if p.value == pk) for pk in ("NAMED", "OTHER"))
    dynamodb_engine._TOUCHED[TABLE] = {named}
    try:
        backup = copy.deepcopy(table)
    finally:
        dynamodb_engine._TOUCHED.clear()
    assert backup.items is not table.items
    assert backup.items[other] is table.items[other]  # shared: the transaction cannot change it
    assert backup.items[named] is not table.items[named]
    (copied,), (original,) = backup.items[named].values(), table.items[named].values()
    assert copied is not original
    assert copied.to_json() == original.to_json()
    assert backup.stream_shard is not table.stream_shard
    assert backup.stream_shard.items == table.stream_shard.items
    # Outside a transaction a copy is deep, as moto's own.
    whole = copy.deepcopy(table)
    assert whole.items[other] is not table.items[other]


def test_moto_keeps_no_copy_of_the_table_alive_per_transaction(local: Local) -> None:
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table

    for n in range(30):
        local.ok("TransactWriteItems", {"TransactItems": [_put(f"P{n}", n), _put(f"Q{n}", n)]})
    gc.collect()
    alive = [obj for obj in gc.get_objects() if isinstance(obj, Table) and obj.name == TABLE]
    assert len(alive) == 1  # before: one backup kept per transaction action (60 here)
    assert len(getattr(Item, "instances_tracked")) == 0  # noqa: B009 - set by moto's metaclass
    assert len([obj for obj in gc.get_objects() if isinstance(obj, Item)]) < 100
