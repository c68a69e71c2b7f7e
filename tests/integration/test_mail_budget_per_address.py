"""The mail budget is the address's (docs/accounts.md, "Limits and enumeration"): at most 3
mails per address and purpose per hour, however often the address's account is deleted and
registered again; a known and an unknown address still make the same calls, on one key
scheme; a token stays bound to the user it names; items stored under the old, per-user keys
cause no error and no bypass. The new write paths meet a fault at each of their calls."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.api import deps
from chalicelib.errors import InvalidAccountTokenError
from chalicelib.models.accounts import PasswordResetConfirm, PasswordResetRequest, VerifyEmailRequest
from chalicelib.models.users import UserCreate
from chalicelib.security.account_tokens import RESET, VERIFY, new_account_token
from chalicelib.security.passwords import TEST_POLICY, PasswordHasher
from chalicelib.services import accounts
from chalicelib.services.caller import Caller
from chalicelib.store import keys
from chalicelib.store.account_tokens import AccountTokenStore, MailBudget
from chalicelib.store.expr import Update
from chalicelib.store.table import Table
from tests.faults import Faults
from tests.helpers import json_body
from tests.integration import test_faults_atomicity as atomicity
from tests.integration.test_accounts import NEW_PASSWORD, PASSWORD, confirm, login, post
from tests.mailbox import RecordingMailer

ADDRESS = "victim@example.com"
HOUR = 3600
START = 1_800_000_000

# A new empty table per call (the route-wide fault scenarios' fixture).
fresh = atomicity.fresh


def register(client: Client, email: str = ADDRESS) -> str:
    answer = post(client, "/users", {"email": email, "password": PASSWORD, "name": "Vic"})
    assert answer.status_code == 201, answer.body
    return str(json_body(answer)["id"])


def delete_account(client: Client, user_id: str, email: str = ADDRESS) -> None:
    access = json_body(login(client, PASSWORD, email))["access_token"]
    gone = client.http.delete(f"/users/{user_id}", headers={"Authorization": f"Bearer {access}"})
    assert gone.status_code == 204, gone.body


def resets(mailer: RecordingMailer, email: str = ADDRESS) -> list[str]:
    return mailer.tokens(email, "password")


def verifications(mailer: RecordingMailer, email: str = ADDRESS) -> list[str]:
    return mailer.tokens(email, "Confirm")


# --- the reproduction: delete and register again, within one hour --------------------------


def test_deleting_and_registering_the_address_again_does_not_renew_its_reset_budget(
    client: Client, mailer: RecordingMailer
) -> None:
    for _ in range(4):
        user_id = register(client)
        for _ in range(4):
            assert post(client, "/auth/password-reset", {"email": ADDRESS}).status_code == 202
        delete_account(client, user_id)
    assert len(resets(mailer)) == 3  # 12 before: 3 per account


def test_registration_and_resend_share_the_addresss_verification_budget(
    client: Client, mailer: RecordingMailer
) -> None:
    for _ in range(4):
        user_id = register(client)  # 201 every time, with a mail only while the budget allows
        access = json_body(login(client, PASSWORD, ADDRESS))["access_token"]
        assert post(client, "/auth/verify-email/resend", token=access).status_code == 202
        delete_account(client, user_id)
    assert len(verifications(mailer)) == 3  # 8 before: 2 per account
    # The reset budget is another purpose's: untouched by the verification mails
    register(client)
    assert post(client, "/auth/password-reset", {"email": ADDRESS}).status_code == 202
    assert len(resets(mailer)) == 1


def _settings() -> Any:
    from chalicelib.config import get_settings

    return get_settings()


def _hasher() -> PasswordHasher:
    return PasswordHasher(TEST_POLICY)


def _register_at(table: Table, ctx: accounts.MailContext, now: int) -> str:
    body = UserCreate(email=ADDRESS, password=PASSWORD, name="Vic")
    return accounts.register(table, body, _hasher(), ctx, now=now).value.id


def _delete(table: Table, user_id: str) -> None:
    table.delete(keys.email_claim_key(ADDRESS))
    table.delete(keys.user_key(user_id))


def test_over_the_budget_registration_still_succeeds_without_a_mail_and_the_window_reopens(
    table: Table,
) -> None:
    mailer = RecordingMailer()
    ctx = accounts.MailContext(mailer, _settings())
    for i in range(3):
        _delete(table, _register_at(table, ctx, START + i))
    user_id = _register_at(table, ctx, START + 10)  # the fourth account within the hour
    assert len(verifications(mailer)) == 3
    caller = Caller(user_id=user_id, role="user")
    accounts.resend_verification(table, caller, ctx, now=START + HOUR - 1)  # still the same window
    assert len(verifications(mailer)) == 3
    accounts.resend_verification(table, caller, ctx, now=START + HOUR)  # the window has expired
    assert len(verifications(mailer)) == 4
    accounts.verify_email(table, VerifyEmailRequest(token=verifications(mailer)[-1]), now=START + HOUR + 1)
    # A registration after an expired window opens a new one (sent = 1) in its transaction
    _delete(table, user_id)
    _register_at(table, ctx, START + 3 * HOUR)
    item = table.get(keys.account_token_key(VERIFY, accounts.address_subject(ADDRESS)))
    assert item is not None
    assert (item["sent"], item["window_start"]) == (1, START + 3 * HOUR)
    assert len(verifications(mailer)) == 5


# --- enumeration: the same calls, on the same key scheme ------------------------------------


def _address_pk(email: str) -> str:
    return "ACCOUNT#address-" + hashlib.sha256(email.encode()).hexdigest()[:32]


def test_known_and_unknown_addresses_make_the_same_calls_on_keys_of_one_form(table: Table) -> None:
    mailer = RecordingMailer()
    ctx = accounts.MailContext(mailer, _settings())
    accounts.register(table, UserCreate(email=ADDRESS, password=PASSWORD, name="Vic"), _hasher(), ctx)
    written: list[str] = []

    def record_key(params: dict[str, Any], **_: Any) -> None:
        written.append(params["Key"]["pk"]["S"])

    table.client.meta.events.register("before-parameter-build.dynamodb.UpdateItem", record_key)
    calls, pks = {}, {}
    for email in (ADDRESS, "nobody@example.com"):
        written.clear()
        with Faults(table.client).armed() as recorded:
            for i in range(5):  # three within the budget, two over it
                accounts.request_password_reset(table, PasswordResetRequest(email=email), ctx, now=START + i)
        calls[email], pks[email] = recorded.calls, set(written)
    table.client.meta.events.unregister("before-parameter-build.dynamodb.UpdateItem", record_key)
    assert calls[ADDRESS] == calls["nobody@example.com"] == ["GetItem", "GetItem", "UpdateItem"] * 5
    # One item per address either way, named by a hash of the address (not a user id), so
    # the requests are of one size too
    assert pks == {email: {_address_pk(email)} for email in pks}
    assert len(resets(mailer)) == 3


def test_an_address_is_one_budget_before_and_after_it_registers(
    client: Client, mailer: RecordingMailer
) -> None:
    for _ in range(3):  # asked while nobody has the address: no mail, but counted
        assert post(client, "/auth/password-reset", {"email": " Victim@Example.com "}).status_code == 202
    register(client)
    assert post(client, "/auth/password-reset", {"email": ADDRESS}).status_code == 202
    assert resets(mailer) == []


# --- a token stays bound to the user it names ----------------------------------------------


def test_a_token_of_a_deleted_account_is_refused_for_the_address_registered_again(
    client: Client, mailer: RecordingMailer
) -> None:
    first = register(client)
    (first_verification,) = verifications(mailer)
    assert post(client, "/auth/password-reset", {"email": ADDRESS}).status_code == 202
    (first_reset,) = resets(mailer)
    delete_account(client, first)
    second = register(client)
    # The address's reset item still holds the first account's digest: the token names a
    # user that is gone, so it is refused, and the new account is untouched.
    assert confirm(client, first_reset).status_code == 401
    assert post(client, "/auth/verify-email", {"token": first_verification}).status_code == 401
    assert login(client, NEW_PASSWORD, ADDRESS).status_code == 401
    session = json_body(login(client, PASSWORD, ADDRESS))
    me = client.http.get("/users/me", headers={"Authorization": f"Bearer {session['access_token']}"})
    assert (json_body(me)["id"], json_body(me)["email_verified"]) == (second, False)
    # The new account's own tokens work
    assert post(client, "/auth/verify-email", {"token": verifications(mailer)[-1]}).status_code == 204
    assert post(client, "/auth/password-reset", {"email": ADDRESS}).status_code == 202
    assert confirm(client, resets(mailer)[-1]).status_code == 204
    assert login(client, NEW_PASSWORD, ADDRESS).status_code == 200


def test_a_token_is_refused_when_the_addresss_item_holds_it_but_its_user_is_gone(table: Table) -> None:
    mailer = RecordingMailer()
    ctx = accounts.MailContext(mailer, _settings(), MailBudget(mails=1))
    first = _register_at(table, ctx, START)
    (token,) = verifications(mailer)
    _delete(table, first)
    # The next account of the address is registered over the budget: no token of its own, so
    # the address's item still holds the first account's current, unexpired digest.
    second = _register_at(table, ctx, START + 5)
    assert len(verifications(mailer)) == 1
    item = table.get(keys.account_token_key(VERIFY, accounts.address_subject(ADDRESS)))
    assert item is not None
    assert (item["sent"], item["token_expires_at"]) == (1, START + 1800)
    with pytest.raises(InvalidAccountTokenError):
        accounts.verify_email(table, VerifyEmailRequest(token=token), now=START + 6)
    reset, digest = new_account_token(RESET, first)
    assert AccountTokenStore(table, RESET).issue(
        accounts.address_subject(ADDRESS), digest, START, MailBudget()
    )
    confirming = PasswordResetConfirm(token=reset, new_password=NEW_PASSWORD)
    with pytest.raises(InvalidAccountTokenError):
        accounts.confirm_password_reset(table, confirming, _hasher(), now=START + 6)
    user = table.get(keys.user_key(second))
    assert user is not None
    assert user["email_verified"] is False


# --- items of the old shape (keyed by user id) ---------------------------------------------


def test_items_stored_under_the_old_per_user_keys_are_left_to_their_ttl(
    client: Client, mailer: RecordingMailer, table: Table
) -> None:
    user_id = register(client)
    now = int(time.time())
    old_reset, digest = new_account_token(RESET, user_id)
    old_items = {
        # A full budget and a current token of the user, as the old code kept them
        user_id: {"digest": digest, "token_expires_at": now + 1800, "sent": 3},
        # The old stand-in of an unregistered address
        accounts.absent_subject("nobody@example.com"): {
            "digest": "x",
            "token_expires_at": now + 1800,
            "sent": 1,
        },
    }
    for subject, fields in old_items.items():
        table.put(
            {
                **keys.account_token_key(RESET, subject),
                "type": "account_token",
                "id": subject,
                "purpose": RESET,
                "window_start": now,
                "expires_at": now + HOUR,
                **fields,
            }
        )
    before = {subject: table.get(keys.account_token_key(RESET, subject)) for subject in old_items}
    answers = [
        post(client, "/auth/password-reset", {"email": e}) for e in [ADDRESS] * 4 + ["nobody@example.com"]
    ]
    assert {a.status_code for a in answers} == {202}
    assert len(resets(mailer)) == 3  # the address's own budget: nothing read from the old item
    assert confirm(client, old_reset).status_code == 401  # its digest is in an item never read again
    for subject in old_items:  # untouched: the table's TTL removes them
        assert table.get(keys.account_token_key(RESET, subject)) == before[subject]
    assert confirm(client, resets(mailer)[-1]).status_code == 204


# --- a fault at any call of the new write paths ---------------------------------------------


def _registered_and_deleted(times: int) -> Callable[[Client], atomicity.Context]:
    def setup(client: Client) -> atomicity.Context:
        for _ in range(times):
            made = atomicity.user(client)
            gone = atomicity.send(client, "DELETE", f"/users/{made['id']}", token=made["token"])
            assert gone.status_code == 204, gone.body
        return {"email": "ada@example.com"}

    return setup


def _aged(
    purpose: str, setup: Callable[[Client], atomicity.Context]
) -> Callable[[Client], atomicity.Context]:
    """After `setup`, the address's window of `purpose` opened two hours ago (expired)."""

    def aged(client: Client) -> atomicity.Context:
        ctx = setup(client)
        key = keys.account_token_key(purpose, accounts.address_subject(ctx["email"]))
        deps.get_table().update(key, Update().set("window_start", int(time.time()) - 2 * HOUR))
        return ctx

    return aged


def _with_full_reset_budget(client: Client) -> atomicity.Context:
    """A user whose address has had its three reset mails (a full window)."""
    made = atomicity.user(client)
    for _ in range(3):
        asked = atomicity.send(client, "POST", "/auth/password-reset", {"email": made["email"]})
        assert asked.status_code == 202
    return made


def _register(client: Client, _: atomicity.Context) -> Any:
    body = {"email": "ada@example.com", "password": PASSWORD, "name": "ada"}
    return atomicity.send(client, "POST", "/users", body)


def _reset_request(client: Client, ctx: atomicity.Context) -> Any:
    return atomicity.send(client, "POST", "/auth/password-reset", {"email": ctx["email"]})


FAULT_SCENARIOS: dict[str, tuple[atomicity.Scenario, list[str]]] = {
    # name: scenario, the calls it makes without faults
    "register again (counted in the address's open window)": (
        atomicity.Scenario(_registered_and_deleted(1), _register),
        ["GetItem", "TransactWriteItems"],
    ),
    "register over the address's budget (no token)": (
        atomicity.Scenario(_registered_and_deleted(3), _register),
        ["GetItem", "TransactWriteItems"],
    ),
    "register again after the window expired (reopened)": (
        atomicity.Scenario(_aged(VERIFY, _registered_and_deleted(1)), _register),
        ["GetItem", "TransactWriteItems"],
    ),
    "reset request after a full window expired (reopened)": (
        atomicity.Scenario(_aged(RESET, _with_full_reset_budget), _reset_request),
        ["GetItem", "GetItem", "UpdateItem", "UpdateItem"],
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(FAULT_SCENARIOS))
def test_a_fault_at_any_call_of_the_new_paths_leaves_the_whole_change_or_none(
    name: str, fresh: Callable[[], None]
) -> None:
    scenario, calls = FAULT_SCENARIOS[name]
    baseline = atomicity.run(scenario, fresh)
    assert baseline.status < 300
    assert baseline.calls == calls
    atomicity.assert_whole_change_or_none(name, scenario, fresh, baseline)
