from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.user_public_role import UserPublicRole
from ..types import UNSET, Unset

T = TypeVar("T", bound="UserPublic")


@_attrs_define
class UserPublic:
    """A user as clients see it: never a password or a hash.

    Attributes:
        created_at (datetime.datetime):  Example: 2026-11-22T02:14:32.123Z.
        email (str):
        id (str):
        name (str):
        role (UserPublicRole):
        updated_at (datetime.datetime):  Example: 2026-11-22T02:14:32.123Z.
        email_verified (bool | Unset):  Default: False.
    """

    created_at: datetime.datetime
    email: str
    id: str
    name: str
    role: UserPublicRole
    updated_at: datetime.datetime
    email_verified: bool | Unset = False
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        email = self.email

        id = self.id

        name = self.name

        role = self.role.value

        updated_at = self.updated_at.isoformat()

        email_verified = self.email_verified

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "email": email,
                "id": id,
                "name": name,
                "role": role,
                "updated_at": updated_at,
            }
        )
        if email_verified is not UNSET:
            field_dict["email_verified"] = email_verified

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        email = d.pop("email")

        id = d.pop("id")

        name = d.pop("name")

        role = UserPublicRole(d.pop("role"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        email_verified = d.pop("email_verified", UNSET)

        user_public = cls(
            created_at=created_at,
            email=email,
            id=id,
            name=name,
            role=role,
            updated_at=updated_at,
            email_verified=email_verified,
        )

        user_public.additional_properties = d
        return user_public

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
