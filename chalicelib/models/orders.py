"""Order models: OrderBase → OrderCreate (request), OrderPublic (response), OrderItem (stored)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, Strict, StringConstraints, model_validator

from chalicelib.models.common import InputModel, OutputModel, StoredModel, Timestamp
from chalicelib.models.products import Money

MAX_LINES = 25
ProductId = Annotated[
    str, Strict(), StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
]
Quantity = Annotated[int, Strict(), Field(ge=1, le=100)]
OrderStatus = Literal["placed", "cancelled"]


class OrderLineCreate(InputModel):  # noqa: D101 - a docstring would change the OpenAPI schema
    product_id: ProductId
    quantity: Quantity


class OrderCreate(InputModel):
    """Body of `POST /orders`: 1..25 distinct products."""

    items: list[OrderLineCreate] = Field(min_length=1, max_length=MAX_LINES)

    @model_validator(mode="after")
    def _distinct_products(self) -> OrderCreate:
        ids = [line.product_id for line in self.items]
        if len(set(ids)) != len(ids):
            raise ValueError("each product may appear only once; combine the quantities")
        return self


class OrderLine(OutputModel):  # noqa: D101 - a docstring would change the OpenAPI schema
    product_id: str
    name: str
    unit_price: Money
    quantity: int


class OrderBase(OutputModel):
    """The fields an order shows: shared by the public view and the stored item."""

    id: str
    user_id: str
    items: list[OrderLine]
    total: Money
    currency: str
    status: OrderStatus
    created_at: Timestamp


class OrderPublic(OrderBase):
    """An order as the API shows it."""


class OrderItem(OrderBase, StoredModel):
    """An order as stored (keys and `type` are added by the store). Stored-only fields go
    here; `public()` copies only OrderPublic's fields, so they never reach a client."""

    def public(self) -> OrderPublic:
        """The API view of this order."""
        return self.project(OrderPublic)
