"""A bounded, per-container cache of public product list pages (the JSON body).

Every page of `GET /products` is a Query on the one `PRODUCTS` index partition: at scale it
is the first thing to reach a partition's read limit (docs/performance.md). A page is kept
for LIST_CACHE_SECONDS (0, the local and test default, turns the cache off so that a
write is seen by the next read; 1 on the deployed stages), at most MAX_PAGES pages, least
recently used first out, and every page is dropped as soon as this container writes a
product (store/changes.py). Pages written by other containers show within the TTL: GSI
reads are eventually consistent anyway.

The standard library, not cachetools: an OrderedDict does LRU and TTL in a few lines,
and the write epoch (which cachetools has no notion of) is needed either way; no package
to ship or import at cold start.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from chalicelib.store.changes import PRODUCT_WRITES, WriteEpoch

MAX_PAGES = 256  # x ~10 KiB a page of 20: a few MiB at most


class PageCache:
    """JSON bodies by query, each valid for `ttl` seconds and until the next product write."""

    def __init__(
        self,
        max_pages: int = MAX_PAGES,
        writes: WriteEpoch = PRODUCT_WRITES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_pages = max_pages
        self._writes = writes
        self._clock = clock
        self._pages: OrderedDict[Hashable, tuple[float, str]] = OrderedDict()
        self._epoch = writes.value

    def get(self, key: Hashable) -> str | None:
        """The cached body for this query, if still fresh."""
        self._forget_if_written()
        entry = self._pages.get(key)
        if entry is None:
            return None
        expires, body = entry
        if self._clock() >= expires:
            del self._pages[key]
            return None
        self._pages.move_to_end(key)
        return body

    def put(self, key: Hashable, body: str, ttl: float) -> None:
        """Keep this body for `ttl` seconds (nothing when ttl <= 0)."""
        if ttl <= 0:
            return
        self._forget_if_written()
        self._pages[key] = (self._clock() + ttl, body)
        self._pages.move_to_end(key)
        while len(self._pages) > self.max_pages:
            self._pages.popitem(last=False)

    def __len__(self) -> int:
        return len(self._pages)

    def clear(self) -> None:
        """Forget every page."""
        self._pages.clear()

    def _forget_if_written(self) -> None:
        if self._writes.value != self._epoch:
            self._epoch = self._writes.value
            self._pages.clear()


LIST_PAGES = PageCache()
