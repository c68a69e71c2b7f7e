"""The item (de)serialiser gives exactly what boto3's TypeSerializer / TypeDeserializer give."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.store.codec import from_attributes, to_attributes

_scalars = (
    st.text()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.decimals(allow_nan=True, allow_infinity=True)
    | st.booleans()
    | st.none()
    | st.binary(max_size=8)
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6), inner, max_size=4)
        | st.frozensets(st.text(min_size=1, max_size=6), min_size=1, max_size=3).map(set)
    ),
    max_leaves=12,
)


def _outcome(call: Any, arg: Any) -> Any:
    try:
        return ("ok", call(arg))
    except Exception as exc:  # the same error type, whatever it is
        return ("error", type(exc))


@given(st.dictionaries(st.text(max_size=6), _values, max_size=6))
def test_to_attributes_matches_boto3(values: dict[str, Any]) -> None:
    serializer = TypeSerializer()

    def reference(v: dict[str, Any]) -> dict[str, Any]:
        return {k: serializer.serialize(x) for k, x in v.items() if x is not None}

    assert _outcome(to_attributes, values) == _outcome(reference, values)


@given(st.dictionaries(st.text(max_size=6), _values, max_size=6))
def test_from_attributes_matches_boto3(values: dict[str, Any]) -> None:
    wire = _outcome(to_attributes, values)
    if wire[0] == "error":
        return
    deserializer = TypeDeserializer()
    expected = {k: deserializer.deserialize(v) for k, v in wire[1].items()}
    assert repr(from_attributes(wire[1])) == repr(expected)  # repr: NaN is not equal to itself


def test_numbers_keep_their_exact_text_both_ways() -> None:
    wire = to_attributes({"price": Decimal("19.90"), "stock": 3, "name": "Teapot"})
    assert wire == {"price": {"N": "19.90"}, "stock": {"N": "3"}, "name": {"S": "Teapot"}}
    assert from_attributes(wire) == {"price": Decimal("19.90"), "stock": Decimal(3), "name": "Teapot"}


def test_floats_and_empty_attribute_values_are_refused_as_boto3_refuses_them() -> None:
    with pytest.raises(TypeError):
        to_attributes({"price": 0.1})
    with pytest.raises(TypeError):
        from_attributes({"x": {}})
