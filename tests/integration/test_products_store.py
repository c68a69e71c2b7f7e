"""The product store verbs orders reuse: get, get_many (BatchGetItem)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from chalicelib.errors import ServiceUnavailableError
from chalicelib.models.products import ProductCreate
from chalicelib.retry import Retry
from chalicelib.services import products as service
from chalicelib.services.caller import Caller
from chalicelib.store import keys
from chalicelib.store.products import ProductStore
from chalicelib.store.table import WRITE_ID, Table


class SlowBatchClient:
    """The real client, except that BatchGetItem leaves all but one key unprocessed
    `stingy_calls` times, as DynamoDB does under load."""

    def __init__(self, real: Any, stingy_calls: int, keep: int = 1) -> None:
        self._real = real
        self.keep = keep
        self.stingy_calls = stingy_calls
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        if self.calls > self.stingy_calls:
            return dict(self._real.batch_get_item(RequestItems=RequestItems))
        ((name, request),) = RequestItems.items()
        first, rest = request["Keys"][: self.keep], request["Keys"][self.keep :]
        response: dict[str, Any] = {"Responses": {name: []}}
        if first:
            response = dict(self._real.batch_get_item(RequestItems={name: {**request, "Keys": first}}))
        response["UnprocessedKeys"] = {name: {**request, "Keys": rest}} if rest else {}
        return response


def _create(table: Table, n: int) -> list[str]:
    body = ProductCreate(name="p", price=Decimal("9.99"), stock=2)
    return [service.create_product(table, Caller("owner", "user"), body).id for _ in range(n)]


def test_get_product_returns_the_item_or_none(table: Table) -> None:
    (product_id,) = _create(table, 1)
    product = ProductStore(table).get(product_id)
    assert product is not None
    assert (product.price, product.stock, product.version) == (Decimal("9.99"), 2, 1)
    assert ProductStore(table).get("01NOPE") is None


def test_get_products_reads_more_than_one_batch_and_skips_unknown_ids(table: Table) -> None:
    ids = _create(table, 105)
    found = ProductStore(table).get_many([*ids, "01NOPE", ids[0]])
    assert set(found) == set(ids)
    assert all(found[i].id == i for i in ids)


def test_get_products_retries_unprocessed_keys_until_all_are_read(table: Table) -> None:
    ids = _create(table, 4)
    slow = SlowBatchClient(table.client, stingy_calls=2)
    pauses: list[float] = []
    stingy = Table(slow, table.name, table.cursors, Retry(sleep=pauses.append))  # type: ignore[arg-type]
    found = ProductStore(stingy).get_many(ids)
    assert set(found) == set(ids)
    assert slow.calls == 3
    assert pauses == sorted(pauses)  # backing off, not hammering


def test_get_products_gives_up_with_503_when_keys_stay_unprocessed(table: Table) -> None:
    ids = _create(table, 2)
    slow = SlowBatchClient(table.client, stingy_calls=100, keep=0)
    stingy = Table(slow, table.name, table.cursors, Retry(sleep=lambda _: None))  # type: ignore[arg-type]
    with pytest.raises(ServiceUnavailableError):
        ProductStore(stingy).get_many(ids)
    assert 1 < slow.calls < 10


def test_item_round_trips_through_the_conversions(table: Table) -> None:
    (product_id,) = _create(table, 1)
    item = table.get(keys.product_key(product_id))
    assert item is not None
    products = ProductStore(table)
    product = products.parse(item)
    assert product is not None
    # Every stored attribute but the write id (Table stamps each single-item write with it).
    assert products.to_item(product) == {k: v for k, v in item.items() if k != WRITE_ID}
