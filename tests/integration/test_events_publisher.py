"""The local publisher over the engine's real DynamoDB stream: every committed change's
event lands on the local bus once, in commit order, with its stable id."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.clock import utc_now
from chalicelib.models.events import Deleted, event_id, new_event
from chalicelib.store.expr import exists
from chalicelib.store.outbox import OutboxStore, announce
from chalicelib.store.table import ConditionFailedError, Table, put_action
from tests.helpers import json_body
from tools import event_publisher
from tools.event_publisher import LocalBus, Publisher, StreamReader

JSON = {"Content-Type": "application/json"}
PASSWORD = "correct-horse-battery"


def send(client: Client, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    headers = {**JSON, **({"Authorization": f"Bearer {token}"} if token else {})}
    return client.http.request(method, path, headers=headers, body=json.dumps(body).encode() if body else b"")


def publisher(table: Table, path: Path) -> Publisher:
    _, streams = event_publisher.clients_for(table.client)
    return Publisher(StreamReader(table.client, streams, table.name), LocalBus(path))


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def a_life(client: Client, email: str = "a@example.com") -> tuple[str, str]:
    """Register, sign in, create a product, patch it twice, delete it, delete the user."""
    user = json_body(send(client, "POST", "/users", {"email": email, "password": PASSWORD, "name": "A"}))
    login = json_body(send(client, "POST", "/auth/token", {"email": email, "password": PASSWORD}))
    token = login["access_token"]
    created = send(client, "POST", "/products", {"name": "Mug", "price": 19.99, "stock": 1}, token)
    product = json_body(created)["id"]
    assert send(client, "PATCH", f"/products/{product}", {"stock": 2}, token).status_code == 200
    assert send(client, "PATCH", f"/products/{product}", {"price": 5}, token).status_code == 200
    assert send(client, "DELETE", f"/products/{product}", token=token).status_code == 204
    assert send(client, "DELETE", f"/users/{user['id']}", token=token).status_code == 204
    return str(user["id"]), str(product)


def test_every_change_is_published_once_in_commit_order(client: Client, table: Table, tmp_path: Path) -> None:
    # Given a user's whole life in the API
    user, product = a_life(client)
    bus = tmp_path / "events.jsonl"
    # When the publisher reads the stream
    written = publisher(table, bus).poll()
    # Then each change is one CloudEvent, in the order it was committed
    events = lines(bus)
    assert written == 6
    assert [(e["type"], e["subject"]) for e in events] == [
        ("user.registered", f"users/{user}"),
        ("product.created", f"products/{product}"),
        ("product.updated", f"products/{product}"),
        ("product.updated", f"products/{product}"),
        ("product.deleted", f"products/{product}"),
        ("user.deleted", f"users/{user}"),
    ]
    assert all(e["specversion"] == "1.0" and e["datacontenttype"] == "application/json" for e in events)
    # data is the public shape after the change: no hash, exact price, the new version
    assert "password_hash" not in events[0]["data"]
    assert events[0]["data"]["email"] == "a@example.com"
    assert (events[2]["data"]["stock"], events[2]["data"]["version"]) == (2, 2)
    assert (events[3]["data"]["price"], events[3]["data"]["version"]) == (5, 3)
    assert events[4]["data"] == {"id": product}
    # and the ids are stable: derived from the change, not drawn at random
    assert events[3]["id"] == event_id("product.updated", f"products/{product}", "3")


def test_reading_the_stream_again_writes_nothing_twice(client: Client, table: Table, tmp_path: Path) -> None:
    # Given a bus that already holds the events of a user's life
    a_life(client)
    bus = tmp_path / "events.jsonl"
    first = publisher(table, bus)
    first.poll()
    # When the same publisher polls again, and a restarted one reads the stream from its start
    again = first.poll()
    restarted = publisher(table, bus).poll()
    # Then nothing is appended: each id is on the bus once
    assert (again, restarted) == (0, 0)
    ids = [e["id"] for e in lines(bus)]
    assert len(ids) == len(set(ids)) == 6


def test_a_refused_change_publishes_nothing(client: Client, table: Table, tmp_path: Path) -> None:
    # Given a registered user
    body = {"email": "b@example.com", "password": PASSWORD, "name": "B"}
    assert send(client, "POST", "/users", body).status_code == 201
    # When the same address registers again (refused: 409)
    assert send(client, "POST", "/users", {**body, "name": "C"}).status_code == 409
    bus = tmp_path / "events.jsonl"
    publisher(table, bus).poll()
    # Then only the first registration is on the bus
    assert [e["data"]["name"] for e in lines(bus)] == ["B"]


def test_a_publisher_killed_mid_write_loses_nothing_and_duplicates_nothing(
    client: Client, table: Table, tmp_path: Path
) -> None:
    # Given a bus whose last line was cut short by a publisher killed while writing it
    a_life(client)
    bus = tmp_path / "events.jsonl"
    publisher(table, bus).poll()
    whole = bus.read_text()
    bus.write_text(whole[: whole.rstrip("\n").rfind("\n") + 1] + whole.splitlines()[-1][:40])
    # When a new publisher starts and reads the stream from its start
    written = publisher(table, bus).poll()
    # Then the torn event is written again, whole, and every other one is still there once
    assert written == 1
    assert bus.read_text() == whole


def test_an_aborted_transaction_leaves_no_stream_record_even_after_its_event_was_applied(
    table: Table, tmp_path: Path
) -> None:
    # Given a transaction whose event comes first and whose last item's condition fails
    event = new_event("product.deleted", "products/p1", Deleted(id="p1"), "deleted", utc_now())
    refused = put_action({"pk": "X", "sk": "Y", "type": "thing"}, exists())
    # When the engine applies the event, then meets the failure and rolls back
    with pytest.raises(ConditionFailedError):
        table.transact_write([announce(event), refused])
    # Then neither the item nor a stream record of it is left: no event
    assert OutboxStore(table).get("products/p1") is None
    assert publisher(table, tmp_path / "events.jsonl").poll() == 0


def test_a_running_publisher_sees_no_aborted_event_and_every_later_one(
    client: Client, table: Table, tmp_path: Path
) -> None:
    # Given a publisher that has read the stream already (its shard iterators are live)
    a_life(client)
    bus = tmp_path / "events.jsonl"
    running = publisher(table, bus)
    assert running.poll() == 6
    # When a transaction puts an event first and is then refused by its last item
    event = new_event("product.deleted", "products/p2", Deleted(id="p2"), "deleted", utc_now())
    refused = put_action({"pk": "X", "sk": "Y", "type": "thing"}, exists())
    with pytest.raises(ConditionFailedError):
        table.transact_write([announce(event), refused])
    # and a change is committed after it
    body = {"email": "later@example.com", "password": PASSWORD, "name": "L"}
    later = json_body(send(client, "POST", "/users", body))
    # Then the same publisher writes the later change's event, and never the aborted one
    assert running.poll() == 1
    assert [e["subject"] for e in lines(bus)][-1] == f"users/{later['id']}"
    assert event.id not in {e["id"] for e in lines(bus)}
