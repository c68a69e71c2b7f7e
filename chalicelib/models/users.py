"""User and token models: UserBase → UserCreate / UserUpdate / UserPublic / UserItem;
TokenRequest, TokenPublic."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from chalicelib.models.common import InputModel, OutputModel, PartialUpdate, Role, StoredModel, Timestamp
from chalicelib.models.text import UserName

__all__ = ["Role"]

MAX_EMAIL_CHARS = 254  # RFC 5321 path limit minus the angle brackets
MAX_LOCAL_PART_CHARS = 64
# Hand-written on purpose (docs/security.md): email-validator + dnspython + idna would
# add 4.3 MB to the Lambda package and ~35 ms to cold start for a syntax check.
# ASCII dot-atom local part (RFC 5322, no quoted strings) @ LDH domain with a letter TLD.
_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_TLD = re.compile(r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})")


def normalize_email(value: str) -> str:
    """The canonical (stored) form: trimmed and lower-cased."""
    return value.strip().lower()


def check_email(value: str) -> str:
    """A syntactically valid address, normalised; ValueError (without the input) otherwise."""
    email = normalize_email(value)
    local, at, domain = email.rpartition("@")
    if not at or len(email) > MAX_EMAIL_CHARS or len(local) > MAX_LOCAL_PART_CHARS:
        raise ValueError("value is not a valid e-mail address")
    labels = domain.split(".")
    if (
        not _LOCAL_PART.fullmatch(local)
        or len(labels) < 2
        or not all(_LABEL.fullmatch(label) for label in labels)
        or not _TLD.fullmatch(labels[-1])
    ):
        raise ValueError("value is not a valid e-mail address")
    return email


Email = Annotated[
    str, Field(max_length=320, json_schema_extra={"format": "email"}), AfterValidator(check_email)
]
Password = Annotated[str, Field(min_length=8, max_length=128)]


class UserBase(OutputModel):
    """The fields a user shows: shared by the public view and the stored item."""

    id: str
    email: str
    name: str
    role: Role
    email_verified: bool = False  # a verification token came back (POST /auth/verify-email)
    created_at: Timestamp
    updated_at: Timestamp


class UserCreate(InputModel):
    """Body of POST /users."""

    email: Email
    password: Password
    name: UserName


class UserUpdate(PartialUpdate):
    """Body of PATCH /users/{id}: any of these, at least one, none null; `role` is for admins only."""

    name: UserName | None = None
    password: Password | None = None
    role: Role | None = None


class UserPublic(UserBase):
    """A user as clients see it: never a password or a hash."""


class UserItem(UserBase, StoredModel):
    """A user as stored (the only model that carries the hash; never serialised to clients)."""

    password_hash: str = Field(repr=False)

    def public(self) -> UserPublic:
        """The client-facing view."""
        return self.project(UserPublic)


class TokenRequest(InputModel):
    """Body of POST /auth/token. The e-mail is not syntax-checked: any unknown address,
    well-formed or not, gets the same 401, so the answer reveals nothing."""

    email: Annotated[str, Field(min_length=1, max_length=320), AfterValidator(normalize_email)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class TokenPublic(OutputModel):
    """Answer of POST /auth/token and POST /auth/refresh: an access token and the
    session's next refresh token."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme name, not a secret
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
