"""Account recovery over real HTTP against `chalice local` (the test stage writes mail as `.eml` files
into MAIL_DIR, as `make run` does into .local/mail): the README's demo, verification, and
the same journey through the generated typed client."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest
import requests

from tests.mailbox import latest_token, mails_to

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "clients" / "python"))

from storefront_client import AuthenticatedClient, Client
from storefront_client.api.auth import (
    post_auth_password_reset,
    post_auth_password_reset_confirm,
    post_auth_token,
    post_auth_verify_email,
)
from storefront_client.api.users import get_users_me, post_users
from storefront_client.models import (
    AcceptedPublic,
    PasswordResetConfirm,
    PasswordResetRequest,
    TokenPublic,
    TokenRequest,
    UserCreate,
    UserPublic,
    VerifyEmailRequest,
)

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery"
NEW_PASSWORD = "a new password, mailed"


def address() -> str:
    return f"ada-{uuid.uuid4().hex[:8]}@example.com"


def post(live: str, path: str, body: dict[str, str]) -> requests.Response:
    return requests.post(f"{live}{path}", json=body, timeout=10)


def test_forget_mail_confirm_then_log_in_with_the_new_password(live: str) -> None:
    email = address()
    assert post(live, "/users", {"email": email, "password": PASSWORD, "name": "Ada"}).status_code == 201
    forgot = post(live, "/auth/password-reset", {"email": email})
    assert forgot.status_code == 202
    assert forgot.headers["Cache-Control"] == "no-store"
    unknown = post(live, "/auth/password-reset", {"email": address()})
    assert (unknown.status_code, unknown.json()) == (202, forgot.json())
    token = latest_token(email, "password")  # from the .eml file the server wrote
    confirmed = post(live, "/auth/password-reset/confirm", {"token": token, "new_password": NEW_PASSWORD})
    assert confirmed.status_code == 204
    assert confirmed.headers["Cache-Control"] == "no-store"
    assert post(live, "/auth/token", {"email": email, "password": PASSWORD}).status_code == 401
    assert post(live, "/auth/token", {"email": email, "password": NEW_PASSWORD}).status_code == 200
    again = post(live, "/auth/password-reset/confirm", {"token": token, "new_password": "third-password"})
    assert again.status_code == 401


def test_registration_mails_a_verification_whose_html_escapes_the_name(live: str) -> None:
    email = address()
    name = "<b>Ada</b> & co"
    assert post(live, "/users", {"email": email, "password": PASSWORD, "name": name}).status_code == 201
    (mail,) = mails_to(email)
    html = next(p for p in mail.walk() if p.get_content_type() == "text/html").get_payload(decode=True)
    assert isinstance(html, bytes)
    assert "&lt;b&gt;Ada&lt;/b&gt; &amp; co" in html.decode()
    assert "<b>Ada</b>" not in html.decode()
    verified = post(live, "/auth/verify-email", {"token": latest_token(email, "Confirm")})
    assert verified.status_code == 204
    tokens = post(live, "/auth/token", {"email": email, "password": PASSWORD}).json()
    me = requests.get(
        f"{live}/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=10
    )
    assert me.json()["email_verified"] is True


def test_reset_and_verification_through_the_typed_client(live: str) -> None:
    public = Client(base_url=live, raise_on_unexpected_status=True, timeout=20)
    email = address()
    user = post_users.sync(client=public, body=UserCreate(email=email, password=PASSWORD, name="Typed"))
    assert isinstance(user, UserPublic)
    assert user.email_verified is False
    verified = post_auth_verify_email.sync_detailed(
        client=public, body=VerifyEmailRequest(token=latest_token(email, "Confirm"))
    )
    assert verified.status_code == 204
    accepted = post_auth_password_reset.sync(client=public, body=PasswordResetRequest(email=email))
    assert isinstance(accepted, AcceptedPublic)
    confirmed = post_auth_password_reset_confirm.sync_detailed(
        client=public,
        body=PasswordResetConfirm(token=latest_token(email, "password"), new_password=NEW_PASSWORD),
    )
    assert confirmed.status_code == 204
    tokens = post_auth_token.sync(client=public, body=TokenRequest(email=email, password=NEW_PASSWORD))
    assert isinstance(tokens, TokenPublic)
    authed = AuthenticatedClient(base_url=live, token=tokens.access_token, timeout=20)
    me = get_users_me.sync(client=authed)
    assert isinstance(me, UserPublic)
    assert me.email_verified is True
