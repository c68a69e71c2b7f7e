"""Over real HTTP (`chalice local`, as `make run` serves): JSON access lines carrying the
response's request id, and not one X-Ray warning while DynamoDB calls are made."""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.e2e


# `127.0.0.1 - - [04/Dec/2026 09:15:16] "GET /health HTTP/1.1" 200 -`
_SERVER_REQUEST_LINE = re.compile(r'^\S+ - - \[[^\]]*\] "')


def _access_line(tmp_path_factory: pytest.TempPathFactory, request_id: str) -> tuple[Path, dict[str, object]]:
    """The server log and the access line of one request (written just after responding)."""
    # conftest's live_server writes the server's output to <basetemp>/chalice<N>/chalice.log
    logs = sorted(tmp_path_factory.getbasetemp().glob("chalice[0-9]*/chalice.log"))
    for _ in range(50):
        for log in logs:
            for text in log.read_text(encoding="utf-8").splitlines():
                if text.startswith("{") and f'"request_id":"{request_id}"' in text:
                    line: dict[str, object] = json.loads(text)
                    if line["message"] == "request":
                        return log, line
        time.sleep(0.05)
    raise AssertionError(f"no access line for {request_id}")


def test_requests_are_logged_as_json_without_xray_noise(
    live: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    request_id = f"e2e-{uuid.uuid4().hex}"
    ready = requests.get(f"{live}/ready", headers={"X-Request-Id": request_id}, timeout=10)
    listing = requests.get(f"{live}/products", timeout=10)
    assert ready.status_code == 200
    assert listing.status_code == 200
    log, line = _access_line(tmp_path_factory, request_id)
    assert (line["method"], line["route"], line["status"]) == ("GET", "/ready", 200)
    assert ready.headers["X-Request-Id"] == request_id
    # The SDK's complaints ("cannot find the current segment", daemon errors) would be
    # plain-text lines or JSON lines whose message names them; our own lines only carry
    # the (empty) xray_trace_id field.
    # The dev server's own request lines echo the URLs clients sent (other tests on this
    # server send fuzzed queries), so they say nothing about the SDK: left out.
    for text in log.read_text(encoding="utf-8").lower().splitlines():
        if _SERVER_REQUEST_LINE.match(text):
            continue
        said = json.loads(text)["message"] if text.startswith("{") else text
        assert "xray" not in said
        assert "segment" not in said
