"""Deployed webhook delivery: the bus's events → an SQS queue → this worker → the subscribers.

An EventBridge rule on `storefront-<stage>` sends every event (source `storefront`) to the
delivery queue (infra/webhooks.py); `handler` is the Lambda behind an event source mapping on
that queue (ReportBatchItemFailures). A message is one of two kinds:

- **an event** (EventBridge's envelope, the CloudEvent in `detail`): fanned out — one
  delivery message per subscription that receives it (the same matching as locally,
  services/webhook_delivery.matching), sent on the same queue;
- **a delivery** (`{"webhook_id", "event", "failures", "not_before"}`): one attempt
  (services/webhook_delivery.attempt_once: URL re-checked, signed with the event id as
  `webhook-id`, recorded in the subscription's deliveries). A failure is sent again with
  the next due time of the local schedule (30 s * 2^n, capped at 6 h, 14 attempts); SQS
  delays a message at most 15 minutes, so a longer wait is made of 15-minute hops (a hop
  makes no attempt). After the last attempt the event is given up (services/webhook_delivery
  .give_up: counted, the subscription disabled after 5 in a row).

A message whose handling raised (the table unreachable, the queue refusing a send) is
reported failed: SQS makes it visible again after the queue's visibility timeout, and after
`MAX_RECEIVES` receives it goes to the dead-letter queue. Guarantees: docs/events.md,
"Deployed delivery".
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.models.events import CloudEvent
from chalicelib.services.webhook_delivery import Pending, Policy, attempt_once, give_up, matching
from chalicelib.store.table import Table
from chalicelib.store.webhooks import DeliveryStore, WebhookStore
from chalicelib.webhooks import Resolver, resolve, retry_delay

logger = logging.getLogger("storefront")
SQS_MAX_DELAY_SECONDS = 900
DEFAULT_POLICY = Policy()

# Send one message on the delivery queue: its body and its delay in seconds.
Send = Callable[[str, int], None]


@dataclass(frozen=True)
class Delivery:
    """One event on its way to one subscription: failed attempts so far, and when the next is due."""

    webhook_id: str
    event: CloudEvent
    failures: int = 0
    not_before: float = 0.0  # seconds since the epoch

    def to_json(self) -> str:
        """The message body."""
        return json.dumps(
            {
                "webhook_id": self.webhook_id,
                "event": json.loads(self.event.to_json()),
                "failures": self.failures,
                "not_before": self.not_before,
            }
        )

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> Delivery:
        """The delivery a message body describes (KeyError/ValueError when it is not one)."""
        return cls(
            webhook_id=str(body["webhook_id"]),
            event=CloudEvent.from_json(json.dumps(body["event"])),
            failures=int(body["failures"]),
            not_before=float(body["not_before"]),
        )


class Worker:
    """Handles one queue message at a time: an event to fan out, or a delivery to attempt."""

    def __init__(
        self,
        table: Table,
        send: Send,
        local: bool = False,
        policy: Policy = DEFAULT_POLICY,
        resolver: Resolver = resolve,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.hooks = WebhookStore(table)
        self.deliveries = DeliveryStore(table)
        self.send = send
        self.local = local
        self.policy = policy
        self.resolver = resolver
        self.clock = clock

    def handle(self, body: Mapping[str, Any]) -> None:
        """One message; raises when it must be received again."""
        if "detail" in body:
            self.fan_out(CloudEvent.from_json(json.dumps(body["detail"])))
        else:
            self.deliver(Delivery.from_body(body))

    def fan_out(self, event: CloudEvent) -> int:
        """A delivery message for every subscription that receives the event; how many."""
        found = matching(self.hooks.all_enabled(), event)
        for pending in found:
            self.send(Delivery(pending.webhook_id, event).to_json(), 0)
        logger.info(
            "webhook.fan_out", extra={"event_id": event.id, "event_type": event.type, "matched": len(found)}
        )
        return len(found)

    def deliver(self, delivery: Delivery) -> None:
        """Attempt the delivery if it is due (else wait another hop); schedule a retry or give up."""
        if delivery.not_before > self.clock():
            self._later(delivery)
            return
        webhook = self.hooks.get(delivery.webhook_id)
        if webhook is None or not webhook.enabled:  # deleted or disabled: nothing more goes out
            return
        pending = Pending(delivery.webhook_id, delivery.event, delivery.failures)
        attempt = attempt_once(self.hooks, self.deliveries, webhook, pending, self.local, self.resolver)
        if attempt.ok:
            return
        failures = delivery.failures + 1
        if failures < self.policy.max_attempts:
            due = self.clock() + retry_delay(failures - 1, self.policy.base_seconds)
            self._later(Delivery(delivery.webhook_id, delivery.event, failures, due))
            return
        give_up(self.hooks, webhook, self.policy)

    def _later(self, delivery: Delivery) -> None:
        wait = math.ceil(delivery.not_before - self.clock())
        self.send(delivery.to_json(), max(0, min(wait, SQS_MAX_DELAY_SECONDS)))


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
    )
    return handle_batch(worker, list(event.get("Records", [])))
