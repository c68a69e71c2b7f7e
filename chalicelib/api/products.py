"""/products and /products/{product_id}: anyone reads, a signed-in user creates,
the owner or an admin changes or deletes.

Checks run in this order: the path id, body and If-Match header (400), then, inside the one
conditional write, existence (404), ownership (403) and If-Match (412).
"""

from __future__ import annotations

import re

from chalice.app import Response

from chalicelib.api.auth import caller, jwt_auth
from chalicelib.api.caching import LIST_PAGE, REVALIDATE
from chalicelib.api.deps import get_table
from chalicelib.api.http import (
    IDEMPOTENCY_KEY_HEADER,
    JSON_HEADERS,
    ApiBlueprint,
    created,
    idempotency_key,
    json_response,
    no_content,
    not_modified,
    parse_body,
    parse_query,
    path_id,
    replay_headers,
)
from chalicelib.api.list_cache import LIST_PAGES
from chalicelib.config import get_settings
from chalicelib.errors import ValidationFailedError
from chalicelib.models.common import Page
from chalicelib.models.products import ProductCreate, ProductListQuery, ProductPublic, ProductUpdate
from chalicelib.services import products as service

bp = ApiBlueprint(__name__, tag="products")

MAX_IF_MATCH_TAGS = 50
# A version is a DynamoDB Number (38 significant digits) that starts at 1 and grows by one
# per write: 18 digits will never run out, and a longer tag cannot name a version. Without
# this cap, 39 digits failed in the number serialiser (decimal.Inexact) and 4,301 in int().
MAX_VERSION_DIGITS = 18
# RFC 9110 8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E / obs-text
_ENTITY_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*')


def etag(version: int) -> str:
    """The strong entity tag of a product version: `"3"`."""
    return f'"{version}"'


def parse_if_match(header: str | None) -> frozenset[int] | None:
    """The versions an If-Match header accepts; None when any existing version will do.

    `*` (or no header) matches any current product. Otherwise If-Match uses the strong
    comparison (RFC 9110 13.1.1): a weak tag W/"3" matches nothing, nor does a tag that is
    not one of our versions; a list matches if any member does. A malformed header is a 400.
    """
    if header is None or header.strip() == "*":
        return None
    versions: set[int] = set()
    members = [m for m in _split_list(header) if m.strip()]  # RFC 9110 5.6.1: empty members are allowed
    if not members or len(members) > MAX_IF_MATCH_TAGS:
        raise _bad_if_match()
    for member in members:
        match = _ENTITY_TAG.fullmatch(member)
        if match is None:
            raise _bad_if_match()
        weak, opaque = match.groups()
        if not weak and _is_version(opaque):
            versions.add(int(opaque))
    return frozenset(versions)


def _is_version(opaque: str) -> bool:
    """True for the canonical decimal text of a version we could have issued ("3", not "03")."""
    if not (0 < len(opaque) <= MAX_VERSION_DIGITS and opaque.isascii() and opaque.isdigit()):
        return False
    return opaque == str(int(opaque))


def _split_list(header: str) -> list[str]:
    # Commas may sit inside a quoted opaque-tag ("a,b" is one tag), so split outside quotes only.
    members: list[str] = []
    current: list[str] = []
    quoted = False
    for char in header:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            members.append("".join(current))
            current = []
        else:
            current.append(char)
    members.append("".join(current))
    return members


ANY_TAG = "*"


def parse_if_none_match(header: str | None) -> frozenset[str] | None:
    """The opaque tags an If-None-Match header names ({"*"} for `*`); None to ignore it.

    RFC 9110 13.1.2 compares If-None-Match weakly: W/"3" and "3" both name version 3, so
    the W/ prefix is dropped and the opaque text kept as text (never converted to a number).
    A malformed header is ignored (None) rather than refused: this precondition only saves
    bytes on a read, so serving the full 200 is always a correct answer to it.
    """
    if header is None:
        return None
    if header.strip() == ANY_TAG:
        return frozenset({ANY_TAG})
    members = [m for m in _split_list(header) if m.strip()]  # RFC 9110 5.6.1: empty members are allowed
    tags: set[str] = set()
    for member in members:
        match = _ENTITY_TAG.fullmatch(member)
        if match is None:
            return None
        tags.add(match.group(2))
    return frozenset(tags) or None


def none_match_fails(tags: frozenset[str] | None, current: str) -> bool:
    """True when If-None-Match names the current entity tag (or `*`): answer 304."""
    if tags is None:
        return False
    return ANY_TAG in tags or current.removeprefix("W/").strip('"') in tags


def _bad_if_match() -> ValidationFailedError:
    detail = {"loc": ["header", "If-Match"], "msg": 'must be * or a list of entity tags such as "3"'}
    return ValidationFailedError([detail])


def _with_etag(product: ProductPublic, status: int = 200) -> Response:
    return json_response(product, status, {"ETag": etag(product.version)})


@bp.operation(
    "GET",
    "/products",
    "Products, newest first",
    query=ProductListQuery,
    response=Page[ProductPublic],
    errors=(400,),
    cache=LIST_PAGE,
)
def list_products() -> Response:
    """A page of products, newest first; `?owner_id=` for one owner's (api/list_cache.py)."""
    query = parse_query(bp.current_request, ProductListQuery)
    table = get_table()
    key = (table.name, query.owner_id, query.limit, query.cursor)
    body = LIST_PAGES.get(key)
    if body is None:
        body = service.list_products(table, query).json()
        LIST_PAGES.put(key, body, get_settings().list_cache_seconds)
    return Response(body=body, status_code=200, headers=dict(JSON_HEADERS))


@bp.operation(
    "POST",
    "/products",
    "Create a product (caller owns it)",
    201,
    body=ProductCreate,
    response=ProductPublic,
    auth=jwt_auth,
    errors=(400, 409),
    headers=IDEMPOTENCY_KEY_HEADER,
)
def create_product() -> Response:
    """Create a product owned by the caller (at most once per Idempotency-Key)."""
    request = bp.current_request
    who = caller(request)
    body = parse_body(request, ProductCreate)
    made = service.create_product_once(get_table(), who, body, idempotency_key(request.headers))
    product = made.value
    headers = {"ETag": etag(product.version), **replay_headers(made.replayed)}
    return created(product, f"/products/{product.id}", headers)


@bp.operation(
    "GET",
    "/products/{product_id}",
    "One product (ETag; 304 Not Modified when If-None-Match names it)",
    response=ProductPublic,
    errors=(404,),
    headers={"If-None-Match": 'Answer 304 with no body if the ETag is still this one, e.g. "3"'},
    not_modified=True,
    cache=REVALIDATE,
)
def get_product(product_id: str) -> Response:
    """One product, with its version as ETag; 304 when If-None-Match names that ETag."""
    product = service.get_product(get_table(), path_id(product_id, "product_id"))
    tag = etag(product.values["version"])
    if none_match_fails(parse_if_none_match(bp.current_request.headers.get("if-none-match")), tag):
        return not_modified(tag)
    return json_response(product, 200, {"ETag": tag})


@bp.operation(
    "PATCH",
    "/products/{product_id}",
    "Update a product (owner or admin; If-Match)",
    body=ProductUpdate,
    response=ProductPublic,
    auth=jwt_auth,
    errors=(400, 403, 404, 412),
    headers={"If-Match": 'Apply only to this version, e.g. "3"'},
)
def update_product(product_id: str) -> Response:
    """Partial update by the owner or an admin; If-Match makes it conditional."""
    request = bp.current_request
    who, if_match = caller(request), parse_if_match(request.headers.get("if-match"))
    body = parse_body(request, ProductUpdate)
    product = service.update_product(get_table(), who, path_id(product_id, "product_id"), body, if_match)
    return _with_etag(product)


@bp.operation(
    "DELETE",
    "/products/{product_id}",
    "Delete a product (owner or admin)",
    204,
    auth=jwt_auth,
    errors=(403, 404, 412),
)
def delete_product(product_id: str) -> Response:
    """Delete by the owner or an admin (If-Match honoured as for PATCH)."""
    request = bp.current_request
    who, if_match = caller(request), parse_if_match(request.headers.get("if-match"))
    service.delete_product(get_table(), who, path_id(product_id, "product_id"), if_match)
    return no_content()
