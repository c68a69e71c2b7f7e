"""Which product writes this container has made: a counter that every write to a product
item moves (Table.put/update/delete/transact_write run inside `writing`), so that what was read
before it (api/list_cache.py) is known to be stale in this container at once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from typing import Any

from chalicelib.store import keys

PRODUCT_PREFIX = keys.PRODUCT_PREFIX


class WriteEpoch:
    """A number that changes whenever this container writes a product item."""

    def __init__(self) -> None:
        self.value = 0

    def bump(self) -> None:
        """A product item was (or may have been) written."""
        self.value += 1


PRODUCT_WRITES = WriteEpoch()


def is_product(pk: Any) -> bool:
    """True for a product item's partition key, plain ("PRODUCT#…") or on the wire ({"S": …})."""
    text = pk.get("S") if isinstance(pk, Mapping) else pk
    return isinstance(text, str) and text.startswith(PRODUCT_PREFIX)


class _Writing:
    """What `writing` returns: moves the epoch when the block ends, however it ends, if the
    write touched a product. A class rather than a generator under @contextmanager: its
    exit runs right after DynamoDB answers (store/table.py's translate_errors says why)."""

    __slots__ = ("_products",)

    def __init__(self, products: bool) -> None:
        self._products = products

    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: object) -> None:
        if self._products:
            PRODUCT_WRITES.bump()


_PRODUCTS, _OTHERS = _Writing(True), _Writing(False)


def writing(pks: Iterable[Any]) -> AbstractContextManager[None]:
    """Around a write to these keys: when it ends (in any way: a lost answer may hide an
    applied write), a product write moves the epoch, so no page read before it survives."""
    return _PRODUCTS if any(is_product(pk) for pk in pks) else _OTHERS


def action_pks(actions: Iterable[Mapping[str, Any]]) -> list[Any]:
    """The partition keys a transaction writes (Put, Update, Delete; not ConditionCheck)."""
    found = []
    for action in actions:
        for verb, body in action.items():
            if verb != "ConditionCheck":
                found.append((body.get("Item") or body.get("Key") or {}).get("pk"))
    return found
