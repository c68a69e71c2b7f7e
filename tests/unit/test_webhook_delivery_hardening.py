"""Outgoing webhook delivery, hardened: the connection goes to an address that was checked
(a second DNS answer is never used), TLS is still verified against the URL's host name, one
deadline bounds the whole attempt (a trickling receiver or a resolver that does not answer
cannot stretch it), and shared address space (100.64.0.0/10) is not public.

No real network: socket.create_connection is replaced by a recorder that connects to a local
server (or refuses), so the address an attempt connects to is observed, not reached."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from chalicelib import webhooks
from chalicelib.models.events import Deleted, new_event
from chalicelib.webhooks import WebhookUrlError, check_url, deliver, new_secret

EVENT = new_event("product.deleted", "products/p1", Deleted(id="p1"), "deleted", dt.datetime.now(dt.UTC))
PUBLIC = "93.184.216.34"
REAL_GETADDRINFO = socket.getaddrinfo
REAL_CREATE_CONNECTION = socket.create_connection

Connect = Callable[..., socket.socket]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def recording_connections(connected: list[tuple[str, int]], to: tuple[str, int] | None = None) -> Connect:
    """A stand-in for socket.create_connection: it resolves the host it is given as the real
    one does (through socket.getaddrinfo, so a rebinding stub answers it), records the address
    it would connect to, then connects to `to` (a local server) or refuses."""

    def create_connection(
        address: tuple[str, int], timeout: Any = None, *args: Any, **kw: Any
    ) -> socket.socket:
        host, port = address
        resolved = str(socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)[0][4][0])
        connected.append((resolved, port))
        if to is None:
            raise ConnectionRefusedError(f"test: no connection to {resolved}")
        return REAL_CREATE_CONNECTION(to, timeout=timeout)

    return create_connection


# --- DNS rebinding: the second answer is never used ----------------------------------------


def test_a_second_dns_answer_pointing_at_loopback_is_never_connected_to(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given an attacker's DNS answering a public address first, loopback afterwards (TTL 0)
    queries: list[str] = []

    def rebinding(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.attacker.example":
            return REAL_GETADDRINFO(host, port, *args, **kwargs)
        address = PUBLIC if not queries else "127.0.0.1"
        queries.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    connected: list[tuple[str, int]] = []
    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(socket, "create_connection", recording_connections(connected))
    # When an event is delivered there, deployed (https, public addresses only)
    attempt = deliver("https://rebind.attacker.example:8443/in", new_secret(), EVENT, local=False, now=now())
    # Then the name was resolved once, and the connection went to the address that was checked
    assert queries == [PUBLIC]
    assert connected == [(PUBLIC, 8443)]
    assert (attempt.status, attempt.error) == (None, "ConnectionRefusedError")


def test_every_checked_address_is_tried_in_order_and_no_other(monkeypatch: pytest.MonkeyPatch) -> None:
    connected: list[tuple[str, int]] = []
    monkeypatch.setattr(socket, "create_connection", recording_connections(connected))
    addresses = ["2606:2800:220:1:248:1893:25c8:1946", PUBLIC]
    attempt = deliver(
        "https://hooks.example.com/in",
        new_secret(),
        EVENT,
        local=False,
        now=now(),
        resolver=lambda h, p: addresses,
    )
    assert connected == [(address, 443) for address in addresses]
    assert attempt.error == "ConnectionRefusedError"


# --- TLS to the pinned address, verified for the URL's host name ---------------------------


def _certificate(
    name: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Certificate | None, issuer_key: Any
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject if issuer is None else issuer.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=1))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(
                key.public_key() if issuer is None else issuer_key.public_key()
            ),
            critical=False,
        )
    )
    if issuer is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
    else:
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
    return builder.sign(key if issuer is None else issuer_key, hashes.SHA256())


class TlsReceiver:
    """A TLS receiver on 127.0.0.1 with a certificate for `name` from a test CA: it records
    the SNI and the request it got, and answers 204."""

    def __init__(self, directory: Path, name: str) -> None:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = _certificate("Test CA", ca_key, None, None)
        key = ec.generate_private_key(ec.SECP256R1())
        leaf = _certificate(name, key, ca, ca_key)
        self.ca_file = directory / "ca.pem"
        self.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        chain, key_file = directory / "leaf.pem", directory / "leaf.key"
        chain.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(chain, key_file)
        self.context.sni_callback = self._sni
        self.server_names: list[str | None] = []
        self.requests: list[bytes] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(5)
        self.address = ("127.0.0.1", int(self.listener.getsockname()[1]))
        threading.Thread(target=self._serve, daemon=True).start()

    def _sni(self, sock: Any, server_name: str | None, context: Any) -> None:
        self.server_names.append(server_name)

    def _serve(self) -> None:
        try:
            plain, _ = self.listener.accept()
            plain.settimeout(5)
            with self.context.wrap_socket(plain, server_side=True) as conn:
                request = b""
                while b"\r\n\r\n" not in request:
                    request += conn.recv(65536)
                head, _, body = request.partition(b"\r\n\r\n")
                length = int(
                    next(
                        line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
                    ).split(b":")[1]
                )
                while len(body) < length:
                    body += conn.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + body)
                conn.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        except (OSError, StopIteration):
            return

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[TlsReceiver]:
    receiver = TlsReceiver(tmp_path, "hooks.example.com")
    yield receiver
    receiver.close()


def test_tls_goes_to_the_checked_address_with_the_urls_host_name(
    monkeypatch: pytest.MonkeyPatch, tls_receiver: TlsReceiver
) -> None:
    # Given hooks.example.com resolving to a public address, and a connection to that
    # address reaching a TLS receiver whose certificate names hooks.example.com
    connected: list[tuple[str, int]] = []
    monkeypatch.setattr(
        socket, "create_connection", recording_connections(connected, to=tls_receiver.address)
    )
    monkeypatch.setattr(webhooks, "_tls_context", tls_receiver.client_context)
    # When the event is delivered
    attempt = deliver(
        "https://hooks.example.com/in?tenant=7",
        new_secret(),
        EVENT,
        local=False,
        now=now(),
        resolver=lambda h, p: [PUBLIC],
    )
    # Then it went to the checked address, with the URL's host name as SNI, certificate name
    # and Host header, and the receiver's answer is the attempt's status
    assert connected == [(PUBLIC, 443)]
    assert (attempt.status, attempt.error) == (204, None)
    assert tls_receiver.server_names == ["hooks.example.com"]
    head, _, body = tls_receiver.requests[0].partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /in?tenant=7 HTTP/1.1"
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    assert headers["host"] == "hooks.example.com"
    assert headers["webhook-id"] == EVENT.id
    assert body == EVENT.to_json().encode()


def test_a_certificate_for_another_name_fails_the_attempt(
    monkeypatch: pytest.MonkeyPatch, tls_receiver: TlsReceiver
) -> None:
    # The receiver's certificate names hooks.example.com; the URL names another host that
    # resolves to the same (public) address: the certificate is checked against the URL's name
    monkeypatch.setattr(socket, "create_connection", recording_connections([], to=tls_receiver.address))
    monkeypatch.setattr(webhooks, "_tls_context", tls_receiver.client_context)
    attempt = deliver(
        "https://other.example.org/in",
        new_secret(),
        EVENT,
        local=False,
        now=now(),
        resolver=lambda h, p: [PUBLIC],
    )
    assert (attempt.status, attempt.error) == (None, "SSLCertVerificationError")
    assert tls_receiver.server_names == ["other.example.org"]
    assert tls_receiver.requests == []


# --- One deadline for the whole attempt ------------------------------------------------------


class Trickler:
    """A local receiver (127.0.0.1) that reads the request, then sends its answer one byte
    every `pause` seconds: no single read waits long, the whole answer takes `len * pause`."""

    answer = b"HTTP/1.1 204 No Content\r\nX-Pad: " + b"a" * 40 + b"\r\nContent-Length: 0\r\n\r\n"

    def __init__(self, pause: float) -> None:
        self.pause = pause
        self.stop = threading.Event()
        self.sent = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(5)
        self.port = int(self.listener.getsockname()[1])
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        try:
            conn, _ = self.listener.accept()
            with conn:
                conn.recv(65536)
                for byte in self.answer:
                    if self.stop.wait(self.pause):
                        return
                    conn.sendall(bytes([byte]))
                    self.sent += 1
        except OSError:  # the client hung up (the attempt's deadline)
            return

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


@pytest.fixture
def trickler() -> Iterator[Trickler]:
    receiver = Trickler(pause=0.2)
    yield receiver
    receiver.close()


def test_a_trickling_receiver_cannot_stretch_the_attempt(
    monkeypatch: pytest.MonkeyPatch, trickler: Trickler
) -> None:
    # Given a 1 s attempt timeout and a local receiver sending a byte every 0.2 s (its whole
    # answer would take ~14 s; no single read waits more than 0.2 s)
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 1)
    started = time.monotonic()
    # When an event is delivered to it (local mode: http://127.0.0.1)
    attempt = deliver(f"http://127.0.0.1:{trickler.port}/hook", new_secret(), EVENT, local=True, now=now())
    took = time.monotonic() - started
    # Then the attempt ends at its deadline, as a timeout, having read part of the answer
    assert took < 1.5, f"the attempt took {took:.1f} s with a 1 s timeout"
    assert (attempt.status, attempt.error) == (None, "TimeoutError")
    assert 0 < trickler.sent < len(Trickler.answer)


@pytest.fixture
def stuck_resolver() -> Iterator[Callable[[str, int], list[str]]]:
    released = threading.Event()

    def resolver(host: str, port: int) -> list[str]:
        released.wait(5)  # a name server that does not answer (released at teardown)
        return [PUBLIC]

    yield resolver
    released.set()


def test_a_resolver_that_does_not_answer_ends_the_attempt_at_its_deadline(
    monkeypatch: pytest.MonkeyPatch, stuck_resolver: Callable[[str, int], list[str]]
) -> None:
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 1)
    connected: list[tuple[str, int]] = []
    monkeypatch.setattr(socket, "create_connection", recording_connections(connected))
    started = time.monotonic()
    attempt = deliver(
        "https://slow-dns.example/in", new_secret(), EVENT, local=False, now=now(), resolver=stuck_resolver
    )
    took = time.monotonic() - started
    assert took < 1.5, f"the attempt took {took:.1f} s with a 1 s timeout"
    assert (attempt.status, attempt.error) == (None, "TimeoutError")
    assert connected == []
    # ... and at subscribe time the URL is refused, also within the timeout
    started = time.monotonic()
    with pytest.raises(WebhookUrlError, match="does not resolve"):
        check_url("https://slow-dns.example/in", local=False, resolver=stuck_resolver)
    assert time.monotonic() - started < 1.5


# --- Public means globally routable ------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "100.64.0.10",  # RFC 6598 shared address space (CGNAT, usable as a VPC CIDR)
        "100.127.255.1",
        "::ffff:100.64.0.10",
        # refused before, still refused
        "127.0.0.1",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.1.5",
        "169.254.169.254",
        "0.0.0.0",
        "224.0.0.1",
        "239.1.2.3",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.2.1",
        "::1",
        "::",
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "fd00:ec2::254",
        "ff02::1",
        "ff0e::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "::127.0.0.1",  # IPv4-compatible (deprecated) form
        "2001:db8::1",
        "64:ff9b::a00:1",  # NAT64 (in ::/8, reserved)
        "2002:a00:1::1",  # 6to4 reaching the private 10.0.0.1
    ],
)
def test_a_non_public_address_is_refused(address: str) -> None:
    with pytest.raises(WebhookUrlError, match="not a public address"):
        check_url("https://hooks.example.com/in", local=False, resolver=lambda h, p: [address])


@pytest.mark.parametrize(
    "address",
    [PUBLIC, "8.8.8.8", "2606:2800:220:1:248:1893:25c8:1946", "::ffff:93.184.216.34", "2002:5db8:d822::1"],
)
def test_a_public_address_is_accepted(address: str) -> None:
    check_url("https://hooks.example.com/in", local=False, resolver=lambda h, p: [address])
