"""The one pagination helper: a Query on an index, newest first, with signed cursors."""

from __future__ import annotations

import functools
import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from chalicelib.errors import InvalidCursorError
from chalicelib.models.common import Page
from chalicelib.store.codec import Item, from_attributes
from chalicelib.store.expr import Condition, key_range
from chalicelib.store.table import Key, Table

T = TypeVar("T")


# Parametrised once and held here: pydantic caches Page[...] only while something references
# it, so `Page[T](...)` in the function built (and the collector freed) a new model class
# on every list request (~1-5 ms). Made on the first list, not at import: a cold start that
# serves one product never builds it (~10 ms).
@functools.cache
def _page_model() -> type[Page[Any]]:
    return Page[Any]


@dataclass(frozen=True)
class PageRequest:
    """What a caller asked for: a page size and, after the first page, a cursor."""

    limit: int = 20
    cursor: str | None = None


@dataclass(frozen=True)
class Listing:
    """One newest-first listing: an index partition, and the scope its cursors are bound to."""

    index: str
    partition: str
    scope: str


def query_newest_first(
    table: Table, listing: Listing, page: PageRequest, parse: Callable[[Item], T], *, wire: bool = False
) -> Page[T]:
    """One page of a GSI partition in descending sort-key order.

    Sort keys are `<created_at>#<id>`, so the order is total and stable; a cursor is the
    key of the last item returned, so a walk sees each item that existed when it began
    exactly once, whatever is inserted (before the cursor, newer) or deleted meanwhile.
    One item more than asked is read so that the last page never carries a cursor.
    `wire`: `parse` takes the items as DynamoDB sends them (a View's reader).
    """
    index, partition = listing.index, listing.partition
    start = None
    if page.cursor is not None:
        start = table.cursors.decode(page.cursor, listing.scope)
        if start.get(f"{index}pk") != partition:
            raise InvalidCursorError()
    items, truncated = table.query_newest_first(index, partition, page.limit + 1, start, wire=wire)
    more = len(items) > page.limit or (truncated and items)
    next_cursor = None
    if more:
        items = items[: page.limit]
        key_names = ("pk", "sk", f"{index}pk", f"{index}sk")
        last = {name: items[-1][name] for name in key_names}
        next_cursor = table.cursors.encode(from_attributes(last) if wire else last, listing.scope)
    return _page_model()(items=[parse(item) for item in items], next_cursor=next_cursor)


def query_filtered_newest_first(
    table: Table, listing: Listing, page: PageRequest, parse: Callable[[Item], T], filter_: Condition
) -> Page[T]:
    """Like query_newest_first, keeping only the items that match `filter_` (a FilterExpression).

    A filtered Query page may hold fewer items than read (even none while more follow), so
    pages are read until one more than asked has matched or the partition ends; the cursor
    is the key of the last item returned, as above.
    """
    index, partition = listing.index, listing.partition
    start: Key | None = None
    if page.cursor is not None:
        start = table.cursors.decode(page.cursor, listing.scope)
        if start.get(f"{index}pk") != partition:
            raise InvalidCursorError()
    key = key_range(f"{index}pk", partition, f"{index}sk", None, None)
    found: list[Item] = []
    while len(found) <= page.limit:
        items, start = table.query_index(
            index, key, max(page.limit + 1, _FILTERED_READ), forward=False, start=start, filter_=filter_
        )
        found.extend(items)
        if start is None:
            break
    return _page_of(table, listing, found, page.limit, parse, ("pk", "sk", f"{index}pk", f"{index}sk"))


_FILTERED_READ = 50  # items read per filtered Query: fewer round trips when few match


def _page_of(
    table: Table,
    listing: Listing,
    found: list[Item],
    limit: int,
    parse: Callable[[Item], T],
    key_names: tuple[str, ...],
) -> Page[T]:
    next_cursor = None
    if len(found) > limit:
        found = found[:limit]
        next_cursor = table.cursors.encode({name: str(found[-1][name]) for name in key_names}, listing.scope)
    return _page_model()(items=[parse(item) for item in found], next_cursor=next_cursor)


@dataclass(frozen=True)
class ShardRange:
    """One write shard of a sharded listing, and the sort keys wanted from it: above
    `floor` (exclusive) and up to `upto` (inclusive); None: unbounded."""

    partition: str
    upto: str | None = None
    floor: str | None = None


def merge_shards(
    table: Table,
    index: str,
    shards: list[ShardRange],
    page: PageRequest,
    scope: str,
    parse: Callable[[Item], T],
) -> Page[T]:
    """One page of a write-sharded listing, oldest first: scatter (one Query per shard,
    each already in sort-key order), gather (merge by sort key, take the first `limit`).

    Sort keys are `<time>#<id>`, unique across shards, so the cursor is the last sort key
    returned (signed, bound to `scope`) and the next page starts after it in every shard.
    """
    after: str | None = None
    if page.cursor is not None:
        after = table.cursors.decode(page.cursor, scope).get("after")
        if after is None:
            raise InvalidCursorError()
    sort = f"{index}sk"
    runs = [_shard_prefix(table, index, shard, after, page.limit + 1) for shard in shards]
    merged = list(itertools.islice(heapq.merge(*runs, key=lambda item: str(item[sort])), page.limit + 1))
    next_cursor = None
    if len(merged) > page.limit:
        merged = merged[: page.limit]
        next_cursor = table.cursors.encode({"after": str(merged[-1][sort])}, scope)
    return _page_model()(items=[parse(item) for item in merged], next_cursor=next_cursor)


def _shard_prefix(table: Table, index: str, shard: ShardRange, after: str | None, want: int) -> list[Item]:
    """The first `want` items of one shard after `after` (and up to its `upto`), in order."""
    sort = f"{index}sk"
    lower = max((bound for bound in (after, shard.floor) if bound is not None), default=None)
    key = key_range(f"{index}pk", shard.partition, sort, lower, shard.upto)
    found: list[Item] = []
    start: Key | None = None
    while len(found) < want:
        items, start = table.query_index(index, key, want + 1, forward=True, start=start)
        found.extend(item for item in items if item[sort] != lower)  # BETWEEN includes `lower`
        if start is None:
            break
    return found[:want]
