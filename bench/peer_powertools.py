"""A peer: the three product routes on Powertools' `APIGatewayRestResolver`.

What a user who picks Powertools instead of Storefront writes for the same routes: the
resolver, Powertools' Logger with the Lambda context injected (one INFO line per request,
like Storefront's access line), and the floor's DynamoDB code (bench/floor.py), so the
table, the item layout, the calls and the response bodies are the floor's. Benchmark only.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths

from bench import floor

logger = Logger(service="peer-powertools", level="INFO")
resolver = APIGatewayRestResolver(serializer=floor.dumps)


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(status, content_types.APPLICATION_JSON, floor.dumps(body), headers)


@resolver.get("/products/<product_id>")
def get_product(product_id: str) -> Response[str]:
    """GET /products/{product_id}."""
    product = floor.read_product(product_id)
    if product is None:
        return _json(404, {"error": "Product not found", "code": "not_found"})
    return _json(200, product, {"ETag": f'"{product["version"]}"'})


@resolver.get("/products")
def list_products() -> Response[str]:
    """GET /products."""
    limit = int(resolver.current_event.get_query_string_value("limit", "20") or "20")
    return _json(200, floor.list_page(limit))


@resolver.post("/products")
def create_product() -> Response[str]:
    """POST /products."""
    event = resolver.current_event
    body = json.loads(event.body or "null", parse_float=Decimal)
    if not floor.valid_body(body):
        return _json(400, {"error": "name and price are required", "code": "validation_error"})
    product = floor.put_product(event.request_context.authorizer.principal_id, body)
    return _json(201, product, {"Location": f"/products/{product['id']}", "ETag": '"1"'})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point: resolve, then one access line."""
    response = resolver.resolve(event, context)
    logger.info("request", extra={"method": event["httpMethod"], "status": response["statusCode"]})
    return response
