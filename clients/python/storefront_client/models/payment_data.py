from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.payment_data_currency import PaymentDataCurrency

T = TypeVar("T", bound="PaymentData")


@_attrs_define
class PaymentData:
    """
    Attributes:
        amount (float):
        currency (PaymentDataCurrency):
        order_id (str):
        payment_id (str):
    """

    amount: float
    currency: PaymentDataCurrency
    order_id: str
    payment_id: str

    def to_dict(self) -> dict[str, Any]:
        amount = self.amount

        currency = self.currency.value

        order_id = self.order_id

        payment_id = self.payment_id

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "amount": amount,
                "currency": currency,
                "order_id": order_id,
                "payment_id": payment_id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        amount = d.pop("amount")

        currency = PaymentDataCurrency(d.pop("currency"))

        order_id = d.pop("order_id")

        payment_id = d.pop("payment_id")

        payment_data = cls(
            amount=amount,
            currency=currency,
            order_id=order_id,
            payment_id=payment_id,
        )

        return payment_data
