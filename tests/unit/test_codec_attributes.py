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
    | st.floats(allow_nan=False, max_value=1e6, min_value=-1e6)
)
_sets = (
    st.frozensets(st.text(min_size=1, max_size=6), max_size=3)
    | st.frozensets(st.integers(-(10**40), 10**40) | st.decimals(allow_nan=False), max_size=3)
    | st.frozensets(st.booleans() | st.integers(0, 3) | st.text(max_size=2), max_size=3)
    | st.frozensets(st.binary(max_size=3), max_size=2)
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=6), inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | _sets.map(set)
        | _sets
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


_wire_scalars: st.SearchStrategy[dict[str, Any]] = (
    st.builds(lambda t: {"S": t}, st.text(max_size=4))
    | st.builds(lambda n: {"N": n}, st.sampled_from(["0", "-1.50", "1E+3", "9" * 38, "1" * 39]))
    | st.builds(lambda b: {"B": b}, st.binary(max_size=4))
    | st.builds(lambda b: {"BOOL": b}, st.booleans())
    | st.just({"NULL": True})
    | st.builds(lambda v: {"SS": v}, st.lists(st.text(max_size=3), max_size=3, unique=True))
    | st.builds(lambda v: {"NS": v}, st.lists(st.sampled_from(["1", "2.5", "-3"]), max_size=3, unique=True))
    | st.builds(lambda v: {"BS": v}, st.lists(st.binary(max_size=3), max_size=2, unique=True))
    | st.just({})
    | st.just({"X": 1})
)
_wire = st.recursive(
    _wire_scalars,
    lambda inner: (
        st.builds(lambda v: {"L": v}, st.lists(inner, max_size=3))
        | st.builds(lambda v: {"M": v}, st.dictionaries(st.text(max_size=3), inner, max_size=3))
    ),
    max_leaves=8,
)


@given(st.dictionaries(st.text(max_size=4), _wire, max_size=5))
def test_any_wire_item_reads_as_boto3_reads_it(wire: dict[str, Any]) -> None:
    deserializer = TypeDeserializer()

    def reference(item: dict[str, Any]) -> dict[str, Any]:
        return {k: deserializer.deserialize(v) for k, v in item.items()}

    assert repr(_outcome(from_attributes, wire)) == repr(_outcome(reference, wire))


def test_the_number_context_is_boto3s() -> None:
    from boto3.dynamodb.types import DYNAMODB_CONTEXT as BOTO3_CONTEXT

    from chalicelib.store.codec import DYNAMODB_CONTEXT

    assert repr(DYNAMODB_CONTEXT) == repr(BOTO3_CONTEXT)


def test_numbers_keep_their_exact_text_both_ways() -> None:
    wire = to_attributes({"price": Decimal("19.90"), "stock": 3, "name": "Teapot"})
    assert wire == {"price": {"N": "19.90"}, "stock": {"N": "3"}, "name": {"S": "Teapot"}}
    assert from_attributes(wire) == {"price": Decimal("19.90"), "stock": Decimal(3), "name": "Teapot"}


def test_floats_and_empty_attribute_values_are_refused_as_boto3_refuses_them() -> None:
    with pytest.raises(TypeError):
        to_attributes({"price": 0.1})
    with pytest.raises(TypeError):
        from_attributes({"x": {}})
