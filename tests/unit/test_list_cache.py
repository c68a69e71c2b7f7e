"""The per-container cache of product list pages: hit, expiry, invalidation by a product
write in this container, and its bound."""

from __future__ import annotations

import pytest

from chalicelib.api.list_cache import PageCache
from chalicelib.store import changes
from chalicelib.store.changes import WriteEpoch


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _cache(max_pages: int = 4) -> tuple[PageCache, Clock, WriteEpoch]:
    clock, writes = Clock(), WriteEpoch()
    return PageCache(max_pages=max_pages, writes=writes, clock=clock), clock, writes


def test_a_stored_page_is_served_until_its_ttl_ends() -> None:
    cache, clock, _ = _cache()
    cache.put("page-1", '{"items":[]}', ttl=1)
    clock.now += 0.999
    assert cache.get("page-1") == '{"items":[]}'
    clock.now += 0.001
    assert cache.get("page-1") is None
    assert len(cache) == 0  # the expired page is gone, not just hidden


def test_a_ttl_of_zero_stores_nothing_so_reads_see_writes() -> None:
    cache, _, _ = _cache()
    cache.put("page-1", "{}", ttl=0)
    assert cache.get("page-1") is None


def test_a_product_write_in_this_container_empties_the_cache() -> None:
    cache, _, writes = _cache()
    cache.put("page-1", "{}", ttl=60)
    cache.put("page-2", "{}", ttl=60)
    writes.bump()
    assert cache.get("page-1") is None
    assert cache.get("page-2") is None
    cache.put("page-1", "[]", ttl=60)  # pages read after the write are kept again
    assert cache.get("page-1") == "[]"


def test_the_cache_keeps_at_most_max_pages_dropping_the_least_recently_used() -> None:
    cache, _, _ = _cache(max_pages=3)
    for name in ("a", "b", "c"):
        cache.put(name, name, ttl=60)
    assert cache.get("a") == "a"  # a is now the most recently used
    cache.put("d", "d", ttl=60)
    assert len(cache) == 3
    assert cache.get("b") is None
    assert [cache.get(name) for name in ("a", "c", "d")] == ["a", "c", "d"]


@pytest.mark.parametrize(
    ("pks", "moves"),
    [
        (["PRODUCT#01H"], True),
        ([{"S": "PRODUCT#01H"}], True),
        (["USER#u-1", {"S": "PRODUCT#p"}], True),
        (["USER#u-1", "ORDER#o-1", None], False),
        ([{"S": "SESSION#s"}], False),
    ],
)
def test_only_writes_to_product_items_move_the_epoch(pks: list[object], moves: bool) -> None:
    before = changes.PRODUCT_WRITES.value
    with changes.writing(pks):
        pass
    assert (changes.PRODUCT_WRITES.value != before) is moves


def test_a_failed_write_moves_the_epoch_too() -> None:
    before = changes.PRODUCT_WRITES.value
    with pytest.raises(TimeoutError), changes.writing(["PRODUCT#p"]):
        raise TimeoutError("the answer was lost; the write may have been applied")
    assert changes.PRODUCT_WRITES.value == before + 1


def test_a_transaction_writes_the_keys_of_its_puts_updates_and_deletes_only() -> None:
    actions = [
        {"Put": {"Item": {"pk": {"S": "ORDER#o"}, "sk": {"S": "ORDER"}}}},
        {"Update": {"Key": {"pk": {"S": "PRODUCT#p"}, "sk": {"S": "PRODUCT"}}}},
        {"ConditionCheck": {"Key": {"pk": {"S": "PRODUCT#checked"}}}},
        {"Delete": {"Key": {"pk": {"S": "USER#u"}}}},
    ]
    assert changes.action_pks(actions) == [{"S": "ORDER#o"}, {"S": "PRODUCT#p"}, {"S": "USER#u"}]
