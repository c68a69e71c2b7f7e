"""Webhook subscriptions and their delivery attempts: the only code that reads and writes them.

Subscription item: keys.webhook_key(id) + keys.webhook_index_keys(id, owner_id, created_at) +
{"type": "webhook", id, owner_id, url, events (list), scope, enabled, secret, failed_events,
last_given_up (the event counted last), created_at, updated_at}. Attempt item:
keys.delivery_key(...) + keys.delivery_index_keys(...) +
{"type": "webhook_delivery", webhook_id, time, event_id, event_type, attempt, status, error,
latency_ms, expires_at (TTL, 7 days)}. A deleted subscription's attempts are left to their TTL:
they are only reachable through the subscription.
"""

from __future__ import annotations

from chalicelib.clock import isoformat
from chalicelib.models.webhooks import DeliveryItem, DeliveryPublic, WebhookItem, WebhookPublic
from chalicelib.store import keys
from chalicelib.store.codec import Item
from chalicelib.store.expr import Update, eq, exists, ne, not_exists
from chalicelib.store.pagination import Listing, PageRequest
from chalicelib.store.repository import Repository, Store
from chalicelib.store.schema import GSI1, GSI2
from chalicelib.store.table import ConditionFailedError, Key
from chalicelib.store.views import JsonPage, View

DELIVERY_TTL_SECONDS = 7 * 24 * 3600
# The fan-out reads every subscription once per batch of events: bounded, so a runaway
# number of subscriptions cannot stall the worker (docs/events.md).
MAX_SUBSCRIPTIONS = 1000


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

    def all_enabled(self) -> list[WebhookItem]:
        """Every enabled subscription (the delivery worker's fan-out), up to MAX_SUBSCRIPTIONS."""
        found: list[WebhookItem] = []
        cursor: str | None = None
        listing = Listing(GSI2, keys.WEBHOOKS_COLLECTION, "webhooks:all")
        while len(found) < MAX_SUBSCRIPTIONS:
            page = self._list(listing, PageRequest(100, cursor))
            found.extend(item for item in page.items if item.enabled)
            cursor = page.next_cursor
            if cursor is None:
                break
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
