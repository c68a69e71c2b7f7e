"""The one check order, per resource (docs/architecture.md): parse and validate the
request (400), then existence (404), then permission (403), then preconditions and state
(412 / 409). A request that fails several checks gets the first one's answer."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from chalice.test import Client

from chalicelib.models.products import ProductCreate
from chalicelib.models.webhooks import WebhookCreate
from chalicelib.services.products import create_product
from chalicelib.services.webhooks import create_webhook
from chalicelib.store.table import Table
from tests.helpers import as_caller, bearer, ensure_user

UNKNOWN = "01UNKNOWNUNKNOWNUNKNOWN000"
BAD_USER_PATCH = {"name": ""}  # an empty name is invalid
GOOD_USER_PATCH = {"name": "Someone"}


def patch(client: Client, path: str, body: Any, headers: dict[str, str]) -> int:
    status: int = client.http.patch(path, body=json.dumps(body), headers=headers).status_code
    return status


# --- users ---------------------------------------------------------------------------------


def test_users_400_before_404_before_403(client: Client, table: Table) -> None:
    stranger = bearer("stranger")
    ensure_user("someone", table=table)
    # An invalid body is 400 even on an unknown user, and even for a stranger
    assert patch(client, f"/users/{UNKNOWN}", BAD_USER_PATCH, stranger) == 400
    assert patch(client, "/users/someone", BAD_USER_PATCH, stranger) == 400
    # A valid body: an unknown user is 404 before a stranger's 403
    assert patch(client, f"/users/{UNKNOWN}", GOOD_USER_PATCH, stranger) == 404
    assert patch(client, "/users/someone", GOOD_USER_PATCH, stranger) == 403
    assert client.http.get(f"/users/{UNKNOWN}", headers=stranger).status_code == 404
    assert client.http.get("/users/someone", headers=stranger).status_code == 403
    assert client.http.delete(f"/users/{UNKNOWN}", headers=stranger).status_code == 404
    assert client.http.delete("/users/someone", headers=stranger).status_code == 403


def test_users_list_a_bad_query_is_400_before_a_non_admins_403(client: Client) -> None:
    headers = bearer("stranger")
    assert client.http.get("/users?limit=0", headers=headers).status_code == 400
    assert client.http.get("/users?limit=5", headers=headers).status_code == 403


# --- products ------------------------------------------------------------------------------


def test_products_400_before_404_before_403_before_412(client: Client, table: Table) -> None:
    body = ProductCreate.model_validate({"name": "Mug", "price": Decimal("9.50"), "stock": 3})
    product = create_product(table, as_caller("seller", table=table), body).id
    stranger = {**bearer("stranger"), "If-Match": '"7"'}
    owner_stale = {**bearer("seller"), "If-Match": '"7"'}
    assert patch(client, f"/products/{UNKNOWN}", {"price": "-1"}, stranger) == 400
    assert patch(client, f"/products/{UNKNOWN}", {"stock": 1}, stranger) == 404
    assert patch(client, f"/products/{product}", {"stock": 1}, stranger) == 403
    assert patch(client, f"/products/{product}", {"stock": 1}, owner_stale) == 412


# --- orders --------------------------------------------------------------------------------


def test_orders_404_before_403(client: Client, table: Table) -> None:
    body = ProductCreate.model_validate({"name": "Mug", "price": Decimal("9.50"), "stock": 3})
    product = create_product(table, as_caller("seller", table=table), body).id
    payload = {"items": [{"product_id": product, "quantity": 1}]}
    placed = client.http.post("/orders", body=json.dumps(payload), headers=bearer("buyer"))
    assert placed.status_code == 201
    order = json.loads(placed.body)["id"]
    stranger = bearer("stranger")
    assert client.http.get(f"/orders/{UNKNOWN}", headers=stranger).status_code == 404
    assert client.http.get(f"/orders/{order}", headers=stranger).status_code == 403
    assert client.http.post(f"/orders/{UNKNOWN}/cancel", headers=stranger).status_code == 404
    assert client.http.post(f"/orders/{order}/cancel", headers=stranger).status_code == 403


# --- webhooks ------------------------------------------------------------------------------


def test_webhooks_400_before_404_before_403(client: Client, table: Table) -> None:
    body = WebhookCreate(url="http://127.0.0.1:9000/hook", events=["order.paid"])
    hook = create_webhook(table, as_caller("subscriber", table=table), body, local=True).id
    stranger = bearer("stranger")
    # A malformed id or query is 400, whether the subscription exists or not
    assert client.http.delete("/webhooks/bad%20id", headers=stranger).status_code == 400
    assert client.http.get(f"/webhooks/{UNKNOWN}/deliveries?limit=0", headers=stranger).status_code == 400
    assert client.http.get(f"/webhooks/{hook}/deliveries?limit=0", headers=stranger).status_code == 400
    # Then an unknown subscription is 404 before a stranger's 403
    assert client.http.get(f"/webhooks/{UNKNOWN}/deliveries", headers=stranger).status_code == 404
    assert client.http.get(f"/webhooks/{hook}/deliveries", headers=stranger).status_code == 403
    assert client.http.delete(f"/webhooks/{UNKNOWN}", headers=stranger).status_code == 404
    assert client.http.delete(f"/webhooks/{hook}", headers=stranger).status_code == 403
