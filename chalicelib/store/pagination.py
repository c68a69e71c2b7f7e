"""The one pagination helper: a Query on an index, newest first, with signed cursors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.errors import InvalidCursorError
from chalicelib.store.table import Item, Table, from_attributes, to_attributes


@dataclass(frozen=True)
class PageRequest:
    """What a caller asked for: a page size and, after the first page, a cursor."""

    limit: int = 20
    cursor: str | None = None


@dataclass(frozen=True)
class RawPage:
    items: list[Item]
    next_cursor: str | None


def query_newest_first(
    table: Table,
    *,
    index: str,
    partition: str,
    page: PageRequest,
    scope: str,
) -> RawPage:
    """One page of a GSI partition in descending sort-key order.

    Sort keys are `<created_at>#<id>`, so the order is total and stable; a cursor is the
    key of the last item returned, so a walk sees each item that existed when it began
    exactly once, whatever is inserted (before the cursor, newer) or deleted meanwhile.
    One item more than asked is read so that the last page never carries a cursor.
    """
    params: dict[str, Any] = {
        "IndexName": index,
        "KeyConditionExpression": "#pk = :pk",
        "ExpressionAttributeNames": {"#pk": f"{index}pk"},
        "ExpressionAttributeValues": {":pk": {"S": partition}},
        "ScanIndexForward": False,
        "Limit": page.limit + 1,
    }
    if page.cursor is not None:
        start = table.cursors.decode(page.cursor, scope)
        if start.get(f"{index}pk") != partition:
            raise InvalidCursorError()
        params["ExclusiveStartKey"] = to_attributes(start)
    response = table.query(**params)
    items = [from_attributes(raw) for raw in response.get("Items", [])]
    more = len(items) > page.limit or ("LastEvaluatedKey" in response and items)
    next_cursor = None
    if more:
        items = items[: page.limit]
        last = items[-1]
        key_names = ("pk", "sk", f"{index}pk", f"{index}sk")
        next_cursor = table.cursors.encode({name: last[name] for name in key_names}, scope)
    return RawPage(items=items, next_cursor=next_cursor)
