"""Property: no response or log line of the users routes ever contains a password or its hash
(nor, in the logs, the access token)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from chalicelib.clock import new_id
from chalicelib.store import keys
from chalicelib.store.table import Table
from tests.helpers import bearer

JSON = {"Content-Type": "application/json"}
# Any text, behind a marker that no legitimate output contains: a bare "/users/m" is a
# valid password, but finding it in a log line proves nothing.
passwords = st.text(st.characters(exclude_categories=["Cs"]), min_size=5, max_size=125).map(
    lambda tail: "pw~" + tail
)


def strings(value: Any) -> Iterator[str]:
    """Every string (keys and values) inside a decoded JSON document."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def assert_clean(response: Any, secrets: list[str]) -> None:
    raw = response.body.decode() if isinstance(response.body, bytes) else str(response.body or "")
    decoded = list(strings(json.loads(raw))) if raw else []
    for secret in secrets:
        assert secret not in raw
        assert all(secret not in text for text in decoded)
    assert "$argon2" not in raw
    assert "password_hash" not in raw


@settings(max_examples=25)
@given(first=passwords, second=passwords)
def test_no_users_route_response_or_log_line_contains_a_password_or_its_hash(
    client: Client, table: Table, capsys: pytest.CaptureFixture[str], first: str, second: str
) -> None:
    assume(first != second)  # the old password must stop working after the change
    email = f"p{uuid.uuid4().hex[:12]}@example.com"
    responses = []
    reg = client.http.post(
        "/users", headers=JSON, body=json.dumps({"email": email, "password": first, "name": "Prop"})
    )
    responses.append(reg)
    user_id = json.loads(reg.body)["id"]
    stored = table.get(keys.user_key(user_id))
    assert stored is not None
    secrets = [first, second, stored["password_hash"]]
    token = json.loads(
        client.http.post(
            "/auth/token", headers=JSON, body=json.dumps({"email": email, "password": first})
        ).body
    )
    me = {"Authorization": f"Bearer {token['access_token']}", **JSON}
    patch = json.dumps({"password": second, "name": "Prop2"})
    responses += [
        client.http.get("/users/me", headers=me),
        client.http.patch(f"/users/{user_id}", headers=me, body=patch),
    ]
    # The new password ended every session: the calls below need a new one
    token = json.loads(
        client.http.post(
            "/auth/token", headers=JSON, body=json.dumps({"email": email, "password": second})
        ).body
    )
    me = {"Authorization": f"Bearer {token['access_token']}", **JSON}
    responses += [
        client.http.get(f"/users/{user_id}", headers=me),
        client.http.get("/users?limit=5", headers=bearer(new_id(), "admin")),
        client.http.post("/auth/token", headers=JSON, body=json.dumps({"email": email, "password": first})),
        client.http.post(
            "/users", headers=JSON, body=json.dumps({"email": email, "password": first, "name": "Again"})
        ),
        client.http.post(
            "/users", headers=JSON, body=json.dumps({"email": "bad", "password": first, "name": ""})
        ),
        client.http.patch(
            f"/users/{user_id}", headers=me, body=json.dumps({"password": second, "extra": first})
        ),
    ]
    for response in responses:
        assert_clean(response, secrets)
    logged = capsys.readouterr()
    for secret in [*secrets, token["access_token"]]:
        assert secret not in logged.out + logged.err
        assert json.dumps(secret)[1:-1] not in logged.out + logged.err  # as a JSON log line escapes it
    assert [r.status_code for r in responses] == [201, 200, 200, 200, 200, 401, 409, 400, 400]


def test_no_account_route_response_or_log_line_contains_a_mailed_token(
    client: Client, table: Table, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reset and verification tokens reach only the mailbox (and their digests only
    the table): no response or log line carries one."""
    from chalicelib.api import deps
    from tests.mailbox import RecordingMailer

    mailer = RecordingMailer()
    deps.use_mailer(mailer)
    email = f"t{uuid.uuid4().hex[:12]}@example.com"
    password = "pw~a-long-password"
    responses = [
        client.http.post(
            "/users", headers=JSON, body=json.dumps({"email": email, "password": password, "name": "T"})
        ),
        client.http.post("/auth/password-reset", headers=JSON, body=json.dumps({"email": email})),
        client.http.post("/auth/password-reset", headers=JSON, body=json.dumps({"email": email})),
    ]
    (verification,) = mailer.tokens(email, "Confirm")
    first, second = mailer.tokens(email, "password")
    attempts = [
        ("/auth/verify-email", {"token": verification}),
        ("/auth/verify-email", {"token": verification}),  # spent: 401
        ("/auth/password-reset/confirm", {"token": first, "new_password": "pw~another-one"}),  # replaced
        ("/auth/password-reset/confirm", {"token": second, "new_password": "short"}),  # 400
        ("/auth/password-reset/confirm", {"token": second, "new_password": "pw~another-one"}),
    ]
    responses += [client.http.post(path, headers=JSON, body=json.dumps(body)) for path, body in attempts]
    deps.use_mailer(RecordingMailer(fail=True))
    token = json.loads(
        client.http.post(
            "/auth/token", headers=JSON, body=json.dumps({"email": email, "password": "pw~another-one"})
        ).body
    )
    me = {"Authorization": f"Bearer {token['access_token']}", **JSON}
    responses.append(client.http.post("/auth/verify-email/resend", headers=me))  # verified: no mail
    # The budget's third mail fails: logged (its cause only), still 202
    responses.append(
        client.http.post("/auth/password-reset", headers=JSON, body=json.dumps({"email": email}))
    )
    deps.use_mailer(None)
    assert [r.status_code for r in responses] == [201, 202, 202, 204, 401, 401, 400, 204, 202, 202]
    secrets = [verification, first, second, *(t.split(".", 1)[1] for t in (verification, first, second))]
    for response in responses:
        assert_clean(response, secrets)
    logged = capsys.readouterr()
    assert "account mail not sent" in logged.out + logged.err
    for secret in secrets:
        assert secret not in logged.out + logged.err
        assert json.dumps(secret)[1:-1] not in logged.out + logged.err
