"""The one repository shape: every store is a class over one typed Table with StoredModel
items in and out (`Store`); resource stores have the same verbs (`Repository`):

    get(id)                   → the item, or None
    get_public(id)            → its public view as JSON (`view`, store/views.py), or None:
                                what a GET of one item sends
    put_new(item, guards=())  → write a new item (never overwrites); `guards` are extra
                                transaction actions (e.g. a ConditionCheck) that must hold too
    update_if(id, ..., guard) → one conditional UpdateItem; a refused write returns the old item
    delete_if(id, guard)      → one conditional DeleteItem; same
    list_page(page, ...)      → a Page of items, newest first (one index partition)
    public_page(page, ...)    → the same page as JSON, each item's public view copied from
                                its attributes (`view`, store/views.py): what list routes send

Stores that are not public resources (sessions, idempotency records, attempt counters)
are `Store`s keyed by more than one id, with verbs named after what they do (`start`,
`rotate`, `reserve`). Stores never decide who may do what: a service builds the `Guard`
(owner, versions) and the store enforces it atomically as the write's condition.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from chalicelib.models.common import Page, StoredModel
from chalicelib.store.codec import Item
from chalicelib.store.expr import Condition, Update, all_of, eq, exists, is_in, not_exists
from chalicelib.store.pagination import Listing, PageRequest, query_newest_first
from chalicelib.store.table import Action, ConditionFailedError, Key, Table, put_action
from chalicelib.store.views import Document, JsonPage, View

I = TypeVar("I", bound=StoredModel)  # noqa: E741


@dataclass(frozen=True)
class Guard:
    """What must hold for a write, besides existence: decided by a service, enforced here.

    `owner`: the item's owner must be this user (None: anyone's). `versions`: the item's
    version must be one of these (None: any; empty: none can match, e.g. If-Match: W/"1").
    `also`: one more condition a use case needs (e.g. the password hash it read).
    """

    owner: str | None = None
    versions: frozenset[int] | None = None
    also: Condition | None = None

    def condition(self, owner_attribute: str = "owner_id") -> Condition:
        """The condition expression this guard stands for."""
        parts = [exists()]
        if self.owner is not None:
            parts.append(eq(owner_attribute, self.owner))
        if self.versions is not None:
            # No item has version 0: a set with no usable version matches nothing.
            parts.append(is_in("version", sorted(self.versions) or [0]))
        if self.also is not None:
            parts.append(self.also)
        return all_of(parts)


ANY = Guard()


@dataclass(frozen=True)
class Written(Generic[I]):
    """The outcome of a conditional write: the item written, or the item as it was when refused."""

    item: I | None
    old: I | None = None

    @property
    def refused(self) -> bool:
        """True when the condition did not hold (nothing was written)."""
        return self.item is None


class Store(Generic[I]):
    """Base of every store: one item type, its StoredModel, over one Table."""

    item_type: ClassVar[str]
    model: type[I]
    # The item's public view, when that is a plain projection of its attributes (not an
    # order's, whose status is computed): what public_page writes.
    view: ClassVar[View[Any] | None] = None

    def __init__(self, table: Table) -> None:
        self.table = table

    def stored(self, key: Key, item: I, **extra: Any) -> Item:
        """A model → its DynamoDB item under `key` (and any index keys in `extra`)."""
        return {**key, **extra, "type": self.item_type, **item.model_dump(mode="python")}

    def parse(self, raw: Mapping[str, Any] | None) -> I | None:
        """A DynamoDB item of this store → its model; None for an absent or foreign item."""
        if not raw or raw.get("type") != self.item_type:
            return None
        return self.model.model_validate(raw)

    def _parse(self, raw: Item) -> I:
        parsed = self.parse(raw)
        if parsed is None:
            raise ValueError(f"not a {self.item_type} item")
        return parsed

    def _view_of(self, wire: Item | None) -> View[Any] | None:
        """The view that writes this item as DynamoDB sent it; None for an absent or foreign item."""
        if not wire or wire.get("type") != {"S": self.item_type}:
            return None
        if self.view is None:
            raise TypeError(f"{type(self).__name__} has no public view")
        return self.view

    def _public_json(self, wire: Item) -> str:
        view = self._view_of(wire)
        if view is None:
            raise ValueError(f"not a {self.item_type} item")
        return view.json(wire)

    def _list(self, listing: Listing, page: PageRequest) -> Page[I]:
        return query_newest_first(self.table, listing, page, self._parse)

    def _public_list(self, listing: Listing, page: PageRequest) -> JsonPage:
        found = query_newest_first(self.table, listing, page, self._public_json, wire=True)
        return JsonPage(found.items, found.next_cursor)


class Repository(Store[I]):
    """Base of every resource store: subclasses name the item type, model, keys and listing."""

    owner_attribute: ClassVar[str] = "owner_id"
    versioned: ClassVar[bool] = False  # True: every update bumps `version` by exactly one

    def key(self, item_id: str) -> Key:
        """The primary key of an item."""
        raise NotImplementedError

    def index_keys(self, item: I) -> Key:
        """The index keys an item carries (none by default)."""
        return {}

    def to_item(self, item: I) -> Item:
        """A model → its full DynamoDB item, keys and index keys included."""
        item_id = str(getattr(item, "id"))  # noqa: B009 - every stored model has an id
        return self.stored(self.key(item_id), item, **self.index_keys(item))

    def get(self, item_id: str) -> I | None:
        """The item, strongly consistent, or None."""
        return self.parse(self.table.get(self.key(item_id)))

    def get_public(self, item_id: str) -> Document | None:
        """The item's public view, strongly consistent, or None (no model on the way)."""
        wire = self.table.get(self.key(item_id), wire=True)
        view = self._view_of(wire)
        return None if view is None or wire is None else view.document(wire)

    def put_new(self, item: I, guards: Sequence[Action] = ()) -> bool:
        """Write a new item; False if one with its key exists (or a guard failed)."""
        if guards:
            return self.table.try_write(lambda: self.table.transact_write([self.put_action(item), *guards]))
        return self.table.try_write(lambda: self.table.put(self.to_item(item), not_exists()))

    def put_action(self, item: I) -> Action:
        """The transaction action that writes a new item."""
        return put_action(self.to_item(item), not_exists())

    def update_if(self, item_id: str, changes: Mapping[str, Any], guard: Guard, now: str) -> Written[I]:
        """Set `changes` (and updated_at, and version+1 if versioned) in ONE conditional UpdateItem."""
        update = Update().set_all({**changes, "updated_at": now})
        if self.versioned:
            update = update.increment("version")
        try:
            raw = self.table.update(self.key(item_id), update, guard.condition(self.owner_attribute))
        except ConditionFailedError as failure:
            return Written(None, self.parse(failure.item))
        return Written(self._parse(raw))

    def delete_if(self, item_id: str, guard: Guard) -> Written[I]:
        """Delete under the guard's condition; the deleted item, or the old one if refused."""
        try:
            raw = self.table.delete(self.key(item_id), guard.condition(self.owner_attribute))
        except ConditionFailedError as failure:
            return Written(None, self.parse(failure.item))
        deleted = self.parse(raw)
        return Written(deleted) if deleted is not None else Written(None)
