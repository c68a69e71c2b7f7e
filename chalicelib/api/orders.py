"""Orders: POST /orders, GET /orders, GET /orders/{id}, POST /orders/{id}/cancel|ship|deliver,
GET /admin/orders."""

from __future__ import annotations

from chalice.app import Response

from chalicelib.api.auth import caller, jwt_auth
from chalicelib.api.deps import get_table
from chalicelib.api.http import (
    ApiBlueprint,
    created,
    idempotency_key,
    json_response,
    parse_body,
    parse_query,
    path_id,
)
from chalicelib.config import get_settings
from chalicelib.models.common import Page
from chalicelib.models.orders import (
    AdminOrderQuery,
    OrderCreate,
    OrderPublic,
    OrderStatusQuery,
    ShipmentCreate,
)
from chalicelib.services import accounts, orders

bp = ApiBlueprint(__name__, tag="orders")


@bp.operation(
    "POST",
    "/orders",
    "Place an order (one transaction)",
    201,
    body=OrderCreate,
    response=OrderPublic,
    auth=jwt_auth,
    errors=(400, 403, 409),
    headers={"Idempotency-Key": "Retry safely: same key and body within 24 h returns the first order"},
)
def place_order() -> Response:
    """Place an order: all lines reserved in one transaction, or nothing changes."""
    request = bp.current_request
    who = caller(request)
    body = parse_body(request, OrderCreate)
    accounts.require_verified_email(get_table(), who, get_settings().require_verified_email)
    placed = orders.place_order(get_table(), who, body, idempotency_key(request.headers))
    headers = {"Idempotent-Replayed": "true"} if placed.replayed else {}
    return created(placed.order, f"/orders/{placed.order.id}", headers)


@bp.operation(
    "GET",
    "/orders",
    "The caller's orders, newest first (?status= filters)",
    query=OrderStatusQuery,
    response=Page[OrderPublic],
    auth=jwt_auth,
    errors=(400,),
)
def list_orders() -> Response:
    """The caller's orders, newest first; `?status=` keeps those in that status."""
    request = bp.current_request
    who = caller(request)
    return json_response(orders.list_orders(get_table(), who, parse_query(request, OrderStatusQuery)))


@bp.operation(
    "GET",
    "/admin/orders",
    "Every order in one status, oldest first (admin): the fulfilment queue",
    query=AdminOrderQuery,
    response=Page[OrderPublic],
    auth=jwt_auth,
    errors=(400, 403),
)
def list_orders_by_status() -> Response:
    """Every order in `?status=`, oldest first (admin)."""
    request = bp.current_request
    who = caller(request)
    query = parse_query(request, AdminOrderQuery)
    return json_response(orders.list_orders_by_status(get_table(), who, query))


@bp.operation(
    "GET",
    "/orders/{order_id}",
    "One order (owner or admin)",
    response=OrderPublic,
    auth=jwt_auth,
    errors=(403, 404),
)
def get_order(order_id: str) -> Response:
    """One order, to its owner or an admin."""
    return json_response(orders.get_order(get_table(), caller(bp.current_request), path_id(order_id)))


@bp.operation(
    "POST",
    "/orders/{order_id}/cancel",
    "Cancel an order (stock comes back; a paid one is marked refund_due)",
    response=OrderPublic,
    auth=jwt_auth,
    errors=(403, 404, 409),
)
def cancel_order(order_id: str) -> Response:
    """Cancel an order; its stock comes back in the same transaction."""
    return json_response(orders.cancel_order(get_table(), caller(bp.current_request), path_id(order_id)))


@bp.operation(
    "POST",
    "/orders/{order_id}/ship",
    "Ship a paid order (admin)",
    body=ShipmentCreate,
    response=OrderPublic,
    auth=jwt_auth,
    errors=(400, 403, 404, 409),
)
def ship_order(order_id: str) -> Response:
    """paid → shipped, with the carrier and tracking number."""
    request = bp.current_request
    who = caller(request)
    order = path_id(order_id)
    body = parse_body(request, ShipmentCreate)
    return json_response(orders.ship_order(get_table(), who, order, body))


@bp.operation(
    "POST",
    "/orders/{order_id}/deliver",
    "Mark a shipped order delivered (admin)",
    response=OrderPublic,
    auth=jwt_auth,
    errors=(403, 404, 409),
)
def deliver_order(order_id: str) -> Response:
    """shipped → delivered."""
    return json_response(orders.deliver_order(get_table(), caller(bp.current_request), path_id(order_id)))
