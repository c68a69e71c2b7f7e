"""Fixtures shared by the integration tests of one feature area."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from chalice.test import Client

from chalicelib.api import deps
from tests.mailbox import RecordingMailer
from tools.webhook_receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    """A verifying webhook receiver on a free loopback port, and its URL; set its secret with
    `use(secret)` once subscribed."""
    state = Receiver("whsec_" + "A" * 32)
    server = state.serve()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


@pytest.fixture
def mailer(client: Client) -> Iterator[RecordingMailer]:
    """Account mails recorded instead of written (the app's mailer for the test's length)."""
    recording = RecordingMailer()
    deps.use_mailer(recording)
    yield recording
    deps.use_mailer(None)
