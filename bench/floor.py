"""The floor: a plain boto3 Lambda handler for the three product routes `make bench` times.

What a careful engineer writes without a framework: one module, the client made at import
(Lambda's init phase), a dict of routes, `json` in and out, the low-level client with
boto3's (de)serialiser, and the same item layout and response shapes as Storefront, so
both read and write the same table. It checks only what it must not get wrong (a JSON
object body with a name and a price); no signed cursors, no access log, no metrics, no
traces. Only the peers (bench/peer_*.py) import it, for the same DynamoDB work (and
tests/integration/test_bench_same_write.py, which holds its BENCH_SAME_WRITE transaction to
Storefront's).
"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

CLIENT = boto3.client(
    "dynamodb",
    region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    endpoint_url=os.environ.get("DYNAMODB_ENDPOINT") or None,
)
TABLE = os.environ["TABLE_NAME"]
_SERIALIZE = TypeSerializer().serialize
_DESERIALIZE = TypeDeserializer().deserialize
_KEYS = ("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "type")
# BENCH_SAME_WRITE=1 (an experiment, bench/run.py): a POST writes what Storefront's writes.
SAME_WRITE = os.environ.get("BENCH_SAME_WRITE") == "1"


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(type(value).__name__)


def _response(status: int, body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "body": dumps(body),
    }


def _public(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: _DESERIALIZE(v) for k, v in raw.items() if k not in _KEYS}


def read_product(product_id: str) -> dict[str, Any] | None:
    """One product's public fields (one GetItem); None when there is none."""
    key = {"pk": {"S": f"PRODUCT#{product_id}"}, "sk": {"S": "PRODUCT"}}
    item = CLIENT.get_item(TableName=TABLE, Key=key, ConsistentRead=True).get("Item")
    return None if item is None else _public(item)


def list_page(limit: int) -> dict[str, Any]:
    """A page of products, newest first (one Query on gsi1), with an unsigned cursor."""
    result = CLIENT.query(
        TableName=TABLE,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "PRODUCTS"}},
        ScanIndexForward=False,
        Limit=limit + 1,
    )
    raw = result.get("Items", [])
    cursor = None
    if len(raw) > limit:
        raw = raw[:limit]
        last = {k: raw[-1][k]["S"] for k in ("pk", "sk", "gsi1pk", "gsi1sk")}
        cursor = base64.urlsafe_b64encode(json.dumps(last).encode()).decode()
    return {"items": [_public(item) for item in raw], "next_cursor": cursor}


def valid_body(body: Any) -> bool:
    """The checks the floor and its peers make of a POST body: an object with a name and a price."""
    return isinstance(body, dict) and bool(body.get("name")) and isinstance(body.get("price"), int | Decimal)


def put_product(owner: str, body: dict[str, Any]) -> dict[str, Any]:
    """Store a new product (one conditional PutItem); its public fields."""
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    product_id = uuid.uuid4().hex
    product = {
        "id": product_id,
        "owner_id": owner,
        "name": body["name"],
        "description": body.get("description", ""),
        "price": body["price"],
        "currency": body.get("currency", "USD"),
        "stock": body.get("stock", 0),
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    sort = f"{now}#{product_id}"
    item = {
        "pk": f"PRODUCT#{product_id}",
        "sk": "PRODUCT",
        "gsi1pk": "PRODUCTS",
        "gsi1sk": sort,
        "gsi2pk": f"OWNER#{owner}",
        "gsi2sk": sort,
        "type": "product",
        **product,
    }
    wire = {k: _SERIALIZE(v) for k, v in item.items()}
    if SAME_WRITE:
        _put_as_storefront_does(owner, product, wire, now)
    else:
        CLIENT.put_item(TableName=TABLE, Item=wire, ConditionExpression="attribute_not_exists(pk)")
    return product


def _put_as_storefront_does(owner: str, product: dict[str, Any], wire: dict[str, Any], now: str) -> None:
    """The experiment BENCH_SAME_WRITE=1: the write Storefront's POST makes, one
    TransactWriteItems of the product (conditional), a check that its owner's user item
    exists, and the product's `product.created` event in its outbox item (same keys, same
    envelope fields), written here by hand. Not what the floor is: its own write is the
    PutItem above."""
    subject = f"products/{product['id']}"
    envelope = {
        "specversion": "1.0",
        "id": uuid.uuid4().hex,
        "source": "/storefront",
        "type": "product.created",
        "time": now,
        "subject": subject,
        "datacontenttype": "application/json",
        "data": product,
    }
    outbox = {
        "pk": f"OUTBOX#{subject}",
        "sk": "EVENT",
        "type": "event",
        "id": envelope["id"],
        "event_type": "product.created",
        "subject": subject,
        "envelope": dumps(envelope),
        "expires_at": int(time.time()) + 7 * 24 * 3600,
    }
    owner_key = {"pk": {"S": f"USER#{owner}"}, "sk": {"S": "PROFILE"}}
    exists = "attribute_exists(pk)"
    CLIENT.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": wire, "ConditionExpression": "attribute_not_exists(pk)"}},
            {"ConditionCheck": {"TableName": TABLE, "Key": owner_key, "ConditionExpression": exists}},
            {"Put": {"TableName": TABLE, "Item": {k: _SERIALIZE(v) for k, v in outbox.items()}}},
        ]
    )


def dumps(body: Any) -> str:
    """Compact JSON; DynamoDB's Decimals as numbers."""
    return json.dumps(body, default=_default, separators=(",", ":"))


def get_product(event: dict[str, Any]) -> dict[str, Any]:
    """GET /products/{product_id}: one GetItem."""
    product = read_product(event["pathParameters"]["product_id"])
    if product is None:
        return _response(404, {"error": "Product not found", "code": "not_found"})
    return _response(200, product, {"ETag": f'"{product["version"]}"'})


def list_products(event: dict[str, Any]) -> dict[str, Any]:
    """GET /products: one Query on gsi1, newest first, an unsigned cursor."""
    limit = int((event.get("queryStringParameters") or {}).get("limit", "20"))
    return _response(200, list_page(limit))


def create_product(event: dict[str, Any]) -> dict[str, Any]:
    """POST /products: one conditional PutItem."""
    owner = event["requestContext"]["authorizer"]["principalId"]
    body = json.loads(event["body"] or "null", parse_float=Decimal)
    if not valid_body(body):
        return _response(400, {"error": "name and price are required", "code": "validation_error"})
    product = put_product(owner, body)
    headers = {"Location": f"/products/{product['id']}", "ETag": '"1"'}
    return _response(201, product, headers)


ROUTES = {
    ("GET", "/products/{product_id}"): get_product,
    ("GET", "/products"): list_products,
    ("POST", "/products"): create_product,
}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point (API Gateway proxy integration)."""
    route = ROUTES.get((event["httpMethod"], event["resource"]))
    if route is None:
        return _response(404, {"error": "Resource not found", "code": "not_found"})
    return route(event)
