"""Products through chalice's test client and the real local engine: CRUD, ownership,
versions, ETag and If-Match, validation."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.store import keys
from chalicelib.store.table import Table
from tests.helpers import bearer, json_body

Create = Callable[..., dict[str, Any]]
OWNER, OTHER, ADMIN = "owner-1", "other-2", "admin-3"


def send(
    client: Client, method: str, path: str, user: str | None, body: str | None = None, **headers: str
) -> Any:
    all_headers = {**(bearer(user, "admin" if user == ADMIN else "user") if user else {}), **headers}
    return client.http.request(method, path, headers=all_headers, body=body.encode() if body else b"")


@pytest.fixture
def create(client: Client) -> Create:
    """Factory: a product created by OWNER (overridable), returned as the response body."""

    def make(body: str = '{"name": "Mug", "price": 19.99}', user: str = OWNER) -> dict[str, Any]:
        response = send(client, "POST", "/products", user, body)
        assert response.status_code == 201, response.body
        return dict(json_body(response))

    return make


def test_create_returns_201_with_location_etag_and_defaults(client: Client) -> None:
    response = send(client, "POST", "/products", OWNER, '{"name": "  Mug ", "price": 19.99}')
    assert response.status_code == 201
    product = json_body(response)
    assert response.headers["Location"] == f"/products/{product['id']}"
    assert response.headers["ETag"] == '"1"'
    assert product["owner_id"] == OWNER
    assert product["name"] == "Mug"
    assert (product["description"], product["currency"], product["stock"], product["version"]) == (
        "",
        "USD",
        0,
        1,
    )
    assert product["created_at"] == product["updated_at"]
    assert product["created_at"].endswith("Z")
    assert b'"price":19.99' in response.body


def test_created_item_has_the_layout_orders_rely_on(client: Client, table: Table, create: Create) -> None:
    product = create('{"name": "Mug", "price": 5, "stock": 3, "currency": "EUR"}')
    item = table.get(keys.product_key(product["id"]))
    assert item is not None
    assert item["type"] == "product"
    assert item["gsi1pk"] == keys.PRODUCTS_COLLECTION
    assert item["gsi2pk"] == keys.owner_partition(OWNER)
    assert item["price"] == Decimal(5)
    assert (item["stock"], item["version"], item["currency"]) == (3, 1, "EUR")


def test_create_without_token_is_refused_before_the_route(client: Client) -> None:
    response = client.http.post("/products", body=b'{"name": "Mug", "price": 1}')
    assert response.status_code in {401, 403}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"price": 1}', "name"),
        ('{"name": "", "price": 1}', "name"),
        ('{"name": "   ", "price": 1}', "name"),
        ('{"name": "' + "x" * 201 + '", "price": 1}', "name"),
        ('{"name": "a", "description": "' + "d" * 2001 + '", "price": 1}', "description"),
        ('{"name": "a"}', "price"),
        ('{"name": "a", "price": "19.99"}', "price"),
        ('{"name": "a", "price": true}', "price"),
        ('{"name": "a", "price": 19.999}', "price"),
        ('{"name": "a", "price": -0.01}', "price"),
        ('{"name": "a", "price": 10000000.01}', "price"),
        ('{"name": "a", "price": 1, "currency": "usd"}', "currency"),
        ('{"name": "a", "price": 1, "currency": "ABC"}', "currency"),
        ('{"name": "a", "price": 1, "currency": "XXX"}', "currency"),
        ('{"name": "a", "price": 1, "stock": -1}', "stock"),
        ('{"name": "a", "price": 1, "stock": 1.5}', "stock"),
        ('{"name": "a", "price": 1, "stock": true}', "stock"),
        ('{"name": "a", "price": 1, "stock": 100000000000000000000000000000000000000000}', "stock"),
        ('{"name": "a", "price": 1, "owner_id": "x"}', "owner_id"),
    ],
)
def test_invalid_create_body_is_400_naming_the_field(client: Client, body: str, field: str) -> None:
    response = send(client, "POST", "/products", OWNER, body)
    assert response.status_code == 400
    error = json_body(response)
    assert error["code"] == "validation_error"
    assert ["body", field] in [d["loc"][:2] for d in error["details"]]


def test_unparseable_body_is_invalid_json(client: Client) -> None:
    response = send(client, "POST", "/products", OWNER, '{"name": "a", "price": 1.}')
    assert response.status_code == 400
    assert json_body(response)["code"] == "invalid_json"


def test_get_is_public_with_etag(client: Client, create: Create) -> None:
    product = create()
    response = client.http.get(f"/products/{product['id']}")
    assert response.status_code == 200
    assert response.headers["ETag"] == '"1"'
    assert json_body(response) == product


def test_unknown_product_is_404_with_envelope(client: Client) -> None:
    response = client.http.get("/products/01NOPE00000000000000000000")
    assert response.status_code == 404
    assert json_body(response)["code"] == "not_found"
    assert json_body(response)["error"] == "Product not found"


@pytest.mark.parametrize("product_id", ["x" * 65, "a%20b", "a.b"])
def test_malformed_product_id_in_path_is_400(client: Client, product_id: str) -> None:
    response = client.http.get(f"/products/{product_id}")
    assert response.status_code == 400
    assert json_body(response)["details"][0]["loc"] == ["path", "product_id"]


def test_owner_patch_changes_only_sent_fields_and_bumps_version(client: Client, create: Create) -> None:
    product = create('{"name": "Mug", "description": "blue", "price": 19.99, "stock": 4}')
    response = send(client, "PATCH", f"/products/{product['id']}", OWNER, '{"price": 21.5, "stock": 9}')
    assert response.status_code == 200
    updated = json_body(response)
    assert response.headers["ETag"] == '"2"'
    assert (updated["price"], updated["stock"], updated["version"]) == (21.5, 9, 2)
    assert (updated["name"], updated["description"], updated["created_at"]) == (
        "Mug",
        "blue",
        product["created_at"],
    )
    assert updated["updated_at"] >= product["updated_at"]
    assert json_body(client.http.get(f"/products/{product['id']}")) == updated


def test_admin_may_patch_and_delete_anyones_product(client: Client, create: Create) -> None:
    product = create()
    assert send(client, "PATCH", f"/products/{product['id']}", ADMIN, '{"stock": 1}').status_code == 200
    assert send(client, "DELETE", f"/products/{product['id']}", ADMIN).status_code == 204


def test_another_user_gets_403_and_nothing_changes(client: Client, create: Create) -> None:
    product = create()
    path = f"/products/{product['id']}"
    assert send(client, "PATCH", path, OTHER, '{"stock": 1}').status_code == 403
    response = send(client, "DELETE", path, OTHER)
    assert response.status_code == 403
    assert json_body(response)["code"] == "forbidden"
    assert json_body(client.http.get(path)) == product


def test_unknown_id_is_404_before_403_for_patch_and_delete(client: Client) -> None:
    path = "/products/01NOPE00000000000000000000"
    assert send(client, "PATCH", path, OTHER, '{"stock": 1}').status_code == 404
    assert send(client, "DELETE", path, OTHER).status_code == 404
    assert send(client, "PATCH", path, OTHER, '{"stock": 1}', **{"If-Match": '"1"'}).status_code == 404


def test_another_user_with_stale_if_match_gets_403_not_412(client: Client, create: Create) -> None:
    product = create()
    response = send(
        client, "PATCH", f"/products/{product['id']}", OTHER, '{"stock": 1}', **{"If-Match": '"9"'}
    )
    assert response.status_code == 403


def test_patch_without_token_is_refused(client: Client, create: Create) -> None:
    product = create()
    response = client.http.request("PATCH", f"/products/{product['id']}", body=b'{"stock": 1}')
    assert response.status_code in {401, 403}
    assert json_body(client.http.get(f"/products/{product['id']}"))["version"] == 1


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ("{}", ["body"]),
        ('{"name": null}', ["body", "name"]),
        ('{"price": 1.001}', ["body", "price"]),
        ('{"version": 7}', ["body", "version"]),
        ('{"owner_id": "me"}', ["body", "owner_id"]),
        ("[]", ["body"]),
    ],
)
def test_invalid_patch_is_400_and_changes_nothing(
    client: Client, create: Create, body: str, loc: list[str]
) -> None:
    product = create()
    response = send(client, "PATCH", f"/products/{product['id']}", OWNER, body)
    assert response.status_code == 400
    assert json_body(response)["code"] == "validation_error"
    assert loc in [d["loc"] for d in json_body(response)["details"]]
    assert json_body(client.http.get(f"/products/{product['id']}"))["version"] == 1


def test_patch_with_current_if_match_applies(client: Client, create: Create) -> None:
    product = create()
    response = send(
        client, "PATCH", f"/products/{product['id']}", OWNER, '{"stock": 2}', **{"If-Match": '"1"'}
    )
    assert response.status_code == 200
    assert response.headers["ETag"] == '"2"'


def test_stale_if_match_returns_412_and_changes_nothing(client: Client, create: Create) -> None:
    product = create()
    path = f"/products/{product['id']}"
    assert send(client, "PATCH", path, OWNER, '{"stock": 2}').status_code == 200
    response = send(client, "PATCH", path, OWNER, '{"stock": 3}', **{"If-Match": '"1"'})
    assert response.status_code == 412
    assert json_body(response)["code"] == "precondition_failed"
    current = json_body(client.http.get(path))
    assert (current["stock"], current["version"]) == (2, 2)


@pytest.mark.parametrize(
    ("if_match", "status"),
    [
        ("*", 200),
        ('"1"', 200),
        ('"7", "1"', 200),
        ('W/"1"', 412),
        ('W/"1", "8"', 412),
        ('"01"', 412),
        ('"abc"', 412),
        ("1", 400),
        ('"1", *', 400),
        ('"1', 400),
    ],
)
def test_if_match_follows_rfc_9110_strong_comparison(
    client: Client, create: Create, if_match: str, status: int
) -> None:
    product = create()
    response = send(
        client, "PATCH", f"/products/{product['id']}", OWNER, '{"stock": 5}', **{"If-Match": if_match}
    )
    assert response.status_code == status
    expected_version = 2 if status == 200 else 1
    assert json_body(client.http.get(f"/products/{product['id']}"))["version"] == expected_version


def test_delete_with_stale_if_match_is_412_and_keeps_the_product(client: Client, create: Create) -> None:
    product = create()
    path = f"/products/{product['id']}"
    assert send(client, "DELETE", path, OWNER, **{"If-Match": '"2"'}).status_code == 412
    assert client.http.get(path).status_code == 200


def test_delete_is_204_then_404_and_gone_from_every_listing(client: Client, create: Create) -> None:
    product = create()
    path = f"/products/{product['id']}"
    response = send(client, "DELETE", path, OWNER, **{"If-Match": '"1"'})
    assert response.status_code == 204
    assert response.body in (b"", "")
    assert client.http.get(path).status_code == 404
    assert send(client, "DELETE", path, OWNER).status_code == 404
    assert json_body(client.http.get("/products"))["items"] == []
    assert json_body(client.http.get(f"/products?owner_id={OWNER}"))["items"] == []


@pytest.mark.parametrize("digits", [19, 39, 4301, 5000])
@pytest.mark.parametrize(
    ("method", "user", "status"),
    [("PATCH", OWNER, 412), ("DELETE", OWNER, 412), ("PATCH", OTHER, 403), ("DELETE", OTHER, 403)],
)
def test_a_huge_if_match_version_is_a_4xx_never_a_500(
    client: Client, create: Create, digits: int, method: str, user: str, status: int
) -> None:
    # Field report: 39 digits → decimal.Inexact in the number serialiser; ≥ 4,301 → ValueError.
    product = create()
    path = f"/products/{product['id']}"
    header = '"' + "9" * digits + '"'
    response = send(
        client, method, path, user, '{"stock": 5}' if method == "PATCH" else None, **{"If-Match": header}
    )
    assert response.status_code == status
    assert json_body(response)["code"] == ("precondition_failed" if status == 412 else "forbidden")
    assert json_body(client.http.get(path))["version"] == 1
