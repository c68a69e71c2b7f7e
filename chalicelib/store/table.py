"""The DynamoDB client, the item (de)serialiser and the error boundary of the store."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chalicelib.config import Settings
from chalicelib.errors import ServiceUnavailableError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from chalicelib.store.cursor import CursorCodec

Item = dict[str, Any]
TRANSACTION_ATTEMPTS = 4

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
    import boto3  # deferred: /health and the authorizer never pay for it
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": attempts},
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
    client: DynamoDBClient = boto3.session.Session().client("dynamodb", **kwargs)
    return client


@functools.cache
def _serializers() -> tuple[Any, Any, Callable[[Any], Any]]:
    from boto3.dynamodb.types import DYNAMODB_CONTEXT, TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer(), DYNAMODB_CONTEXT.create_decimal


# Strings and numbers are nearly every attribute of every item: they take a direct path
# that gives exactly what boto3's TypeSerializer / TypeDeserializer give (which handle the
# rest, and every error). A page of 20 products is ~350 attributes.
def to_attributes(values: Mapping[str, Any]) -> dict[str, Any]:
    """Python values (Decimal, never float) → DynamoDB attribute values."""
    serializer, _, number = _serializers()
    wire: dict[str, Any] = {}
    for key, value in values.items():
        kind = type(value)
        if kind is str:
            wire[key] = {"S": value}
        elif kind is int or kind is Decimal:
            text = str(number(value))
            wire[key] = {"N": text} if text[-1].isdigit() else serializer.serialize(value)
        elif value is not None:
            wire[key] = serializer.serialize(value)
    return wire


def from_attributes(item: Mapping[str, Any]) -> Item:
    """DynamoDB attribute values → Python values (numbers come back as Decimal)."""
    _, deserializer, number = _serializers()
    values: Item = {}
    for key, wire in item.items():
        kind = next(iter(wire), None)
        if kind == "S":
            values[key] = wire["S"]
        elif kind == "N":
            values[key] = number(wire["N"])
        else:
            values[key] = deserializer.deserialize(wire)
    return values


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn infrastructure failures into domain errors; conditions into ConditionFailedError."""
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
            if any(r in {"ThrottlingError", "ProvisionedThroughputExceeded"} for r in reasons):
                raise ServiceUnavailableError(retry_after=1) from exc
            raise ConditionFailedError(reasons) from exc
        if code in _UNAVAILABLE_CODES:
            raise ServiceUnavailableError(retry_after=1) from exc
        raise
    except BotoCoreError as exc:  # connection refused, timeouts, DNS
        raise ServiceUnavailableError(retry_after=2) from exc


@dataclass
class Table:
    """One DynamoDB table and the collaborators every repository needs."""

    client: DynamoDBClient
    name: str
    cursors: CursorCodec

    def get(self, key: Mapping[str, str], consistent: bool = True) -> Item | None:
        """GetItem; None when absent. Strongly consistent by default."""
        with translate_errors():
            response = self.client.get_item(
                TableName=self.name, Key=to_attributes(key), ConsistentRead=consistent
            )
        raw = response.get("Item")
        return from_attributes(raw) if raw else None

    def put(self, item: Mapping[str, Any], **params: Any) -> None:
        """PutItem with optional ConditionExpression and friends."""
        with translate_errors():
            self.client.put_item(TableName=self.name, Item=to_attributes(item), **params)

    def update(self, key: Mapping[str, str], **params: Any) -> Item:
        """UpdateItem; returns ALL_NEW attributes."""
        with translate_errors():
            response = self.client.update_item(
                TableName=self.name, Key=to_attributes(key), ReturnValues="ALL_NEW", **params
            )
        return from_attributes(response.get("Attributes", {}))

    def delete(self, key: Mapping[str, str], **params: Any) -> Item | None:
        """DeleteItem; returns the old item when it existed."""
        with translate_errors():
            response = self.client.delete_item(
                TableName=self.name, Key=to_attributes(key), ReturnValues="ALL_OLD", **params
            )
        raw = response.get("Attributes")
        return from_attributes(raw) if raw else None

    def query(self, **params: Any) -> dict[str, Any]:
        """Query, raw response (Items still in wire format)."""
        with translate_errors():
            return dict(self.client.query(TableName=self.name, **params))

    def transact_write(self, actions: list[dict[str, Any]]) -> None:
        """TransactWriteItems; every action gets this table's name filled in.

        DynamoDB cancels a transaction that touches an item another one is writing
        (TransactionConflict) and botocore does not retry that: it is retried here, a few
        times with backoff, then a 503. A failed condition is raised at once.
        """
        for action in actions:
            for body in action.values():
                body.setdefault("TableName", self.name)
        for attempt in range(TRANSACTION_ATTEMPTS):
            try:
                with translate_errors():
                    self.client.transact_write_items(TransactItems=actions)  # type: ignore[arg-type]
                return
            except ConditionFailedError as failure:
                if (
                    "TransactionConflict" not in failure.reasons
                    or "ConditionalCheckFailed" in failure.reasons
                ):
                    raise
                time.sleep(0.02 * (attempt + 1))
        raise ServiceUnavailableError(retry_after=1)

    def ping(self) -> None:
        """One cheap call that proves the table is reachable (DescribeTable)."""
        with translate_errors():
            self.client.describe_table(TableName=self.name)
