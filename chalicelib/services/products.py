"""Product use cases: create, read, list, update, delete. No chalice, no boto3."""

from __future__ import annotations

from datetime import datetime

from chalicelib.clock import isoformat, new_id, utc_now
from chalicelib.models.common import Page
from chalicelib.models.products import (
    ProductCreate,
    ProductItem,
    ProductListQuery,
    ProductPublic,
    ProductUpdate,
)
from chalicelib.observability import business_event
from chalicelib.services.caller import Caller
from chalicelib.store import products as store
from chalicelib.store.pagination import PageRequest
from chalicelib.store.products import ProductNotFoundError, WriteGuard
from chalicelib.store.table import Table

__all__ = [
    "ProductNotFoundError",
    "WriteGuard",
    "create_product",
    "delete_product",
    "get_product",
    "list_products",
    "update_product",
]


def create_product(
    table: Table, caller: Caller, data: ProductCreate, now: datetime | None = None
) -> ProductPublic:
    """A new product owned by the caller, at version 1 (also used by `manage.py seed`);
    SessionEndedError if the caller's user (or session) is gone."""
    moment = now or utc_now()
    stamp = isoformat(moment)
    product = ProductItem(
        id=new_id(moment),
        owner_id=caller.user_id,
        **data.model_dump(),
        version=1,
        created_at=stamp,
        updated_at=stamp,
    )
    store.put_new_product(table, product, caller.session_id)
    business_event("product_created")
    return product.to_public()


def get_product(table: Table, product_id: str) -> ProductPublic:
    """One product; ProductNotFoundError when there is none."""
    product = store.get_product(table, product_id)
    if product is None:
        raise ProductNotFoundError()
    return product.to_public()


def list_products(table: Table, query: ProductListQuery) -> Page[ProductPublic]:
    """A page of products, newest first, optionally one owner's."""
    products, next_cursor = store.list_products(table, PageRequest(query.limit, query.cursor), query.owner_id)
    return Page[ProductPublic](items=[p.to_public() for p in products], next_cursor=next_cursor)


def update_product(
    table: Table, product_id: str, data: ProductUpdate, guard: WriteGuard, now: datetime | None = None
) -> ProductPublic:
    """Apply a partial update atomically; the version goes up by exactly one."""
    updated = store.update_product(table, product_id, data.changes(), guard, isoformat(now or utc_now()))
    return updated.to_public()


def delete_product(table: Table, product_id: str, guard: WriteGuard) -> None:
    """Delete a product (it leaves every listing with it: the index entries go too)."""
    store.delete_product(table, product_id, guard)
