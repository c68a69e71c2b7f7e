"""The deployed webhook worker (chalicelib/webhook_worker.py) against the real local engine and
real local receivers: the bus's event fanned out to one message per subscription, a failed
delivery sent again with the schedule's delay and the same webhook-id, long waits made of
15-minute hops, give-up and disabling, a message whose handling failed reported alone, every
table or queue call failing in turn losing no event, and the Lambda handler over moto's SQS.

A small in-memory queue stands in for SQS in most tests (a message visible after its delay;
a failed one visible again after the visibility timeout), so a fake clock drives retries."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from chalicelib import webhook_worker
from chalicelib.api import deps
from chalicelib.config import reset_settings
from chalicelib.models.events import CloudEvent
from chalicelib.services.webhook_delivery import Policy
from chalicelib.store.pagination import PageRequest
from chalicelib.store.table import Table
from chalicelib.store.webhooks import DeliveryStore, WebhookStore
from chalicelib.webhook_worker import SQS_MAX_DELAY_SECONDS, Delivery, Worker, handle_batch
from tests import faults
from tests.faults import Faults
from tests.integration.test_webhook_dispatch import ADMIN, OTHER, OWNER, Clock, product_event, subscribe
from tools.webhook_receiver import Receiver

VISIBILITY_SECONDS = 360.0


class Queue:
    """SQS as the worker sees it: send with a delay; receive what is visible."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.messages: list[tuple[float, int, str]] = []  # (visible at, id, body)
        self.sent: list[tuple[dict[str, Any], int]] = []  # every send: body, delay
        self.count = 0
        self.refuse = False
        self.failed: list[str] = []  # every message id reported failed

    def send(self, body: str, delay: int) -> None:
        if self.refuse:
            raise ConnectionError("the queue is unreachable")
        assert 0 <= delay <= SQS_MAX_DELAY_SECONDS
        self.sent.append((json.loads(body), delay))
        self.put(body, delay)

    def put(self, body: str, delay: float = 0.0) -> None:
        self.count += 1
        self.messages.append((self.clock.now + delay, self.count, body))

    def pump(self, worker: Worker) -> list[str]:
        """One receive of everything visible → the worker; failed messages come back later."""
        visible = sorted(m for m in self.messages if m[0] <= self.clock.now)
        self.messages = [m for m in self.messages if m[0] > self.clock.now]
        records = [{"messageId": str(number), "body": body} for _, number, body in visible]
        failed = [f["itemIdentifier"] for f in handle_batch(worker, records)["batchItemFailures"]]
        self.failed.extend(failed)
        for _, number, body in visible:
            if str(number) in failed:
                self.messages.append((self.clock.now + VISIBILITY_SECONDS, number, body))
        return failed

    def run(self, worker: Worker, seconds: float = 0.0) -> None:
        """Let time pass, then receive until nothing more is visible."""
        self.clock.now += seconds
        while any(m[0] <= self.clock.now for m in self.messages):
            self.pump(worker)


def envelope(event: CloudEvent) -> str:
    """The message EventBridge's rule puts on the queue (the CloudEvent is its detail)."""
    detail = json.loads(event.to_json())
    return json.dumps({"version": "0", "source": "storefront", "detail-type": event.type, "detail": detail})


def worker(table: Table, queue: Queue, max_attempts: int = 14, disable_after: int = 5) -> Worker:
    policy = Policy(base_seconds=30, max_attempts=max_attempts, disable_after=disable_after)
    return Worker(table, queue.send, local=True, policy=policy, clock=queue.clock)


def test_an_event_is_fanned_out_to_each_subscription_that_receives_it(
    table: Table, receiver: tuple[Receiver, str]
) -> None:
    # Given the owner's subscription, another user's and an admin's
    state, url = receiver
    mine = subscribe(table, state, url)
    subscribe(table, state, url, OTHER)
    admins = subscribe(table, state, url, ADMIN, ["product.created"])
    queue = Queue(Clock())
    event = product_event(OWNER, "p1")
    # When the bus's event is received
    queue.put(envelope(event))
    queue.pump(w := worker(table, queue))
    # Then one delivery message per receiving subscription, due at once
    assert sorted((body["webhook_id"], delay) for body, delay in queue.sent) == sorted(
        [(mine, 0), (admins, 0)]
    )
    queue.run(w)
    # (the receiver holds the last secret made, the admin's: the owner's is refused, to be retried)
    assert (state.deliveries, state.rejected, list(state.events)) == (1, 1, [event.id])
    for hook in (mine, admins):
        (record,) = DeliveryStore(table).list_page(PageRequest(10), hook).items
        assert (record.event_id, record.attempt) == (event.id, 1)


def test_a_failing_receiver_gets_the_event_again_with_backoff_and_the_same_webhook_id(
    table: Table, receiver: tuple[Receiver, str]
) -> None:
    # Given a receiver that answers 500 twice, then 204
    state, url = receiver
    state.fail_first = 2
    hook = subscribe(table, state, url)
    queue = Queue(Clock())
    w = worker(table, queue)
    event = product_event(OWNER, "p1")
    queue.put(envelope(event))
    # When the queue is received: at once, then 30 s later, then 60 s after that
    queue.run(w)
    queue.run(w, 29)
    assert state.deliveries == 1
    queue.run(w, 1)
    queue.run(w, 60)
    # Then three signed deliveries of the one event, counted once, all recorded
    assert (state.deliveries, state.rejected, list(state.events), set(state.ids)) == (
        3,
        0,
        [event.id],
        {event.id},
    )
    assert [(body["failures"], delay) for body, delay in queue.sent] == [(0, 0), (1, 30), (2, 60)]
    page = DeliveryStore(table).list_page(PageRequest(10), hook)
    assert [(a.attempt, a.status) for a in page.items] == [(3, 204), (2, 500), (1, 500)]
    assert queue.messages == []


def test_a_wait_longer_than_sqs_allows_is_made_of_15_minute_hops(
    table: Table, receiver: tuple[Receiver, str]
) -> None:
    # Given a delivery that failed 6 times: after the 7th the next waits 30 s * 2^6 = 1920 s
    state, url = receiver
    state.fail_first = 1
    hook = subscribe(table, state, url)
    queue = Queue(Clock())
    w = worker(table, queue)
    queue.put(Delivery(hook, product_event(OWNER, "p1"), failures=6).to_json())
    queue.run(w)  # attempt 7 fails
    assert queue.sent[-1][0]["not_before"] == queue.clock.now + 1920
    # When the queue gives it back every 15 minutes
    queue.run(w, SQS_MAX_DELAY_SECONDS)
    queue.run(w, SQS_MAX_DELAY_SECONDS)
    assert state.deliveries == 1  # two hops: no attempt
    assert [delay for _, delay in queue.sent] == [900, 900, 120]
    queue.run(w, 120)
    # Then the attempt is made when due, with the same event
    assert (state.deliveries, state.rejected, len(state.events)) == (2, 0, 1)
    assert [a.attempt for a in DeliveryStore(table).list_page(PageRequest(10), hook).items] == [8, 7]


def test_the_last_failed_attempt_gives_up_and_a_run_of_them_disables_the_subscription(
    table: Table, receiver: tuple[Receiver, str], caplog: pytest.LogCaptureFixture
) -> None:
    state, url = receiver
    state.fail_first = 1000
    hook = subscribe(table, state, url)
    queue = Queue(Clock())
    w = worker(table, queue, max_attempts=2, disable_after=2)
    queue.put(envelope(product_event(OWNER, "p1")))
    queue.put(envelope(product_event(OWNER, "p2")))
    with caplog.at_level(logging.WARNING, logger="storefront"):
        queue.run(w)
        queue.run(w, 30)
    stored = WebhookStore(table).get(hook)
    assert stored is not None
    assert (stored.enabled, stored.failed_events, state.deliveries) == (False, 2, 4)
    assert [
        getattr(r, "webhook_id", None) for r in caplog.records if r.getMessage() == "webhook.disabled"
    ] == [hook]
    # A disabled subscription gets nothing more: no fan-out, no attempt of a queued delivery
    queue.put(envelope(product_event(OWNER, "p3")))
    queue.put(Delivery(hook, product_event(OWNER, "p4")).to_json())
    queue.run(w, 3600)
    assert (state.deliveries, queue.messages) == (4, [])


def test_a_message_that_cannot_be_handled_is_reported_alone(
    table: Table, receiver: tuple[Receiver, str]
) -> None:
    state, url = receiver
    subscribe(table, state, url)
    queue = Queue(Clock())
    queue.put("not json")
    queue.put(json.dumps({"webhook_id": "w1"}))  # neither an event nor a delivery
    queue.put(envelope(product_event(OWNER, "p1")))
    assert queue.pump(worker(table, queue)) == ["1", "2"]


def test_a_failing_table_or_queue_call_at_any_point_loses_no_event(
    table: Table, receiver: tuple[Receiver, str]
) -> None:
    # Given one subscription and one event; the table calls of a delivery without faults
    state, url = receiver
    subscribe(table, state, url)
    event = product_event(OWNER, "p1")
    baseline = Faults(table.client)
    queue = Queue(Clock())
    with baseline.armed():
        queue.put(envelope(event))
        queue.run(worker(table, queue))
    assert baseline.calls == ["Query", "GetItem", "PutItem"]
    for index, operation in [*enumerate(baseline.calls), (-1, "SendMessage")]:
        state.events.clear()
        state.ids.clear()
        queue = Queue(Clock())
        # When that call fails (throttled until botocore gives up; the queue refusing a send)
        injected = Faults(table.client)
        injected.by_index[index] = faults.throttled()
        queue.refuse = index == -1
        with injected.armed():
            queue.put(envelope(event))
            queue.run(worker(table, queue))
        assert len(queue.failed) == 1, operation  # reported, to be received again
        queue.refuse = False
        # Then the message comes back and the event arrives (again, with the same id, if the
        # failure came after it: the failed record of the attempt is a failed attempt)
        queue.run(worker(table, queue), VISIBILITY_SECONDS)
        assert list(state.events) == [event.id], operation
        assert set(state.ids) == {event.id}, operation
        assert queue.messages == [], operation


@pytest.fixture
def sqs_queue(engine_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    """A queue on the embedded engine (moto serves SQS too), named by WEBHOOK_QUEUE_URL."""
    sqs = boto3.client("sqs", endpoint_url=engine_endpoint)
    url = sqs.create_queue(QueueName="webhook-deliveries-test")["QueueUrl"]
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", engine_endpoint)
    monkeypatch.setenv("WEBHOOK_QUEUE_URL", url)
    reset_settings()
    webhook_worker._client.clear()
    yield sqs, url
    sqs.delete_queue(QueueUrl=url)
    webhook_worker._client.clear()
    monkeypatch.delenv("WEBHOOK_QUEUE_URL")
    reset_settings()
    deps.reset()


def test_the_lambda_handler_fans_out_through_sqs_and_delivers(
    table: Table, receiver: tuple[Receiver, str], sqs_queue: tuple[Any, str]
) -> None:
    # Given a subscription and the bus's event, as the mapping hands it to the handler
    state, url = receiver
    hook = subscribe(table, state, url)
    sqs, queue_url = sqs_queue
    event = product_event(OWNER, "p1")
    answer = webhook_worker.handler({"Records": [{"messageId": "m1", "body": envelope(event)}]}, None)
    assert answer == {"batchItemFailures": []}
    # When the delivery message it sent on the queue is handled
    (message,) = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert json.loads(message["Body"])["webhook_id"] == hook
    answer = webhook_worker.handler({"Records": [{"messageId": "m2", "body": message["Body"]}]}, None)
    # Then the receiver has the event, signed
    assert (answer, list(state.events), state.rejected) == ({"batchItemFailures": []}, [event.id], 0)


def test_the_handler_needs_its_queue(table: Table) -> None:
    reset_settings()
    with pytest.raises(RuntimeError, match="WEBHOOK_QUEUE_URL"):
        webhook_worker.handler({"Records": []}, None)
