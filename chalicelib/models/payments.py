"""Payment webhook models: the provider's event (request) and our acknowledgement (response)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Strict, StringConstraints

from chalicelib.models.common import InputModel, OutputModel
from chalicelib.models.orders import ProductId
from chalicelib.models.products import Amount, Currency

PaymentId = Annotated[
    str, Strict(), StringConstraints(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")
]
PaymentOutcome = Literal["paid", "duplicate", "refund_due", "already_paid"]


class PaymentData(InputModel):  # noqa: D101 - a docstring would change the OpenAPI schema
    order_id: ProductId  # the same opaque, key-safe id alphabet
    payment_id: PaymentId
    amount: Amount
    currency: Currency


class PaymentEvent(InputModel):
    """Body of `POST /payments/webhook` (signed by the provider, Standard Webhooks)."""

    type: Literal["payment.succeeded"]
    data: PaymentData


class PaymentAck(OutputModel):
    """What the webhook did: `paid`; `duplicate` (this webhook-id was applied before);
    `refund_due` (the order was no longer payable); `already_paid` (by this very payment)."""

    outcome: PaymentOutcome
