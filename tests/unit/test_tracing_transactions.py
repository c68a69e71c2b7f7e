"""DynamoDB transactions name their table in the trace, like single-item calls do."""

from __future__ import annotations

from typing import Any

from chalicelib.observability.tracing import transaction_tables, with_transaction_tables


class FakeSubsegment:
    def __init__(self) -> None:
        self.aws: dict[str, Any] = {}


def _sdk_processor(**meta: Any) -> None:
    """What the SDK's own processor does: set the whitelisted metadata."""
    meta["subsegment"].aws = {"operation": meta["args"][0]}


def _params(*tables: str) -> dict[str, Any]:
    return {
        "TransactItems": [{"Put": {"TableName": t, "Item": {}}} for t in tables] + [{"ConditionCheck": {}}]
    }


def test_transaction_tables_are_collected_once_each_in_order() -> None:
    assert transaction_tables(_params("b", "a", "b")) == ["a", "b"]
    assert transaction_tables({}) == []


def test_a_single_table_transaction_gets_table_name() -> None:
    subsegment = FakeSubsegment()
    process = with_transaction_tables(_sdk_processor)
    process(args=("TransactWriteItems", _params("store")), kwargs={}, subsegment=subsegment)
    assert subsegment.aws == {"operation": "TransactWriteItems", "table_name": "store"}


def test_a_multi_table_transaction_gets_table_names() -> None:
    subsegment = FakeSubsegment()
    with_transaction_tables(_sdk_processor)(
        args=("TransactGetItems", _params("a", "b")), kwargs={}, subsegment=subsegment
    )
    assert subsegment.aws["table_names"] == ["a", "b"]


def test_other_operations_are_left_as_the_sdk_made_them() -> None:
    subsegment = FakeSubsegment()
    with_transaction_tables(_sdk_processor)(
        args=("PutItem", {"TableName": "store"}), kwargs={}, subsegment=subsegment
    )
    assert subsegment.aws == {"operation": "PutItem"}
