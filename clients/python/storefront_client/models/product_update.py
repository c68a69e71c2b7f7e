from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.product_update_currency import ProductUpdateCurrency
from ..types import UNSET, Unset

T = TypeVar("T", bound="ProductUpdate")


@_attrs_define
class ProductUpdate:
    """Body of `PATCH /products/{id}`: any of the create fields, at least one, none null.

    Attributes:
        currency (ProductUpdateCurrency | Unset):
        description (str | Unset): No control characters but line feed and tab, no bidirectional-formatting or other
            invisible format characters (docs/api.md, the text rule).
        name (str | Unset): Trimmed; no control, bidirectional-formatting or other invisible format characters
            (docs/api.md, the text rule).
        price (float | Unset):
        stock (int | Unset):
    """

    currency: ProductUpdateCurrency | Unset = UNSET
    description: str | Unset = UNSET
    name: str | Unset = UNSET
    price: float | Unset = UNSET
    stock: int | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        currency: str | Unset = UNSET
        if not isinstance(self.currency, Unset):
            currency = self.currency.value

        description = self.description

        name = self.name

        price = self.price

        stock = self.stock

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if currency is not UNSET:
            field_dict["currency"] = currency
        if description is not UNSET:
            field_dict["description"] = description
        if name is not UNSET:
            field_dict["name"] = name
        if price is not UNSET:
            field_dict["price"] = price
        if stock is not UNSET:
            field_dict["stock"] = stock

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        _currency = d.pop("currency", UNSET)
        currency: ProductUpdateCurrency | Unset
        if isinstance(_currency, Unset):
            currency = UNSET
        else:
            currency = ProductUpdateCurrency(_currency)

        description = d.pop("description", UNSET)

        name = d.pop("name", UNSET)

        price = d.pop("price", UNSET)

        stock = d.pop("stock", UNSET)

        product_update = cls(
            currency=currency,
            description=description,
            name=name,
            price=price,
            stock=stock,
        )

        return product_update
