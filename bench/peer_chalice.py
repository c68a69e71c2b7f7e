"""A peer: the three product routes as a minimal Chalice app.

What a user who picks plain Chalice writes: routes on `Chalice()`, no middleware, no
validation models, chalice's own logging (no per-request line), and the floor's DynamoDB
code (bench/floor.py), so the table, the item layout, the calls and the response bodies
are the floor's. Benchmark only.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from chalice.app import Chalice, Request, Response

from bench import floor

app = Chalice(app_name="peer-chalice")


def _request() -> Request:
    request = app.current_request
    assert request is not None  # chalice sets it before calling a view
    return request


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(floor.dumps(body), {"Content-Type": "application/json", **(headers or {})}, status)


@app.route("/products/{product_id}", methods=["GET"])
def get_product(product_id: str) -> Response:
    """GET /products/{product_id}."""
    product = floor.read_product(product_id)
    if product is None:
        return _json(404, {"error": "Product not found", "code": "not_found"})
    return _json(200, product, {"ETag": f'"{product["version"]}"'})


@app.route("/products", methods=["GET"])
def list_products() -> Response:
    """GET /products."""
    params: dict[str, str] = dict(_request().query_params or {})
    limit = int(params.get("limit", "20"))
    return _json(200, floor.list_page(limit))


@app.route("/products", methods=["POST"])
def create_product() -> Response:
    """POST /products."""
    request = _request()
    body = json.loads(request.raw_body or b"null", parse_float=Decimal)
    if not floor.valid_body(body):
        return _json(400, {"error": "name and price are required", "code": "validation_error"})
    product = floor.put_product(request.context["authorizer"]["principalId"], body)
    return _json(201, product, {"Location": f"/products/{product['id']}", "ETag": '"1"'})
