"""Webhook delivery: each published event, fanned out to the subscriptions that receive it,
POSTed (signed, URL re-checked, no redirects: chalicelib/webhooks.deliver) and retried with
exponential backoff. No chalice, no boto3.

Locally the worker runs in the event publisher's thread (tools/event_publisher.py under
`make run`): the publisher hands it every event it appends to the local bus, then lets it
run the attempts that are due. Its retry schedule is held in memory: a restart of `make run`
loses the retries in flight (and the events published but not yet fanned out); events that
reach the bus after the restart are delivered as usual (docs/events.md, "Webhooks").

Order per resource: a subscription's events about one resource (one CloudEvents subject)
form a queue, and only its head is attempted; the next waits until the head got a 2xx or
gave up. A subscription whose events keep failing is disabled (`webhook.disabled`).
"""

from __future__ import annotations

import heapq
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from chalicelib.clock import isoformat, utc_now
from chalicelib.models.events import CloudEvent
from chalicelib.models.webhooks import DeliveryItem, WebhookItem
from chalicelib.store.table import Table
from chalicelib.store.webhooks import DELIVERY_TTL_SECONDS, DeliveryStore, WebhookStore
from chalicelib.webhooks import (
    DISABLE_AFTER_FAILED_EVENTS,
    MAX_ATTEMPTS,
    Attempt,
    Resolver,
    deliver,
    resolve,
    retry_delay,
)

logger = logging.getLogger("storefront")
QueueKey = tuple[str, str]  # (subscription id, event subject)
# A queue whose attempt could not even be made (the table unreachable) is tried again this much later.
STALL_SECONDS = 5.0
_OWNER_FIELD = {"orders": "user_id", "products": "owner_id"}


def event_owner(event: CloudEvent) -> str | None:
    """The user an event is about: a user's own id, an order's buyer, a product's owner.

    None when the event does not say (a deletion carries only the resource's id): then only
    subscriptions of scope "all" receive it.
    """
    kind, _, rest = event.subject.partition("/")
    if kind == "users":
        return rest
    field = _OWNER_FIELD.get(kind)
    value = event.data.get(field) if field is not None else None
    return str(value) if value is not None else None


def receives(webhook: WebhookItem, event: CloudEvent) -> bool:
    """True when the subscription wants this type and may see this resource."""
    if not webhook.enabled or event.type not in webhook.events:
        return False
    return webhook.scope == "all" or event_owner(event) == webhook.owner_id


@dataclass
class Pending:
    """One event on its way to one subscription, and how many attempts failed so far."""

    webhook_id: str
    event: CloudEvent
    failures: int = 0


@dataclass(frozen=True)
class Policy:
    """The retry schedule: the first retry after `base_seconds`, doubling (capped); the
    event is given up after `max_attempts`; the subscription is disabled after
    `disable_after` events in a row were given up."""

    base_seconds: float = 30.0
    max_attempts: int = MAX_ATTEMPTS
    disable_after: int = DISABLE_AFTER_FAILED_EVENTS


def matching(webhooks: Sequence[WebhookItem], event: CloudEvent) -> list[Pending]:
    """The event, once for every subscription that receives it."""
    return [Pending(webhook.id, event) for webhook in webhooks if receives(webhook, event)]


def attempt_once(
    hooks: WebhookStore,
    deliveries: DeliveryStore,
    webhook: WebhookItem,
    pending: Pending,
    local: bool,
    resolver: Resolver = resolve,
) -> Attempt:
    """One attempt (URL re-checked, signed, POSTed), recorded in the subscription's
    deliveries; a success resets its count of failed events. Both delivery paths call it:
    the local Dispatcher and the deployed worker (chalicelib/webhook_worker.py)."""
    now = utc_now()
    attempt = deliver(webhook.url, webhook.secret, pending.event, local, now, resolver)
    deliveries.record(
        DeliveryItem(
            webhook_id=pending.webhook_id,
            time=now,
            event_id=pending.event.id,
            event_type=pending.event.type,
            attempt=pending.failures + 1,
            status=attempt.status,
            error=attempt.error,
            latency_ms=round(attempt.latency_ms),
            expires_at=int(now.timestamp()) + DELIVERY_TTL_SECONDS,
        )
    )
    if attempt.ok and webhook.failed_events:
        hooks.delivered(webhook.id, isoformat(now))
    return attempt


def give_up(hooks: WebhookStore, webhook: WebhookItem, policy: Policy) -> None:
    """An event given up on counts against its subscription; enough in a row disable it."""
    now = isoformat(utc_now())
    counted = hooks.failed_event(webhook.id, now)
    if counted is not None and counted.failed_events >= policy.disable_after:
        hooks.disable(webhook.id, now)
        logger.warning(
            "webhook.disabled",
            extra={
                "webhook_id": webhook.id,
                "owner_id": webhook.owner_id,
                "failed_events": counted.failed_events,
            },
        )


class Dispatcher:
    """Fans events out to subscriptions and makes the attempts that are due (one thread)."""

    def __init__(
        self,
        table: Table,
        local: bool,
        policy: Policy = Policy(),
        resolver: Resolver = resolve,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.hooks = WebhookStore(table)
        self.deliveries = DeliveryStore(table)
        self.local = local
        self.policy = policy
        self.resolver = resolver
        self.clock = clock
        self.backlog: list[CloudEvent] = []
        self.queues: dict[QueueKey, deque[Pending]] = {}
        self.due: list[tuple[float, int, QueueKey]] = []
        self.sequence = 0

    def publish(self, events: Sequence[CloudEvent]) -> int:
        """Queue each event for every subscription that receives it; how many were queued.

        If the subscriptions cannot be read, the events wait for the next call.
        """
        self.backlog.extend(events)
        if not self.backlog:
            return 0
        try:
            webhooks = self.hooks.all_enabled()
        except Exception:  # the table unreachable: fan out at the next poll
            logger.warning("webhook fan-out postponed", exc_info=True)
            return 0
        queued = 0
        for event in self.backlog:
            for pending in matching(webhooks, event):
                self._enqueue(pending)
                queued += 1
        self.backlog = []
        return queued

    def run_due(self) -> int:
        """Make every attempt that is due now; how many were made."""
        made = 0
        while self.due and self.due[0][0] <= self.clock():
            _, _, key = heapq.heappop(self.due)
            try:
                self._attempt(key)
            except Exception:  # the table unreachable: this queue waits, the others go on
                logger.warning("webhook delivery stalled", exc_info=True)
                self._schedule(key, STALL_SECONDS)
            made += 1
        return made

    def pending(self) -> int:
        """Events still waiting (queued or being retried), over all subscriptions."""
        return sum(len(queue) for queue in self.queues.values())

    def _enqueue(self, pending: Pending) -> None:
        key = (pending.webhook_id, pending.event.subject)
        queue = self.queues.setdefault(key, deque())
        queue.append(pending)
        if len(queue) == 1:
            self._schedule(key, 0.0)

    def _schedule(self, key: QueueKey, delay: float) -> None:
        self.sequence += 1
        heapq.heappush(self.due, (self.clock() + delay, self.sequence, key))

    def _attempt(self, key: QueueKey) -> None:
        pending = self.queues[key][0]
        webhook = self.hooks.get(pending.webhook_id)
        if webhook is None or not webhook.enabled:  # deleted or disabled: nothing more goes out
            del self.queues[key]
            return
        attempt = attempt_once(self.hooks, self.deliveries, webhook, pending, self.local, self.resolver)
        if attempt.ok:
            self._next(key)
            return
        pending.failures += 1
        if pending.failures < self.policy.max_attempts:
            self._schedule(key, retry_delay(pending.failures - 1, self.policy.base_seconds))
            return
        give_up(self.hooks, webhook, self.policy)
        self._next(key)

    def _next(self, key: QueueKey) -> None:
        queue = self.queues[key]
        queue.popleft()
        if queue:
            self._schedule(key, 0.0)
        else:
            del self.queues[key]
