"""Product request models: exact prices, ISO 4217 currencies, strict integers, and the
JSON schema OpenAPI will publish for them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from chalicelib.jsonio import loads
from chalicelib.models.currencies import CURRENCY_CODES, ISO_4217_CODES, is_currency
from chalicelib.models.products import ProductCreate, ProductItem, ProductUpdate


def create(**fields: Any) -> ProductCreate:
    return ProductCreate.model_validate({"name": "Mug", **fields})


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("19.99", "19.99"), ("19.90", "19.9"), ("1.999e1", "19.99"), ("1E+1", "10"), ("-0.00", "0"), ("0", "0")],
)
def test_price_is_kept_exact_in_one_canonical_spelling(raw: str, stored: str) -> None:
    price = create(price=loads(raw)).price
    assert isinstance(price, Decimal)
    assert str(price) == stored


@pytest.mark.parametrize(
    "price", [19.99, "19.99", True, None, Decimal("NaN"), Decimal("0.001"), Decimal("-1")]
)
def test_float_string_bool_and_out_of_range_prices_are_refused(price: object) -> None:
    with pytest.raises(ValidationError) as caught:
        create(price=price)
    assert caught.value.errors()[0]["loc"] == ("price",)


@pytest.mark.parametrize("code", ["USD", "EUR", "JPY", "XCG", "ZWG", "SLE"])
def test_active_circulating_codes_are_currencies(code: str) -> None:
    assert is_currency(code)
    assert create(price=1, currency=code).currency == code


@pytest.mark.parametrize("code", ["usd", "Usd", "ABC", "ANG", "ZWL", "HRK", "BGN", "XXX", "XTS", "XAU", "US"])
def test_lower_case_withdrawn_and_non_currency_codes_are_refused(code: str) -> None:
    with pytest.raises(ValidationError):
        create(price=1, currency=code)


def test_currency_list_is_sorted_unique_upper_case_three_letters() -> None:
    assert list(ISO_4217_CODES) == sorted(CURRENCY_CODES)
    assert all(len(c) == 3 and c.isalpha() and c.isupper() for c in ISO_4217_CODES)


def test_update_reports_only_sent_fields_as_changes() -> None:
    update = ProductUpdate.model_validate(loads('{"price": 2.50, "name": " Cup "}'))
    assert update.changes() == {"name": "Cup", "price": Decimal("2.5")}


def test_price_json_schema_is_a_bounded_number_in_cents() -> None:
    schema = ProductCreate.model_json_schema()["properties"]
    assert {k: schema["price"][k] for k in ("type", "minimum", "maximum", "multipleOf")} == {
        "type": "number",
        "minimum": 0,
        "maximum": 10_000_000,
        "multipleOf": 0.01,
    }
    assert schema["currency"]["enum"] == list(ISO_4217_CODES)
    assert schema["currency"]["default"] == "USD"


def test_item_accepts_numbers_as_dynamodb_returns_them() -> None:
    item = ProductItem.model_validate(
        {
            "id": "p",
            "owner_id": "o",
            "name": "n",
            "description": "",
            "price": Decimal("1.5"),
            "currency": "USD",
            "stock": Decimal("3"),
            "version": Decimal("2"),
            "created_at": "2026-11-22T02:14:32.123Z",
            "updated_at": "2026-11-22T02:14:32.123Z",
        }
    )
    public = item.public().model_dump(mode="python")
    assert (public["stock"], public["version"], public["created_at"]) == (3, 2, "2026-11-22T02:14:32.123Z")
