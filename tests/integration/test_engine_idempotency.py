"""The engine honours TransactWriteItems' ClientRequestToken as DynamoDB does (10 minutes).

moto ignores the token, so a transaction retried by botocore after a lost answer was applied
twice there (a false conflict, or stock taken twice); the engine answers the retry itself.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.store.table import Table


def _add(table: Table, key: str, amount: int) -> Any:
    return {
        "Update": {
            "TableName": table.name,
            "Key": {"pk": {"S": key}, "sk": {"S": "X"}},
            "UpdateExpression": "ADD n :amount",
            "ExpressionAttributeValues": {":amount": {"N": str(amount)}},
        }
    }


def _count(table: Table, key: str) -> str:
    item = table.client.get_item(TableName=table.name, Key={"pk": {"S": key}, "sk": {"S": "X"}})["Item"]
    return str(item["n"]["N"])


def test_a_retried_transaction_with_the_same_token_is_applied_once(table: Table) -> None:
    # Given a transaction that succeeded with a client token
    first = table.client.transact_write_items(TransactItems=[_add(table, "A", 1)], ClientRequestToken="t-1")
    # When the same request is sent again with the same token
    again = table.client.transact_write_items(TransactItems=[_add(table, "A", 1)], ClientRequestToken="t-1")
    # Then it answers 200 like the first, and changed nothing
    assert again["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert _count(table, "A") == "1"


def test_the_same_token_with_another_body_is_a_parameter_mismatch(table: Table) -> None:
    table.client.transact_write_items(TransactItems=[_add(table, "A", 1)], ClientRequestToken="t-2")
    with pytest.raises(ClientError) as caught:
        table.client.transact_write_items(TransactItems=[_add(table, "A", 5)], ClientRequestToken="t-2")
    assert caught.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert _count(table, "A") == "1"


def test_a_new_token_applies_the_same_change_again(table: Table) -> None:
    table.client.transact_write_items(TransactItems=[_add(table, "A", 1)], ClientRequestToken="t-3")
    table.client.transact_write_items(TransactItems=[_add(table, "A", 1)], ClientRequestToken="t-4")
    assert _count(table, "A") == "2"


def test_a_failed_transaction_does_not_reserve_its_token(table: Table) -> None:
    # Given a transaction refused by its condition
    guarded = _add(table, "B", 1)
    guarded["Update"]["ConditionExpression"] = "attribute_exists(pk)"
    with pytest.raises(ClientError):
        table.client.transact_write_items(TransactItems=[guarded], ClientRequestToken="t-5")
    # When the item appears and the same request is retried with the same token
    table.client.put_item(TableName=table.name, Item={"pk": {"S": "B"}, "sk": {"S": "X"}, "n": {"N": "0"}})
    table.client.transact_write_items(TransactItems=[guarded], ClientRequestToken="t-5")
    # Then it is applied: only successes are remembered
    assert _count(table, "B") == "1"
