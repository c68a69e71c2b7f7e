"""The local mailer: each mail becomes one `.eml` file in a directory (MAIL_DIR)."""

from __future__ import annotations

import sys
import uuid
from email.message import EmailMessage
from pathlib import Path

from chalicelib.clock import utc_now
from chalicelib.mail import MailError, Message


class FileMailer:
    """Writes each mail to `<directory>/<time>-<random>.eml` (text and HTML alternatives);
    with `echo`, prints its link on stderr (`make run`: the link is on the console)."""

    def __init__(self, directory: Path, sender: str, echo: bool = False) -> None:
        self.directory = directory
        self.sender = sender
        self.echo = echo

    def send(self, message: Message) -> None:
        """Write the mail; MailError if the directory cannot be written."""
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.to
        mail["Subject"] = message.subject
        mail.set_content(message.text)
        mail.add_alternative(message.html, subtype="html")
        name = f"{utc_now().strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:8]}.eml"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            (self.directory / name).write_bytes(bytes(mail))
        except OSError as exc:
            raise MailError("could not write the mail") from exc
        if self.echo:
            print(f"mail to {message.to}: {message.subject}: {message.link}", file=sys.stderr, flush=True)
