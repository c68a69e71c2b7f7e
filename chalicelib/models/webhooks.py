"""Webhook subscription models: WebhookCreate (request), WebhookPublic / WebhookCreated
(responses), WebhookItem (the DynamoDB item); DeliveryPublic / DeliveryItem (one attempt)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from chalicelib.models.common import InputModel, OutputModel, StoredModel, Timestamp
from chalicelib.models.events import CATALOGUE

MAX_URL_CHARS = 2048
# Whose events a subscription receives: the subscriber's own resources, or all (admins).
Scope = Literal["own", "all"]
EventType = Annotated[str, Field(json_schema_extra={"enum": sorted(CATALOGUE)})]


def _known_types(values: list[str]) -> list[str]:
    unknown = sorted(set(values) - set(CATALOGUE))
    if unknown:
        raise ValueError(f"unknown event types {unknown}; known: {sorted(CATALOGUE)}")
    if len(set(values)) != len(values):
        raise ValueError("each event type at most once")
    return values


class WebhookCreate(InputModel):
    """Body of `POST /webhooks`: where to POST, and which event types."""

    url: str = Field(
        min_length=1, max_length=MAX_URL_CHARS, examples=["https://hooks.example.com/storefront"]
    )
    events: Annotated[
        list[EventType], Field(min_length=1, max_length=len(CATALOGUE)), AfterValidator(_known_types)
    ]


class WebhookBase(OutputModel):
    """The fields a subscription shows (never its secret, except once at creation)."""

    id: str
    url: str
    events: list[str]
    scope: Scope
    enabled: bool
    created_at: Timestamp


class WebhookPublic(WebhookBase):
    """A subscription as `GET /webhooks` shows it."""


class WebhookCreated(WebhookPublic):
    """The answer to `POST /webhooks`: the only place the signing secret is ever shown."""

    secret: str


class WebhookItem(WebhookBase, StoredModel):
    """The subscription's item: the secret (deliveries are signed with it, so it is kept, not
    digested) and the run of events that failed after all their retries."""

    owner_id: str
    secret: str
    failed_events: int = 0
    updated_at: Timestamp

    def public(self) -> WebhookPublic:
        """The API view (no secret)."""
        return self.project(WebhookPublic)

    def created(self) -> WebhookCreated:
        """The one view with the secret."""
        return self.project(WebhookCreated)


class DeliveryPublic(OutputModel):
    """One delivery attempt: when, which event, the receiver's status or why there was none."""

    time: Timestamp
    event_id: str
    event_type: str
    attempt: int  # 1 for the first try of an event, 2 for its first retry, …
    status: int | None = None
    error: str | None = None
    latency_ms: int  # whole milliseconds


class DeliveryItem(DeliveryPublic, StoredModel):
    """The attempt's item (kept 7 days: TTL)."""

    webhook_id: str
    expires_at: int

    def public(self) -> DeliveryPublic:
        """The API view."""
        return self.project(DeliveryPublic)
