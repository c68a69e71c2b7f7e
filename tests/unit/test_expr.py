"""The expression builder: placeholders are generated, never concatenated by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chalicelib.store.expr import Update, eq, exists, is_in, is_type, lt, not_exists, render, size_lt
from chalicelib.store.repository import Guard


def test_a_condition_and_an_update_share_one_set_of_placeholders() -> None:
    params = render(
        update=Update().set("name", "Mug").increment("version"),
        condition=exists() & eq("owner_id", "u1"),
    )
    assert params["UpdateExpression"] == "SET #n0 = :v0, #n1 = #n1 + :v1"
    assert params["ConditionExpression"] == "(attribute_exists(#n2) AND #n3 = :v2)"
    assert params["ExpressionAttributeNames"] == {
        "#n0": "name",
        "#n1": "version",
        "#n2": "pk",
        "#n3": "owner_id",
    }
    assert params["ExpressionAttributeValues"] == {":v0": {"S": "Mug"}, ":v1": {"N": "1"}, ":v2": {"S": "u1"}}


def test_add_and_if_not_exists_render_their_own_clauses() -> None:
    params = render(update=Update().set_if_absent("window_start", 5).add("attempts", 1))
    assert params["UpdateExpression"] == "SET #n0 = if_not_exists(#n0, :v0) ADD #n1 :v1"


def test_or_and_comparisons() -> None:
    params = render(condition=not_exists() | lt("expires_at", Decimal(7)))
    assert params["ConditionExpression"] == "(attribute_not_exists(#n0) OR #n1 < :v0)"


def test_values_that_look_like_expression_syntax_stay_values() -> None:
    params = render(condition=eq("name", "x = :v0 OR attribute_exists(pk)"))
    assert params["ConditionExpression"] == "#n0 = :v0"
    assert params["ExpressionAttributeValues"][":v0"] == {"S": "x = :v0 OR attribute_exists(pk)"}


def test_in_needs_a_value() -> None:
    with pytest.raises(ValueError, match="at least one"):
        is_in("version", [])


def test_a_guard_with_no_usable_version_matches_no_item() -> None:
    params = render(condition=Guard(owner="u1", versions=frozenset()).condition())
    assert params["ConditionExpression"].endswith("#n2 IN (:v1))")
    assert params["ExpressionAttributeValues"][":v1"] == {"N": "0"}


def test_type_and_size_render_as_dynamodb_functions_with_placeholders() -> None:
    params = render(condition=not_exists("spent") | (is_type("spent", "L") & size_lt("spent", 1000)))
    assert params["ConditionExpression"] == (
        "(attribute_not_exists(#n0) OR (attribute_type(#n0, :v0) AND size(#n0) < :v1))"
    )
    assert params["ExpressionAttributeNames"] == {"#n0": "spent"}
    assert params["ExpressionAttributeValues"] == {":v0": {"S": "L"}, ":v1": {"N": "1000"}}
