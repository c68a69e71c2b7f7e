"""Bodies are strict JSON in UTF-8 (field defects round two, item 8): a repeated key or a body
in another encoding (UTF-16, a byte order mark) is a 400 validation_error, never "the last
key wins" or a silently sniffed encoding."""

from __future__ import annotations

import json

import pytest
from chalice.test import Client

from chalicelib.api.http import utf8_text
from chalicelib.errors import ValidationFailedError
from chalicelib.jsonio import DuplicateKeyError, loads

USER = '{"email": "dup@example.com", "name": "Dup", "password": "first-password-123"}'
JSON = {"Content-Type": "application/json"}


def _post(client: Client, raw: bytes) -> tuple[int, dict[str, object]]:
    response = client.http.request("POST", "/users", body=raw, headers=JSON)
    return response.status_code, json.loads(response.body)


def test_a_repeated_password_is_refused_not_last_one_wins(client: Client) -> None:
    raw = USER[:-1] + ', "password": "second-password-456"}'
    status, body = _post(client, raw.encode())
    assert (status, body["code"]) == (400, "validation_error")
    assert body["details"] == [{"loc": ["body", "password"], "msg": "Duplicate key"}]
    assert _post(client, USER.encode())[0] == 201  # nothing was registered by the refused one


def test_a_duplicate_key_in_a_nested_object_is_refused() -> None:
    with pytest.raises(DuplicateKeyError):
        loads('{"items": [{"product_id": "a", "product_id": "b", "quantity": 1}]}')


@pytest.mark.parametrize(
    "raw",
    [
        b"\xef\xbb\xbf" + USER.encode(),  # UTF-8 with a BOM
        USER.encode("utf-16"),  # UTF-16 with its BOM
        USER.encode("utf-16-le"),  # UTF-16 without one (NUL bytes)
        USER.encode("utf-32"),
        USER.replace("Dup", "D\xe9p").encode("latin-1"),  # not UTF-8 at all
    ],
    ids=["utf8-bom", "utf16", "utf16le-no-bom", "utf32", "latin1"],
)
def test_a_body_not_in_plain_utf8_is_a_validation_error(client: Client, raw: bytes) -> None:
    status, body = _post(client, raw)
    assert (status, body["code"]) == (400, "validation_error")
    assert body["details"] == [{"loc": ["body"], "msg": "Body must be UTF-8 without a byte order mark"}]


def test_plain_utf8_with_non_ascii_text_is_accepted(client: Client) -> None:
    status, body = _post(client, USER.replace("Dup", "Düp Ωmega").encode())
    assert status == 201
    assert body["name"] == "Düp Ωmega"


def test_utf8_text_refuses_lone_surrogates_in_str() -> None:
    with pytest.raises(ValidationFailedError):
        utf8_text('{"name": "\ud800"}')
    assert utf8_text('{"a": "é"}') == '{"a": "é"}'
