from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.webhook_create_events_item import WebhookCreateEventsItem

T = TypeVar("T", bound="WebhookCreate")


@_attrs_define
class WebhookCreate:
    """Body of `POST /webhooks`: where to POST, and which event types.

    Attributes:
        events (list[WebhookCreateEventsItem]):
        url (str):
    """

    events: list[WebhookCreateEventsItem]
    url: str

    def to_dict(self) -> dict[str, Any]:
        events = []
        for events_item_data in self.events:
            events_item = events_item_data.value
            events.append(events_item)

        url = self.url

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "events": events,
                "url": url,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        events = []
        _events = d.pop("events")
        for events_item_data in _events:
            events_item = WebhookCreateEventsItem(events_item_data)

            events.append(events_item)

        url = d.pop("url")

        webhook_create = cls(
            events=events,
            url=url,
        )

        return webhook_create
