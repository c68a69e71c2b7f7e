"""The deployed mailer: Amazon SES v2 SendEmail, from one sender identity, through one
configuration set (its event destinations see bounces and complaints)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.mail import MailError, Message


class SesMailer:
    """Sends through SES v2; any SES or connection error is a MailError."""

    def __init__(self, client: Callable[[], Any], sender: str, configuration_set: str | None) -> None:
        self._client = client  # made on first use (no network at import or cold start)
        self.sender = sender
        self.configuration_set = configuration_set

    def send(self, message: Message) -> None:
        """One SendEmail call with the text and HTML bodies."""
        from botocore.exceptions import BotoCoreError, ClientError

        request: dict[str, Any] = {
            "FromEmailAddress": self.sender,
            "Destination": {"ToAddresses": [message.to]},
            "Content": {
                "Simple": {
                    "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                    "Body": {
                        "Text": {"Data": message.text, "Charset": "UTF-8"},
                        "Html": {"Data": message.html, "Charset": "UTF-8"},
                    },
                }
            },
        }
        if self.configuration_set:
            request["ConfigurationSetName"] = self.configuration_set
        try:
            self._client().send_email(**request)
        except (ClientError, BotoCoreError) as exc:
            raise MailError(type(exc).__name__) from exc
