"""The benchmark's BENCH_SAME_WRITE experiment writes what Storefront's POST /products writes.

bench/floor.py's experimental write stands for Storefront's transaction (docs/performance.md:
"The same write"); it is only a fair comparison while the two send the same actions, with
the same keys and the same attributes. Both are sent to the engine here and compared.
"""

from __future__ import annotations

import copy
import importlib
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.models.products import ProductCreate
from chalicelib.services import products as service
from chalicelib.store.table import Table
from tests.helpers import as_caller

OWNER = "bench-owner"


@pytest.fixture
def sent(table: Table) -> Iterator[list[list[dict[str, Any]]]]:
    """The TransactItems of every TransactWriteItems the table's client sends."""
    calls: list[list[dict[str, Any]]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(copy.deepcopy(params["TransactItems"]))

    event = "provide-client-params.dynamodb.TransactWriteItems"
    table.client.meta.events.register(event, record)
    yield calls
    table.client.meta.events.unregister(event, record)


@pytest.fixture
def floor(table: Table, monkeypatch: pytest.MonkeyPatch) -> Any:
    """bench/floor.py writing to this test's table through its client, the experiment on."""
    monkeypatch.setenv("TABLE_NAME", table.name)
    module = importlib.import_module("bench.floor")
    monkeypatch.setattr(module, "CLIENT", table.client)
    monkeypatch.setattr(module, "TABLE", table.name)
    monkeypatch.setattr(module, "SAME_WRITE", True)
    return module


def _shape(actions: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What a transaction writes, without its values: each action's verb, the kind of
    item it names (its partition key up to '#'), its attribute names, and whether it is
    conditional."""
    shape = []
    for action in actions:
        ((verb, body),) = action.items()
        item = body.get("Item") or body["Key"]
        kind = item["pk"]["S"].split("#", 1)[0]
        shape.append((verb, kind, sorted(item), "ConditionExpression" in body))
    return shape


def _envelope_fields(actions: list[dict[str, Any]]) -> list[str]:
    (outbox,) = [a["Put"]["Item"] for a in actions if "Put" in a and "envelope" in a["Put"]["Item"]]
    return list(json.loads(outbox["envelope"]["S"]))


def test_the_experiment_sends_the_transaction_storefronts_post_sends(
    table: Table, sent: list[list[dict[str, Any]]], floor: Any
) -> None:
    body = {"name": "Lamp", "price": Decimal("19.99"), "description": "", "currency": "USD", "stock": 3}
    caller = as_caller(OWNER, table=table)  # the owner's user item, as bench/run.py makes it
    sent.clear()
    service.create_product(table, caller, ProductCreate.model_validate(body))
    product = floor.put_product(OWNER, body)

    storefront, experiment = sent
    assert _shape(experiment) == _shape(storefront)
    assert _envelope_fields(experiment) == _envelope_fields(storefront)
    # Both were applied: the floor's product is there, as Storefront reads it.
    assert service.get_product(table, product["id"]).values["name"] == "Lamp"


def test_without_the_experiment_the_floor_writes_one_put_item(
    table: Table, sent: list[list[dict[str, Any]]], floor: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(floor, "SAME_WRITE", False)
    product = floor.put_product(OWNER, {"name": "Lamp", "price": Decimal(5)})

    assert sent == []
    assert service.get_product(table, product["id"]).values["price"] == 5
