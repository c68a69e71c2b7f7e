"""The DynamoDB client, the item (de)serialiser and the error boundary of the store."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from chalicelib import deadline
from chalicelib.config import Settings
from chalicelib.errors import ServiceUnavailableError
from chalicelib.retry import DEFAULT_RETRY, Retry, TryAgain
from chalicelib.store import changes
from chalicelib.store.codec import Item, from_attributes, to_attributes
from chalicelib.store.expr import Condition, Placeholders, Update, eq, key_prefix, ne, not_exists, render

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from chalicelib.store.cursor import CursorCodec


# Codes that mean "the database is overloaded or briefly unwell": the client already
# retried them (standard mode), so the caller gets a 503 with Retry-After.
_UNAVAILABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "ResourceNotFoundException",
        "TransactionInProgressException",
    }
)


# A cancelled transaction's reasons, one per action (DynamoDB's CancellationReasons):
# capacity problems are an outage (503); conditions and conflicts are the callers' to
# explain or retry; anything else (ValidationError) is a bug in the request we built.
_CAPACITY_REASONS = frozenset(
    {"ThrottlingError", "ProvisionedThroughputExceeded", "ItemCollectionSizeLimitExceeded"}
)
# The reason of the transaction action whose own condition was false.
CONDITION_FAILED = "ConditionalCheckFailed"
_CONDITION_REASONS = frozenset({"None", CONDITION_FAILED, "TransactionConflict"})


class ConditionFailedError(Exception):
    """A condition expression (or a transaction's) did not hold. Store-internal:
    the repositories turn it into a domain error that says what it means."""

    def __init__(self, reasons: list[str], item: Item | None = None) -> None:
        super().__init__(", ".join(reasons) or "ConditionalCheckFailed")
        self.reasons = reasons
        self.item = item


def create_client(
    settings: Settings, *, attempts: int = 3, connect_timeout: float = 1, read_timeout: float = 3
) -> DynamoDBClient:
    """A DynamoDB client tuned for Lambda behind API Gateway's 29 s limit: a few fast
    retries (standard mode, jittered backoff) rather than one long wait."""
    # botocore's own session, not boto3's: the same client, without boto3's ~15-20 ms of
    # imports on a cold start (deferred too: /health never pays for either).
    from botocore.config import Config
    from botocore.session import Session

    config = Config(
        # total_max_attempts counts the first try; botocore's "max_attempts" would not
        # (attempts=3 there meant four requests, and the probe's attempts=1 meant two).
        retries={"mode": "standard", "total_max_attempts": attempts},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        tcp_keepalive=True,
    )
    kwargs: dict[str, Any] = {"region_name": settings.region, "config": config}
    if settings.dynamodb_endpoint:
        # Local engines accept any credentials; don't require the developer to have some.
        kwargs.update(
            endpoint_url=settings.dynamodb_endpoint,
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - local engines only
        )
    client = cast("DynamoDBClient", Session().create_client("dynamodb", **kwargs))
    # The worst case of one attempt, which the request's deadline must still have room for.
    client.meta.events.register("before-send.dynamodb", deadline.guard(connect_timeout + read_timeout))
    return client


class _TranslateErrors:
    """What `translate_errors()` returns: a stateless context manager, one for the process.

    A class rather than a generator under @contextmanager: its exit is the first code to
    run after DynamoDB answers, and on success it only returns (~15 µs less a call after
    the wait, bench/ab.py); a generator is resumed and finished on every call."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: Any) -> None:
        if error is not None:
            _translate(error)  # raises the domain error, or returns: the error goes on as it is


_TRANSLATE_ERRORS = _TranslateErrors()


def translate_errors() -> AbstractContextManager[None]:
    """Turn infrastructure failures into domain errors; conditions into ConditionFailedError."""
    return _TRANSLATE_ERRORS


def _translate(error: BaseException) -> None:
    """Raise the domain error for a failed DynamoDB call, or return (the error goes on as it
    is: a malformed request is a bug, a 500)."""
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        if code == "ConditionalCheckFailedException":
            raw: Any = error.response.get("Item")
            raise ConditionFailedError([code], from_attributes(raw) if raw else None) from error
        if code == "TransactionCanceledException":
            reasons = [r.get("Code", "None") for r in error.response.get("CancellationReasons", [])]
            if _CAPACITY_REASONS.intersection(reasons):
                raise ServiceUnavailableError(retry_after=1) from error
            if _CONDITION_REASONS.issuperset(reasons):
                raise ConditionFailedError(reasons) from error
            return  # ValidationError: our request is malformed, a bug (500), not a conflict
        if code in _UNAVAILABLE_CODES:
            raise ServiceUnavailableError(retry_after=1) from error
    elif isinstance(error, BotoCoreError):  # connection refused, timeouts, DNS
        raise ServiceUnavailableError(retry_after=2) from error
    elif isinstance(error, deadline.DeadlineExceededError):
        raise ServiceUnavailableError(retry_after=1) from error


Key = Mapping[str, str]
Action = dict[str, Any]  # one TransactWriteItems action, built by the *_action helpers below


def put_action(item: Mapping[str, Any], condition: Condition | None = None) -> Action:
    """A transaction Put (the table's name is filled in by Table.transact_write)."""
    return {"Put": {"Item": to_attributes(item), **render(condition=condition)}}


def update_action(key: Key, update: Update, condition: Condition | None = None) -> Action:
    """A transaction Update."""
    return {"Update": {"Key": to_attributes(key), **render(update=update, condition=condition)}}


def delete_action(key: Key, condition: Condition | None = None) -> Action:
    """A transaction Delete."""
    return {"Delete": {"Key": to_attributes(key), **render(condition=condition)}}


# Single-item writes stamp the item with a fresh token per call, so that a retry of a
# write that was applied but whose answer was lost is recognised (Table.put/update).
# Transactions need none: DynamoDB dedupes them by ClientRequestToken, which botocore
# sets once per call and keeps across its retries.
WRITE_ID = "write_id"


def new_write_id() -> str:
    """A token naming one logical write (all of its attempts)."""
    return uuid.uuid4().hex


def _once(condition: Condition | None, token: str) -> Condition:
    """The caller's condition, and: this very write has not been applied already."""
    fresh = not_exists(WRITE_ID) | ne(WRITE_ID, token)
    return fresh if condition is None else condition & fresh


def _written_by(failure: ConditionFailedError, token: str) -> bool:
    """True when the refusing item is the one this write (an earlier attempt of it) left."""
    return failure.item is not None and failure.item.get(WRITE_ID) == token


def condition_check_action(key: Key, condition: Condition) -> Action:
    """A transaction ConditionCheck: the transaction commits only while `condition` holds."""
    return {"ConditionCheck": {"Key": to_attributes(key), **render(condition=condition)}}


def _is_conflict(exc: Exception) -> bool:
    """A transaction cancelled only by another transaction's conflict (worth retrying)."""
    return (
        isinstance(exc, ConditionFailedError)
        and "TransactionConflict" in exc.reasons
        and "ConditionalCheckFailed" not in exc.reasons
    )


def _unavailable() -> Exception:
    return ServiceUnavailableError(retry_after=1)


@dataclass
class Table:
    """One DynamoDB table: the only holder of the client, with one typed method per call."""

    client: DynamoDBClient
    name: str
    cursors: CursorCodec
    retry: Retry = DEFAULT_RETRY

    def get(self, key: Key, consistent: bool = True, *, wire: bool = False) -> Item | None:
        """GetItem; None when absent. Strongly consistent by default. `wire`: the item as
        DynamoDB sends it ({"S": ...} per attribute), for a View (store/views.py)."""
        with translate_errors():
            response = self.client.get_item(
                TableName=self.name, Key=to_attributes(key), ConsistentRead=consistent
            )
        raw = response.get("Item")
        if not raw:
            return None
        return dict(raw) if wire else from_attributes(raw)

    def get_attributes(self, key: Key, attributes: Sequence[str]) -> Item | None:
        """GetItem of these attributes only (strongly consistent), for a reader whose policy
        grants no more (the webhook worker and a user's role); None when absent."""
        names = {f"#a{i}": name for i, name in enumerate(attributes)}
        with translate_errors():
            response = self.client.get_item(
                TableName=self.name,
                Key=to_attributes(key),
                ConsistentRead=True,
                ProjectionExpression=", ".join(names),
                ExpressionAttributeNames=names,
            )
        raw = response.get("Item")
        return from_attributes(raw) if raw else None

    def put(self, item: Mapping[str, Any], condition: Condition | None = None) -> None:
        """PutItem, optionally conditional, applied once however often botocore resends it.

        The item carries this call's write id: when a retry finds its condition false
        on an item holding our own token, an earlier attempt of this very call was applied
        and only its answer was lost — that is success, not a conflict.
        """
        token = new_write_id()
        with changes.writing([item.get("pk")]):
            try:
                with translate_errors():
                    self.client.put_item(
                        TableName=self.name,
                        Item=to_attributes({**item, WRITE_ID: token}),
                        ReturnValuesOnConditionCheckFailure="ALL_OLD",
                        **render(condition=_once(condition, token)),
                    )
            except ConditionFailedError as failure:
                if not _written_by(failure, token):
                    raise

    def update(self, key: Key, update: Update, condition: Condition | None = None) -> Item:
        """UpdateItem, applied once (see put()); returns ALL_NEW attributes.

        Without the write id a retried `version + 1` or `ADD attempts 1` whose first
        answer was lost would apply twice. A failed condition carries the old item.
        """
        token = new_write_id()
        with changes.writing([key.get("pk")]):
            try:
                with translate_errors():
                    response = self.client.update_item(
                        TableName=self.name,
                        Key=to_attributes(key),
                        ReturnValues="ALL_NEW",
                        ReturnValuesOnConditionCheckFailure="ALL_OLD",
                        **render(update=update.set(WRITE_ID, token), condition=_once(condition, token)),
                    )
            except ConditionFailedError as failure:
                if _written_by(failure, token) and failure.item is not None:
                    return failure.item  # our own earlier attempt: the item as it left it
                raise
            return from_attributes(response.get("Attributes", {}))

    def delete(self, key: Key, condition: Condition | None = None) -> Item | None:
        """DeleteItem; returns the old item when it existed. A failed condition carries it too."""
        with changes.writing([key.get("pk")]):
            with translate_errors():
                response = self.client.delete_item(
                    TableName=self.name,
                    Key=to_attributes(key),
                    ReturnValues="ALL_OLD",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                    **render(condition=condition),
                )
            raw = response.get("Attributes")
            return from_attributes(raw) if raw else None

    def query_newest_first(
        self, index: str, partition: str, limit: int, start: Key | None = None, *, wire: bool = False
    ) -> tuple[list[Item], bool]:
        """Up to `limit` items of one index partition, sort key descending; True if more may
        follow. `wire`: the items as DynamoDB sends them, for a View."""
        params: dict[str, Any] = {
            "IndexName": index,
            "ScanIndexForward": False,
            "Limit": limit,
            **render(key_condition=eq(f"{index}pk", partition)),
        }
        if start is not None:
            params["ExclusiveStartKey"] = to_attributes(start)
        with translate_errors():
            response = self.client.query(TableName=self.name, **params)
        found = response.get("Items", [])
        items = list(found) if wire else [from_attributes(raw) for raw in found]
        return items, "LastEvaluatedKey" in response

    def query_index(
        self,
        index: str | None,
        key_condition: Condition,
        limit: int,
        *,
        forward: bool,
        start: Key | None = None,
        filter_: Condition | None = None,
    ) -> tuple[list[Item], Key | None]:
        """One Query page of an index — or, with `index` None, of the table itself, strongly
        consistent — (a key range, optionally filtered); the items and the key to continue
        from (None when the range is exhausted)."""
        p = Placeholders()
        params: dict[str, Any] = {
            "ScanIndexForward": forward,
            "Limit": limit,
            "KeyConditionExpression": key_condition.render(p),
            **({"IndexName": index} if index is not None else {"ConsistentRead": True}),
        }
        if filter_ is not None:
            params["FilterExpression"] = filter_.render(p)
        params["ExpressionAttributeNames"] = p.names
        params["ExpressionAttributeValues"] = to_attributes(p.values)
        if start is not None:
            params["ExclusiveStartKey"] = to_attributes(start)
        with translate_errors():
            response = self.client.query(TableName=self.name, **params)
        items = [from_attributes(raw) for raw in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return items, ({k: str(v) for k, v in from_attributes(last).items()} if last else None)

    def query_prefix(
        self, partition: str, prefix: str, limit: int, start: Key | None = None
    ) -> tuple[list[Item], Key | None]:
        """One strongly consistent Query page of a base-table partition: the items whose sort
        key starts with `prefix`, ascending; the key to continue from (None at the end)."""
        condition = key_prefix("pk", partition, "sk", prefix)
        return self.query_index(None, condition, limit, forward=True, start=start)

    def partition_keys(self, partition: str) -> list[Key]:
        """The primary keys of every item in one base-table partition (strongly consistent
        Query, keys only, every page)."""
        params: dict[str, Any] = {
            "ProjectionExpression": "pk, sk",
            "ConsistentRead": True,
            **render(key_condition=eq("pk", partition)),
        }
        found: list[Key] = []
        while True:
            with translate_errors():
                response = self.client.query(TableName=self.name, **params)
            for raw in response.get("Items", []):
                item = from_attributes(raw)
                found.append({"pk": str(item["pk"]), "sk": str(item["sk"])})
            if "LastEvaluatedKey" not in response:
                return found
            params["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def batch_get(self, keys: Sequence[Key], consistent: bool = True) -> list[Item]:
        """BatchGetItem of up to 100 keys; unprocessed keys are retried (Retry), then a 503."""
        pending: dict[str, Any] = {
            self.name: {"Keys": [to_attributes(k) for k in keys], "ConsistentRead": consistent}
        }
        items: list[Item] = []

        def attempt(_: int) -> list[Item]:
            nonlocal pending
            with translate_errors():
                response = self.client.batch_get_item(RequestItems=pending)
            items.extend(from_attributes(raw) for raw in response.get("Responses", {}).get(self.name, []))
            pending = dict(response.get("UnprocessedKeys") or {})
            if pending:  # unprocessed keys mean throttling: back off, ask again for those
                raise TryAgain()
            return items

        return self.retry.run(attempt, _unavailable)

    def transact_write(self, actions: Sequence[Action], retry_conflicts: bool = True) -> None:
        """TransactWriteItems; every action gets this table's name filled in.

        DynamoDB cancels a transaction that touches an item another one is writing
        (TransactionConflict) and botocore does not retry that: it is retried here (Retry),
        then a 503 — unless `retry_conflicts` is False, for a caller that decides again from
        a fresh read on any refusal (one retry tier, never two: services/orders.py). A
        failed condition is raised at once.
        """
        for action in actions:
            for body in action.values():
                body.setdefault("TableName", self.name)

        def attempt(_: int) -> None:
            with translate_errors():
                self.client.transact_write_items(TransactItems=list(actions))  # type: ignore[arg-type]

        with changes.writing(changes.action_pks(actions)):
            if retry_conflicts:
                self.retry.run(attempt, _unavailable, retry_if=_is_conflict)
            else:
                attempt(0)

    def try_write(self, write: Callable[[], object]) -> bool:
        """Run one conditional write (or transaction); False if its condition did not hold.

        The one place a refused condition becomes a plain "no": stores whose caller only
        needs to know whether the write happened use it instead of catching the error.
        """
        try:
            write()
        except ConditionFailedError:
            return False
        return True

    def ping(self) -> None:
        """One cheap call that proves the table is reachable (DescribeTable)."""
        with translate_errors():
            self.client.describe_table(TableName=self.name)
