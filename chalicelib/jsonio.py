"""JSON in and out without binary floats: numbers with a fraction parse as Decimal,
and a Decimal is written as its exact decimal text (chalice's own encoder would
turn it into a float)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from json.encoder import (  # type: ignore[attr-defined]  # c_make_encoder is untyped
    c_make_encoder,
    encode_basestring_ascii,
)
from json.encoder import encode_basestring as _quote  # what json.dumps(ensure_ascii=False) uses
from typing import Any


class DuplicateKeyError(ValueError):
    """An object names the same key twice (RFC 8259 leaves the meaning open; we refuse it)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key = key


def loads(raw: bytes | str) -> Any:
    """Parse JSON; non-integer numbers become Decimal. Raises ValueError when invalid, and
    DuplicateKeyError (a ValueError) when an object repeats a key: "the last one wins" would
    let a second `password` slip past whatever read the first.

    What `json.loads(raw, **_OPTIONS)` answers. A text without a byte order mark (every
    request body: api/http.utf8_text refuses one) goes to a decoder built once, which is
    all `json.loads` does with it after building a new decoder and scanner for the call;
    anything else (bytes, a BOM) takes `json.loads` itself."""
    if type(raw) is str and not raw.startswith("\ufeff"):
        return _DECODE(raw)
    return json.loads(raw, **_OPTIONS)


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DuplicateKeyError(key)
        result[key] = value
    return result


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_OPTIONS: dict[str, Any] = {
    "parse_float": Decimal,
    "parse_constant": _refuse_constant,
    "object_pairs_hook": _unique_object,
}
_DECODE = json.JSONDecoder(**_OPTIONS).decode


class JsonText:
    """A JSON document already written (a store's view of an item or a page): a response
    sends its text as it is."""

    __slots__ = ()

    def json(self) -> str:
        """The JSON text."""
        raise NotImplementedError


if c_make_encoder is None:  # pragma: no cover - CPython always has its _json module
    raise ImportError("the C JSON encoder (_json) is required")


def _not_serializable(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")  # json's words


def encoder(
    default: Callable[[Any], Any] = _not_serializable,
    *,
    ensure_ascii: bool = False,
    separators: tuple[str, str] = (",", ":"),
) -> Callable[[Any], str]:
    """What `json.JSONEncoder(default=default, separators=separators, ensure_ascii=...,
    check_circular=False).encode` writes, with the C encoder built once: `encode` builds a
    new one (and its closures) for every call. A circular value raises RecursionError;
    without `default`, a value JSON has no form for raises TypeError, as json's does.

    The C encoder's arguments, as JSONEncoder passes them (CPython 3.11-3.13): markers,
    default, the string writer, indent, the key and item separators, sort_keys, skipkeys,
    allow_nan."""
    strings = encode_basestring_ascii if ensure_ascii else _quote
    item_separator, key_separator = separators
    make = c_make_encoder(None, default, strings, None, key_separator, item_separator, False, False, True)

    def encode(value: Any) -> str:
        return "".join(make(value, 0))

    return encode


def decimal_text(value: Decimal) -> str:
    """The shortest exact plain-notation text of a finite Decimal: 19.90 → 19.9, 1E+1 → 10."""
    if not value.is_finite():
        raise ValueError("only finite numbers can be written as JSON")
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", "0"} else text


def dumps(value: Any) -> str:
    """Serialise dicts, lists, str, int, bool, None and Decimal to compact JSON."""
    parts: list[str] = []
    _write(value, parts.append)
    return "".join(parts)


# Exact built-in types take a direct path (every response body goes through here: a page
# of 20 products is ~250 values); anything else goes through the general rules below.
def _write(value: Any, out: Callable[[str], None]) -> None:
    kind = type(value)
    if kind is str:
        out(_quote(value))
    elif kind is dict:
        _write_pairs(value, out)
    elif kind is int:
        out(int.__repr__(value))
    elif value is None:
        out("null")
    elif kind is bool:
        out("true" if value else "false")
    elif kind is Decimal:
        out(decimal_text(value))
    elif kind is list:
        _write_items(value, out)
    else:
        _write_other(value, out)


def _write_pairs(value: Mapping[Any, Any], out: Callable[[str], None]) -> None:
    # A product is ten scalar values: they are written here, one call each, rather than
    # through _write (the same text: tests/unit/test_jsonio.py compares with json.dumps).
    separator = "{"
    for key, item in value.items():
        name = separator + _quote(key if type(key) is str else str(key)) + ":"
        kind = type(item)
        if kind is str:
            out(name + _quote(item))
        elif kind is int:
            out(name + int.__repr__(item))
        elif item is None:
            out(name + "null")
        elif kind is Decimal:
            out(name + decimal_text(item))
        else:
            out(name)
            _write(item, out)
        separator = ","
    out("}" if separator == "," else "{}")


def _write_items(value: list[Any] | tuple[Any, ...], out: Callable[[str], None]) -> None:
    out("[")
    for i, item in enumerate(value):
        if i:
            out(",")
        _write(item, out)
    out("]")


def _write_other(value: Any, out: Callable[[str], None]) -> None:
    if isinstance(value, Decimal):
        out(decimal_text(value))
    elif isinstance(value, Mapping):
        _write_pairs(value, out)
    elif isinstance(value, (list, tuple)):
        _write_items(value, out)
    elif isinstance(value, float):
        raise TypeError("binary floats are not written; use Decimal")
    else:
        out(json.dumps(value, ensure_ascii=False))
