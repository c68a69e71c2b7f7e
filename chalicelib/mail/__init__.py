"""Account mails: what a mail is, the one interface that sends it, and its rendering.

Two senders implement `Mailer`: `SesMailer` (deployed: SES v2 SendEmail with a
configuration set) and `FileMailer` (local and test: one `.eml` file per mail in
MAIL_DIR). Bodies come from the templates next to this module, text and HTML; every
value put into the HTML is escaped.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Protocol

TEMPLATES = Path(__file__).resolve().parent / "templates"


class MailError(Exception):
    """A mail could not be sent (the mail service refused, throttled or was unreachable)."""


@dataclass(frozen=True)
class Message:
    """One mail to one recipient: a subject, a text body and an HTML body."""

    to: str
    subject: str
    text: str
    html: str
    link: str  # the action the mail asks for (a sender may show it, e.g. on a console)


class Mailer(Protocol):
    """Sends a Message; MailError when it cannot."""

    def send(self, message: Message) -> None:
        """Send one mail, or raise MailError."""


def render(name: str, to: str, subject: str, values: dict[str, str]) -> Message:
    """The `<name>.txt` and `<name>.html` templates filled with `values` (HTML-escaped in
    the HTML body); `values["link"]` is the mail's link."""
    text = Template((TEMPLATES / f"{name}.txt").read_text("utf-8")).substitute(values)
    escaped = {key: html.escape(value, quote=True) for key, value in values.items()}
    body = Template((TEMPLATES / f"{name}.html").read_text("utf-8")).substitute(escaped)
    return Message(to=to, subject=subject, text=text, html=body, link=values["link"])
