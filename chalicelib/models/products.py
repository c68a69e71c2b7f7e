"""Product models: ProductBase → ProductCreate / ProductUpdate (requests), ProductPublic
(responses), ProductItem (the DynamoDB item's attributes); ProductListQuery (`GET /products`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, Strict, WithJsonSchema

from chalicelib.jsonio import decimal_text
from chalicelib.models.common import (
    InputModel,
    OutputModel,
    PageQuery,
    PartialUpdate,
    StoredModel,
    Timestamp,
)
from chalicelib.models.currencies import DEFAULT_CURRENCY, ISO_4217_CODES, is_currency
from chalicelib.models.text import Description, Name

MAX_PRICE = 10_000_000
# DynamoDB numbers hold 38 digits; a bound keeps any accepted stock far inside that.
MAX_STOCK = 1_000_000_000

_PRICE_SCHEMA: dict[str, Any] = {
    "type": "number",
    "minimum": 0,
    "maximum": MAX_PRICE,
    "multipleOf": 0.01,
    "examples": [19.99],
}


def _json_number(value: object) -> Decimal:
    # A price is a JSON number: "19.99" (a string) and true (a bool, an int to Python)
    # are refused; a float never gets here from jsonio.loads and is refused from Python.
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise ValueError("must be a JSON number")
    return Decimal(value)


def _canonical(value: Decimal) -> Decimal:
    # One spelling per amount in the table: 19.90 and 1.99E+1 are stored as 19.9, -0 as 0.
    return Decimal(decimal_text(value))


def _currency_code(value: str) -> str:
    if not is_currency(value):
        raise ValueError("must be an active ISO 4217 currency code in upper case, e.g. USD")
    return value


Price = Annotated[
    Decimal,
    BeforeValidator(_json_number),
    Field(ge=0, le=MAX_PRICE, decimal_places=2, allow_inf_nan=False),
    AfterValidator(_canonical),
    WithJsonSchema(_PRICE_SCHEMA),
]
Money = Annotated[Decimal, WithJsonSchema(_PRICE_SCHEMA)]
# An amount paid for an order: exact like a price, up to the largest possible order total.
MAX_AMOUNT = MAX_PRICE * 100 * 25
Amount = Annotated[
    Decimal,
    BeforeValidator(_json_number),
    Field(ge=0, le=MAX_AMOUNT, decimal_places=2, allow_inf_nan=False),
    AfterValidator(_canonical),
    WithJsonSchema({**_PRICE_SCHEMA, "maximum": MAX_AMOUNT}),
]
Currency = Annotated[
    str,
    Strict(),
    AfterValidator(_currency_code),
    WithJsonSchema({"type": "string", "enum": list(ISO_4217_CODES), "examples": [DEFAULT_CURRENCY]}),
]
Stock = Annotated[int, Strict(), Field(ge=0, le=MAX_STOCK)]


class ProductCreate(InputModel):
    """Body of `POST /products`."""

    name: Name
    description: Description = ""
    price: Price
    currency: Currency = DEFAULT_CURRENCY
    stock: Stock = 0


class ProductUpdate(PartialUpdate):
    """Body of `PATCH /products/{id}`: any of the create fields, at least one, none null."""

    name: Name | None = None
    description: Description | None = None
    price: Price | None = None
    currency: Currency | None = None
    stock: Stock | None = None


class ProductBase(OutputModel):
    """The fields a product shows: shared by the public view and the stored item.

    Orders read and update product items too: `stock` and `version` change in their
    transactions, so every field here is the stored attribute, unrenamed.
    """

    id: str
    owner_id: str
    name: str
    description: str
    price: Money
    currency: str
    stock: int
    version: int
    created_at: Timestamp
    updated_at: Timestamp


class ProductPublic(ProductBase):
    """A product as the API shows it."""


class ProductItem(ProductBase, StoredModel):
    """The product attributes of its DynamoDB item (keys and `type` are added by the store)."""

    def public(self) -> ProductPublic:
        """The API view of this product."""
        return self.project(ProductPublic)


class ProductListQuery(PageQuery):
    """`GET /products?limit=&cursor=&owner_id=`."""

    owner_id: str | None = Field(default=None, min_length=1, max_length=128)
