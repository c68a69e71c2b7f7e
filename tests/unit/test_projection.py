"""`StoredModel.project`: copying an item's values into its public model without
validating them again gives exactly the model (and body) that validating them gives."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, field_validator

from chalicelib.jsonio import dumps
from chalicelib.models.common import OutputModel, StoredModel, validated_by_a_shared_base
from chalicelib.models.orders import OrderItem, OrderPublic
from chalicelib.models.products import ProductBase, ProductItem, ProductPublic
from chalicelib.models.users import UserItem, UserPublic

_moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@given(
    name=st.text(min_size=1, max_size=40).filter(str.strip),
    price=st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False),
    stock=st.integers(min_value=0, max_value=10**6),
    created=_moments,
)
def test_a_product_projects_to_what_validation_gives(
    name: str, price: Decimal, stock: int, created: datetime
) -> None:
    raw = {
        "id": "01HPRODUCT", "owner_id": "u-1", "name": name, "description": "", "price": price,
        "currency": "USD", "stock": stock, "version": 3, "created_at": created, "updated_at": created,
        "password_hash": "stored-only", "type": "product",
    }  # fmt: skip
    try:
        item = ProductItem.model_validate(raw)
    except ValueError:
        return  # the item itself is refused: nothing to project
    projected = item.public()
    validated = ProductPublic.model_validate(
        {name_: getattr(item, name_) for name_ in ProductPublic.model_fields}
    )
    assert type(projected) is ProductPublic
    assert projected.model_dump(mode="python") == validated.model_dump(mode="python")
    assert dumps(projected.model_dump(mode="python")) == dumps(validated.model_dump(mode="python"))
    assert projected.model_dump_json() == validated.model_dump_json()


def test_every_resource_public_model_shares_its_items_definitions() -> None:
    assert validated_by_a_shared_base(ProductItem, ProductPublic)
    assert validated_by_a_shared_base(UserItem, UserPublic)
    assert validated_by_a_shared_base(OrderItem, OrderPublic)


class _Stricter(ProductBase):
    @field_validator("name")
    @classmethod
    def _shout(cls, value: str) -> str:
        return value.upper()


class _Wider(ProductBase):
    rating: int = 0


class _Unrelated(OutputModel):
    id: str


def test_a_public_model_with_its_own_validator_or_field_is_validated() -> None:
    assert not validated_by_a_shared_base(ProductItem, _Stricter)
    assert not validated_by_a_shared_base(ProductItem, _Wider)
    assert not validated_by_a_shared_base(ProductItem, _Unrelated)
    item = ProductItem.model_validate(
        {"id": "p", "owner_id": "u", "name": "mug", "description": "", "price": Decimal(1), "currency": "USD",
         "stock": 1, "version": 1, "created_at": datetime(2026, 1, 1, tzinfo=UTC),
         "updated_at": datetime(2026, 1, 1, tzinfo=UTC)}
    )  # fmt: skip
    assert item.project(_Stricter).name == "MUG"  # its validator ran


def test_an_item_and_a_model_outside_its_family_share_nothing() -> None:
    class Item(StoredModel):
        id: str

    assert not validated_by_a_shared_base(Item, _Unrelated)
    assert issubclass(Item, BaseModel)
