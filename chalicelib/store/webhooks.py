"""Webhook subscriptions and their delivery attempts: the only code that reads and writes them.

Subscription item: keys.webhook_key(id) + keys.webhook_index_keys(id, owner_id, created_at) +
{"type": "webhook", id, owner_id, url, events (list), scope, enabled, secret, failed_events,
last_given_up (the event counted last), created_at, updated_at}. Attempt item:
keys.delivery_key(...) + keys.delivery_index_keys(...) +
{"type": "webhook_delivery", webhook_id, time, event_id, event_type, attempt, status, error,
latency_ms, expires_at (TTL, 7 days)}. A deleted subscription's attempts are left to their TTL:
they are only reachable through the subscription.

Per-user limit: keys.webhook_count_key(owner_id) holds `n`, the owner's counted
subscriptions. A subscription is written (`subscribe`) in one transaction with `ADD n 1`
under `attribute_not_exists(n) OR n < :limit`, and carries `counted = true`; deleting a
counted one (`delete_if`) takes `n` back down in the same transaction. A subscription made
before the counter existed has no `counted`: it never counts, and its deletion leaves `n`
alone, so `n` is exactly the number of counted subscriptions and never goes below 0.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from enum import Enum

from chalicelib.clock import isoformat
from chalicelib.models.webhooks import DeliveryItem, DeliveryPublic, WebhookItem, WebhookPublic
from chalicelib.store import keys
from chalicelib.store.codec import Item
from chalicelib.store.expr import Condition, Update, eq, exists, gt, lt, ne, not_exists
from chalicelib.store.pagination import Listing, PageRequest
from chalicelib.store.repository import Guard, Repository, Store, Written
from chalicelib.store.schema import GSI1, GSI2
from chalicelib.store.table import (
    CONDITION_FAILED,
    Action,
    ConditionFailedError,
    Key,
    delete_action,
    put_action,
    update_action,
)
from chalicelib.store.views import JsonPage, View

logger = logging.getLogger("storefront")

DELIVERY_TTL_SECONDS = 7 * 24 * 3600
# The fan-out reads every enabled subscription, every page (none may be left out); past
# this many it logs `webhook.fan_out_large`, so an operator sees its cost growing.
LARGE_FAN_OUT = 1000
COUNTED = "counted"  # on a subscription: it is in its owner's count (keys.webhook_count_key)
COUNT = "n"
COUNT_TYPE = "webhook_count"


class Subscribed(Enum):
    """How a subscribing transaction ended."""

    CREATED = "created"
    FULL = "full"  # the owner's count is at the limit (and the caller's checks held)
    REFUSED = "refused"  # a caller check failed, or the id or the idempotency key was taken


class WebhookStore(Repository[WebhookItem]):
    """Subscriptions: `HOOK#<id>` items, listed by owner (GSI1) and all together (GSI2)."""

    item_type = "webhook"
    model = WebhookItem
    view = View(WebhookPublic, WebhookItem)

    def key(self, item_id: str) -> Key:
        """HOOK#<id> / SUBSCRIPTION."""
        return keys.webhook_key(item_id)

    def index_keys(self, item: WebhookItem) -> Key:
        """In its owner's subscriptions and in the collection of all of them."""
        return keys.webhook_index_keys(item.id, item.owner_id, isoformat(item.created_at))

    def public_page(self, page: PageRequest, owner_id: str) -> JsonPage:
        """One page of an owner's subscriptions, newest first."""
        listing = Listing(GSI1, keys.owner_webhooks_partition(owner_id), f"webhooks:owner={owner_id}")
        return self._public_list(listing, page)

    def subscribe(
        self, webhook: WebhookItem, limit: int, checks: Sequence[Action], sealed: Sequence[Action] = ()
    ) -> Subscribed:
        """Write a new subscription and count it against its owner's `limit`, in ONE
        transaction with the caller's `checks` (store/sessions.caller_checks) and the
        idempotency record (`sealed`).

        Action order: the subscription, the count, the checks, the record. A failed check
        wins over a full count (the caller's session is judged before the state)."""
        room = not_exists(COUNT) | lt(COUNT, limit)
        actions = [
            put_action({**self.to_item(webhook), COUNTED: True}, not_exists()),
            update_action(keys.webhook_count_key(webhook.owner_id), _count().add(COUNT, 1), room),
        ]
        try:
            self.table.transact_write([*actions, *checks, *sealed])
        except ConditionFailedError as failure:
            if CONDITION_FAILED in failure.reasons[len(actions) : len(actions) + len(checks)]:
                return Subscribed.REFUSED
            return Subscribed.FULL if failure.reasons[1:2] == [CONDITION_FAILED] else Subscribed.REFUSED
        return Subscribed.CREATED

    def delete_if(self, item_id: str, guard: Guard) -> Written[WebhookItem]:
        """Delete under the guard's condition and, for a counted subscription, take its
        owner's count down in the same transaction; the deleted item, or the old one if
        refused. Reads the subscription first (its owner names the count)."""
        raw = self.table.get(self.key(item_id))
        old = self.parse(raw)
        if raw is None or old is None:
            return Written(None)
        counted = raw.get(COUNTED) is True
        # Pinned to what was read: the count it takes down is the one it was counted in.
        marked = eq(COUNTED, True) if counted else not_exists(COUNTED)
        pinned = eq(self.owner_attribute, old.owner_id) & marked
        removal = delete_action(self.key(item_id), guard.condition(self.owner_attribute) & pinned)
        if not self._delete([removal], counted, old.owner_id):
            return Written(None, self.get(item_id))
        return Written(old)

    def _delete(self, removal: list[Action], counted: bool, owner_id: str) -> bool:
        if not counted:
            return self.table.try_write(lambda: self.table.transact_write(removal))
        # n >= 1 while a counted subscription exists; the condition only keeps a count
        # someone changed by hand from going below 0 (then the deletion goes on without it).
        down = update_action(keys.webhook_count_key(owner_id), _count().add(COUNT, -1), _positive())
        try:
            self.table.transact_write([*removal, down])
        except ConditionFailedError as failure:
            if failure.reasons[1:2] != [CONDITION_FAILED] or failure.reasons[:1] == [CONDITION_FAILED]:
                return False  # the subscription's own condition: refused
            return self.table.try_write(lambda: self.table.transact_write(removal))
        return True

    def all_enabled(self) -> list[WebhookItem]:
        """Every enabled subscription (the delivery worker's fan-out): every page, no cap."""
        found: list[WebhookItem] = []
        read = 0
        cursor: str | None = None
        listing = Listing(GSI2, keys.WEBHOOKS_COLLECTION, "webhooks:all")
        while True:
            page = self._list(listing, PageRequest(100, cursor))
            read += len(page.items)
            found.extend(item for item in page.items if item.enabled)
            cursor = page.next_cursor
            if cursor is None:
                break
        if read > LARGE_FAN_OUT:
            logger.warning("webhook.fan_out_large", extra={"subscriptions": read, "enabled": len(found)})
        return found

    def failed_event(self, webhook_id: str, event_id: str, now: str) -> WebhookItem | None:
        """Count one more event that failed after all its retries, once per event (a worker
        that gives the same event up again after a failure counts nothing more); the
        subscription after it (None if it was deleted meanwhile)."""
        update = Update().increment("failed_events").set("last_given_up", event_id).set("updated_at", now)
        counted_once = exists() & (not_exists("last_given_up") | ne("last_given_up", event_id))
        try:
            return self.parse(self.table.update(self.key(webhook_id), update, counted_once))
        except ConditionFailedError as failure:
            return self.parse(failure.item)  # counted before (or deleted: None)

    def delivered(self, webhook_id: str, now: str) -> WebhookItem | None:
        """An event got through: the run of failures is over."""
        return self._change(webhook_id, Update().set("failed_events", 0).set("updated_at", now))

    def disable(self, webhook_id: str, now: str) -> WebhookItem | None:
        """Stop delivering to this subscription (a long run of failures)."""
        update = Update().set("enabled", False).set("updated_at", now)
        try:  # None when it was disabled already (or deleted): only one worker reports it
            return self.parse(self.table.update(self.key(webhook_id), update, exists() & eq("enabled", True)))
        except ConditionFailedError:
            return None

    def _change(self, webhook_id: str, update: Update) -> WebhookItem | None:
        try:
            return self.parse(self.table.update(self.key(webhook_id), update, exists()))
        except ConditionFailedError:
            return None


def _count() -> Update:
    return Update().set("type", COUNT_TYPE)


def _positive() -> Condition:
    return exists(COUNT) & gt(COUNT, 0)


class DeliveryStore(Store[DeliveryItem]):
    """The delivery attempts of each subscription, newest first (GSI1), kept 7 days."""

    item_type = "webhook_delivery"
    model = DeliveryItem
    view = View(DeliveryPublic, DeliveryItem)

    def to_item(self, item: DeliveryItem) -> Item:
        """An attempt → its item, keyed under its subscription."""
        at = isoformat(item.time)
        key = keys.delivery_key(item.webhook_id, at, item.event_id, item.attempt)
        return self.stored(
            key, item, **keys.delivery_index_keys(item.webhook_id, at, item.event_id, item.attempt)
        )

    def record(self, item: DeliveryItem) -> None:
        """Write one attempt (each attempt has a key of its own: never overwritten)."""
        self.table.put(self.to_item(item))

    def public_page(self, page: PageRequest, webhook_id: str) -> JsonPage:
        """One page of a subscription's attempts, newest first."""
        listing = Listing(GSI1, keys.webhook_deliveries_partition(webhook_id), f"deliveries:{webhook_id}")
        return self._public_list(listing, page)
