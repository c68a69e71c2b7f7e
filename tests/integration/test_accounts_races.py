"""Account recovery races: a reset token works once under concurrent confirmations; a confirm racing
logins leaves no session alive that the old password started; a reset racing the user's
deletion leaves nothing that works."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalice.test import Client

from chalicelib.clock import new_id
from chalicelib.store import keys
from chalicelib.store.table import Table
from tests.helpers import bearer, json_body
from tests.integration.test_accounts import EMAIL, NEW_PASSWORD, PASSWORD, confirm, login, post, register
from tests.mailbox import RecordingMailer


def together(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at once (released by one barrier); their results in order."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        start.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def sessions_of(table: Table, user_id: str) -> list[Any]:
    return table.partition_keys(keys.user_sessions_partition(user_id))


def test_ten_concurrent_confirmations_one_204_the_rest_401(client: Client, mailer: RecordingMailer) -> None:
    register(client)
    assert post(client, "/auth/password-reset", {"email": EMAIL}).status_code == 202
    (token,) = mailer.tokens(EMAIL, "password")
    passwords = [f"new-password-number-{i}" for i in range(10)]
    answers = together([functools.partial(confirm, client, token, p) for p in passwords])
    statuses = [a.status_code for a in answers]
    assert sorted(statuses) == [204] + [401] * 9
    winner = passwords[statuses.index(204)]
    losers = [p for p in passwords if p != winner][:3]  # (more wrong ones would meet the lockout)
    assert [login(client, p).status_code for p in losers] == [401] * 3
    assert login(client, winner).status_code == 200


def test_a_confirm_racing_logins_leaves_no_session_of_the_old_password(
    client: Client, mailer: RecordingMailer, table: Table
) -> None:
    user_id = register(client)
    assert post(client, "/auth/password-reset", {"email": EMAIL}).status_code == 202
    (token,) = mailer.tokens(EMAIL, "password")
    calls: list[Callable[[], Any]] = [lambda: login(client, PASSWORD) for _ in range(5)]
    calls.insert(2, lambda: confirm(client, token))
    answers = together(calls)
    assert answers[2].status_code == 204
    logins = [a for i, a in enumerate(answers) if i != 2]
    assert {a.status_code for a in logins} <= {200, 401}
    for started in (a for a in logins if a.status_code == 200):
        refreshed = post(client, "/auth/refresh", {"refresh_token": json_body(started)["refresh_token"]})
        assert refreshed.status_code == 401
    assert sessions_of(table, user_id) == []
    assert login(client, PASSWORD).status_code == 401
    assert login(client, NEW_PASSWORD).status_code == 200


def test_a_reset_racing_an_admin_delete_leaves_nothing_that_works(
    client: Client, mailer: RecordingMailer, table: Table
) -> None:
    user_id = register(client)
    json_body(login(client, PASSWORD))
    assert post(client, "/auth/password-reset", {"email": EMAIL}).status_code == 202
    admin = bearer(new_id(), "admin")
    calls: list[Callable[[], Any]] = [
        lambda: post(client, "/auth/password-reset", {"email": EMAIL}),
        lambda: confirm(client, mailer.tokens(EMAIL, "password")[0]),
        lambda: client.http.delete(f"/users/{user_id}", headers=admin),
        lambda: post(client, "/auth/password-reset", {"email": EMAIL}),
    ]
    answers = together(calls)
    assert answers[0].status_code == answers[3].status_code == 202
    assert answers[1].status_code in (204, 401)
    assert answers[2].status_code == 204
    # The user is gone with every session; no token mailed at any point works now
    assert table.get(keys.user_key(user_id)) is None
    assert sessions_of(table, user_id) == []
    for token in mailer.tokens(EMAIL, "password"):
        assert confirm(client, token, "after-the-delete-1").status_code == 401
    assert login(client, NEW_PASSWORD).status_code == 401
    # The address is free again, and the new user's account is untouched by the old tokens
    register(client)
    assert login(client, PASSWORD).status_code == 200
