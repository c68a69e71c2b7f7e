"""Refresh tokens, hardened (docs/security.md, "Sessions"):

- reuse detection cannot be switched off: a spent refresh token ends its session even once the
  session's failed-refresh limit is reached (a thief holding the current token could otherwise
  fill that limit with bad tokens, so that the victim's replay is only a 429);
- a session keeps a bounded number of spent digests (the newest ones), so that a long-lived
  session neither outgrows DynamoDB's 400 KB item limit (every refresh a 500) nor makes every
  authorizer read ever more expensive; items written before the bound keep working.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.api import deps
from chalicelib.config import get_settings
from chalicelib.errors import InvalidRefreshTokenError, RateLimitedError
from chalicelib.models.sessions import RefreshRequest
from chalicelib.security.keys import get_keyring
from chalicelib.security.refresh import digest, new_refresh_token, parse_refresh_token
from chalicelib.security.tokens import issue_token
from chalicelib.services import sessions as session_service
from chalicelib.services.lockout import LockoutPolicy
from chalicelib.store import keys
from chalicelib.store import sessions as session_store
from chalicelib.store.codec import to_attributes
from chalicelib.store.sessions import SessionStore
from chalicelib.store.table import Table
from tests.faults import Faults
from tests.helpers import ensure_user, json_body
from tests.integration import test_faults_atomicity as atomicity
from tests.integration.test_sessions import (
    DENIED,
    _tampered,
    assert_unauthorized,
    login,
    me,
    refresh,
    register,
)

# The documented bound (docs/security.md, "Reuse detection"): a session lists at most MAX spent
# digests; a rotation that finds the list full keeps the newest KEPT (its own included).
MAX, KEPT = 1000, 900
# A full list is ~23 KB: a session item stays well under this (DynamoDB's limit is 400 KB).
ITEM_SIZE_LIMIT = 25_000
LIMIT = LockoutPolicy().max_failures

# A new empty table per call (the fault scenarios' fixture, shared with the route-wide ones).
fresh = atomicity.fresh


# --- helpers ----------------------------------------------------------------------------


def attribute_size(wire: dict[str, Any]) -> int:
    """An upper bound of a DynamoDB attribute value's size, by DynamoDB's rules (a number is
    counted as its text, which is more than DynamoDB charges)."""
    kind, value = next(iter(wire.items()))
    if kind in ("S", "N"):
        return len(str(value).encode())
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS"):
        return sum(len(str(member).encode()) for member in value)
    if kind == "L":
        return 3 + sum(1 + attribute_size(member) for member in value)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + attribute_size(member) for name, member in value.items())
    raise AssertionError(f"unexpected attribute type {kind}")


def item_size(wire: dict[str, Any]) -> int:
    """An upper bound of a DynamoDB item's size: names and values of every attribute."""
    return sum(len(name.encode()) + attribute_size(value) for name, value in wire.items())


def session_key(refresh_token: str) -> dict[str, str]:
    parsed = parse_refresh_token(refresh_token)
    assert parsed is not None
    return dict(keys.session_key(parsed.user_id, parsed.session_id))


def parse_digest(refresh_token: str) -> str:
    """The digest the table keeps of a refresh token."""
    parsed = parse_refresh_token(refresh_token)
    assert parsed is not None
    return parsed.digest


def session_wire(table: Table, refresh_token: str) -> dict[str, Any] | None:
    """The session item as DynamoDB sends it (attribute types included)."""
    return table.get(session_key(refresh_token), wire=True)


def spent_of(table: Table, refresh_token: str) -> list[str]:
    """The session's spent digests as stored, oldest first (a String Set: sorted)."""
    wire = session_wire(table, refresh_token)
    assert wire is not None
    stored = wire.get("spent_digests", {"L": []})
    if "SS" in stored:
        return sorted(stored["SS"])
    return [member["S"] for member in stored["L"]]


def fake_digests(session_id: str, count: int) -> list[str]:
    """Digests of `count` random secrets of the session: refresh tokens spent long ago."""
    return [digest(session_id, secrets.token_urlsafe(32)) for _ in range(count)]


def raw_update(table: Table, refresh_token: str, expression: str, values: dict[str, Any]) -> None:
    """An UpdateItem that bypasses the app (what an earlier version of it, or time, left)."""
    key = session_key(refresh_token)
    table.client.update_item(
        TableName=table.name,
        Key=to_attributes(key),
        UpdateExpression=expression,
        ExpressionAttributeValues=to_attributes(values),
    )


def fill_spent(table: Table, refresh_token: str, older: int, newer: list[str] | None = None) -> None:
    """Replace the session's spent digests by `older` random ones, then `newer` (newest last):
    the session as it would be after that many more rotations. Written as the item holds
    them: a list, or a String Set if the item has one (as the code before the bound wrote)."""
    parsed = parse_refresh_token(refresh_token)
    assert parsed is not None
    listed = [*fake_digests(parsed.session_id, older), *(newer or [])]
    wire = session_wire(table, refresh_token)
    assert wire is not None
    as_stored: Any = set(listed) if "SS" in wire.get("spent_digests", {}) else listed
    raw_update(table, refresh_token, "SET spent_digests = :spent", {":spent": as_stored})


def legacy_session(table: Table, user_id: str, spent: int) -> tuple[str, str]:
    """A session item as the code before the bound left it: its spent digests a String Set.

    The old code has rotated its first token once: returns (that spent token, the current one).
    `spent` more random digests are in the set too (spent before, in no known order)."""
    user = ensure_user(user_id, table=table)
    first = session_service.start_session(table, user, get_keyring(), get_settings(), int(time.time()))
    parsed = parse_refresh_token(first.refresh_token)
    assert parsed is not None
    current, current_digest = new_refresh_token(user_id, parsed.session_id)
    older = fake_digests(parsed.session_id, spent)
    raw_update(table, first.refresh_token, "SET current_digest = :current", {":current": current_digest})
    for start in range(0, len(older) + 1, 2000):  # ADD of a String Set, as the old rotation did
        members = {parsed.digest} if start == 0 else set()
        members.update(older[start : start + 2000])
        if members:
            raw_update(table, first.refresh_token, "ADD spent_digests :spent", {":spent": members})
    return first.refresh_token, current


def service_refresh(table: Table, refresh_token: str, now: int | None = None) -> str:
    """Refresh through the service (no HTTP, no authorizer); the new refresh token."""
    tokens = session_service.refresh(
        table,
        RefreshRequest(refresh_token=refresh_token),
        get_keyring(),
        get_settings(),
        LockoutPolicy(),
        now,
    )
    return tokens.refresh_token


def access_token(refresh_token: str) -> dict[str, Any]:
    """A fresh access token of the session a refresh token names (as a token response)."""
    parsed = parse_refresh_token(refresh_token)
    assert parsed is not None
    token, _ = issue_token(
        parsed.user_id, "user", get_keyring(), get_settings(), session_id=parsed.session_id
    )
    return {"access_token": token}


def fill_the_limit(client: Client, refresh_token: str) -> None:
    """LIMIT bad refresh tokens naming the session: its failed-refresh window is full."""
    for _ in range(LIMIT):
        assert_unauthorized(refresh(client, _tampered(refresh_token)))


# --- defect 1: reuse detection over the attempt limit ------------------------------------


def test_a_thief_cannot_silence_reuse_detection_by_filling_the_attempt_limit(client: Client) -> None:
    # Given a thief who copied the victim's refresh token and refreshed first (the victim's
    # copy is now spent), then filled the session's failed-refresh window with bad tokens
    register(client)
    victim = login(client)
    thief = json_body(refresh(client, victim["refresh_token"]))
    fill_the_limit(client, thief["refresh_token"])
    # When the victim's client presents its (spent) token
    replay = refresh(client, victim["refresh_token"])
    # Then it is a 401 that ends the whole session, not a 429 that leaves it to the thief
    assert_unauthorized(replay)
    assert "Retry-After" not in replay.headers
    assert me(client, thief) == DENIED
    assert me(client, victim) == DENIED
    assert_unauthorized(refresh(client, thief["refresh_token"]))
    # ...for good: once the window has closed, the thief's refresh token is still refused
    after_the_window = int(time.time()) + LockoutPolicy().window_seconds + 1
    with pytest.raises(InvalidRefreshTokenError):
        service_refresh(deps.get_table(), thief["refresh_token"], now=after_the_window)
    assert session_wire(deps.get_table(), thief["refresh_token"]) is None


def test_over_the_limit_only_a_spent_token_ends_the_session(client: Client) -> None:
    # Given a session whose first token is spent, and whose failed-refresh window is full
    register(client)
    first = login(client)
    other = login(client)  # another session of the same user
    current = json_body(refresh(client, first["refresh_token"]))
    fill_the_limit(client, current["refresh_token"])
    # When tokens that are neither current nor spent are presented: a tampered secret,
    # another session's secret under this session, this session's secret under another
    sid = current["refresh_token"].split(".")[1]
    other_user, other_sid, other_secret = other["refresh_token"].split(".")
    for neither in (
        _tampered(current["refresh_token"]),
        f"{other_user}.{sid}.{other_secret}",
        _tampered(first["refresh_token"]),
    ):
        limited = refresh(client, neither)
        # Then each is still a 429 with Retry-After, and the session goes on
        assert limited.status_code == 429, limited.body
        assert json_body(limited)["code"] == "rate_limited"
        assert 0 < int(limited.headers["Retry-After"]) <= LockoutPolicy().window_seconds
        assert me(client, current) == 200
    # ...as for the current token itself (documented: the limit holds even for the right token)
    assert refresh(client, current["refresh_token"]).status_code == 429
    assert me(client, current) == 200
    # But the spent token ends the session at once, over the limit as under it
    assert_unauthorized(refresh(client, first["refresh_token"]))
    assert me(client, current) == DENIED
    assert_unauthorized(refresh(client, current["refresh_token"]))
    # ...and only that session
    assert me(client, other) == 200
    assert other_sid != sid


def test_over_the_limit_a_spent_token_ends_the_session_through_the_service(table: Table) -> None:
    # The same below HTTP: the over-limit branch reads the session and ends it
    user = ensure_user("ada", table=table)
    tokens = session_service.start_session(table, user, get_keyring(), get_settings(), int(time.time()))
    current = service_refresh(table, tokens.refresh_token)
    for _ in range(LIMIT):
        with pytest.raises(InvalidRefreshTokenError):
            service_refresh(table, _tampered(current))
    with pytest.raises(RateLimitedError):
        service_refresh(table, _tampered(current))
    with pytest.raises(InvalidRefreshTokenError):
        service_refresh(table, tokens.refresh_token)
    assert SessionStore(table).get_live(user.id, current.split(".")[1], int(time.time())) is None


# --- defect 2: a bounded list of spent digests -------------------------------------------


def test_a_session_at_the_bound_keeps_refreshing_and_stays_small(client: Client, table: Table) -> None:
    # Given a session whose spent list is one short of the bound, its newest entry the token
    # spent by its last refresh
    register(client)
    first = login(client)
    second = json_body(refresh(client, first["refresh_token"]))
    (spent,) = spent_of(table, second["refresh_token"])
    fill_spent(table, second["refresh_token"], MAX - 2, [spent])
    # When it refreshes past the bound
    tokens = [second["refresh_token"]]
    lengths, sizes = [], []
    for _ in range(3):
        response = refresh(client, tokens[-1])
        # Then every refresh succeeds (no 500)...
        assert response.status_code == 200, response.body
        tokens.append(json_body(response)["refresh_token"])
        wire = session_wire(table, tokens[-1])
        assert wire is not None
        lengths.append(len(spent_of(table, tokens[-1])))
        sizes.append(item_size(wire))
    # ...the list reached the bound, was cut back to the newest KEPT, and grows again from there
    assert lengths == [MAX, KEPT, KEPT + 1]
    # ...and the item stays small: under 25 KB, far from DynamoDB's 400 KB item limit
    assert max(sizes) < ITEM_SIZE_LIMIT, sizes
    # ...keeping the newest spent digests, in order
    listed = spent_of(table, tokens[-1])
    assert listed[-4:] == [spent, *(parse_digest(t) for t in tokens[:-1])]
    # And a recently spent token presented again still ends the session
    assert_unauthorized(refresh(client, tokens[1]))
    assert_unauthorized(refresh(client, tokens[-1]))
    assert me(client, access_token(tokens[-1])) == DENIED
    assert me(client, first) == DENIED


@pytest.mark.slow
def test_the_list_is_cut_back_once_per_hundred_rotations_never_passing_the_bound(table: Table) -> None:
    # Given a session one short of the bound
    user = ensure_user("ada", table=table)
    tokens = session_service.start_session(table, user, get_keyring(), get_settings(), int(time.time()))
    token = service_refresh(table, tokens.refresh_token)
    fill_spent(table, token, MAX - 2, spent_of(table, token))
    # When it rotates MAX - KEPT + 4 times, the UpdateItem calls of each refresh counted
    rotations = MAX - KEPT + 4
    updates = []
    for _ in range(rotations):
        recorder = Faults(table.client)
        with recorder.armed():
            token = service_refresh(table, token)
        updates.append(recorder.calls.count("UpdateItem"))
    # Then each refresh is one UpdateItem for the attempt counter and one for the rotation,
    # except the two that found the list full (at rotation 2, and MAX - KEPT + 1 later): a
    # refused UpdateItem, then the rotation writing the newest KEPT digests
    assert [i + 1 for i, count in enumerate(updates) if count == 3] == [2, 2 + MAX - KEPT + 1]
    assert set(updates) == {2, 3}
    # ...so the list never passed the bound and ends at KEPT + 1 (the last rotation's own)
    listed = spent_of(table, token)
    assert len(listed) == KEPT + 1
    # ...the oldest cut first: the token spent MAX - KEPT + 5 rotations ago is still known
    assert listed[-(MAX - KEPT + 5)] == parse_digest(tokens.refresh_token)
    wire = session_wire(table, token)
    assert wire is not None
    assert item_size(wire) < ITEM_SIZE_LIMIT


def test_of_concurrent_rotations_at_the_bound_exactly_one_wins(table: Table) -> None:
    # Given a session whose spent list is full
    user = ensure_user("ada", table=table)
    tokens = session_service.start_session(table, user, get_keyring(), get_settings(), int(time.time()))
    token = service_refresh(table, tokens.refresh_token)
    fill_spent(table, token, MAX - 1, spent_of(table, token))
    body = RefreshRequest(refresh_token=token)
    policy = LockoutPolicy(max_failures=100)

    def attempt(_: int) -> str:
        try:
            session_service.refresh(table, body, get_keyring(), get_settings(), policy)
        except InvalidRefreshTokenError:
            return "refused"
        return "rotated"

    # When six rotations with the current token race, every call recorded
    recorder = Faults(table.client)
    with recorder.armed(), ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(attempt, range(6)))
    # (each first write was refused for want of room, and the winner wrote the cut list: more
    # UpdateItems than one attempt counter and one rotation each)
    assert recorder.calls.count("UpdateItem") > 2 * 6
    # Then exactly one wins; the losers presented a spent token, which ended the session
    assert outcomes.count("rotated") == 1
    assert outcomes.count("refused") == 5
    assert session_wire(table, token) is None


def test_a_token_spent_beyond_the_bound_is_only_an_invalid_one(client: Client, table: Table) -> None:
    # Given a token spent so long ago (MAX rotations) that the next cut forgets it
    register(client)
    first = login(client)
    second = json_body(refresh(client, first["refresh_token"]))
    (oldest,) = spent_of(table, second["refresh_token"])
    parsed = parse_refresh_token(second["refresh_token"])
    assert parsed is not None
    fill_spent(table, second["refresh_token"], 0, [oldest, *fake_digests(parsed.session_id, MAX - 1)])
    third = json_body(refresh(client, second["refresh_token"]))
    assert oldest not in spent_of(table, third["refresh_token"])
    assert parse_digest(second["refresh_token"]) in spent_of(table, third["refresh_token"])
    # When it is presented again
    assert_unauthorized(refresh(client, first["refresh_token"]))
    # Then it is just invalid (401): the session goes on (documented trade-off)
    assert me(client, third) == 200
    fourth = refresh(client, third["refresh_token"])
    assert fourth.status_code == 200, fourth.body
    # ...and over the limit it is one more token neither current nor spent: a 429
    fill_the_limit(client, json_body(fourth)["refresh_token"])
    assert refresh(client, first["refresh_token"]).status_code == 429
    assert me(client, json_body(fourth)) == 200


# --- items written before the bound: spent digests as a String Set ------------------------


def test_an_item_from_before_the_bound_keeps_working_and_its_spent_tokens_are_still_reuse(
    client: Client, table: Table
) -> None:
    # Given a session item as the previous code left it (spent digests: a String Set)
    spent, current = legacy_session(table, "ada", spent=20)
    assert "SS" in (session_wire(table, current) or {})["spent_digests"]
    # When it refreshes
    response = refresh(client, current)
    # Then that works, and the set is now the list (its digests first, then this one)
    assert response.status_code == 200, response.body
    renewed = json_body(response)
    wire = session_wire(table, renewed["refresh_token"])
    assert wire is not None
    assert "L" in wire["spent_digests"]
    listed = spent_of(table, renewed["refresh_token"])
    assert len(listed) == 22
    assert listed[-1] == parse_digest(current)
    assert parse_digest(spent) in listed
    assert refresh(client, renewed["refresh_token"]).status_code == 200
    # And a token the old code spent, presented again, still ends the session
    assert_unauthorized(refresh(client, spent))
    assert me(client, access_token(current)) == DENIED


def test_an_item_from_before_the_bound_near_the_item_limit_is_cut_back(client: Client, table: Table) -> None:
    # Given a session the old code let grow to ~375 KB (17,000 spent digests; at ~18,000 it
    # passes 400 KB and every refresh of it fails)
    _, current = legacy_session(table, "ada", spent=17_000)
    wire = session_wire(table, current)
    assert wire is not None
    assert item_size(wire) > 370_000
    # When it refreshes
    response = refresh(client, current)
    # Then that works, and the item is cut back to the newest KEPT spent digests
    assert response.status_code == 200, response.body
    renewed = json_body(response)["refresh_token"]
    wire = session_wire(table, renewed)
    assert wire is not None
    assert item_size(wire) < ITEM_SIZE_LIMIT
    listed = spent_of(table, renewed)
    assert len(listed) == KEPT
    assert listed[-1] == parse_digest(current)
    assert refresh(client, renewed).status_code == 200


def test_the_documented_bound_is_the_stores() -> None:
    assert (session_store.SPENT_DIGESTS_MAX, session_store.SPENT_DIGESTS_KEPT) == (MAX, KEPT)
    assert MAX * 23 < ITEM_SIZE_LIMIT  # 22 characters each, 1 more as a list element


# --- a fault at any call of the new paths --------------------------------------------------


def _full_list(client: Client) -> atomicity.Context:
    """A user whose session's spent list is full: its next refresh cuts it back."""
    ctx = atomicity.user(client)
    fill_spent(deps.get_table(), ctx["refresh"], MAX)
    return ctx


def _legacy_set(client: Client) -> atomicity.Context:
    """A session item with spent digests as a String Set: its next refresh rewrites them."""
    ctx = atomicity.user(client)
    _, current = legacy_session(deps.get_table(), ctx["id"], spent=30)
    return {**ctx, "refresh": current}


def _spent_over_the_limit(client: Client) -> atomicity.Context:
    """A session whose first token is spent and whose failed-refresh window is full."""
    ctx = atomicity.user(client)
    renewed = atomicity.send(client, "POST", "/auth/refresh", {"refresh_token": ctx["refresh"]})
    assert renewed.status_code == 200, renewed.body
    for _ in range(LIMIT):
        bad = _tampered(json_body(renewed)["refresh_token"])
        assert atomicity.send(client, "POST", "/auth/refresh", {"refresh_token": bad}).status_code == 401
    return ctx


def _refresh(client: Client, ctx: atomicity.Context) -> Any:
    return atomicity.send(client, "POST", "/auth/refresh", {"refresh_token": ctx["refresh"]})


FAULT_SCENARIOS: dict[str, tuple[atomicity.Scenario, int, int]] = {
    # name: scenario, the status without faults, how many UpdateItem calls it makes
    "refresh at the bound (cut)": (atomicity.Scenario(_full_list, _refresh), 200, 3),
    "refresh of a String Set item": (atomicity.Scenario(_legacy_set, _refresh), 200, 3),
    "spent token over the limit": (atomicity.Scenario(_spent_over_the_limit, _refresh), 401, 1),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(FAULT_SCENARIOS))
def test_a_fault_at_any_call_of_the_new_paths_leaves_the_whole_change_or_none(
    name: str, fresh: Callable[[], None]
) -> None:
    scenario, status, updates = FAULT_SCENARIOS[name]
    baseline = atomicity.run(scenario, fresh)
    assert baseline.status == status
    assert baseline.calls.count("UpdateItem") == updates, baseline.calls
    atomicity.assert_whole_change_or_none(name, scenario, fresh, baseline)
