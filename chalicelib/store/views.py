"""Public views written as JSON straight from a stored item's attributes.

A list page used to take each item through two pydantic models and back: validate the
item (its timestamps parsed into datetimes), copy it into the public model, dump that to
a dict (the timestamps formatted again), then write the dict with jsonio. For a page of
20 products that was ~250 µs of the request's ~430 µs of its own work.

A stored item already holds what the public model would show, in the form the model
would write it: the store wrote it from that model. A `View` copies the public fields
straight from the attributes as DynamoDB sends them ({"S": ...}, {"N": ...}), after
checking each one is in exactly that form (a string where the model has `str`, an
integral number for `int`, a canonical `…123Z` timestamp that is a real instant, one of
the allowed names of a Literal, …), and writes the row
with the C JSON encoder. An attribute that is not in that form (written by hand, by an
older release, or missing) sends the item the model's way (the codec, the models,
jsonio), with its result or its error. Either way the text is what
`jsonio.dumps(item.public().model_dump())` writes: tests/unit/test_views.py holds every
store's view to that, for any item DynamoDB could send.

A View checks only the fields it shows: a stored-only field (a password hash) is not
read at all. Only plain projections have a view; a public model with a field type not
listed below is refused when its view is built (a view of an order would also need its
computed status, so orders keep the model path).
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from json.encoder import encode_basestring
from typing import Any, Generic, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, PlainSerializer, WithJsonSchema
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from chalicelib.clock import isoformat
from chalicelib.jsonio import JsonText, decimal_text, dumps, encoder
from chalicelib.models.common import StoredModel
from chalicelib.store.codec import from_attributes, number

P = TypeVar("P", bound=BaseModel)
Read = Callable[[Any], Any]

# What models/common.Timestamp writes (clock.isoformat) for years 1000-9999; earlier
# years are written without padding, so they take the model's way.
_CANONICAL_TIME = re.compile(r"[1-9]\d{3}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z").fullmatch


# The C encoder with jsonio's settings (compact, UTF-8 text, the same string escapes as
# jsonio's), built once; a row holds only what it can write.
_encode = encoder()


_SIMPLE_DEFAULTS = (type(None), bool, int, str)
_DIGITS = 38  # DynamoDB's precision: a longer number is the codec's to refuse


class NotCanonical(Exception):
    """An attribute is not in the form its model writes: the item takes the model's way."""


# Each reader takes one attribute as DynamoDB sends it ({"S": "..."}, {"N": "..."}, ...)
# and gives the value the C encoder writes, or raises NotCanonical.


def _of_kind(key: str, kind: type) -> Read:
    """The reader of an attribute of one DynamoDB type holding one Python type as it is."""

    def read(attribute: Any) -> Any:
        value = attribute.get(key)
        if type(value) is kind:
            return value
        raise NotCanonical

    return read


_string = _of_kind("S", str)
_boolean = _of_kind("BOOL", bool)


def _decimal(attribute: Any) -> Decimal:
    text = attribute.get("N")
    if type(text) is not str:
        raise NotCanonical
    try:
        return number(text)  # as the codec reads it (38 digits, exact or refused)
    except ArithmeticError:
        raise NotCanonical from None


def _integer(attribute: Any) -> Any:
    text = attribute.get("N")
    if type(text) is str and len(text) <= _DIGITS and text.isascii() and text.isdigit():
        return int(text)  # the common case: "3"
    value = _decimal(attribute)
    if value.is_finite() and value == value.to_integral_value():
        return int(value)
    raise NotCanonical


def _number(attribute: Any) -> Any:
    # An exact number, written by the C encoder as jsonio writes its Decimal (decimal_text:
    # plain notation, no trailing zero, 0 for -0): an int, or a float whose repr is that text.
    # Anything else is written by jsonio, the model's way.
    text = attribute.get("N")
    if type(text) is str and "." in text and "e" not in text and text[-2:] != ".0":
        # The common case, a stored price ("19.99"): when the float's repr is the text itself,
        # the text is plain, shortest and has no trailing zero (repr writes ".0" and "e" only
        # where this test refuses them), so it is decimal_text's, and no Decimal is made.
        try:
            number = float(text)
        except ValueError:  # "1.2.3": the codec's to refuse, below
            number = None
        if number is not None and repr(number) == text:
            return number
    value = _decimal(attribute)
    if value.is_finite():
        if value == value.to_integral_value():
            return int(value)  # 5.0, 1E+3 and -0 are written 5, 1000 and 0
        number = float(value)
        if repr(number) == decimal_text(value):  # 19.90 is written 19.9
            return number
    raise NotCanonical


def _timestamp(attribute: Any) -> Any:
    value = _string(attribute)
    if _CANONICAL_TIME(value):
        try:
            datetime.fromisoformat(value)  # a real date and time, e.g. not February 30th
        except ValueError:
            raise NotCanonical from None
        return value
    raise NotCanonical


def _text_list(attribute: Any) -> Any:
    members = attribute.get("L")
    if type(members) is list and all(type(member) is dict for member in members):
        return [_string(member) for member in members]
    raise NotCanonical


def _one_of(names: frozenset[str]) -> Read:
    def read(attribute: Any) -> Any:
        value = _string(attribute)
        if value in names:
            return value
        raise NotCanonical

    return read


def _or_none(read: Read) -> Read:
    def optional(attribute: Any) -> Any:
        return None if attribute.get("NULL") is True else read(attribute)

    return optional


def _is_timestamp(field: FieldInfo) -> bool:
    return any(isinstance(m, PlainSerializer) and m.func is isoformat for m in field.metadata)


def _plain(annotation: Any, field: FieldInfo) -> Read:
    """The reader of one non-optional field type; TypeError for a type a view cannot copy."""
    if annotation is datetime and _is_timestamp(field):
        return _timestamp
    if any(not isinstance(m, WithJsonSchema) for m in field.metadata):  # a constraint, a validator
        raise TypeError(f"a view copies plain fields only, not {annotation!r} with {field.metadata!r}")
    readers: dict[Any, Read] = {str: _string, int: _integer, bool: _boolean, Decimal: _number}
    if annotation in readers:
        return readers[annotation]
    if annotation == list[str]:
        return _text_list
    if get_origin(annotation) is Literal and all(type(a) is str for a in get_args(annotation)):
        return _one_of(frozenset(get_args(annotation)))
    raise TypeError(f"a view cannot copy a field of type {annotation!r}")


def _reader(field: FieldInfo) -> Read:
    annotation = field.annotation
    if get_origin(annotation) in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        if len(members) == 1 and len(get_args(annotation)) == 2:
            return _or_none(_plain(members[0], field))
        raise TypeError(f"a view cannot copy a field of type {annotation!r}")
    return _plain(annotation, field)


class View(Generic[P]):
    """The JSON of `public` for a stored item of `item`, copied from its attributes."""

    def __init__(self, public: type[P], item: type[StoredModel]) -> None:
        decorators = public.__pydantic_decorators__
        if public.model_computed_fields or decorators.field_serializers or decorators.model_serializers:
            raise TypeError(f"{public.__name__} is not a plain projection: it computes what it writes")
        self.public = public
        self.item = item
        self._fields: tuple[tuple[str, Read, Any], ...] = tuple(
            (name, _reader(field), field.default) for name, field in public.model_fields.items()
        )
        renamed = [n for n, f in public.model_fields.items() if f.serialization_alias or f.alias]
        if renamed:
            raise TypeError(f"{public.__name__}: a view writes fields under their own names, not {renamed}")
        for name, _, default in self._fields:
            if default is not PydanticUndefined and type(default) not in _SIMPLE_DEFAULTS:
                raise TypeError(f"{public.__name__}.{name}: a view copies None, bool, int or str defaults")

    def json(self, raw: Mapping[str, Any]) -> str:
        """The item's public view as JSON text (the model's way if an attribute is not canonical)."""
        try:
            return _encode(self.row(raw))
        except NotCanonical:
            return dumps(self._model_way(raw))

    def document(self, raw: Mapping[str, Any]) -> Document:
        """The item's public view as JSON text, with the values written (e.g. for an ETag)."""
        try:
            row = self.row(raw)
        except NotCanonical:
            values = self._model_way(raw)
            return Document(dumps(values), values)
        return Document(_encode(row), row)

    def _model_way(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        item = self.item.model_validate(from_attributes(raw))
        return item.project(self.public).model_dump(mode="python")

    def row(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """The public fields copied from the item's attributes as DynamoDB sends them, ready
        for the C encoder (numbers as exact ints or floats); NotCanonical if one is not in
        the form the model writes."""
        row: dict[str, Any] = {}
        for name, read, default in self._fields:
            attribute = raw.get(name)
            if attribute is None:  # absent: the field's default, or the model's way if it has none
                if default is PydanticUndefined:
                    raise NotCanonical
                row[name] = default
            elif type(attribute) is not dict:
                raise NotCanonical
            elif read is _string:  # most fields: read here, without a call
                value = attribute.get("S")
                if type(value) is not str:
                    raise NotCanonical
                row[name] = value
            else:
                row[name] = read(attribute)
        return row


class Document(JsonText):
    """One item's public view: its JSON text, and the values it shows (integers as int,
    timestamps as their text), for what a route derives from them (an ETag)."""

    __slots__ = ("text", "values")

    def __init__(self, text: str, values: Mapping[str, Any]) -> None:
        self.text = text
        self.values = values

    def json(self) -> str:
        """The JSON text."""
        return self.text


class JsonPage(JsonText):
    """A page whose items are JSON text already: written as Page's `{"items", "next_cursor"}`.
    (Plain classes, not dataclasses: a dataclass costs its module's import ~0.5 ms.)"""

    __slots__ = ("items", "next_cursor")

    def __init__(self, items: Sequence[str], next_cursor: str | None) -> None:
        self.items = items
        self.next_cursor = next_cursor

    def json(self) -> str:
        """The page's JSON text (what jsonio.dumps(Page(...).model_dump()) writes)."""
        cursor = "null" if self.next_cursor is None else encode_basestring(self.next_cursor)
        return '{"items":[' + ",".join(self.items) + '],"next_cursor":' + cursor + "}"
