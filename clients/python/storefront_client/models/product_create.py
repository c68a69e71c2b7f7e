from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.product_create_currency import ProductCreateCurrency
from ..types import UNSET, Unset

T = TypeVar("T", bound="ProductCreate")


@_attrs_define
class ProductCreate:
    """Body of `POST /products`.

    Attributes:
        name (str): Trimmed; no control, bidirectional-formatting or other invisible format characters (docs/api.md, the
            text rule).
        price (float):
        currency (ProductCreateCurrency | Unset):  Default: ProductCreateCurrency.USD.
        description (str | Unset): No control characters but line feed and tab, no bidirectional-formatting or other
            invisible format characters (docs/api.md, the text rule). Default: ''.
        stock (int | Unset):  Default: 0.
    """

    name: str
    price: float
    currency: ProductCreateCurrency | Unset = ProductCreateCurrency.USD
    description: str | Unset = ""
    stock: int | Unset = 0

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        price = self.price

        currency: str | Unset = UNSET
        if not isinstance(self.currency, Unset):
            currency = self.currency.value

        description = self.description

        stock = self.stock

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "price": price,
            }
        )
        if currency is not UNSET:
            field_dict["currency"] = currency
        if description is not UNSET:
            field_dict["description"] = description
        if stock is not UNSET:
            field_dict["stock"] = stock

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        price = d.pop("price")

        _currency = d.pop("currency", UNSET)
        currency: ProductCreateCurrency | Unset
        if isinstance(_currency, Unset):
            currency = UNSET
        else:
            currency = ProductCreateCurrency(_currency)

        description = d.pop("description", UNSET)

        stock = d.pop("stock", UNSET)

        product_create = cls(
            name=name,
            price=price,
            currency=currency,
            description=description,
            stock=stock,
        )

        return product_create
