"""Location behind API Gateway's stage: the prefix the client called comes back in it."""

from __future__ import annotations

from typing import Any

import pytest
from chalice.app import Request

from chalicelib.api.middleware import stage_prefix


def _request(context_path: str, event_path: str | None) -> Request:
    event: dict[str, Any] = {
        "multiValueQueryStringParameters": None,
        "headers": {},
        "pathParameters": None,
        "requestContext": {"httpMethod": "POST", "resourcePath": "/users", "path": context_path},
        "stageVariables": None,
        "body": None,
        "isBase64Encoded": False,
    }
    if event_path is not None:
        event["path"] = event_path
    return Request(event)


@pytest.mark.parametrize(
    ("context_path", "event_path", "prefix"),
    [
        ("/api/users", "/users", "/api"),  # the execute-api host: /<stage>/...
        ("/v1/shop/users", "/users", "/v1/shop"),  # a custom domain's base path
        ("/users", "/users", ""),  # a custom domain mapped at its root
        ("/users", None, ""),  # chalice local: no event path
        ("/elsewhere", "/users", ""),  # not a suffix: never guess
    ],
)
def test_prefix_is_what_precedes_the_route(context_path: str, event_path: str | None, prefix: str) -> None:
    assert stage_prefix(_request(context_path, event_path)) == prefix
