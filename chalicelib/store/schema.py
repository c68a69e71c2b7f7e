"""The table's key schema: the one definition used by `manage.py create-table`
and by the deployment template (infra/), so the two cannot drift apart."""

from __future__ import annotations

from typing import Any

TTL_ATTRIBUTE = "expires_at"
# The stream the event publisher reads (outbox items carry the whole event: NEW_IMAGE).
STREAM_VIEW_TYPE = "NEW_IMAGE"

# GSI1: one "collection" per partition, newest first by sort key
#   products (all), users (all), orders of one user.
# GSI2: products of one owner, newest first.
# GSI3: orders by status, write-sharded (store/keys.py), by payment deadline.
GSI1 = "gsi1"
GSI2 = "gsi2"
GSI3 = "gsi3"

ATTRIBUTE_DEFINITIONS: list[dict[str, str]] = [
    {"AttributeName": name, "AttributeType": "S"}
    for name in ("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk")
]

KEY_SCHEMA: list[dict[str, str]] = [
    {"AttributeName": "pk", "KeyType": "HASH"},
    {"AttributeName": "sk", "KeyType": "RANGE"},
]

GLOBAL_SECONDARY_INDEXES: list[dict[str, Any]] = [
    {
        "IndexName": index,
        "KeySchema": [
            {"AttributeName": f"{index}pk", "KeyType": "HASH"},
            {"AttributeName": f"{index}sk", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }
    for index in (GSI1, GSI2, GSI3)
]


def create_table_params(table_name: str) -> dict[str, Any]:
    """Arguments for DynamoDB CreateTable (on-demand billing)."""
    return {
        "TableName": table_name,
        "AttributeDefinitions": ATTRIBUTE_DEFINITIONS,
        "KeySchema": KEY_SCHEMA,
        "GlobalSecondaryIndexes": GLOBAL_SECONDARY_INDEXES,
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": STREAM_VIEW_TYPE},
    }
