"""docs/events.md's catalogue and docs/events.schema.json are generated from the models and
kept current; the schemas accept every example and refuse a malformed event."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from chalicelib.models.events import CATALOGUE
from tools import event_docs


def test_the_generated_event_documentation_is_current() -> None:
    # Given the committed files, When they are generated again, Then nothing changes
    assert event_docs.stale() == [], "run: python -m tools.event_docs"


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    document = json.loads(event_docs.SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(document)
    return Draft202012Validator(document)


@pytest.mark.parametrize("event_type", list(CATALOGUE))
def test_each_types_example_is_valid_and_in_the_markdown(
    validator: Draft202012Validator, event_type: str
) -> None:
    example: dict[str, Any] = json.loads(event_docs.example(event_type).to_json())
    assert list(validator.iter_errors(example)) == []
    assert f"### `{event_type}`" in event_docs.MARKDOWN.read_text(encoding="utf-8")


def test_the_schema_refuses_an_event_whose_data_is_not_its_types(validator: Draft202012Validator) -> None:
    example: dict[str, Any] = json.loads(event_docs.example("product.created").to_json())
    assert not validator.is_valid({**example, "data": {"id": "only-an-id"}})
    assert not validator.is_valid({**example, "type": "product.exploded"})
    assert not validator.is_valid({**example, "specversion": "0.3"})
