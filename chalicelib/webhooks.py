"""Webhook delivery, the parts that need no route: URL safety (SSRF), Standard Webhooks
signatures, one delivery attempt, and the retry schedule.

`POST /webhooks` (services/webhooks.py) calls `check_url` and `new_secret`; the delivery
worker (services/webhook_delivery.py) calls `deliver` for each event and subscription,
re-checking the URL every time (DNS can change between subscribe and deliver).

An attempt resolves the host once, checks every address, and connects to a checked address
itself (`_PinnedConnection`): nothing resolves the name again, so a second DNS answer
(rebinding) is never used. TLS still verifies the certificate against the URL's host name
(SNI too) and the `Host` header is the URL's. The whole attempt (resolution, connection, TLS
handshake, request, status line and headers) has one deadline, TIMEOUT_SECONDS from its start:
every socket operation gets only the time left, so a receiver trickling its answer a byte at
a time cannot stretch it. The response body is never read (the status is the answer).
"""

from __future__ import annotations

import base64
import functools
import http.client
import io
import ipaddress
import os
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, cast

from chalicelib.models.events import CloudEvent

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer, WriteableBuffer

# One attempt, start to end: resolution, connection, TLS, request, status and headers.
TIMEOUT_SECONDS = 10
USER_AGENT = "Storefront-Webhooks/1"
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
    """Every address the host resolves to (A and AAAA), in the resolver's order of preference."""
    infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _public_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    # is_global refuses what is_private does and the shared address space 100.64.0.0/10 (RFC
    # 6598, CGNAT / VPC CIDRs); the flags after it refuse what is_global lets through (most
    # multicast, IPv4-compatible ::a.b.c.d as reserved) and the metadata address, explicitly.
    return ip.is_global and not (
        ip in METADATA_ADDRESSES
        or ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d is a.b.c.d
            return _public_ip(ip.ipv4_mapped)
        # a 6to4 address (2002::/16) reaches the IPv4 address it embeds; NAT64's 64:ff9b::/96
        # and IPv4-compatible ::a.b.c.d are in ::/8, reserved, refused below
        if ip.sixtofour is not None and not _public_ip(ip.sixtofour):
            return False
    return _public_ip(ip)


def _left(deadline: float) -> float:
    """Seconds left before the attempt's deadline; TimeoutError once there are none."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the attempt took longer than its timeout")
    return left


def _resolve_by(resolver: Resolver, host: str, port: int, deadline: float) -> list[str]:
    """The resolver's answer, waited for until the deadline (TimeoutError after it).

    getaddrinfo takes no timeout, so it runs on a daemon thread joined with the time left. A
    resolution still running at the deadline is abandoned, not stopped: its thread ends when
    the system resolver gives up (resolv.conf's timeout x attempts per name server)."""
    outcome: list[list[str] | Exception] = []

    def run() -> None:
        try:
            outcome.append(resolver(host, port))
        except Exception as exc:  # handed to the waiting thread
            outcome.append(exc)

    worker = threading.Thread(target=run, name="webhook-resolve", daemon=True)
    worker.start()
    worker.join(_left(deadline))
    if not outcome:
        raise TimeoutError(f"resolving the host took longer than {TIMEOUT_SECONDS} s")
    answer = outcome[0]
    if isinstance(answer, OSError | UnicodeError):
        raise WebhookUrlError("the URL's host does not resolve") from answer
    if isinstance(answer, Exception):
        raise answer
    return answer


@dataclass(frozen=True)
class _Target:
    """Where an attempt may go: the URL's host (Host header, SNI, certificate), port, request
    target, and the checked addresses, the only ones it connects to."""

    tls: bool
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


def _checked(url: str, local: bool, resolver: Resolver, deadline: float) -> _Target:
    """The URL's target, every address it resolves to checked (WebhookUrlError if unsafe;
    TimeoutError if the resolver does not answer before the deadline)."""
    if not url.isascii() or any(not char.isprintable() or char.isspace() for char in url):
        raise WebhookUrlError("the URL must be visible ASCII characters, without spaces")
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError as exc:  # a port out of range or not a number
        raise WebhookUrlError("the URL's port is not valid") from exc
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if local and parts.scheme == "http" and parts.hostname == "127.0.0.1":
        return _Target(False, "127.0.0.1", port or 80, path, ("127.0.0.1",))
    if parts.scheme != "https":
        raise WebhookUrlError("the URL must use https")
    if not parts.hostname or parts.username or parts.password:
        raise WebhookUrlError("the URL must name a host, without credentials")
    port = port or 443
    addresses = _resolve_by(resolver, parts.hostname, port, deadline)
    if not addresses or not all(_public(address) for address in addresses):
        raise WebhookUrlError("the URL's host is not a public address")
    return _Target(True, parts.hostname, port, path, tuple(addresses))


def check_url(url: str, local: bool, resolver: Resolver = resolve) -> None:
    """Refuse a URL that could reach the service's own network (WebhookUrlError).

    Deployed: https only, and every address the host resolves to must be public (globally
    routable: not loopback, private, shared 100.64.0.0/10, link-local, reserved, multicast or
    the instance metadata address). Locally, `http://127.0.0.1:<port>` is allowed too, so
    developers can receive on their machine. A host that does not resolve within
    TIMEOUT_SECONDS is refused.
    """
    try:
        _checked(url, local, resolver, time.monotonic() + TIMEOUT_SECONDS)
    except TimeoutError as exc:
        raise WebhookUrlError("the URL's host does not resolve") from exc


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


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """urllib's default: the system's CAs, host name checked, HTTP/1.1 offered by ALPN."""
    context = ssl.create_default_context()
    context.set_alpn_protocols(["http/1.1"])
    return context


def _open(addresses: tuple[str, ...], port: int, deadline: float) -> socket.socket:
    """A TCP connection to the first checked address that accepts one, before the deadline."""
    failure: OSError = ConnectionError("no address to connect to")
    for address in addresses:
        left = _left(deadline)
        try:  # an IP literal: create_connection does not look it up in DNS
            return socket.create_connection((address, port), timeout=left)
        except OSError as exc:
            failure = exc
    raise failure


class _BoundedReader(io.RawIOBase):
    """The socket's input, every receive given only the time left before the deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self.sock = sock
        self.deadline = deadline

    def readable(self) -> bool:
        """Yes: it reads the socket."""
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        """Receive what has arrived (at most the buffer), waiting only the time left."""
        self.sock.settimeout(_left(self.deadline))
        return self.sock.recv_into(buffer)


class _BoundedSocket:
    """The connected socket as http.client uses it (sendall, makefile, close), every send
    and receive given only the time left. Closing it leaves the socket to its connection's
    `release` (http.client closes its side as soon as the headers are read)."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.deadline = deadline

    def sendall(self, data: ReadableBuffer) -> None:
        """Send all the data, each send waiting only the time left."""
        view = memoryview(data).cast("B")
        while view:
            self.sock.settimeout(_left(self.deadline))
            view = view[self.sock.send(view) :]

    def makefile(self, mode: str = "rb") -> io.BufferedReader:
        """The response's input (http.client asks for "rb")."""
        if mode != "rb":
            raise ValueError("only a binary reader is offered")
        return io.BufferedReader(_BoundedReader(self.sock, self.deadline))

    def close(self) -> None:
        """Nothing: the connection's `release` closes the socket."""


class _PinnedConnection(http.client.HTTPConnection):
    """HTTP(S) to one of the target's checked addresses, never resolved again; TLS verifies
    the certificate against the URL's host name (sent as SNI), the Host header is the URL's,
    and every socket operation is bounded by the attempt's deadline."""

    def __init__(self, target: _Target, deadline: float) -> None:
        super().__init__(target.host, target.port)
        self.default_port = 443 if target.tls else 80  # the Host header names no default port
        self.target = target
        self.deadline = deadline
        self.opened: socket.socket | None = None

    def connect(self) -> None:
        """Open the TCP connection to a checked address (and TLS over it for https)."""
        sock = self.opened = _open(self.target.addresses, self.target.port, self.deadline)
        if self.target.tls:
            sock.settimeout(_left(self.deadline))  # the handshake's bound
            sock = self.opened = _tls_context().wrap_socket(sock, server_hostname=self.target.host)
        self.sock = cast(socket.socket, _BoundedSocket(sock, self.deadline))

    def release(self) -> None:
        """Close the connection and its socket."""
        self.close()
        if self.opened is not None:
            self.opened.close()
            self.opened = None


def deliver(
    url: str, secret: str, event: CloudEvent, local: bool, now: datetime, resolver: Resolver = resolve
) -> Attempt:
    """POST the event once: URL re-checked, signed, sent to an address that was checked, no
    redirects followed, the whole attempt within TIMEOUT_SECONDS (else a TimeoutError)."""
    started = time.monotonic()
    deadline = started + TIMEOUT_SECONDS

    def done(status: int | None, error: str | None) -> Attempt:
        return Attempt(event.id, status, error, round((time.monotonic() - started) * 1000, 1))

    try:
        target = _checked(url, local, resolver, deadline)
    except WebhookUrlError as exc:
        return done(None, f"refused: {exc}")
    except TimeoutError as exc:  # the resolver did not answer in time
        return done(None, type(exc).__name__)
    body = event.to_json()
    headers = {
        **signed_headers(secret, event, body, now),
        "user-agent": USER_AGENT,
        "connection": "close",
    }
    connection = _PinnedConnection(target, deadline)
    try:
        connection.request("POST", target.path, body=body.encode(), headers=headers)
        # The status line and headers only: the status is the answer (a 3xx too: never
        # followed), and the body is not read.
        return done(connection.getresponse().status, None)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        # OSError: refused, unreachable, TimeoutError (the deadline), TLS (ssl.SSLError);
        # HTTPException: not an HTTP answer; ValueError: a header http.client refuses
        return done(None, type(exc).__name__)
    finally:
        connection.release()
