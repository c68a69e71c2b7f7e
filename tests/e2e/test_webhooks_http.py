"""Webhooks end to end: a real `chalice local` (stage test) on this test's table and the
local event publisher with its webhook dispatcher (tools/event_publisher.publisher_for, as
`make run` starts it) on a thread; a verifying receiver (tools/webhook_receiver) subscribes
through the API and gets each event of its own resources once, in order per resource."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import manage
from chalicelib.config import reset_settings
from chalicelib.store.table import Table
from tests.helpers import token_for
from tools import processes
from tools.event_publisher import publisher_for
from tools.webhook_receiver import Receiver

pytestmark = pytest.mark.e2e
PASSWORD = "correct-horse-battery"
TYPES = ["product.created", "order.placed", "order.paid", "order.shipped", "order.delivered"]


@pytest.fixture
def stack(
    table: Table, engine_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """`chalice local --stage test` and the publisher (retries after 0.2 s, 0.4 s, …)."""
    monkeypatch.setenv("EVENTS_FILE", str(tmp_path / "events.jsonl"))
    monkeypatch.setenv("WEBHOOK_RETRY_BASE_SECONDS", "0.2")
    reset_settings()
    from chalicelib.config import get_settings

    port = processes.free_port()
    env = {"TABLE_NAME": table.name, "DYNAMODB_ENDPOINT": engine_endpoint}
    proc = processes.start_chalice_local(port, env=env, stage="test", log=tmp_path / "chalice.log")
    stop = threading.Event()
    publisher = publisher_for(get_settings())
    worker = threading.Thread(target=publisher.run, args=(stop, 0.05), daemon=True)
    worker.start()
    yield f"http://127.0.0.1:{port}"
    stop.set()
    worker.join(timeout=15)
    processes.stop(proc)
    reset_settings()


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver("whsec_" + "A" * 32)  # the real secret is set once subscribed
    server = state.serve()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def call(base: str, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{base}{path}", data=data, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
            text = answer.read()
            return json.loads(text) if text else None
    except urllib.error.HTTPError as failure:
        raise AssertionError(f"{method} {path}: {failure.code} {failure.read()!r}") from failure


def registered(base: str, name: str) -> str:
    """A user registered and signed in through the API; its access token."""
    email = f"{name}@example.com"
    call(base, "POST", "/users", {"email": email, "password": PASSWORD, "name": name})
    return str(call(base, "POST", "/auth/token", {"email": email, "password": PASSWORD})["access_token"])


def subscribe(base: str, token: str, receiver: Receiver, url: str, events: list[str]) -> str:
    from standardwebhooks.webhooks import Webhook

    made = call(base, "POST", "/webhooks", {"url": url, "events": events}, token)
    receiver.webhook = Webhook(made["secret"])
    return str(made["id"])


def wait_until(check: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_subscriber_gets_each_event_of_its_own_resources_once_in_order(
    stack: str, receiver: tuple[Receiver, str], table: Table, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a registered user whose receiver subscribed to product and order events
    state, url = receiver
    alice = registered(stack, "alice")
    hook = subscribe(stack, alice, state, url, TYPES)
    # When alice creates a product, someone else creates one, alice orders, pays, it ships and arrives
    product = call(stack, "POST", "/products", {"name": "Mug", "price": 19.99, "stock": 5}, alice)
    call(stack, "POST", "/products", {"name": "Lamp", "price": 5, "stock": 1}, token_for("bob-1"))
    order = call(stack, "POST", "/orders", {"items": [{"product_id": product["id"], "quantity": 2}]}, alice)
    assert manage.main(["pay", order["id"], "--api", stack], table=table) == 0
    assert '"outcome":"paid"' in capsys.readouterr().out
    admin = token_for("admin-1", "admin")
    call(stack, "POST", f"/orders/{order['id']}/ship", {"carrier": "DHL", "tracking_number": "JD1"}, admin)
    call(stack, "POST", f"/orders/{order['id']}/deliver", None, admin)
    # Then the receiver got alice's five events, each once, verified, in order per resource
    wait_until(lambda: len(state.events) == 5)
    time.sleep(0.5)  # nothing more arrives
    received = [(e["type"], e["subject"]) for e in state.events.values()]
    assert received == [
        ("product.created", f"products/{product['id']}"),
        ("order.placed", f"orders/{order['id']}"),
        ("order.paid", f"orders/{order['id']}"),
        ("order.shipped", f"orders/{order['id']}"),
        ("order.delivered", f"orders/{order['id']}"),
    ]
    assert (state.deliveries, state.rejected) == (5, 0)
    assert state.ids == list(state.events)  # webhook-id = the event id
    attempts = call(stack, "GET", f"/webhooks/{hook}/deliveries", token=alice)["items"]
    assert sorted(a["event_id"] for a in attempts) == sorted(state.events)
    assert {a["status"] for a in attempts} == {204}


def test_a_receiver_that_fails_twice_gets_the_event_three_times_with_the_same_webhook_id(
    stack: str, receiver: tuple[Receiver, str]
) -> None:
    # Given a receiver that answers 500 twice, then 204
    state, url = receiver
    state.fail_first = 2
    alice = registered(stack, "alice")
    hook = subscribe(stack, alice, state, url, ["product.created"])
    # When alice creates a product
    call(stack, "POST", "/products", {"name": "Mug", "price": 19.99}, alice)
    # Then the event arrives three times, with one webhook-id, and is counted once
    wait_until(lambda: len(state.events) == 1)
    (event_id,) = state.events
    assert state.ids == [event_id, event_id, event_id]
    assert (state.deliveries, state.rejected) == (3, 0)
    attempts = call(stack, "GET", f"/webhooks/{hook}/deliveries", token=alice)["items"]
    assert [(a["attempt"], a["status"]) for a in attempts] == [(3, 204), (2, 500), (1, 500)]
    assert all(a["event_id"] == event_id for a in attempts)
