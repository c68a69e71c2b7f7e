"""Python values ⇄ DynamoDB attribute values (numbers are Decimal, never float)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

Item = dict[str, Any]


@functools.cache
def _serializers() -> tuple[Any, Any, Callable[[Any], Any]]:
    from boto3.dynamodb.types import DYNAMODB_CONTEXT, TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer(), DYNAMODB_CONTEXT.create_decimal


# Strings and numbers are nearly every attribute of every item: they take a direct path
# that gives exactly what boto3's TypeSerializer / TypeDeserializer give (which handle the
# rest, and every error). A page of 20 products is ~350 attributes.
def to_attributes(values: Mapping[str, Any]) -> dict[str, Any]:
    """Python values (Decimal, never float) → DynamoDB attribute values; None is left out."""
    serializer, _, number = _serializers()
    wire: dict[str, Any] = {}
    for key, value in values.items():
        kind = type(value)
        if kind is str:
            wire[key] = {"S": value}
        elif kind is int or kind is Decimal:
            text = str(number(value))
            wire[key] = {"N": text} if text[-1].isdigit() else serializer.serialize(value)
        elif value is not None:
            wire[key] = serializer.serialize(value)
    return wire


def from_attributes(item: Mapping[str, Any]) -> Item:
    """DynamoDB attribute values → Python values (numbers come back as Decimal)."""
    _, deserializer, number = _serializers()
    values: Item = {}
    for key, wire in item.items():
        kind = next(iter(wire), None)
        if kind == "S":
            values[key] = wire["S"]
        elif kind == "N":
            values[key] = number(wire["N"])
        else:
            values[key] = deserializer.deserialize(wire)
    return values
