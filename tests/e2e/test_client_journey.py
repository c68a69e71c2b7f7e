"""The main journey through the generated typed client (clients/python/) against `chalice local`:
register → token → create a product → read it (and revalidate it) → order → cancel.
It proves the document is usable, not only valid."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "clients" / "python"))

from storefront_client import AuthenticatedClient, Client
from storefront_client.api.auth import post_auth_token
from storefront_client.api.orders import post_orders, post_orders_order_id_cancel
from storefront_client.api.products import get_products_product_id, post_products
from storefront_client.api.users import post_users
from storefront_client.models import (
    ErrorBody,
    OrderCreate,
    OrderLineCreate,
    OrderPublic,
    OrderPublicStatus,
    ProductCreate,
    ProductPublic,
    TokenPublic,
    TokenRequest,
    UserCreate,
    UserPublic,
)

pytestmark = pytest.mark.e2e


def test_register_token_product_order_cancel_through_the_typed_client(live: str) -> None:
    public = Client(base_url=live, raise_on_unexpected_status=True, timeout=20)
    user = post_users.sync(
        client=public, body=UserCreate(email="journey@example.com", password="journey-pass-123", name="J")
    )
    assert isinstance(user, UserPublic)
    token = post_auth_token.sync(
        client=public, body=TokenRequest(email="journey@example.com", password="journey-pass-123")
    )
    assert isinstance(token, TokenPublic)
    assert token.token_type == "Bearer"

    caller = AuthenticatedClient(
        base_url=live, token=token.access_token, raise_on_unexpected_status=True, timeout=20
    )
    product = post_products.sync(client=caller, body=ProductCreate(name="Teapot", price=19.99, stock=3))
    assert isinstance(product, ProductPublic)
    assert (product.owner_id, product.stock, product.version) == (user.id, 3, 1)

    read = get_products_product_id.sync_detailed(product.id, client=public)
    assert (read.status_code, read.headers["ETag"]) == (200, '"1"')
    revalidated = get_products_product_id.sync_detailed(
        product.id, client=Client(base_url=live), if_none_match='"1"'
    )
    assert (revalidated.status_code, revalidated.content) == (304, b"")

    order = post_orders.sync(
        client=caller,
        body=OrderCreate(items=[OrderLineCreate(product_id=product.id, quantity=2)]),
        idempotency_key="journey-1",
    )
    assert isinstance(order, OrderPublic)
    assert (order.status, order.total, order.user_id) == (OrderPublicStatus.PLACED, 39.98, user.id)
    stock_after_order = get_products_product_id.sync(product.id, client=public)
    assert isinstance(stock_after_order, ProductPublic)
    assert stock_after_order.stock == 1

    cancelled = post_orders_order_id_cancel.sync(order.id, client=caller)
    assert isinstance(cancelled, OrderPublic)
    assert cancelled.status == OrderPublicStatus.CANCELLED
    restocked = get_products_product_id.sync(product.id, client=public)
    assert isinstance(restocked, ProductPublic)
    assert restocked.stock == 3


def test_errors_come_back_as_the_typed_envelope(live: str) -> None:
    missing = get_products_product_id.sync("no-such-product", client=Client(base_url=live, timeout=20))
    assert isinstance(missing, ErrorBody)
    assert missing.code == "not_found"


def test_a_create_retried_with_its_idempotency_key_through_the_typed_client(live: str) -> None:
    # The retry loop docs/api.md shows ("Retrying writes"), run as written
    import time
    import uuid

    public = Client(base_url=live, timeout=20)
    key = str(uuid.uuid4())
    body = UserCreate(email="retry@example.com", password="retry-pass-123", name="R")
    first = post_users.sync_detailed(client=public, body=body, idempotency_key=key)
    again = post_users.sync_detailed(client=public, body=body, idempotency_key=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert isinstance(first.parsed, UserPublic)
    assert isinstance(again.parsed, UserPublic)
    assert again.parsed.id == first.parsed.id
    token = post_auth_token.sync(
        client=public, body=TokenRequest(email="retry@example.com", password="retry-pass-123")
    )
    assert isinstance(token, TokenPublic)
    client = AuthenticatedClient(base_url=live, token=token.access_token, timeout=20)
    lamp = ProductCreate(name="Lamp", price=19.99, stock=2)
    key = str(uuid.uuid4())  # one key for this product, reused by every retry
    made = []
    for _ in range(2):  # as if the first answer had been lost
        response = post_products.sync_detailed(client=client, body=lamp, idempotency_key=key)
        if response.status_code == 503:
            time.sleep(int(response.headers.get("Retry-After", "1")))
            continue
        made.append(response)
    assert [r.status_code for r in made] == [201, 201]
    assert made[1].headers["Idempotent-Replayed"] == "true"
    ids = {r.parsed.id for r in made if isinstance(r.parsed, ProductPublic)}
    assert len(ids) == 1
