"""Exact numbers in and out: no binary float anywhere."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from decimal import Decimal
from enum import IntEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.jsonio import decimal_text, dumps, encoder, loads


def test_fractions_parse_as_decimal() -> None:
    assert loads('{"price": 19.99}') == {"price": Decimal("19.99")}
    assert isinstance(loads("[1]")[0], int)


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "{", "", "[1,]"])
def test_invalid_json_and_non_finite_constants_are_refused(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - json raises a ValueError subclass
        loads(text)


@pytest.mark.parametrize(
    ("value", "text"),
    [("19.99", "19.99"), ("19.90", "19.9"), ("10", "10"), ("1E+1", "10"), ("0.00", "0"), ("0.1", "0.1")],
)
def test_decimal_text_is_exact_and_plain(value: str, text: str) -> None:
    assert decimal_text(Decimal(value)) == text


def test_dumps_writes_decimal_as_number_and_escapes_strings() -> None:
    out = dumps({"p": Decimal("0.10"), "s": 'a"b', "l": [1, True, None], "u": "é"})
    assert out == '{"p":0.1,"s":"a\\"b","l":[1,true,null],"u":"é"}'
    assert loads(out)["p"] == Decimal("0.1")


def test_dumps_refuses_binary_floats() -> None:
    with pytest.raises(TypeError):
        dumps({"p": 0.1})


def test_dumps_refuses_non_finite_decimals() -> None:
    with pytest.raises(ValueError):  # noqa: PT011
        dumps(Decimal("NaN"))


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=20,
)


@given(_json_values)
def test_dumps_writes_what_the_json_module_writes_for_everything_but_decimals(value: object) -> None:
    assert dumps(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class _Code(str):
    pass


class _Level(IntEnum):
    A = 1


def test_dumps_writes_subclasses_and_non_string_keys_like_the_json_module() -> None:
    value = OrderedDict([(1, _Code("x\n")), (_Code("k"), (True, _Level.A))])
    assert dumps(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert dumps({"nested": [{"p": Decimal("1.50")}]}) == '{"nested":[{"p":1.5}]}'


class _Opaque:
    def __str__(self) -> str:
        return "opaque é"


_leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.builds(_Opaque)
    | st.decimals(allow_nan=False)
)
_documents = st.recursive(
    _leaves,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=5) | st.integers(), inner, max_size=3)
    ),
    max_leaves=12,
)


@given(
    value=_documents,
    ensure_ascii=st.booleans(),
    separators=st.sampled_from([(",", ":"), (", ", ": ")]),
)
def test_the_encoder_writes_what_json_encoder_writes(
    value: object, ensure_ascii: bool, separators: tuple[str, str]
) -> None:
    # Built once, it writes what a JSONEncoder with the same settings writes for each value.
    reference = json.JSONEncoder(default=str, ensure_ascii=ensure_ascii, separators=separators)
    assert encoder(str, ensure_ascii=ensure_ascii, separators=separators)(value) == reference.encode(value)


def test_the_encoder_without_a_default_refuses_what_json_refuses() -> None:
    with pytest.raises(TypeError) as ours:
        encoder()({"a": _Opaque()})
    with pytest.raises(TypeError) as theirs:
        json.JSONEncoder(separators=(",", ":")).encode({"a": _Opaque()})
    assert str(ours.value) == str(theirs.value)
    assert encoder()({"a": [1, None, "é"]}) == '{"a":[1,null,"é"]}'


def _json_loads(raw: bytes | str) -> object:
    """What loads must answer: json.loads with jsonio's options, a new decoder per call."""
    from chalicelib.jsonio import _refuse_constant, _unique_object

    return json.loads(
        raw, parse_float=Decimal, parse_constant=_refuse_constant, object_pairs_hook=_unique_object
    )


def _outcome(parse: Callable[[bytes | str], object], raw: bytes | str) -> tuple[str, str]:
    try:
        return ("value", repr(parse(raw)))
    except Exception as exc:  # the failure itself is compared
        return (type(exc).__name__, str(exc))


_numbers = st.sampled_from(["1", "-0", "1.50", "-0.0", "1e5", "2E-3", "19.99", "NaN", "Infinity", "01", "1."])
_scalars = _numbers | st.sampled_from(["true", "false", "null", '"x"', '"\\u00e9"', '"\\ud800"'])
_documents = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4).map(lambda items: "[" + ",".join(items) + "]")
        | st.lists(st.tuples(st.sampled_from(['"a"', '"b"', '"é"', '"password"']), inner), max_size=4).map(
            lambda pairs: "{" + ",".join(f"{key}:{value}" for key, value in pairs) + "}"
        )
    ),
    max_leaves=12,
)


@given(document=_documents | st.text(max_size=30), blank=st.sampled_from(["", " ", "\n"]))
def test_loads_answers_what_json_loads_does_for_any_text(document: str, blank: str) -> None:
    raw = blank + document
    assert _outcome(loads, raw) == _outcome(_json_loads, raw)


@given(
    document=_documents,
    prefix=st.sampled_from(["", "\ufeff"]),
    form=st.sampled_from(["text", "utf-8", "utf-16", "utf-32", "utf-8-sig"]),
)
def test_loads_answers_what_json_loads_does_for_bytes_and_a_byte_order_mark(
    document: str, prefix: str, form: str
) -> None:
    text = prefix + document
    raw: bytes | str = text if form == "text" else text.encode(form, "surrogatepass")
    assert _outcome(loads, raw) == _outcome(_json_loads, raw)
