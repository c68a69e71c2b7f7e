"""The chalice local fix: 204 and 304 go out with no body, Content-Type or Content-Length."""

from __future__ import annotations

import io
from typing import Any

from chalice import local

from chalicelib.api.local_server import bodiless_headers, fix_chalice_local


class _Recorder:
    """Just enough of a request handler for chalice local's response writers."""

    request_version = "HTTP/1.1"

    def __init__(self) -> None:
        self.wfile = io.BytesIO()
        self.lines: list[str] = []

    def send_response(self, code: int) -> None:
        self.lines.append(f"status {code}")

    def send_header(self, name: str, value: str) -> None:
        self.lines.append(f"{name}: {value}")

    def end_headers(self) -> None:
        self.lines.append("end")


def _send(code: int, headers: dict[str, Any], body: str) -> _Recorder:
    recorder = _Recorder()
    handler = local.ChaliceRequestHandler
    for name in ("_send_headers", "_send_http_response_with_body", "_send_http_response_no_body"):
        setattr(recorder, name, getattr(handler, name).__get__(recorder))
    handler._send_http_response(recorder, code, headers, body)  # type: ignore[arg-type]  # a stand-in
    return recorder


def test_bodiless_headers_drop_only_the_body_description() -> None:
    headers = {"ETag": '"1"', "content-type": "application/json", "Content-Length": "0", "X": "y"}
    assert bodiless_headers(headers) == {"ETag": '"1"', "X": "y"}


def test_chalice_local_sends_a_clean_304_and_204_once_fixed() -> None:
    # chalice.local is loaded here (chalice.test imports it), as under `chalice local`
    assert fix_chalice_local() is True
    assert fix_chalice_local() is True  # idempotent
    for code in (304, 204):
        recorder = _send(code, {"ETag": '"1"', "Content-Type": "application/json"}, "")
        assert recorder.lines == [f"status {code}", 'ETag: "1"', "end"]
        assert recorder.wfile.getvalue() == b""


def test_other_statuses_keep_chalice_locals_writer() -> None:
    fix_chalice_local()
    recorder = _send(200, {"Content-Type": "application/json"}, "{}")
    assert "Content-Length: 2" in recorder.lines
    assert recorder.wfile.getvalue() == b"{}"


def test_chalice_locals_own_errors_go_out_no_store_and_nosniff() -> None:
    # Given the error chalice local raises for an unknown route (before the app runs)
    fix_chalice_local()
    recorder = _Recorder()
    handler = local.ChaliceRequestHandler
    for name in ("_send_headers", "_send_http_response_with_body", "_send_http_response_no_body"):
        setattr(recorder, name, getattr(handler, name).__get__(recorder))
    recorder._send_http_response = handler._send_http_response.__get__(recorder)  # type: ignore[attr-defined]
    error = local.ForbiddenError({"x-amzn-ErrorType": "UnauthorizedException"}, b'{"message": "x"}')
    # When it is sent
    handler._send_error_response(recorder, error)  # type: ignore[arg-type]  # a stand-in
    # Then it carries the contract's error headers
    assert "Cache-Control: no-store" in recorder.lines
    assert "X-Content-Type-Options: nosniff" in recorder.lines
    assert recorder.lines[0] == "status 403"
