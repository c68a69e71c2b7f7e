"""Orders: POST /orders, GET /orders, GET /orders/{id}, POST /orders/{id}/cancel."""

from __future__ import annotations

import re
from collections.abc import Mapping

from chalice.app import Response

from chalicelib.api.auth import caller, jwt_auth
from chalicelib.api.deps import get_table
from chalicelib.api.http import ApiBlueprint, created, json_response, parse_body, parse_query, path_id
from chalicelib.config import get_settings
from chalicelib.errors import ValidationFailedError
from chalicelib.models.common import Page, PageQuery
from chalicelib.models.orders import OrderCreate, OrderPublic
from chalicelib.services import accounts, orders

bp = ApiBlueprint(__name__)

# Visible ASCII, as the IETF Idempotency-Key draft and most payment APIs allow.
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def _idempotency_key(headers: Mapping[str, str]) -> str | None:
    value = headers.get("idempotency-key")
    if value is None:
        return None
    if not _IDEMPOTENCY_KEY.match(value):
        raise ValidationFailedError(
            [{"loc": ["header", "Idempotency-Key"], "msg": "Must be 1 to 255 visible ASCII characters"}]
        )
    return str(value)


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
    placed = orders.place_order(get_table(), who, body, _idempotency_key(request.headers))
    headers = {"Idempotent-Replayed": "true"} if placed.replayed else {}
    return created(placed.order, f"/orders/{placed.order.id}", headers)


@bp.operation(
    "GET",
    "/orders",
    "The caller's orders, newest first",
    query=PageQuery,
    response=Page[OrderPublic],
    auth=jwt_auth,
    errors=(400,),
)
def list_orders() -> Response:
    """The caller's orders, newest first."""
    request = bp.current_request
    who = caller(request)
    return json_response(orders.list_orders(get_table(), who, parse_query(request, PageQuery)))


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
    "Cancel an order (stock comes back)",
    response=OrderPublic,
    auth=jwt_auth,
    errors=(403, 404),
)
def cancel_order(order_id: str) -> Response:
    """Cancel an order; its stock comes back in the same transaction."""
    return json_response(orders.cancel_order(get_table(), caller(bp.current_request), path_id(order_id)))
