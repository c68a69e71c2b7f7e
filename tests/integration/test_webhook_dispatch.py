"""The webhook dispatcher against the real local engine and real local receivers: fan-out by
type and owner, retries with backoff and the same webhook-id, order per resource, give-up and
`webhook.disabled`, deletion stops deliveries, the URL re-checked at every delivery. A fake
clock drives the schedule, so no test waits for a retry."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from chalicelib.models.events import CloudEvent, Deleted, new_event
from chalicelib.models.products import ProductPublic
from chalicelib.models.webhooks import DeliveryPublic, WebhookCreate
from chalicelib.services import webhooks as service
from chalicelib.services.webhook_delivery import Policy, event_owner
from chalicelib.store import keys
from chalicelib.store.lanes import LaneStore
from chalicelib.store.outbox import announce
from chalicelib.store.pagination import PageRequest
from chalicelib.store.table import Table
from chalicelib.store.webhooks import DeliveryStore, WebhookStore
from chalicelib.webhook_worker import STALL_SECONDS, Dispatcher
from tests import faults
from tests.faults import Fault, Faults
from tests.helpers import as_caller
from tools import event_publisher
from tools.event_publisher import LocalBus, Publisher, StreamReader
from tools.webhook_receiver import Receiver

OWNER, OTHER, ADMIN = "owner-1", "other-2", "admin-3"


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def product_event(owner: str, product_id: str, version: int = 1, kind: str = "product.created") -> CloudEvent:
    # a later version is a later change even within one millisecond (lanes sort by time)
    moment = datetime.now(UTC) + timedelta(milliseconds=version)
    product = ProductPublic(
        id=product_id,
        owner_id=owner,
        name="Mug",
        description="",
        price=Decimal("19.99"),
        currency="USD",
        stock=1,
        version=version,
        created_at=moment,
        updated_at=moment,
    )
    return new_event(kind, f"products/{product_id}", product, str(version), moment)


def attempts(table: Table, hook: str) -> list[DeliveryPublic]:
    """The subscription's recorded attempts, newest first, as `GET .../deliveries` shows them."""
    page = json.loads(DeliveryStore(table).public_page(PageRequest(10), hook).json())
    return [DeliveryPublic.model_validate(item) for item in page["items"]]


def subscribe(
    table: Table, receiver: Receiver, url: str, user: str = OWNER, events: list[str] | None = None
) -> str:
    from standardwebhooks.webhooks import Webhook

    caller = as_caller(user, "admin" if user == ADMIN else "user", table)
    body = WebhookCreate(url=url, events=events or ["product.created", "product.updated"])
    made = service.create_webhook(table, caller, body, local=True)
    receiver.webhook = Webhook(made.secret)
    return made.id


def dispatcher(table: Table, clock: Clock, max_attempts: int = 14, disable_after: int = 5) -> Dispatcher:
    policy = Policy(base_seconds=30, max_attempts=max_attempts, disable_after=disable_after)
    return Dispatcher(table, local=True, policy=policy, clock=clock)


def drain(d: Dispatcher, clock: Clock, seconds: float = 0.0) -> None:
    clock.now += seconds
    d.run_due()


def test_a_users_subscription_gets_only_its_own_resources_events_of_its_types(
    table: Table, receiver: tuple[Receiver, str]
) -> None:
    state, url = receiver
    subscribe(table, state, url)
    clock = Clock()
    d = dispatcher(table, clock)
    mine, theirs = product_event(OWNER, "p1"), product_event(OTHER, "p2")
    gone = new_event("product.deleted", "products/p1", Deleted(id="p1"), "deleted", datetime.now(UTC))
    assert d.publish([mine, theirs, gone]) == 1
    drain(d, clock)
    assert list(state.events) == [mine.id]


def test_an_admins_subscription_gets_everyones_events(table: Table, receiver: tuple[Receiver, str]) -> None:
    state, url = receiver
    subscribe(table, state, url, ADMIN, ["product.created", "product.deleted"])
    clock = Clock()
    d = dispatcher(table, clock)
    events = [
        product_event(OWNER, "p1"),
        product_event(OTHER, "p2"),
        new_event("product.deleted", "products/p1", Deleted(id="p1"), "deleted", datetime.now(UTC)),
    ]
    assert d.publish(events) == 3
    drain(d, clock)
    assert sorted(state.events) == sorted(e.id for e in events)


def test_a_failing_receiver_gets_the_event_again_with_backoff_and_the_same_webhook_id(
    table: Table, receiver: tuple[Receiver, str]
) -> None:
    # Given a receiver that answers 500 twice, then 204
    state, url = receiver
    state.fail_first = 2
    hook = subscribe(table, state, url)
    clock = Clock()
    d = dispatcher(table, clock)
    event = product_event(OWNER, "p1")
    d.publish([event])
    # When the schedule runs: at once, then 30 s later, then 60 s after that
    drain(d, clock)
    drain(d, clock, 29)
    assert state.deliveries == 1  # not yet: the first retry waits 30 s
    drain(d, clock, 1)
    drain(d, clock, 59)
    assert state.deliveries == 2
    drain(d, clock, 1)
    # Then three signed deliveries of the one event, counted once, all recorded
    assert (state.deliveries, state.rejected, list(state.events)) == (3, 0, [event.id])
    assert [(a.attempt, a.status, a.event_id) for a in attempts(table, hook)] == [
        (3, 204, event.id),
        (2, 500, event.id),
        (1, 500, event.id),
    ]
    assert d.pending() == 0


def test_a_resources_later_event_waits_for_its_earlier_one(
    table: Table, receiver: tuple[Receiver, str]
) -> None:
    state, url = receiver
    state.fail_first = 1
    subscribe(table, state, url)
    clock = Clock()
    d = dispatcher(table, clock)
    created, updated = product_event(OWNER, "p1"), product_event(OWNER, "p1", 2, "product.updated")
    other = product_event(OWNER, "p9")
    d.publish([created, updated, other])
    drain(d, clock)  # created fails; the other product's event is not held back
    assert list(state.events) == [other.id]
    drain(d, clock, 30)
    assert list(state.events) == [other.id, created.id, updated.id]


def test_an_event_given_up_counts_and_a_long_run_disables_the_subscription(
    table: Table, receiver: tuple[Receiver, str], caplog: pytest.LogCaptureFixture
) -> None:
    state, url = receiver
    state.fail_first = 1000
    hook = subscribe(table, state, url)
    clock = Clock()
    d = dispatcher(table, clock, max_attempts=2, disable_after=2)
    d.publish([product_event(OWNER, "p1"), product_event(OWNER, "p2")])
    with caplog.at_level(logging.WARNING, logger="storefront"):
        drain(d, clock)
        drain(d, clock, 30)
    stored = WebhookStore(table).get(hook)
    assert stored is not None
    assert (stored.enabled, stored.failed_events) == (False, 2)
    lines = [r for r in caplog.records if r.getMessage() == "webhook.disabled"]
    assert [(r.levelname, getattr(r, "webhook_id", None)) for r in lines] == [("WARNING", hook)]
    # A disabled subscription gets nothing more
    d.publish([product_event(OWNER, "p3")])
    drain(d, clock, 3600)
    assert state.deliveries == 4


def test_a_success_ends_the_run_of_failed_events(table: Table, receiver: tuple[Receiver, str]) -> None:
    state, url = receiver
    state.fail_first = 1
    hook = subscribe(table, state, url)
    clock = Clock()
    d = dispatcher(table, clock, max_attempts=1)
    d.publish([product_event(OWNER, "p1"), product_event(OWNER, "p2")])
    drain(d, clock)
    stored = WebhookStore(table).get(hook)
    assert stored is not None
    assert (stored.enabled, stored.failed_events) == (True, 0)
    assert state.deliveries == 2


def test_a_deleted_subscription_gets_no_more_retries(table: Table, receiver: tuple[Receiver, str]) -> None:
    state, url = receiver
    state.fail_first = 1
    hook = subscribe(table, state, url)
    clock = Clock()
    d = dispatcher(table, clock)
    d.publish([product_event(OWNER, "p1")])
    drain(d, clock)
    service.delete_webhook(table, as_caller(OWNER, table=table), hook)
    drain(d, clock, 3600)
    assert state.deliveries == 1
    assert d.pending() == 0


def test_the_url_is_checked_again_at_delivery(table: Table) -> None:
    # Given a subscription made when its host resolved to a public address
    caller = as_caller(OWNER, table=table)
    body = WebhookCreate(url="https://hooks.example.com/in", events=["product.created"])
    hook = service.create_webhook(
        table, caller, body, local=False, resolver=lambda h, p: ["93.184.216.34"]
    ).id
    # When its name now resolves to the metadata address
    clock = Clock()
    d = Dispatcher(
        table,
        local=False,
        policy=Policy(base_seconds=30),
        resolver=lambda h, p: ["169.254.169.254"],
        clock=clock,
    )
    d.publish([product_event(OWNER, "p1")])
    drain(d, clock)
    # Then no request was made: the attempt is an error, to be retried
    attempt = attempts(table, hook)[0]
    assert attempt.status is None
    assert attempt.error is not None
    assert attempt.error.startswith("refused")
    assert d.pending() == 1


def test_an_unreachable_table_postpones_the_fan_out(table: Table, receiver: tuple[Receiver, str]) -> None:
    state, url = receiver
    subscribe(table, state, url)
    clock = Clock()
    d = dispatcher(table, clock)
    broken = Dispatcher(Table(table.client, "no-such-table", table.cursors), local=True, clock=clock)
    event = product_event(OWNER, "p1")
    assert broken.publish([event]) == 0
    assert broken.backlog == [event]
    d.backlog = broken.backlog  # the same events, once the table answers
    assert d.publish([]) == 1
    drain(d, clock)
    assert list(state.events) == [event.id]


def test_the_owner_of_an_event() -> None:
    assert event_owner(product_event(OWNER, "p1")) == OWNER
    assert (
        event_owner(new_event("product.deleted", "products/p", Deleted(id="p"), "d", datetime.now(UTC)))
        is None
    )
    deleted_user = new_event("user.deleted", "users/u1", Deleted(id="u1"), "d", datetime.now(UTC))
    assert event_owner(deleted_user) == "u1"


def lane(table: Table, hook: str, subject: str) -> tuple[bool | None, int]:
    """Whether the lane is held (None: never made), and how many entries it has."""
    item = LaneStore(table).get(hook, subject)
    entries, _ = table.query_prefix(f"HOOK#{hook}", keys.lane_entries_prefix(subject), 100)
    return (item.busy if item is not None else None), len(entries)


def test_a_restarted_dispatcher_resumes_the_retries_held_in_the_table(
    table: Table, receiver: tuple[Receiver, str]
) -> None:
    # Given a delivery that failed once, and an event of the same resource behind it
    state, url = receiver
    state.fail_first = 1
    hook = subscribe(table, state, url)
    clock = Clock()
    first = dispatcher(table, clock)
    created, updated = product_event(OWNER, "p1"), product_event(OWNER, "p1", 2, "product.updated")
    first.publish([created, updated])
    drain(first, clock)
    assert (state.deliveries, lane(table, hook, "products/p1")) == (1, (True, 2))
    # When `make run` restarts: a new dispatcher, nothing in memory
    del first
    again = dispatcher(table, clock)
    again.publish([])
    drain(again, clock, 29)
    assert state.deliveries == 1  # the retry keeps its due time (30 s after the failure)
    drain(again, clock, 1)
    # Then the retry is made when due, then the next event, in order; the lane is let go
    assert list(state.events) == [created.id, updated.id]
    assert (again.pending(), lane(table, hook, "products/p1")) == (0, (False, 0))


# The calls of one delivery: resume (subscriptions, their lanes); fan-out (subscriptions,
# append, lane, head, claim); the tick (lane, head, subscription, attempt record, remove,
# advance); the last tick (lane, head, release, then the re-check: lane, head).
DELIVERY_CALLS = [
    *["Query", "Query"],
    *["Query", "PutItem", "GetItem", "Query", "PutItem"],
    *["GetItem", "Query", "GetItem", "PutItem", "DeleteItem", "UpdateItem"],
    *["GetItem", "Query", "UpdateItem", "GetItem", "Query"],
]


def test_a_failing_table_call_at_any_point_of_a_delivery_loses_no_event(
    table: Table, receiver: tuple[Receiver, str]
) -> None:
    # Given one subscription and one event; the calls of a round without faults
    state, url = receiver
    hook = subscribe(table, state, url)
    event = product_event(OWNER, "p1")
    clock = Clock()
    baseline = Faults(table.client)
    with baseline.armed():
        d = dispatcher(table, clock)
        d.publish([event])
        drain(d, clock)
    assert baseline.calls == DELIVERY_CALLS
    for index, operation in enumerate(baseline.calls):
        for fault in (faults.throttled(), Fault("lost")):  # refused; applied but never answered
            where = f"call {index} ({operation}), {fault.kind}"
            state.events.clear()
            state.ids.clear()
            # When that call fails (until botocore gives up)
            injected = Faults(table.client)
            injected.by_index[index] = fault
            d = dispatcher(table, clock)
            with injected.armed():
                d.publish([event])
                drain(d, clock)
            # Then the event still arrives (again, with the same id, if the failure came after
            # it), and its lane is let go, empty
            d.publish([])
            drain(d, clock, STALL_SECONDS)
            assert list(state.events) == [event.id], where
            assert set(state.ids) == {event.id}, where
            assert d.pending() == 0, where
            assert lane(table, hook, event.subject) == (False, 0), where


def test_an_event_whose_fan_out_failed_stays_off_the_bus_and_goes_out_after_a_restart(
    table: Table, receiver: tuple[Receiver, str], tmp_path: Path
) -> None:
    # Given a committed change, and `make run`'s publisher whose fan-out cannot reach the table
    state, url = receiver
    subscribe(table, state, url)
    event = product_event(OWNER, "p1")
    table.transact_write([announce(event)])
    _, streams = event_publisher.clients_for(table.client)
    bus = tmp_path / "events.jsonl"
    clock = Clock()
    broken = Dispatcher(Table(table.client, "no-such-table", table.cursors), local=True, clock=clock)
    first = Publisher(StreamReader(table.client, streams, table.name), LocalBus(bus), broken)
    # When it polls: the event is kept off the bus (its fan-out failed)
    assert (first.poll(), bus.exists()) == (0, False)
    # and `make run` restarts: the stream is read again from its start
    reader = StreamReader(table.client, streams, table.name)
    again = Publisher(reader, LocalBus(bus), dispatcher(table, clock))
    # Then the event is fanned out, delivered, and on the bus once (after the subscriber's own
    # user.registered, which the stream holds too)
    assert again.poll() == 2
    on_bus = [json.loads(line)["id"] for line in bus.read_text().splitlines()]
    assert (len(on_bus), on_bus[-1]) == (2, event.id)
    assert list(state.events) == [event.id]
    assert again.poll() == 0
