"""Hot reads: with LIST_CACHE_SECONDS set (the deployed stages), a container serves a list
page from its cache, shows other containers' writes only after the TTL, and its own
product writes at once. With 0 (local, test) every read sees every write."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.api import deps
from chalicelib.api.caching import LIST_PAGE
from chalicelib.api.list_cache import LIST_PAGES
from chalicelib.config import get_settings
from chalicelib.store.table import Table
from tests.helpers import bearer, json_body

OWNER = "owner-hot"


@pytest.fixture
def cached(monkeypatch: pytest.MonkeyPatch, table: Table) -> Iterator[None]:
    """A deployed stage's setting: pages kept for 30 s (long enough for the test's steps)."""
    monkeypatch.setenv("LIST_CACHE_SECONDS", "30")
    deps.reset()
    LIST_PAGES.clear()
    yield
    LIST_PAGES.clear()
    monkeypatch.delenv("LIST_CACHE_SECONDS")
    deps.reset()


def _create(client: Client, name: str) -> dict[str, Any]:
    response = client.http.post(
        "/products", headers=bearer(OWNER), body=f'{{"name": "{name}", "price": 2}}'.encode()
    )
    assert response.status_code == 201
    return dict(json_body(response))


def _names(client: Client) -> list[str]:
    response = client.http.get("/products")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == LIST_PAGE
    return [item["name"] for item in json_body(response)["items"]]


def _delete_elsewhere(table: Table, product_id: str) -> None:
    """Another container's write: straight to the table, not through this container's store."""
    key = {"pk": {"S": f"PRODUCT#{product_id}"}, "sk": {"S": "PRODUCT"}}
    table.client.delete_item(TableName=table.name, Key=key)


def test_a_page_is_served_from_the_cache_until_this_container_writes_a_product(
    client: Client, table: Table, cached: None
) -> None:
    assert get_settings().list_cache_seconds == 30
    kettle = _create(client, "Kettle")
    assert _names(client) == ["Kettle"]
    # When another container deletes it, this container's page still shows it (within the TTL)
    _delete_elsewhere(table, kettle["id"])
    assert _names(client) == ["Kettle"]
    # When this container writes a product, its pages are dropped: the next read is fresh
    _create(client, "Teapot")
    assert _names(client) == ["Teapot"]


def test_without_the_setting_every_read_sees_every_write(client: Client, table: Table) -> None:
    assert get_settings().list_cache_seconds == 0
    kettle = _create(client, "Kettle")
    assert _names(client) == ["Kettle"]
    _delete_elsewhere(table, kettle["id"])
    assert _names(client) == []
    assert len(LIST_PAGES) == 0
