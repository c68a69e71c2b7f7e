"""Account recovery use cases: password reset (request, confirm) and e-mail verification
(send at registration, resend, verify), and the verified-address rule for orders.

A reset request answers the same whatever the address: it makes the same DynamoDB calls
for a registered and an unregistered address (the two GetItems of a login, then the
conditional UpdateItem of the address's token item, whose key is a hash of the address
either way), and only a registered one gets a mail. The mail budget is the address's, not
the user's: deleting an account and registering the address again does not renew it. A
token names its user (a stand-in for an unregistered address) and is redeemed only for that
user. Tokens are single use: the transaction that applies one (a new password, a verified
address) spends it under a condition (docs/accounts.md).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from chalicelib.clock import isoformat, utc_now
from chalicelib.config import Settings
from chalicelib.errors import (
    EmailUnverifiedError,
    InvalidAccountTokenError,
    MailUnavailableError,
    SessionEndedError,
)
from chalicelib.mail import Mailer, MailError, render
from chalicelib.models.accounts import PasswordResetConfirm, PasswordResetRequest, VerifyEmailRequest
from chalicelib.models.users import UserBase, UserCreate, UserItem, UserPublic, normalize_email
from chalicelib.observability import business_event
from chalicelib.security.account_tokens import RESET, VERIFY, Purpose, new_account_token, parse_account_token
from chalicelib.security.passwords import PasswordHasher
from chalicelib.services import sessions
from chalicelib.services import users as user_service
from chalicelib.services.caller import Caller
from chalicelib.services.idempotent import Created
from chalicelib.store import keys
from chalicelib.store.account_tokens import AccountTokenStore, MailBudget
from chalicelib.store.repository import ANY
from chalicelib.store.sessions import MAX_ENDED_IN_ONE_WRITE, SessionStore
from chalicelib.store.table import Action, Table
from chalicelib.store.users import UserStore

logger = logging.getLogger("storefront")
DEFAULT_BUDGET = MailBudget()

_SUBJECTS = {RESET: "Reset your Storefront password", VERIFY: "Confirm your e-mail address"}
_TEMPLATES = {RESET: "password_reset", VERIFY: "verify_email"}
_PAGES = {RESET: "reset-password", VERIFY: "verify-email"}
# The transaction that applies a token: the user, the token, the login counter, sessions.
_SESSIONS_IN_ONE_WRITE = MAX_ENDED_IN_ONE_WRITE - 1


@dataclass(frozen=True)
class Pace:
    """Makes a use case last at least `floor_seconds` (its clock and sleep passed in)."""

    floor_seconds: float = 0.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    def start(self) -> float:
        """The moment the paced work begins."""
        return self.clock()

    def finish(self, started: float) -> None:
        """Wait out what is left of the floor (nothing if the work took longer)."""
        left = self.floor_seconds - (self.clock() - started)
        if left > 0:
            self.sleep(left)


@dataclass(frozen=True)
class MailContext:
    """What sending an account mail needs: the mailer, the stage's settings, the budget,
    and the pace of a reset request (the same duration, mail or no mail)."""

    mailer: Mailer
    settings: Settings
    budget: MailBudget = DEFAULT_BUDGET
    pace: Pace = field(default_factory=Pace)


def _now(now: int | None) -> int:
    return int(time.time()) if now is None else now


def absent_subject(email: str) -> str:
    """The stand-in user id that the token of an unregistered address names (no user id has
    a `-`, so no user can ever be it, and nobody can redeem such a token)."""
    return "absent-" + keys.address_digest(email)


def address_subject(email: str) -> str:
    """What names the token items (and so the mail budget) of an address, registered or not."""
    return keys.account_address_subject(normalize_email(email))


def _mail(ctx: MailContext, purpose: Purpose, user: UserBase, token: str) -> None:
    link = f"{ctx.settings.mail.link_base}/{_PAGES[purpose]}?token={token}"
    values = {"name": user.name, "email": user.email, "link": link, "token": token}
    ctx.mailer.send(render(_TEMPLATES[purpose], user.email, _SUBJECTS[purpose], values))
    business_event(f"{purpose}_mail_sent")


def _mail_failed(purpose: Purpose, exc: MailError) -> None:
    # Logged without the message's content (it holds the token) and counted as a metric.
    logger.warning("account mail not sent", extra={"purpose": purpose, "cause": str(exc)})
    business_event("mail_failed")


def _issue(
    table: Table, purpose: Purpose, email: str, user_id: str, budget: MailBudget, now: int
) -> str | None:
    """A new token for `user_id`, in the item of its address `email` (replacing the previous
    token), or None: the address's budget is spent."""
    token, digest = new_account_token(purpose, user_id)
    if not AccountTokenStore(table, purpose).issue(address_subject(email), digest, now, budget):
        business_event(f"{purpose}_mail_limited")
        return None
    return token


def request_password_reset(
    table: Table, body: PasswordResetRequest, ctx: MailContext, now: int | None = None
) -> None:
    """Mail a reset token if the address is registered (and its budget allows); the same
    calls and the same outcome for the caller either way. A mail failure is logged, not raised."""
    started = ctx.pace.start()
    moment = _now(now)
    user = UserStore(table).get_by_email(body.email)  # two GetItems either way
    named = user.id if user else absent_subject(body.email)  # the user the token names
    token = _issue(table, RESET, body.email, named, ctx.budget, moment)  # the address's item either way
    if user is not None and token is not None:
        try:
            _mail(ctx, RESET, user, token)
        except MailError as exc:
            _mail_failed(RESET, exc)
    ctx.pace.finish(started)


@dataclass(frozen=True)
class _Redeemable:
    """A current token: the user it names, its address's item (subject), its digest."""

    user: UserItem
    subject: str
    digest: str


def _redeemable(table: Table, purpose: Purpose, raw: str, now: int) -> _Redeemable:
    """The user a token names, if it exists and the token is the current one of that user's
    address; InvalidAccountTokenError if not. The user is read first: the item is found by
    its address, and a token of a deleted account names a user that is gone, even when the
    address has been registered again."""
    presented = parse_account_token(purpose, raw)
    if presented is None:
        raise InvalidAccountTokenError()
    user = UserStore(table).get(presented.user_id)
    if user is None:
        raise InvalidAccountTokenError()
    subject = address_subject(user.email)
    held = AccountTokenStore(table, purpose).get(subject)
    # The digest covers the user id: another user's token of the same address never matches.
    if held is None or not held.accepts(presented.digest, now):
        raise InvalidAccountTokenError()
    return _Redeemable(user, subject, presented.digest)


def confirm_password_reset(
    table: Table, body: PasswordResetConfirm, hasher: PasswordHasher, now: int | None = None
) -> None:
    """Set the new password, spend the token, end every session and clear the failed-login
    lockout, in ONE transaction; InvalidAccountTokenError for a token that is not current."""
    moment = _now(now)
    held = _redeemable(table, RESET, body.token, moment)
    user = held.user
    new_hash = hasher.hash(body.new_password)  # only for a token that was current a moment ago
    ending = [
        *SessionStore(table).keys_of(user.id)[:_SESSIONS_IN_ONE_WRITE],
        keys.login_attempts_key(user.email),
    ]
    spend = AccountTokenStore(table, RESET).redeem_action(held.subject, held.digest, moment)
    changes = {"password_hash": new_hash}
    if not UserStore(table).update_and_delete(user.id, changes, ANY, isoformat(utc_now()), ending, [spend]):
        raise InvalidAccountTokenError()  # spent by a concurrent confirmation, or the user is gone
    # The sweep, as after any password change: a session a racing login wrote after the listing.
    sessions.end_all_sessions(table, user.id)
    business_event("password_reset")


def register(
    table: Table,
    body: UserCreate,
    hasher: PasswordHasher,
    ctx: MailContext,
    now: int | None = None,
    key: str | None = None,
) -> Created[UserPublic]:
    """Register a user (at most once per Idempotency-Key) with a first verification token in
    the user's own transaction, then mail it; a failed mail is logged, not raised (the user can
    ask again: resend). A replayed registration sends no second mail. The mail counts in the
    address's budget; over it, the user is registered without a token or mail (resend later)."""
    moment = _now(now)
    token: list[str] = []

    def first_token(user: UserItem) -> list[Action]:
        raw, digest = new_account_token(VERIFY, user.id)
        store = AccountTokenStore(table, VERIFY)
        action = store.first_action(address_subject(user.email), digest, moment, ctx.budget)
        if action is None:
            business_event(f"{VERIFY}_mail_limited")
            return []
        token.append(raw)
        return [action]

    made = user_service.register_user_once(table, body, hasher, key, also=first_token)
    if not made.replayed and token:
        try:
            _mail(ctx, VERIFY, made.value, token[-1])
        except MailError as exc:
            _mail_failed(VERIFY, exc)
    return made


def resend_verification(table: Table, caller: Caller, ctx: MailContext, now: int | None = None) -> None:
    """Mail the caller a new verification token (nothing if already verified, or the budget
    is spent); MailUnavailableError when the mail fails, so that the client retries."""
    user = UserStore(table).get(caller.user_id)
    if user is None:
        raise SessionEndedError()
    if user.email_verified:
        return
    token = _issue(table, VERIFY, user.email, user.id, ctx.budget, _now(now))
    if token is None:
        return
    try:
        _mail(ctx, VERIFY, user, token)
    except MailError as exc:
        _mail_failed(VERIFY, exc)
        raise MailUnavailableError(retry_after=30) from exc


def verify_email(table: Table, body: VerifyEmailRequest, now: int | None = None) -> None:
    """Mark the token's user verified and spend the token, in one transaction."""
    moment = _now(now)
    held = _redeemable(table, VERIFY, body.token, moment)
    spend = AccountTokenStore(table, VERIFY).redeem_action(held.subject, held.digest, moment)
    changes = {"email_verified": True}
    if not UserStore(table).update_and_delete(held.user.id, changes, ANY, isoformat(utc_now()), (), [spend]):
        raise InvalidAccountTokenError()
    business_event("email_verified")


def require_verified_email(table: Table, caller: Caller, required: bool) -> None:
    """EmailUnverifiedError when the stage requires a verified address and the caller's is not."""
    if not required:
        return
    user = UserStore(table).get(caller.user_id)
    if user is not None and not user.email_verified:
        raise EmailUnverifiedError()
