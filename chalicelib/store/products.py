"""Product items: the only code that reads and writes them (orders reuse these helpers).

Item: keys.product_key(id) + keys.product_index_keys(id, owner_id, created_at) +
{"type": "product", id, owner_id, name, description, price (Number), currency, stock,
version, created_at, updated_at}. An order decrements `stock`, increments `version` and
sets `updated_at` in its own transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from chalicelib.clock import isoformat, utc_now
from chalicelib.errors import ServiceUnavailableError
from chalicelib.models.events import Deleted, new_event
from chalicelib.models.products import ProductItem, ProductPublic
from chalicelib.retry import TryAgain
from chalicelib.store import keys
from chalicelib.store.expr import Update, eq
from chalicelib.store.outbox import announce
from chalicelib.store.pagination import Listing, PageRequest
from chalicelib.store.repository import Guard, Repository, Written
from chalicelib.store.schema import GSI1, GSI2
from chalicelib.store.table import Action, ConditionFailedError, Key, delete_action, update_action
from chalicelib.store.views import JsonPage, View

BATCH_GET_LIMIT = 100
# A write pinned to the version it read is tried this often while others change the item
# (each round, one of the racers wins), then a 503.
PINNED_ATTEMPTS = 16
PINNED_MAX_DELAY = 0.1
Build = Callable[[ProductItem], tuple[list[Action], ProductItem]]


def after_version(old: ProductItem, now: str) -> str:
    """`now`, or one millisecond after `old` was written if that is later: the time of the
    change that follows the version read."""
    return max(now, isoformat(old.updated_at + timedelta(milliseconds=1)))


def subject(product_id: str) -> str:
    """The CloudEvents subject of a product."""
    return f"products/{product_id}"


class ProductStore(Repository[ProductItem]):
    """Products: `PRODUCT#<id>` items, listed by everyone (GSI1) and by owner (GSI2)."""

    item_type = "product"
    model = ProductItem
    view = View(ProductPublic, ProductItem)
    versioned = True

    def key(self, item_id: str) -> Key:
        """PRODUCT#<id> / PRODUCT."""
        return keys.product_key(item_id)

    def index_keys(self, item: ProductItem) -> Key:
        """In the PRODUCTS collection and in its owner's, newest first."""
        return keys.product_index_keys(item.id, item.owner_id, isoformat(item.created_at))

    def put_new(self, item: ProductItem, guards: Sequence[Action] = ()) -> bool:
        """Write a new product and its `product.created` event, in one transaction."""
        event = new_event("product.created", subject(item.id), item.public(), "1", item.created_at)
        return super().put_new(item, [*guards, announce(event)])

    def update_if(
        self, item_id: str, changes: Mapping[str, Any], guard: Guard, now: str
    ) -> Written[ProductItem]:
        """Apply `changes` under the guard, version + 1, with its `product.updated` event.

        The event carries the product as it is after the change, so the item is read first
        and the transaction is pinned to the version read (see _pinned). Its time is `now`, or
        just after the version read if that is later (a retry that lost the race to another
        write, or another container's clock ahead): a product's versions, and so its events
        in a webhook lane, which orders them by time, never go back in time.
        """

        def build(old: ProductItem) -> tuple[list[Action], ProductItem]:
            stamp = after_version(old, now)
            new = self.model.model_validate(
                {**old.model_dump(), **changes, "updated_at": stamp, "version": old.version + 1}
            )
            update = Update().set_all({**changes, "updated_at": stamp}).increment("version")
            condition = guard.condition(self.owner_attribute) & eq("version", old.version)
            event = new_event(
                "product.updated", subject(item_id), new.public(), str(new.version), new.updated_at
            )
            return [update_action(self.key(item_id), update, condition), announce(event)], new

        return self._pinned(item_id, build)

    def delete_if(self, item_id: str, guard: Guard) -> Written[ProductItem]:
        """Delete under the guard, with its `product.deleted` event, in one transaction."""

        def build(old: ProductItem) -> tuple[list[Action], ProductItem]:
            condition = guard.condition(self.owner_attribute) & eq("version", old.version)
            moment = datetime.fromisoformat(after_version(old, isoformat(utc_now())))
            event = new_event("product.deleted", subject(item_id), Deleted(id=item_id), "deleted", moment)
            return [delete_action(self.key(item_id), condition), announce(event)], old

        return self._pinned(item_id, build)

    def _pinned(self, item_id: str, build: Build) -> Written[ProductItem]:
        """Read, then one transaction that holds only while the version read is current.

        Refused with the item as it is now (the guard's refusal, for the service to explain);
        a concurrent change of the version is read again (Retry), then a 503.
        """

        def attempt(_: int) -> Written[ProductItem]:
            old = self.get(item_id)
            if old is None:
                return Written(None)
            actions, result = build(old)
            try:
                self.table.transact_write(actions)
            except ConditionFailedError:
                current = self.get(item_id)
                if current is None or current.version == old.version:
                    return Written(None, current)
                raise TryAgain() from None  # another write got in between: read it, try again
            return Written(result)

        retry = replace(self.table.retry, attempts=PINNED_ATTEMPTS, max_delay=PINNED_MAX_DELAY)
        return retry.run(attempt, lambda: ServiceUnavailableError(retry_after=1))

    def get_many(self, product_ids: Iterable[str], consistent: bool = True) -> dict[str, ProductItem]:
        """Products by id (BatchGetItem, 100 keys a call); absent ids are left out."""
        wanted = list(dict.fromkeys(product_ids))
        found: dict[str, ProductItem] = {}
        for start in range(0, len(wanted), BATCH_GET_LIMIT):
            chunk = [self.key(pid) for pid in wanted[start : start + BATCH_GET_LIMIT]]
            for raw in self.table.batch_get(chunk, consistent):
                product = self.parse(raw)
                if product is not None:
                    found[product.id] = product
        return found

    def public_page(self, page: PageRequest, owner_id: str | None = None) -> JsonPage:
        """One page, newest first: all products (GSI1) or one owner's (GSI2). Never a Scan."""
        if owner_id is None:
            listing = Listing(GSI1, keys.PRODUCTS_COLLECTION, "products")
        else:
            listing = Listing(GSI2, keys.owner_partition(owner_id), f"products:owner={owner_id}")
        return self._public_list(listing, page)
