"""Webhook delivery against real local HTTP servers: signed (verified by the standardwebhooks
library on the receiving side), retried with the same webhook-id, no redirects followed,
and SSRF probes refused before any connection is made."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from chalicelib import webhooks
from chalicelib.models.events import Deleted, new_event
from chalicelib.webhooks import WebhookUrlError, check_url, deliver, new_secret, retry_delay
from tools.webhook_receiver import Receiver

# Signed at delivery time: receivers refuse a timestamp more than 5 minutes off.
EVENT = new_event("product.deleted", "products/p1", Deleted(id="p1"), "deleted", datetime.now(UTC))


def resolves_to(*addresses: str) -> webhooks.Resolver:
    return lambda host, port: list(addresses)


@pytest.mark.parametrize(
    ("url", "addresses"),
    [
        ("http://169.254.169.254/latest/meta-data/", ["169.254.169.254"]),
        ("https://169.254.169.254/latest/meta-data/", ["169.254.169.254"]),
        ("https://10.0.0.1/hook", ["10.0.0.1"]),
        ("https://inside.example/hook", ["127.0.0.1"]),  # a name resolving to loopback
        ("https://mixed.example/hook", ["93.184.216.34", "192.168.1.5"]),
        ("https://mapped.example/hook", ["::ffff:127.0.0.1"]),
        ("https://v6.example/hook", ["fd00:ec2::254"]),
        ("file:///etc/passwd", []),
        ("http://93.184.216.34/hook", ["93.184.216.34"]),  # deployed: https only
        ("https://user:pw@example.com/hook", ["93.184.216.34"]),
    ],
)
def test_deployed_ssrf_probes_are_refused(url: str, addresses: list[str]) -> None:
    with pytest.raises(WebhookUrlError):
        check_url(url, local=False, resolver=resolves_to(*addresses))


def test_a_public_https_url_is_accepted_and_loopback_http_only_locally() -> None:
    check_url("https://hooks.example.com/in", local=False, resolver=resolves_to("93.184.216.34"))
    check_url("http://127.0.0.1:9000/hook", local=True)
    with pytest.raises(WebhookUrlError):
        check_url("http://127.0.0.1:9000/hook", local=False)
    with pytest.raises(WebhookUrlError):
        check_url("http://localhost:9000/hook", local=True, resolver=resolves_to("127.0.0.1"))


def test_an_unresolvable_host_is_refused() -> None:
    def broken(host: str, port: int) -> list[str]:
        raise OSError("no such host")

    with pytest.raises(WebhookUrlError, match="does not resolve"):
        check_url("https://nowhere.invalid/", local=False, resolver=broken)


def test_the_retry_schedule_doubles_is_capped_and_spans_a_day() -> None:
    delays = [retry_delay(n, 30) for n in range(webhooks.MAX_ATTEMPTS - 1)]
    assert delays[:3] == [30, 60, 120]
    assert max(delays) == webhooks.MAX_DELAY_SECONDS
    assert sum(delays) >= 24 * 3600


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str, str]]:
    secret = new_secret()
    state = Receiver(secret, fail_first=2)
    server = state.serve()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/hook", secret
    server.shutdown()
    server.server_close()


def test_a_failing_receiver_gets_the_same_signed_event_until_it_answers_2xx(
    receiver: tuple[Receiver, str, str],
) -> None:
    # Given a receiver that answers 500 twice, then 204
    state, url, secret = receiver
    # When the event is delivered until it succeeds
    attempts = [deliver(url, secret, EVENT, local=True, now=datetime.now(UTC)) for _ in range(3)]
    # Then three deliveries arrived, all verified, one event counted
    assert [a.status for a in attempts] == [500, 500, 204]
    assert [a.ok for a in attempts] == [False, False, True]
    assert (state.deliveries, state.rejected) == (3, 0)
    assert list(state.events) == [EVENT.id]
    assert state.events[EVENT.id]["type"] == "product.deleted"


def test_a_delivery_signed_with_another_secret_is_rejected(receiver: tuple[Receiver, str, str]) -> None:
    state, url, _ = receiver
    attempt = deliver(url, new_secret(), EVENT, local=True, now=datetime.now(UTC))
    assert (attempt.status, state.rejected, state.events) == (401, 1, {})


class _Redirect(BaseHTTPRequestHandler):
    target = ""
    hits: list[str] = []

    def do_POST(self) -> None:
        _Redirect.hits.append(self.path)
        if self.path == "/hook":
            self.send_response(307)
            self.send_header("Location", _Redirect.target)
        else:
            self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


def test_a_redirect_is_the_answer_never_followed() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    _Redirect.target, _Redirect.hits = f"{base}/inside", []
    try:
        attempt = deliver(f"{base}/hook", new_secret(), EVENT, local=True, now=datetime.now(UTC))
    finally:
        server.shutdown()
        server.server_close()
    assert attempt.status == 307
    assert _Redirect.hits == ["/hook"]


def test_an_unsafe_or_unreachable_url_is_an_error_attempt_not_an_exception() -> None:
    refused = deliver("https://10.0.0.1/", new_secret(), EVENT, local=False, now=datetime.now(UTC))
    assert refused.status is None
    assert refused.error is not None
    assert refused.error.startswith("refused")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirect)
    port = server.server_address[1]
    server.server_close()  # nothing listens there now
    gone = deliver(f"http://127.0.0.1:{port}/", new_secret(), EVENT, local=True, now=datetime.now(UTC))
    assert (gone.status, gone.ok) == (None, False)
    assert gone.error
