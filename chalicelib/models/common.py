"""Shared model pieces: the strict base, timestamps, pages, page queries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from chalicelib.clock import isoformat

T = TypeVar("T")

Timestamp = Annotated[
    datetime,
    PlainSerializer(isoformat, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time", "example": "2026-11-22T02:14:32.123Z"}),
]


class InputModel(BaseModel):
    """Base for request bodies and queries: unknown fields are an error, not ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False, defer_build=True)


class OutputModel(BaseModel):
    """Base for response bodies."""

    model_config = ConfigDict(extra="ignore", defer_build=True)


class PageQuery(InputModel):
    """`?limit=&cursor=` of every list endpoint."""

    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, min_length=1, max_length=1024)


class Page(OutputModel, Generic[T]):
    """`{"items": [...], "next_cursor": "<opaque>" | null}`."""

    items: list[T]
    next_cursor: str | None


class ErrorDetail(OutputModel):
    loc: list[str | int]
    msg: str


class ErrorBody(OutputModel):
    """The contract's one error envelope (documented in OpenAPI)."""

    error: str
    code: str
    request_id: str
    details: list[ErrorDetail] | None = None
