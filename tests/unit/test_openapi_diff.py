"""tools/openapi_diff.py: which changes to the document break its clients.

Each case edits a copy of the service's own document the way a careless change would.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from chalicelib.api.openapi import document_text
from tools.openapi_diff import breaking_changes, changelog_section, release_problems, version_key

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def released() -> Doc:
    doc: Doc = json.loads(document_text("1.0.0"))
    return doc


def edited(doc: Doc, change: Callable[[Doc], None], version: str | None = None) -> Doc:
    new = copy.deepcopy(doc)
    change(new)
    if version:
        new["info"]["version"] = version
    return new


def schemas(doc: Doc) -> dict[str, Any]:
    return dict(doc["components"]["schemas"])


def test_the_same_document_is_compatible(released: Doc) -> None:
    assert breaking_changes(released, copy.deepcopy(released)) == []


def test_a_removed_response_field_breaks(released: Doc) -> None:
    new = edited(released, lambda d: schemas(d)["ProductPublic"]["properties"].pop("stock"))
    assert any("response property 'stock' removed" in change for change in breaking_changes(released, new))


def test_a_response_field_that_is_no_longer_required_breaks(released: Doc) -> None:
    new = edited(released, lambda d: schemas(d)["UserPublic"]["required"].remove("email"))
    assert any("'email' no longer required" in change for change in breaking_changes(released, new))


def test_a_removed_enum_value_breaks(released: Doc) -> None:
    new = edited(
        released, lambda d: schemas(d)["OrderPublic"]["properties"]["status"]["enum"].remove("cancelled")
    )
    assert any("enum value 'cancelled' removed" in change for change in breaking_changes(released, new))


def test_a_removed_request_enum_value_breaks(released: Doc) -> None:
    new = edited(
        released, lambda d: schemas(d)["ProductCreate"]["properties"]["currency"]["enum"].remove("EUR")
    )
    assert any("enum value 'EUR' removed" in change for change in breaking_changes(released, new))


def test_a_new_required_request_field_breaks(released: Doc) -> None:
    def require_description(doc: Doc) -> None:
        schemas(doc)["ProductCreate"]["required"].append("description")

    new = edited(released, require_description)
    assert "POST /products body: new required request field 'description'" in breaking_changes(released, new)


def test_a_removed_route_breaks(released: Doc) -> None:
    new = edited(released, lambda d: d["paths"].pop("/orders/{order_id}/cancel"))
    assert breaking_changes(released, new) == ["POST /orders/{order_id}/cancel: operation removed"]


def test_a_removed_status_code_breaks(released: Doc) -> None:
    new = edited(released, lambda d: d["paths"]["/products/{product_id}"]["get"]["responses"].pop("404"))
    assert breaking_changes(released, new) == ["GET /products/{product_id}: response 404 removed"]


def test_a_narrowed_request_type_breaks(released: Doc) -> None:
    def integer_price(doc: Doc) -> None:
        schemas(doc)["ProductCreate"]["properties"]["price"]["type"] = "integer"

    changes = breaking_changes(released, edited(released, integer_price))
    assert any("price: request type narrowed" in change for change in changes)


def test_a_lowered_request_maximum_breaks(released: Doc) -> None:
    def cap_limit(doc: Doc) -> None:
        doc["paths"]["/products"]["get"]["parameters"][0]["schema"]["maximum"] = 50

    assert "GET /products query parameter 'limit': maximum lowered to 50" in breaking_changes(
        released, edited(released, cap_limit)
    )


def test_a_new_required_header_parameter_breaks(released: Doc) -> None:
    def require_header(doc: Doc) -> None:
        header = {"in": "header", "name": "X-Tenant", "required": True, "schema": {"type": "string"}}
        doc["paths"]["/orders"]["post"]["parameters"].append(header)

    assert breaking_changes(released, edited(released, require_header)) == [
        "POST /orders header parameter 'X-Tenant': new and required"
    ]


def test_additive_changes_pass(released: Doc) -> None:
    # New routes and new response fields (as the session work added): none of that breaks a client.
    def add(doc: Doc) -> None:
        doc["paths"]["/auth/sessions"] = copy.deepcopy(doc["paths"]["/auth/token"])
        token = schemas(doc)["TokenPublic"]
        token["properties"]["session_expires_at"] = {"type": "string"}
        token["required"] += ["session_expires_at"]
        schemas(doc)["ProductCreate"]["properties"]["tags"] = {"type": "array", "items": {"type": "string"}}
        doc["paths"]["/products"]["get"]["parameters"].append(
            {"in": "query", "name": "q", "required": False, "schema": {"type": "string"}}
        )
        schemas(doc)["ProductUpdate"]["properties"]["name"]["maxLength"] = 400  # wider

    assert breaking_changes(released, edited(released, add)) == []


def test_a_breaking_change_without_a_version_bump_is_refused(released: Doc) -> None:
    new = edited(released, lambda d: d["paths"].pop("/users/me"))
    problems = release_problems(released, new, "## 1.0.0\n- first release\n")
    assert problems == [
        "breaking: GET /users/me: operation removed",
        "bump the version (now 1.0.0, released 1.0.0)",
    ]


def test_a_bumped_version_still_needs_its_changelog_entry(released: Doc) -> None:
    new = edited(released, lambda d: d["paths"].pop("/users/me"), version="2.0.0")
    assert release_problems(released, new, "## 1.0.0\n- first\n")[-1].startswith("record the breaking")
    assert release_problems(released, new, "## 2.0.0\n- faster\n\n## 1.0.0\n")[-1].startswith("record")


def test_a_bumped_and_recorded_breaking_change_is_released(released: Doc) -> None:
    new = edited(released, lambda d: d["paths"].pop("/users/me"), version="2.0.0")
    changelog = "# Changelog\n\n## [2.0.0]\n### Breaking\n- GET /users/me removed\n\n## 1.0.0\n"
    assert release_problems(released, new, changelog) == []


def test_additive_changes_need_no_bump(released: Doc) -> None:
    new = edited(released, lambda d: d["paths"].setdefault("/new", {"get": {"responses": {}}}))
    assert release_problems(released, new, "") == []


def test_versions_order_numerically() -> None:
    assert version_key("0.10.0") > version_key("0.9.3")
    with pytest.raises(ValueError, match="release number"):
        version_key("1.0-beta")


def test_changelog_section_stops_at_the_next_version() -> None:
    text = "## 0.2.0\nbreaking: x\n## 0.1.0\nold\n"
    assert changelog_section(text, "0.2.0") == "breaking: x\n"
    assert changelog_section(text, "0.3.0") is None
