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
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from chalicelib import webhook_worker
from chalicelib.api import deps
from chalicelib.config import reset_settings
from chalicelib.models.events import CloudEvent
from chalicelib.services import webhooks as service
from chalicelib.services.webhook_delivery import Policy
from chalicelib.store.lanes import LaneItem, LaneStore
from chalicelib.store.table import Table
from chalicelib.store.webhooks import WebhookStore
from chalicelib.webhook_worker import SQS_MAX_DELAY_SECONDS, Tick, Worker, handle_batch
from tests import faults
from tests.faults import Fault, Faults
from tests.helpers import as_caller
from tests.integration.test_webhook_dispatch import (
    ADMIN,
    OTHER,
    OWNER,
    Clock,
    attempts,
    lane,
    product_event,
    subscribe,
)
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
        self.refuse_at: int | None = None  # refuse only this send (0: the first)
        self.sends = 0
        self.failed: list[str] = []  # every message id reported failed

    def send(self, body: str, delay: int) -> None:
        self.sends += 1
        if self.refuse or self.refuse_at == self.sends - 1:
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
        (record,) = attempts(table, hook)
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
    # (one tick per step of the lane: the first, two retries, the release of the empty lane)
    assert [(body["step"], delay) for body, delay in queue.sent] == [(1, 0), (2, 30), (3, 60), (4, 0)]
    assert [(a.attempt, a.status) for a in attempts(table, hook)] == [(3, 204), (2, 500), (1, 500)]
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
    event = product_event(OWNER, "p1")
    lanes = LaneStore(table)
    lanes.append(hook, event, int(queue.clock.now))
    head = lanes.head(hook, event.subject)
    assert head is not None
    lanes.failed(head, 6, 0, int(queue.clock.now))
    w.claim(hook, event.subject)
    queue.run(w)  # attempt 7 fails
    head = lanes.head(hook, event.subject)
    assert head is not None
    assert (head.failures, head.due_ms) == (7, (queue.clock.now + 1920) * 1000)
    # When the queue gives the tick back every 15 minutes
    queue.run(w, SQS_MAX_DELAY_SECONDS)
    queue.run(w, SQS_MAX_DELAY_SECONDS)
    assert state.deliveries == 1  # two hops: no attempt
    assert [delay for _, delay in queue.sent] == [0, 900, 900, 120]
    queue.run(w, 120)
    # Then the attempt is made when due, with the same event
    assert (state.deliveries, state.rejected, len(state.events)) == (2, 0, 1)
    assert [a.attempt for a in attempts(table, hook)] == [8, 7]


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
    # A disabled subscription gets nothing more: no fan-out, no attempt of an event in its lane
    queue.put(envelope(product_event(OWNER, "p3")))
    LaneStore(table).append(hook, product_event(OWNER, "p4"), int(queue.clock.now))
    queue.put(Tick(hook, "products/p4", 1).to_json())
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


def test_a_resources_events_fanned_out_in_reverse_arrival_order_are_delivered_in_its_order(
    table: Table, receiver: tuple[Receiver, str]
) -> None:
    # Given a product's two events reaching the worker newest first (EventBridge and a standard
    # queue do not keep order), in one batch
    state, url = receiver
    subscribe(table, state, url)
    queue = Queue(Clock())
    created, updated = product_event(OWNER, "p1"), product_event(OWNER, "p1", 2, "product.updated")
    queue.put(envelope(updated))
    queue.put(envelope(created))
    # When the queue is received
    queue.run(worker(table, queue))
    # Then the receiver gets them in the product's order, each once
    assert state.ids == [created.id, updated.id]


def test_a_later_event_is_not_attempted_while_the_earlier_one_is_retried(
    table: Table, receiver: tuple[Receiver, str]
) -> None:
    # Given a receiver that refuses the first two deliveries; a product's two events, and an
    # event of another product
    state, url = receiver
    state.fail_first = 2
    subscribe(table, state, url)
    queue = Queue(Clock())
    w = worker(table, queue)
    created, updated = product_event(OWNER, "p1"), product_event(OWNER, "p1", 2, "product.updated")
    queue.put(envelope(created))
    queue.run(w)  # created refused once
    other = product_event(OWNER, "p9")
    queue.put(envelope(updated))
    queue.put(envelope(other))
    queue.run(w)  # other refused once (the receiver's second refusal); updated waits
    # When the retries come due
    queue.run(w, 30)
    assert state.ids == [created.id, other.id, created.id, other.id, updated.id]
    # Then the other product was not held up, and p1's update went only after its creation got through
    assert list(state.events) == [created.id, other.id, updated.id]
    assert state.ids.count(updated.id) == 1
    assert queue.messages == []


def test_a_duplicate_event_message_makes_no_second_entry(
    table: Table, receiver: tuple[Receiver, str]
) -> None:
    state, url = receiver
    state.fail_first = 1
    hook = subscribe(table, state, url)
    queue = Queue(Clock())
    w = worker(table, queue)
    event = product_event(OWNER, "p1")
    # Given the bus's event received twice (at-least-once), the second while the first is retried
    queue.put(envelope(event))
    queue.run(w)
    queue.put(envelope(event))
    queue.run(w)
    assert lane(table, hook, event.subject) == (True, 1)
    # When the retry comes due
    queue.run(w, 30)
    # Then the event went out once more, and no more
    assert (state.ids, lane(table, hook, event.subject)) == ([event.id, event.id], (False, 0))
    queue.run(w, 3600)
    assert state.deliveries == 2


class RacingLanes(LaneStore):
    """Lanes whose release first lets another worker fan an event out into the same lane: the
    entry is appended after the lane was found empty, and its claim finds the lane held."""

    def __init__(self, table: Table, other: Worker, event: CloudEvent) -> None:
        super().__init__(table)
        self.other, self.event, self.raced = other, event, False

    def release(self, lane: LaneItem, now: int) -> bool:
        if not self.raced:
            self.raced = True
            assert self.other.fan_out(self.event) == 1
        return super().release(lane, now)


def test_a_tick_whose_claim_lost_its_race_makes_no_second_attempt(
    table: Table, receiver: tuple[Receiver, str]
) -> None:
    # Given a second worker holding a tick for the lane's first step whose claim lost the race
    # (it read the lane free, sent its tick, and its conditional claim was refused)
    state, url = receiver
    hook = subscribe(table, state, url)
    queue = Queue(Clock())
    event = product_event(OWNER, "p1")
    lost = {"webhook_id": hook, "subject": event.subject, "step": 1, "holder": "lost"}
    receive = state.receive
    raced: list[bool] = []

    def receive_while_the_other_worker_runs(body: bytes, headers: dict[str, str]) -> int:
        if not raced:  # while the winner's attempt is in flight, the loser's tick is handled
            raced.append(True)
            worker(table, queue).handle(lost)
        return receive(body, headers)

    setattr(state, "receive", receive_while_the_other_worker_runs)  # noqa: B010 - the receiver's hook
    # When the winner fans the event out and drives its lane
    queue.put(envelope(event))
    queue.run(worker(table, queue))
    # Then the head was attempted once: the losing tick does not hold the lane's token
    assert raced == [True]
    assert state.ids == [event.id]
    lane_item = LaneStore(table).get(hook, event.subject)
    assert lane_item is not None
    assert not lane_item.busy


def test_an_event_appended_while_its_lane_is_released_is_not_stranded(
    table: Table, receiver: tuple[Receiver, str]
) -> None:
    state, url = receiver
    hook = subscribe(table, state, url)
    queue = Queue(Clock())
    created, updated = product_event(OWNER, "p1"), product_event(OWNER, "p1", 2, "product.updated")
    w = worker(table, queue)
    w.lanes = RacingLanes(table, worker(table, queue), updated)
    # Given the created event delivered; when its lane is found empty and released, the update
    # is fanned out by another worker in between
    queue.put(envelope(created))
    queue.run(w)
    assert w.lanes.raced
    # Then the update is delivered too, and the lane is let go empty
    assert state.ids == [created.id, updated.id]
    assert (lane(table, hook, "products/p1"), queue.messages) == ((False, 0), [])


def test_a_new_worker_resumes_the_lane_and_its_due_retry(
    table: Table, receiver: tuple[Receiver, str]
) -> None:
    state, url = receiver
    state.fail_first = 1
    hook = subscribe(table, state, url)
    queue = Queue(Clock())
    created, updated = product_event(OWNER, "p1"), product_event(OWNER, "p1", 2, "product.updated")
    queue.put(envelope(created))
    queue.put(envelope(updated))
    queue.run(worker(table, queue))
    assert lane(table, hook, "products/p1") == (True, 2)
    # When another instance (a new container) receives the retry's tick
    queue.run(worker(table, queue), 30)
    # Then the retry is made and the next event follows, in order
    assert state.ids == [created.id, created.id, updated.id]


@dataclass
class Scenario:
    """One delivery to run under faults: how the receiver answers, the policy, what it leaves."""

    fail_first: int
    max_attempts: int
    failed_before: int  # the subscription's run of given-up events before the delivery
    delivered: bool
    failed_after: int
    enabled_after: bool


SCENARIOS = {
    "delivered at once": Scenario(0, 14, 0, True, 0, True),
    "refused once, retried, delivered, the run of failures reset": Scenario(1, 14, 1, True, 0, True),
    "given up, counted once, the subscription disabled": Scenario(1000, 1, 0, False, 1, False),
}


def run_scenario(
    table: Table, receiver: tuple[Receiver, str], scenario: Scenario, fault: Fault | None, at: int
) -> tuple[str, Queue, list[str]]:
    state, url = receiver
    state.fail_first, state.deliveries = scenario.fail_first, 0
    state.events.clear()
    state.ids.clear()
    hook = subscribe(table, state, url)
    if scenario.failed_before:
        WebhookStore(table).failed_event(hook, "an-earlier-event", "2026-01-01T00:00:00.000Z")
    queue = Queue(Clock())
    injected = Faults(table.client)
    if fault is not None:
        injected.by_index[at] = fault
    queue.refuse_at = -at - 1 if fault is None and at < 0 else None
    w = worker(table, queue, max_attempts=scenario.max_attempts, disable_after=1)
    with injected.armed():
        queue.put(envelope(product_event(OWNER, "p1")))
        queue.run(w)
        queue.run(w, 30)
    return hook, queue, injected.calls


def settled(
    table: Table, receiver: tuple[Receiver, str], scenario: Scenario, hook: str, queue: Queue
) -> None:
    """After the failed messages came back: the outcome of the run without faults."""
    for _ in range(4):
        queue.run(
            worker(table, queue, max_attempts=scenario.max_attempts, disable_after=1), VISIBILITY_SECONDS
        )
    state = receiver[0]
    stored = WebhookStore(table).get(hook)
    assert stored is not None
    assert (stored.failed_events, stored.enabled) == (scenario.failed_after, scenario.enabled_after)
    assert set(state.ids) == {product_event(OWNER, "p1").id} or not state.ids
    assert bool(state.events) == scenario.delivered
    assert (lane(table, hook, "products/p1"), queue.messages) == ((False, 0), [])
    service.delete_webhook(table, as_caller(OWNER, table=table), hook)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_failing_table_or_queue_call_at_any_point_loses_no_delivery_and_strands_no_lane(
    table: Table, receiver: tuple[Receiver, str], name: str
) -> None:
    # Given a delivery and the calls it makes without faults
    scenario = SCENARIOS[name]
    hook, queue, calls = run_scenario(table, receiver, scenario, None, 0)
    sends = queue.sends
    settled(table, receiver, scenario, hook, queue)
    plans: list[tuple[str, Fault | None, int]] = [(f"send {n}", None, -n - 1) for n in range(sends)]
    for index, operation in enumerate(calls):
        plans.append((f"call {index} ({operation}) refused", faults.throttled(), index))
        if operation in {"PutItem", "UpdateItem", "DeleteItem"}:
            plans.append((f"call {index} ({operation}) applied, never answered", Fault("lost"), index))
    for where, fault, at in plans:
        # When that call fails (the queue refusing a send; the table refusing a call, or applying
        # it and never answering, until botocore gives up)
        hook, queue, _ = run_scenario(table, receiver, scenario, fault, at)
        assert queue.failed, where  # reported, to be received again
        # Then once the message came back: the same outcome, the event with its one id, the
        # give-up counted once, the lane let go empty
        try:
            settled(table, receiver, scenario, hook, queue)
        except AssertionError as error:
            raise AssertionError(where) from error


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
    (message,) = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=5)[
        "Messages"
    ]
    assert json.loads(message["Body"])["webhook_id"] == hook
    answer = webhook_worker.handler({"Records": [{"messageId": "m2", "body": message["Body"]}]}, None)
    # Then the receiver has the event, signed
    assert (answer, list(state.events), state.rejected) == ({"batchItemFailures": []}, [event.id], 0)


def test_the_handler_needs_its_queue(table: Table) -> None:
    reset_settings()
    with pytest.raises(RuntimeError, match="WEBHOOK_QUEUE_URL"):
        webhook_worker.handler({"Records": []}, None)
