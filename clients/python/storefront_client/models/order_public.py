from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.order_public_status import OrderPublicStatus

if TYPE_CHECKING:
    from ..models.order_line import OrderLine


T = TypeVar("T", bound="OrderPublic")


@_attrs_define
class OrderPublic:
    """An order as the API shows it.

    Attributes:
        created_at (datetime.datetime):  Example: 2026-11-22T02:14:32.123Z.
        currency (str):
        id (str):
        items (list[OrderLine]):
        status (OrderPublicStatus):
        total (float):
        user_id (str):
    """

    created_at: datetime.datetime
    currency: str
    id: str
    items: list[OrderLine]
    status: OrderPublicStatus
    total: float
    user_id: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        currency = self.currency

        id = self.id

        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)

        status = self.status.value

        total = self.total

        user_id = self.user_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "currency": currency,
                "id": id,
                "items": items,
                "status": status,
                "total": total,
                "user_id": user_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.order_line import OrderLine  # noqa: PLC0415

        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        currency = d.pop("currency")

        id = d.pop("id")

        items = []
        _items = d.pop("items")
        for items_item_data in _items:
            items_item = OrderLine.from_dict(items_item_data)

            items.append(items_item)

        status = OrderPublicStatus(d.pop("status"))

        total = d.pop("total")

        user_id = d.pop("user_id")

        order_public = cls(
            created_at=created_at,
            currency=currency,
            id=id,
            items=items,
            status=status,
            total=total,
            user_id=user_id,
        )

        order_public.additional_properties = d
        return order_public

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
