"""The one pagination helper: a Query on an index, newest first, with signed cursors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from chalicelib.errors import InvalidCursorError
from chalicelib.models.common import Page
from chalicelib.store.codec import Item
from chalicelib.store.table import Table

T = TypeVar("T")
# Parametrised once and held here: pydantic caches Page[...] only while something references
# it, so `Page[T](...)` in the function built (and the collector freed) a new model class
# on every list request (~1-5 ms).
_PAGE: type[Page[Any]] = Page[Any]


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
    table: Table, listing: Listing, page: PageRequest, parse: Callable[[Item], T]
) -> Page[T]:
    """One page of a GSI partition in descending sort-key order.

    Sort keys are `<created_at>#<id>`, so the order is total and stable; a cursor is the
    key of the last item returned, so a walk sees each item that existed when it began
    exactly once, whatever is inserted (before the cursor, newer) or deleted meanwhile.
    One item more than asked is read so that the last page never carries a cursor.
    """
    index, partition = listing.index, listing.partition
    start = None
    if page.cursor is not None:
        start = table.cursors.decode(page.cursor, listing.scope)
        if start.get(f"{index}pk") != partition:
            raise InvalidCursorError()
    items, truncated = table.query_newest_first(index, partition, page.limit + 1, start)
    more = len(items) > page.limit or (truncated and items)
    next_cursor = None
    if more:
        items = items[: page.limit]
        last = items[-1]
        key_names = ("pk", "sk", f"{index}pk", f"{index}sk")
        next_cursor = table.cursors.encode({name: last[name] for name in key_names}, listing.scope)
    return _PAGE(items=[parse(item) for item in items], next_cursor=next_cursor)
