"""A product's changes never go back in time: each version's updated_at, and so its event's
time (webhook lanes deliver a resource's events in time order), is later than the version it
was made from, even when the write was retried after losing the version race or another
container's clock is behind."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.clock import isoformat, utc_now
from chalicelib.models.products import ProductCreate, ProductUpdate
from chalicelib.services import products as service
from chalicelib.store import keys
from chalicelib.store.outbox import OutboxItem
from chalicelib.store.table import Table
from tests.helpers import as_caller


def latest_event(table: Table, product_id: str) -> Any:
    item = table.get(keys.outbox_key(f"products/{product_id}"))
    assert item is not None
    return OutboxItem.model_validate(item).event()


def test_a_patch_retried_after_losing_the_version_race_is_later_than_the_winner(
    table: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given request A, which took its time first, and request B, later, which commits first
    owner = as_caller("owner-1", "user", table)
    product = service.create_product(table, owner, ProductCreate(name="Mug", price=Decimal("5")))
    first, later = utc_now(), utc_now() + timedelta(milliseconds=40)
    write = table.transact_write
    raced: list[bool] = []

    def b_commits_first(*args: Any, **kwargs: Any) -> Any:
        if not raced:
            raced.append(True)
            b = service.update_product(table, owner, product.id, ProductUpdate(name="B"), now=later)
            assert (b.version, b.updated_at) == (
                2,
                later.replace(microsecond=later.microsecond // 1000 * 1000),
            )
        return write(*args, **kwargs)

    monkeypatch.setattr(table, "transact_write", b_commits_first)
    a = service.update_product(table, owner, product.id, ProductUpdate(name="A"), now=first)
    # Then A, retried on top of B's version 2, is version 3 and later than version 2
    assert a.version == 3
    assert isoformat(a.updated_at) == isoformat(later + timedelta(milliseconds=1))
    event = latest_event(table, product.id)
    assert (event.data["version"], event.time) == (3, a.updated_at)


def test_a_change_from_a_clock_behind_is_still_after_the_version_it_changes(table: Table) -> None:
    owner = as_caller("owner-1", "user", table)
    product = service.create_product(table, owner, ProductCreate(name="Mug", price=Decimal("5")))
    ahead = product.updated_at + timedelta(seconds=3)
    v2 = service.update_product(table, owner, product.id, ProductUpdate(name="v2"), now=ahead)
    behind = ahead - timedelta(seconds=2)  # another container, its clock 2 s behind
    v3 = service.update_product(table, owner, product.id, ProductUpdate(name="v3"), now=behind)
    assert v3.updated_at == v2.updated_at + timedelta(milliseconds=1)
    # and a deletion made now (before v2's future time) is announced after v3
    service.delete_product(table, owner, product.id)
    deleted = latest_event(table, product.id)
    assert deleted.type == "product.deleted"
    assert deleted.time > v3.updated_at


def test_a_change_from_a_correct_clock_keeps_its_own_time(table: Table) -> None:
    owner = as_caller("owner-1", "user", table)
    product = service.create_product(table, owner, ProductCreate(name="Mug", price=Decimal("5")))
    moment = product.updated_at + timedelta(seconds=1, milliseconds=250)
    changed = service.update_product(table, owner, product.id, ProductUpdate(name="v2"), now=moment)
    assert changed.updated_at == moment
