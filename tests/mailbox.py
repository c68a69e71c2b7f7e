"""The local mailbox: the `.eml` files the file mailer writes, and the tokens inside them."""

from __future__ import annotations

import email
import os
import re
from email.message import Message
from pathlib import Path

from chalicelib.mail import Message as Mail

_TOKEN = re.compile(r"^token=(\S+)$", re.MULTILINE)


def mail_dir() -> Path:
    """The directory the tests' file mailer writes to (set in tests/conftest.py)."""
    return Path(os.environ["MAIL_DIR"])


def mails_to(address: str, directory: Path | None = None) -> list[Message]:
    """Every mail to `address`, oldest first (file names sort by time)."""
    found = []
    for path in sorted((directory or mail_dir()).glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes())
        if message["To"] == address:
            found.append(message)
    return found


def text_of(message: Message) -> str:
    """The text/plain part of a mail."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError("no text part")


def token_in(text: str) -> str:
    """The `token=<token>` line of a mail's text."""
    match = _TOKEN.search(text)
    assert match is not None, text
    return match.group(1)


def latest_token(address: str, subject_word: str, directory: Path | None = None) -> str:
    """The token of the newest mail to `address` whose subject has `subject_word`."""
    mails = [m for m in mails_to(address, directory) if subject_word in str(m["Subject"])]
    assert mails, f"no {subject_word!r} mail to {address}"
    return token_in(text_of(mails[-1]))


class RecordingMailer:
    """A mailer that keeps what it is given (and can be told to fail)."""

    def __init__(self, fail: bool = False) -> None:
        self.sent: list[Mail] = []
        self.fail = fail

    def send(self, message: Mail) -> None:
        """Record the mail, or fail like an SES outage."""
        from chalicelib.mail import MailError

        if self.fail:
            raise MailError("ThrottlingException")
        self.sent.append(message)

    def tokens(self, to: str, purpose_word: str) -> list[str]:
        """The tokens mailed to `to` whose subject has `purpose_word`, oldest first."""
        return [token_in(m.text) for m in self.sent if m.to == to and purpose_word in m.subject]


class FakeClock:
    """A clock for Pace: read by calling it, advanced by its own sleep."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
