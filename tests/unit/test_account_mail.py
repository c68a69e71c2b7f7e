"""Account mail pieces that need no table: tokens, rendering, the file mailer, pacing, settings."""

from __future__ import annotations

import email
import os
from pathlib import Path

import pytest

from chalicelib.config import load_settings
from chalicelib.mail import MailError, Message, render
from chalicelib.mail.files import FileMailer
from chalicelib.security.account_tokens import RESET, VERIFY, new_account_token, parse_account_token
from chalicelib.services.accounts import Pace, absent_subject
from tests.mailbox import FakeClock


def test_a_token_names_its_user_and_has_256_random_bits() -> None:
    token, digest = new_account_token(RESET, "01ARZ3NDEKTSV4RRFFQ69G5FAV")
    user_id, _, secret = token.partition(".")
    assert user_id == "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    assert len(secret) == 43  # 32 bytes, base64url without padding
    parsed = parse_account_token(RESET, token)
    assert parsed is not None
    assert (parsed.user_id, parsed.digest) == (user_id, digest)
    assert secret not in digest


def test_a_digest_is_bound_to_its_purpose() -> None:
    token, digest = new_account_token(RESET, "u1")
    as_verification = parse_account_token(VERIFY, token)
    assert as_verification is not None
    assert as_verification.digest != digest


@pytest.mark.parametrize("token", ["", "u1", "u1.", ".abc", "u1.short", "u 1." + "A" * 43, "u1." + "A" * 44])
def test_anything_else_is_not_a_token(token: str) -> None:
    assert parse_account_token(RESET, token) is None


def test_an_unregistered_address_has_a_stand_in_no_user_id_can_be() -> None:
    subject = absent_subject("nobody@example.com")
    assert subject == absent_subject("nobody@example.com") != absent_subject("other@example.com")
    assert "-" in subject


def test_the_html_body_escapes_user_data_and_the_text_carries_the_token() -> None:
    values = {
        "name": '<script>"x"</script>',
        "email": "a@b.co",
        "link": "http://h/p?token=t&x=1",
        "token": "t",
    }
    message = render("verify_email", "a@b.co", "Confirm", values)
    assert "&lt;script&gt;&quot;x&quot;&lt;/script&gt;" in message.html
    assert "<script>" not in message.html
    assert 'href="http://h/p?token=t&amp;x=1"' in message.html
    assert "\ntoken=t\n" in message.text
    assert message.link == values["link"]


def _message() -> Message:
    values = {"name": "Ada", "email": "ada@example.com", "link": "http://h/reset?token=abc", "token": "abc"}
    return render("password_reset", "ada@example.com", "Reset your Storefront password", values)


def test_the_file_mailer_writes_one_eml_with_text_and_html(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    FileMailer(tmp_path / "mail", "Storefront <no-reply@s.test>").send(_message())
    (path,) = (tmp_path / "mail").glob("*.eml")
    mail = email.message_from_bytes(path.read_bytes())
    assert mail["To"] == "ada@example.com"
    assert [p.get_content_type() for p in mail.walk()][1:] == ["text/plain", "text/html"]
    assert capsys.readouterr().err == ""  # no echo unless asked


def test_the_file_mailer_echoes_the_link_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    FileMailer(tmp_path, "s@s.test", echo=True).send(_message())
    assert "http://h/reset?token=abc" in capsys.readouterr().err


def test_an_unwritable_mail_directory_is_a_mail_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(MailError):
        FileMailer(blocker / "mail", "s@s.test").send(_message())


@pytest.mark.parametrize(("work", "slept"), [(0.1, [0.4]), (0.5, []), (0.7, [])])
def test_a_pace_waits_out_the_rest_of_its_floor(work: float, slept: list[float]) -> None:
    clock = FakeClock()
    pace = Pace(floor_seconds=0.5, clock=clock, sleep=clock.sleep)
    started = pace.start()
    clock.now += work
    pace.finish(started)
    assert clock.slept == pytest.approx(slept)


def test_mail_settings_by_stage() -> None:
    local = load_settings({"STAGE": "local"})
    assert (local.mail.backend, local.mail.directory) == ("file", ".local/mail")
    assert local.mail.reset_floor_seconds == 0.5  # make run: an .eml costs ~10 ms
    assert load_settings({"STAGE": "test"}).mail.reset_floor_seconds == 0
    assert local.require_verified_email is False
    deployed = load_settings(
        {
            "STAGE": "prod",
            "REQUIRE_VERIFIED_EMAIL": "true",
            "MAIL_SENDER": "no-reply@shop.example",
            "MAIL_CONFIGURATION_SET": "storefront-prod",
            "MAIL_LINK_BASE": "https://shop.example/",
        }
    )
    assert deployed.require_verified_email is True
    assert (deployed.mail.backend, deployed.mail.sender) == ("ses", "no-reply@shop.example")
    assert deployed.mail.configuration_set == "storefront-prod"
    assert deployed.mail.link_base == "https://shop.example"
    assert deployed.mail.reset_floor_seconds == 0.5
    assert os.sep not in deployed.mail.sender
