"""One text rule for every resource. Names (users, products) and
descriptions refuse control, bidi-override/isolate and other dangerous format characters
with a 400; names are NFC-normalised and trimmed; descriptions keep line feeds and tabs."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.models.text import unsafe_characters
from tests.helpers import bearer, json_body

OWNER = "owner-1"
BAD_TEXT = {
    "NUL": "Mug\x00",
    "CR/LF": "Mug\r\nSet-Cookie: x=1",
    "LF": "Mug\nMore",
    "ESC": "Mug\x1b[31m",
    "RLO (U+202E)": "Mug\u202egpj.exe",
    "LRE (U+202A)": "Mug\u202aX",
    "RLI (U+2067)": "Mug\u2067X",
    "PDI (U+2069)": "Mug\u2069X",
    "RLM (U+200F)": "Mug\u200fX",
    "BOM (U+FEFF)": "\ufeffMug",
    "LINE SEPARATOR (U+2028)": "Mug\u2028X",
    "lone surrogate": "Mug\ud800",
}


def post(client: Client, path: str, body: dict[str, Any], user: str = OWNER) -> Any:
    return client.http.post(path, body=json.dumps(body), headers=bearer(user))


def product(name: str = "Mug", description: str = "") -> dict[str, Any]:
    return {"name": name, "description": description, "price": 1}


def field_errors(response: Any) -> list[Any]:
    return [detail["loc"] for detail in json_body(response)["details"]]


@pytest.mark.parametrize("text", BAD_TEXT.values(), ids=BAD_TEXT.keys())
def test_product_name_with_a_dangerous_character_is_400(client: Client, text: str) -> None:
    response = post(client, "/products", product(name=text))
    assert response.status_code == 400
    assert field_errors(response) == [["body", "name"]]


@pytest.mark.parametrize("text", BAD_TEXT.values(), ids=BAD_TEXT.keys())
def test_user_name_with_a_dangerous_character_is_400(client: Client, text: str) -> None:
    response = post(client, "/users", {"email": "ada@example.com", "password": "long enough", "name": text})
    assert response.status_code == 400
    assert field_errors(response) == [["body", "name"]]


@pytest.mark.parametrize(
    "text",
    [t for label, t in BAD_TEXT.items() if label not in {"LF"}],
    ids=[label for label in BAD_TEXT if label != "LF"],
)
def test_description_with_a_dangerous_character_is_400(client: Client, text: str) -> None:
    response = post(client, "/products", product(description=text))
    assert response.status_code == 400
    assert field_errors(response) == [["body", "description"]]


def test_patching_a_name_or_description_applies_the_same_rule(client: Client) -> None:
    created = json_body(post(client, "/products", product()))
    for body in ({"name": "Mug\u202e"}, {"description": "a\x00b"}):
        response = client.http.patch(
            f"/products/{created['id']}", body=json.dumps(body), headers=bearer(OWNER)
        )
        assert response.status_code == 400


def test_a_description_keeps_line_feeds_and_tabs(client: Client) -> None:
    response = post(client, "/products", product(description="Line one\n\tindented line two"))
    assert response.status_code == 201
    assert json_body(response)["description"] == "Line one\n\tindented line two"


def test_names_are_nfc_normalised_and_trimmed(client: Client) -> None:
    decomposed = "  Cafe\u0301 cup  "
    response = post(client, "/products", product(name=decomposed, description="cre\u0300me"))
    assert response.status_code == 201
    created = json_body(response)
    assert created["name"] == "Caf\u00e9 cup" == unicodedata.normalize("NFC", decomposed.strip())
    assert created["description"] == "cr\u00e8me"


def test_joiners_that_scripts_and_emoji_need_are_allowed(client: Client) -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # ZWJ sequence
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # with a ZWNJ
    for name in (family, persian):
        assert post(client, "/products", product(name=name)).status_code == 201


def test_the_rule_names_each_refused_character() -> None:
    assert unsafe_characters("a\u202eb\x00c") == ["U+202E", "U+0000"]
    assert unsafe_characters("a\nb\tc", frozenset("\n\t")) == []
