from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="DeliveryPublic")


@_attrs_define
class DeliveryPublic:
    """One delivery attempt: when, which event, the receiver's status or why there was none.

    Attributes:
        attempt (int):
        event_id (str):
        event_type (str):
        latency_ms (int):
        time (datetime.datetime):  Example: 2026-11-22T02:14:32.123Z.
        error (None | str | Unset):
        status (int | None | Unset):
    """

    attempt: int
    event_id: str
    event_type: str
    latency_ms: int
    time: datetime.datetime
    error: None | str | Unset = UNSET
    status: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        attempt = self.attempt

        event_id = self.event_id

        event_type = self.event_type

        latency_ms = self.latency_ms

        time = self.time.isoformat()

        error: None | str | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        else:
            error = self.error

        status: int | None | Unset
        if isinstance(self.status, Unset):
            status = UNSET
        else:
            status = self.status

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "attempt": attempt,
                "event_id": event_id,
                "event_type": event_type,
                "latency_ms": latency_ms,
                "time": time,
            }
        )
        if error is not UNSET:
            field_dict["error"] = error
        if status is not UNSET:
            field_dict["status"] = status

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        attempt = d.pop("attempt")

        event_id = d.pop("event_id")

        event_type = d.pop("event_type")

        latency_ms = d.pop("latency_ms")

        time = datetime.datetime.fromisoformat(d.pop("time"))

        def _parse_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error = _parse_error(d.pop("error", UNSET))

        def _parse_status(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        status = _parse_status(d.pop("status", UNSET))

        delivery_public = cls(
            attempt=attempt,
            event_id=event_id,
            event_type=event_type,
            latency_ms=latency_ms,
            time=time,
            error=error,
            status=status,
        )

        delivery_public.additional_properties = d
        return delivery_public

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
