"""Every store's public view writes what its model path writes, for any stored item.

A view (store/views.py) copies a list page's public fields straight from the stored
attributes. The model path it replaces is `store.parse(raw).public()` written by
`jsonio.dumps`: for any item, canonical or not, both give the same text or the same error.
The items are generated field by field from the public model's own annotations: the
values the store writes, and others a view must send the model's way (other timestamp
spellings, unnormalised and huge numbers, wrong types, missing attributes).
"""

from __future__ import annotations

import os
import types
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal, Union, get_args, get_origin

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, computed_field

from chalicelib.clock import isoformat
from chalicelib.jsonio import decimal_text, dumps, loads
from chalicelib.models.common import OutputModel, Page, StoredModel, Timestamp
from chalicelib.models.orders import OrderPublic
from chalicelib.models.webhooks import DeliveryItem, DeliveryPublic
from chalicelib.store.codec import from_attributes, to_attributes
from chalicelib.store.products import ProductStore
from chalicelib.store.repository import Store
from chalicelib.store.users import UserStore
from chalicelib.store.views import JsonPage, NotCanonical, View
from chalicelib.store.webhooks import DeliveryStore, WebhookStore

EXAMPLES = int(os.environ.get("VIEW_EXAMPLES", "400"))  # pure and fast: more than the default 60
MOMENT = "2026-11-22T02:14:32.123Z"
# The attributes each item needs besides its public fields (stored-only fields, keys).
STORED_ONLY: dict[type[Store[Any]], dict[str, Any]] = {
    ProductStore: {},
    UserStore: {"password_hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"},
    WebhookStore: {
        "owner_id": "u1",
        "secret": "whsec_c2VjcmV0",
        "failed_events": Decimal(0),
        "updated_at": MOMENT,
    },
    DeliveryStore: {"webhook_id": "h1", "expires_at": Decimal(1_790_000_000)},
}
STORES = list(STORED_ONLY)

_moments = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC))
_timestamps = (
    _moments.map(isoformat)  # what the store writes (years before 1000 unpadded)
    | _moments.map(lambda m: m.isoformat())  # +00:00, microseconds or none
    | st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z\Z")
    | st.text(max_size=30)
)
_numbers = (
    st.decimals(allow_nan=True, allow_infinity=True)
    | st.decimals(min_value=0, max_value=10_000_000, places=2).map(lambda d: Decimal(str(d.normalize())))
    | st.integers(-(10**20), 10**20).map(Decimal)
    | st.sampled_from([Decimal("19.90"), Decimal("5.0"), Decimal("1E+3"), Decimal("-0"), Decimal("1E-5")])
)
_wrong_types = st.none() | st.booleans() | st.binary(max_size=3) | st.integers(-3, 3) | st.text(max_size=3)


def _values(annotation: Any, name: str) -> st.SearchStrategy[Any]:
    """Stored values for a field of this type: the canonical ones and others."""
    if get_origin(annotation) in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        return st.none() | _values(members[0], name)
    if annotation is datetime:
        return _timestamps | _wrong_types
    if get_origin(annotation) is Literal:
        return st.sampled_from(get_args(annotation)) | _wrong_types
    scalars: dict[Any, st.SearchStrategy[Any]] = {
        str: st.text(),
        int: _numbers,
        bool: st.booleans(),
        Decimal: _numbers,
    }
    if annotation == list[str]:
        return st.lists(st.text(max_size=5), max_size=3) | st.lists(_wrong_types, min_size=1, max_size=2)
    return scalars[annotation] | _wrong_types


_ABSENT = object()
# Attributes as DynamoDB could send them that no Python value above serialises to.
_ODD_WIRE = st.sampled_from(
    [
        {"N": "007"},
        {"N": "5.0"},
        {"N": "-0.0"},
        {"N": "1.5e-05"},
        {"N": "1.2.3"},
        {"N": "\uff11.5"},  # a non-ASCII digit before the point
        {"N": "1E+3"},
        {"N": "-0"},
        {"N": "1" * 39},
        {"N": "0" * 39 + "1"},
        {"N": "\uff11\uff12"},  # non-ASCII digits
        {"N": "abc"},
        {"NULL": True},
        {"SS": ["a"]},
        {"L": [{"N": "1"}]},
        {"L": [{"S": "a"}, {"S": "b"}]},
        {"M": {}},
        {"BOOL": True},
        {"B": b"x"},
    ]
)


def _attribute(value: Any) -> dict[str, Any] | None:
    """A Python value as DynamoDB sends it back (None: not storable, e.g. an empty set)."""
    try:
        attribute: dict[str, Any] = to_attributes({"v": value}).get("v", {"NULL": True})
    except (TypeError, ArithmeticError, ValueError):
        return None
    return attribute


@st.composite
def _wire_items(draw: st.DrawFn, store: type[Store[Any]]) -> dict[str, Any]:
    assert store.view is not None
    values = {"pk": "X#1", "sk": "X", "type": store.item_type, **STORED_ONLY[store]}
    wire: dict[str, Any] = to_attributes(values)
    for name, field in store.view.public.model_fields.items():
        choice = draw(st.integers(0, 9))
        if choice == 0:
            continue  # absent
        attribute = draw(_ODD_WIRE) if choice == 1 else _attribute(draw(_values(field.annotation, name)))
        if attribute is not None:
            wire[name] = attribute
    return wire


def _outcome(write: Callable[[], str]) -> tuple[str, str]:
    try:
        return ("ok", write())
    except Exception as exc:  # the same error, whatever it is
        return ("error", f"{type(exc).__name__}: {exc}")


def _model_path(store: type[Store[Any]], wire: dict[str, Any]) -> str:
    """What the routes wrote before views: the codec, the item model, its public model, jsonio."""
    item = store.model.model_validate(from_attributes(wire))
    return dumps(item.public().model_dump(mode="python"))


def _same_as_model_path(store: type[Store[Any]], raw: dict[str, Any]) -> tuple[str, str]:
    """The view's text (a list row's and a GET's) is the model path's, or its error; that outcome."""
    view = store.view
    assert view is not None
    expected = _outcome(lambda: _model_path(store, raw))
    assert _outcome(lambda: view.json(raw)) == expected
    assert _outcome(lambda: view.document(raw).json()) == expected  # a GET of one item
    return expected


@pytest.mark.parametrize("store", STORES, ids=lambda s: s.__name__)
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_a_views_text_is_the_model_paths_for_any_stored_item(
    store: type[Store[Any]], data: st.DataObject
) -> None:
    raw = data.draw(_wire_items(store))
    view = store.view
    assert view is not None
    expected = _same_as_model_path(store, raw)
    if expected[0] == "ok":
        shown = store.model.model_validate(from_attributes(raw)).public()
        integers = [name for name, field in view.public.model_fields.items() if field.annotation is int]
        values = view.document(raw).values
        assert [(type(values[n]), values[n]) for n in integers] == [
            (int, getattr(shown, n)) for n in integers
        ]


def _canonical(annotation: Any) -> st.SearchStrategy[Any]:
    """Valid values of a field of this type, as a service sets them."""
    if get_origin(annotation) in (Union, types.UnionType):
        return st.none() | _canonical(get_args(annotation)[0])
    if get_origin(annotation) is Literal:
        return st.sampled_from(get_args(annotation))
    scalars: dict[Any, st.SearchStrategy[Any]] = {
        datetime: _moments.filter(lambda m: m.year >= 1000),
        str: st.text(),
        int: st.integers(-(10**18), 10**18),
        bool: st.booleans(),
        # (a price is stored normalised: models/products.Price)
        Decimal: st.decimals(min_value=0, max_value=10_000_000, places=2).map(
            lambda d: Decimal(decimal_text(d))
        ),
    }
    return st.lists(st.text(max_size=5), max_size=3) if annotation == list[str] else scalars[annotation]


def _canonical_item(store: type[Store[Any]], data: st.DataObject) -> Any:
    """A valid item model, as the store's services build one."""
    raw: dict[str, Any] = {**STORED_ONLY[store]}
    for name, field in store.model.model_fields.items():
        if name not in raw:
            raw[name] = data.draw(_canonical(field.annotation))
    return store.model.model_validate(raw)


@pytest.mark.parametrize("store", STORES, ids=lambda s: s.__name__)
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_what_a_store_writes_takes_the_fast_way(store: type[Store[Any]], data: st.DataObject) -> None:
    # Given an item as the store writes it, read back through the table's codec
    item = _canonical_item(store, data)
    written = store(table=None).stored({"pk": "X#1", "sk": "X"}, item)  # type: ignore[arg-type]
    raw = to_attributes(written)
    # Then the view copies it (no model on the way) and writes the model's text
    assert store.view is not None
    store.view.row(raw)  # raises NotCanonical if this item would take the model's way
    assert store.view.json(raw) == dumps(item.public().model_dump(mode="python"))


@pytest.mark.parametrize("store", STORES, ids=lambda s: s.__name__)
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_a_stored_item_with_one_attribute_of_any_form_is_the_model_paths(
    store: type[Store[Any]], data: st.DataObject
) -> None:
    # Items with any attributes rarely have all but one canonical: here all others are, so
    # the one attribute decides between the view's text and the model's (e.g. a price 5.0).
    item = _canonical_item(store, data)
    raw = to_attributes(store(table=None).stored({"pk": "X#1", "sk": "X"}, item))  # type: ignore[arg-type]
    view = store.view
    assert view is not None
    name = data.draw(st.sampled_from(list(view.public.model_fields)))
    choice = data.draw(st.integers(0, 4))
    if choice == 0:
        raw.pop(name, None)
    else:
        annotation = view.public.model_fields[name].annotation
        attribute = data.draw(_ODD_WIRE) if choice == 1 else _attribute(data.draw(_values(annotation, name)))
        if attribute is not None:
            raw[name] = attribute
    _same_as_model_path(store, raw)


def test_an_attribute_not_in_the_models_form_takes_the_models_way() -> None:
    view = ProductStore.view
    assert view is not None
    product = {
        "id": "p1",
        "owner_id": "u1",
        "name": "Teapot",
        "description": "",
        "price": Decimal("19.9"),
        "currency": "USD",
        "stock": Decimal(3),
        "version": Decimal(1),
        "created_at": MOMENT,
        "updated_at": MOMENT,
    }
    wire = to_attributes(product)
    view.row(wire)
    for name, value in [
        ("price", Decimal("1E-5")),  # a float would write 1e-05: written 0.00001
        ("created_at", "2026-11-22T02:14:32Z"),  # no milliseconds: written .000Z
        ("created_at", "2026-11-22T03:14:32.123+01:00"),  # another zone: written in UTC
        ("created_at", "2026-02-30T02:14:32.123Z"),  # no such day: the model's error
        ("name", b"Teapot"),
    ]:
        with pytest.raises(NotCanonical):
            view.row({**wire, **to_attributes({name: value})})
    assert view.row({**wire, "price": {"N": "19.90"}})["price"] == 19.9  # unnormalised: written 19.9
    assert view.row({**wire, "price": {"N": "5.0"}})["price"] == 5  # written 5, as jsonio writes it
    assert type(view.row({**wire, "price": {"N": "5.0"}})["price"]) is int
    assert '"price":19.9,' in view.json({**wire, "price": {"N": "19.90"}})
    assert view.row({**wire, "price": {"N": "-0.0"}})["price"] == 0
    with pytest.raises(NotCanonical):  # a float would write 1.5e-05
        view.row({**wire, "price": {"N": "1.5e-05"}})
    assert '"price":0.000015,' in view.json({**wire, "price": {"N": "1.5e-05"}})
    for text in ("1.2.3", "1.5\x00"):  # not a number: the model path's error
        with pytest.raises(NotCanonical):
            view.row({**wire, "price": {"N": text}})
        _same_as_model_path(ProductStore, {**wire, "price": {"N": text}, "type": {"S": "product"}})
    later = loads(view.json({**wire, "created_at": {"S": "2026-11-22T03:14:32.123+01:00"}}))
    assert later["created_at"] == MOMENT
    assert loads(view.json({**wire, "stock": {"N": "007"}}))["stock"] == 7  # digits read directly
    too_long = {**wire, "stock": {"N": "1" * 39}}  # past DynamoDB's 38 digits: the codec refuses it
    refused = _outcome(lambda: view.json(too_long))
    assert refused[0] == "error"
    assert refused == _outcome(lambda: _model_path(ProductStore, too_long))


class _Line(OutputModel):
    sku: str


class _WithLines(OutputModel):
    lines: list[_Line]


class _WithFloat(OutputModel):
    ratio: float


class _Constrained(OutputModel):
    name: str = Field(max_length=3)


class _Renamed(OutputModel):
    name: str = Field(serialization_alias="title")


class _WithListDefault(OutputModel):
    tags: list[str] = Field(default=["a"])


class _Stamp(OutputModel):
    at: Timestamp | None = None


class _Computed(OutputModel):
    name: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def label(self) -> str:
        return self.name.upper()


@pytest.mark.parametrize(
    "public",
    [_WithLines, _WithFloat, _Constrained, _Renamed, _WithListDefault, _Stamp, _Computed, OrderPublic],
)
def test_a_view_is_refused_for_a_model_it_cannot_copy(public: type[BaseModel]) -> None:
    # (an order's view is also computed: an overdue order reads as expired)
    with pytest.raises(TypeError):
        View(public, StoredModel)


@given(
    rows=st.lists(st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2), max_size=3),
    cursor=st.none() | st.text(),
)
def test_a_json_page_is_the_page_models_text(rows: list[dict[str, str]], cursor: str | None) -> None:
    page = JsonPage([dumps(row) for row in rows], cursor)
    assert page.json() == dumps(
        Page[dict[str, str]](items=rows, next_cursor=cursor).model_dump(mode="python")
    )


def test_an_item_that_extends_its_public_model_projects_to_the_public_fields_only() -> None:
    # DeliveryItem extends DeliveryPublic: pydantic hands such an instance back as it is,
    # and public() showed the subscription id and the TTL (a view's model way goes there).
    fields = {"time": MOMENT, "event_id": "e1", "event_type": "product.created", "attempt": 1}
    item = DeliveryItem.model_validate({**fields, "latency_ms": 3, "webhook_id": "h1", "expires_at": 1})
    public = item.public()
    assert type(public) is DeliveryPublic
    assert set(public.model_dump()) == set(DeliveryPublic.model_fields)
    assert public.model_dump(mode="python") == {**fields, "status": None, "error": None, "latency_ms": 3}
