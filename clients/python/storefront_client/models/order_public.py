from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.order_public_status import OrderPublicStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.order_line import OrderLine
    from ..models.shipment import Shipment
    from ..models.status_change import StatusChange


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
        payment_due_at (datetime.datetime | None | Unset):
        refund_due (bool | Unset):  Default: False.
        shipment (None | Shipment | Unset):
        status_history (list[StatusChange] | Unset):
    """

    created_at: datetime.datetime
    currency: str
    id: str
    items: list[OrderLine]
    status: OrderPublicStatus
    total: float
    user_id: str
    payment_due_at: datetime.datetime | None | Unset = UNSET
    refund_due: bool | Unset = False
    shipment: None | Shipment | Unset = UNSET
    status_history: list[StatusChange] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.shipment import Shipment  # noqa: PLC0415

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

        payment_due_at: None | str | Unset
        if isinstance(self.payment_due_at, Unset):
            payment_due_at = UNSET
        elif isinstance(self.payment_due_at, datetime.datetime):
            payment_due_at = self.payment_due_at.isoformat()
        else:
            payment_due_at = self.payment_due_at

        refund_due = self.refund_due

        shipment: dict[str, Any] | None | Unset
        if isinstance(self.shipment, Unset):
            shipment = UNSET
        elif isinstance(self.shipment, Shipment):
            shipment = self.shipment.to_dict()
        else:
            shipment = self.shipment

        status_history: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.status_history, Unset):
            status_history = []
            for status_history_item_data in self.status_history:
                status_history_item = status_history_item_data.to_dict()
                status_history.append(status_history_item)

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
        if payment_due_at is not UNSET:
            field_dict["payment_due_at"] = payment_due_at
        if refund_due is not UNSET:
            field_dict["refund_due"] = refund_due
        if shipment is not UNSET:
            field_dict["shipment"] = shipment
        if status_history is not UNSET:
            field_dict["status_history"] = status_history

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.order_line import OrderLine  # noqa: PLC0415
        from ..models.shipment import Shipment  # noqa: PLC0415
        from ..models.status_change import StatusChange  # noqa: PLC0415

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

        def _parse_payment_due_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                payment_due_at_type_0 = datetime.datetime.fromisoformat(data)

                return payment_due_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        payment_due_at = _parse_payment_due_at(d.pop("payment_due_at", UNSET))

        refund_due = d.pop("refund_due", UNSET)

        def _parse_shipment(data: object) -> None | Shipment | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                shipment_type_0 = Shipment.from_dict(data)

                return shipment_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Shipment | Unset, data)

        shipment = _parse_shipment(d.pop("shipment", UNSET))

        _status_history = d.pop("status_history", UNSET)
        status_history: list[StatusChange] | Unset = UNSET
        if _status_history is not UNSET:
            status_history = []
            for status_history_item_data in _status_history:
                status_history_item = StatusChange.from_dict(status_history_item_data)

                status_history.append(status_history_item)

        order_public = cls(
            created_at=created_at,
            currency=currency,
            id=id,
            items=items,
            status=status,
            total=total,
            user_id=user_id,
            payment_due_at=payment_due_at,
            refund_due=refund_due,
            shipment=shipment,
            status_history=status_history,
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
