from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ProductPublic")


@_attrs_define
class ProductPublic:
    """A product as the API shows it.

    Attributes:
        created_at (datetime.datetime):  Example: 2026-11-22T02:14:32.123Z.
        currency (str):
        description (str):
        id (str):
        name (str):
        owner_id (str):
        price (float):
        stock (int):
        updated_at (datetime.datetime):  Example: 2026-11-22T02:14:32.123Z.
        version (int):
    """

    created_at: datetime.datetime
    currency: str
    description: str
    id: str
    name: str
    owner_id: str
    price: float
    stock: int
    updated_at: datetime.datetime
    version: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        currency = self.currency

        description = self.description

        id = self.id

        name = self.name

        owner_id = self.owner_id

        price = self.price

        stock = self.stock

        updated_at = self.updated_at.isoformat()

        version = self.version

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "currency": currency,
                "description": description,
                "id": id,
                "name": name,
                "owner_id": owner_id,
                "price": price,
                "stock": stock,
                "updated_at": updated_at,
                "version": version,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        currency = d.pop("currency")

        description = d.pop("description")

        id = d.pop("id")

        name = d.pop("name")

        owner_id = d.pop("owner_id")

        price = d.pop("price")

        stock = d.pop("stock")

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        version = d.pop("version")

        product_public = cls(
            created_at=created_at,
            currency=currency,
            description=description,
            id=id,
            name=name,
            owner_id=owner_id,
            price=price,
            stock=stock,
            updated_at=updated_at,
            version=version,
        )

        product_public.additional_properties = d
        return product_public

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
