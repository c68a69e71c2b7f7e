"""Product items: the only code that reads and writes them (orders reuse these helpers).

Item: keys.product_key(id) + keys.product_index_keys(id, owner_id, created_at) +
{"type": "product", id, owner_id, name, description, price (Number), currency, stock,
version, created_at, updated_at}. An order decrements `stock`, increments `version` and
sets `updated_at` in its own transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

from chalicelib.clock import isoformat
from chalicelib.models.common import Page
from chalicelib.models.products import ProductItem
from chalicelib.store import keys
from chalicelib.store.pagination import Listing, PageRequest
from chalicelib.store.repository import Repository
from chalicelib.store.schema import GSI1, GSI2
from chalicelib.store.table import Key

BATCH_GET_LIMIT = 100


class ProductStore(Repository[ProductItem]):
    """Products: `PRODUCT#<id>` items, listed by everyone (GSI1) and by owner (GSI2)."""

    item_type = "product"
    model = ProductItem
    versioned = True

    def key(self, item_id: str) -> Key:
        """PRODUCT#<id> / PRODUCT."""
        return keys.product_key(item_id)

    def index_keys(self, item: ProductItem) -> Key:
        """In the PRODUCTS collection and in its owner's, newest first."""
        return keys.product_index_keys(item.id, item.owner_id, isoformat(item.created_at))

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

    def list_page(self, page: PageRequest, owner_id: str | None = None) -> Page[ProductItem]:
        """One page, newest first: all products (GSI1) or one owner's (GSI2). Never a Scan."""
        if owner_id is None:
            listing = Listing(GSI1, keys.PRODUCTS_COLLECTION, "products")
        else:
            listing = Listing(GSI2, keys.owner_partition(owner_id), f"products:owner={owner_id}")
        return self._list(listing, page)
