"""Account recovery models: the bodies of the password-reset and verification routes, their
202 answer, and AccountTokenItem (a token's stored digest and its mail budget)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from chalicelib.models.common import InputModel, OutputModel, StoredModel
from chalicelib.models.users import Password, normalize_email

# Any string up to this long is taken (and answered 401 if it is not one of ours, never 400).
AnyToken = Annotated[str, Field(min_length=1, max_length=512)]


class PasswordResetRequest(InputModel):
    """Body of POST /auth/password-reset. The address is not syntax-checked: any address,
    well-formed or not, registered or not, gets the same 202."""

    email: Annotated[str, Field(min_length=1, max_length=320), AfterValidator(normalize_email)]


class PasswordResetConfirm(InputModel):
    """Body of POST /auth/password-reset/confirm: the mailed token and a new password
    (registration's rules)."""

    token: AnyToken
    new_password: Password


class VerifyEmailRequest(InputModel):
    """Body of POST /auth/verify-email: the mailed token."""

    token: AnyToken


class AcceptedPublic(OutputModel):
    """The 202 of the mail-sending routes: the same whatever happened to the mail."""

    status: Literal["accepted"] = "accepted"
    message: str


class AccountTokenItem(StoredModel):
    """One address's current token of one purpose (only its digest, which binds it to the
    user the token names) and the address's mail budget for that purpose: `sent` mails since
    `window_start` (epoch seconds)."""

    id: str  # the address's subject (store/keys.account_address_subject), registered or not
    purpose: Literal["reset", "verify"]
    digest: str = Field(repr=False)
    token_expires_at: int
    window_start: int
    sent: int
    expires_at: int  # the table's TTL: after both the token and the budget's window

    def accepts(self, digest: str, now: int) -> bool:
        """True while this token is current, unused and unexpired (checked on read: the
        table's TTL deletes an item only eventually)."""
        return self.digest == digest and self.token_expires_at > now
