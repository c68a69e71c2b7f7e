"""Webhook delivery, the parts both paths share: which subscriptions receive an event, one
attempt (signed, URL re-checked, no redirects: chalicelib/webhooks.deliver, recorded), the
retry policy and giving up (a subscription whose events keep failing is disabled:
`webhook.disabled`). No chalice, no boto3.

A subscription's scope is fixed when it is made, its owner's role is not: an `all`
subscription receives an event only while its owner exists and is an admin, read (strongly
consistent) at every fan-out and again before every attempt (`owner_is_admin`), so a demoted
or deleted admin's URL gets nothing more, not even what was queued for it before.

The lanes that keep a resource's events in order and hold the retry schedule are in the
table (store/lanes.py), driven by chalicelib/webhook_worker.py: deployed by the SQS worker,
locally by its Dispatcher in the event publisher's thread (docs/events.md, "Webhooks").
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from chalicelib.clock import isoformat, utc_now
from chalicelib.models.events import CloudEvent
from chalicelib.models.webhooks import DeliveryItem, WebhookItem
from chalicelib.store import keys
from chalicelib.store.table import Table
from chalicelib.store.webhooks import DELIVERY_TTL_SECONDS, DeliveryStore, WebhookStore
from chalicelib.webhooks import (
    DISABLE_AFTER_FAILED_EVENTS,
    MAX_ATTEMPTS,
    Attempt,
    Resolver,
    deliver,
    resolve,
)

logger = logging.getLogger("storefront")
_OWNER_FIELD = {"orders": "user_id", "products": "owner_id"}
# The error an attempt records when its `all` subscription's owner is no longer an admin.
OWNER_NOT_ADMIN = "refused: the subscription's owner is no longer an admin"


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
    """True when the subscription wants this type and its scope covers this resource (an
    `all` one's owner must also still be an admin: `owner_is_admin`, read by the callers)."""
    if not webhook.enabled or event.type not in webhook.events:
        return False
    return webhook.scope == "all" or event_owner(event) == webhook.owner_id


def owner_is_admin(table: Table, owner_id: str) -> bool:
    """True while the user exists and is an admin: one strongly consistent GetItem of the
    user's `role` alone (the worker's policy grants no other attribute of a user item).

    What a subscription of scope `all` needs to receive anything: a demoted admin's receives
    nothing (not even their own resources' events: that is a subscription of scope `own`),
    a deleted admin's nothing at all."""
    owner = table.get_attributes(keys.user_key(owner_id), ("role",))
    return owner is not None and owner.get("role") == "admin"


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


def matching(table: Table, webhooks: Sequence[WebhookItem], event: CloudEvent) -> list[Pending]:
    """The event, once for every subscription that receives it.

    The owners of the `all` subscriptions that want it are read once each: only a current
    admin's receives it."""
    wanted = [webhook for webhook in webhooks if receives(webhook, event)]
    owners = sorted({webhook.owner_id for webhook in wanted if webhook.scope != "own"})
    admins = {owner for owner in owners if owner_is_admin(table, owner)}
    return [Pending(w.id, event) for w in wanted if w.scope == "own" or w.owner_id in admins]


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
    the local Dispatcher and the deployed worker (chalicelib/webhook_worker.py).

    An `all` subscription whose owner is no longer an admin sends nothing: the attempt fails
    (`OWNER_NOT_ADMIN`), as one to a refused URL does, and is retried, then given up."""
    now = utc_now()
    if webhook.scope != "own" and not owner_is_admin(hooks.table, webhook.owner_id):
        attempt = Attempt(pending.event.id, None, OWNER_NOT_ADMIN, 0.0)
    else:
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


def give_up(hooks: WebhookStore, webhook: WebhookItem, event: CloudEvent, policy: Policy) -> None:
    """An event given up on counts (once) against its subscription; enough in a row disable it."""
    now = isoformat(utc_now())
    counted = hooks.failed_event(webhook.id, event.id, now)
    if counted is None or counted.failed_events < policy.disable_after:
        return
    if hooks.disable(webhook.id, now) is not None:
        logger.warning(
            "webhook.disabled",
            extra={
                "webhook_id": webhook.id,
                "owner_id": webhook.owner_id,
                "failed_events": counted.failed_events,
            },
        )
