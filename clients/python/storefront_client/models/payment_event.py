from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.payment_data import PaymentData


T = TypeVar("T", bound="PaymentEvent")


@_attrs_define
class PaymentEvent:
    """Body of `POST /payments/webhook` (signed by the provider, Standard Webhooks).

    Attributes:
        data (PaymentData):
        type_ (Literal['payment.succeeded']):
    """

    data: PaymentData
    type_: Literal["payment.succeeded"]

    def to_dict(self) -> dict[str, Any]:
        data = self.data.to_dict()

        type_ = self.type_

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "data": data,
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.payment_data import PaymentData  # noqa: PLC0415

        d = dict(src_dict)
        data = PaymentData.from_dict(d.pop("data"))

        type_ = cast(Literal["payment.succeeded"], d.pop("type"))
        if type_ != "payment.succeeded":
            raise ValueError(f"type must match const 'payment.succeeded', got '{type_}'")

        payment_event = cls(
            data=data,
            type_=type_,
        )

        return payment_event
