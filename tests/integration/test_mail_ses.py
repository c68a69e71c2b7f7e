"""The SES mailer against the SES emulator that the embedded engine also serves (moto):
SES v2 SendEmail from a verified identity through a configuration set; an unverified
sender or a throttled call is a MailError (the use cases log it or answer 503)."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.mail import MailError, Message, render
from chalicelib.mail.ses import SesMailer

SENDER = "no-reply@storefront.test"


def _clients(endpoint: str) -> tuple[Any, Any]:
    kwargs: dict[str, Any] = {
        "region_name": "us-east-1",
        "endpoint_url": endpoint,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    return boto3.client("ses", **kwargs), boto3.client("sesv2", **kwargs)


def _message() -> Message:
    values = {"name": "Ada", "email": "ada@example.com", "link": "http://x/reset?token=t.k", "token": "t.k"}
    return render("password_reset", "ada@example.com", "Reset your Storefront password", values)


def _sent(v1: Any) -> int:
    return int(v1.get_send_quota()["SentLast24Hours"])


def test_a_mail_goes_out_from_the_verified_identity_through_the_configuration_set(
    engine_endpoint: str,
) -> None:
    v1, v2 = _clients(engine_endpoint)
    v1.verify_email_identity(EmailAddress=SENDER)
    configuration_set = f"storefront-{uuid.uuid4().hex[:6]}"
    v2.create_configuration_set(ConfigurationSetName=configuration_set)
    before = _sent(v1)
    SesMailer(lambda: v2, SENDER, configuration_set).send(_message())
    assert _sent(v1) == before + 1


def test_an_unverified_sender_is_a_mail_error(engine_endpoint: str) -> None:
    _, v2 = _clients(engine_endpoint)
    with pytest.raises(MailError, match="MessageRejected"):
        SesMailer(lambda: v2, "someone-else@storefront.test", None).send(_message())


def test_throttling_is_a_mail_error(engine_endpoint: str) -> None:
    _, v2 = _clients(engine_endpoint)
    with Stubber(v2) as stub:
        stub.add_client_error(
            "send_email", service_error_code="TooManyRequestsException", http_status_code=429
        )
        with pytest.raises(MailError):
            SesMailer(lambda: v2, SENDER, "storefront-mail").send(_message())
