"""The event publisher: outbox items from the table's stream → the event bus.

Deployed, `handler` is a Lambda behind an event source mapping on the table's stream (filtered
to outbox items, infra/events.py) and calls EventBridge PutEvents on `storefront-<stage>`.
Locally, tools/event_publisher.py reads the same stream and appends to EVENTS_FILE.

Delivery is at least once: a failed entry is reported as the batch's first failure
(ReportBatchItemFailures), and Lambda retries from there, so later records of the batch may
arrive twice — never out of order per resource, and always with the same event id.

PutEvents is not atomic: it may refuse one entry and accept those after it. So one call
never carries two events of the same resource — else a refused event could be overtaken by
its resource's next one (tests/integration/test_publisher_faults.py found exactly that).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from chalicelib.store.outbox import StreamEvent, stream_events

PUT_EVENTS_LIMIT = 10  # entries per PutEvents call
BUS_SOURCE = "storefront"

# One PutEvents call: entries in, the index of each failed entry out.
PutEvents = Callable[[list[dict[str, Any]]], list[int]]


def entry(found: StreamEvent, bus: str) -> dict[str, Any]:
    """The PutEvents entry of one event: its type is the detail-type, the CloudEvent the detail."""
    return {
        "EventBusName": bus,
        "Source": BUS_SOURCE,
        "DetailType": found.event.type,
        "Detail": found.event.to_json(),
        "Resources": [],
    }


def chunks(events: Sequence[StreamEvent]) -> list[list[StreamEvent]]:
    """The PutEvents calls, in order: at most PUT_EVENTS_LIMIT entries, each resource once."""
    found: list[list[StreamEvent]] = [[]]
    for event in events:
        current = found[-1]
        if len(current) == PUT_EVENTS_LIMIT or any(e.event.subject == event.event.subject for e in current):
            current = []
            found.append(current)
        current.append(event)
    return [chunk for chunk in found if chunk]


def publish(events: Sequence[StreamEvent], bus: str, put: PutEvents) -> str | None:
    """Put the events in order; the sequence number of the first that failed, or None.

    Stops at the first failure: what follows is retried with it, in order.
    """
    for chunk in chunks(events):
        try:
            failed = put([entry(found, bus) for found in chunk])
        except Exception:  # the bus is unreachable: retry the chunk and everything after it
            return chunk[0].sequence
        if failed:
            return chunk[min(failed)].sequence
    return None


def eventbridge_put(client: Any) -> PutEvents:
    """PutEvents through a boto3 EventBridge client: the indexes of the entries it refused."""

    def put(entries: list[dict[str, Any]]) -> list[int]:
        answer = client.put_events(Entries=entries)
        return [i for i, result in enumerate(answer.get("Entries", [])) if result.get("ErrorCode")]

    return put


_client: list[Any] = []


def _eventbridge() -> Any:
    if not _client:  # created on first use, kept for the life of the container
        import boto3

        _client.append(boto3.client("events"))
    return _client[0]


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point: a batch of stream records → PutEvents; the batch's first failure."""
    from chalicelib.config import get_settings

    found = stream_events(event.get("Records", []))
    failed = publish(found, get_settings().event_bus_name, eventbridge_put(_eventbridge()))
    return {"batchItemFailures": [] if failed is None else [{"itemIdentifier": failed}]}
