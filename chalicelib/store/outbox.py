"""The transactional outbox: each change writes its event in the same transaction.

Item: keys.outbox_key(subject) + {"type": "event", id, event_type, subject, envelope
(the CloudEvent as JSON), expires_at (TTL)}. One item per resource, overwritten by its next
event: DynamoDB Streams orders the records of one item, so the publisher sees a resource's
events in the order they were committed. The stream's NEW_IMAGE carries the envelope; the
item itself is only kept (7 days) so the stream has something to say.

A store announces a change by adding `announce(event)` to the change's transaction: the
event exists if and only if the change committed (ClientRequestToken dedupes a resent one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.models.common import StoredModel
from chalicelib.models.events import CloudEvent
from chalicelib.store import keys
from chalicelib.store.codec import Item, from_attributes
from chalicelib.store.repository import Repository
from chalicelib.store.table import Action, Key, put_action

OUTBOX_TTL_SECONDS = 7 * 24 * 3600
ITEM_TYPE = "event"


class OutboxItem(StoredModel):
    """The outbox item of one event."""

    id: str
    event_type: str
    subject: str
    envelope: str
    expires_at: int

    @classmethod
    def of(cls, event: CloudEvent) -> OutboxItem:
        """The item that records `event` (expires a week after it)."""
        return cls(
            id=event.id,
            event_type=event.type,
            subject=event.subject,
            envelope=event.to_json(),
            expires_at=int(event.time.timestamp()) + OUTBOX_TTL_SECONDS,
        )

    def event(self) -> CloudEvent:
        """The CloudEvent this item records."""
        return CloudEvent.from_json(self.envelope)


def outbox_item(event: CloudEvent) -> Item:
    """The DynamoDB item that records `event`: keyed by its subject, not its id.

    What `_item(OutboxItem.of(event))` writes, without validating and dumping a model of
    fields that are the event's own (~4 µs of every write; tests/unit/test_events.py holds
    the two equal for every type of the catalogue)."""
    return {
        **keys.outbox_key(event.subject),
        "type": ITEM_TYPE,
        "id": event.id,
        "event_type": event.type,
        "subject": event.subject,
        "envelope": event.to_json(),
        "expires_at": int(event.time.timestamp()) + OUTBOX_TTL_SECONDS,
    }


def _item(item: OutboxItem) -> Item:
    return {**keys.outbox_key(item.subject), "type": ITEM_TYPE, **item.model_dump()}


def announce(event: CloudEvent) -> Action:
    """The one helper every store calls: the transaction item that records a change's event.

    Unconditional: it replaces the resource's previous outbox item (already in the stream).
    """
    return put_action(outbox_item(event))


class OutboxStore(Repository[OutboxItem]):
    """Outbox items, one per resource: `get(subject)` is the resource's latest event."""

    item_type = ITEM_TYPE
    model = OutboxItem

    def key(self, item_id: str) -> Key:
        """OUTBOX#<subject> / EVENT (outbox items are found by their subject)."""
        return keys.outbox_key(item_id)

    def to_item(self, item: OutboxItem) -> Item:
        """Keyed by subject, not by event id."""
        return _item(item)


@dataclass(frozen=True)
class StreamEvent:
    """An event read from a DynamoDB stream record, with the record's sequence number."""

    sequence: str
    event: CloudEvent


def stream_events(records: Iterable[Mapping[str, Any]]) -> list[StreamEvent]:
    """The events in DynamoDB stream records (Lambda's or GetRecords'), in stream order.

    Only the INSERT or MODIFY of an outbox item is an event; anything else (another item, the
    TTL's REMOVE) is skipped — the deployed event source mapping filters them out already.
    """
    found: list[StreamEvent] = []
    for record in records:
        change = record.get("dynamodb", {})
        image = change.get("NewImage") or {}
        if record.get("eventName") not in {"INSERT", "MODIFY"} or image.get("type") != {"S": ITEM_TYPE}:
            continue
        item = OutboxItem.model_validate(from_attributes(image))
        found.append(StreamEvent(str(change.get("SequenceNumber", "")), item.event()))
    return found


# The event source mapping's filter: the same test as stream_events(), in Lambda's syntax.
STREAM_FILTER = {"eventName": ["INSERT", "MODIFY"], "dynamodb": {"NewImage": {"type": {"S": [ITEM_TYPE]}}}}
