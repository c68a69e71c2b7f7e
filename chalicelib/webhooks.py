"""Webhook delivery, the parts that need no route: URL safety (SSRF), Standard Webhooks
signatures, one delivery attempt, and the retry schedule.

`POST /webhooks` (services/webhooks.py) calls `check_url` and `new_secret`; the delivery
worker (services/webhook_delivery.py) calls `deliver` for each event and subscription,
re-checking the URL every time (DNS can change between subscribe and deliver).
"""

from __future__ import annotations

import base64
import ipaddress
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.models.events import CloudEvent

TIMEOUT_SECONDS = 10
MAX_DELAY_SECONDS = 6 * 3600
# 30 s doubling, capped at 6 h: attempt 14 is ~26.5 h after the first, so a receiver that
# is down for a whole day still gets the event.
MAX_ATTEMPTS = 14
# Events in a row a subscription failed (each after all its retries) before it is disabled.
DISABLE_AFTER_FAILED_EVENTS = 5
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)

Resolver = Callable[[str, int], list[str]]


class WebhookUrlError(ValueError):
    """A URL that webhooks may not be sent to; the message says why (a 400 at subscribe)."""


def resolve(host: str, port: int) -> list[str]:
    """Every address the host resolves to (A and AAAA)."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)})


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip in METADATA_ADDRESSES
        or ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


def check_url(url: str, local: bool, resolver: Resolver = resolve) -> None:
    """Refuse a URL that could reach the service's own network (WebhookUrlError).

    Deployed: https only, and every address the host resolves to must be public (not
    loopback, private, link-local, reserved or the instance metadata address). Locally,
    `http://127.0.0.1:<port>` is allowed too, so developers can receive on their machine.
    """
    if not url.isascii() or any(not char.isprintable() or char.isspace() for char in url):
        raise WebhookUrlError("the URL must be visible ASCII characters, without spaces")
    parts = urllib.parse.urlsplit(url)
    try:
        parts.port  # noqa: B018 - a port out of range or not a number raises here
    except ValueError as exc:
        raise WebhookUrlError("the URL's port is not valid") from exc
    if local and parts.scheme == "http" and parts.hostname == "127.0.0.1":
        return
    if parts.scheme != "https":
        raise WebhookUrlError("the URL must use https")
    if not parts.hostname or parts.username or parts.password:
        raise WebhookUrlError("the URL must name a host, without credentials")
    try:
        addresses = resolver(parts.hostname, parts.port or 443)
    except (OSError, UnicodeError) as exc:
        raise WebhookUrlError("the URL's host does not resolve") from exc
    if not addresses or not all(_public(address) for address in addresses):
        raise WebhookUrlError("the URL's host is not a public address")


def new_secret() -> str:
    """A signing secret in Standard Webhooks' format (`whsec_` + base64 of 24 random bytes)."""
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


def signed_headers(secret: str, event: CloudEvent, body: str, now: datetime) -> dict[str, str]:
    """The Standard Webhooks headers: `webhook-id` is the event id, so a retry has the same."""
    from standardwebhooks.webhooks import Webhook

    signature = Webhook(secret).sign(event.id, now, body)
    return {
        "content-type": "application/cloudevents+json",
        "webhook-id": event.id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }


def retry_delay(attempt: int, base_seconds: float) -> float:
    """Seconds to wait after the (0-based) failed `attempt`: doubling from the base, capped."""
    return float(min(base_seconds * 2**attempt, MAX_DELAY_SECONDS))


@dataclass(frozen=True)
class Attempt:
    """One delivery attempt, as `GET /webhooks/{id}/deliveries` will show it."""

    event_id: str
    status: int | None  # the receiver's status code; None when there was none
    error: str | None  # why there was none (timeout, refused, redirect, unsafe URL)
    latency_ms: float

    @property
    def ok(self) -> bool:
        """A 2xx: delivered."""
        return self.status is not None and 200 <= self.status < 300


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx is the receiver's answer, never followed (it could point inside)


_OPENER = urllib.request.build_opener(_NoRedirects)


def deliver(
    url: str, secret: str, event: CloudEvent, local: bool, now: datetime, resolver: Resolver = resolve
) -> Attempt:
    """POST the event once: URL re-checked, signed, 10 s timeout, no redirects followed."""
    started = time.monotonic()

    def done(status: int | None, error: str | None) -> Attempt:
        return Attempt(event.id, status, error, round((time.monotonic() - started) * 1000, 1))

    try:
        check_url(url, local, resolver)
    except WebhookUrlError as exc:
        return done(None, f"refused: {exc}")
    body = event.to_json()
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url, data=body.encode(), headers=signed_headers(secret, event, body, now), method="POST"
    )
    try:
        with _OPENER.open(request, timeout=TIMEOUT_SECONDS) as answer:
            return done(int(answer.status), None)
    except urllib.error.HTTPError as answer:  # a non-2xx (a 3xx too: not followed)
        return done(answer.code, None)
    except (
        urllib.error.URLError,
        TimeoutError,
        OSError,
        ValueError,
    ) as exc:  # ValueError: http.client's InvalidURL
        return done(None, type(getattr(exc, "reason", exc)).__name__)
