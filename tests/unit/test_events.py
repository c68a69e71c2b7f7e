"""Events: the envelope, stable ids, the catalogue, stream records → events, and the
deployed publisher's batch semantics (first failure reported, nothing after it skipped)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib import jsonio, publisher
from chalicelib.models.events import CATALOGUE, WHEN, CloudEvent, Deleted, event_id, new_event
from chalicelib.models.products import ProductItem
from chalicelib.publisher import PUT_EVENTS_LIMIT, eventbridge_put, publish
from chalicelib.store.codec import to_attributes
from chalicelib.store.outbox import (
    STREAM_FILTER,
    OutboxItem,
    OutboxStore,
    StreamEvent,
    outbox_item,
    stream_events,
)
from tools.event_docs import example

MOMENT = datetime(2026, 12, 4, 4, 0, tzinfo=UTC)


def product(version: int = 1, price: str = "19.90") -> ProductItem:
    return ProductItem(
        id="01KB000000000000000000000P",
        owner_id="01KB000000000000000000000U",
        name="Mug",
        description="",
        currency="USD",
        price=Decimal(price),
        stock=3,
        version=version,
        created_at=MOMENT,
        updated_at=MOMENT,
    )


def deleted(n: int) -> CloudEvent:
    return new_event("product.deleted", f"products/{n}", Deleted(id=str(n)), "deleted", MOMENT)


def record(event: CloudEvent, sequence: str, name: str = "INSERT") -> dict[str, Any]:
    return {
        "eventName": name,
        "dynamodb": {"SequenceNumber": sequence, "NewImage": to_attributes(outbox_item(event))},
    }


def test_the_same_change_always_has_the_same_id_and_another_change_another() -> None:
    first = new_event("product.updated", "products/p", product(2).public(), "2", MOMENT)
    again = new_event("product.updated", "products/p", product(2).public(), "2", datetime.now(UTC))
    later = new_event("product.updated", "products/p", product(3).public(), "3", MOMENT)
    assert first.id == again.id == event_id("product.updated", "products/p", "2")
    assert later.id != first.id
    assert len(first.id) == 32


def test_an_event_refuses_data_of_another_model() -> None:
    with pytest.raises(TypeError, match=r"product\.deleted carries Deleted"):
        new_event("product.deleted", "products/p", product().public(), "deleted", MOMENT)


def test_the_envelope_is_cloudevents_json_with_the_exact_price() -> None:
    event = new_event("product.created", "products/p", product(price="19.9").public(), "1", MOMENT)
    text = event.to_json()
    parsed = json.loads(text)
    assert set(parsed) == {
        "specversion",
        "id",
        "source",
        "type",
        "time",
        "subject",
        "datacontenttype",
        "data",
    }
    assert (parsed["specversion"], parsed["time"]) == ("1.0", "2026-12-04T04:00:00.000Z")
    assert '"price":19.9,' in text
    assert CloudEvent.from_json(text) == event


def test_every_catalogued_type_says_when_it_is_emitted() -> None:
    assert set(WHEN) == set(CATALOGUE)


def test_stream_records_yield_only_outbox_inserts_and_modifies_in_order() -> None:
    one, two = deleted(1), deleted(2)
    other = {
        "eventName": "INSERT",
        "dynamodb": {"SequenceNumber": "9", "NewImage": to_attributes({"type": "product"})},
    }
    records = [record(one, "1"), other, record(two, "2", "MODIFY"), record(one, "3", "REMOVE")]
    assert stream_events(records) == [StreamEvent("1", one), StreamEvent("2", two)]


def _matches(pattern: Any, value: Any) -> bool:
    """Lambda's filter semantics for exact-value patterns: every key matches, lists are 'one of'."""
    if isinstance(pattern, list):
        return value in pattern
    return isinstance(value, dict) and all(_matches(p, value.get(k)) for k, p in pattern.items())


def test_the_deployed_filter_keeps_exactly_what_the_publisher_publishes() -> None:
    event = deleted(1)
    kept = [record(event, "1"), record(event, "2", "MODIFY")]
    dropped = [
        record(event, "3", "REMOVE"),
        {"eventName": "INSERT", "dynamodb": {"NewImage": to_attributes({"type": "user"})}},
    ]
    assert all(_matches(STREAM_FILTER, r) for r in kept)
    assert not any(_matches(STREAM_FILTER, r) for r in dropped)
    assert len(stream_events(kept + dropped)) == len(kept)


class Bus:
    """A stand-in PutEvents: refuses the entries whose event ids it is told to, or is down."""

    def __init__(self, refuse: frozenset[str] = frozenset(), down: bool = False) -> None:
        self.refuse, self.down = refuse, down
        self.calls: list[list[str]] = []

    def put(self, entries: list[dict[str, Any]]) -> list[int]:
        ids = [json.loads(e["Detail"])["id"] for e in entries]
        self.calls.append(ids)
        if self.down:
            raise ConnectionError("bus unreachable")
        return [i for i, event_id in enumerate(ids) if event_id in self.refuse]


def batch(count: int) -> list[StreamEvent]:
    return [StreamEvent(str(100 + n), deleted(n)) for n in range(count)]


def test_a_batch_is_put_in_order_in_chunks_of_ten() -> None:
    events, bus = batch(25), Bus()
    assert publish(events, "storefront-test", bus.put) is None
    assert [len(c) for c in bus.calls] == [PUT_EVENTS_LIMIT, PUT_EVENTS_LIMIT, 5]
    assert [i for c in bus.calls for i in c] == [e.event.id for e in events]


def test_the_first_refused_entry_is_reported_and_nothing_after_its_chunk_is_put() -> None:
    events = batch(25)
    bus = Bus(refuse=frozenset({events[13].event.id, events[15].event.id}))
    assert publish(events, "storefront-test", bus.put) == "113"
    assert len(bus.calls) == 2  # the third chunk is retried with the failed record, in order


def test_a_call_never_carries_two_events_of_one_resource() -> None:
    # PutEvents may refuse an entry and accept the next: that must not be the same resource's next.
    events = batch(4)
    again = StreamEvent(
        "200", new_event("product.deleted", events[1].event.subject, Deleted(id="p"), "x", MOMENT)
    )
    bus = Bus()
    assert publish([*events[:3], again, events[3]], "storefront-test", bus.put) is None
    assert bus.calls == [[e.event.id for e in events[:3]], [again.event.id, events[3].event.id]]


def test_an_unreachable_bus_reports_the_chunks_first_record() -> None:
    assert publish(batch(3), "storefront-test", Bus(down=True).put) == "100"


def test_entries_name_the_bus_the_source_and_the_type() -> None:
    (found,) = batch(1)
    entry = publisher.entry(found, "storefront-prod")
    assert (entry["EventBusName"], entry["Source"], entry["DetailType"]) == (
        "storefront-prod",
        "storefront",
        "product.deleted",
    )
    assert json.loads(entry["Detail"])["id"] == found.event.id


class EventBridge:
    """A stand-in boto3 EventBridge client: answers PutEvents with an error for one entry."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.sent.extend(Entries)
        answers = [{"EventId": str(n)} for n in range(len(Entries))]
        answers[-1] = {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}
        return {"FailedEntryCount": 1, "Entries": answers}


def test_the_handler_reports_the_failed_record_for_lambda_to_retry() -> None:
    events = batch(3)
    client = EventBridge()
    publisher._client[:] = [client]  # the container's cached client, as on a warm start
    try:
        answer = publisher.handler({"Records": [record(e.event, e.sequence) for e in events]}, None)
    finally:
        publisher._client.clear()
    assert answer == {"batchItemFailures": [{"itemIdentifier": "102"}]}
    assert [e["EventBusName"] for e in client.sent] == ["storefront-test"] * 3
    assert eventbridge_put(EventBridge())([{"x": 1}, {"y": 2}]) == [1]


@pytest.mark.parametrize("event_type", list(CATALOGUE))
@given(
    moment=st.datetimes(
        min_value=datetime(1970, 1, 2), timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5))])
    )
)
def test_an_event_is_what_its_validated_model_writes(event_type: str, moment: datetime) -> None:
    # to_json writes the envelope without pydantic's serialiser: as the model's dump would.
    data = CATALOGUE[event_type].model_validate(example(event_type).data)
    made = new_event(event_type, "things/t1", data, "7", moment)
    validated = CloudEvent.model_validate({**made.model_dump(), "time": moment})
    assert made.to_json() == jsonio.dumps(validated.model_dump(mode="python"))
    assert CloudEvent.from_json(made.to_json()).model_dump() == validated.model_dump()
    # The outbox item, written from the event's fields, is what its model's item would be.
    modelled = OutboxStore(None).to_item(OutboxItem.of(made))  # type: ignore[arg-type]  # no table is read
    assert outbox_item(made) == modelled
    assert list(outbox_item(made)) == list(modelled)
