"""Domain events: the CloudEvents 1.0 envelope and the catalogue of event types.

Plain pydantic models rather than the `cloudevents` SDK: the envelope is eight fields we
only ever write (structured JSON mode), the SDK would add a package (and its deprecation,
sanic-era extras) to every cold start for a model pydantic already gives us.

Adding an event type is one line in CATALOGUE: its name and the model of its `data`.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from chalicelib import jsonio
from chalicelib.clock import isoformat
from chalicelib.models.common import OutputModel, Timestamp

SOURCE = "/storefront"


class Deleted(OutputModel):
    """The `data` of a deletion event: the id of what is gone."""

    id: str


class _Catalogue(Mapping[str, type[BaseModel]]):
    """Event types, each with the model of its `data`, named "module:Model" and imported when
    first asked for: the catalogue names every resource's public model, and a store that
    announces its changes would otherwise import them all into every cold start (a product
    read imported the order and user models). Its types are known without any import."""

    def __init__(self, names: dict[str, str]) -> None:
        self._names = names

    def __getitem__(self, event_type: str) -> type[BaseModel]:
        return _model(self._names[event_type])

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


@functools.cache
def _model(name: str) -> type[BaseModel]:
    module, _, model = name.partition(":")
    found: type[BaseModel] = getattr(importlib.import_module(module), model)
    return found


# type → the model of its `data` (the resource's public shape after the change).
CATALOGUE: Mapping[str, type[BaseModel]] = _Catalogue(
    {
        "user.registered": "chalicelib.models.users:UserPublic",
        "user.deleted": f"{__name__}:Deleted",
        "product.created": "chalicelib.models.products:ProductPublic",
        "product.updated": "chalicelib.models.products:ProductPublic",
        "product.deleted": f"{__name__}:Deleted",
        "order.placed": "chalicelib.models.orders:OrderPublic",
        "order.paid": "chalicelib.models.orders:OrderPublic",
        "order.shipped": "chalicelib.models.orders:OrderPublic",
        "order.delivered": "chalicelib.models.orders:OrderPublic",
        "order.cancelled": "chalicelib.models.orders:OrderPublic",
        "order.expired": "chalicelib.models.orders:OrderPublic",
    }
)

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
        """The structured-mode JSON text (a price keeps its exact decimal text).

        What `jsonio.dumps(self.model_dump(mode="python"))` writes, without pydantic's
        serialiser: the fields in their order, the time as Timestamp writes it, `data` as it
        is (tests/unit/test_events.py holds it to model_dump)."""
        return jsonio.dumps({**self.__dict__, "time": isoformat(self.time)})

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
