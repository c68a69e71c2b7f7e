"""Deployed webhook delivery on the emulator: POST /webhooks through the gateway → a product
created → the table's stream → the publisher → the bus → the template's rule → the delivery
queue → the webhook worker → a verifying receiver on this machine, which fails the first
attempt and gets the retry with the same webhook-id.

The emulator's template lets the stack send to http://127.0.0.1 and starts retries at 2 s
(infra/emulator_template.py); on AWS a deployed URL must be https to a public address.
Named to run before test_outage.py, which recreates the table (and so its stream) under the
stack: after it the publisher's mapping reads a stream that no longer exists."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from standardwebhooks.webhooks import Webhook

from infra import webhooks as delivery
from tests.deployed.conftest import Stack
from tests.deployed.test_events import stack_resource
from tests.deployed.test_journey import bearer
from tools.webhook_receiver import Receiver

# Stream poller, rule, queue poller, a 2 s retry: give the whole chain this long.
ARRIVAL_SECONDS = 90.0


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    """A verifying receiver on a free loopback port of this machine."""
    state = Receiver("whsec_" + "A" * 32)
    server = state.serve()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def _ok(response: requests.Response, status: int) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def _wait_until(done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + ARRIVAL_SECONDS
    while not done() and time.monotonic() < deadline:
        time.sleep(0.5)


def test_a_subscriber_gets_the_event_signed_and_a_retry_with_the_same_webhook_id(
    http: requests.Session, stack: Stack, receiver: tuple[Receiver, str]
) -> None:
    # Given a user subscribed to product.created, with a receiver that answers 500 once
    state, url = receiver
    state.fail_first = 1
    email = f"wh-{uuid.uuid4().hex[:12]}@example.com"
    _ok(http.post(stack.url("/users"), json={"email": email, "password": "password123", "name": "Wh"}), 201)
    token = _ok(http.post(stack.url("/auth/token"), json={"email": email, "password": "password123"}), 200)
    auth = bearer(token)
    hook = _ok(
        http.post(stack.url("/webhooks"), headers=auth, json={"url": url, "events": ["product.created"]}), 201
    )
    state.webhook = Webhook(hook["secret"])
    # When they create a product through the gateway
    product = _ok(
        http.post(stack.url("/products"), headers=auth, json={"name": "Jug", "price": 9, "stock": 1}), 201
    )
    # Then the deployed chain delivers its event: refused once, delivered by the retry, one webhook-id
    _wait_until(lambda: len(state.events) == 1)
    assert len(state.events) == 1, _diagnosis(http, stack, auth, hook["id"], state)
    (event,) = state.events.values()
    assert (event["type"], event["subject"]) == ("product.created", f"products/{product['id']}")
    assert event["data"] == product
    assert state.ids == [event["id"], event["id"]]
    assert (state.deliveries, state.rejected) == (2, 0)
    attempts = _ok(http.get(stack.url(f"/webhooks/{hook['id']}/deliveries"), headers=auth), 200)["items"]
    assert [(a["attempt"], a["status"], a["event_id"]) for a in attempts] == [
        (2, 204, event["id"]),
        (1, 500, event["id"]),
    ]
    # and nothing went to the delivery dead-letter queue
    dlq = stack_resource(stack, delivery.DLQ)
    depth = stack.aws("sqs").get_queue_attributes(
        QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert depth["Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_a_products_update_waits_in_its_lane_until_the_creation_got_through(
    http: requests.Session, stack: Stack, receiver: tuple[Receiver, str]
) -> None:
    # Given a subscription to a product's creation and updates, a receiver refusing twice
    state, url = receiver
    state.fail_first = 2
    email = f"wh-{uuid.uuid4().hex[:12]}@example.com"
    _ok(http.post(stack.url("/users"), json={"email": email, "password": "password123", "name": "Wh"}), 201)
    token = _ok(http.post(stack.url("/auth/token"), json={"email": email, "password": "password123"}), 200)
    auth = bearer(token)
    events = ["product.created", "product.updated"]
    hook = _ok(http.post(stack.url("/webhooks"), headers=auth, json={"url": url, "events": events}), 201)
    state.webhook = Webhook(hook["secret"])
    # When a product is created and at once changed
    product = _ok(
        http.post(stack.url("/products"), headers=auth, json={"name": "Jug", "price": 9, "stock": 1}), 201
    )
    path = stack.url(f"/products/{product['id']}")
    _ok(http.patch(path, headers={**auth, "If-Match": f'"{product["version"]}"'}, json={"stock": 5}), 200)
    # Then the update is attempted only after the creation's third attempt got through
    _wait_until(lambda: len(state.events) == 2)
    assert len(state.events) == 2, _diagnosis(http, stack, auth, hook["id"], state)
    created, updated = state.events.values()
    assert (created["type"], updated["type"]) == ("product.created", "product.updated")
    assert state.ids == [created["id"]] * 3 + [updated["id"]]


def _diagnosis(http: requests.Session, stack: Stack, auth: dict[str, str], hook: str, state: Receiver) -> str:
    """What the chain did, for a failure message: attempts, the mapping, the queues, the worker's log."""
    attempts = http.get(stack.url(f"/webhooks/{hook}/deliveries"), headers=auth).text
    mappings = stack.aws("lambda").list_event_source_mappings(
        FunctionName=delivery.worker_function_name(stack.stage)
    )["EventSourceMappings"]
    sqs = stack.aws("sqs")
    depths = {
        name: sqs.get_queue_attributes(QueueUrl=stack_resource(stack, name), AttributeNames=["All"])
        for name in (delivery.QUEUE, delivery.DLQ)
    }
    try:
        group = f"/aws/lambda/{delivery.worker_function_name(stack.stage)}"
        logs = stack.aws("logs")
        found = logs.filter_log_events(logGroupName=group, filterPattern="webhook", limit=200)["events"]
        log = "\n".join(e["message"] for e in found)
    except Exception as exc:  # the log is a hint only
        log = f"no log: {exc}"
    seen = (state.deliveries, state.rejected, state.ids)
    return f"receiver {seen}\nattempts {attempts}\nmappings {mappings}\nqueues {depths}\nworker log:\n{log}"
