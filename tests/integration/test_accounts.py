"""Password reset and e-mail verification, through the routes (chalice's test
client) against the real engine; mail goes to a recording mailer passed in."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.api import deps
from chalicelib.config import reset_settings
from chalicelib.errors import InvalidAccountTokenError
from chalicelib.models.accounts import PasswordResetConfirm
from chalicelib.security.account_tokens import RESET, new_account_token
from chalicelib.security.passwords import TEST_POLICY, PasswordHasher
from chalicelib.services import accounts
from chalicelib.store import keys
from chalicelib.store.account_tokens import AccountTokenStore, MailBudget
from chalicelib.store.table import Table
from tests.helpers import json_body
from tests.mailbox import FakeClock, RecordingMailer

JSON = {"Content-Type": "application/json"}
EMAIL = "ada@example.com"
PASSWORD = "correct-horse-battery"
NEW_PASSWORD = "a-brand-new-password"


def post(client: Client, path: str, body: Any = None, token: str | None = None) -> Any:
    headers = {**JSON, **({"Authorization": f"Bearer {token}"} if token else {})}
    payload = json.dumps(body) if body is not None else ""
    return client.http.post(path, headers=headers, body=payload)


def register(client: Client, email: str = EMAIL) -> str:
    response = post(client, "/users", {"email": email, "password": PASSWORD, "name": "Ada"})
    assert response.status_code == 201, response.body
    return str(json_body(response)["id"])


def login(client: Client, password: str, email: str = EMAIL) -> Any:
    return post(client, "/auth/token", {"email": email, "password": password})


def reset_token(client: Client, mailer: RecordingMailer, email: str = EMAIL) -> str:
    assert post(client, "/auth/password-reset", {"email": email}).status_code == 202
    return mailer.tokens(email, "password")[-1]


def confirm(client: Client, token: str, password: str = NEW_PASSWORD) -> Any:
    return post(client, "/auth/password-reset/confirm", {"token": token, "new_password": password})


def test_forget_confirm_then_log_in_with_the_new_password(client: Client, mailer: RecordingMailer) -> None:
    register(client)
    old_session = json_body(login(client, PASSWORD))
    token = reset_token(client, mailer)
    answer = confirm(client, token)
    assert answer.status_code == 204
    assert answer.headers["Cache-Control"] == "no-store"
    assert login(client, PASSWORD).status_code == 401
    assert login(client, NEW_PASSWORD).status_code == 200
    # Every session of the user ended with the change
    assert post(client, "/auth/refresh", {"refresh_token": old_session["refresh_token"]}).status_code == 401
    me = client.http.get("/users/me", headers={"Authorization": f"Bearer {old_session['access_token']}"})
    assert me.status_code in (401, 403)


def test_a_token_works_once(client: Client, mailer: RecordingMailer) -> None:
    register(client)
    token = reset_token(client, mailer)
    assert confirm(client, token).status_code == 204
    again = confirm(client, token, "yet-another-password")
    assert again.status_code == 401
    assert json_body(again)["code"] == "unauthorized"
    assert login(client, NEW_PASSWORD).status_code == 200


@pytest.mark.parametrize(
    "token",
    ["", "not-a-token", "0" * 26 + "." + "A" * 43, "../../etc", "x" * 600],
)
def test_an_unknown_or_malformed_token_is_401_or_400_never_5xx(client: Client, token: str) -> None:
    status = confirm(client, token).status_code
    # "" and an over-long token fail the body's validation; the rest are simply not ours
    assert status == (400 if token in ("", "x" * 600) else 401)


def test_a_weak_new_password_is_400_and_the_token_stays(client: Client, mailer: RecordingMailer) -> None:
    register(client)
    token = reset_token(client, mailer)
    weak = confirm(client, token, "short")
    assert weak.status_code == 400
    assert json_body(weak)["details"][0]["loc"] == ["body", "new_password"]
    assert confirm(client, token).status_code == 204


def test_a_new_request_replaces_the_previous_token(client: Client, mailer: RecordingMailer) -> None:
    register(client)
    first = reset_token(client, mailer)
    second = reset_token(client, mailer)
    assert confirm(client, first).status_code == 401
    assert confirm(client, second).status_code == 204


def test_a_token_expires_after_thirty_minutes_even_before_ttl_deletes_it(table: Table) -> None:
    mailer = RecordingMailer()
    register_at = 1_800_000_000
    user = _stored_user(table)
    ctx = accounts.MailContext(mailer, _settings())
    accounts.request_password_reset(table, _reset_body(user.email), ctx, now=register_at)
    (token,) = mailer.tokens(user.email, "password")
    hasher = PasswordHasher(TEST_POLICY)
    body = PasswordResetConfirm(token=token, new_password=NEW_PASSWORD)
    with pytest.raises(InvalidAccountTokenError):
        accounts.confirm_password_reset(table, body, hasher, now=register_at + 30 * 60)
    accounts.confirm_password_reset(table, body, hasher, now=register_at + 30 * 60 - 1)


def test_three_mails_an_hour_then_still_202_without_mail(client: Client, mailer: RecordingMailer) -> None:
    register(client)
    mailer.sent.clear()  # the verification mail
    answers = [post(client, "/auth/password-reset", {"email": EMAIL}) for _ in range(5)]
    assert [a.status_code for a in answers] == [202] * 5
    assert len({a.body for a in answers}) == 1
    assert len(mailer.tokens(EMAIL, "password")) == 3


def test_the_budget_opens_again_after_an_hour(table: Table) -> None:
    store = AccountTokenStore(table, RESET)
    budget = MailBudget()
    start = 1_800_000_000
    issued = [store.issue("user-1", f"d{i}", start + i, budget) for i in range(4)]
    assert issued == [True, True, True, False]
    assert store.issue("user-1", "d-late", start + 3600, budget) is True
    item = store.get("user-1")
    assert item is not None
    assert (item.sent, item.window_start, item.digest) == (1, start + 3600, "d-late")


def test_known_and_unknown_addresses_get_identical_answers(client: Client, mailer: RecordingMailer) -> None:
    register(client)
    known = post(client, "/auth/password-reset", {"email": EMAIL})
    unknown = post(client, "/auth/password-reset", {"email": "nobody@example.com"})
    malformed = post(client, "/auth/password-reset", {"email": "not an address"})
    for other in (unknown, malformed):
        assert other.status_code == known.status_code == 202
        assert other.body == known.body
        assert _headers(other) == _headers(known)
    assert known.headers["Cache-Control"] == "no-store"


def _headers(response: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers.items() if k.lower() != "x-request-id"}


def test_known_and_unknown_addresses_make_the_same_dynamodb_calls(table: Table) -> None:
    user = _stored_user(table)
    ctx = accounts.MailContext(RecordingMailer(), _settings(), MailBudget(mails=1000))
    operations: list[str] = []
    record = lambda model, **_: operations.append(model.name)  # noqa: E731
    table.client.meta.events.register("before-call.dynamodb", record)
    sequences = {}
    for email in (user.email, "nobody@example.com"):
        operations.clear()
        for i in range(20):
            accounts.request_password_reset(table, _reset_body(email), ctx, now=1_800_000_000 + i)
        sequences[email] = list(operations)
    assert sequences[user.email] == sequences["nobody@example.com"]
    assert sequences[user.email][:3] == ["GetItem", "GetItem", "UpdateItem"]
    assert len(sequences[user.email]) == 60
    # Over budget, both refuse in the same single UpdateItem
    tight = accounts.MailContext(RecordingMailer(), _settings(), MailBudget(mails=1))
    for email in (user.email, "nobody@example.com"):
        operations.clear()
        accounts.request_password_reset(table, _reset_body(email), tight, now=1_800_000_100)
        sequences[email] = list(operations)
    assert sequences[user.email] == sequences["nobody@example.com"] == ["GetItem", "GetItem", "UpdateItem"]


def test_a_reset_clears_the_failed_login_lockout(
    client: Client, mailer: RecordingMailer, table: Table
) -> None:
    register(client)
    statuses = [login(client, "wrong-password").status_code for _ in range(6)]
    assert statuses[-1] == 429
    assert confirm(client, reset_token(client, mailer)).status_code == 204
    assert table.get(keys.login_attempts_key(EMAIL)) is None
    assert login(client, NEW_PASSWORD).status_code == 200


def test_a_mail_failure_still_answers_202_and_is_logged_with_a_metric(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    register(client)
    failing = RecordingMailer(fail=True)
    deps.use_mailer(failing)
    with caplog.at_level(logging.WARNING, logger="storefront"):
        answer = post(client, "/auth/password-reset", {"email": EMAIL})
    assert answer.status_code == 202
    failures = [r for r in caplog.records if r.getMessage() == "account mail not sent"]
    assert len(failures) == 1
    assert getattr(failures[0], "cause", None) == "ThrottlingException"


def test_register_verify_and_the_user_shows_email_verified(client: Client, mailer: RecordingMailer) -> None:
    user_id = register(client)
    session = json_body(login(client, PASSWORD))
    bearer = {"Authorization": f"Bearer {session['access_token']}"}
    assert json_body(client.http.get("/users/me", headers=bearer))["email_verified"] is False
    (token,) = mailer.tokens(EMAIL, "Confirm")
    verified = post(client, "/auth/verify-email", {"token": token})
    assert verified.status_code == 204
    assert verified.headers["Cache-Control"] == "no-store"
    assert json_body(client.http.get(f"/users/{user_id}", headers=bearer))["email_verified"] is True
    assert post(client, "/auth/verify-email", {"token": token}).status_code == 401
    # Already verified: 202, and no new mail
    assert post(client, "/auth/verify-email/resend", token=session["access_token"]).status_code == 202
    assert len(mailer.tokens(EMAIL, "Confirm")) == 1


def test_a_reset_token_is_no_verification_token(client: Client, mailer: RecordingMailer) -> None:
    register(client)
    token = reset_token(client, mailer)
    assert post(client, "/auth/verify-email", {"token": token}).status_code == 401
    (verification,) = mailer.tokens(EMAIL, "Confirm")
    assert confirm(client, verification).status_code == 401


def test_resend_mails_a_new_token_and_a_failed_mail_is_503_to_retry(
    client: Client, mailer: RecordingMailer
) -> None:
    register(client)
    access = json_body(login(client, PASSWORD))["access_token"]
    deps.use_mailer(RecordingMailer(fail=True))
    failed = post(client, "/auth/verify-email/resend", token=access)
    assert failed.status_code == 503
    assert json_body(failed)["code"] == "service_unavailable"
    assert "Retry-After" in failed.headers
    deps.use_mailer(mailer)
    resent = post(client, "/auth/verify-email/resend", token=access)
    assert resent.status_code == 202
    assert resent.headers["Cache-Control"] == "no-store"
    first, second = mailer.tokens(EMAIL, "Confirm")
    assert post(client, "/auth/verify-email", {"token": first}).status_code == 401  # replaced
    assert post(client, "/auth/verify-email", {"token": second}).status_code == 204


def test_resend_needs_a_token(client: Client) -> None:
    assert post(client, "/auth/verify-email/resend").status_code in (401, 403)


def test_an_unverified_user_cannot_order_where_the_stage_requires_it(
    client: Client, mailer: RecordingMailer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUIRE_VERIFIED_EMAIL", "true")
    reset_settings()
    register(client)
    access = json_body(login(client, PASSWORD))["access_token"]
    order = {"items": [{"product_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "quantity": 1}]}
    refused = post(client, "/orders", order, access)
    assert refused.status_code == 403
    assert json_body(refused)["code"] == "email_unverified"
    (token,) = mailer.tokens(EMAIL, "Confirm")
    assert post(client, "/auth/verify-email", {"token": token}).status_code == 204
    # Verified: the order goes on to the order rules (here: no such product)
    assert post(client, "/orders", order, access).status_code != 403
    monkeypatch.delenv("REQUIRE_VERIFIED_EMAIL")
    reset_settings()


def test_unverified_users_may_order_where_the_stage_does_not_require_it(client: Client) -> None:
    register(client)
    access = json_body(login(client, PASSWORD))["access_token"]
    order = {"items": [{"product_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV", "quantity": 1}]}
    assert post(client, "/orders", order, access).status_code != 403


def test_a_token_for_a_deleted_user_is_401(table: Table) -> None:
    user = _stored_user(table)
    token, digest = new_account_token(RESET, user.id)
    assert AccountTokenStore(table, RESET).issue(user.id, digest, 1_800_000_000, MailBudget())
    table.delete(keys.user_key(user.id))
    body = PasswordResetConfirm(token=token, new_password=NEW_PASSWORD)
    with pytest.raises(InvalidAccountTokenError):
        accounts.confirm_password_reset(table, body, PasswordHasher(TEST_POLICY), now=1_800_000_001)


def _settings() -> Any:
    from chalicelib.config import get_settings

    return get_settings()


def _reset_body(email: str) -> Any:
    from chalicelib.models.accounts import PasswordResetRequest

    return PasswordResetRequest(email=email)


def _stored_user(table: Table) -> Any:
    from tests.helpers import ensure_user

    return ensure_user("01ARZ3NDEKTSV4RRFFQ69G5FAV", table=table)


class SlowMailer(RecordingMailer):
    """A mailer that takes 0.2 s of a fake clock per mail (SES's latency)."""

    def __init__(self, clock: Any) -> None:
        super().__init__()
        self.clock = clock

    def send(self, message: Any) -> None:
        self.clock.now += 0.2
        super().send(message)


def test_a_reset_request_lasts_the_floor_whether_a_mail_goes_out_or_not(table: Table) -> None:
    user = _stored_user(table)
    clock = FakeClock()
    mailer = SlowMailer(clock)
    ctx = accounts.MailContext(mailer, _settings(), pace=accounts.Pace(0.5, clock, clock.sleep))
    durations = {}
    for email in (user.email, "nobody@example.com"):
        started = clock.now
        accounts.request_password_reset(table, _reset_body(email), ctx, now=1_800_000_000)
        durations[email] = clock.now - started
    assert len(mailer.sent) == 1  # only the registered address got a mail...
    assert durations[user.email] == pytest.approx(durations["nobody@example.com"]) == pytest.approx(0.5)
