"""Table.translate_errors turns each failure of a DynamoDB call into what it was before it
became a class: the generator it replaced is kept here as the reference."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from chalicelib import deadline
from chalicelib.errors import ServiceUnavailableError
from chalicelib.store import table
from chalicelib.store.codec import from_attributes
from chalicelib.store.table import ConditionFailedError, translate_errors


@contextmanager
def reference() -> Iterator[None]:
    """The generator translate_errors was, unchanged."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ConditionalCheckFailedException":
            raw: Any = exc.response.get("Item")
            raise ConditionFailedError([code], from_attributes(raw) if raw else None) from exc
        if code == "TransactionCanceledException":
            reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
            if table._CAPACITY_REASONS.intersection(reasons):
                raise ServiceUnavailableError(retry_after=1) from exc
            if table._CONDITION_REASONS.issuperset(reasons):
                raise ConditionFailedError(reasons) from exc
            raise
        if code in table._UNAVAILABLE_CODES:
            raise ServiceUnavailableError(retry_after=1) from exc
        raise
    except BotoCoreError as exc:
        raise ServiceUnavailableError(retry_after=2) from exc
    except deadline.DeadlineExceededError as exc:
        raise ServiceUnavailableError(retry_after=1) from exc


def _client_error(code: str, **extra: Any) -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": "m"}, **extra}
    return ClientError(response, "Op")


def _cancelled(*reasons: str) -> ClientError:
    return _client_error("TransactionCanceledException", CancellationReasons=[{"Code": r} for r in reasons])


FAILURES = [
    _client_error("ConditionalCheckFailedException"),
    _client_error("ConditionalCheckFailedException", Item={"pk": {"S": "A"}, "n": {"N": "2"}}),
    _cancelled("None", "ConditionalCheckFailed"),
    _cancelled("TransactionConflict"),
    _cancelled("None", "ThrottlingError"),
    _cancelled("ValidationError"),
    _cancelled(),
    *(_client_error(code) for code in sorted(table._UNAVAILABLE_CODES)),
    _client_error("ValidationException"),
    _client_error("ResourceNotFoundException"),
    EndpointConnectionError(endpoint_url="http://x"),
    ReadTimeoutError(endpoint_url="http://x"),
    deadline.DeadlineExceededError(),
    KeyError("a bug of ours"),
]


def _outcome(manager: Any, failure: BaseException) -> tuple[Any, ...]:
    with pytest.raises(BaseException) as raised, manager():  # noqa: PT011 - every kind is compared
        raise failure
    error = raised.value
    return (
        type(error),
        str(error),
        getattr(error, "reasons", None),
        getattr(error, "item", None),
        getattr(error, "retry_after", None),
        error.__cause__ is failure,
        error is failure,
    )


@pytest.mark.parametrize("failure", FAILURES, ids=lambda f: type(f).__name__ + ":" + str(f)[:40])
def test_a_failure_becomes_what_the_generator_made_of_it(failure: BaseException) -> None:
    assert _outcome(translate_errors, failure) == _outcome(reference, failure)


def test_one_stateless_manager_serves_every_call_and_lets_success_through() -> None:
    assert translate_errors() is translate_errors()
    with translate_errors() as entered:
        assert entered is None
