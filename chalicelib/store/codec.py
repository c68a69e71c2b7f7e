"""Python values ⇄ DynamoDB attribute values (numbers are Decimal, never float)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

Item = dict[str, Any]


@functools.cache
def _serializers() -> tuple[Any, Any]:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def to_attributes(values: Mapping[str, Any]) -> dict[str, Any]:
    """Python values (Decimal, never float) → DynamoDB attribute values; None is left out."""
    serializer, _ = _serializers()
    return {k: serializer.serialize(v) for k, v in values.items() if v is not None}


def from_attributes(item: Mapping[str, Any]) -> Item:
    """DynamoDB attribute values → Python values (numbers come back as Decimal)."""
    _, deserializer = _serializers()
    return {k: deserializer.deserialize(v) for k, v in item.items()}
