from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.order_status_query_status_type_0 import OrderStatusQueryStatusType0
from ..types import UNSET, Unset

T = TypeVar("T", bound="OrderStatusQuery")


@_attrs_define
class OrderStatusQuery:
    """`?status=&limit=&cursor=` of the order listings.

    Attributes:
        cursor (None | str | Unset):
        limit (int | Unset):  Default: 20.
        status (None | OrderStatusQueryStatusType0 | Unset):
    """

    cursor: None | str | Unset = UNSET
    limit: int | Unset = 20
    status: None | OrderStatusQueryStatusType0 | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        cursor: None | str | Unset
        if isinstance(self.cursor, Unset):
            cursor = UNSET
        else:
            cursor = self.cursor

        limit = self.limit

        status: None | str | Unset
        if isinstance(self.status, Unset):
            status = UNSET
        elif isinstance(self.status, OrderStatusQueryStatusType0):
            status = self.status.value
        else:
            status = self.status

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if cursor is not UNSET:
            field_dict["cursor"] = cursor
        if limit is not UNSET:
            field_dict["limit"] = limit
        if status is not UNSET:
            field_dict["status"] = status

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_cursor(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        cursor = _parse_cursor(d.pop("cursor", UNSET))

        limit = d.pop("limit", UNSET)

        def _parse_status(data: object) -> None | OrderStatusQueryStatusType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                status_type_0 = OrderStatusQueryStatusType0(data)

                return status_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | OrderStatusQueryStatusType0 | Unset, data)

        status = _parse_status(d.pop("status", UNSET))

        order_status_query = cls(
            cursor=cursor,
            limit=limit,
            status=status,
        )

        return order_status_query
