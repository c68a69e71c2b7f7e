"""Product use cases: create, read, list, update, delete. No chalice, no boto3.

Policy is decided here, and only here: anyone reads; a signed-in user creates (and owns)
a product; its owner or an admin changes or deletes it. The store enforces the decision
atomically as the write's condition: a PATCH or DELETE reads the product, then writes one
transaction (the change and its event) that holds only while the version read is current.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.clock import isoformat, new_id, utc_now
from chalicelib.errors import (
    ForbiddenError,
    PreconditionFailedError,
    ProductNotFoundError,
    SessionEndedError,
)
from chalicelib.models.products import (
    ProductCreate,
    ProductItem,
    ProductListQuery,
    ProductPublic,
    ProductUpdate,
)
from chalicelib.observability import business_event
from chalicelib.services import idempotent
from chalicelib.services.caller import Caller
from chalicelib.services.idempotent import Seal
from chalicelib.store.pagination import PageRequest
from chalicelib.store.products import ProductStore
from chalicelib.store.repository import Guard, Written
from chalicelib.store.sessions import caller_checks
from chalicelib.store.table import Table
from chalicelib.store.views import Document, JsonPage

# The versions an If-Match header accepts (None: any current version; empty: none).
Versions = frozenset[int] | None


def create_product(
    table: Table,
    caller: Caller,
    data: ProductCreate,
    now: datetime | None = None,
    seal: Seal | None = None,
) -> ProductPublic:
    """A new product owned by the caller, at version 1 (also used by `manage.py seed`).

    The write carries checks that the caller's user exists and its session (if any) is live,
    so no product is created for a user whose deletion (or logout) was acknowledged:
    SessionEndedError then. `seal` adds an Idempotency-Key's record to the same transaction.
    """
    moment = now or utc_now()
    product = ProductItem(
        id=new_id(moment),
        owner_id=caller.user_id,
        **data.model_dump(),
        version=1,
        created_at=moment,
        updated_at=moment,
    )
    checks = caller_checks(caller.user_id, caller.session_id, int(moment.timestamp()))
    sealed = seal(product.public()) if seal is not None else ()
    if not ProductStore(table).put_new(product, [*checks, *sealed]):
        # A fresh ULID never collides: the refusal is the caller's checks, or a concurrent
        # request with the same Idempotency-Key (create_once looks for its record).
        raise SessionEndedError()
    business_event("product_created")
    return product.public()


def create_product_once(
    table: Table, caller: Caller, data: ProductCreate, key: str | None
) -> idempotent.Created[ProductPublic]:
    """create_product, at most once per Idempotency-Key of the caller (replayed after that)."""
    request = idempotent.keyed(caller.user_id, key, data)
    return idempotent.create_once(
        table, request, ProductPublic, lambda seal: create_product(table, caller, data, seal=seal)
    )


def get_product(table: Table, product_id: str) -> Document:
    """One product (ProductPublic as JSON); ProductNotFoundError when there is none."""
    product = ProductStore(table).get_public(product_id)
    if product is None:
        raise ProductNotFoundError()
    return product


def list_products(table: Table, query: ProductListQuery) -> JsonPage:
    """A page of products (Page[ProductPublic] as JSON), newest first, optionally one owner's."""
    return ProductStore(table).public_page(PageRequest(query.limit, query.cursor), query.owner_id)


def _guard(caller: Caller, if_match: Versions) -> Guard:
    return Guard(owner=None if caller.is_admin else caller.user_id, versions=if_match)


def explain(old: ProductItem | None, caller: Caller, if_match: Versions) -> Exception:
    """Why a guarded write was refused, from the item as it was.

    In the order of RFC 9110 13.2.1 (a precondition never hides a 404 or a 403):
    absent → not found; someone else's → forbidden; else the version → precondition failed.
    """
    if old is None:
        return ProductNotFoundError()
    if not caller.owns(old.owner_id):
        return ForbiddenError()
    return PreconditionFailedError()


def _written(result: Written[ProductItem], caller: Caller, if_match: Versions) -> ProductItem:
    if result.item is None:
        raise explain(result.old, caller, if_match)
    return result.item


def update_product(
    table: Table,
    caller: Caller,
    product_id: str,
    data: ProductUpdate,
    if_match: Versions = None,
    now: datetime | None = None,
) -> ProductPublic:
    """Apply a partial update (owner or admin) atomically; the version goes up by exactly one."""
    result = ProductStore(table).update_if(
        product_id, data.changes(), _guard(caller, if_match), isoformat(now or utc_now())
    )
    return _written(result, caller, if_match).public()


def delete_product(table: Table, caller: Caller, product_id: str, if_match: Versions = None) -> None:
    """Delete a product (owner or admin); it leaves every listing with it: the index entries go too."""
    _written(ProductStore(table).delete_if(product_id, _guard(caller, if_match)), caller, if_match)
