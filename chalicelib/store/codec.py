"""Python values ⇄ DynamoDB attribute values (numbers are Decimal, never float).

What boto3's TypeSerializer / TypeDeserializer give, without importing boto3: the API
function's DynamoDB client is botocore's (store/table.py), and `import boto3` alone costs a
cold start ~15-20 ms (boto3's session, resources and s3transfer). Strings, numbers,
booleans, nulls, lists, maps and string/number sets — everything the stores write — take
the direct path here; anything else (binary, a set of mixed or unusual types, a float,
Infinity/NaN, an unsupported type) goes to boto3's own code, which gives the value or
raises the error. tests/unit/test_codec_attributes.py holds both directions equal to boto3's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from decimal import Clamped, Context, Decimal, Inexact, Overflow, Rounded, Underflow
from typing import Any

Item = dict[str, Any]

# boto3.dynamodb.types.DYNAMODB_CONTEXT: DynamoDB's numbers (38 digits; exact or refused).
DYNAMODB_CONTEXT = Context(
    Emin=-128, Emax=126, prec=38, traps=[Clamped, Overflow, Inexact, Rounded, Underflow]
)
# An N attribute's text (or an int/Decimal) → its Decimal, exact or refused (ArithmeticError).
number: Callable[[Any], Decimal] = DYNAMODB_CONTEXT.create_decimal


@functools.cache
def _boto3() -> tuple[Any, Any]:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def _number_text(value: int | Decimal) -> str | None:
    """The N text of an int or Decimal; None when it is not a plain finite number."""
    text = str(number(value))
    return text if text[-1].isdigit() else None


def serialize(value: Any) -> dict[str, Any]:
    """One Python value → its DynamoDB attribute value (boto3's TypeSerializer.serialize)."""
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is int or kind is Decimal:
        text = _number_text(value)
        if text is not None:
            return {"N": text}
    elif kind is bool:
        return {"BOOL": value}
    elif value is None:
        return {"NULL": True}
    elif kind is dict:
        return {"M": {key: serialize(item) for key, item in value.items()}}
    elif kind is list or kind is tuple:
        return {"L": [serialize(item) for item in value]}
    elif kind is set or kind is frozenset:
        wire = _serialize_set(value)
        if wire is not None:
            return wire
    serializer, _ = _boto3()
    return dict(serializer.serialize(value))


def _serialize_set(value: set[Any] | frozenset[Any]) -> dict[str, Any] | None:
    kinds = {type(item) for item in value}
    if kinds <= {int, Decimal}:
        texts = [_number_text(item) for item in value]
        return None if None in texts else {"NS": texts}
    if kinds == {str}:
        return {"SS": list(value)}
    return None


def deserialize(wire: Mapping[str, Any]) -> Any:
    """One DynamoDB attribute value → its Python value (boto3's TypeDeserializer.deserialize)."""
    kind = next(iter(wire), None)
    if kind == "S":
        return wire["S"]
    if kind == "N":
        return number(wire["N"])
    if kind == "BOOL":
        return wire["BOOL"]
    if kind == "NULL":
        return None
    if kind == "M":
        return {key: deserialize(item) for key, item in wire["M"].items()}
    if kind == "L":
        return [deserialize(item) for item in wire["L"]]
    if kind == "SS":
        return set(wire["SS"])
    if kind == "NS":
        return set(map(number, wire["NS"]))
    _, deserializer = _boto3()
    return deserializer.deserialize(wire)


# A page of 20 products is ~350 attributes, nearly all strings and numbers: those are
# written inline here rather than through serialize()/deserialize().
def to_attributes(values: Mapping[str, Any]) -> dict[str, Any]:
    """Python values (Decimal, never float) → DynamoDB attribute values; None is left out."""
    wire: dict[str, Any] = {}
    for key, value in values.items():
        kind = type(value)
        if kind is str:
            wire[key] = {"S": value}
        elif value is not None:
            wire[key] = serialize(value)
    return wire


def from_attributes(item: Mapping[str, Any]) -> Item:
    """DynamoDB attribute values → Python values (numbers come back as Decimal)."""
    values: Item = {}
    for key, wire in item.items():
        kind = next(iter(wire), None)
        if kind == "S":
            values[key] = wire["S"]
        elif kind == "N":
            values[key] = number(wire["N"])
        else:
            values[key] = deserialize(wire)
    return values
