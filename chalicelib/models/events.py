"""Domain events: the CloudEvents 1.0 envelope and the catalogue of event types.

Plain pydantic models rather than the `cloudevents` SDK: the envelope is eight fields we
only ever write (structured JSON mode), the SDK would add a package (and its deprecation,
sanic-era extras) to every cold start for a model pydantic already gives us.

Adding an event type is one line in CATALOGUE: its name and the model of its `data`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from chalicelib import jsonio
from chalicelib.models.common import OutputModel, Timestamp
from chalicelib.models.orders import OrderPublic
from chalicelib.models.products import ProductPublic
from chalicelib.models.users import UserPublic

SOURCE = "/storefront"


class Deleted(OutputModel):
    """The `data` of a deletion event: the id of what is gone."""

    id: str


# type → the model of its `data` (the resource's public shape after the change).
CATALOGUE: dict[str, type[BaseModel]] = {
    "user.registered": UserPublic,
    "user.deleted": Deleted,
    "product.created": ProductPublic,
    "product.updated": ProductPublic,
    "product.deleted": Deleted,
    "order.placed": OrderPublic,
    "order.paid": OrderPublic,
    "order.shipped": OrderPublic,
    "order.delivered": OrderPublic,
    "order.cancelled": OrderPublic,
    "order.expired": OrderPublic,
}

# When each type is emitted (docs/events.md).
WHEN: dict[str, str] = {
    "user.registered": "a user registered (POST /users, manage.py create-admin of a new address)",
    "user.deleted": "a user was deleted (DELETE /users/{id})",
    "product.created": "a product was created (POST /products, manage.py seed)",
    "product.updated": "a product was changed by PATCH /products/{id} (one event per version)",
    "product.deleted": "a product was deleted (DELETE /products/{id})",
    "order.placed": "an order was placed (POST /orders)",
    "order.paid": "the payment provider's webhook paid a placed order (POST /payments/webhook)",
    "order.shipped": "an admin shipped a paid order (POST /orders/{id}/ship)",
    "order.delivered": "an admin marked a shipped order delivered (POST /orders/{id}/deliver)",
    "order.cancelled": "an order was cancelled (POST /orders/{id}/cancel; a paid one with refund_due)",
    "order.expired": "the sweep stored an unpaid order's expiry (reads show it expired from its deadline)",
}


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 event in structured JSON mode."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    specversion: Literal["1.0"] = "1.0"
    id: str
    source: str = SOURCE
    type: str
    time: Timestamp
    subject: str
    datacontenttype: Literal["application/json"] = "application/json"
    data: dict[str, Any]

    def to_json(self) -> str:
        """The structured-mode JSON text (a price keeps its exact decimal text)."""
        return jsonio.dumps(self.model_dump(mode="python"))

    @classmethod
    def from_json(cls, text: str | bytes) -> CloudEvent:
        """Parse the structured-mode JSON text."""
        return cls.model_validate(jsonio.loads(text))


def event_id(event_type: str, subject: str, revision: str) -> str:
    """A stable id: the same change (type, resource, revision) always yields the same id."""
    return hashlib.sha256(f"{event_type} {subject} {revision}".encode()).hexdigest()[:32]


def new_event(event_type: str, subject: str, data: BaseModel, revision: str, time: datetime) -> CloudEvent:
    """The event announcing one change; `data` must be the catalogue's model for the type."""
    model = CATALOGUE[event_type]
    if not isinstance(data, model):
        raise TypeError(f"{event_type} carries {model.__name__}, not {type(data).__name__}")
    return CloudEvent(
        id=event_id(event_type, subject, revision),
        type=event_type,
        time=time,
        subject=subject,
        data=data.model_dump(mode="python"),
    )
