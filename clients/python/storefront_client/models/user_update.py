from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.user_update_role import UserUpdateRole
from ..types import UNSET, Unset

T = TypeVar("T", bound="UserUpdate")


@_attrs_define
class UserUpdate:
    """Body of PATCH /users/{id}: any of these, at least one, none null; `role` is for admins only.

    Attributes:
        name (str | Unset): Trimmed; no control, bidirectional-formatting or other invisible format characters
            (docs/api.md, the text rule).
        password (str | Unset):
        role (UserUpdateRole | Unset):
    """

    name: str | Unset = UNSET
    password: str | Unset = UNSET
    role: UserUpdateRole | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        password = self.password

        role: str | Unset = UNSET
        if not isinstance(self.role, Unset):
            role = self.role.value

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if name is not UNSET:
            field_dict["name"] = name
        if password is not UNSET:
            field_dict["password"] = password
        if role is not UNSET:
            field_dict["role"] = role

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name", UNSET)

        password = d.pop("password", UNSET)

        _role = d.pop("role", UNSET)
        role: UserUpdateRole | Unset
        if isinstance(_role, Unset):
            role = UNSET
        else:
            role = UserUpdateRole(_role)

        user_update = cls(
            name=name,
            password=password,
            role=role,
        )

        return user_update
