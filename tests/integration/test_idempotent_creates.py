"""Idempotency-Key on every POST that creates something (field defects round two, item 1).

A write answered 503 may have been applied all the same (the engine committed; the answer was
lost). A client retrying with the same Idempotency-Key must get the first response, never a
second product or user; the same key with another body is a 409.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.api import deps
from chalicelib.errors import EmailTakenError
from chalicelib.jsonio import loads
from chalicelib.models.products import ProductCreate, ProductPublic
from chalicelib.models.users import UserCreate
from chalicelib.security.passwords import PasswordHasher
from chalicelib.services import idempotent
from chalicelib.services import products as product_service
from chalicelib.services import users as user_service
from chalicelib.store.table import Table
from manage import scan_all
from tests.faults import Fault, Faults
from tests.helpers import as_caller, bearer, json_body

LAMP = {"name": "Lamp", "price": 5.5, "stock": 2}
EVE = {"email": "eve@example.com", "password": "correct-horse-battery", "name": "Eve"}


def create(client: Client, body: dict[str, Any], key: str | None, user: str = "seller") -> Any:
    headers = {**bearer(user), **({"Idempotency-Key": key} if key else {})}
    return client.http.post("/products", headers=headers, body=json.dumps(body))


def register(client: Client, body: dict[str, Any], key: str | None) -> Any:
    headers = {"Content-Type": "application/json", **({"Idempotency-Key": key} if key else {})}
    return client.http.post("/users", headers=headers, body=json.dumps(body))


def of_type(table: Table, kind: str) -> list[dict[str, Any]]:
    """The stored items of one type, as plain values."""
    return [
        {name: next(iter(value.values())) for name, value in item.items()}
        for item in scan_all(table)
        if item.get("type") == {"S": kind}
    ]


def products_in(table: Table) -> list[dict[str, Any]]:
    return of_type(table, "product")


# --- POST /products ------------------------------------------------------------------------


def test_a_product_retried_with_its_key_is_created_once(client: Client, table: Table) -> None:
    first = create(client, LAMP, "lamp-1")
    again = create(client, {**LAMP, "stock": 2}, "lamp-1")  # the same body, re-sent
    assert (first.status_code, again.status_code) == (201, 201)
    assert json_body(again) == json_body(first)
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(products_in(table)) == 1


def test_the_same_key_with_another_body_is_409_and_creates_nothing(client: Client, table: Table) -> None:
    assert create(client, LAMP, "lamp-1").status_code == 201
    response = create(client, {**LAMP, "stock": 3}, "lamp-1")
    assert response.status_code == 409
    assert json_body(response)["code"] == "conflict"
    assert len(products_in(table)) == 1


def test_product_keys_are_per_user(client: Client, table: Table) -> None:
    mine, theirs = create(client, LAMP, "k", "ann"), create(client, LAMP, "k", "bob")
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert json_body(mine)["id"] != json_body(theirs)["id"]
    assert len(products_in(table)) == 2


def test_a_malformed_key_on_a_product_is_400(client: Client, table: Table) -> None:
    response = create(client, LAMP, "no spaces allowed")
    assert response.status_code == 400
    assert json_body(response)["details"][0]["loc"] == ["header", "Idempotency-Key"]
    assert products_in(table) == []


def test_a_write_applied_but_answered_503_is_not_duplicated_by_a_keyed_retry(
    client: Client, table: Table
) -> None:
    # Given the engine applies the create, but every answer is lost (the read times out)
    headers = bearer("seller")  # made before the faults are armed
    injected = Faults(deps.get_table().client)
    injected.by_operation["TransactWriteItems"] = Fault("lost-timeout")
    body = json.dumps(LAMP)
    with injected.armed():
        first = client.http.post("/products", headers={**headers, "Idempotency-Key": "k1"}, body=body)
    # Then the client is told 503 (outcome unknown)... though the product exists
    assert first.status_code == 503
    assert json_body(first)["code"] == "service_unavailable"
    assert len(products_in(table)) == 1
    # When it retries with the same key, as the contract says
    retry = client.http.post("/products", headers={**headers, "Idempotency-Key": "k1"}, body=body)
    # Then it gets the product that was made, and there is still exactly one
    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    (stored,) = products_in(table)
    assert json_body(retry)["id"] == stored["id"]


def test_concurrent_posts_with_one_key_make_one_product(client: Client, table: Table) -> None:
    headers = {**bearer("seller"), "Idempotency-Key": "burst"}
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(
            pool.map(
                lambda _: client.http.post("/products", headers=headers, body=json.dumps(LAMP)), range(8)
            )
        )
    assert [r.status_code for r in responses] == [201] * 8
    assert len({json_body(r)["id"] for r in responses}) == 1
    assert len(products_in(table)) == 1


def test_a_lost_race_for_the_key_replays_the_winner(table: Table) -> None:
    # Given a request with a key whose competitor (same key, same body) commits between the
    # loser's check of the key and its own write
    caller = as_caller("seller")
    data = ProductCreate.model_validate(loads(json.dumps(LAMP)))
    winner: list[ProductPublic] = []

    def competing_then_mine(seal: idempotent.Seal | None) -> ProductPublic:
        winner.append(product_service.create_product_once(table, caller, data, "race").value)
        return product_service.create_product(table, caller, data, seal=seal)

    request = idempotent.keyed(caller.user_id, "race", data)
    # When the loser's transaction is refused (the key's record exists)
    made = idempotent.create_once(table, request, ProductPublic, competing_then_mine)
    # Then it answers the winner's product, and only that one was made
    assert made.replayed
    assert made.value == winner[0]
    assert len(products_in(table)) == 1


def test_a_refusal_that_is_not_the_key_is_raised_as_it_is(table: Table) -> None:
    data = UserCreate.model_validate(EVE)
    hasher = PasswordHasher()
    user_service.register_user(table, data, hasher)
    with pytest.raises(EmailTakenError):  # another key (or none) for a taken e-mail
        user_service.register_user_once(table, data, hasher, "fresh-key")


# --- POST /users -----------------------------------------------------------------------------


def test_a_registration_retried_with_its_key_is_replayed(client: Client, table: Table) -> None:
    first = register(client, EVE, "signup-1")
    again = register(client, EVE, "signup-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert json_body(again) == json_body(first)
    assert again.headers["Idempotent-Replayed"] == "true"
    # Without the key the same body is the e-mail conflict it always was
    assert register(client, EVE, None).status_code == 409


def test_a_registration_key_reused_with_another_name_is_409(client: Client, table: Table) -> None:
    assert register(client, EVE, "signup-1").status_code == 201
    response = register(client, {**EVE, "email": "other@example.com"}, "signup-1")
    assert response.status_code == 409
    assert "Idempotency-Key" in json_body(response)["error"]


def test_the_password_is_not_kept_in_the_keys_fingerprint(client: Client, table: Table) -> None:
    assert register(client, EVE, "signup-1").status_code == 201
    (record,) = of_type(table, "idempotency")
    plain = idempotent.fingerprint(UserCreate.model_validate(EVE))
    assert record["fingerprint"] != plain  # a fast digest of the password would be guessable
    assert EVE["password"] not in json.dumps(record, default=str)


def test_concurrent_registrations_with_one_key_make_one_user(client: Client, table: Table) -> None:
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda _: register(client, EVE, "signup-burst"), range(6)))
    assert [r.status_code for r in responses] == [201] * 6
    assert len({json_body(r)["id"] for r in responses}) == 1
    assert len(of_type(table, "user")) == 1


def test_fingerprints_ignore_spacing_and_order_but_not_values() -> None:
    def of(raw: str) -> str:
        return idempotent.fingerprint(ProductCreate.model_validate(loads(raw)))

    assert of('{"name":"Lamp","price":5.5,"stock":2}') == of('{ "stock": 2,  "name": "Lamp", "price": 5.5 }')
    assert of('{"name":"Lamp","price":5.5,"stock":2}') != of('{"name":"Lamp","price":5.5,"stock":3}')
