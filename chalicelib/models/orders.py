"""Order models: OrderBase → OrderCreate (request), OrderPublic (response), OrderItem (stored);
the life of an order (OrderStatus, StatusChange, Shipment) and its admin queries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, Strict, StringConstraints, model_validator

from chalicelib.models.common import InputModel, OutputModel, PageQuery, StoredModel, Timestamp
from chalicelib.models.products import Money

MAX_LINES = 25
ProductId = Annotated[
    str, Strict(), StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
]
Quantity = Annotated[int, Strict(), Field(ge=1, le=100)]
OrderStatus = Literal["placed", "paid", "shipped", "delivered", "cancelled", "expired"]
# Statuses whose order holds its units (the stock invariant counts these).
HOLDING_STOCK: frozenset[str] = frozenset({"placed", "paid", "shipped", "delivered"})
ShipmentText = Annotated[
    str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]


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


class StatusChange(OutputModel):  # noqa: D101 - a docstring would change the OpenAPI schema
    status: OrderStatus
    at: Timestamp


class Shipment(OutputModel):  # noqa: D101 - a docstring would change the OpenAPI schema
    carrier: str
    tracking_number: str


class ShipmentCreate(InputModel):
    """Body of `POST /orders/{id}/ship`."""

    carrier: ShipmentText
    tracking_number: ShipmentText


class OrderStatusQuery(PageQuery):
    """`?status=&limit=&cursor=` of the order listings."""

    status: OrderStatus | None = None


class AdminOrderQuery(PageQuery):
    """`?status=` (required) `&limit=&cursor=` of `GET /admin/orders`."""

    status: OrderStatus


class OrderBase(OutputModel):
    """The fields an order shows: shared by the public view and the stored item."""

    id: str
    user_id: str
    items: list[OrderLine]
    total: Money
    currency: str
    status: OrderStatus
    status_history: list[StatusChange] = Field(default_factory=list)
    refund_due: bool = False
    payment_due_at: Timestamp | None = None
    shipment: Shipment | None = None
    created_at: Timestamp


class OrderPublic(OrderBase):
    """An order as the API shows it."""


class OrderItem(OrderBase, StoredModel):
    """An order as stored (keys and `type` are added by the store). Stored-only fields go
    here; `public()` copies only OrderPublic's fields, so they never reach a client.

    `status` is the stored one; `effective_status(now)` is what a reader sees: a placed
    order whose payment deadline has passed is expired, even before the sweep stores it.
    `payment_due_at` is kept after payment (the status index sorts by it) but shown only
    while the order is placed.
    """

    payment_id: str | None = None

    def is_overdue(self, now: datetime) -> bool:
        """Placed, with a deadline that has passed (reads as expired)."""
        return self.status == "placed" and self.payment_due_at is not None and self.payment_due_at <= now

    def effective_status(self, now: datetime) -> OrderStatus:
        """The status a reader sees at `now`."""
        return "expired" if self.is_overdue(now) else self.status

    def public(self, now: datetime | None = None) -> OrderPublic:
        """The API view of this order at `now` (default: the stored state as it is)."""
        view = self.project(OrderPublic)
        if now is not None and self.is_overdue(now):
            # Expired at its deadline: the same entry the sweep will store (store/orders.expire).
            change = StatusChange(status="expired", at=self.payment_due_at or now)
            history = [*view.status_history, change]
            return view.model_copy(
                update={"status": "expired", "status_history": history, "payment_due_at": None}
            )
        if view.status != "placed":
            view = view.model_copy(update={"payment_due_at": None})
        return view
