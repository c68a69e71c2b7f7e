"""Concurrent PATCHes against the real engine: no lost write, no version skipped or reused."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.errors import PreconditionFailedError
from chalicelib.models.products import ProductCreate, ProductPublic, ProductUpdate
from chalicelib.services import products as service
from chalicelib.services.caller import Caller
from chalicelib.store.products import ProductStore
from chalicelib.store.table import Table
from tests.helpers import as_caller

pytestmark = pytest.mark.slow
WRITERS = 10
OWNER = Caller(user_id="owner-1", role="user")


def _product(table: Table) -> ProductPublic:
    body = ProductCreate(name="Mug", description="start", price=Decimal("1.00"), stock=0)
    return service.create_product(table, as_caller(OWNER, table=table), body)


def _change(i: int) -> dict[str, Any]:
    # Writers overlap on some fields and not on others, so a lost field would show.
    changes: list[dict[str, Any]] = [
        {"name": f"name-{i}"},
        {"stock": i},
        {"price": Decimal(f"{i}.25"), "description": f"d-{i}"},
    ]
    return changes[i % 3]


def test_ten_concurrent_patches_without_if_match_each_bump_version_once(table: Table) -> None:
    product = _product(table)

    def patch(i: int) -> tuple[dict[str, Any], ProductPublic]:
        change = _change(i)
        return change, service.update_product(table, OWNER, product.id, ProductUpdate(**change))

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        results = list(pool.map(patch, range(WRITERS)))

    versions = sorted(result.version for _, result in results)
    assert versions == list(range(2, 2 + WRITERS))  # every write got its own version
    final = ProductStore(table).get(product.id)
    assert final is not None
    assert final.version == 1 + WRITERS
    for field in ("name", "stock", "price", "description"):
        writers = [(result.version, change[field]) for change, result in results if field in change]
        assert getattr(final, field) == max(writers)[1]  # the last writer of each field wins


def test_concurrent_patches_with_the_same_if_match_let_exactly_one_win(table: Table) -> None:
    product = _product(table)

    def patch(i: int) -> str:
        try:
            service.update_product(table, OWNER, product.id, ProductUpdate(stock=i), frozenset({1}))
        except PreconditionFailedError:
            return "412"
        return "200"

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        outcomes = list(pool.map(patch, range(WRITERS)))

    assert sorted(outcomes) == ["200"] + ["412"] * (WRITERS - 1)
    assert service.get_product(table, product.id).values["version"] == 2
