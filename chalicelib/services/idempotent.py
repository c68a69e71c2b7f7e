"""Idempotency-Key for every POST that creates something: the one helper the services share.

A write answered 503 may still have been applied (the engine committed, the answer was lost;
real DynamoDB behaves the same). A client that retries with the same Idempotency-Key gets the
first response instead of a second resource: the key's record (store/idempotency.py, kept 24 h)
is written in the SAME transaction as what it created, so it exists if and only if the
creation happened. Same key + same body → the first response (replayed); another body → 409.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel

from chalicelib.errors import ConflictError, ServiceUnavailableError, StorefrontError
from chalicelib.jsonio import dumps, loads
from chalicelib.models.idempotency import IdempotencyRecord
from chalicelib.store.idempotency import TTL_SECONDS, IdempotencyStore
from chalicelib.store.table import Action, Table

R = TypeVar("R", bound=BaseModel)
# Keys of public routes (registration) belong to no user: they share this scope. A client
# picks its keys at random (a UUID), so two clients do not meet in it by accident.
ANONYMOUS = "anonymous"
# What a creating service adds to its one transaction: the key's record, made from the response.
Seal = Callable[[BaseModel], Sequence[Action]]


@dataclass(frozen=True)
class Keyed:
    """One keyed request: whose key (scope), the key, and what identifies its body."""

    scope: str
    key: str
    fingerprint: str


@dataclass(frozen=True)
class Created(Generic[R]):
    """What a keyed creation answers, and whether it is the replay of an earlier one."""

    value: R
    replayed: bool


def fingerprint(body: BaseModel, exclude: frozenset[str] = frozenset()) -> str:
    """What "the same body" means: the same validated request, whatever its spacing.

    `exclude` leaves secrets out (a password must not be stored, not even as a fast digest).
    """
    return hashlib.sha256(body.model_dump_json(exclude=set(exclude)).encode()).hexdigest()


def keyed(
    scope: str, key: str | None, body: BaseModel, exclude: frozenset[str] = frozenset()
) -> Keyed | None:
    """The Keyed request, or None when the client sent no key."""
    return None if key is None else Keyed(scope, key, fingerprint(body, exclude))


def earlier(table: Table, request: Keyed, model: type[R], now: int) -> R | None:
    """The first response to this key, if a live record holds it; ConflictError if the
    record was made by another body."""
    record = IdempotencyStore(table).get_live(request.scope, request.key, now)
    if record is None:
        return None
    if record.fingerprint != request.fingerprint:
        raise ConflictError("Idempotency-Key was already used with a different request body")
    return model.model_validate(loads(record.response))


def record(table: Table, request: Keyed, response: BaseModel, now: int) -> Action:
    """The transaction Put of the record that makes `response` the answer to every retry
    with this key (refused while a live record holds the key)."""
    first = IdempotencyRecord(
        user_id=request.scope,
        key=request.key,
        fingerprint=request.fingerprint,
        response=dumps(response.model_dump(mode="python")),
        expires_at=now + TTL_SECONDS,
    )
    return IdempotencyStore(table).put_action(first, now)


def create_once(
    table: Table, request: Keyed | None, model: type[R], create: Callable[[Seal | None], R]
) -> Created[R]:
    """Run `create` (which adds `seal(response)` to its one transaction) at most once per key.

    A refused creation is looked at again: if the key's record now exists, a concurrent
    request with the same key won the race, and its response is replayed (or 409).
    """
    if request is None:
        return Created(create(None), replayed=False)  # no key: nothing to seal (nor to build for it)
    now = int(time.time())
    first = earlier(table, request, model, now)
    if first is not None:
        return Created(first, replayed=True)
    try:
        return Created(create(lambda response: [record(table, request, response, now)]), False)
    except ServiceUnavailableError:
        raise  # the outcome is unknown: the client retries with the same key
    except StorefrontError as refused:
        return Created(won_meanwhile(table, request, model, refused), replayed=True)


def won_meanwhile(table: Table, request: Keyed, model: type[R], refused: StorefrontError) -> R:
    """After a keyed creation was refused (409, 400, ...): the first response to the key, if a
    concurrent request with it committed since the key was looked up (it took the last stock,
    the e-mail address, ...); else the refusal itself. Not for a 503, whose outcome is unknown."""
    first = earlier(table, request, model, int(time.time()))
    if first is None:
        raise refused
    return first
