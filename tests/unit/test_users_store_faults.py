"""Fault injection (botocore Stubber): transaction conflicts are retried (by Table.transact_write,
for every repository), then become a 503; a failed condition is never retried."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.errors import ServiceUnavailableError
from chalicelib.models.users import UserItem
from chalicelib.retry import Retry
from chalicelib.store.cursor import CursorCodec
from chalicelib.store.table import Table
from chalicelib.store.users import UserStore

NOW = datetime(2026, 11, 22, tzinfo=UTC)
USER = UserItem(
    id="01ARZ3NDEKTSV4RRFFQ69G5FAV",
    email="ada@example.com",
    name="Ada",
    role="user",
    password_hash="$argon2id$x",
    created_at=NOW,
    updated_at=NOW,
)


SLEPT: list[float] = []


def stubbed_table() -> tuple[Table, Stubber]:
    SLEPT.clear()
    client = boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    retry = Retry(attempts=4, sleep=SLEPT.append)  # backs off without waiting
    return Table(client, "t", CursorCodec(lambda: [b"k" * 32]), retry), Stubber(client)


def cancel(stubber: Stubber, *reasons: str) -> None:
    stubber.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        response_meta={},
        modeled_fields={"CancellationReasons": [{"Code": r} for r in reasons]},
    )


def test_a_transaction_conflict_is_retried_until_it_succeeds() -> None:
    table, stubber = stubbed_table()
    cancel(stubber, "None", "TransactionConflict")
    stubber.add_response("transact_write_items", {})
    with stubber:
        assert UserStore(table).put_new(USER)
    stubber.assert_no_pending_responses()
    assert SLEPT == [0.02]


def test_a_conflict_then_a_failed_condition_means_the_email_is_taken() -> None:
    table, stubber = stubbed_table()
    cancel(stubber, "None", "TransactionConflict")
    cancel(stubber, "None", "ConditionalCheckFailed")
    with stubber:
        assert not UserStore(table).put_new(USER)  # the service says EmailTakenError


def test_conflicts_that_do_not_clear_become_service_unavailable() -> None:
    table, stubber = stubbed_table()
    for _ in range(4):
        cancel(stubber, "TransactionConflict", "None")
    with stubber, pytest.raises(ServiceUnavailableError):
        UserStore(table).put_new(USER)
    assert SLEPT == [0.02, 0.04, 0.08]  # three pauses between four attempts, none after the last
