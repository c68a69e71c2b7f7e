"""Account tokens: one item per ADDRESS and purpose (reset, verify) holding the digest of
the current token and the purpose's mail budget, so the budget is the address's: deleting an
account and registering the address again finds the same item, and an unregistered address
has its item under the same key scheme (docs/accounts.md). The token itself names its user
and the digest binds it to that user: redeeming reads the user first, then the item under
that user's address.

Issuing a token and counting its mail is ONE conditional UpdateItem (a second one when the
budget's window has expired and a new one opens): the new digest replaces the previous
one, so only the latest mailed token works, and a full budget refuses the write, so no
token is made that would not be mailed. A user's first token is a transaction action of
the registration, decided from a read of the item (`first_action`). Redeeming is a
transaction action that holds only while the presented digest is current and unexpired, and
spends it; it is handed to the transaction that applies the token's effect (a new password,
a verified address).
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.errors import ServiceUnavailableError
from chalicelib.models.accounts import AccountTokenItem
from chalicelib.retry import TryAgain
from chalicelib.security.account_tokens import Purpose
from chalicelib.store import keys
from chalicelib.store.expr import Condition, Update, eq, gt, le, lt, not_exists
from chalicelib.store.repository import Repository
from chalicelib.store.schema import TTL_ATTRIBUTE
from chalicelib.store.table import Action, ConditionFailedError, Key, Table, update_action


@dataclass(frozen=True)
class MailBudget:
    """At most `mails` tokens (so mails) per address and purpose within `window_seconds`;
    each token is valid for `valid_seconds`."""

    mails: int = 3
    window_seconds: int = 3600
    valid_seconds: int = 30 * 60

    def item_expiry(self, now: int) -> int:
        """When the table may delete the item: after both the token and the budget's window
        (TTL deletes eventually, so both are checked on read anyway)."""
        return now + max(self.window_seconds, self.valid_seconds)

    def cutoff(self, now: int) -> int:
        """A window opened at or before this moment has expired."""
        return now - self.window_seconds


class AccountTokenStore(Repository[AccountTokenItem]):
    """`ACCOUNT#<subject>` / `TOKEN#<PURPOSE>` items of one purpose; a subject is
    `keys.account_address_subject(address)`."""

    item_type = "account_token"
    model = AccountTokenItem

    def __init__(self, table: Table, purpose: Purpose) -> None:
        super().__init__(table)
        self.purpose = purpose

    def key(self, item_id: str) -> Key:
        """ACCOUNT#<subject> / TOKEN#<PURPOSE>."""
        return keys.account_token_key(self.purpose, item_id)

    def _fields(self, subject: str, digest: str, now: int, budget: MailBudget) -> Update:
        return (
            Update()
            .set("type", self.item_type)
            .set("id", subject)
            .set("purpose", self.purpose)
            .set("digest", digest)
            .set("token_expires_at", now + budget.valid_seconds)
            .set(TTL_ATTRIBUTE, budget.item_expiry(now))
        )

    def _counted(self, subject: str, digest: str, now: int, budget: MailBudget) -> tuple[Update, Condition]:
        """The write that counts one more mail in an open window (or opens the first one)."""
        update = self._fields(subject, digest, now, budget).add("sent", 1).set_if_absent("window_start", now)
        room = not_exists() | (gt("window_start", budget.cutoff(now)) & lt("sent", budget.mails))
        return update, room

    def _reopened(self, subject: str, digest: str, now: int, budget: MailBudget) -> tuple[Update, Condition]:
        """The write that opens a new window over an expired one, with this token its first mail."""
        update = self._fields(subject, digest, now, budget).set("sent", 1).set("window_start", now)
        return update, le("window_start", budget.cutoff(now))

    def _issue_once(self, subject: str, digest: str, now: int, budget: MailBudget) -> bool:
        try:
            self.table.update(self.key(subject), *self._counted(subject, digest, now, budget))
        except ConditionFailedError as failure:
            old = failure.item or {}
            if old and int(old["window_start"]) > budget.cutoff(now):  # the window is open and full
                return False
            return self._open_window(subject, digest, now, budget)
        return True

    def _open_window(self, subject: str, digest: str, now: int, budget: MailBudget) -> bool:
        try:
            self.table.update(self.key(subject), *self._reopened(subject, digest, now, budget))
        except ConditionFailedError as exc:  # another request opened it a moment ago
            raise TryAgain() from exc
        return True

    def issue(self, subject: str, digest: str, now: int, budget: MailBudget) -> bool:
        """Make `digest` the current token (replacing any previous one) and count its mail;
        False, writing nothing, when the budget is spent."""
        return self.table.retry.run(lambda _: self._issue_once(subject, digest, now, budget), _contention)

    def first_action(self, subject: str, digest: str, now: int, budget: MailBudget) -> Action | None:
        """The first token of a user that is being created, counted in its address's budget:
        a transaction action of the registration, or None (nothing to write, no mail) when the
        budget is spent. One GetItem first: a refused action would cancel the registration
        (a transaction cannot tell why), so the action is the write that holds for what was
        read — a window with room, or none (count), or an expired one (reopen); its condition
        is that same state, so a concurrent change refuses the registration rather than
        overrun the budget (in practice only another registration of the address writes its
        verification item meanwhile, and the address's claim refuses that one anyway)."""
        held = self.get(subject)
        if held is not None and held.window_start > budget.cutoff(now) and held.sent >= budget.mails:
            return None
        expired = held is not None and held.window_start <= budget.cutoff(now)
        write = self._reopened if expired else self._counted
        return update_action(self.key(subject), *write(subject, digest, now, budget))

    def redeem_action(self, subject: str, digest: str, now: int) -> Action:
        """The transaction action that spends the token: it holds only while `digest` is the
        current, unexpired token, and leaves it expired (the mail budget stays)."""
        current = eq("digest", digest) & gt("token_expires_at", now)
        return update_action(self.key(subject), Update().set("token_expires_at", 0), current)


def _contention() -> Exception:
    return ServiceUnavailableError(retry_after=1, message="Too much contention on this account, retry")
