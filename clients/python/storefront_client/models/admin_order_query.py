from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.admin_order_query_status import AdminOrderQueryStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="AdminOrderQuery")


@_attrs_define
class AdminOrderQuery:
    """`?status=` (required) `&limit=&cursor=` of `GET /admin/orders`.

    Attributes:
        status (AdminOrderQueryStatus):
        cursor (None | str | Unset):
        limit (int | Unset):  Default: 20.
    """

    status: AdminOrderQueryStatus
    cursor: None | str | Unset = UNSET
    limit: int | Unset = 20

    def to_dict(self) -> dict[str, Any]:
        status = self.status.value

        cursor: None | str | Unset
        if isinstance(self.cursor, Unset):
            cursor = UNSET
        else:
            cursor = self.cursor

        limit = self.limit

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "status": status,
            }
        )
        if cursor is not UNSET:
            field_dict["cursor"] = cursor
        if limit is not UNSET:
            field_dict["limit"] = limit

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        status = AdminOrderQueryStatus(d.pop("status"))

        def _parse_cursor(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        cursor = _parse_cursor(d.pop("cursor", UNSET))

        limit = d.pop("limit", UNSET)

        admin_order_query = cls(
            status=status,
            cursor=cursor,
            limit=limit,
        )

        return admin_order_query
