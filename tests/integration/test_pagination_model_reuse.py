"""Listing pages reuses one page model: no model class is built per request."""

from __future__ import annotations

import gc
import weakref

from chalicelib.store.keys import PRODUCTS_COLLECTION
from chalicelib.store.pagination import Listing, PageRequest, query_newest_first
from chalicelib.store.schema import GSI1
from chalicelib.store.table import Table


def test_every_page_is_an_instance_of_the_same_model_class(table: Table) -> None:
    listing = Listing(index=GSI1, partition=PRODUCTS_COLLECTION, scope="products")
    first = query_newest_first(table, listing, PageRequest(), parse=dict)
    model = weakref.ref(type(first))
    del first
    gc.collect()  # a class that only the first page kept alive would be gone now
    second = query_newest_first(table, listing, PageRequest(), parse=dict)
    assert type(second) is model()
