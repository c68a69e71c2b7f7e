"""Webhook delivery over the table-held lanes: deployed behind SQS (`handler`), and locally
(`Dispatcher`, in the event publisher's thread under `make run`). One code path: the Worker.

Deployed, an EventBridge rule on `storefront-<stage>` sends every event (source `storefront`)
to the delivery queue (infra/webhooks.py); `handler` is the Lambda behind an event source
mapping on that queue (ReportBatchItemFailures). A message is one of two kinds:

- **an event** (EventBridge's envelope, the CloudEvent in `detail`): appended to the lane of
  every subscription that receives it (the same matching as locally, services/
  webhook_delivery.matching; store/lanes.py), and a free lane is claimed with a first tick;
- **a tick** (`{"webhook_id", "subject", "step", "holder"}`): the lane's head, if due, gets one attempt
  (services/webhook_delivery.attempt_once: URL re-checked, signed with the event id as
  `webhook-id`, recorded). A failure makes the entry due again on the local schedule (30 s *
  2^n, capped at 6 h, 14 attempts); SQS delays a message at most 15 minutes, so a longer wait
  is made of 15-minute hops (a hop makes no attempt). After the last attempt the event is given
  up (services/webhook_delivery.give_up: counted once, the subscription disabled after 5 in a
  row). A delivered or given-up head is deleted and the next tick looks at the next entry; an
  empty lane is released.

Only the head of a lane is attempted, so a subscription gets a resource's events in the
resource's order (the entries sort by the event's time), whatever order they arrived in.
A message whose handling raised (the table unreachable, the queue refusing a send, a tick
ahead of its lane's step) is reported failed: SQS makes it visible again after the queue's
visibility timeout, and after `MAX_RECEIVES` receives it goes to the dead-letter queue.
Guarantees: docs/events.md, "Webhooks" and "Deployed delivery".
"""

from __future__ import annotations

import heapq
import json
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.models.events import CloudEvent
from chalicelib.services.webhook_delivery import Pending, Policy, attempt_once, give_up, matching
from chalicelib.store.lanes import EntryItem, LaneItem, LaneStore
from chalicelib.store.table import Table, new_write_id
from chalicelib.store.webhooks import DeliveryStore, WebhookStore
from chalicelib.webhooks import Resolver, resolve, retry_delay

logger = logging.getLogger("storefront")
SQS_MAX_DELAY_SECONDS = 900
# Locally, a tick that failed (the table unreachable) is handled again this much later.
STALL_SECONDS = 5
DEFAULT_POLICY = Policy()

# Send one message on the delivery queue: its body and its delay in seconds.
Send = Callable[[str, int], None]


class LaneBehindError(Exception):
    """A tick for a step its lane has not reached yet: its sender has not written the step
    (or crashed before it and will be received again). The tick is received again later."""


@dataclass(frozen=True)
class Tick:
    """The message that makes a worker look at one lane: attempt its head if it is due."""

    webhook_id: str
    subject: str
    step: int
    holder: str = ""  # the token the lane holds while this tick drives it

    def to_json(self) -> str:
        """The message body."""
        return json.dumps(
            {"webhook_id": self.webhook_id, "subject": self.subject, "step": self.step, "holder": self.holder}
        )

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Tick:
        """The tick a message body describes (KeyError/ValueError when it is not one)."""
        holder = str(body.get("holder", ""))
        return cls(str(body["webhook_id"]), str(body["subject"]), int(body["step"]), holder)


class Worker:
    """Handles one queue message at a time: an event to fan out into its lanes, or a tick.

    Every lane change is "send the next tick, then write the step and the fresh token it
    carries": a tick whose step the lane has not reached is received again later (its write
    is coming, or its sender failed and is received again itself); a tick whose step the lane
    has passed, or whose token is not the lane's (its claim or advance lost a race to
    another worker's), is dropped. So a failure between any two calls neither strands a lane
    nor lets two ticks drive it on.
    """

    def __init__(
        self,
        table: Table,
        send: Send,
        local: bool = False,
        policy: Policy = DEFAULT_POLICY,
        resolver: Resolver = resolve,
        clock: Callable[[], float] = time.time,
        min_delay: int = 0,
    ) -> None:
        self.hooks = WebhookStore(table)
        self.deliveries = DeliveryStore(table)
        self.lanes = LaneStore(table)
        self.send = send
        self.local = local
        self.policy = policy
        self.resolver = resolver
        self.clock = clock
        self.min_delay = min_delay  # deployed: the next tick waits a second for its write

    def handle(self, body: Mapping[str, Any]) -> None:
        """One message; raises when it must be received again."""
        if "detail" in body:
            self.fan_out(CloudEvent.from_json(json.dumps(body["detail"])))
        else:
            self.tick(Tick.from_body(body))

    def fan_out(self, event: CloudEvent) -> int:
        """The event into the lane of every subscription that receives it; how many."""
        found = matching(self.hooks.table, self.hooks.all_enabled(), event)
        for pending in found:
            self.lanes.append(pending.webhook_id, event, self._now())
            self.claim(pending.webhook_id, event.subject)
        logger.info(
            "webhook.fan_out", extra={"event_id": event.id, "event_type": event.type, "matched": len(found)}
        )
        return len(found)

    def claim(self, webhook_id: str, subject: str) -> None:
        """Hold the lane if it is free and not empty, and send its first tick."""
        lane = self.lanes.get(webhook_id, subject)
        if lane is not None and lane.busy:
            return  # its holder attempts the head, then the next
        if self.lanes.head(webhook_id, subject) is None:
            return
        step, holder = (lane.step + 1 if lane is not None else 1), new_write_id()
        self.send(Tick(webhook_id, subject, step, holder).to_json(), self.min_delay)
        self.lanes.claim(webhook_id, subject, lane, holder, self._now())

    def tick(self, tick: Tick) -> None:
        """Attempt the lane's head if it is due (else wait another hop); then the next tick."""
        lane = self.lanes.get(tick.webhook_id, tick.subject)
        if lane is None or not lane.busy:  # released (an entry appended meanwhile is claimed)
            self.claim(tick.webhook_id, tick.subject)
            return
        if lane.step > tick.step or (lane.step == tick.step and lane.holder != tick.holder):
            return  # a duplicate of a tick already handled, or one whose write lost its race
        if lane.step < tick.step:
            raise LaneBehindError(f"{tick.subject} at step {lane.step}, tick {tick.step}")
        head = self.lanes.head(tick.webhook_id, tick.subject)
        if head is None:
            self._release(lane)
            return
        wait = head.due_ms / 1000 - self.clock()
        if wait > 0:  # SQS delays at most 15 minutes: a longer wait is made of hops
            self.send(tick.to_json(), max(self.min_delay, min(math.ceil(wait), SQS_MAX_DELAY_SECONDS)))
            return
        self._attempt(lane, head)

    def _attempt(self, lane: LaneItem, head: EntryItem) -> None:
        webhook = self.hooks.get(lane.webhook_id)
        if webhook is None or not webhook.enabled:  # deleted or disabled: nothing more goes out
            self._done(lane, head)
            return
        pending = Pending(lane.webhook_id, head.event(), head.failures)
        attempt = attempt_once(self.hooks, self.deliveries, webhook, pending, self.local, self.resolver)
        if attempt.ok:
            self._done(lane, head)
            return
        failures = head.failures + 1
        if failures < self.policy.max_attempts:
            delay = retry_delay(failures - 1, self.policy.base_seconds)
            self.lanes.failed(head, failures, int((self.clock() + delay) * 1000), self._now())
            self._next(lane, math.ceil(delay))
            return
        give_up(self.hooks, webhook, head.event(), self.policy)
        self._done(lane, head)

    def _done(self, lane: LaneItem, head: EntryItem) -> None:
        self.lanes.remove(head)
        self._next(lane, 0)

    def _next(self, lane: LaneItem, delay: int) -> None:
        tick = Tick(lane.webhook_id, lane.subject, lane.step + 1, new_write_id())
        self.send(tick.to_json(), max(self.min_delay, min(delay, SQS_MAX_DELAY_SECONDS)))
        self.lanes.advance(lane, tick.holder, self._now())

    def _release(self, lane: LaneItem) -> None:
        """Free the empty lane, then look again: an entry appended after the lane was found
        empty saw it held and did not claim it, so this worker does."""
        if self.lanes.release(lane, self._now()):
            self.claim(lane.webhook_id, lane.subject)

    def _now(self) -> int:
        return int(time.time())  # TTLs: wall time, whatever clock schedules the attempts


class Dispatcher:
    """The local delivery path (tools/event_publisher.py's thread under `make run`): the same
    Worker over the same table-held lanes, with an in-memory queue standing in for SQS.

    The lanes, their order and every due time are in the table; only the ticks are in memory.
    A new Dispatcher (a restart of `make run`) sends a tick to every held lane before its first
    fan-out, so the retries in flight resume when due."""

    def __init__(
        self,
        table: Table,
        local: bool,
        policy: Policy = DEFAULT_POLICY,
        resolver: Resolver = resolve,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.worker = Worker(table, self._send, local, policy, resolver, clock)
        self.clock = clock
        self.backlog: list[CloudEvent] = []
        self.queue: list[tuple[float, int, str]] = []  # (due, sequence, message body)
        self.sequence = 0
        self.resumed = False

    def publish(self, events: Sequence[CloudEvent]) -> int:
        """Put each event into the lane of every subscription that receives it; how many were
        queued. If the table cannot be written, the rest wait for the next call."""
        self.backlog.extend(events)
        queued = 0
        try:
            self._resume()
            while self.backlog:
                queued += self.worker.fan_out(self.backlog[0])
                self.backlog.pop(0)
        except Exception:  # the table unreachable: fan out at the next poll
            logger.warning("webhook fan-out postponed", exc_info=True)
        return queued

    def run_due(self) -> int:
        """Handle every tick that is due now; how many were handled."""
        made = 0
        while self.queue and self.queue[0][0] <= self.clock():
            _, _, body = heapq.heappop(self.queue)
            try:
                self.worker.handle(json.loads(body))
            except Exception:  # the table unreachable: this lane waits, the others go on
                logger.warning("webhook delivery stalled", exc_info=True)
                self._send(body, STALL_SECONDS)
            made += 1
        return made

    def pending(self) -> int:
        """Ticks still to handle (lanes with an event waiting, or being released)."""
        return len(self.queue)

    def _resume(self) -> None:
        if self.resumed:
            return
        for webhook in self.worker.hooks.all_enabled():
            for lane in self.worker.lanes.held(webhook.id):
                self._send(Tick(lane.webhook_id, lane.subject, lane.step, lane.holder).to_json(), 0)
        self.resumed = True

    def _send(self, body: str, delay: float) -> None:
        self.sequence += 1
        heapq.heappush(self.queue, (self.clock() + delay, self.sequence, body))


def handle_batch(worker: Worker, records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Every SQS record through the worker; the ones that raised, as batch item failures."""
    failures: list[dict[str, str]] = []
    for record in records:
        try:
            worker.handle(json.loads(record["body"]))
        except Exception:  # received again after the visibility timeout, then the DLQ
            logger.warning(
                "webhook message failed", extra={"message_id": record.get("messageId")}, exc_info=True
            )
            failures.append({"itemIdentifier": str(record.get("messageId"))})
    return {"batchItemFailures": failures}


def sqs_send(client: Any, queue_url: str) -> Send:
    """Send through a boto3 SQS client on the delivery queue."""

    def send(body: str, delay: int) -> None:
        client.send_message(QueueUrl=queue_url, MessageBody=body, DelaySeconds=delay)

    return send


_client: list[Any] = []


def _sqs() -> Any:
    if not _client:  # created on first use, kept for the life of the container
        import boto3

        _client.append(boto3.client("sqs"))
    return _client[0]


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point: a batch of delivery-queue messages; the ones to receive again."""
    from chalicelib.api.deps import get_table
    from chalicelib.config import get_settings

    settings = get_settings()
    if settings.webhook_queue_url is None:
        raise RuntimeError("WEBHOOK_QUEUE_URL is not set")
    worker = Worker(
        get_table(),
        sqs_send(_sqs(), settings.webhook_queue_url),
        settings.webhook_urls_local,
        Policy(base_seconds=settings.webhook_retry_base_seconds),
        min_delay=1,
    )
    return handle_batch(worker, list(event.get("Records", [])))
