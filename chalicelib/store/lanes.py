"""Webhook delivery lanes: the events of one resource, on their way to one subscription, in order.

A lane is one (subscription, subject) pair. Only its head is ever attempted; the next entry
waits until the head got a 2xx or was given up (chalicelib/webhook_worker.py). Both the
deployed worker and the local dispatcher keep their lanes here, so the order and the retry
schedule survive a restart.

Lane item: keys.lane_key(webhook_id, subject) + {"type": "webhook_lane", webhook_id,
subject, busy, step, holder, expires_at (TTL)}: `busy` while one worker holds the lane (one
tick message is on its way), `step` the number of that tick and `holder` the token it
carries (a stale tick carries an older step; one sent by a claim or an advance that lost its
race carries another token). Entry item: keys.lane_entry_key(webhook_id, subject, time, event_id) +
{"type": "webhook_lane_entry", webhook_id, subject, envelope (the CloudEvent as JSON),
failures, due_ms, expires_at (TTL)}: sorted by the event's time, so events that reach the
worker out of order still leave in the resource's order; keyed by the event id, so a
duplicate event message is the same item. Both expire 7 days after their last write.
"""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib.clock import isoformat
from chalicelib.models.common import StoredModel
from chalicelib.models.events import CloudEvent
from chalicelib.store import keys
from chalicelib.store.expr import Condition, Update, eq, exists, not_exists
from chalicelib.store.repository import Store
from chalicelib.store.table import Key

LANE_TTL_SECONDS = 7 * 24 * 3600


class LaneItem(StoredModel):
    """A lane's head item: whether a worker holds it, the number of its current tick and the
    token that tick carries."""

    webhook_id: str
    subject: str
    busy: bool
    step: int
    holder: str = ""
    expires_at: int


class EntryItem(StoredModel):
    """One event waiting in its lane: its failed attempts so far and when the next is due."""

    webhook_id: str
    subject: str
    envelope: str
    failures: int = 0
    due_ms: int = 0  # milliseconds since the epoch
    expires_at: int

    def event(self) -> CloudEvent:
        """The event this entry carries."""
        return CloudEvent.from_json(self.envelope)

    def key(self) -> Key:
        """Its primary key."""
        event = self.event()
        return keys.lane_entry_key(self.webhook_id, self.subject, isoformat(event.time), event.id)


class LaneStore(Store[LaneItem]):
    """Lanes and their entries, under their subscription's partition (HOOK#<id>)."""

    item_type = "webhook_lane"
    model = LaneItem
    entry_type = "webhook_lane_entry"

    # -- entries

    def append(self, webhook_id: str, event: CloudEvent, now: int) -> bool:
        """Put the event in its lane; False when it is there already (a duplicate message)."""
        entry = EntryItem(
            webhook_id=webhook_id,
            subject=event.subject,
            envelope=event.to_json(),
            expires_at=now + LANE_TTL_SECONDS,
        )
        item = {**entry.key(), "type": self.entry_type, **entry.model_dump(mode="python")}
        return self.table.try_write(lambda: self.table.put(item, not_exists()))

    def head(self, webhook_id: str, subject: str) -> EntryItem | None:
        """The lane's oldest entry (strongly consistent), or None when the lane is empty."""
        items, _ = self.table.query_prefix(
            keys.webhook_key(webhook_id)["pk"], keys.lane_entries_prefix(subject), 1
        )
        return EntryItem.model_validate(items[0]) if items else None

    def failed(self, entry: EntryItem, failures: int, due_ms: int, now: int) -> None:
        """The head's attempt failed: how many so far, and when the next one is due."""
        update = (
            Update().set("failures", failures).set("due_ms", due_ms).set("expires_at", now + LANE_TTL_SECONDS)
        )
        self.table.try_write(lambda: self.table.update(entry.key(), update, exists()))

    def remove(self, entry: EntryItem) -> None:
        """The head is done (delivered or given up): the next entry becomes the head."""
        self.table.delete(entry.key())

    # -- the lane item

    def get(self, webhook_id: str, subject: str) -> LaneItem | None:
        """The lane's item (strongly consistent)."""
        return self.parse(self.table.get(keys.lane_key(webhook_id, subject)))

    def claim(self, webhook_id: str, subject: str, lane: LaneItem | None, holder: str, now: int) -> bool:
        """Hold a free lane at its next step for the tick carrying `holder` (conditional on the
        lane as read); False when another worker holds it or changed it meanwhile."""
        step = lane.step + 1 if lane is not None else 1
        claimed = LaneItem(
            webhook_id=webhook_id,
            subject=subject,
            busy=True,
            step=step,
            holder=holder,
            expires_at=now + LANE_TTL_SECONDS,
        )
        item = self.stored(keys.lane_key(webhook_id, subject), claimed)
        condition = not_exists() if lane is None else eq("busy", False) & eq("step", lane.step)
        return self.table.try_write(lambda: self.table.put(item, condition))

    def advance(self, lane: LaneItem, holder: str, now: int) -> bool:
        """The held lane's next tick: step + 1, carrying `holder` (conditional on the lane as
        read: one of two workers driving the same step wins, the other's tick is dropped)."""
        update = (
            Update()
            .set("step", lane.step + 1)
            .set("holder", holder)
            .set("expires_at", now + LANE_TTL_SECONDS)
        )
        key = keys.lane_key(lane.webhook_id, lane.subject)
        return self.table.try_write(lambda: self.table.update(key, update, _held(lane)))

    def release(self, lane: LaneItem, now: int) -> bool:
        """Free the held lane (it was found empty); False when it changed meanwhile."""
        update = Update().set("busy", False).set("expires_at", now + LANE_TTL_SECONDS)
        key = keys.lane_key(lane.webhook_id, lane.subject)
        return self.table.try_write(lambda: self.table.update(key, update, _held(lane)))

    def held(self, webhook_id: str) -> Iterator[LaneItem]:
        """The held lanes of one subscription (a restarted local dispatcher resumes them)."""
        partition = keys.webhook_key(webhook_id)["pk"]
        start: Key | None = None
        while True:
            items, start = self.table.query_prefix(partition, keys.LANE_PREFIX, 100, start)
            for raw in items:
                lane = self.parse(raw)
                if lane is not None and lane.busy:
                    yield lane
            if start is None:
                return


def _held(lane: LaneItem) -> Condition:
    held = eq("busy", True) & eq("step", lane.step)
    return held & eq("holder", lane.holder) if lane.holder else held & not_exists("holder")
