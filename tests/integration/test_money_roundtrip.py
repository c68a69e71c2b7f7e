"""Property: any valid price goes request text → DynamoDB Number → response text exactly;
any invalid one is a 400 and writes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from chalice.test import Client
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.jsonio import loads
from chalicelib.store import keys
from chalicelib.store.table import Table
from tests.helpers import bearer, json_body

pytestmark = pytest.mark.slow


@pytest.fixture
def headers(table: Table) -> dict[str, str]:
    """A token of a live session of "owner-1" in this test's table."""
    return bearer("owner-1")


valid_prices = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def price_texts(draw: st.DrawFn) -> tuple[str, Decimal]:
    """A valid price and one of the JSON spellings of it a client may send."""
    price = draw(valid_prices)
    spelling = draw(st.sampled_from(["plain", "integer", "trailing_zero", "exponent"]))
    if spelling == "integer" and price == price.to_integral_value():
        return str(int(price)), price
    if spelling == "trailing_zero":
        return f"{price:.3f}", price
    if spelling == "exponent":
        return f"{price.scaleb(-2):.4f}e2", price
    return f"{price:.2f}", price


invalid_prices = st.one_of(
    st.decimals(min_value=Decimal("0.001"), max_value=10_000_000, places=3)
    .filter(lambda d: d != round(d, 2))
    .map(str),
    st.decimals(max_value=Decimal("-0.01"), places=2, allow_nan=False, allow_infinity=False).map(str),
    st.decimals(min_value=Decimal("10000000.01"), places=2, allow_nan=False, allow_infinity=False).map(str),
    st.decimals(min_value=0, max_value=100, places=2).map(lambda d: f'"{d}"'),
    st.sampled_from(["true", "false", "null", "[]", "{}", '""', "1e-400", "1e400"]),
)


@given(sample=price_texts())
def test_any_valid_price_round_trips_exactly(
    client: Client, table: Table, headers: dict[str, str], sample: tuple[str, Decimal]
) -> None:
    text, price = sample
    response = client.http.post(
        "/products", headers=headers, body=f'{{"name": "p", "price": {text}}}'.encode()
    )
    assert response.status_code == 201, response.body
    body = response.body.decode()
    stored = table.get(keys.product_key(loads(body)["id"]))
    assert stored is not None
    assert stored["price"] == price
    assert loads(body)["price"] == price
    assert "e" not in body.split('"price":', 1)[1].split(",", 1)[0].lower()  # plain notation out
    fetched = client.http.get(f"/products/{loads(body)['id']}").body.decode()
    assert loads(fetched)["price"] == price


@given(text=invalid_prices)
def test_any_invalid_price_is_400_and_nothing_is_written(
    client: Client, headers: dict[str, str], text: str
) -> None:
    response = client.http.post(
        "/products", headers=headers, body=f'{{"name": "p", "price": {text}}}'.encode()
    )
    assert response.status_code == 400, text
    assert json_body(response)["details"][0]["loc"] == ["body", "price"]
    assert json_body(client.http.get("/products"))["items"] == []


@pytest.mark.parametrize(
    ("text", "out"), [("19.99", "19.99"), ("0.1", "0.1"), ("10000000", "10000000"), ("0", "0")]
)
def test_known_prices_come_back_as_the_same_text(
    client: Client, headers: dict[str, str], text: str, out: str
) -> None:
    response = client.http.post(
        "/products", headers=headers, body=f'{{"name": "p", "price": {text}}}'.encode()
    )
    assert f'"price":{out},' in response.body.decode()


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_not_json(client: Client, headers: dict[str, str], text: str) -> None:
    response = client.http.post(
        "/products", headers=headers, body=f'{{"name": "p", "price": {text}}}'.encode()
    )
    assert response.status_code == 400
    assert json_body(response)["code"] == "invalid_json"
