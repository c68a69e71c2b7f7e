"""Listing products: newest first, complete walks under inserts and deletes, signed cursors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.models.products import ProductCreate
from chalicelib.services import products as service
from chalicelib.services.caller import Caller
from chalicelib.store.table import Table
from tests.helpers import json_body

START = datetime(2026, 1, 1, tzinfo=UTC)
ADMIN = Caller(user_id="admin", role="admin")


def add(table: Table, n: int, owner: str = "owner-a", offset: int = 0) -> list[str]:
    """n products, one millisecond apart (oldest first); their ids."""
    body = ProductCreate(name="p", price=Decimal("1.50"))
    moments = [START + timedelta(milliseconds=offset + i) for i in range(n)]
    return [service.create_product(table, Caller(owner, "user"), body, now=moment).id for moment in moments]


def page(client: Client, query: str) -> dict[str, Any]:
    response = client.http.get(f"/products?{query}")
    assert response.status_code == 200, response.body
    return dict(json_body(response))


def test_list_is_newest_first_with_default_limit_20(client: Client, table: Table) -> None:
    ids = add(table, 21)
    first = page(client, "")
    assert [p["id"] for p in first["items"]] == ids[::-1][:20]
    last = page(client, f"cursor={first['next_cursor']}")
    assert [p["id"] for p in last["items"]] == [ids[0]]
    assert last["next_cursor"] is None


def test_exactly_full_last_page_has_no_cursor(client: Client, table: Table) -> None:
    add(table, 4)
    first = page(client, "limit=2")
    second = page(client, f"limit=2&cursor={first['next_cursor']}")
    assert len(second["items"]) == 2
    assert second["next_cursor"] is None


def test_walk_sees_each_surviving_product_once_while_others_come_and_go(client: Client, table: Table) -> None:
    ids = add(table, 15)
    deleted_unseen: set[str] = set()
    seen: list[str] = []
    result = page(client, "limit=4")
    while True:
        seen.extend(p["id"] for p in result["items"])
        # Meanwhile: a newer product arrives, the cursor's own item and the next one due go away.
        add(table, 1, offset=1000 + len(seen))
        if result["items"]:
            service.delete_product(table, ADMIN, seen[-1])
        unseen = [i for i in ids if i not in seen and i not in deleted_unseen]
        if unseen:
            service.delete_product(table, ADMIN, unseen[-1])
            deleted_unseen.add(unseen[-1])
        if result["next_cursor"] is None:
            break
        result = page(client, f"limit=4&cursor={result['next_cursor']}")
    survivors = [i for i in ids if i not in deleted_unseen]
    assert deleted_unseen  # the walk really raced with deletions
    assert seen == survivors[::-1]  # each once, newest first, no newcomer, no deleted one


def test_owner_filter_lists_only_that_owners_products(client: Client, table: Table) -> None:
    mine = add(table, 3, owner="owner-a")
    add(table, 2, owner="owner-b", offset=100)
    first = page(client, "owner_id=owner-a&limit=2")
    rest = page(client, f"owner_id=owner-a&limit=2&cursor={first['next_cursor']}")
    assert [p["id"] for p in first["items"] + rest["items"]] == mine[::-1]
    assert {p["owner_id"] for p in first["items"] + rest["items"]} == {"owner-a"}
    assert page(client, "owner_id=nobody") == {"items": [], "next_cursor": None}


def _tamper(cursor: str) -> str:
    payload, signature = cursor.split(".")
    flipped = "A" if payload[5] != "A" else "B"
    return f"{payload[:5]}{flipped}{payload[6:]}.{signature}"


def test_tampered_foreign_or_garbage_cursor_is_400_invalid_cursor(client: Client, table: Table) -> None:
    add(table, 3)
    cursor = page(client, "limit=1")["next_cursor"]
    owner_cursor = page(client, "limit=1&owner_id=owner-a")["next_cursor"]
    for query in (
        f"cursor={_tamper(cursor)}",
        f"cursor={owner_cursor}",  # signed for another listing
        f"owner_id=owner-b&cursor={owner_cursor}",  # another owner's listing
        "cursor=not-a-cursor",
        f"cursor={cursor}x",
    ):
        response = client.http.get(f"/products?{query}")
        assert response.status_code == 400, query
        assert json_body(response)["code"] == "invalid_cursor"


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=abc", "limit=1.5", "sort=asc", "owner_id="])
def test_bad_list_query_is_400_validation_error(client: Client, query: str) -> None:
    response = client.http.get(f"/products?{query}")
    assert response.status_code == 400
    assert json_body(response)["code"] == "validation_error"
    assert json_body(response)["details"][0]["loc"][0] == "query"


@pytest.mark.parametrize("limit", [1, 100])
def test_limit_bounds_are_accepted(client: Client, table: Table, limit: int) -> None:
    add(table, 2)
    assert len(page(client, f"limit={limit}")["items"]) == min(limit, 2)
